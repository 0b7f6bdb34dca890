/*-------------------------------------------------------------------------
 *
 * snapshot.h
 *		The initial snapshot: every captured table's rows, then the stream
 *		(snapshot.c).
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/snapshot.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RELAY_SNAPSHOT_H
#define RELAY_SNAPSHOT_H

#include <libpq-fe.h>
#include <librdkafka/rdkafka.h>

#include "config.h"
#include "lsn.h"
#include "stream_loop.h"

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

extern rd_kafka_conf_t *snapshot_consumer_conf(const RelayConfig *cfg);
extern int	snapshot_read_state(StreamLoop *s, SnapshotState *state, Lsn *lsn);
extern int	snapshot_mark_creating(StreamLoop *s, LoopResult *result);
extern PGconn *snapshot_connect(StreamLoop *s, LoopResult *result);
extern char *snapshot_options_array(const RelaySettingList *options);
extern int	snapshot_run(StreamLoop *s, PGconn *conn, const char *snapshot_name, Lsn start,
						 const RelaySettingList *options, LoopResult *result);

#endif							/* RELAY_SNAPSHOT_H */
