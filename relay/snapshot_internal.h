/*-------------------------------------------------------------------------
 *
 * snapshot_internal.h
 *		What the files of the initial snapshot share: snapshot.c (markers,
 *		reading the rows), snapshot_tables.c (import, list, lock) and
 *		snapshot_debezium.c (what compat=debezium's rows are told).
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/snapshot_internal.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RELAY_SNAPSHOT_INTERNAL_H
#define RELAY_SNAPSHOT_INTERNAL_H

#include <stdbool.h>

#include <libpq-fe.h>

#include "snapshot.h"

/*
 * Ask s->keep_going whether to go on.  Returns true, with *result
 * SNAPSHOT_FAILED_YIELD and the reason in s->err, when the snapshot must
 * leave now.
 */
extern bool snapshot_must_leave(SnapshotSink *s, SnapshotFailure *result);

/* s->err = "<what>: <libpq's message>", without its trailing newline. */
extern void snapshot_set_pg_error(SnapshotSink *s, const char *what, PGconn *conn);

/*
 * A failed query: sets s->err and s->pgerr; returns SNAPSHOT_FAILED_PG when
 * retrying cannot help, else SNAPSHOT_FAILED_RETRY.
 */
extern SnapshotFailure snapshot_query_failed(SnapshotSink *s, PGconn *conn, const char *what,
											 PGresult *res);

/*
 * Import the snapshot, list the tables and lock them all.  Returns 0 with
 * *tables and *gone (malloc'd) and the transaction open, SNAPSHOT_STALE when
 * a table was rewritten since the export, or -1 with *result and s->err
 * set.  (snapshot_tables.c)
 */
extern int	snapshot_open_tables(SnapshotSink *s, PGconn *conn, const char *lit, const char *opts,
								 PGresult **tables, bool **gone, SnapshotFailure *result);

/* compat=debezium: the options each table is read with (snapshot_debezium.c) */
typedef struct SnapshotDebezium
{
	char	   *opts;			/* the plugin options, snapshot-lsn and
								 * snapshot-txid: a text[] literal, malloc'd */
	char	   *last_opts;		/* ... and snapshot-last-table */
	int			last;			/* the last table with a row (index into the
								 * tables), or -1 */
} SnapshotDebezium;

/*
 * Fill *d in the open snapshot transaction: asks txid_current() and which
 * table is the last with a row.  opts are the plain options' literal.
 * Returns 0, or -1 with *result and s->err set; free *d with
 * snapshot_debezium_free either way.
 */
extern int	snapshot_debezium_prepare(SnapshotSink *s, PGconn *conn, PGresult *tables,
									  const bool *gone, const RelaySettingList *options,
									  const char *opts, Lsn start, SnapshotDebezium *d,
									  SnapshotFailure *result);
extern void snapshot_debezium_free(SnapshotDebezium *d);

#endif							/* RELAY_SNAPSHOT_INTERNAL_H */
