/*-------------------------------------------------------------------------
 *
 * compat.h
 *		Every PG_VERSION_NUM test of the wal2avro plugin lives here.
 *
 * The plugin is tested on PostgreSQL 13, 15 and 18 (README's version
 * table); these shims cover 13 to 18.  Callers use the
 * W2A_ names (LSN_FORMAT_ARGS, 14's, is defined for 13) and never test the
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

/* The varlena macros (VARDATA_ANY, ...) have their own header from 16 on */
#if PG_VERSION_NUM >= 160000
#include "varatt.h"
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

/* numeric has infinities from 14 on (numeric_is_inf); 13 has none. */
#if PG_VERSION_NUM >= 140000
#define W2A_NUMERIC_IS_INF(num)		numeric_is_inf(num)
#else
#define W2A_NUMERIC_IS_INF(num)		false
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

/*
 * Integer to text: pg_lltoa returns the length from 14 on (void before),
 * and pg_ulltoa_n (digits only, no terminator) is 14's.
 */
#if PG_VERSION_NUM >= 140000
#define W2A_LLTOA(v, a)			pg_lltoa((v), (a))
#define W2A_ULLTOA_N(v, a)		pg_ulltoa_n((v), (a))
#else
#include "utils/builtins.h"

static inline int
w2a_lltoa13(int64 v, char *a)
{
	pg_lltoa(v, a);
	return (int) strlen(a);
}

static inline int
w2a_ulltoa_n13(uint64 v, char *a)
{
	char		tmp[24];
	int			n = 0,
				i;

	do
	{
		tmp[n++] = (char) ('0' + v % 10);
		v /= 10;
	} while (v != 0);
	for (i = 0; i < n; i++)
		a[i] = tmp[n - 1 - i];
	return n;
}
#define W2A_LLTOA(v, a)			w2a_lltoa13((v), (a))
#define W2A_ULLTOA_N(v, a)		w2a_ulltoa_n13((v), (a))
#endif

/*
 * The replica identity's columns: 14 added a variant that needs no index
 * lock; 13's pgoutput asks RelationGetIndexAttrBitmap, as this does there.
 */
#if PG_VERSION_NUM >= 140000
#define W2A_IDENTITY_KEY_BITMAP(rel)	RelationGetIdentityKeyBitmap(rel)
#else
#define W2A_IDENTITY_KEY_BITMAP(rel)	RelationGetIndexAttrBitmap((rel), INDEX_ATTR_BITMAP_IDENTITY_KEY)
#endif

/*
 * Why a relation is not a table: 15's errdetail_relkind_not_supported, and
 * the same sentences before 15, so that every version says the same.
 */
#if PG_VERSION_NUM >= 150000
#define W2A_ERRDETAIL_RELKIND(relkind)	errdetail_relkind_not_supported(relkind)
#else
#include "catalog/pg_class.h"

static inline int
w2a_errdetail_relkind13(char relkind)
{
	const char *what;

	switch (relkind)
	{
		case RELKIND_RELATION:
			what = "tables";
			break;
		case RELKIND_INDEX:
			what = "indexes";
			break;
		case RELKIND_SEQUENCE:
			what = "sequences";
			break;
		case RELKIND_TOASTVALUE:
			what = "TOAST tables";
			break;
		case RELKIND_VIEW:
			what = "views";
			break;
		case RELKIND_MATVIEW:
			what = "materialized views";
			break;
		case RELKIND_COMPOSITE_TYPE:
			what = "composite types";
			break;
		case RELKIND_FOREIGN_TABLE:
			what = "foreign tables";
			break;
		case RELKIND_PARTITIONED_TABLE:
			what = "partitioned tables";
			break;
		case RELKIND_PARTITIONED_INDEX:
			what = "partitioned indexes";
			break;
		default:
			return errdetail("This operation is not supported for relations of kind \"%c\".",
							 relkind);
	}
	return errdetail("This operation is not supported for %s.", what);
}
#define W2A_ERRDETAIL_RELKIND(relkind)	w2a_errdetail_relkind13(relkind)
#endif

/* LSN_FORMAT_ARGS is 14's (access/xlogdefs.h) */
#if PG_VERSION_NUM < 140000
#define LSN_FORMAT_ARGS(lsn)	((uint32) ((lsn) >> 32)), ((uint32) (lsn))
#endif

/*
 * The primary key's index: 18 asks whether a deferrable one will do.  The
 * key of a record is the primary key whether or not it is deferrable, as
 * before 18.
 */
#if PG_VERSION_NUM >= 180000
#define W2A_PRIMARY_KEY_INDEX(rel)	RelationGetPrimaryKeyIndex((rel), true)
#else
#define W2A_PRIMARY_KEY_INDEX(rel)	RelationGetPrimaryKeyIndex(rel)
#endif

/*
 * Infinite intervals (17): every field at its minimum (-infinity) or its
 * maximum (infinity).  Before 17 no interval is infinite.
 */
#if PG_VERSION_NUM >= 170000
#define W2A_HAVE_INFINITE_INTERVALS	true
#define W2A_INTERVAL_IS_NOBEGIN(iv)	INTERVAL_IS_NOBEGIN(iv)
#define W2A_INTERVAL_IS_NOEND(iv)	INTERVAL_IS_NOEND(iv)
#else
#define W2A_HAVE_INFINITE_INTERVALS	false
#define W2A_INTERVAL_IS_NOBEGIN(iv)	false
#define W2A_INTERVAL_IS_NOEND(iv)	false
#endif

/*
 * Virtual generated columns (18): computed when read, never stored, so not
 * in the WAL.  The plugin leaves them out of its records, as pgoutput does.
 */
#if PG_VERSION_NUM >= 180000
#define W2A_ATT_IS_VIRTUAL(att)		((att)->attgenerated == ATTRIBUTE_GENERATED_VIRTUAL)
#else
#define W2A_ATT_IS_VIRTUAL(att)		false
#endif

/* pg_b64_encode takes its input as uint8 from 18 on, as char before */
#if PG_VERSION_NUM >= 180000
#define W2A_B64_ENCODE(src, len, dst, dstlen) \
	pg_b64_encode((const uint8 *) (src), (len), (dst), (dstlen))
#else
#define W2A_B64_ENCODE(src, len, dst, dstlen) \
	pg_b64_encode((const char *) (src), (len), (dst), (dstlen))
#endif

/* strtoi64 is 14's (c.h); before it, long long is 64 bits on every platform */
#if PG_VERSION_NUM >= 140000
#define W2A_STRTOI64(s, end, base)	strtoi64((s), (end), (base))
#else
#define W2A_STRTOI64(s, end, base)	((int64) strtoll((s), (end), (base)))
#endif

#endif							/* WAL2AVRO_COMPAT_H */
