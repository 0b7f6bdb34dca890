/*-------------------------------------------------------------------------
 *
 * snapshot.h
 *		The initial snapshot: every captured table's rows, then the stream
 *		(snapshot.c, snapshot_tables.c).
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/snapshot.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RELAY_SNAPSHOT_H
#define RELAY_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>

#include <libpq-fe.h>

#include "config.h"
#include "kafka_writer.h"
#include "lsn.h"
#include "lsn_tracker.h"
#include "metrics.h"
#include "pgerror.h"
#include "producer.h"

/* The last snapshot marker of a slot on the state topic */
typedef enum SnapshotState
{
	SNAPSHOT_STATE_NONE = 0,	/* no marker: the slot streams as it is */
	SNAPSHOT_STATE_CREATING,	/* the slot was being created for a snapshot */
	SNAPSHOT_STATE_STARTED,		/* a snapshot began at the marker's LSN */
	SNAPSHOT_STATE_DONE			/* ... and every one of its records was acknowledged */
} SnapshotState;

/* snapshot_run: a table was rewritten after the export; take a new slot */
#define SNAPSHOT_STALE		1

/* Why a snapshot call returned -1 */
typedef enum SnapshotFailure
{
	SNAPSHOT_FAILED_RETRY = 0,	/* PostgreSQL or Kafka failed: reconnect, do it again */
	SNAPSHOT_FAILED_PG,			/* a PostgreSQL error retrying cannot fix */
	SNAPSHOT_FAILED_KAFKA,		/* a delivery failed under on-error=stop */
	SNAPSHOT_FAILED_YIELD		/* keep_going said stop: its caller knows why */
} SnapshotFailure;

/*
 * Where a snapshot writes its records, and whom it asks whether to go on.
 * The caller fills the first part; the snapshot only uses it.  keep_going
 * is called whenever the snapshot waits (for room, acknowledgements, a
 * lock) and between batches of rows: it serves what the caller must (its
 * log, its metrics) and returns true to go on, or false with the reason in
 * err (errlen bytes) to make the snapshot leave with SNAPSHOT_FAILED_YIELD.
 */
typedef struct SnapshotSink
{
	const RelayConfig *cfg;
	KafkaWriter *records;		/* the records go through writer_handle_frame */
	LsnTracker *tracker;		/* the snapshot is one transaction of it */
	Producer   *producer;		/* polled while waiting */
	Metrics    *metrics;		/* NULL: no metrics endpoint */
	bool		(*keep_going) (void *ctx, char *err, size_t errlen);
	void	   *ctx;			/* keep_going's */

	/* set by the snapshot when a call fails */
	char		err[1024];		/* why it failed, or why it was stale */
	PgError		pgerr;			/* a failed query's class */
	bool		kafka_failed;	/* the failure was Kafka's, not PostgreSQL's */
} SnapshotSink;

/*
 * The last snapshot marker of cfg->slot: read the state topic to its end.
 * Returns 0 with *state (and *lsn for STARTED and DONE), or -1 with a
 * message in err when Kafka cannot be read.
 */
extern int	snapshot_read_state(const RelayConfig *cfg, SnapshotState *state, Lsn *lsn,
								char *err, size_t errlen);

/*
 * The "creating" marker, before the slot is created for a snapshot.
 * Returns 0, or -1 with *result and s->err set.
 */
extern int	snapshot_mark_creating(SnapshotSink *s, SnapshotFailure *result);

/*
 * The connection that reads the tables, the wal2avro extension checked.
 * Returns it, or NULL with *result and s->err set.
 */
extern PGconn *snapshot_connect(SnapshotSink *s, SnapshotFailure *result);

/*
 * The plugin options as a text[] literal of name/value pairs; malloc'd, or
 * NULL when out of memory.
 */
extern char *snapshot_options_array(const RelaySettingList *options);

/* Do the plugin options hold compat=debezium?  Cannot fail. */
extern bool snapshot_options_debezium(const RelaySettingList *options);

/*
 * Read every captured table under the exported snapshot of the slot
 * created at start into s->records; see snapshot.c.  Returns 0,
 * SNAPSHOT_STALE, or -1 with *result and s->err set.
 */
extern int	snapshot_run(SnapshotSink *s, PGconn *conn, const char *snapshot_name, Lsn start,
						 const RelaySettingList *options, SnapshotFailure *result);

#endif							/* RELAY_SNAPSHOT_H */
