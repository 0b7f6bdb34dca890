/*-------------------------------------------------------------------------
 *
 * test_schema_ids.c
 *		Unit tests for relay/schema_ids.c: one fingerprint, one schema text.
 *		Texts used in this process and texts read from the schema topic
 *		(later ones replacing earlier, tombstones, a topic already holding
 *		two texts for one fingerprint), the states of publication, growth.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * regress/relay/test_schema_ids.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>
#include <string.h>

#include "schema_ids.h"
#include "unit.h"

#define TS_LOCAL	"{\"type\":\"long\",\"logicalType\":\"local-timestamp-micros\"}"
#define TS_UTC		"{\"type\":\"long\",\"logicalType\":\"timestamp-micros\"}"

static SchemaIdsResult
use(SchemaIds *ids, uint64_t fp, const char *text, SchemaId **id)
{
	return schema_ids_use(ids, fp, text, strlen(text), id);
}

/* Schemas this process uses: the same bytes again, or other bytes */
static void
test_in_process(void)
{
	SchemaIds	ids = {0};
	SchemaId   *id = NULL;

	CHECK(schema_ids_find(&ids, 42) == NULL);
	CHECK_INT(use(&ids, 42, TS_LOCAL, &id), SCHEMA_IDS_NEW);
	CHECK(id != NULL && id->fp == 42);
	CHECK_INT(id->state, SCHEMA_ID_UNPUBLISHED);
	CHECK(!id->from_topic);
	CHECK_STR(id->text, TS_LOCAL);
	id->state = SCHEMA_ID_SENT;

	CHECK_INT(use(&ids, 42, TS_LOCAL, &id), SCHEMA_IDS_SAME);
	CHECK_INT(id->state, SCHEMA_ID_SENT);

	/* same fingerprint, other text: refused, the first text stays */
	CHECK_INT(use(&ids, 42, TS_UTC, &id), SCHEMA_IDS_CONFLICT);
	CHECK(id != NULL && id->fp == 42 && !id->from_topic);
	CHECK_STR(schema_ids_find(&ids, 42)->text, TS_LOCAL);
	CHECK_INT(use(&ids, 42, TS_LOCAL, &id), SCHEMA_IDS_SAME);

	/* a prefix, and bytes after a NUL, are other texts */
	CHECK_INT(schema_ids_use(&ids, 42, TS_LOCAL, strlen(TS_LOCAL) - 1, &id), SCHEMA_IDS_CONFLICT);
	CHECK_INT(schema_ids_use(&ids, 7, "a\0b", 3, &id), SCHEMA_IDS_NEW);
	CHECK_INT(schema_ids_use(&ids, 7, "a\0c", 3, &id), SCHEMA_IDS_CONFLICT);
	CHECK_INT(schema_ids_use(&ids, 7, "a\0b", 3, &id), SCHEMA_IDS_SAME);
	CHECK_INT(schema_ids_count(&ids), 2);

	/* a reconnect: only what was sent and not acknowledged goes again */
	schema_ids_find(&ids, 7)->state = SCHEMA_ID_ON_BROKER;
	schema_ids_forget_unacknowledged(&ids);
	CHECK_INT(schema_ids_find(&ids, 42)->state, SCHEMA_ID_UNPUBLISHED);
	CHECK_INT(schema_ids_find(&ids, 7)->state, SCHEMA_ID_ON_BROKER);
	CHECK_INT(use(&ids, 42, TS_UTC, &id), SCHEMA_IDS_CONFLICT);	/* the text stays */

	schema_ids_free(&ids);
	CHECK_INT(schema_ids_count(&ids), 0);
	CHECK(schema_ids_find(&ids, 42) == NULL);
	schema_ids_free(&ids);		/* twice is harmless */
}

/* What the schema topic holds, read at start-up */
static void
test_from_topic(void)
{
	SchemaIds	ids = {0};
	SchemaId   *id = NULL;

	CHECK_INT(schema_ids_note_topic(&ids, 0x050f41586230b1a3, TS_LOCAL, strlen(TS_LOCAL)), 0);
	id = schema_ids_find(&ids, 0x050f41586230b1a3);
	CHECK(id != NULL && id->from_topic && !id->ambiguous);
	CHECK_INT(id->state, SCHEMA_ID_ON_BROKER);

	/* the same text: nothing to publish; another: refused */
	CHECK_INT(use(&ids, 0x050f41586230b1a3, TS_LOCAL, &id), SCHEMA_IDS_SAME);
	CHECK_INT(id->state, SCHEMA_ID_ON_BROKER);
	CHECK_INT(use(&ids, 0x050f41586230b1a3, TS_UTC, &id), SCHEMA_IDS_CONFLICT);
	CHECK(id->from_topic && !id->ambiguous);

	/* the same text twice in the topic is one text */
	CHECK_INT(schema_ids_note_topic(&ids, 5, TS_UTC, strlen(TS_UTC)), 0);
	CHECK_INT(schema_ids_note_topic(&ids, 5, TS_UTC, strlen(TS_UTC)), 0);
	CHECK(!schema_ids_find(&ids, 5)->ambiguous);
	CHECK_INT(use(&ids, 5, TS_UTC, &id), SCHEMA_IDS_SAME);

	/* two texts for one fingerprint in the topic: the last is kept, neither is usable */
	CHECK_INT(schema_ids_note_topic(&ids, 6, TS_LOCAL, strlen(TS_LOCAL)), 0);
	CHECK_INT(schema_ids_note_topic(&ids, 6, TS_UTC, strlen(TS_UTC)), 0);
	id = schema_ids_find(&ids, 6);
	CHECK(id->ambiguous);
	CHECK_STR(id->text, TS_UTC);
	CHECK_INT(use(&ids, 6, TS_UTC, &id), SCHEMA_IDS_CONFLICT);
	CHECK_INT(use(&ids, 6, TS_LOCAL, &id), SCHEMA_IDS_CONFLICT);

	/* a tombstone forgets: the next text used is new, and then binding */
	CHECK_INT(schema_ids_note_topic(&ids, 6, NULL, 0), 0);
	CHECK_INT(use(&ids, 6, TS_LOCAL, &id), SCHEMA_IDS_NEW);
	CHECK_INT(id->state, SCHEMA_ID_UNPUBLISHED);
	CHECK(!id->ambiguous && !id->from_topic);
	CHECK_INT(use(&ids, 6, TS_UTC, &id), SCHEMA_IDS_CONFLICT);

	/* a tombstone for an unknown fingerprint, and fingerprint 0, change nothing */
	CHECK_INT(schema_ids_note_topic(&ids, 99, NULL, 0), 0);
	CHECK(schema_ids_find(&ids, 99) == NULL);
	CHECK_INT(schema_ids_note_topic(&ids, 0, TS_UTC, strlen(TS_UTC)), 0);
	CHECK(schema_ids_find(&ids, 0) == NULL);
	CHECK_INT(schema_ids_count(&ids), 3);
	schema_ids_free(&ids);
}

/* 20,000 fingerprints, found again after the table grew; none else */
static void
test_many(void)
{
	SchemaIds	ids = {0};
	SchemaId   *id;
	char		text[32];
	uint64_t	i;
	int			wrong = 0;

	for (i = 1; i <= 20000; i++)
	{
		snprintf(text, sizeof(text), "\"s%" PRIu64 "\"", i);
		if (use(&ids, i * UINT64_C(0x100000001), text, &id) != SCHEMA_IDS_NEW)
			wrong++;
	}
	CHECK_INT(wrong, 0);
	CHECK_INT(schema_ids_count(&ids), 20000);
	for (i = 1; i <= 20000; i++)
	{
		snprintf(text, sizeof(text), "\"s%" PRIu64 "\"", i);
		id = schema_ids_find(&ids, i * UINT64_C(0x100000001));
		if (id == NULL || strcmp(id->text, text) != 0 ||
			schema_ids_find(&ids, i * UINT64_C(0x100000001) + 1) != NULL)
			wrong++;
	}
	CHECK_INT(wrong, 0);
	schema_ids_free(&ids);
}

int
main(void)
{
	test_in_process();
	test_from_topic();
	test_many();
	return unit_finish("test_schema_ids");
}
