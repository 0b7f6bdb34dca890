/*-------------------------------------------------------------------------
 *
 * debezium_record.c
 *		compat=debezium: a change's Key record and Envelope, with Debezium's
 *		names, Source block and fields, as AvroData converts them.
 *
 * The Envelope is `<prefix>.<schema>.<table>.Envelope` (Connect version 2):
 * before, after (["null", Value]), source (io.debezium.connector.postgresql
 * .Source), transaction (["null", event.block]; null: provide.transaction.
 * metadata is off by default; provide-transaction-metadata), op, ts_ms, ts_us, ts_ns (processing time).
 * The Source's fields are Debezium's, in its order: version, connector
 * ("postgresql"), name (the topic prefix), ts_ms (commit time), snapshot
 * (an io.debezium.data.Enum with default "false", so [string, "null"]),
 * db, sequence (["<end of the previous transaction>","<lsn>"] as text),
 * ts_us, ts_ns, schema, table, txId, lsn, xmin, origin, origin_lsn.
 * version is wal2avro's own: it names the software that wrote the record.
 * Snapshot rows (op 'r') carry what snapshot_frames() was told: lsn and
 * sequence the slot's consistent point (snapshot-lsn), txId the snapshot
 * transaction's (snapshot-txid); null when not told.
 * Constant parts of the Source are encoded once per relation.
 * With envelope=flat the value is ExtractNewRecordState's instead
 * (debezium_flat.c), built from the same pieces.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * plugin/debezium_record.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/detoast.h"
#include "access/htup_details.h"
#include "catalog/pg_attribute.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/syscache.h"

#include "compat.h"
#include "debezium.h"
#include "wal2avro_protocol.h"

/* Is the column NOT NULL?  Debezium declares those non-optional. */
static bool
column_not_null(Oid relid, int attno)
{
	HeapTuple	tp = SearchSysCache2(ATTNUM, ObjectIdGetDatum(relid),
									 Int16GetDatum(attno + 1));
	bool		result;

	if (!HeapTupleIsValid(tp))
		elog(ERROR, "cache lookup failed for attribute %d of relation %u", attno + 1, relid);
	result = ((Form_pg_attribute) GETSTRUCT(tp))->attnotnull;
	ReleaseSysCache(tp);
	return result;
}

/* A name in the server encoding as an Avro string (UTF-8) */
void
debezium_write_name(StringInfo out, const char *name)
{
	int			enc = GetDatabaseEncoding();

	if (enc != PG_UTF8 && enc != PG_SQL_ASCII)
		name = pg_server_to_any(name, strlen(name), PG_UTF8);
	avro_write_string(out, name);
}

/* The fields of a record of columns, after schema_record_begin */
void
debezium_columns_fields(SchemaBuf *sb, const DbzColumn *cols, int n)
{
	int			i;

	for (i = 0; i < n; i++)
	{
		schema_field_begin(sb, i == 0, cols[i].field->avro_name, NULL, NULL);
		debezium_typemap_schema(sb, &cols[i]);
		schema_field_end(sb, cols[i].optional ? "null" : NULL);
	}
}

/* A record of columns: Key or Value, with its connect.name */
static void
columns_record(SchemaBuf *sb, const char *fullname, const DbzColumn *cols, int n)
{
	if (!schema_record_begin(sb, fullname, NULL))
		return;
	debezium_columns_fields(sb, cols, n);
	schema_raw(sb, "],\"connect.name\":");
	escape_json(&sb->full, fullname);
	schema_raw(sb, "}");
}

static void
optional_long_field(SchemaBuf *sb, const char *name)
{
	schema_field_begin(sb, false, name, NULL, NULL);
	schema_raw(sb, "[\"null\",\"long\"]");
	schema_field_end(sb, "null");
}

/*
 * Compute the entry's Debezium mapping (entry->dbz), topic, key and value
 * schemas and fingerprints.  Runs in the entry's memory context at
 * rebuild, under the historic snapshot (reads NOT NULL flags, enum
 * labels).  Columns of a type Debezium leaves out are not published.
 */
void
record_debezium_build_schemas(Wal2AvroData *data, RelSchemaEntry *entry)
{
	DbzRelation *dbz = palloc0(sizeof(DbzRelation));
	char	   *ns;
	char	   *value_name;
	SchemaBuf	sb;
	int			i;

	entry->dbz = dbz;
	entry->key_json = NULL;
	entry->value_json = NULL;
	ns = psprintf("%s.%s.%s", data->avro_prefix, schema_avro_name(entry->nspname),
				  schema_avro_name(entry->relname));
	value_name = psprintf("%s.Value", ns);
	entry->topic = data->topic ? pstrdup(data->topic) :
		psprintf("%s.%s.%s", data->topic_prefix, entry->nspname, entry->relname);

	dbz->cols = palloc0(sizeof(DbzColumn) * Max(entry->nfields, 1));
	for (i = 0; i < entry->nfields; i++)
	{
		const W2aField *f = &entry->fields[i];

		if (debezium_typemap_build(&dbz->cols[dbz->ncols], f, entry->relid,
								   !column_not_null(entry->relid, f->attno), &data->dbz_modes))
			dbz->ncols++;
	}
	dbz->keys = palloc0(sizeof(DbzColumn) * Max(entry->nkeys, 1));
	for (i = 0; i < entry->nkeys; i++)
	{
		const W2aField *kf = &entry->key_defs[i];

		if (!debezium_typemap_build(&dbz->keys[i], kf, entry->relid, kf->nullable, &data->dbz_modes))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("key column \"%s\" of table \"%s.%s\" has a type Debezium leaves out",
							kf->pg_name, entry->nspname, entry->relname),
					 errdetail("With \"compat\" = \"debezium\", composite types are not published."),
					 errhint("Choose other key columns with \"key-columns\".")));
	}
	dbz->nkeys = entry->nkeys;

	/* key */
	entry->key_schema = NULL;
	entry->key_fp = 0;
	if (dbz->nkeys > 0)
	{
		schema_init(&sb);
		columns_record(&sb, psprintf("%s.Key", ns), dbz->keys, dbz->nkeys);
		entry->key_schema = sb.full.data;
		entry->key_fp = schema_fingerprint(sb.full.data, sb.full.len);
	}

	/* value: the flat row (envelope=flat), or the Envelope */
	if (data->envelope == W2A_ENVELOPE_FLAT)
	{
		schema_init(&sb);
		debezium_flat_schema(&sb, data, entry, value_name);
		entry->value_schema = sb.full.data;
		entry->value_fp = schema_fingerprint(sb.full.data, sb.full.len);
		return;
	}
	schema_init(&sb);
	schema_record_begin(&sb, psprintf("%s.Envelope", ns), NULL);
	schema_field_begin(&sb, true, "before", NULL, NULL);
	schema_raw(&sb, "[\"null\",");
	columns_record(&sb, value_name, dbz->cols, dbz->ncols);
	schema_raw(&sb, "]");
	schema_field_end(&sb, "null");
	schema_field_begin(&sb, false, "after", NULL, NULL);
	schema_raw(&sb, "[\"null\",");
	columns_record(&sb, value_name, dbz->cols, dbz->ncols);
	schema_raw(&sb, "]");
	schema_field_end(&sb, "null");
	schema_field_begin(&sb, false, "source", NULL, NULL);
	schema_raw(&sb, DBZ_SOURCE_SCHEMA);
	schema_field_end(&sb, NULL);
	schema_field_begin(&sb, false, "transaction", NULL, NULL);
	schema_raw(&sb, DBZ_BLOCK_SCHEMA);
	schema_field_end(&sb, "null");
	schema_field_begin(&sb, false, "op", NULL, NULL);
	schema_raw(&sb, "\"string\"");
	schema_field_end(&sb, NULL);
	optional_long_field(&sb, "ts_ms");
	optional_long_field(&sb, "ts_us");
	optional_long_field(&sb, "ts_ns");
	schema_raw(&sb, "],\"connect.version\":2,\"connect.name\":");
	escape_json(&sb.full, psprintf("%s.Envelope", ns));
	schema_raw(&sb, "}");
	entry->value_schema = sb.full.data;
	entry->value_fp = schema_fingerprint(sb.full.data, sb.full.len);

	/* constant parts of the Source */
	initStringInfo(&dbz->source_head);
	avro_write_string(&dbz->source_head, WAL2AVRO_VERSION);
	avro_write_string(&dbz->source_head, "postgresql");
	debezium_write_name(&dbz->source_head, data->topic_prefix);
	initStringInfo(&dbz->source_db);
	debezium_write_name(&dbz->source_db, data->dbname);
	initStringInfo(&dbz->source_table);
	debezium_write_name(&dbz->source_table, entry->nspname);
	debezium_write_name(&dbz->source_table, entry->relname);
}

/* ------------------------------------------------------------------------
 * Per row
 * ------------------------------------------------------------------------
 */

static inline bool
is_unchanged_toast(const DbzColumn *col, Datum value, bool isnull)
{
	return col->toastable && !isnull &&
		VARATT_IS_EXTERNAL_ONDISK(DatumGetPointer(value));
}

/*
 * Write a row.  An unlogged TOAST value is taken from "fallback" (the old
 * row under REPLICA IDENTITY FULL) when that has it, and is Debezium's
 * placeholder otherwise.
 */
void
debezium_write_row(StringInfo out, const DbzRelation *dbz, W2aRow *row, W2aRow *fallback)
{
	int			i;

	row_deform(row);
	for (i = 0; i < dbz->ncols; i++)
	{
		const DbzColumn *col = &dbz->cols[i];
		int			attno = col->field->attno;
		Datum		v = row->values[attno];
		bool		isnull = row->nulls[attno];
		bool		unchanged = is_unchanged_toast(col, v, isnull);

		if (unchanged && row_present(fallback))
		{
			row_deform(fallback);
			if (!fallback->nulls[attno] &&
				!is_unchanged_toast(col, fallback->values[attno], false))
			{
				v = fallback->values[attno];
				unchanged = false;
			}
		}
		debezium_typemap_value(out, col, v, isnull, unchanged);
	}
}

/*
 * Write the Key record of a change, as record.c's write_key does for
 * wal2avro's records: key columns from the new row, or from the old one
 * for deletes and unlogged TOASTed key values.  Returns false, writing
 * nothing, when the relation has no key or the change carries none.
 */
bool
record_debezium_write_key(StringInfo out, RelSchemaEntry *entry, W2aRow *newrow,
						  W2aRow *oldrow)
{
	const DbzRelation *dbz = entry->dbz;
	bool		has_new = row_present(newrow);
	bool		has_old = row_present(oldrow);
	TupleDesc	desc;
	int			start = out->len;
	int			i;

	if (dbz->nkeys == 0 || (!has_new && !has_old))
		return false;
	desc = has_new ? newrow->desc : oldrow->desc;
	if (has_new)
		row_deform(newrow);
	for (i = 0; i < dbz->nkeys; i++)
	{
		const DbzColumn *col = &dbz->keys[i];
		Datum		v;
		bool		isnull;

		if (!row_key_value(newrow, oldrow, desc, col->field->attno, col->optional,
						   &v, &isnull))
		{
			out->len = start;
			out->data[start] = '\0';
			return false;
		}
		debezium_typemap_value(out, col, v, isnull, false);
	}
	return true;
}

/*
 * The envelope's transaction block (provide-transaction-metadata):
 * Debezium's id "<txId>:<lsn of the event>", the event's place among the
 * transaction's events (changes and transactional messages) and among its
 * events of this table.  Null for snapshot rows and without the option.
 */
bool
debezium_txn_position(Wal2AvroData *data, DbzRelation *dbz, const W2aSource *source,
					  int64 *total_order, int64 *collection_order)
{
	if (!data->provide_txmeta || !TransactionIdIsValid(source->xid) ||
		XLogRecPtrIsInvalid(source->lsn))
		return false;
	if (dbz->txn_xid != source->xid)
	{
		dbz->txn_xid = source->xid;
		dbz->txn_events = 0;
	}
	dbz->txn_events++;
	*total_order = (int64) (data->txn_changes + data->txn_messages + 1);
	*collection_order = dbz->txn_events;
	return true;
}

static void
write_transaction(StringInfo out, Wal2AvroData *data, DbzRelation *dbz,
				  const W2aSource *source)
{
	int64		total,
				dco;

	if (!debezium_txn_position(data, dbz, source, &total, &dco))
	{
		avro_write_long(out, 0);
		return;
	}
	avro_write_long(out, 1);
	avro_write_string(out, psprintf("%u:" UINT64_FORMAT, source->xid, (uint64) source->lsn));
	avro_write_long(out, total);
	avro_write_long(out, dco);
}

/*
 * Source.sequence, present: ["<last_end>","<lsn>"] as text ([null,...]
 * before a first transaction was sent), formatted without allocating.
 */
void
debezium_write_sequence(StringInfo out, XLogRecPtr last_end, XLogRecPtr lsn)
{
	char		buf[64];
	int			n = 0;

	buf[n++] = '[';
	if (XLogRecPtrIsInvalid(last_end))
	{
		memcpy(buf + n, "null", 4);
		n += 4;
	}
	else
	{
		buf[n++] = '"';
		n += W2A_ULLTOA_N((uint64) last_end, buf + n);
		buf[n++] = '"';
	}
	buf[n++] = ',';
	buf[n++] = '"';
	n += W2A_ULLTOA_N((uint64) lsn, buf + n);
	buf[n++] = '"';
	buf[n++] = ']';
	avro_write_long(out, 1);
	avro_write_bytes(out, buf, n);
}

/*
 * Debezium's snapshot marks: per table, "first"/"last" are
 * "..._in_data_collection"; the last row of the snapshot's last table
 * (snapshot-last-table) is "last".
 */
const char *
debezium_snapshot_mark(const Wal2AvroData *data, const char *mark)
{
	if (mark[0] == 'f' && strcmp(mark, "first") == 0)
		return "first_in_data_collection";
	if (mark[0] == 'l' && strcmp(mark, "last") == 0)
		return data->snapshot_last_table ? "last" : "last_in_data_collection";
	return mark;
}

/*
 * Write the Envelope of a change.  Arguments as record_write_value's:
 * toast_source (may be NULL) is the old row where unlogged TOAST values of
 * the new row may be found; source says where the change comes from.
 * Allocates in the current memory context.
 */
void
record_debezium_write_value(StringInfo out, Wal2AvroData *data, RelSchemaEntry *entry,
							char op, W2aRow *oldrow, W2aRow *newrow,
							W2aRow *toast_source, const W2aSource *source)
{
	DbzRelation *dbz = entry->dbz;
	char		opstr[2] = {op, '\0'};
	bool		has_lsn = !XLogRecPtrIsInvalid(source->lsn);
	int64		commit_us = 0;

	if (!row_present(oldrow))
		oldrow = NULL;
	if (!row_present(newrow))
		newrow = NULL;
	if (!row_present(toast_source))
		toast_source = oldrow;
	if (data->envelope == W2A_ENVELOPE_FLAT)
	{
		debezium_flat_write_value(out, data, entry, op, oldrow, newrow, toast_source, source);
		return;
	}
	if (!data->include_before)
		oldrow = NULL;
	if (data->include_timestamps)
		commit_us = source->time + W2A_EPOCH_USECS;

	/* before, after */
	avro_write_long(out, oldrow ? 1 : 0);
	if (oldrow)
		debezium_write_row(out, dbz, oldrow, NULL);
	avro_write_long(out, newrow ? 1 : 0);
	if (newrow)
		debezium_write_row(out, dbz, newrow, toast_source);

	/* source */
	avro_append(out, dbz->source_head.data, dbz->source_head.len);
	avro_write_long(out, commit_us / 1000);
	avro_write_long(out, 0);	/* snapshot: the string branch */
	avro_write_string(out, debezium_snapshot_mark(data, source->snapshot));
	avro_append(out, dbz->source_db.data, dbz->source_db.len);
	if (has_lsn)
		debezium_write_sequence(out, data->last_end_lsn, source->lsn);
	else
		avro_write_long(out, 0);
	avro_write_optional_long(out, data->include_timestamps, commit_us);
	avro_write_optional_long(out, data->include_timestamps, commit_us * 1000);
	avro_append(out, dbz->source_table.data, dbz->source_table.len);
	if (op == W2A_OP_READ)
		avro_write_optional_long(out, data->snapshot_txid != 0, data->snapshot_txid);
	else
		avro_write_optional_long(out, TransactionIdIsValid(source->xid), source->xid);
	avro_write_optional_long(out, has_lsn, (int64) source->lsn);
	avro_write_long(out, 0);	/* xmin */
	avro_write_long(out, 0);	/* origin */
	avro_write_long(out, 0);	/* origin_lsn */

	write_transaction(out, data, entry->dbz, source);
	avro_write_string(out, opstr);
	avro_write_optional_long(out, data->include_timestamps, data->txn_ts_ms);
	avro_write_optional_long(out, data->include_timestamps, data->txn_ts_ms * 1000);
	avro_write_optional_long(out, data->include_timestamps, data->txn_ts_ms * 1000000);
}
