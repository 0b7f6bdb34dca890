/*-------------------------------------------------------------------------
 *
 * kafka_writer_registry.c
 *		The Schema Registry ids of a change record's key and value, for the
 *		Confluent wire format (--schema-registry).
 *
 * Subjects follow Confluent's TopicNameStrategy: "<topic>-key" and
 * "<topic>-value".  A table's ids are kept in its RelEntry until its next
 * SCHEMA frame, so a record costs no lookup; with {op} in the topic
 * template the topic differs by op and the registry client's cache answers.
 * The registry unreachable: WRITER_WAIT (the record waits, nothing past it
 * is confirmed).  The registry refusing the schema: the stream fails, as for
 * a schema the schema topic refuses, naming table and subject.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/kafka_writer_registry.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <string.h>

#include "kafka_writer_internal.h"

/*
 * The registry's id of a key or value ("which") schema, fingerprint fp,
 * under the subject "<topic>-<which>".  Returns WRITER_OK, WRITER_WAIT
 * while the registry cannot be reached, or WRITER_FAILED when it refuses
 * the schema: the stream stops (writer_refuse) with a message naming what
 * the schema is of ("table \"s.t\"", "the transaction topic") and the
 * subject.
 */
WriterResult
writer_registry_id(KafkaWriter *r, const char *topic, const char *which, const char *what,
				   uint64_t fp, const char *schema, size_t len, uint32_t *id,
				   char *err, size_t errlen)
{
	char		subject[TOPIC_MAX + 8];
	char		why[768];

	snprintf(subject, sizeof(subject), "%s-%s", topic, which);
	switch (registry_id(r->registry, subject, fp, schema, len, id, why, sizeof(why)))
	{
		case REGISTRY_OK:
			return WRITER_OK;
		case REGISTRY_RETRY:
			return WRITER_WAIT;
		case REGISTRY_REFUSED:
			break;
	}
	snprintf(r->fail_msg, sizeof(r->fail_msg), "%s schema of %s (subject \"%.100s\"): %.200s",
			 which, what, subject, why);
	return writer_refuse(r, registry_refusal_hint(r->registry), err, errlen);
}

static WriterResult
one_id(KafkaWriter *r, const RelEntry *e, const char *topic, const char *which, uint64_t fp,
	   uint32_t *id, char *err, size_t errlen)
{
	const SchemaId *s = schema_ids_find(&r->schemas, fp);
	char		what[160];

	if (s == NULL || s->text == NULL)
	{
		snprintf(err, errlen, "%s schema %016" PRIx64 " of table \"%s.%s\" is not known",
				 which, fp, e->schema, e->table);
		return WRITER_ERROR;
	}
	snprintf(what, sizeof(what), "table \"%.64s.%.64s\"", e->schema, e->table);
	return writer_registry_id(r, topic, which, what, fp, s->text, s->len, id, err, errlen);
}

WriterResult
writer_registry_ids(KafkaWriter *r, RelEntry *e, const char *topic, bool want_key,
					bool want_value, uint32_t *key_id, uint32_t *value_id,
					char *err, size_t errlen)
{
	WriterResult rc;
	bool		cacheable = e->topic != NULL && topic == e->topic;

	if (cacheable && e->registry_ids_known && (!want_key || e->registry_key_known) &&
		(!want_value || e->registry_value_known))
	{
		*key_id = e->registry_key_id;
		*value_id = e->registry_value_id;
		return WRITER_OK;
	}
	if (want_key && (rc = one_id(r, e, topic, "key", e->key_fp, key_id, err, errlen)) != WRITER_OK)
		return rc;
	if (want_value &&
		(rc = one_id(r, e, topic, "value", e->value_fp, value_id, err, errlen)) != WRITER_OK)
		return rc;
	if (cacheable)
	{
		e->registry_ids_known = true;
		e->registry_key_known = want_key;
		e->registry_value_known = want_value;
		e->registry_key_id = want_key ? *key_id : 0;
		e->registry_value_id = want_value ? *value_id : 0;
	}
	return WRITER_OK;
}
