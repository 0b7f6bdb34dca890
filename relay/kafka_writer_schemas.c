/*-------------------------------------------------------------------------
 *
 * kafka_writer_schemas.c
 *		Schema publication for kafka_writer.c: every key and value schema goes to
 *		the schema topic before the first record that uses it.
 *
 * Every key and value schema is published to the schema topic (compacted,
 * keyed by the fingerprint in hex) and acknowledged before the first record
 * that uses it is produced, so a consumer can always find it.  A CHANGE
 * whose schema is not yet acknowledged waits (WRITER_WAIT) while the loop
 * keeps answering the server.  A fingerprint names one schema text: one the
 * schema topic already holds with these bytes is not published again, and
 * one it holds, or this process used, with other bytes stops the relay
 * (schema_ids.c says why).
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/kafka_writer_schemas.c
 *
 *-------------------------------------------------------------------------
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "frames.h"
#include "kafka_writer_internal.h"
#include "log.h"
#include "lsn_tracker.h"
#include "topic_reader.h"

/* Produce a schema to the schema topic; it becomes SCHEMA_ID_SENT. */
WriterResult
writer_send_schema(KafkaWriter *r, SchemaId *s, const char *schema, size_t schema_len,
					const char *table, size_t table_len, char *err, size_t errlen)
{
	char		key[17];
	rd_kafka_headers_t *hdrs;
	WriterResult rc;

	snprintf(key, sizeof(key), "%016" PRIx64, s->fp);
	hdrs = record_headers_schema(schema, schema_len, table, table_len);
	rc = writer_produce(r, r->cfg->schema_topic, NULL, key, 16, s->text, s->len, hdrs,
						 lsn_tracker_add(r->tracker) | SCHEMA_RECORD_BIT, err, errlen);
	if (rc == WRITER_OK)
		s->state = SCHEMA_ID_SENT;
	return rc;
}

/*
 * Stop on a schema whose fingerprint already names another text.  The
 * transaction being read never becomes safe (a failed record in the
 * tracker), so nothing at or past it is confirmed.  Returns WRITER_FAILED.
 */
static WriterResult
refuse_schema(KafkaWriter *r, const SchemaId *known, const char *which,
			  const FrameBytes *schema, const FrameBytes *table, char *err, size_t errlen)
{
	char		hint[sizeof(r->fail_hint)];

	if (!known->from_topic)
	{
		snprintf(r->fail_msg, sizeof(r->fail_msg),
				 "%s schema of table \"%.*s.%.*s\" has fingerprint %016" PRIx64 ", which an earlier schema of this stream has with a different text: refusing it",
				 which, FRAME_BYTES_ARGS(*schema), FRAME_BYTES_ARGS(*table), known->fp);
		snprintf(hint, sizeof(hint),
				 "Nothing from this schema on was confirmed. One fingerprint must name one schema; check that the server runs the wal2avro plugin of this relay's version.");
	}
	else
	{
		snprintf(r->fail_msg, sizeof(r->fail_msg),
				 "%s schema of table \"%.*s.%.*s\" has fingerprint %016" PRIx64 ", which schema topic \"%s\" holds with %s: refusing to publish it",
				 which, FRAME_BYTES_ARGS(*schema), FRAME_BYTES_ARGS(*table), known->fp,
				 r->cfg->schema_topic,
				 known->ambiguous ? "more than one text" : "a different text");
		snprintf(hint, sizeof(hint),
				 "Nothing from this schema on was confirmed. Consumers would read records of both schemas with the text the topic keeps; find out what wrote key %016" PRIx64 " to the schema topic before changing it, or use a new schema-topic.",
				 known->fp);
	}
	return writer_refuse(r, hint, err, errlen);
}

/*
 * Make one schema (key or value) known under its fingerprint and have it on
 * the broker: published unless the schema topic or this process already
 * has these bytes under fp; refused when it has others.
 */
WriterResult
writer_publish_schema(KafkaWriter *r, uint64_t fp, FrameBytes json, const char *which,
					   const FrameBytes *schema, const FrameBytes *table, char *err, size_t errlen)
{
	SchemaId   *s;

	if (fp == 0)
		return WRITER_OK;
	switch (schema_ids_use(&r->schemas, fp, json.data, json.len, &s))
	{
		case SCHEMA_IDS_NO_MEMORY:
			snprintf(err, errlen, "out of memory");
			return WRITER_ERROR;
		case SCHEMA_IDS_CONFLICT:
			return refuse_schema(r, s, which, schema, table, err, errlen);
		case SCHEMA_IDS_NEW:
		case SCHEMA_IDS_SAME:
			break;
	}
	if (s->state != SCHEMA_ID_UNPUBLISHED)
		return WRITER_OK;
	return writer_send_schema(r, s, (const char *) schema->data, schema->len,
							   (const char *) table->data, table->len, err, errlen);
}

static void
note_schema_cb(void *ctx, const rd_kafka_message_t *m)
{
	KafkaWriter    *r = ctx;
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
writer_read_schema_topic(KafkaWriter *r, rd_kafka_conf_t *conf, char *err, size_t errlen)
{
	bool		complete = false;

	if (r->schema_topic_read)
	{
		rd_kafka_conf_destroy(conf);
		return 0;
	}
	r->schema_topic_oom = false;
	if (topic_reader_read(conf, r->cfg->schema_topic, note_schema_cb, r, &complete,
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
