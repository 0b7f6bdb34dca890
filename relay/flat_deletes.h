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
 * The value of a delete whose value the SMT nulls (flat_deletes_keep_value
 * false): a Kafka null (*value NULL), or in JSON under mode "tombstone" the
 * text JsonConverter writes for a null with the after field's schema,
 * {"schema":<the Value struct without the add-fields, optional>,
 * "payload":null} (the text null without schemas).  cj is the flat value's
 * compiled schema; the text is made once and kept in *cache (*cache_len
 * bytes; the caller frees it when the schema changes).  Returns false on
 * an out-of-memory.
 */
extern bool flat_deletes_value(const RelayConfig *cfg, const ConnectJson *cj, char **cache,
							   size_t *cache_len, const void **value, size_t *len);

#endif							/* RELAY_FLAT_DELETES_H */
