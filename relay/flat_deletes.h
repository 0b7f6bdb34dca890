/*-------------------------------------------------------------------------
 *
 * flat_deletes.h
 *		What becomes of a delete and its tombstone in Debezium's flat value
 *		(compat=debezium, envelope=flat), by ExtractNewRecordState's
 *		delete.tombstone.handling.mode (flat_deletes.c).
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/flat_deletes.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RELAY_FLAT_DELETES_H
#define RELAY_FLAT_DELETES_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"				/* RelayFlatDeletes */
#include "connect_json.h"		/* ConnectJson */

/* Does a delete keep its value (the old row the plugin sent)? */
extern bool flat_deletes_keep_value(RelayFlatDeletes mode);

/* Does a tombstone follow a delete? (RELAY_FLAT_OFF: yes, as ever) */
extern bool flat_deletes_tombstone(RelayFlatDeletes mode);

/*
 * The JSON value of a delete under mode "tombstone", as JsonConverter
 * writes the SMT's record (a null value with the after field's schema):
 * with_schema, {"schema":<the Value struct without its last "added"
 * fields, optional>,"payload":null}; else the text null.  cj is the flat
 * value's compiled schema.  Returns a malloc'd text (*len bytes, no NUL
 * needed), or NULL on an out-of-memory or a schema text it cannot read.
 */
extern char *flat_deletes_null_json(const ConnectJson *cj, int added, bool with_schema,
									size_t *len);

#endif							/* RELAY_FLAT_DELETES_H */
