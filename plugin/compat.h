/*-------------------------------------------------------------------------
 *
 * compat.h
 *		Every PG_VERSION_NUM test of the wal2avro plugin lives here.
 *
 * The plugin is built and tested on PostgreSQL 15; these shims keep 13, 14,
 * 16 and 17 within reach.  Callers use the W2A_ names and never test the
 * version themselves.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * plugin/compat.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef WAL2AVRO_COMPAT_H
#define WAL2AVRO_COMPAT_H

#if PG_VERSION_NUM < 130000
#error "wal2avro needs PostgreSQL 13 or later"
#endif

/*
 * The tuple a change carries: a ReorderBufferTupleBuf before 17, a plain
 * HeapTuple from 17 on.
 */
#if PG_VERSION_NUM >= 170000
#define W2A_CHANGE_TUPLE(t)			(t)
#else
#define W2A_CHANGE_TUPLE(t)			((t) ? &(t)->tuple : NULL)
#endif

/*
 * Reporting progress while filtering: 15 added the skipped_xact argument;
 * 16 reports progress from core, so the plugin need not.
 */
#if PG_VERSION_NUM >= 160000
#define W2A_UPDATE_PROGRESS(ctx, skipped)	((void) 0)
#elif PG_VERSION_NUM >= 150000
#define W2A_UPDATE_PROGRESS(ctx, skipped)	OutputPluginUpdateProgress((ctx), (skipped))
#else
#define W2A_UPDATE_PROGRESS(ctx, skipped)	OutputPluginUpdateProgress((ctx))
#endif

/* numeric_is_nan/numeric_is_inf are exported from 14 on. */
#if PG_VERSION_NUM >= 140000
#define W2A_HAVE_NUMERIC_INF 1
#endif

/*
 * Versioned composite values (the 2026 minor releases): heap_deform_tuple
 * refuses, with ERRCODE_DATUM_VERSION_MISMATCH, a value whose row type was
 * altered incompatibly after the value was made.
 */
#ifdef ERRCODE_DATUM_VERSION_MISMATCH
#define W2A_HAVE_VERSIONED_DATUMS 1
#endif

/* The commit time of a transaction: a field of txn until 15 renamed it. */
#if PG_VERSION_NUM >= 150000
#define W2A_TXN_COMMIT_TIME(txn)	((txn)->xact_time.commit_time)
#else
#define W2A_TXN_COMMIT_TIME(txn)	((txn)->commit_time)
#endif

#endif							/* WAL2AVRO_COMPAT_H */
