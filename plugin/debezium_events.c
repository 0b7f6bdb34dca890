/*-------------------------------------------------------------------------
 *
 * debezium_events.c
 *		compat=debezium: the events that are not row changes, as Debezium
 *		3.6's PostgreSQL connector emits them: logical-decoding messages
 *		on the topic <prefix>.message, and the skipped-operations option.
 *
 * A message (pg_logical_emit_message) goes out as a CHANGE frame with op
 * 'm' on the pseudo relation W2A_MESSAGE_RELID (0), after a SCHEMA frame
 * for it that names the topic <prefix>.message and carries Debezium's
 * schemas, as Confluent's AvroData converts them:
 *
 *   key    io.debezium.connector.postgresql.MessageKey {prefix}
 *   value  io.debezium.connector.postgresql.MessageValue {op "m", ts_ms,
 *          source (schema and table empty, txId null for a
 *          non-transactional message), transaction, message {prefix,
 *          content (bytes)}}
 *
 * so the relay carries it on its change path.  A non-transactional message
 * is outside BEGIN/COMMIT (doc/protocol.md, Order).  Truncates are CHANGE
 * frames with op 't' on the table (wal2avro.c), through the table's
 * Envelope with before and after null.  Debezium's skipped.operations
 * (default "t") applies to c, u, d and t, not to messages (those only
 * Debezium's message.prefix.include.list / exclude.list filter).
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * plugin/debezium_events.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/transam.h"
#include "mb/pg_wchar.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "avro_writer.h"
#include "debezium.h"
#include "debezium_events.h"
#include "schema_json.h"
#include "wal2avro_protocol.h"

#define DBZ_MESSAGE_KEY_SCHEMA \
	"{\"type\":\"record\",\"name\":\"io.debezium.connector.postgresql.MessageKey\",\"fields\":[" \
	"{\"name\":\"prefix\",\"type\":[\"null\",\"string\"],\"default\":null}]," \
	"\"connect.version\":1,\"connect.name\":\"io.debezium.connector.postgresql.MessageKey\"}"

#define DBZ_MESSAGE_VALUE_SCHEMA \
	"{\"type\":\"record\",\"name\":\"io.debezium.connector.postgresql.MessageValue\",\"fields\":[" \
	"{\"name\":\"op\",\"type\":\"string\"}," \
	"{\"name\":\"ts_ms\",\"type\":[\"null\",\"long\"],\"default\":null}," \
	"{\"name\":\"source\",\"type\":" DBZ_SOURCE_SCHEMA "}," \
	"{\"name\":\"transaction\",\"type\":" DBZ_BLOCK_SCHEMA ",\"default\":null}," \
	"{\"name\":\"message\",\"type\":{\"type\":\"record\",\"name\":\"io.debezium.connector.postgresql.Message\",\"fields\":[" \
	"{\"name\":\"prefix\",\"type\":[\"null\",\"string\"],\"default\":null}," \
	"{\"name\":\"content\",\"type\":[\"null\",\"bytes\"],\"default\":null}]," \
	"\"connect.version\":1,\"connect.name\":\"io.debezium.connector.postgresql.Message\"}}]," \
	"\"connect.version\":1,\"connect.name\":\"io.debezium.connector.postgresql.MessageValue\"}"

/* ------------------------------------------------------------------------
 * skipped-operations
 * ------------------------------------------------------------------------
 */

/*
 * Parse skipped-operations: "none", or a comma list of c, u, d, t (spaces
 * around items allowed).  An empty or unknown item is an ERROR naming the
 * option.
 */
uint8
debezium_events_parse_skipped(DefElem *elem, const char *value)
{
	char	   *copy = pstrdup(value);
	char	   *item;
	char	   *save = NULL;
	uint8		bits = 0;
	int			nitems = 0;

	if (strcmp(value, "none") == 0)
		return 0;
	for (item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save))
	{
		char	   *end;

		while (*item == ' ')
			item++;
		end = item + strlen(item);
		while (end > item && end[-1] == ' ')
			*--end = '\0';
		nitems++;
		if (strcmp(item, "c") == 0)
			bits |= DBZ_SKIP_CREATE;
		else if (strcmp(item, "u") == 0)
			bits |= DBZ_SKIP_UPDATE;
		else if (strcmp(item, "d") == 0)
			bits |= DBZ_SKIP_DELETE;
		else if (strcmp(item, "t") == 0)
			bits |= DBZ_SKIP_TRUNCATE;
		else
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid value for option \"%s\": \"%s\"", elem->defname, value),
					 errdetail("\"%s\" is not an operation.", item),
					 errhint("Valid values are \"none\" or a comma-separated list of \"c\", \"u\", \"d\" and \"t\", as Debezium's skipped.operations.")));
	}
	/* an empty value, or only commas */
	if (nitems == 0 || value[0] == ',' || value[strlen(value) - 1] == ',' ||
		strstr(value, ",,") != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid value for option \"%s\": \"%s\"", elem->defname, value),
				 errdetail("An item of the list is empty."),
				 errhint("Valid values are \"none\" or a comma-separated list of \"c\", \"u\", \"d\" and \"t\", as Debezium's skipped.operations.")));
	pfree(copy);
	return bits;
}

/* Does skipped-operations leave out records with this op? */
bool
debezium_events_skipped(const Wal2AvroData *data, char op)
{
	if (data->compat != W2A_COMPAT_DEBEZIUM)
		return false;
	switch (op)
	{
		case W2A_OP_CREATE:
			return (data->skipped_ops & DBZ_SKIP_CREATE) != 0;
		case W2A_OP_UPDATE:
			return (data->skipped_ops & DBZ_SKIP_UPDATE) != 0;
		case W2A_OP_DELETE:
			return (data->skipped_ops & DBZ_SKIP_DELETE) != 0;
		case W2A_OP_TRUNCATE:
			/* ExtractNewRecordState (envelope=flat) drops truncates too */
			return (data->skipped_ops & DBZ_SKIP_TRUNCATE) != 0 ||
				data->envelope == W2A_ENVELOPE_FLAT;
		default:
			return false;
	}
}

/* ------------------------------------------------------------------------
 * Messages
 * ------------------------------------------------------------------------
 */

/* Text in the server encoding as an Avro string (UTF-8) */
static void
write_utf8(StringInfo out, const char *text)
{
	int			enc = GetDatabaseEncoding();

	if (enc != PG_UTF8 && enc != PG_SQL_ASCII)
		text = pg_server_to_any(text, strlen(text), PG_UTF8);
	avro_write_string(out, text);
}

/*
 * The pseudo relation messages are written on, made at the first message
 * of the decoding session (in its cache context): relid
 * W2A_MESSAGE_RELID, empty schema and table names (as Debezium's
 * source.schema and source.table of a message), topic <prefix>.message,
 * the key column "prefix".
 */
RelSchemaEntry *
debezium_events_message_entry(Wal2AvroData *data)
{
	RelSchemaEntry *e = data->dbz_message_entry;
	MemoryContext old;

	if (e != NULL)
		return e;
	old = MemoryContextSwitchTo(data->cache_cxt);
	e = palloc0(sizeof(RelSchemaEntry));
	e->relid = W2A_MESSAGE_RELID;
	e->schema_valid = true;
	e->included = true;
	e->cxt = data->cache_cxt;
	e->nspname = "";
	e->relname = "";
	e->topic = psprintf("%s.message", data->topic_prefix);
	e->nkeys = 1;
	e->key_defs = palloc0(sizeof(W2aField));
	e->key_defs[0].pg_name = "prefix";
	e->key_schema = DBZ_MESSAGE_KEY_SCHEMA;
	e->value_schema = DBZ_MESSAGE_VALUE_SCHEMA;
	e->key_fp = schema_fingerprint(e->key_schema, strlen(e->key_schema));
	e->value_fp = schema_fingerprint(e->value_schema, strlen(e->value_schema));
	MemoryContextSwitchTo(old);
	data->dbz_message_entry = e;
	return e;
}

/* A message's MessageKey datum */
void
debezium_events_message_key(StringInfo out, const char *prefix)
{
	avro_write_long(out, 1);
	write_utf8(out, prefix);
}

/*
 * A message's MessageValue datum.  xid and commit_time are the
 * transaction's for a transactional message; for another, xid is ignored
 * (txId null) and commit_time is the last transaction's, as Debezium
 * reports it.  Source.sequence is [<end of the last transaction or
 * non-transactional message>, <lsn>]; for a non-transactional message
 * [<lsn>, <lsn>]: Debezium counts it as committed before it writes it.  Call before counting the message in
 * txn_changes.
 */
void
debezium_events_message_value(StringInfo out, Wal2AvroData *data, bool transactional,
							  TransactionId xid, TimestampTz commit_time, XLogRecPtr lsn,
							  const char *prefix, const char *content, Size content_size)
{
	int64		commit_us = 0;
	int64		ts_ms = data->txn_ts_ms;
	XLogRecPtr	last_end = data->last_end_lsn;
	char		seq[64];
	int			n;

	if (data->include_timestamps)
		commit_us = commit_time + W2A_EPOCH_USECS;
	if (!transactional && data->include_timestamps)
		ts_ms = (GetCurrentTimestamp() + W2A_EPOCH_USECS) / 1000;

	avro_write_string(out, "m");
	avro_write_optional_long(out, data->include_timestamps, ts_ms);

	/* source */
	avro_write_string(out, WAL2AVRO_VERSION);
	avro_write_string(out, "postgresql");
	write_utf8(out, data->topic_prefix);
	avro_write_long(out, commit_us / 1000);
	avro_write_long(out, 0);	/* snapshot: the string branch */
	avro_write_string(out, "false");
	write_utf8(out, data->dbname);
	if (!transactional)
		last_end = lsn;
	if (XLogRecPtrIsInvalid(last_end))
		n = snprintf(seq, sizeof(seq), "[null,\"" UINT64_FORMAT "\"]", (uint64) lsn);
	else
		n = snprintf(seq, sizeof(seq), "[\"" UINT64_FORMAT "\",\"" UINT64_FORMAT "\"]",
					 (uint64) last_end, (uint64) lsn);
	avro_write_long(out, 1);
	avro_write_bytes(out, seq, n);
	avro_write_optional_long(out, data->include_timestamps, commit_us);
	avro_write_optional_long(out, data->include_timestamps, commit_us * 1000);
	avro_write_string(out, "");	/* schema */
	avro_write_string(out, "");	/* table */
	avro_write_optional_long(out, transactional && TransactionIdIsValid(xid), xid);
	avro_write_optional_long(out, true, (int64) lsn);
	avro_write_long(out, 0);	/* xmin */
	avro_write_long(out, 0);	/* origin */
	avro_write_long(out, 0);	/* origin_lsn */

	/* transaction: its events so far, and its messages */
	if (data->provide_txmeta && transactional && TransactionIdIsValid(xid))
	{
		avro_write_long(out, 1);
		avro_write_string(out, psprintf("%u:" UINT64_FORMAT, xid, (uint64) lsn));
		avro_write_long(out, (int64) (data->txn_changes + data->txn_messages + 1));
		avro_write_long(out, (int64) data->txn_dbz_messages + 1);
	}
	else
		avro_write_long(out, 0);

	/* message */
	avro_write_long(out, 1);
	write_utf8(out, prefix);
	avro_write_long(out, 1);
	avro_write_bytes(out, content, (int) content_size);
}
