/*-------------------------------------------------------------------------
 *
 * schema_ids.h
 *		The schema text behind each fingerprint: what the schema topic holds
 *		and what this process published (schema_ids.c).
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/schema_ids.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RELAY_SCHEMA_IDS_H
#define RELAY_SCHEMA_IDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Where a fingerprint's schema stands with the broker */
typedef enum SchemaIdState
{
	SCHEMA_ID_UNPUBLISHED = 0,	/* known here, to be produced to the schema topic */
	SCHEMA_ID_SENT,				/* produced, not acknowledged yet */
	SCHEMA_ID_ON_BROKER			/* acknowledged, or read from the schema topic */
} SchemaIdState;

/* One fingerprint and its text.  text is owned by the SchemaIds. */
typedef struct SchemaId
{
	uint64_t	fp;				/* 0: an empty slot */
	char	   *text;
	size_t		len;
	SchemaIdState state;
	bool		from_topic;		/* the text was read from the schema topic */
	bool		ambiguous;		/* the schema topic holds more than one text for fp */
} SchemaId;

/* Zero-initialised is an empty map.  Fields are private to schema_ids.c. */
typedef struct SchemaIds
{
	SchemaId   *slots;			/* open addressing, capacity a power of two */
	size_t		capacity;
	size_t		count;
} SchemaIds;

/* What schema_ids_use found */
typedef enum SchemaIdsResult
{
	SCHEMA_IDS_NEW = 0,			/* not known before: added, SCHEMA_ID_UNPUBLISHED */
	SCHEMA_IDS_SAME,			/* known with this very text */
	SCHEMA_IDS_CONFLICT,		/* known with another text: refuse, change nothing */
	SCHEMA_IDS_NO_MEMORY
} SchemaIdsResult;

/*
 * A record read from the schema topic, in topic order: fp with text (NULL
 * for a tombstone, which forgets fp).  A later text replaces an earlier one,
 * as compaction keeps the last; a different one marks fp ambiguous, so that
 * schema_ids_use refuses it.  Returns 0, or -1 out of memory (the map is
 * unchanged).
 */
extern int	schema_ids_note_topic(SchemaIds *ids, uint64_t fp, const void *text, size_t len);

/*
 * A schema this process is about to use under fp (not 0).  Returns
 * SCHEMA_IDS_NEW or _SAME with *id set (valid until the next call that adds
 * an entry); SCHEMA_IDS_CONFLICT, with *id set to the entry holding the other
 * text, when fp is known with different bytes or is ambiguous in the topic;
 * SCHEMA_IDS_NO_MEMORY with *id NULL.
 */
extern SchemaIdsResult schema_ids_use(SchemaIds *ids, uint64_t fp, const void *text,
									  size_t len, SchemaId **id);

/* The entry of fp, or NULL. */
extern SchemaId *schema_ids_find(const SchemaIds *ids, uint64_t fp);

/*
 * After a reconnect: a schema produced but not acknowledged is to be
 * produced again (SCHEMA_ID_SENT becomes SCHEMA_ID_UNPUBLISHED).  Texts stay,
 * so a later different text for the fingerprint is still refused.
 */
extern void schema_ids_forget_unacknowledged(SchemaIds *ids);

extern size_t schema_ids_count(const SchemaIds *ids);
extern void schema_ids_free(SchemaIds *ids);

#endif							/* RELAY_SCHEMA_IDS_H */
