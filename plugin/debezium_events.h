/*-------------------------------------------------------------------------
 *
 * debezium_events.h
 *		compat=debezium: truncate and logical-message events, and the
 *		skipped-operations option that filters them (debezium_events.c).
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * plugin/debezium_events.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef W2A_DEBEZIUM_EVENTS_H
#define W2A_DEBEZIUM_EVENTS_H

#include "lib/stringinfo.h"
#include "nodes/parsenodes.h"

#include "decoding_state.h"
#include "rel_entry.h"

/* skipped-operations bits */
#define DBZ_SKIP_CREATE		0x01
#define DBZ_SKIP_UPDATE		0x02
#define DBZ_SKIP_DELETE		0x04
#define DBZ_SKIP_TRUNCATE	0x08

extern uint8 debezium_events_parse_skipped(DefElem *elem, const char *value);
extern bool debezium_events_skipped(const Wal2AvroData *data, char op);

extern RelSchemaEntry *debezium_events_message_entry(Wal2AvroData *data);
extern void debezium_events_message_key(StringInfo out, const char *prefix);
extern void debezium_events_message_value(StringInfo out, Wal2AvroData *data,
										  bool transactional, TransactionId xid,
										  TimestampTz commit_time, XLogRecPtr lsn,
										  const char *prefix, const char *content,
										  Size content_size);

#endif							/* W2A_DEBEZIUM_EVENTS_H */
