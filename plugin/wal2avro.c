/*-------------------------------------------------------------------------
 *
 * wal2avro.c
 *		Logical decoding output plugin: every committed change as an Avro
 *		record, framed per doc/protocol.md.
 *
 * This file holds the module magic and the callbacks, in the order
 * PostgreSQL calls them: startup, begin, change, truncate, message, commit,
 * shutdown.  Options live in options.c, types in typemap.c, schemas in
 * relcache.c and record.c, bytes in frame.c and avro_writer.c.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * plugin/wal2avro.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "access/tupconvert.h"
#include "commands/dbcommands.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "replication/logical.h"
#include "replication/origin.h"
#include "utils/json.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "frame.h"
#include "options.h"
#include "record.h"
#include "relcache.h"
#include "decoding_state.h"
#include "wal2avro_protocol.h"

PG_MODULE_MAGIC;

extern PGDLLEXPORT void _PG_output_plugin_init(OutputPluginCallbacks *cb);

/* Report progress after this many filtered changes (PostgreSQL < 16) */
#define W2A_PROGRESS_EVERY	100

static void wal2avro_startup(LogicalDecodingContext *ctx, OutputPluginOptions *opt,
							 bool is_init);
static void wal2avro_begin_txn(LogicalDecodingContext *ctx, ReorderBufferTXN *txn);
static void wal2avro_change(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
							Relation relation, ReorderBufferChange *change);
static void wal2avro_truncate(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
							  int nrelations, Relation relations[],
							  ReorderBufferChange *change);
static void wal2avro_message(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
							 XLogRecPtr message_lsn, bool transactional,
							 const char *prefix, Size message_size,
							 const char *message);
static void wal2avro_commit_txn(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
								XLogRecPtr commit_lsn);
static bool wal2avro_filter_by_origin(LogicalDecodingContext *ctx, RepOriginId origin_id);
static void wal2avro_shutdown(LogicalDecodingContext *ctx);

void
_PG_output_plugin_init(OutputPluginCallbacks *cb)
{
	cb->startup_cb = wal2avro_startup;
	cb->begin_cb = wal2avro_begin_txn;
	cb->change_cb = wal2avro_change;
	cb->truncate_cb = wal2avro_truncate;
	cb->message_cb = wal2avro_message;
	cb->commit_cb = wal2avro_commit_txn;
	cb->filter_by_origin_cb = wal2avro_filter_by_origin;
	cb->shutdown_cb = wal2avro_shutdown;
}

/* ------------------------------------------------------------------------
 * Callbacks
 * ------------------------------------------------------------------------
 */

/*
 * What startup looks up in the catalog: the database's name, looked up now
 * (during decoding the historic snapshot cannot always read the shared
 * catalog pg_database), and the tables and columns key-columns names.  A
 * walsender calls startup outside any transaction, so open one for them.
 */
static void
startup_lookups(Wal2AvroData *data)
{
	MemoryContext cxt = CurrentMemoryContext;
	bool		own = !IsTransactionState();
	char	   *name;

	if (own)
		StartTransactionCommand();
	name = get_database_name(MyDatabaseId);
	if (name == NULL)
		elog(ERROR, "cache lookup failed for database %u", MyDatabaseId);
	data->dbname = MemoryContextStrdup(cxt, name);
	options_check_key_columns(data);
	if (own)
	{
		CommitTransactionCommand();
		MemoryContextSwitchTo(cxt);
	}
}

/* startup: parse options, create the memory contexts and the schema cache */
static void
wal2avro_startup(LogicalDecodingContext *ctx, OutputPluginOptions *opt,
				 bool is_init)
{
	Wal2AvroData *data = palloc0(sizeof(Wal2AvroData));

	data->change_cxt = AllocSetContextCreate(ctx->context, "wal2avro change context",
											 ALLOCSET_DEFAULT_SIZES);
	data->cache_cxt = AllocSetContextCreate(ctx->context, "wal2avro cache context",
											ALLOCSET_DEFAULT_SIZES);
	ctx->output_plugin_private = data;

	/* slot creation passes no options; defaults are still needed */
	options_parse(data, is_init ? NIL : ctx->output_plugin_options);
	if (data->snapshot_option != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("option \"%s\" applies to wal2avro.snapshot_frames() only", data->snapshot_option),
				 errdetail("It describes the rows of an initial snapshot, not a stream of changes.")));

	/* slot creation decodes nothing, and may run where no transaction can */
	if (!is_init)
		startup_lookups(data);

	opt->output_type = (data->format == W2A_FORMAT_JSON) ?
		OUTPUT_PLUGIN_TEXTUAL_OUTPUT : OUTPUT_PLUGIN_BINARY_OUTPUT;
	opt->receive_rewrites = false;

	relcache_init(data);
}

static int64
unix_usecs(TimestampTz t)
{
	return t + ((int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY);
}

static int64
txn_commit_usecs(Wal2AvroData *data, ReorderBufferTXN *txn)
{
	return data->include_timestamps ? unix_usecs(W2A_TXN_COMMIT_TIME(txn)) : 0;
}

/*
 * Each callback passes last_write=true on its last write, so the server puts
 * the change's real LSN on that message (earlier writes get 0/0), as
 * pg_recvlogical's --endpos and a relay's progress need.
 */
static void
write_begin(LogicalDecodingContext *ctx, Wal2AvroData *data, ReorderBufferTXN *txn,
			bool last_write)
{
	StringInfo	out = ctx->out;

	OutputPluginPrepareWrite(ctx, last_write);
	if (data->format == W2A_FORMAT_JSON)
		appendStringInfo(out, "{\"kind\":\"begin\",\"xid\":%u,\"commit_lsn\":\"%X/%X\",\"commit_time\":" INT64_FORMAT "}",
						 txn->xid, LSN_FORMAT_ARGS(txn->final_lsn),
						 txn_commit_usecs(data, txn));
	else
	{
		int			start = frame_begin(out, W2A_FRAME_BEGIN);

		frame_put_u32(out, txn->xid);
		frame_put_u64(out, txn->final_lsn);
		frame_put_u64(out, (uint64) txn_commit_usecs(data, txn));
		frame_end(out, start);
	}
	OutputPluginWrite(ctx, last_write);
	data->sent_begin = true;
}

/* BEGIN: sent now, or with the first change when skipping empty transactions */
static void
wal2avro_begin_txn(LogicalDecodingContext *ctx, ReorderBufferTXN *txn)
{
	Wal2AvroData *data = ctx->output_plugin_private;

	data->sent_begin = false;
	data->txn_changes = 0;
	data->txn_messages = 0;
	data->filtered_changes = 0;
	data->txn_ts_ms = data->include_timestamps ?
		unix_usecs(GetCurrentTimestamp()) / 1000 : 0;
	if (!data->skip_empty_xacts)
		write_begin(ctx, data, txn, true);
}

static void
write_schema(LogicalDecodingContext *ctx, Wal2AvroData *data, RelSchemaEntry *entry)
{
	StringInfo	out = ctx->out;
	int			i;

	OutputPluginPrepareWrite(ctx, false);
	if (data->format == W2A_FORMAT_JSON)
	{
		appendStringInfo(out, "{\"kind\":\"schema\",\"relid\":%u,\"schema\":", entry->relid);
		escape_json(out, entry->nspname);
		appendStringInfoString(out, ",\"table\":");
		escape_json(out, entry->relname);
		appendStringInfoString(out, ",\"topic\":");
		escape_json(out, entry->topic);
		appendStringInfoString(out, ",\"key_columns\":[");
		for (i = 0; i < entry->nkeys; i++)
		{
			if (i > 0)
				appendStringInfoChar(out, ',');
			escape_json(out, entry->key_defs[i].pg_name);
		}
		appendStringInfo(out, "],\"key_fingerprint\":\"%016llx\",\"value_fingerprint\":\"%016llx\",\"key_schema\":%s,\"value_schema\":%s}",
						 (unsigned long long) entry->key_fp,
						 (unsigned long long) entry->value_fp,
						 entry->key_schema ? entry->key_schema : "null",
						 entry->value_schema);
	}
	else
		frame_write_schema(out, entry);
	OutputPluginWrite(ctx, false);
	entry->schema_sent = true;
}

static void
check_record_size(Wal2AvroData *data, RelSchemaEntry *entry, XLogRecPtr lsn, int size)
{
	if (data->max_record_size > 0 && size > data->max_record_size)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("record of %d bytes for table \"%s.%s\" at %X/%X exceeds \"max-record-size\" of %d bytes",
						size, entry->nspname, entry->relname, LSN_FORMAT_ARGS(lsn),
						data->max_record_size),
				 errdetail("Nothing past this change was confirmed, so no change is lost."),
				 errhint("Raise \"max-record-size\", or leave the large column out with \"exclude-columns\".")));
}

/*
 * One CHANGE frame: op, key and value of a row.  oldrow and newrow may be
 * NULL (no such row).  toast_source (may be NULL) is an old row PostgreSQL
 * logged that is not the change's before (the old key, for the create half
 * of a key change): the new row's unlogged TOAST values, key columns
 * included, are taken from it.  other_key (NULL but in a key change) is
 * the other half's key, as record_write_key encoded it: the new key in the
 * delete, the old key in the create; it goes in the frame's other_key block
 * (in the json format, the "other_key" field).
 */
static void
write_change(LogicalDecodingContext *ctx, Wal2AvroData *data, RelSchemaEntry *entry,
			 ReorderBufferTXN *txn, char op, W2aRow *oldrow, W2aRow *newrow,
			 W2aRow *toast_source, const StringInfoData *other_key,
			 XLogRecPtr lsn, bool last_write)
{
	StringInfo	out = ctx->out;
	W2aSource	source = {"false", txn->xid, lsn, W2A_TXN_COMMIT_TIME(txn)};
	/* the create of a key change finds unlogged key values in the old key */
	W2aRow	   *key_source = oldrow ? oldrow : toast_source;
	int			vstart;

	OutputPluginPrepareWrite(ctx, last_write);
	if (data->format == W2A_FORMAT_JSON)
	{
		appendStringInfo(out, "{\"kind\":\"change\",\"op\":\"%c\",\"schema\":", op);
		escape_json(out, entry->nspname);
		appendStringInfoString(out, ",\"table\":");
		escape_json(out, entry->relname);
		appendStringInfo(out, ",\"lsn\":\"%X/%X\",\"key\":", LSN_FORMAT_ARGS(lsn));
		if (!record_write_key(out, data, entry, newrow, key_source))
			appendStringInfoString(out, "null");
		appendStringInfoString(out, ",\"value\":");
		vstart = out->len;
		record_write_value(out, data, entry, op, oldrow, newrow, toast_source, &source);
		check_record_size(data, entry, lsn, out->len - vstart);
		if (other_key)
		{
			appendStringInfoString(out, ",\"other_key\":");
			appendBinaryStringInfo(out, other_key->data, other_key->len);
		}
		appendStringInfoChar(out, '}');
	}
	else
	{
		int			start = frame_change_begin(out, op, entry, lsn);
		int			block;

		block = frame_block_begin(out);
		if (record_write_key(out, data, entry, newrow, key_source))
			frame_block_end(out, block);
		else
		{
			out->len = block;
			frame_put_block(out, NULL, 0);
		}
		block = frame_block_begin(out);
		record_write_value(out, data, entry, op, oldrow, newrow, toast_source, &source);
		frame_block_end(out, block);
		check_record_size(data, entry, lsn, out->len - block - 4);
		if (other_key)
			frame_change_other_key(out, start, other_key->data, other_key->len);
		frame_end(out, start);
	}
	OutputPluginWrite(ctx, last_write);
	data->txn_changes++;
}

/*
 * Has an UPDATE changed the key?  Compares the encoded old and new keys,
 * from the rows the change's frames then read again (deformed once).  The
 * encoded keys are left in *oldkey and *newkey (in the change's memory
 * context): each half of a key change carries the other's.
 */
static bool
key_changed(Wal2AvroData *data, RelSchemaEntry *entry, W2aRow *oldrow, W2aRow *newrow,
			StringInfo oldkey, StringInfo newkey)
{
	bool		has_old,
				has_new;

	initStringInfo(oldkey);
	initStringInfo(newkey);
	has_old = record_write_key(oldkey, data, entry, NULL, oldrow);
	has_new = record_write_key(newkey, data, entry, newrow, oldrow);
	return has_old && has_new &&
		(oldkey->len != newkey->len || memcmp(oldkey->data, newkey->data, oldkey->len) != 0);
}

/*
 * change: one INSERT, UPDATE or DELETE.
 *
 * An UPDATE that changes the key becomes a delete under the old key and a
 * create under the new one, as Debezium does, so a compacted topic does not
 * keep the old key alive.
 */
static void
wal2avro_change(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
				Relation relation, ReorderBufferChange *change)
{
	Wal2AvroData *data = ctx->output_plugin_private;
	RelSchemaEntry *entry;
	MemoryContext old;
	TupleDesc	desc = RelationGetDescr(relation);
	HeapTuple	oldtuple = NULL;
	HeapTuple	newtuple = NULL;
	W2aRow		oldrow;
	W2aRow		newrow;
	StringInfoData oldkey;
	StringInfoData newkey;
	Relation	root = NULL;
	TupleConversionMap *map = NULL;

	switch (change->action)
	{
		case REORDER_BUFFER_CHANGE_INSERT:
		case REORDER_BUFFER_CHANGE_UPDATE:
		case REORDER_BUFFER_CHANGE_DELETE:
			break;
		default:
			return;
	}

	entry = relcache_get(data, relation);
	if (OidIsValid(entry->root_relid))
	{
		/* a partition published under its root's name and schema */
		RelSchemaEntry *part = entry;

		root = RelationIdGetRelation(part->root_relid);
		if (!RelationIsValid(root))
			elog(ERROR, "could not open relation with OID %u", part->root_relid);
		entry = relcache_get(data, root);
		desc = RelationGetDescr(root);
		map = part->root_map;
	}
	if (!entry->included)
	{
		if (root)
			RelationClose(root);
		if (++data->filtered_changes >= W2A_PROGRESS_EVERY)
		{
			W2A_UPDATE_PROGRESS(ctx, false);
			data->filtered_changes = 0;
		}
		return;
	}

	old = MemoryContextSwitchTo(data->change_cxt);

	if (!data->sent_begin)
		write_begin(ctx, data, txn, false);
	if (!entry->schema_sent)
		write_schema(ctx, data, entry);

	oldtuple = W2A_CHANGE_TUPLE(change->data.tp.oldtuple);
	newtuple = W2A_CHANGE_TUPLE(change->data.tp.newtuple);
	if (map)
	{
		if (oldtuple)
			oldtuple = execute_attr_map_tuple(oldtuple, map);
		if (newtuple)
			newtuple = execute_attr_map_tuple(newtuple, map);
	}
	/* each row is deformed at most once, whatever reads it */
	record_row_init(&oldrow, desc, oldtuple);
	record_row_init(&newrow, desc, newtuple);

	switch (change->action)
	{
		case REORDER_BUFFER_CHANGE_INSERT:
			write_change(ctx, data, entry, txn, W2A_OP_CREATE, NULL,
						 &newrow, NULL, NULL, change->lsn, true);
			break;
		case REORDER_BUFFER_CHANGE_UPDATE:
			if (oldtuple && entry->nkeys > 0 && entry->old_key_logged &&
				key_changed(data, entry, &oldrow, &newrow, &oldkey, &newkey))
			{
				write_change(ctx, data, entry, txn, W2A_OP_DELETE, &oldrow,
							 NULL, NULL, &newkey, change->lsn, false);
				write_change(ctx, data, entry, txn, W2A_OP_CREATE, NULL,
							 &newrow, &oldrow, &oldkey, change->lsn, true);
			}
			else
				write_change(ctx, data, entry, txn, W2A_OP_UPDATE, &oldrow,
							 &newrow, NULL, NULL, change->lsn, true);
			break;
		case REORDER_BUFFER_CHANGE_DELETE:
			write_change(ctx, data, entry, txn, W2A_OP_DELETE, &oldrow,
						 NULL, NULL, NULL, change->lsn, true);
			break;
		default:
			Assert(false);
	}

	MemoryContextSwitchTo(old);
	MemoryContextReset(data->change_cxt);
	if (root)
		RelationClose(root);
}

/* truncate: the included relations of one TRUNCATE, in one frame */
static void
wal2avro_truncate(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
				  int nrelations, Relation relations[], ReorderBufferChange *change)
{
	Wal2AvroData *data = ctx->output_plugin_private;
	StringInfo	out = ctx->out;
	MemoryContext old;
	RelSchemaEntry **entries;
	int			n = 0;
	int			i;
	uint8		flags = 0;

	old = MemoryContextSwitchTo(data->change_cxt);
	entries = palloc(sizeof(RelSchemaEntry *) * nrelations);
	for (i = 0; i < nrelations; i++)
	{
		RelSchemaEntry *entry = relcache_get(data, relations[i]);
		int			j;

		if (OidIsValid(entry->root_relid))
		{
			Relation	root = RelationIdGetRelation(entry->root_relid);

			if (!RelationIsValid(root))
				elog(ERROR, "could not open relation with OID %u", entry->root_relid);
			entry = relcache_get(data, root);
			RelationClose(root);
		}
		if (!entry->included)
			continue;
		for (j = 0; j < n && entries[j] != entry; j++)
			;
		if (j == n)
			entries[n++] = entry;
	}
	if (n == 0)
		goto done;

	if (change->data.truncate.cascade)
		flags |= W2A_TRUNCATE_CASCADE;
	if (change->data.truncate.restart_seqs)
		flags |= W2A_TRUNCATE_RESTART_IDENTITY;

	if (!data->sent_begin)
		write_begin(ctx, data, txn, false);

	OutputPluginPrepareWrite(ctx, true);
	if (data->format == W2A_FORMAT_JSON)
	{
		appendStringInfo(out, "{\"kind\":\"truncate\",\"lsn\":\"%X/%X\",\"cascade\":%s,\"restart_identity\":%s,\"relations\":[",
						 LSN_FORMAT_ARGS(change->lsn),
						 (flags & W2A_TRUNCATE_CASCADE) ? "true" : "false",
						 (flags & W2A_TRUNCATE_RESTART_IDENTITY) ? "true" : "false");
		for (i = 0; i < n; i++)
		{
			appendStringInfoString(out, i > 0 ? ",{\"schema\":" : "{\"schema\":");
			escape_json(out, entries[i]->nspname);
			appendStringInfoString(out, ",\"table\":");
			escape_json(out, entries[i]->relname);
			appendStringInfoChar(out, '}');
		}
		appendStringInfoString(out, "]}");
	}
	else
	{
		int			start = frame_begin(out, W2A_FRAME_TRUNCATE);

		frame_put_u8(out, flags);
		frame_put_u64(out, change->lsn);
		frame_put_u16(out, (uint16) n);
		for (i = 0; i < n; i++)
		{
			frame_put_u32(out, entries[i]->relid);
			frame_put_str(out, entries[i]->nspname);
			frame_put_str(out, entries[i]->relname);
		}
		frame_end(out, start);
	}
	OutputPluginWrite(ctx, true);

done:
	MemoryContextSwitchTo(old);
	MemoryContextReset(data->change_cxt);
}

/*
 * message: pg_logical_emit_message().  A transactional message is part of
 * its transaction; any other arrives alone, outside BEGIN/COMMIT.
 */
static void
wal2avro_message(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
				 XLogRecPtr message_lsn, bool transactional,
				 const char *prefix, Size message_size, const char *message)
{
	Wal2AvroData *data = ctx->output_plugin_private;
	StringInfo	out = ctx->out;

	if (transactional && !data->sent_begin)
		write_begin(ctx, data, txn, false);
	if (transactional)
		data->txn_messages++;

	OutputPluginPrepareWrite(ctx, true);
	if (data->format == W2A_FORMAT_JSON)
	{
		appendStringInfo(out, "{\"kind\":\"message\",\"transactional\":%s,\"lsn\":\"%X/%X\",\"prefix\":",
						 transactional ? "true" : "false", LSN_FORMAT_ARGS(message_lsn));
		escape_json(out, prefix);
		if (memchr(message, '\0', message_size) == NULL &&
			pg_verify_mbstr(GetDatabaseEncoding(), message, message_size, true))
		{
			char	   *text = pnstrdup(message, message_size);

			appendStringInfoString(out, ",\"content\":");
			escape_json(out, text);
			pfree(text);
		}
		else
		{
			Size		i;

			appendStringInfoString(out, ",\"content_hex\":\"");
			for (i = 0; i < message_size; i++)
				appendStringInfo(out, "%02x", (unsigned char) message[i]);
			appendStringInfoChar(out, '"');
		}
		appendStringInfoChar(out, '}');
	}
	else
	{
		int			start = frame_begin(out, W2A_FRAME_MESSAGE);

		frame_put_u8(out, transactional ? 1 : 0);
		frame_put_u64(out, message_lsn);
		frame_put_str(out, prefix);
		frame_put_block(out, message, (uint32) message_size);
		frame_end(out, start);
	}
	OutputPluginWrite(ctx, true);
}

/*
 * commit: always the last write of its transaction, so the position the
 * server stamps on it is the transaction's end.  A skipped empty transaction
 * still reports progress so the slot advances.
 */
static void
wal2avro_commit_txn(LogicalDecodingContext *ctx, ReorderBufferTXN *txn,
					XLogRecPtr commit_lsn)
{
	Wal2AvroData *data = ctx->output_plugin_private;
	StringInfo	out = ctx->out;

	if (!data->sent_begin)
	{
		W2A_UPDATE_PROGRESS(ctx, true);
		return;
	}

	OutputPluginPrepareWrite(ctx, true);
	if (data->format == W2A_FORMAT_JSON)
		appendStringInfo(out, "{\"kind\":\"commit\",\"xid\":%u,\"commit_lsn\":\"%X/%X\",\"end_lsn\":\"%X/%X\",\"commit_time\":" INT64_FORMAT ",\"changes\":" UINT64_FORMAT "}",
						 txn->xid, LSN_FORMAT_ARGS(commit_lsn),
						 LSN_FORMAT_ARGS(txn->end_lsn),
						 txn_commit_usecs(data, txn), data->txn_changes);
	else
	{
		int			start = frame_begin(out, W2A_FRAME_COMMIT);

		frame_put_u64(out, commit_lsn);
		frame_put_u64(out, txn->end_lsn);
		frame_put_u64(out, (uint64) txn_commit_usecs(data, txn));
		frame_put_u64(out, data->txn_changes);
		frame_end(out, start);
	}
	OutputPluginWrite(ctx, true);
	data->sent_begin = false;
	data->last_end_lsn = txn->end_lsn;
}

/* only-local: leave out changes that came from replication origins */
static bool
wal2avro_filter_by_origin(LogicalDecodingContext *ctx, RepOriginId origin_id)
{
	Wal2AvroData *data = ctx->output_plugin_private;

	return data->only_local && origin_id != InvalidRepOriginId;
}

static void
wal2avro_shutdown(LogicalDecodingContext *ctx)
{
	relcache_shutdown();
}
