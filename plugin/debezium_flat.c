/*-------------------------------------------------------------------------
 *
 * debezium_flat.c
 *		compat=debezium, envelope=flat: the value Debezium 3.6's
 *		ExtractNewRecordState ("unwrap") SMT makes of the Envelope.
 *
 * The value keeps the Value record's name (`<prefix>.<schema>.<table>.Value`)
 * and its column fields, then, with a rewrite delete-tombstone-handling-mode,
 * __deleted (an optional string, "true" for a delete, else "false"), then
 * the add-fields in the order given: each an optional copy of the schema of
 * the envelope, source or transaction field it names (as the SMT's
 * FieldReference copies the schema basics and makes them optional).  The
 * value of a change is its after row; of a delete, its before row (the
 * rewrite modes; with the others the relay writes no value or no record,
 * see doc/debezium.md).  This order was observed in Debezium 3.6.1's records.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * plugin/debezium_flat.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/transam.h"
#include "utils/json.h"

#include "debezium.h"
#include "wal2avro_protocol.h"

/* The fields add-fields can name */
typedef enum DbzFlatWhat
{
	FLAT_OP,
	FLAT_TS_MS,
	FLAT_TS_US,
	FLAT_TS_NS,
	FLAT_SRC_VERSION,
	FLAT_SRC_CONNECTOR,
	FLAT_SRC_NAME,
	FLAT_SRC_TS_MS,
	FLAT_SRC_SNAPSHOT,
	FLAT_SRC_DB,
	FLAT_SRC_SEQUENCE,
	FLAT_SRC_TS_US,
	FLAT_SRC_TS_NS,
	FLAT_SRC_SCHEMA,
	FLAT_SRC_TABLE,
	FLAT_SRC_TXID,
	FLAT_SRC_LSN,
	FLAT_SRC_XMIN,
	FLAT_SRC_ORIGIN,
	FLAT_SRC_ORIGIN_LSN,
	FLAT_TX_ID,
	FLAT_TX_TOTAL_ORDER,
	FLAT_TX_COLLECTION_ORDER
} DbzFlatWhat;

#define OPT_STRING	"[\"null\",\"string\"]"
#define OPT_LONG	"[\"null\",\"long\"]"
#define OPT_ENUM \
	"[\"null\",{\"type\":\"string\",\"connect.version\":1," \
	"\"connect.parameters\":{\"allowed\":\"true,first,first_in_data_collection,last_in_data_collection,last,false,incremental\"}," \
	"\"connect.name\":\"io.debezium.data.Enum\"}]"

/*
 * In DbzFlatWhat order: the struct holding the field ("" for the
 * envelope's own), its name, the optional schema of its copy.
 */
static const struct
{
	const char *parent;
	const char *name;
	const char *schema;
}			flat_fields[] = {
	{"", "op", OPT_STRING},
	{"", "ts_ms", OPT_LONG},
	{"", "ts_us", OPT_LONG},
	{"", "ts_ns", OPT_LONG},
	{"source", "version", OPT_STRING},
	{"source", "connector", OPT_STRING},
	{"source", "name", OPT_STRING},
	{"source", "ts_ms", OPT_LONG},
	{"source", "snapshot", OPT_ENUM},
	{"source", "db", OPT_STRING},
	{"source", "sequence", OPT_STRING},
	{"source", "ts_us", OPT_LONG},
	{"source", "ts_ns", OPT_LONG},
	{"source", "schema", OPT_STRING},
	{"source", "table", OPT_STRING},
	{"source", "txId", OPT_LONG},
	{"source", "lsn", OPT_LONG},
	{"source", "xmin", OPT_LONG},
	{"source", "origin", OPT_STRING},
	{"source", "origin_lsn", OPT_LONG},
	{"transaction", "id", OPT_STRING},
	{"transaction", "total_order", OPT_LONG},
	{"transaction", "data_collection_order", OPT_LONG},
};

/* An Avro name: [A-Za-z_][A-Za-z0-9_]* */
static bool
valid_avro_name(const char *s)
{
	if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
		return false;
	for (s++; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
			  (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

/*
 * One item of add-fields, as the SMT reads it: "[struct.]field[:name]".
 * Without a struct, op and ts_ms/us/ns are the envelope's, id, total_order
 * and data_collection_order the transaction's, anything else the source's.
 * The new field is prefix + field (prefix + struct + "_" + field when the
 * struct is named), or prefix + name.  ERROR naming the option on a field
 * Debezium's PostgreSQL envelope does not have (the SMT leaves those out
 * silently) or a name Avro refuses.
 */
DbzFlatField *
debezium_flat_field(const char *item, const char *prefix)
{
	char	   *copy = pstrdup(item);
	char	   *rename = strchr(copy, ':');
	char	   *dot;
	const char *parent;
	const char *field;
	DbzFlatField *f = palloc0(sizeof(DbzFlatField));
	int			i;

	if (rename)
		*rename++ = '\0';
	dot = strchr(copy, '.');
	if (dot)
	{
		*dot = '\0';
		parent = copy;
		field = dot + 1;
	}
	else
	{
		field = copy;
		if (strcmp(field, "op") == 0 || strncmp(field, "ts_", 3) == 0)
			parent = "";
		else if (strcmp(field, "id") == 0 || strcmp(field, "total_order") == 0 ||
				 strcmp(field, "data_collection_order") == 0)
			parent = "transaction";
		else
			parent = "source";
	}
	f->what = -1;
	for (i = 0; i < lengthof(flat_fields); i++)
		if (strcmp(flat_fields[i].parent, parent) == 0 && strcmp(flat_fields[i].name, field) == 0)
			f->what = i;
	if (f->what < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid value for option \"add-fields\": \"%s\"", item),
				 errdetail("Debezium's PostgreSQL change event has no field \"%s%s%s\".",
						   parent, *parent ? "." : "", field),
				 errhint("Fields are op, ts_ms, ts_us, ts_ns, the source's (as source.ts_ms, or table) and the transaction's (id, total_order, data_collection_order).")));
	if (rename && *rename)
		f->avro_name = psprintf("%s%s", prefix, rename);
	else if (dot)
		f->avro_name = psprintf("%s%s_%s", prefix, parent, field);
	else
		f->avro_name = psprintf("%s%s", prefix, field);
	if (!valid_avro_name(f->avro_name))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid value for option \"add-fields\": \"%s\"", item),
				 errdetail("The field's name \"%s\" is not an Avro name.", f->avro_name),
				 errhint("Names start with a letter or an underscore and go on with letters, digits and underscores; check \"add-fields-prefix\" too.")));
	return f;
}

static bool
rewrites_deletes(const Wal2AvroData *data)
{
	return data->delete_mode == W2A_DELETE_REWRITE ||
		data->delete_mode == W2A_DELETE_REWRITE_TOMBSTONE;
}

/* ERROR when the flat value would have two fields of one name */
static void
check_name(RelSchemaEntry *entry, List *names, const char *name)
{
	ListCell   *lc;

	foreach(lc, names)
		if (strcmp((char *) lfirst(lc), name) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_COLUMN),
					 errmsg("the flat value of table \"%s.%s\" would have two fields \"%s\"",
							entry->nspname, entry->relname, name),
					 errhint("Choose other names with \"add-fields\" (field:name) or \"add-fields-prefix\".")));
}

/*
 * The flat value's schema, in the entry's memory context at rebuild.
 */
void
debezium_flat_schema(SchemaBuf *sb, Wal2AvroData *data, RelSchemaEntry *entry,
					 const char *value_name)
{
	DbzRelation *dbz = entry->dbz;
	List	   *names = NIL;
	ListCell   *lc;
	bool		first = dbz->ncols == 0;
	int			i;

	for (i = 0; i < dbz->ncols; i++)
		names = lappend(names, dbz->cols[i].field->avro_name);
	schema_record_begin(sb, value_name, NULL);
	debezium_columns_fields(sb, dbz->cols, dbz->ncols);
	if (rewrites_deletes(data))
	{
		check_name(entry, names, "__deleted");
		names = lappend(names, "__deleted");
		schema_field_begin(sb, first, "__deleted", NULL, NULL);
		schema_raw(sb, OPT_STRING);
		schema_field_end(sb, "null");
		first = false;
	}
	foreach(lc, data->flat_fields)
	{
		DbzFlatField *f = lfirst(lc);

		check_name(entry, names, f->avro_name);
		names = lappend(names, f->avro_name);
		schema_field_begin(sb, first, f->avro_name, NULL, NULL);
		schema_raw(sb, flat_fields[f->what].schema);
		schema_field_end(sb, "null");
		first = false;
	}
	schema_raw(sb, "],\"connect.name\":");
	escape_json(&sb->full, value_name);
	schema_raw(sb, "}");
	list_free(names);
}

static void
write_opt_string(StringInfo out, const char *s)
{
	avro_write_long(out, 1);
	avro_write_string(out, s);
}

static void
write_opt_name(StringInfo out, const char *s)
{
	avro_write_long(out, 1);
	debezium_write_name(out, s);
}

/*
 * The flat value of a change: the row, __deleted, the add-fields.
 * Arguments as record_debezium_write_value's, rows already checked.  A
 * delete without an old row (REPLICA IDENTITY NOTHING) writes its columns
 * as nulls (Debezium's fallbacks for the NOT NULL ones).
 */
void
debezium_flat_write_value(StringInfo out, Wal2AvroData *data, RelSchemaEntry *entry,
						  char op, W2aRow *oldrow, W2aRow *newrow,
						  W2aRow *toast_source, const W2aSource *source)
{
	DbzRelation *dbz = entry->dbz;
	bool		has_lsn = !XLogRecPtrIsInvalid(source->lsn);
	bool		ts = data->include_timestamps;
	int64		commit_us = ts ? source->time + W2A_EPOCH_USECS : 0;
	bool		txn_done = false;
	bool		has_txn = false;
	int64		total = 0,
				dco = 0;
	char		opstr[2] = {op, '\0'};
	ListCell   *lc;
	int			i;

	if (op == W2A_OP_DELETE)
	{
		if (oldrow)
			debezium_write_row(out, dbz, oldrow, NULL);
		else
			for (i = 0; i < dbz->ncols; i++)
				debezium_typemap_value(out, &dbz->cols[i], (Datum) 0, true, false);
	}
	else
		debezium_write_row(out, dbz, newrow, toast_source);

	if (rewrites_deletes(data))
		write_opt_string(out, op == W2A_OP_DELETE ? "true" : "false");

	foreach(lc, data->flat_fields)
	{
		DbzFlatField *f = lfirst(lc);

		switch ((DbzFlatWhat) f->what)
		{
			case FLAT_OP:
				write_opt_string(out, opstr);
				break;
			case FLAT_TS_MS:
				avro_write_optional_long(out, ts, data->txn_ts_ms);
				break;
			case FLAT_TS_US:
				avro_write_optional_long(out, ts, data->txn_ts_ms * 1000);
				break;
			case FLAT_TS_NS:
				avro_write_optional_long(out, ts, data->txn_ts_ms * 1000000);
				break;
			case FLAT_SRC_VERSION:
				write_opt_string(out, WAL2AVRO_VERSION);
				break;
			case FLAT_SRC_CONNECTOR:
				write_opt_string(out, "postgresql");
				break;
			case FLAT_SRC_NAME:
				write_opt_name(out, data->topic_prefix);
				break;
			case FLAT_SRC_TS_MS:
				avro_write_optional_long(out, true, commit_us / 1000);
				break;
			case FLAT_SRC_SNAPSHOT:
				/* a streamed change's is null (the envelope shows the default) */
				if (strcmp(source->snapshot, "false") == 0)
					avro_write_long(out, 0);
				else
					write_opt_string(out, debezium_snapshot_mark(data, source->snapshot));
				break;
			case FLAT_SRC_DB:
				write_opt_name(out, data->dbname);
				break;
			case FLAT_SRC_SEQUENCE:
				if (has_lsn)
					debezium_write_sequence(out, data->last_end_lsn, source->lsn);
				else
					avro_write_long(out, 0);
				break;
			case FLAT_SRC_TS_US:
				avro_write_optional_long(out, ts, commit_us);
				break;
			case FLAT_SRC_TS_NS:
				avro_write_optional_long(out, ts, commit_us * 1000);
				break;
			case FLAT_SRC_SCHEMA:
				write_opt_name(out, entry->nspname);
				break;
			case FLAT_SRC_TABLE:
				write_opt_name(out, entry->relname);
				break;
			case FLAT_SRC_TXID:
				if (op == W2A_OP_READ)
					avro_write_optional_long(out, data->snapshot_txid != 0, data->snapshot_txid);
				else
					avro_write_optional_long(out, TransactionIdIsValid(source->xid), source->xid);
				break;
			case FLAT_SRC_LSN:
				avro_write_optional_long(out, has_lsn, (int64) source->lsn);
				break;
			case FLAT_SRC_XMIN:
			case FLAT_SRC_ORIGIN:
			case FLAT_SRC_ORIGIN_LSN:
				avro_write_long(out, 0);
				break;
			case FLAT_TX_ID:
			case FLAT_TX_TOTAL_ORDER:
			case FLAT_TX_COLLECTION_ORDER:
				/* counted once per change, however many are added */
				if (!txn_done)
				{
					has_txn = debezium_txn_position(data, dbz, source, &total, &dco);
					txn_done = true;
				}
				if (!has_txn)
					avro_write_long(out, 0);
				else if (f->what == FLAT_TX_ID)
					write_opt_string(out, psprintf("%u:" UINT64_FORMAT, source->xid,
												   (uint64) source->lsn));
				else
					avro_write_optional_long(out, true, f->what == FLAT_TX_TOTAL_ORDER ? total : dco);
				break;
		}
	}
}
