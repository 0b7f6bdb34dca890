/*-------------------------------------------------------------------------
 *
 * flat_deletes.c
 *		Debezium's flat value: a delete's value and tombstone by
 *		ExtractNewRecordState's delete.tombstone.handling.mode.
 *
 * As Debezium 3.6.1 writes them (observed, regress/e2e/0061):
 *   tombstone (default)     the delete's value is null, its schema the
 *                           after field's (the Value struct, optional);
 *                           no tombstone
 *   drop                    neither (the delete still counts among its
 *                           transaction's events on the transaction topic)
 *   rewrite                 the old row with __deleted "true"; no tombstone
 *   rewrite-with-tombstone  the same, then a tombstone
 *   delete-to-tombstone     a tombstone in the delete's place
 * With JsonConverter a null value with a schema is not a Kafka null:
 * {"schema":..,"payload":null} with schemas.enable, the text null without;
 * Confluent's AvroConverter writes it as a Kafka null.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/flat_deletes.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "flat_deletes.h"

bool
flat_deletes_keep_value(RelayFlatDeletes mode)
{
	return mode == RELAY_FLAT_OFF || mode == RELAY_FLAT_REWRITE ||
		mode == RELAY_FLAT_REWRITE_TOMBSTONE;
}

bool
flat_deletes_tombstone(RelayFlatDeletes mode)
{
	return mode == RELAY_FLAT_OFF || mode == RELAY_FLAT_REWRITE_TOMBSTONE;
}

/* The JSON of a "tombstone"-mode delete, malloc'd; NULL on out-of-memory */
static char *
null_json(const ConnectJson *cj, int added, bool with_schema, size_t *len)
{
	const char *text;
	size_t		text_len;
	json_t	   *schema,
			   *fields;
	json_error_t jerr;
	char	   *out = NULL;
	char	   *schema_text;

	if (!with_schema)
	{
		*len = 4;
		return strdup("null");
	}
	text = connect_json_schema_text(cj, &text_len);
	schema = json_loadb(text, text_len, 0, &jerr);
	if (schema == NULL)
		return NULL;
	fields = json_object_get(schema, "fields");
	if (json_is_array(fields))
		for (int i = 0; i < added && json_array_size(fields) > 0; i++)
			json_array_remove(fields, json_array_size(fields) - 1);
	json_object_set_new(schema, "optional", json_true());
	schema_text = json_dumps(schema, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(schema);
	if (schema_text == NULL)
		return NULL;
	*len = strlen(schema_text) + strlen("{\"schema\":,\"payload\":null}");
	out = malloc(*len + 1);
	if (out)
		snprintf(out, *len + 1, "{\"schema\":%s,\"payload\":null}", schema_text);
	free(schema_text);
	return out;
}

bool
flat_deletes_value(const RelayConfig *cfg, const ConnectJson *cj, char **cache,
				   size_t *cache_len, const void **value, size_t *len)
{
	*value = NULL;
	*len = 0;
	if (cfg->value_format != RELAY_FORMAT_JSON || cfg->flat_deletes != RELAY_FLAT_TOMBSTONE)
		return true;
	if (*cache == NULL &&
		(*cache = null_json(cj, cfg->flat_added, cfg->json_schemas, cache_len)) == NULL)
		return false;
	*value = *cache;
	*len = *cache_len;
	return true;
}
