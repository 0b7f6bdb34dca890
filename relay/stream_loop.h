/*-------------------------------------------------------------------------
 *
 * stream_loop.h
 *		The relay loop (stream_loop.c, stream_loop_start.c).
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/stream_loop.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RELAY_STREAM_LOOP_H
#define RELAY_STREAM_LOOP_H

#include <signal.h>

#include "config.h"
#include "heartbeat.h"
#include "kafka_writer.h"
#include "lsn.h"
#include "lsn_tracker.h"
#include "metrics.h"
#include "ondemand_snapshot.h"
#include "pgerror.h"
#include "position.h"
#include "producer.h"
#include "stream.h"

/* What loop_stream ended with; main decides what follows */
typedef enum LoopResult
{
	LOOP_STOPPED = 0,			/* stop requested: drained and confirmed */
	LOOP_ENDPOS,					/* reached the end position */
	LOOP_RETRY,					/* connection lost or refused: reconnect */
	LOOP_FATAL_PG,				/* a PostgreSQL error retrying cannot fix */
	LOOP_FATAL_KAFKA,			/* a delivery failed under on-error=stop */
	LOOP_RESTART_PRODUCER,		/* fatal producer error: new producer, reconnect */
	LOOP_ISOLATE					/* a batch was refused under on-error=dead-letter:
								 * new producer, replay one record at a time */
} LoopResult;

/* Everything the loop works with; main owns it across reconnects */
typedef struct StreamLoop
{
	const RelayConfig *cfg;
	LsnTracker *tracker;
	KafkaWriter    *records;
	Producer   *producer;
	Metrics    *metrics;		/* NULL: no metrics endpoint */
	Heartbeat  *heartbeat;		/* NULL: no heartbeats */
	OnDemandSnapshot *ondemand;		/* on-demand snapshots */
	Position   *position;		/* the confirmed position on the state topic */
	volatile sig_atomic_t *stop_requested;
	volatile sig_atomic_t *hup_requested;	/* SIGHUP: reopen the log file */
	char		err[1024];		/* why the last run ended, if it failed */
	PgError		pgerr;			/* LOOP_RETRY, LOOP_FATAL_PG: the failure's class */
	bool		kafka_failed;	/* LOOP_RETRY: Kafka failed, not PostgreSQL */
	Lsn			stream_pos;		/* how far the stream got: the open transaction's
								 * commit LSN, else the end of the last one (the
								 * start position before any); where a failure
								 * happened */

	/* per connection */
	Lsn			received;		/* highest position received: status "write" */
	Lsn			server_end;		/* the server's WAL end, last seen */
	Lsn			last_flush;		/* flush position last sent */
	int64_t		last_status_us;
	bool		endpos_reached;
	bool		slot_created;	/* by this connection: no stored position applies */
	Lsn			skip_before;	/* transactions committing before it are in Kafka */
	bool		skipping_txn;	/* the transaction being read is one of them */
	uint64_t	skipped_txns;	/* ... how many so far */
	bool		logged_first_data;
	char	   *pending_buf;	/* a frame not fully produced yet (PQfreemem) */
	StreamMsg	pending;
	WriterStage pending_stage;	/* of pending; WRITER_STAGE_NONE: not begun */

	int64_t		metrics_at_us;	/* last metrics_update */
	uint64_t	queue_capacity; /* queue.buffering.max.messages in effect */

	/* progress line */
	int64_t		progress_at_us;
	uint64_t	progress_records;
} StreamLoop;

extern LoopResult loop_stream(StreamLoop *s);
extern void loop_reopen_log(StreamLoop *s);
extern LoopResult loop_producer_fatal(StreamLoop *s);
extern void loop_publish_metrics(StreamLoop *s, bool streaming);

#endif							/* RELAY_STREAM_LOOP_H */
