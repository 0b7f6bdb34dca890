/*-------------------------------------------------------------------------
 *
 * schema_ids.c
 *		The schema text behind each fingerprint, so that one fingerprint
 *		never names two schemas on the wire.
 *
 * A consumer finds a record's schema by the fingerprint in its header, in
 * the compacted schema topic, which keeps one text per fingerprint: the
 * last one written.  Were a second text published under a fingerprint
 * already in use, records written under the first would be read with the
 * second after compaction.  So the relay reads the schema topic at start-up
 * into this map, adds every schema it publishes, and refuses a schema whose
 * fingerprint is known with other bytes.
 *
 * Open addressing with linear probing, keyed by the fingerprint (0 marks an
 * empty slot: it is never a schema's, it means "no key").  Entries are never
 * removed, so a text once used stays the one its fingerprint means.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/schema_ids.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>
#include <string.h>

#include "schema_ids.h"

#define MIN_CAPACITY	64

/* The home slot of fp in a table of cap slots (a power of two) */
static size_t
home_slot(uint64_t fp, size_t cap)
{
	return (size_t) ((fp * UINT64_C(0x9E3779B97F4A7C15)) >> 32) & (cap - 1);
}

SchemaId *
schema_ids_find(const SchemaIds *ids, uint64_t fp)
{
	size_t		i;

	if (ids->capacity == 0 || fp == 0)
		return NULL;
	for (i = home_slot(fp, ids->capacity); ids->slots[i].fp != 0; i = (i + 1) & (ids->capacity - 1))
	{
		if (ids->slots[i].fp == fp)
			return &ids->slots[i];
	}
	return NULL;
}

/* Room for one more entry, keeping the load at most one half. */
static int
reserve(SchemaIds *ids)
{
	size_t		cap;
	SchemaId   *slots;
	size_t		j;

	if ((ids->count + 1) * 2 <= ids->capacity)
		return 0;
	cap = ids->capacity ? ids->capacity * 2 : MIN_CAPACITY;
	slots = calloc(cap, sizeof(SchemaId));
	if (slots == NULL)
		return -1;
	for (j = 0; j < ids->capacity; j++)
	{
		if (ids->slots[j].fp != 0)
		{
			size_t		k = home_slot(ids->slots[j].fp, cap);

			while (slots[k].fp != 0)
				k = (k + 1) & (cap - 1);
			slots[k] = ids->slots[j];
		}
	}
	free(ids->slots);
	ids->slots = slots;
	ids->capacity = cap;
	return 0;
}

/* A new entry for fp (not present), text copied.  NULL when out of memory. */
static SchemaId *
add(SchemaIds *ids, uint64_t fp, const void *text, size_t len)
{
	char	   *copy = malloc(len + 1);
	size_t		i;

	if (copy == NULL || reserve(ids) != 0)
	{
		free(copy);
		return NULL;
	}
	memcpy(copy, text, len);
	copy[len] = '\0';
	for (i = home_slot(fp, ids->capacity); ids->slots[i].fp != 0; i = (i + 1) & (ids->capacity - 1))
		;
	ids->slots[i] = (SchemaId) {fp, copy, len, SCHEMA_ID_UNPUBLISHED, false, false};
	ids->count++;
	return &ids->slots[i];
}

static bool
same_text(const SchemaId *id, const void *text, size_t len)
{
	return id->text != NULL && id->len == len && memcmp(id->text, text, len) == 0;
}

int
schema_ids_note_topic(SchemaIds *ids, uint64_t fp, const void *text, size_t len)
{
	SchemaId   *id = schema_ids_find(ids, fp);
	char	   *copy;

	if (fp == 0)
		return 0;
	if (text == NULL)
	{
		/* a tombstone: the topic forgets fp, and so does a consumer */
		if (id != NULL && id->from_topic)
		{
			free(id->text);
			id->text = NULL;
			id->len = 0;
			id->ambiguous = false;
			id->from_topic = false;
			id->state = SCHEMA_ID_UNPUBLISHED;
		}
		return 0;
	}
	if (id == NULL)
	{
		id = add(ids, fp, text, len);
		if (id == NULL)
			return -1;
	}
	else if (!same_text(id, text, len))
	{
		copy = malloc(len + 1);
		if (copy == NULL)
			return -1;
		memcpy(copy, text, len);
		copy[len] = '\0';
		if (id->text != NULL)
			id->ambiguous = true;
		free(id->text);
		id->text = copy;
		id->len = len;
	}
	id->from_topic = true;
	id->state = SCHEMA_ID_ON_BROKER;
	return 0;
}

SchemaIdsResult
schema_ids_use(SchemaIds *ids, uint64_t fp, const void *text, size_t len, SchemaId **out)
{
	SchemaId   *id = schema_ids_find(ids, fp);

	*out = NULL;
	if (id != NULL && id->text == NULL)
	{
		/* forgotten by a tombstone: takes the text now used */
		id->text = malloc(len + 1);
		if (id->text == NULL)
			return SCHEMA_IDS_NO_MEMORY;
		memcpy(id->text, text, len);
		id->text[len] = '\0';
		id->len = len;
		*out = id;
		return SCHEMA_IDS_NEW;
	}
	if (id != NULL)
	{
		*out = id;
		return !id->ambiguous && same_text(id, text, len) ? SCHEMA_IDS_SAME : SCHEMA_IDS_CONFLICT;
	}
	id = add(ids, fp, text, len);
	if (id == NULL)
		return SCHEMA_IDS_NO_MEMORY;
	*out = id;
	return SCHEMA_IDS_NEW;
}

void
schema_ids_forget_unacknowledged(SchemaIds *ids)
{
	size_t		i;

	for (i = 0; i < ids->capacity; i++)
	{
		if (ids->slots[i].fp != 0 && ids->slots[i].state == SCHEMA_ID_SENT)
			ids->slots[i].state = SCHEMA_ID_UNPUBLISHED;
	}
}

size_t
schema_ids_count(const SchemaIds *ids)
{
	return ids->count;
}

void
schema_ids_free(SchemaIds *ids)
{
	size_t		i;

	for (i = 0; i < ids->capacity; i++)
		free(ids->slots[i].text);
	free(ids->slots);
	ids->slots = NULL;
	ids->capacity = 0;
	ids->count = 0;
}
