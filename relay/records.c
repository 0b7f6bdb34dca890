/*-------------------------------------------------------------------------
 *
 * records.c
 *		From frames to Kafka records: topics, keys and values in Avro
 *		single-object encoding, headers, tombstones, schema publication,
 *		and the delivery reports that acknowledge them in the LSN tracker.
 *
 * Every key and value schema is published to the schema topic (compacted,
 * keyed by the fingerprint in hex) and acknowledged before the first record
 * that uses it is produced, so a consumer can always find it.  A CHANGE
 * whose schema is not yet acknowledged waits (RECORDS_WAIT) while the loop
 * keeps answering the server.  A fingerprint names one schema text: one the
 * schema topic already holds with these bytes is not published again, and
 * one it holds, or this process used, with other bytes stops the relay
 * (schema_ids.c says why).
 *
 * Under on-error=dead-letter, a delivery report cannot say which record of
 * a producer batch the broker refused: it refuses the whole batch.  So the
 * first refusal only asks for isolation (records_isolation_needed); the
 * caller drops the producer and replays from the last confirmed position,
 * and records_start_isolation makes every record wait until the one before
 * it is reported, through the end of the last transaction produced before;
 * each is flushed at once (linger.ms would cost every record its wait).
 * Each record then travels alone, and the one the broker refuses alone goes
 * to the dead-letter topic, the others where they belong.  A failure then
 * that is not the broker's refusal (a local error such as a timeout) stops
 * the relay as under on-error=stop, rather than loop.
 *
 * A local failure that says nothing about the record (records_replay_error:
 * librdkafka dropped it because its view of the topic changed, as when a
 * broker that has not yet heard of a topic just auto-created answers the
 * metadata request, and the partition count falls to 0) refuses nothing
 * either: the record is failed in the tracker only, and records_replay_needed
 * asks the caller to recreate the producer and replay from the last
 * confirmed position, which keeps the order per key (sending that one record
 * again would put it after later ones).
 *
 * A fatal producer error (idempotence broken: librdkafka gives up on the
 * producer) refuses no record: a produce to a dead producer makes the frame
 * wait, failures it reports fail nothing but the tracker (so nothing past
 * them is confirmed), and never reach the dead-letter topic.  The caller
 * sees producer_fatal, recreates the producer and replays from the last
 * confirmed position.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/records.c
 *
 *-------------------------------------------------------------------------
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "heartbeat.h"
#include "metrics.h"
#include "records.h"
#include "relay.h"
#include "schema_ids.h"
#include "tail.h"

/* The opaque of a schema record has this bit set, beside the tracker id */
#define SCHEMA_RECORD_BIT	(UINT64_C(1) << 63)
/* ... or this one for a control record (a snapshot marker): not counted */
#define CONTROL_RECORD_BIT	(UINT64_C(1) << 62)
/* ... or this one, beside a tag instead, for a record outside the tracker */
#define UNTRACKED_RECORD_BIT	(UINT64_C(1) << 61)
#define RECORD_ID_MASK		(~(SCHEMA_RECORD_BIT | CONTROL_RECORD_BIT | UNTRACKED_RECORD_BIT))

#define TOPIC_MAX			512

/* While isolating: how long one produce waits for its report in place */
#define ISOLATED_FLUSH_MS	100

/*
 * What a queued record costs librdkafka beside its key and value: the
 * message struct, its headers (six, with names), the opaque.  Counted in
 * the in-flight bytes so that max-in-flight-bytes bounds memory, not only
 * payload; many small records would otherwise outgrow it several times.
 */
#define RECORD_OVERHEAD_BYTES	320

/* A relation seen in a SCHEMA frame */
typedef struct RelEntry
{
	uint32_t	relid;
	bool		used;
	uint64_t	key_fp;
	uint64_t	value_fp;
	char	   *schema;
	char	   *table;
	char	   *topic;			/* expanded template, when it has no {op} */
	MetricsTable metrics;		/* its record counters, over schema and table */
} RelEntry;

/* A committed transaction whose records are not all acknowledged yet */
typedef struct PendingCommit
{
	Lsn			end_lsn;
	int64_t		commit_time;	/* us since the Unix epoch */
} PendingCommit;

struct Records
{
	const RelayConfig *cfg;
	LsnTracker *tracker;
	Producer   *producer;
	bool		template_has_op;

	RelEntry   *rels;			/* open addressing by relid */
	size_t		rel_cap;
	size_t		rel_count;
	SchemaIds	schemas;		/* fingerprint -> schema text and its state */
	bool		schema_topic_read;	/* records_read_schema_topic succeeded */
	bool		schema_topic_oom;	/* ran out of memory while reading it */

	/* the transaction being read */
	uint32_t	xid;
	int64_t		commit_time;
	bool		in_txn;

	/* scratch for single-object encoded keys and values */
	uint8_t    *buf;
	size_t		buf_cap;

	/* for metrics: the relation and op of the record being produced */
	Metrics    *metrics;
	MetricsTable *cur_metrics;
	MetricsTable message_metrics[2];	/* messages, heartbeats */
	char		cur_op;
	uint64_t	txn_records;	/* records produced in the open transaction */

	/* committed transactions in flight, oldest first: a ring */
	PendingCommit *commits;
	size_t		commit_cap;
	size_t		commit_head;
	size_t		commit_count;

	/* dead-letter isolation (see the file header) */
	Lsn			txn_commit_lsn; /* commit LSN of the transaction being read */
	Lsn			produced_commit_lsn;	/* ... of the last one a record went in */
	Lsn			done_commit_lsn;	/* ... of the last one read to its end */
	uint64_t	unreported;		/* records enqueued, not yet reported */
	bool		isolation_needed;	/* a batch was refused, outside isolation */
	char		isolation_why[512];
	bool		isolating;		/* one record in flight at a time */
	Lsn			isolate_until;	/* through the transaction committing here */
	bool		last_dead_lettered; /* the last change record went there */

	uint64_t	untracked_acked;	/* highest tag of an untracked record acknowledged */

	RecordsStats stats;
	bool		discarding;		/* reports of a producer being thrown away */
	bool		replay_needed;	/* a delivery failed for a local, passing cause */
	char		replay_why[512];
	bool		failed;			/* a delivery failed under on-error=stop, or a schema was refused */
	char		fail_msg[512];
	char		fail_hint[512]; /* empty: the caller's usual hint */
};

/* ------------------------------------------------------------------------
 * Small tables
 * ------------------------------------------------------------------------
 */

static RelEntry *
rel_find(Records *r, uint32_t relid, bool insert)
{
	size_t		i;

	if (insert && (r->rel_count + 1) * 2 > r->rel_cap)
	{
		size_t		cap = r->rel_cap ? r->rel_cap * 2 : 64;
		RelEntry   *rels = calloc(cap, sizeof(RelEntry));
		size_t		j;

		if (rels == NULL)
			return NULL;
		for (j = 0; j < r->rel_cap; j++)
		{
			if (r->rels[j].used)
			{
				size_t		k = (r->rels[j].relid * 2654435761u) & (cap - 1);

				while (rels[k].used)
					k = (k + 1) & (cap - 1);
				rels[k] = r->rels[j];
			}
		}
		free(r->rels);
		r->rels = rels;
		r->rel_cap = cap;
	}
	if (r->rel_cap == 0)
		return NULL;
	i = (relid * 2654435761u) & (r->rel_cap - 1);
	while (r->rels[i].used)
	{
		if (r->rels[i].relid == relid)
			return &r->rels[i];
		i = (i + 1) & (r->rel_cap - 1);
	}
	if (!insert)
		return NULL;
	r->rels[i].used = true;
	r->rels[i].relid = relid;
	r->rel_count++;
	return &r->rels[i];
}

static char *
dup_bytes(FrameBytes b)
{
	char	   *s = malloc(b.len + 1);

	if (s)
	{
		memcpy(s, b.data, b.len);
		s[b.len] = '\0';
	}
	return s;
}

static bool
ensure_buf(Records *r, size_t need)
{
	if (need > r->buf_cap)
	{
		size_t		cap = r->buf_cap ? r->buf_cap : 4096;
		uint8_t    *b;

		while (cap < need)
			cap *= 2;
		b = realloc(r->buf, cap);
		if (b == NULL)
			return false;
		r->buf = b;
		r->buf_cap = cap;
	}
	return true;
}

/* Avro single-object encoding: C3 01, fingerprint little-endian, datum */
static size_t
single_object(uint8_t *out, uint64_t fp, FrameBytes datum)
{
	int			i;

	out[0] = 0xC3;
	out[1] = 0x01;
	for (i = 0; i < 8; i++)
		out[2 + i] = (uint8_t) (fp >> (8 * i));
	memcpy(out + 10, datum.data, datum.len);
	return 10 + (size_t) datum.len;
}

/* ------------------------------------------------------------------------
 * Delivery reports
 * ------------------------------------------------------------------------
 */

/*
 * Send a record the broker refused on its own to the dead-letter topic, the
 * error and its topic in headers, under the same tracker id.  Returns 0; 1
 * when the producer just died (nothing sent: the replay after recreating it
 * finds the record again); or -1 after logging why when it could not be
 * enqueued.
 */
static int
dead_letter(Records *r, const rd_kafka_message_t *m, const char *topic)
{
	char		err[512];
	rd_kafka_headers_t *hdrs = NULL;
	ProducerStatus st;

	if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR && hdrs)
		hdrs = rd_kafka_headers_copy(hdrs);
	else
		hdrs = rd_kafka_headers_new(2);
	rd_kafka_header_add(hdrs, "wal2avro.error", -1, rd_kafka_err2str(m->err), -1);
	rd_kafka_header_add(hdrs, "wal2avro.topic", -1, topic, -1);
	st = producer_send(r->producer, r->cfg->dead_letter_topic, m->key, m->key_len,
					   m->payload, m->len, hdrs, m->_private, err, sizeof(err));
	if (st == PRODUCER_OK)
	{
		relay_log(RELAY_LOG_WARNING, "record for topic \"%s\" failed (%s): sent to dead-letter topic \"%s\"",
				  topic, rd_kafka_err2str(m->err), r->cfg->dead_letter_topic);
		r->stats.in_flight_bytes += m->len + m->key_len + RECORD_OVERHEAD_BYTES;
		r->unreported++;
		r->last_dead_lettered = true;
		return 0;
	}
	rd_kafka_headers_destroy(hdrs);
	if (st == PRODUCER_FATAL)
		return 1;
	relay_log(RELAY_LOG_ERROR, "%s", err);
	return -1;
}

/* The hint for a record outside the tracker that failed: the position's */
static void
set_untracked_hint(Records *r)
{
	snprintf(r->fail_hint, sizeof(r->fail_hint),
			 "The relay writes its confirmed position to the state topic \"%s\" before confirming it to PostgreSQL: make sure the relay may write to that topic, then start again.",
			 r->cfg->state_topic);
}

static void
delivery(void *ctx, const rd_kafka_message_t *m)
{
	Records    *r = ctx;
	uint64_t	opaque = (uint64_t) (uintptr_t) m->_private;
	uint64_t	id = opaque & RECORD_ID_MASK;
	size_t		bytes = m->len + m->key_len + RECORD_OVERHEAD_BYTES;

	r->stats.in_flight_bytes -= bytes < r->stats.in_flight_bytes ? bytes : r->stats.in_flight_bytes;
	if (r->unreported > 0)
		r->unreported--;

	/* a producer that had a fatal error: its records come again anyway */
	if (r->discarding)
		return;

	/*
	 * A failure reported by a dead producer (purged, or failed by the fatal
	 * error) refuses nothing: the record comes again with the replay from
	 * the last confirmed position, so neither on-error policy applies, and
	 * nothing at or past it is confirmed meanwhile.  A record it reports
	 * delivered was acknowledged by the broker, and counts.
	 */
	if (m->err && (m->err == RD_KAFKA_RESP_ERR__FATAL ||
				   producer_fatal(r->producer, NULL, 0)))
	{
		lsn_tracker_fail(r->tracker, id);
		return;
	}

	if (m->err == RD_KAFKA_RESP_ERR__PURGE_QUEUE ||
		m->err == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT)
		return;					/* dropped on stop: never confirmed, comes again */

	/* not the broker's refusal: replay (one record at a time, stop instead) */
	if (m->err && records_replay_error(m->err) && !r->isolating)
	{
		lsn_tracker_fail(r->tracker, id);
		if (!r->replay_needed)
		{
			r->replay_needed = true;
			snprintf(r->replay_why, sizeof(r->replay_why),
					 "delivery to topic \"%s\" failed for a passing cause: %s",
					 rd_kafka_topic_name(m->rkt), rd_kafka_err2str(m->err));
		}
		return;
	}

	if (opaque & UNTRACKED_RECORD_BIT)
	{
		if (!m->err)
		{
			if (id > r->untracked_acked)
				r->untracked_acked = id;
			return;
		}
		r->stats.delivery_errors++;
		if (!r->failed)
		{
			r->failed = true;
			snprintf(r->fail_msg, sizeof(r->fail_msg), "delivery to topic \"%s\" failed: %s",
					 rd_kafka_topic_name(m->rkt), rd_kafka_err2str(m->err));
			set_untracked_hint(r);
		}
		return;
	}

	if (m->err)
	{
		const char *topic = rd_kafka_topic_name(m->rkt);

		if (r->cfg->on_error == RELAY_ON_ERROR_DEAD_LETTER && r->cfg->dead_letter_topic &&
			strcmp(topic, r->cfg->dead_letter_topic) != 0 &&
			!(opaque & (SCHEMA_RECORD_BIT | CONTROL_RECORD_BIT)))
		{
			/*
			 * In a batch, every record gets the batch's error: find the
			 * refused one by sending them again one at a time.  Nothing
			 * is confirmed past this record meanwhile.
			 */
			if (!r->isolating)
			{
				lsn_tracker_fail(r->tracker, id);
				if (!r->isolation_needed)
				{
					r->isolation_needed = true;
					snprintf(r->isolation_why, sizeof(r->isolation_why),
							 "a producer batch for topic \"%s\" was refused (%s)",
							 topic, rd_kafka_err2str(m->err));
				}
				return;
			}
			/* alone in flight: this very record was refused */
			if (m->err > 0)
			{
				int			dl = dead_letter(r, m, topic);

				if (dl == 1)
				{
					lsn_tracker_fail(r->tracker, id);
					return;
				}
				r->stats.delivery_errors++;
				if (dl == 0)
					return;
			}
		}
		else
			r->stats.delivery_errors++;
		lsn_tracker_fail(r->tracker, id);
		if (!r->failed)
		{
			r->failed = true;
			if (r->isolating && m->err < 0)
				snprintf(r->fail_msg, sizeof(r->fail_msg),
						 "delivery to topic \"%s\" failed while looking for the refused record: %s",
						 topic, rd_kafka_err2str(m->err));
			else
				snprintf(r->fail_msg, sizeof(r->fail_msg),
						 "delivery to topic \"%s\" failed: %s", topic, rd_kafka_err2str(m->err));
		}
		return;
	}

	if (opaque & SCHEMA_RECORD_BIT)
	{
		SchemaId   *s;
		char		hex[17];
		uint64_t	fp;

		if (m->key_len == 16)
		{
			memcpy(hex, m->key, 16);
			hex[16] = '\0';
			fp = strtoull(hex, NULL, 16);
			if ((s = schema_ids_find(&r->schemas, fp)) != NULL)
				s->state = SCHEMA_ID_ON_BROKER;
		}
	}
	else if (!(opaque & CONTROL_RECORD_BIT))
		r->stats.records_acked++;
	lsn_tracker_ack(r->tracker, id);
}

/* ------------------------------------------------------------------------
 * Producing
 * ------------------------------------------------------------------------
 */

/*
 * Produce one record that lsn_tracker_add gave the id in opaque to.  On
 * failure the tracker forgets the record again (lsn_tracker_cancel), so a
 * retry adds it anew.  hdrs is consumed either way.  While isolating, a
 * record waits (RECORDS_WAIT) until the one before it is reported.
 */
static RecordsResult
send_record(Records *r, const char *topic, const void *key, size_t keylen,
			const void *value, size_t valuelen, rd_kafka_headers_t *hdrs,
			uint64_t opaque, char *err, size_t errlen)
{
	ProducerStatus st;
	RecordsResult rc;

	if (r->isolating && r->unreported > 0)
		st = PRODUCER_QUEUE_FULL;
	else
		st = producer_send(r->producer, topic, key, keylen, value, valuelen,
						   hdrs, (void *) (uintptr_t) opaque, err, errlen);
	if (st == PRODUCER_OK)
	{
		r->stats.in_flight_bytes += keylen + valuelen + RECORD_OVERHEAD_BYTES;
		r->unreported++;
		r->produced_commit_lsn = r->txn_commit_lsn;
		/* alone in its request, at once; if slow, the caller waits for it */
		if (r->isolating)
			(void) producer_flush(r->producer, ISOLATED_FLUSH_MS);
		if (!(opaque & (SCHEMA_RECORD_BIT | CONTROL_RECORD_BIT)))
		{
			r->stats.records_produced++;
			r->stats.bytes_produced += keylen + valuelen;
			r->txn_records++;
			metrics_count_record(r->cur_metrics, r->cur_op, keylen + valuelen);
		}
		return RECORDS_OK;
	}
	if (st == PRODUCER_QUEUE_FULL || st == PRODUCER_FATAL)
	{
		/*
		 * Nothing was enqueued: no delivery report will come for it.  A
		 * dead producer does not refuse the record either: the frame waits,
		 * and the caller, seeing producer_fatal, recreates the producer and
		 * replays from the last confirmed position.
		 */
		lsn_tracker_cancel(r->tracker, opaque & RECORD_ID_MASK);
		if (hdrs)
			rd_kafka_headers_destroy(hdrs);
		return RECORDS_WAIT;
	}

	/*
	 * Refused at once (too large for the client, ...): a permanent failure
	 * of this record, under the same policy as a failed delivery.
	 */
	r->stats.delivery_errors++;
	if (!(opaque & (SCHEMA_RECORD_BIT | CONTROL_RECORD_BIT)) &&
		r->cfg->on_error == RELAY_ON_ERROR_DEAD_LETTER &&
		r->cfg->dead_letter_topic && strcmp(topic, r->cfg->dead_letter_topic) != 0)
	{
		relay_log(RELAY_LOG_WARNING, "%s: sent to dead-letter topic \"%s\"", err,
				  r->cfg->dead_letter_topic);
		lsn_tracker_cancel(r->tracker, opaque);
		if (hdrs == NULL)
			hdrs = rd_kafka_headers_new(2);
		rd_kafka_header_add(hdrs, "wal2avro.error", -1, err, -1);
		rd_kafka_header_add(hdrs, "wal2avro.topic", -1, topic, -1);
		rc = send_record(r, r->cfg->dead_letter_topic, key, keylen, value, valuelen,
						 hdrs, lsn_tracker_add(r->tracker), err, errlen);
		if (rc == RECORDS_OK)
			r->last_dead_lettered = true;
		return rc;
	}
	if (hdrs)
		rd_kafka_headers_destroy(hdrs);
	lsn_tracker_fail(r->tracker, opaque & RECORD_ID_MASK);
	r->failed = true;
	snprintf(r->fail_msg, sizeof(r->fail_msg), "%s", err);
	return RECORDS_FAILED;
}

/* Produce a schema to the schema topic; it becomes SCHEMA_ID_SENT. */
static RecordsResult
send_schema(Records *r, SchemaId *s, const char *schema, size_t schema_len,
			const char *table, size_t table_len, char *err, size_t errlen)
{
	char		key[17];
	rd_kafka_headers_t *hdrs;
	RecordsResult rc;

	snprintf(key, sizeof(key), "%016" PRIx64, s->fp);
	hdrs = rd_kafka_headers_new(2);
	rd_kafka_header_add(hdrs, "wal2avro.schema", -1, schema, schema_len);
	rd_kafka_header_add(hdrs, "wal2avro.table", -1, table, table_len);
	rc = send_record(r, r->cfg->schema_topic, key, 16, s->text, s->len, hdrs,
					 lsn_tracker_add(r->tracker) | SCHEMA_RECORD_BIT, err, errlen);
	if (rc == RECORDS_OK)
		s->state = SCHEMA_ID_SENT;
	return rc;
}

/*
 * Stop on a schema whose fingerprint already names another text.  The
 * transaction being read never becomes safe (a failed record in the
 * tracker), so nothing at or past it is confirmed.  Returns RECORDS_FAILED.
 */
static RecordsResult
refuse_schema(Records *r, const SchemaId *known, const char *which,
			  const FrameBytes *schema, const FrameBytes *table, char *err, size_t errlen)
{
	uint64_t	id = lsn_tracker_add(r->tracker);

	if (id != LSN_TRACKER_NO_ID)
		lsn_tracker_fail(r->tracker, id);
	r->failed = true;
	if (!known->from_topic)
	{
		snprintf(r->fail_msg, sizeof(r->fail_msg),
				 "%s schema of table \"%.*s.%.*s\" has fingerprint %016" PRIx64 ", which an earlier schema of this stream has with a different text: refusing it",
				 which, FRAME_BYTES_ARGS(*schema), FRAME_BYTES_ARGS(*table), known->fp);
		snprintf(r->fail_hint, sizeof(r->fail_hint),
				 "Nothing from this schema on was confirmed. One fingerprint must name one schema; check that the server runs the wal2avro plugin of this relay's version.");
	}
	else
	{
		snprintf(r->fail_msg, sizeof(r->fail_msg),
				 "%s schema of table \"%.*s.%.*s\" has fingerprint %016" PRIx64 ", which schema topic \"%s\" holds with %s: refusing to publish it",
				 which, FRAME_BYTES_ARGS(*schema), FRAME_BYTES_ARGS(*table), known->fp,
				 r->cfg->schema_topic,
				 known->ambiguous ? "more than one text" : "a different text");
		snprintf(r->fail_hint, sizeof(r->fail_hint),
				 "Nothing from this schema on was confirmed. Consumers would read records of both schemas with the text the topic keeps; find out what wrote key %016" PRIx64 " to the schema topic before changing it, or use a new schema-topic.",
				 known->fp);
	}
	snprintf(err, errlen, "%s", r->fail_msg);
	return RECORDS_FAILED;
}

/*
 * Make one schema (key or value) known under its fingerprint and have it on
 * the broker: published unless the schema topic or this process already
 * has these bytes under fp; refused when it has others.
 */
static RecordsResult
publish_schema(Records *r, uint64_t fp, FrameBytes json, const char *which,
			   const FrameBytes *schema, const FrameBytes *table, char *err, size_t errlen)
{
	SchemaId   *s;

	if (fp == 0)
		return RECORDS_OK;
	switch (schema_ids_use(&r->schemas, fp, json.data, json.len, &s))
	{
		case SCHEMA_IDS_NO_MEMORY:
			snprintf(err, errlen, "out of memory");
			return RECORDS_ERROR;
		case SCHEMA_IDS_CONFLICT:
			return refuse_schema(r, s, which, schema, table, err, errlen);
		case SCHEMA_IDS_NEW:
		case SCHEMA_IDS_SAME:
			break;
	}
	if (s->state != SCHEMA_ID_UNPUBLISHED)
		return RECORDS_OK;
	return send_schema(r, s, (const char *) schema->data, schema->len,
					   (const char *) table->data, table->len, err, errlen);
}

static RecordsResult
handle_schema(Records *r, const Frame *f, char *err, size_t errlen)
{
	RelEntry   *e = rel_find(r, f->schema.relid, true);
	char		topic[TOPIC_MAX];
	RecordsResult rc;

	if (e == NULL)
	{
		snprintf(err, errlen, "out of memory");
		return RECORDS_ERROR;
	}
	/* publish first: a retry after RECORDS_WAIT finds the entry unchanged */
	rc = publish_schema(r, f->schema.key_fingerprint, f->schema.key_schema, "key",
						&f->schema.schema_name, &f->schema.table_name, err, errlen);
	if (rc == RECORDS_OK)
		rc = publish_schema(r, f->schema.value_fingerprint, f->schema.value_schema, "value",
							&f->schema.schema_name, &f->schema.table_name, err, errlen);
	if (rc != RECORDS_OK)
		return rc;

	free(e->schema);
	free(e->table);
	free(e->topic);
	e->schema = dup_bytes(f->schema.schema_name);
	e->table = dup_bytes(f->schema.table_name);
	e->topic = NULL;
	e->key_fp = f->schema.key_fingerprint;
	e->value_fp = f->schema.value_fingerprint;
	if (e->schema == NULL || e->table == NULL)
	{
		snprintf(err, errlen, "out of memory");
		return RECORDS_ERROR;
	}
	metrics_table_init(&e->metrics, r->metrics, e->schema, e->table);
	if (!r->template_has_op)
	{
		if (config_expand_topic(r->cfg, e->schema, e->table, NULL, topic, sizeof(topic)) < 0)
		{
			snprintf(err, errlen, "topic name for table \"%s.%s\" is too long", e->schema, e->table);
			return RECORDS_ERROR;
		}
		e->topic = strdup(topic);
	}
	return RECORDS_OK;
}

static rd_kafka_headers_t *
change_headers(Records *r, const Frame *f, const RelEntry *e, char op)
{
	rd_kafka_headers_t *hdrs = rd_kafka_headers_new(5);
	char		buf[64];
	int			n;

	n = snprintf(buf, sizeof(buf), LSN_FMT, LSN_ARGS(f->change.lsn));
	rd_kafka_header_add(hdrs, "wal2avro.lsn", -1, buf, n);
	n = snprintf(buf, sizeof(buf), "%" PRIu32, r->xid);
	rd_kafka_header_add(hdrs, "wal2avro.xid", -1, buf, n);
	rd_kafka_header_add(hdrs, "wal2avro.op", -1, &op, 1);
	n = snprintf(buf, sizeof(buf), "%" PRId64, r->commit_time / 1000);
	rd_kafka_header_add(hdrs, "wal2avro.commit_ts_ms", -1, buf, n);
	rd_kafka_header_add(hdrs, "wal2avro.schema", -1, e->schema, -1);
	rd_kafka_header_add(hdrs, "wal2avro.table", -1, e->table, -1);
	return hdrs;
}

static RecordsResult
handle_change(Records *r, const Frame *f, int *stage, char *err, size_t errlen)
{
	RelEntry   *e = rel_find(r, f->change.relid, false);
	SchemaId   *ks,
			   *vs;
	char		topic_buf[TOPIC_MAX];
	const char *topic;
	size_t		keylen = 0,
				valuelen;
	uint64_t	id;
	RecordsResult rc;
	char		op = f->change.op;

	if (e == NULL || e->value_fp != f->change.value_fingerprint ||
		e->key_fp != f->change.key_fingerprint)
	{
		snprintf(err, errlen, "change for relation %" PRIu32 " at " LSN_FMT " has no schema frame before it",
				 f->change.relid, LSN_ARGS(f->change.lsn));
		return RECORDS_ERROR;
	}
	/* the schemas must be on the broker before a record that uses them */
	ks = schema_ids_find(&r->schemas, e->key_fp);
	vs = schema_ids_find(&r->schemas, e->value_fp);
	if (ks && ks->state == SCHEMA_ID_UNPUBLISHED &&
		(rc = send_schema(r, ks, e->schema, strlen(e->schema), e->table, strlen(e->table),
						  err, errlen)) != RECORDS_OK)
		return rc;
	if (vs && vs->state == SCHEMA_ID_UNPUBLISHED &&
		(rc = send_schema(r, vs, e->schema, strlen(e->schema), e->table, strlen(e->table),
						  err, errlen)) != RECORDS_OK)
		return rc;
	if ((ks && ks->state != SCHEMA_ID_ON_BROKER) || (vs && vs->state != SCHEMA_ID_ON_BROKER))
		return RECORDS_WAIT;

	r->cur_metrics = &e->metrics;
	r->cur_op = op;
	if (e->topic)
		topic = e->topic;
	else
	{
		char		opname[2] = {op, '\0'};

		if (config_expand_topic(r->cfg, e->schema, e->table, opname, topic_buf,
								sizeof(topic_buf)) < 0)
		{
			snprintf(err, errlen, "topic name for table \"%s.%s\" is too long", e->schema, e->table);
			return RECORDS_ERROR;
		}
		topic = topic_buf;
	}

	if (!ensure_buf(r, 20 + (size_t) f->change.key.len + f->change.value.len))
	{
		snprintf(err, errlen, "out of memory");
		return RECORDS_ERROR;
	}
	if (f->change.has_key)
		keylen = single_object(r->buf, f->change.key_fingerprint, f->change.key);
	valuelen = single_object(r->buf + keylen, f->change.value_fingerprint, f->change.value);

	if (*stage == 0)
	{
		r->last_dead_lettered = false;
		id = lsn_tracker_add(r->tracker);
		rc = send_record(r, topic, f->change.has_key ? r->buf : NULL, keylen,
						 r->buf + keylen, valuelen, change_headers(r, f, e, op),
						 id, err, errlen);
		if (rc != RECORDS_OK)
			return rc;
		*stage = 1;
	}
	/* a delete is followed by a tombstone, so compaction removes the key */
	if (*stage == 1 && op == W2A_OP_DELETE && f->change.has_key && r->cfg->tombstones)
	{
		rd_kafka_headers_t *hdrs;

		/*
		 * The tombstone goes where its delete went: to the dead-letter
		 * topic when the delete was refused.  While isolating, that is
		 * known once the delete is reported.
		 *
		 * XXX Outside isolation the tombstone is produced before the
		 * delete's report; when the broker refuses a batch that ends with
		 * the delete, its tombstone (in the next batch) may reach the table
		 * topic before the replay sends both to the dead-letter topic.
		 */
		if (r->isolating && r->unreported > 0)
			return RECORDS_WAIT;
		hdrs = change_headers(r, f, e, op);
		if (r->last_dead_lettered)
		{
			rd_kafka_header_add(hdrs, "wal2avro.error", -1,
								"the delete before this tombstone went to the dead-letter topic", -1);
			rd_kafka_header_add(hdrs, "wal2avro.topic", -1, topic, -1);
			topic = r->cfg->dead_letter_topic;
		}
		id = lsn_tracker_add(r->tracker);
		rc = send_record(r, topic, r->buf, keylen, NULL, 0, hdrs, id, err, errlen);
		if (rc != RECORDS_OK)
			return rc;
	}
	*stage = 2;
	return RECORDS_OK;
}

/*
 * Leave isolation once the replay has read through the last transaction
 * produced before the refusal and its last record is reported (so it
 * cannot share a batch with the next).  Returns RECORDS_WAIT while that
 * record is in flight, RECORDS_OK otherwise.
 */
static RecordsResult
end_isolation(Records *r)
{
	if (!r->isolating || r->done_commit_lsn < r->isolate_until)
		return RECORDS_OK;
	if (r->unreported > 0)
		return RECORDS_WAIT;
	r->isolating = false;
	relay_log(RELAY_LOG_INFO, "replayed one record at a time through " LSN_FMT ": batching again",
			  LSN_ARGS(r->isolate_until));
	return RECORDS_OK;
}

static RecordsResult
handle_message(Records *r, const Frame *f, int *stage, char *err, size_t errlen)
{
	char		topic[TOPIC_MAX];
	rd_kafka_headers_t *hdrs;
	char		buf[64];
	int			n;
	uint64_t	id;
	RecordsResult rc;
	bool		alone = !f->message.transactional;
	bool		heartbeat;

	/* a message outside any transaction is a transaction of one record */
	if (alone && *stage == 0)
	{
		if (end_isolation(r) != RECORDS_OK)
			return RECORDS_WAIT;
		r->txn_commit_lsn = f->message.lsn;
		if (lsn_tracker_begin(r->tracker, f->message.lsn) != LSN_TRACKER_OK)
		{
			snprintf(err, errlen, "non-transactional message inside a transaction at " LSN_FMT,
					 LSN_ARGS(f->message.lsn));
			return RECORDS_ERROR;
		}
		*stage = 1;
	}
	heartbeat = f->message.prefix.len == strlen(HEARTBEAT_PREFIX) &&
		memcmp(f->message.prefix.data, HEARTBEAT_PREFIX, f->message.prefix.len) == 0;
	if (heartbeat && r->cfg->heartbeat_topic)
		snprintf(topic, sizeof(topic), "%s", r->cfg->heartbeat_topic);
	else if (heartbeat)
		snprintf(topic, sizeof(topic), "__wal2avro-heartbeat.%s", r->cfg->topic_prefix);
	else
		snprintf(topic, sizeof(topic), "%s.messages", r->cfg->topic_prefix);
	r->cur_metrics = &r->message_metrics[heartbeat];
	r->cur_op = 'm';
	id = lsn_tracker_add(r->tracker);
	hdrs = rd_kafka_headers_new(2);
	n = snprintf(buf, sizeof(buf), LSN_FMT, LSN_ARGS(f->message.lsn));
	rd_kafka_header_add(hdrs, "wal2avro.lsn", -1, buf, n);
	rd_kafka_header_add(hdrs, "wal2avro.transactional", -1, alone ? "false" : "true", -1);
	rc = send_record(r, topic, f->message.prefix.data, f->message.prefix.len,
					 f->message.has_content ? f->message.content.data : (const uint8_t *) "",
					 f->message.has_content ? f->message.content.len : 0, hdrs, id, err, errlen);
	if (alone && rc == RECORDS_OK)
	{
		lsn_tracker_commit(r->tracker, f->message.lsn);
		r->done_commit_lsn = f->message.lsn;
	}
	return rc;
}

/* Remember a committed transaction until it is acknowledged (for latency). */
static void
push_commit(Records *r, Lsn end_lsn, int64_t commit_time)
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
records_note_safe(Records *r, Lsn safe, int64_t now_epoch_us)
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
records_oldest_pending_commit(const Records *r)
{
	return r->commit_count > 0 ? r->commits[r->commit_head].commit_time : 0;
}

void
records_set_metrics(Records *r, Metrics *m)
{
	r->metrics = m;
	metrics_table_init(&r->message_metrics[0], m, "", "messages");
	metrics_table_init(&r->message_metrics[1], m, "", "heartbeat");
}

/*
 * Act on one frame.  *stage is the caller's resume point for this frame,
 * 0 on first call: a frame that returned RECORDS_WAIT is given again, with
 * the same stage, once events were served.  Returns RECORDS_OK (done with
 * the frame), RECORDS_WAIT (the producer queue is full, a schema is not
 * acknowledged yet, or the producer is dead: producer_fatal says so, and the
 * frame must then be replayed with a new producer) or RECORDS_ERROR with a
 * message in err (a frame out of order or without schema, out of memory, a
 * produce error): the stream must then be restarted from the last confirmed
 * position.
 */
RecordsResult
records_handle_frame(Records *r, const Frame *f, int *stage, char *err, size_t errlen)
{
	switch (f->kind)
	{
		case W2A_FRAME_BEGIN:
			if (end_isolation(r) != RECORDS_OK)
				return RECORDS_WAIT;
			if (lsn_tracker_begin(r->tracker, f->begin.commit_lsn) != LSN_TRACKER_OK)
			{
				snprintf(err, errlen, "BEGIN inside a transaction at " LSN_FMT,
						 LSN_ARGS(f->begin.commit_lsn));
				return RECORDS_ERROR;
			}
			r->in_txn = true;
			r->txn_commit_lsn = f->begin.commit_lsn;
			r->xid = f->begin.xid;
			r->commit_time = f->begin.commit_time;
			r->txn_records = 0;
			return RECORDS_OK;
		case W2A_FRAME_SCHEMA:
			return handle_schema(r, f, err, errlen);
		case W2A_FRAME_CHANGE:
			return handle_change(r, f, stage, err, errlen);
		case W2A_FRAME_TRUNCATE:
			/* Debezium leaves truncates out by default; so do we */
			return RECORDS_OK;
		case W2A_FRAME_MESSAGE:
			return handle_message(r, f, stage, err, errlen);
		case W2A_FRAME_COMMIT:
			if (lsn_tracker_commit(r->tracker, f->commit.end_lsn) != LSN_TRACKER_OK)
			{
				snprintf(err, errlen, "COMMIT outside a transaction at " LSN_FMT,
						 LSN_ARGS(f->commit.end_lsn));
				return RECORDS_ERROR;
			}
			r->in_txn = false;
			r->done_commit_lsn = r->txn_commit_lsn;
			(void) end_isolation(r);
			r->stats.transactions++;
			r->stats.last_commit_time = f->commit.commit_time;
			if (r->txn_records > 0)
				push_commit(r, f->commit.end_lsn, f->commit.commit_time);
			return RECORDS_OK;
	}
	snprintf(err, errlen, "unknown frame kind 0x%02x", (unsigned char) f->kind);
	return RECORDS_ERROR;
}

/*
 * Produce one control record (text key and value, no headers) in the open
 * tracker transaction: a snapshot marker on the state topic.  It is not
 * counted as a change record, and never goes to the dead-letter topic.
 * Returns RECORDS_OK, RECORDS_WAIT (queue full: serve events, call again),
 * RECORDS_FAILED or RECORDS_ERROR (no open transaction) as for a frame.
 */
RecordsResult
records_send_control(Records *r, const char *topic, const char *key, const char *value,
					 char *err, size_t errlen)
{
	uint64_t	id = lsn_tracker_add(r->tracker);

	if (id == LSN_TRACKER_NO_ID)
	{
		snprintf(err, errlen, "control record for topic \"%s\" outside a transaction", topic);
		return RECORDS_ERROR;
	}
	return send_record(r, topic, key, strlen(key), value, strlen(value), NULL,
					   id | CONTROL_RECORD_BIT, err, errlen);
}

/*
 * Produce one record (text key and value, no headers) outside the tracker:
 * the relay's position on the state topic.  Its acknowledgement only raises
 * records_untracked_acked to "tag" (at least 1, below 2^61, increasing); a
 * failed delivery fails the run as a change record's does under
 * on-error=stop.  Returns RECORDS_OK, RECORDS_WAIT (queue full: serve
 * events, call again) or RECORDS_FAILED with a message in err.
 */
RecordsResult
records_send_untracked(Records *r, const char *topic, const char *key, const char *value,
					   uint64_t tag, char *err, size_t errlen)
{
	size_t		keylen = strlen(key),
				valuelen = strlen(value);
	ProducerStatus st;

	st = producer_send(r->producer, topic, key, keylen, value, valuelen, NULL,
					   (void *) (uintptr_t) ((tag & RECORD_ID_MASK) | UNTRACKED_RECORD_BIT),
					   err, errlen);
	if (st == PRODUCER_QUEUE_FULL)
		return RECORDS_WAIT;
	if (st != PRODUCER_OK)
	{
		r->stats.delivery_errors++;
		if (!r->failed)
		{
			r->failed = true;
			snprintf(r->fail_msg, sizeof(r->fail_msg), "%s", err);
			set_untracked_hint(r);
		}
		return RECORDS_FAILED;
	}
	r->stats.in_flight_bytes += keylen + valuelen + RECORD_OVERHEAD_BYTES;
	r->unreported++;
	return RECORDS_OK;
}

/* The highest tag of records_send_untracked acknowledged so far (0: none). */
uint64_t
records_untracked_acked(const Records *r)
{
	return r->untracked_acked;
}

static void
note_schema_cb(void *ctx, const rd_kafka_message_t *m)
{
	Records    *r = ctx;
	char		hex[17];
	uint64_t	fp;

	if (m->key_len != 16)
		return;					/* not written by a relay */
	memcpy(hex, m->key, 16);
	hex[16] = '\0';
	if (strspn(hex, "0123456789abcdef") != 16)
		return;
	fp = strtoull(hex, NULL, 16);
	if (schema_ids_note_topic(&r->schemas, fp, m->payload, m->payload ? m->len : 0) != 0)
		r->schema_topic_oom = true;
}

/*
 * Read the schema topic from its start to its end, once per process, so
 * that the fingerprints it holds are compared before one is used.  conf is
 * taken over.  Returns 0 (also when it was read before), or -1 with a
 * message in err when the topic could not be read to its end; then call
 * again later.
 */
int
records_read_schema_topic(Records *r, rd_kafka_conf_t *conf, char *err, size_t errlen)
{
	bool		complete = false;

	if (r->schema_topic_read)
	{
		rd_kafka_conf_destroy(conf);
		return 0;
	}
	r->schema_topic_oom = false;
	if (tail_read_topic(conf, r->cfg->schema_topic, note_schema_cb, r, &complete,
						err, errlen) != 0)
		return -1;
	if (r->schema_topic_oom)
	{
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (!complete)
	{
		snprintf(err, errlen, "the broker did not answer, or the read stopped before the end of the topic");
		return -1;
	}
	r->schema_topic_read = true;
	relay_log(RELAY_LOG_DEBUG, "schema topic \"%s\": %zu fingerprints known",
			  r->cfg->schema_topic, schema_ids_count(&r->schemas));
	return 0;
}

/*
 * Create the record builder for a tracker.  Call records_set_producer before
 * the first frame.  Returns NULL when out of memory.
 */
Records *
records_create(const RelayConfig *cfg, LsnTracker *tracker)
{
	Records    *r = calloc(1, sizeof(Records));

	if (r == NULL)
		return NULL;
	r->cfg = cfg;
	r->tracker = tracker;
	r->template_has_op = strstr(cfg->topic_template, "{op") != NULL;
	return r;
}

void
records_set_producer(Records *r, Producer *p)
{
	r->producer = p;
}

/*
 * While on, delivery reports change nothing but the byte count: for the
 * reports a producer being destroyed after a fatal error still serves (its
 * records are not confirmed and come again after the reconnect).
 */
void
records_discard_deliveries(Records *r, bool on)
{
	r->discarding = on;
	if (!on)
	{
		r->stats.in_flight_bytes = 0;
		r->unreported = 0;
	}
}

/* The delivery callback to give producer_create, with the Records as ctx. */
ProducerDeliveryFn
records_delivery_fn(void)
{
	return delivery;
}

/*
 * Forget per-stream state after a reconnect: the open transaction, and
 * whether schemas not yet acknowledged were sent (they are published
 * again; their texts stay).  Relations are kept; the server sends their
 * SCHEMA frames again anyway.
 */
void
records_reset(Records *r)
{
	r->replay_needed = false;
	r->in_txn = false;
	r->done_commit_lsn = INVALID_LSN;	/* an isolating replay starts over */
	r->commit_count = 0;		/* they come again */
	r->commit_head = 0;
	schema_ids_forget_unacknowledged(&r->schemas);
}

/*
 * Did a delivery fail under on-error=stop, or was a schema refused?  Then
 * err gets why.
 */
bool
records_failed(const Records *r, char *err, size_t errlen)
{
	if (r->failed)
		snprintf(err, errlen, "%s", r->fail_msg);
	return r->failed;
}

/*
 * The hint for the failure records_failed reports, when it has one of its
 * own (a refused schema); NULL otherwise.  Owned by r.
 */
const char *
records_failure_hint(const Records *r)
{
	return r->failed && r->fail_hint[0] ? r->fail_hint : NULL;
}

bool
records_replay_error(rd_kafka_resp_err_t err)
{
	switch (err)
	{
		case RD_KAFKA_RESP_ERR__DESTROY:	/* its partition went away */
		case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
		case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:	/* not (yet) in the metadata */
		case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:	/* message.timeout.ms set */
		case RD_KAFKA_RESP_ERR__TIMED_OUT:
		case RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE:
		case RD_KAFKA_RESP_ERR__TRANSPORT:
		case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
			return true;
		default:
			return false;
	}
}

bool
records_replay_needed(const Records *r, char *err, size_t errlen)
{
	if (r->replay_needed)
		snprintf(err, errlen, "%s", r->replay_why);
	return r->replay_needed;
}

/*
 * Did the broker refuse a batch under on-error=dead-letter?  Then err gets
 * why, and the caller must drop the producer (its other records are not
 * confirmed), call records_start_isolation and replay from the last
 * confirmed position.
 */
bool
records_isolation_needed(const Records *r, char *err, size_t errlen)
{
	if (r->isolation_needed)
		snprintf(err, errlen, "%s", r->isolation_why);
	return r->isolation_needed;
}

/*
 * From now on, produce one record at a time, each once the one before is
 * reported, through the end of the last transaction a record was produced
 * in; then batch again.  Call with no record in flight, before the replay.
 */
void
records_start_isolation(Records *r)
{
	r->isolation_needed = false;
	r->isolating = true;
	r->isolate_until = r->produced_commit_lsn;
	r->done_commit_lsn = INVALID_LSN;
}

/* Is a replay one record at a time under way? */
bool
records_isolating(const Records *r)
{
	return r->isolating;
}

const RecordsStats *
records_stats(const Records *r)
{
	return &r->stats;
}

void
records_free(Records *r)
{
	size_t		i;

	if (r == NULL)
		return;
	for (i = 0; i < r->rel_cap; i++)
	{
		if (r->rels[i].used)
		{
			free(r->rels[i].schema);
			free(r->rels[i].table);
			free(r->rels[i].topic);
		}
	}
	free(r->rels);
	schema_ids_free(&r->schemas);
	free(r->commits);
	free(r->buf);
	free(r);
}
