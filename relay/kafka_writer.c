/*-------------------------------------------------------------------------
 *
 * kafka_writer.c
 *		From frames to Kafka records: the writer's life (create, producer,
 *		reset, free), each frame sent to its handler, the transactions the
 *		LSN tracker follows, their latency, and the records outside the
 *		change stream (snapshot markers, the relay's position).
 *
 * Every key and value schema is published to the schema topic and
 * acknowledged before the first record that uses it (kafka_writer_schemas.c): a
 * CHANGE whose schema is not yet acknowledged waits (WRITER_WAIT) while the
 * loop keeps answering the server.  SCHEMA frames fill the relation table
 * (kafka_writer_relations.c); a CHANGE becomes its records in
 * kafka_writer_changes.c.  The delivery reports, and what a failed
 * one makes the stream do, are in kafka_writer_delivery.c; messages in
 * kafka_writer_messages.c; the headers in record_headers.c; Debezium's
 * transaction topic (BEGIN and END around each transaction's events) in
 * kafka_writer_transaction.c.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/kafka_writer.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "config.h"
#include "connect_json.h"
#include "frames.h"
#include "kafka_writer_internal.h"
#include "log.h"
#include "lsn.h"
#include "lsn_tracker.h"
#include "metrics.h"
#include "producer.h"
#include "record_headers.h"
#include "registry.h"
#include "schema_ids.h"
#include "wal2avro_protocol.h"

/*
 * Leave isolation once the replay has read through the last transaction
 * produced before the refusal and its last record is reported (so it
 * cannot share a batch with the next).  Returns WRITER_WAIT while that
 * record is in flight, WRITER_OK otherwise.
 */
WriterResult
writer_end_isolation(KafkaWriter *r)
{
	if (!r->isolating || r->done_commit_lsn < r->isolate_until)
		return WRITER_OK;
	if (r->unreported > 0)
		return WRITER_WAIT;
	r->isolating = false;
	relay_log(RELAY_LOG_INFO, "replayed one record at a time through " LSN_FMT ": batching again",
			  LSN_ARGS(r->isolate_until));
	return WRITER_OK;
}

/* Remember a committed transaction until it is acknowledged (for latency). */
static void
push_commit(KafkaWriter *r, Lsn end_lsn, int64_t commit_time)
{
	if (r->commit_count == r->commit_cap)
	{
		size_t		cap = r->commit_cap ? r->commit_cap * 2 : 1024;
		PendingCommit *c = malloc(cap * sizeof(PendingCommit));
		size_t		i;

		if (c == NULL)
			return;				/* only a latency sample is lost */
		for (i = 0; i < r->commit_count; i++)
			c[i] = r->commits[(r->commit_head + i) % r->commit_cap];
		free(r->commits);
		r->commits = c;
		r->commit_cap = cap;
		r->commit_head = 0;
	}
	r->commits[(r->commit_head + r->commit_count) % r->commit_cap] =
		(PendingCommit) {end_lsn, commit_time};
	r->commit_count++;
}

/*
 * The transactions now safe (end LSN at or below "safe"): their
 * commit-to-acknowledgement latency goes to the histogram.  now_epoch_us is
 * the wall clock, as the commit times are.
 */
void
writer_observe_latency(KafkaWriter *r, Lsn safe, int64_t now_epoch_us)
{
	while (r->commit_count > 0 && r->commits[r->commit_head].end_lsn <= safe)
	{
		int64_t		t = r->commits[r->commit_head].commit_time;

		if (t > 0)
			metrics_observe_latency(r->metrics, (now_epoch_us - t) / 1e6);
		r->commit_head = (r->commit_head + 1) % r->commit_cap;
		r->commit_count--;
	}
}

/* Commit time of the oldest transaction not yet acknowledged; 0: none. */
int64_t
writer_oldest_pending_commit(const KafkaWriter *r)
{
	return r->commit_count > 0 ? r->commits[r->commit_head].commit_time : 0;
}

void
writer_set_metrics(KafkaWriter *r, Metrics *m)
{
	r->metrics = m;
	metrics_table_init(&r->message_metrics[0], m, "", "messages");
	metrics_table_init(&r->message_metrics[1], m, "", "heartbeat");
}

/*
 * Act on one frame.  *stage is the caller's resume point for this frame,
 * WRITER_STAGE_NONE on the first call: a frame that returned WRITER_WAIT is given again, with
 * the same stage, once events were served.  Returns WRITER_OK (done with
 * the frame), WRITER_WAIT (the producer queue is full, a schema is not
 * acknowledged yet, or the producer is dead: producer_fatal says so, and the
 * frame must then be replayed with a new producer) or WRITER_ERROR with a
 * message in err (a frame out of order or without schema, out of memory, a
 * produce error): the stream must then be restarted from the last confirmed
 * position.
 */
WriterResult
writer_handle_frame(KafkaWriter *r, const Frame *f, WriterStage *stage, char *err, size_t errlen)
{
	WriterResult rc;

	switch (f->kind)
	{
		case W2A_FRAME_BEGIN:
			if (writer_end_isolation(r) != WRITER_OK)
				return WRITER_WAIT;
			if (lsn_tracker_begin(r->tracker, f->begin.commit_lsn) != LSN_TRACKER_OK)
			{
				snprintf(err, errlen, "BEGIN inside a transaction at " LSN_FMT,
						 LSN_ARGS(f->begin.commit_lsn));
				return WRITER_ERROR;
			}
			r->in_txn = true;
			r->txn_commit_lsn = f->begin.commit_lsn;
			record_headers_begin(&r->txn_headers, f->begin.xid, f->begin.commit_time);
			writer_txmeta_open(r, f->begin.xid, f->begin.commit_time);
			r->txn_records = 0;
			return WRITER_OK;
		case W2A_FRAME_SCHEMA:
			return writer_handle_schema(r, f, err, errlen);
		case W2A_FRAME_CHANGE:
			if (f->change.non_transactional)
				return writer_handle_lone_change(r, f, stage, err, errlen);
			if (!r->in_txn)
			{
				snprintf(err, errlen, "change (op %c) outside a transaction at " LSN_FMT,
						 f->change.op, LSN_ARGS(f->change.lsn));
				return WRITER_ERROR;
			}
			return writer_handle_change(r, f, stage, err, errlen);
		case W2A_FRAME_TRUNCATE:
			/* Debezium leaves truncates out by default; so do we */
			return WRITER_OK;
		case W2A_FRAME_MESSAGE:
			return writer_handle_message(r, f, stage, err, errlen);
		case W2A_FRAME_COMMIT:
			if ((rc = writer_txmeta_commit(r, f->commit.end_lsn, err, errlen)) != WRITER_OK)
				return rc;
			if (lsn_tracker_commit(r->tracker, f->commit.end_lsn) != LSN_TRACKER_OK)
			{
				snprintf(err, errlen, "COMMIT outside a transaction at " LSN_FMT,
						 LSN_ARGS(f->commit.end_lsn));
				return WRITER_ERROR;
			}
			r->in_txn = false;
			r->done_commit_lsn = r->txn_commit_lsn;
			(void) writer_end_isolation(r);
			r->stats.transactions++;
			r->stats.last_commit_time = f->commit.commit_time;
			if (r->txn_records > 0)
				push_commit(r, f->commit.end_lsn, f->commit.commit_time);
			return WRITER_OK;
	}
	snprintf(err, errlen, "unknown frame kind 0x%02x", (unsigned char) f->kind);
	return WRITER_ERROR;
}

/*
 * Produce one control record (text key and value, no headers) in the open
 * tracker transaction: a snapshot marker on the state topic.  It is not
 * counted as a change record, and never goes to the dead-letter topic.
 * Returns WRITER_OK, WRITER_WAIT (queue full: serve events, call again),
 * WRITER_FAILED or WRITER_ERROR (no open transaction) as for a frame.
 */
WriterResult
writer_send_control(KafkaWriter *r, const char *topic, const char *key, const char *value,
					 char *err, size_t errlen)
{
	uint64_t	id = lsn_tracker_add(r->tracker);

	if (id == LSN_TRACKER_NO_ID)
	{
		snprintf(err, errlen, "control record for topic \"%s\" outside a transaction", topic);
		return WRITER_ERROR;
	}
	return writer_produce(r, topic, NULL, key, strlen(key), value, strlen(value), NULL,
						   id | CONTROL_RECORD_BIT, err, errlen);
}

/*
 * Produce one record (text key and value, no headers) outside the tracker:
 * the relay's position on the state topic.  Its acknowledgement only raises
 * writer_untracked_acked to "tag" (at least 1, below 2^61, increasing); a
 * failed delivery fails the run as a change record's does under
 * on-error=stop.  Returns WRITER_OK, WRITER_WAIT (queue full: serve
 * events, call again) or WRITER_FAILED with a message in err.
 */
WriterResult
writer_send_untracked(KafkaWriter *r, const char *topic, const char *key, const char *value,
					   uint64_t tag, char *err, size_t errlen)
{
	size_t		keylen = strlen(key),
				valuelen = strlen(value);
	ProducerStatus st;

	st = producer_send(r->producer, topic, key, keylen, value, valuelen, NULL,
					   (void *) (uintptr_t) ((tag & RECORD_ID_MASK) | UNTRACKED_RECORD_BIT),
					   err, errlen);
	if (st == PRODUCER_QUEUE_FULL)
		return WRITER_WAIT;
	if (st != PRODUCER_OK)
	{
		r->stats.delivery_errors++;
		if (!r->failed)
		{
			r->failed = true;
			snprintf(r->fail_msg, sizeof(r->fail_msg), "%s", err);
			writer_set_untracked_hint(r);
		}
		return WRITER_FAILED;
	}
	r->stats.in_flight_bytes += keylen + valuelen + RECORD_OVERHEAD_BYTES;
	r->unreported++;
	return WRITER_OK;
}

/* The highest tag of writer_send_untracked acknowledged so far (0: none). */
uint64_t
writer_untracked_acked(const KafkaWriter *r)
{
	return r->untracked_acked;
}

/*
 * Create the record builder for a tracker.  Call writer_set_producer before
 * the first frame.  Returns NULL when out of memory.
 */
KafkaWriter *
writer_create(const RelayConfig *cfg, LsnTracker *tracker)
{
	KafkaWriter    *r = calloc(1, sizeof(KafkaWriter));

	if (r == NULL)
		return NULL;
	r->cfg = cfg;
	r->tracker = tracker;
	r->template_has_op = strstr(cfg->topic_template, "{op") != NULL;
	record_headers_begin(&r->txn_headers, 0, 0);
	if (cfg->schema_registry)
	{
		char		err[256];

		if ((r->registry = registry_create(cfg, err, sizeof(err))) == NULL)
		{
			relay_log(RELAY_LOG_ERROR, "%s", err);
			free(r);
			return NULL;
		}
	}
	return r;
}

/*
 * Produce with p from now on.  The topic handles of the last producer die
 * with it: forget them.
 */
void
writer_set_producer(KafkaWriter *r, Producer *p)
{
	size_t		i;

	r->producer = p;
	for (i = 0; i < r->rel_cap; i++)
		r->rels[i].rkt = NULL;
}

/*
 * Forget per-stream state after a reconnect: the open transaction, and
 * whether schemas not yet acknowledged were sent (they are published
 * again; their texts stay).  Relations are kept; the server sends their
 * SCHEMA frames again anyway.
 */
void
writer_reset(KafkaWriter *r)
{
	r->replay_needed = false;
	r->in_txn = false;
	r->lone_change = false;
	r->done_commit_lsn = INVALID_LSN;	/* an isolating replay starts over */
	r->commit_count = 0;		/* they come again */
	r->commit_head = 0;
	writer_txmeta_reset(r);
	schema_ids_forget_unacknowledged(&r->schemas);
}

const WriterStats *
writer_stats(const KafkaWriter *r)
{
	return &r->stats;
}

void
writer_free(KafkaWriter *r)
{
	size_t		i;

	if (r == NULL)
		return;
	registry_free(r->registry);
	for (i = 0; i < r->rel_cap; i++)
	{
		if (r->rels[i].used)
		{
			free(r->rels[i].schema);
			free(r->rels[i].table);
			free(r->rels[i].topic);
			connect_json_free(r->rels[i].key_json);
			connect_json_free(r->rels[i].value_json);
			free(r->rels[i].flat_null);
		}
	}
	free(r->rels);
	schema_ids_free(&r->schemas);
	free(r->commits);
	free(r->buf);
	free(r->json_key.data);
	free(r->json_value.data);
	free(r->json_other_key.data);
	writer_txmeta_free(r);
	free(r);
}
