/*-------------------------------------------------------------------------
 *
 * kafka_writer_relations.c
 *		The relations SCHEMA frames tell the writer of: the table of them by
 *		relation id, each one's names, topic, metrics and, for the json
 *		formats, its compiled key and value schemas.
 *
 * A SCHEMA frame publishes its key and value schemas first
 * (kafka_writer_schemas.c), then replaces what the entry knew; the change
 * path finds the entry with writer_rel_lookup (kafka_writer_internal.h).
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/kafka_writer_relations.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "connect_json.h"
#include "frames.h"
#include "kafka_writer_internal.h"
#include "log.h"
#include "metrics.h"
#include "wal2avro_protocol.h"

/*
 * The entry of relid, added (unused fields zero) when there is none.
 * Returns NULL when out of memory.
 */
static RelEntry *
rel_insert(KafkaWriter *r, uint32_t relid)
{
	size_t		i;

	if ((r->rel_count + 1) * 2 > r->rel_cap)
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
				size_t		k = writer_rel_home(r->rels[j].relid, cap);

				while (rels[k].used)
					k = (k + 1) & (cap - 1);
				rels[k] = r->rels[j];
			}
		}
		free(r->rels);
		r->rels = rels;
		r->rel_cap = cap;
	}
	i = writer_rel_home(relid, r->rel_cap);
	while (r->rels[i].used)
	{
		if (r->rels[i].relid == relid)
			return &r->rels[i];
		i = (i + 1) & (r->rel_cap - 1);
	}
	r->rels[i].used = true;
	r->rels[i].relid = relid;
	r->rel_count++;
	return &r->rels[i];
}

/* A frame's bytes as a C string (malloc'd; NULL: out of memory) */
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

/* The topic of compat=debezium's messages (malloc'd; NULL: out of memory) */
static char *
message_topic(const KafkaWriter *r)
{
	char		topic[TOPIC_MAX];

	snprintf(topic, sizeof(topic), "%s.message", r->cfg->topic_prefix);
	return strdup(topic);
}

/*
 * A SCHEMA frame: publish its schemas, then remember the relation's names,
 * topic and compiled JSON schemas.  Returns WRITER_OK, WRITER_WAIT (a
 * schema is not acknowledged yet: give the frame again), WRITER_FAILED or
 * WRITER_ERROR with a message in err.
 */
WriterResult
writer_handle_schema(KafkaWriter *r, const Frame *f, char *err, size_t errlen)
{
	RelEntry   *e = rel_insert(r, f->schema.relid);
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
