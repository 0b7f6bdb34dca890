/*-------------------------------------------------------------------------
 *
 * kafka_writer_changes.c
 *		A CHANGE frame to its Kafka records: the topic, the key and value in
 *		their formats (Avro single-object or Confluent's wire format, or
 *		Kafka Connect's JSON), the headers, the tombstone after a delete;
 *		and producing one record under the on-error policy.
 *
 * This is the relay's hot path: everything a change needs per row is here,
 * static and in one file, so the compiler inlines it.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/kafka_writer_changes.c
 *
 *-------------------------------------------------------------------------
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "config.h"
#include "connect_json.h"
#include "flat_deletes.h"
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

/* ------------------------------------------------------------------------
 * Encodings
 * ------------------------------------------------------------------------
 */

/* r->buf holds at least need bytes after it; false: out of memory */
static bool
ensure_buf(KafkaWriter *r, size_t need)
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

/* Confluent's wire format: zero, the registry's schema id, the datum */
static size_t
confluent(uint8_t *out, uint32_t id, FrameBytes datum)
{
	registry_header(out, id);
	memcpy(out + REGISTRY_HEADER_LEN, datum.data, datum.len);
	return REGISTRY_HEADER_LEN + (size_t) datum.len;
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

/*
 * Stop on a failure that would repeat at every replay, r->fail_msg saying
 * what: the transaction being read never becomes safe (a failed record in
 * the tracker), so nothing at or past it is confirmed.  Returns
 * WRITER_FAILED with the message in err.
 */
WriterResult
writer_refuse(KafkaWriter *r, const char *hint, char *err, size_t errlen)
{
	uint64_t	id = lsn_tracker_add(r->tracker);

	if (id != LSN_TRACKER_NO_ID)
		lsn_tracker_fail(r->tracker, id);
	r->failed = true;
	snprintf(r->fail_hint, sizeof(r->fail_hint), "%s", hint);
	snprintf(err, errlen, "%s", r->fail_msg);
	return WRITER_FAILED;
}

/*
 * The JSON of one key or value datum into out (emptied first), as Kafka
 * Connect's JsonConverter writes Debezium's record.  A datum that does not
 * match its schema stops the stream.
 */
static WriterResult
render_json(KafkaWriter *r, const RelEntry *e, const char *which, const ConnectJson *cj,
			bool schemas, FrameBytes datum, JsonOut *out, char *err, size_t errlen)
{
	char		why[256];

	out->len = 0;
	out->failed = false;
	if (cj == NULL)
	{
		snprintf(err, errlen, "%s of table \"%s.%s\" has no schema", which, e->schema, e->table);
		return WRITER_ERROR;
	}
	if (connect_json_render(cj, datum.data, datum.len, schemas, out,
							why, sizeof(why)) == 0)
		return WRITER_OK;
	if (out->failed)
	{
		snprintf(err, errlen, "out of memory");
		return WRITER_ERROR;
	}
	snprintf(r->fail_msg, sizeof(r->fail_msg), "%s of table \"%.64s.%.64s\" cannot be written as JSON: %s",
			 which, e->schema, e->table, why);
	return writer_refuse(r, "Nothing from this record on was confirmed. The plugin and the relay "
						 "disagree on the record: check that both are of the same version.", err, errlen);
}

/* ------------------------------------------------------------------------
 * Producing
 * ------------------------------------------------------------------------
 */

/*
 * Produce one record that lsn_tracker_add gave the id in opaque to, to
 * topic, through its handle rkt when the caller has one (NULL: by name).
 * On failure the tracker forgets the record again (lsn_tracker_cancel), so
 * a retry adds it anew.  hdrs is consumed either way.  While isolating, a
 * record waits (WRITER_WAIT) until the one before it is reported.
 */
WriterResult
writer_produce(KafkaWriter *r, const char *topic, rd_kafka_topic_t *rkt, const void *key, size_t keylen,
				const void *value, size_t valuelen, rd_kafka_headers_t *hdrs,
				uint64_t opaque, char *err, size_t errlen)
{
	ProducerStatus st;
	WriterResult rc;

	if (r->isolating && r->unreported > 0)
		st = PRODUCER_QUEUE_FULL;
	else if (rkt)
		st = producer_send_to(r->producer, rkt, key, keylen, value, valuelen,
							  hdrs, (void *) (uintptr_t) opaque, err, errlen);
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
		return WRITER_OK;
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
		return WRITER_WAIT;
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
		hdrs = record_headers_add_failure(hdrs, err, topic);
		rc = writer_produce(r, r->cfg->dead_letter_topic, NULL, key, keylen, value, valuelen,
							 hdrs, lsn_tracker_add(r->tracker), err, errlen);
		if (rc == WRITER_OK)
			r->last_dead_lettered = true;
		return rc;
	}
	if (hdrs)
		rd_kafka_headers_destroy(hdrs);
	lsn_tracker_fail(r->tracker, opaque & RECORD_ID_MASK);
	r->failed = true;
	snprintf(r->fail_msg, sizeof(r->fail_msg), "%s", err);
	return WRITER_FAILED;
}

/* ------------------------------------------------------------------------
 * Changes
 * ------------------------------------------------------------------------
 */

/*
 * The change's topic: the relation's, or for a template with {op} this op's
 * in topic_buf (TOPIC_MAX bytes); *rkt gets the relation's topic handle, or
 * NULL to produce by name.  NULL after a message in err.
 */
static const char *
change_topic(KafkaWriter *r, RelEntry *e, char op, char *topic_buf, rd_kafka_topic_t **rkt,
			 char *err, size_t errlen)
{
	char		opname[2] = {op, '\0'};

	*rkt = NULL;
	if (e->topic)
	{
		/* looked up once per relation and producer (writer_set_producer) */
		if (e->rkt == NULL)
			e->rkt = producer_topic(r->producer, e->topic);
		*rkt = e->rkt;
		return e->topic;
	}
	if (config_expand_topic(r->cfg, e->schema, e->table, opname, topic_buf, TOPIC_MAX, NULL) < 0)
	{
		snprintf(err, errlen, "topic name for table \"%s.%s\" is too long", e->schema, e->table);
		return NULL;
	}
	return topic_buf;
}

/*
 * A change's key (NULL when the table has none) and value, each in its
 * format: Avro in the single-object encoding, or Confluent's wire format
 * with a registry (in r->buf); JSON (in r->json_key, r->json_value).
 */
static WriterResult
encode_change(KafkaWriter *r, RelEntry *e, const Frame *f, const char *topic,
			  const void **key, size_t *keylen, const void **value, size_t *valuelen,
			  char *err, size_t errlen)
{
	bool		avro_key = f->change.has_key && r->cfg->key_format == RELAY_FORMAT_AVRO;
	bool		avro_value = r->cfg->value_format == RELAY_FORMAT_AVRO;
	uint32_t	key_id = 0,
				value_id = 0;
	size_t		off = 0;
	WriterResult rc;

	*key = NULL;
	*keylen = 0;
	if (!ensure_buf(r, 20 + (size_t) f->change.key.len + f->change.value.len))
	{
		snprintf(err, errlen, "out of memory");
		return WRITER_ERROR;
	}
	if (r->registry && (avro_key || avro_value) &&
		(rc = writer_registry_ids(r, e, topic, avro_key, avro_value, &key_id, &value_id,
								  err, errlen)) != WRITER_OK)
		return rc;

	if (avro_key)
	{
		off = r->registry ? confluent(r->buf, key_id, f->change.key) :
			single_object(r->buf, f->change.key_fingerprint, f->change.key);
		*key = r->buf;
		*keylen = off;
	}
	else if (f->change.has_key)
	{
		if ((rc = render_json(r, e, "key", e->key_json, r->cfg->json_schemas, f->change.key,
							  &r->json_key, err, errlen)) != WRITER_OK)
			return rc;
		*key = r->json_key.data;
		*keylen = r->json_key.len;
	}

	if (avro_value)
	{
		*valuelen = r->registry ? confluent(r->buf + off, value_id, f->change.value) :
			single_object(r->buf + off, f->change.value_fingerprint, f->change.value);
		*value = r->buf + off;
	}
	else
	{
		if ((rc = render_json(r, e, "value", e->value_json, r->cfg->json_schemas, f->change.value,
							  &r->json_value, err, errlen)) != WRITER_OK)
			return rc;
		*value = r->json_value.data;
		*valuelen = r->json_value.len;
	}
	return WRITER_OK;
}

/*
 * With compat=debezium, the other key of one half of a key change (the new
 * key in the delete, the old in the create) in r->json_other_key, as the
 * header __debezium.newkey or oldkey carries it: Kafka Connect's default
 * header converter (SimpleHeaderConverter) writes the key's Struct as
 * compact JSON without a schema, whatever the key converter.  Emptied when
 * the change has no such header.
 */
static WriterResult
render_other_key(KafkaWriter *r, const RelEntry *e, const Frame *f, char *err, size_t errlen)
{
	r->json_other_key.len = 0;
	if (!f->change.key_change || r->cfg->compat != RELAY_COMPAT_DEBEZIUM)
		return WRITER_OK;
	return render_json(r, e, "key", e->key_json, false, f->change.other_key,
					   &r->json_other_key, err, errlen);
}

/* A change record's headers (and its tombstone's): wal2avro's, Debezium's */
static rd_kafka_headers_t *
change_headers(KafkaWriter *r, const RelEntry *e, const Frame *f)
{
	rd_kafka_headers_t *hdrs = record_headers_change(&r->txn_headers, f->change.lsn,
													 f->change.op, e->schema, e->schema_len,
													 e->table, e->table_len);

	if (r->json_other_key.len > 0)
		record_headers_add_key_change(hdrs, f->change.op, r->json_other_key.data,
									  r->json_other_key.len);
	return hdrs;
}

/*
 * A CHANGE frame inside a transaction: its record, then a delete's
 * tombstone; *stage says how far an earlier call that returned WRITER_WAIT
 * got (see writer_handle_frame).  Returns as writer_handle_frame does.
 */
WriterResult
writer_handle_change(KafkaWriter *r, const Frame *f, WriterStage *stage, char *err, size_t errlen)
{
	RelEntry   *e = writer_rel_lookup(r, f->change.relid);
	SchemaId   *ks,
			   *vs;
	char		topic_buf[TOPIC_MAX];
	const char *topic;
	rd_kafka_topic_t *rkt;
	const void *key,
			   *value;
	size_t		keylen,
				valuelen;
	uint64_t	id;
	WriterResult rc;
	char		op = f->change.op;

	if (e == NULL || e->value_fp != f->change.value_fingerprint ||
		e->key_fp != f->change.key_fingerprint)
	{
		snprintf(err, errlen, "change for relation %" PRIu32 " at " LSN_FMT " has no schema frame before it",
				 f->change.relid, LSN_ARGS(f->change.lsn));
		return WRITER_ERROR;
	}
	/* the schemas must be on the broker before a record that uses them */
	ks = schema_ids_find(&r->schemas, e->key_fp);
	vs = schema_ids_find(&r->schemas, e->value_fp);
	if (ks && ks->state == SCHEMA_ID_UNPUBLISHED &&
		(rc = writer_send_schema(r, ks, e->schema, e->schema_len, e->table, e->table_len,
								  err, errlen)) != WRITER_OK)
		return rc;
	if (vs && vs->state == SCHEMA_ID_UNPUBLISHED &&
		(rc = writer_send_schema(r, vs, e->schema, e->schema_len, e->table, e->table_len,
								  err, errlen)) != WRITER_OK)
		return rc;
	if ((ks && ks->state != SCHEMA_ID_ON_BROKER) || (vs && vs->state != SCHEMA_ID_ON_BROKER))
		return WRITER_WAIT;

	r->cur_metrics = &e->metrics;
	r->cur_op = op;
	if ((topic = change_topic(r, e, op, topic_buf, &rkt, err, errlen)) == NULL)
		return WRITER_ERROR;

	if ((rc = encode_change(r, e, f, topic, &key, &keylen, &value, &valuelen,
							err, errlen)) != WRITER_OK)
		return rc;

	if ((rc = render_other_key(r, e, f, err, errlen)) != WRITER_OK)
		return rc;
	if (op == W2A_OP_DELETE && !flat_deletes_keep_value(r->cfg->flat_deletes) &&
		!flat_deletes_value(r->cfg, e->value_json, &e->flat_null, &e->flat_null_len,
							&value, &valuelen))
	{
		snprintf(err, errlen, "out of memory");
		return WRITER_ERROR;
	}

	if (*stage == WRITER_STAGE_NONE)
	{
		r->last_dead_lettered = false;
		if ((rc = writer_txmeta_before(r, f->change.lsn, err, errlen)) != WRITER_OK)
			return rc;
		/* delete mode drop: no record, but an event of the transaction */
		if (op == W2A_OP_DELETE && r->cfg->flat_deletes == RELAY_FLAT_DROP)
		{
			*stage = WRITER_STAGE_CHANGE_DONE;
			return writer_txmeta_count(r, e, f->change.lsn, err, errlen);
		}
		id = lsn_tracker_add(r->tracker);
		rc = writer_produce(r, topic, rkt, key, keylen, value, valuelen,
							 change_headers(r, e, f), id, err, errlen);
		if (rc != WRITER_OK ||
			(rc = writer_txmeta_count(r, op == W2A_OP_MESSAGE ? NULL : e, f->change.lsn,
									  err, errlen)) != WRITER_OK)
			return rc;
		*stage = WRITER_STAGE_TOMBSTONE;
	}
	/*
	 * A delete is followed by a tombstone, so compaction removes the key;
	 * Debezium writes one for a table without a key too (a null key).
	 */
	if (*stage == WRITER_STAGE_TOMBSTONE && op == W2A_OP_DELETE && r->cfg->tombstones &&
		flat_deletes_tombstone(r->cfg->flat_deletes) &&
		(f->change.has_key || r->cfg->compat == RELAY_COMPAT_DEBEZIUM))
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
			return WRITER_WAIT;
		hdrs = change_headers(r, e, f);
		if (r->last_dead_lettered)
		{
			hdrs = record_headers_add_failure(hdrs, "the delete before this tombstone went to the dead-letter topic",
											  topic);
			topic = r->cfg->dead_letter_topic;
			rkt = NULL;
		}
		id = lsn_tracker_add(r->tracker);
		rc = writer_produce(r, topic, rkt, key, keylen, NULL, 0, hdrs, id, err, errlen);
		if (rc != WRITER_OK)
			return rc;
	}
	*stage = WRITER_STAGE_CHANGE_DONE;
	return WRITER_OK;
}
