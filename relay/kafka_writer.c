/*-------------------------------------------------------------------------
 *
 * kafka_writer.c
 *		From frames to Kafka records: topics, keys and values in Avro
 *		single-object encoding, tombstones, control records, and the
 *		transactions the LSN tracker follows.
 *
 * Every key and value schema is published to the schema topic and
 * acknowledged before the first record that uses it (kafka_writer_schemas.c): a
 * CHANGE whose schema is not yet acknowledged waits (WRITER_WAIT) while the
 * loop keeps answering the server.  The delivery reports, and what a failed
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
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "config.h"
#include "flat_deletes.h"
#include "frames.h"
#include "heartbeat.h"
#include "kafka_writer_internal.h"
#include "log.h"
#include "lsn.h"
#include "lsn_tracker.h"
#include "wal2avro_protocol.h"

/* ------------------------------------------------------------------------
 * Small tables
 * ------------------------------------------------------------------------
 */

static RelEntry *
rel_find(KafkaWriter *r, uint32_t relid, bool insert)
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

/* Avro single-object encoding: C3 01, fingerprint little-endian, datum */
/* Confluent's wire format: zero, the registry's schema id, the datum */
static size_t
confluent(uint8_t *out, uint32_t id, FrameBytes datum)
{
	registry_header(out, id);
	memcpy(out + REGISTRY_HEADER_LEN, datum.data, datum.len);
	return REGISTRY_HEADER_LEN + (size_t) datum.len;
}

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
 * --key-format/--value-format=json: compile the relation's key or value
 * schema for connect_json (the ConnectJson replaces *cj).  A schema it
 * cannot map stops the stream: it would at every replay.
 */
static WriterResult
compile_json(KafkaWriter *r, RelEntry *e, const char *which, FrameBytes schema,
			 ConnectJson **cj, char *err, size_t errlen)
{
	char		why[256];
	ConnectJson *c;

	connect_json_free(*cj);
	*cj = NULL;
	if (schema.len == 0)
		return WRITER_OK;		/* a table without a key */
	if ((c = connect_json_new((const char *) schema.data, schema.len, why, sizeof(why))) == NULL)
	{
		snprintf(r->fail_msg, sizeof(r->fail_msg),
				 "%s schema of table \"%.64s.%.64s\" cannot be written as JSON: %s",
				 which, e->schema, e->table, why);
		return writer_refuse(r, "Nothing from this schema on was confirmed. Write this table in "
							 "the avro format, or leave it out of the publication.", err, errlen);
	}
	*cj = c;
	return WRITER_OK;
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

/* The topic of compat=debezium's messages (malloc'd; NULL: out of memory) */
static char *
message_topic(const KafkaWriter *r)
{
	char		topic[TOPIC_MAX];

	snprintf(topic, sizeof(topic), "%s.message", r->cfg->topic_prefix);
	return strdup(topic);
}

static WriterResult
handle_schema(KafkaWriter *r, const Frame *f, char *err, size_t errlen)
{
	RelEntry   *e = rel_find(r, f->schema.relid, true);
	char		topic[TOPIC_MAX];
	char	   *old_topic;
	bool		adjusted = false;
	WriterResult rc;

	if (e == NULL)
	{
		snprintf(err, errlen, "out of memory");
		return WRITER_ERROR;
	}
	/* publish first: a retry after WRITER_WAIT finds the entry unchanged */
	rc = writer_publish_schema(r, f->schema.key_fingerprint, f->schema.key_schema, "key",
								&f->schema.schema_name, &f->schema.table_name, err, errlen);
	if (rc == WRITER_OK)
		rc = writer_publish_schema(r, f->schema.value_fingerprint, f->schema.value_schema, "value",
									&f->schema.schema_name, &f->schema.table_name, err, errlen);
	if (rc != WRITER_OK)
		return rc;

	free(e->schema);
	free(e->table);
	old_topic = e->topic;
	e->schema = dup_bytes(f->schema.schema_name);
	e->schema_len = f->schema.schema_name.len;
	e->table = dup_bytes(f->schema.table_name);
	e->table_len = f->schema.table_name.len;
	e->topic = NULL;
	e->key_fp = f->schema.key_fingerprint;
	e->value_fp = f->schema.value_fingerprint;
	e->registry_ids_known = false;	/* another schema, or another topic */
	if (e->schema == NULL || e->table == NULL)
	{
		snprintf(err, errlen, "out of memory");
		rc = WRITER_ERROR;
	}
	else if (f->schema.relid == W2A_MESSAGE_RELID)
		/* compat=debezium's messages: Debezium's <prefix>.message */
		e->topic = message_topic(r);
	else if (config_expand_topic(r->cfg, e->schema, e->table, NULL, topic, sizeof(topic),
								 &adjusted) < 0)
	{
		snprintf(err, errlen, "topic name for table \"%s.%s\" is too long", e->schema, e->table);
		rc = WRITER_ERROR;
	}
	else
	{
		if (adjusted && (old_topic == NULL || strcmp(old_topic, topic) != 0))
			relay_log(RELAY_LOG_WARNING,
					  "table \"%s.%s\": its topic name has characters or a length Kafka does not accept; writing to \"%s\"%s",
					  e->schema, e->table, topic, r->template_has_op ? " (with {op} expanded)" : "");
		if (!r->template_has_op)
			e->topic = strdup(topic);	/* NULL: expanded at every record */
	}
	if (rc == WRITER_OK)
		metrics_table_init(&e->metrics, r->metrics, e->schema, e->table);
	/* with compat=debezium a key change's headers carry the other key as text */
	if (rc == WRITER_OK &&
		(r->cfg->key_format == RELAY_FORMAT_JSON || r->cfg->compat == RELAY_COMPAT_DEBEZIUM))
		rc = compile_json(r, e, "key", f->schema.key_schema, &e->key_json, err, errlen);
	free(e->flat_null);
	e->flat_null = NULL;
	if (rc == WRITER_OK && r->cfg->value_format == RELAY_FORMAT_JSON)
		rc = compile_json(r, e, "value", f->schema.value_schema, &e->value_json, err, errlen);

	/*
	 * The same topic again (a SCHEMA frame after a reconnect or DDL) keeps
	 * its handle: the producer makes one per request and keeps them all.
	 */
	if (e->topic == NULL || old_topic == NULL || strcmp(e->topic, old_topic) != 0)
		e->rkt = NULL;
	free(old_topic);
	return rc;
}

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

WriterResult
writer_handle_change(KafkaWriter *r, const Frame *f, WriterStage *stage, char *err, size_t errlen)
{
	RelEntry   *e = rel_find(r, f->change.relid, false);
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
			return handle_schema(r, f, err, errlen);
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
