/*-------------------------------------------------------------------------
 *
 * record.c
 *		A change's key and value records: their schemas (once per relation)
 *		and their encoding (per row), in Avro binary.
 *
 * The value is a Debezium-shaped envelope (before, after, source, op, ts_ms)
 * or, with envelope=flat, the row itself with __op, __lsn, __source_ts_ms
 * and __deleted.  The constant part of the Source record is encoded once per
 * relation (source_head) and copied into every change; the rest comes from
 * the W2aSource of the change, streamed or read by a snapshot.  The json
 * format is the same record, rendered from its schema (avro_to_json.c).
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * plugin/record.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/detoast.h"
#include "access/htup_details.h"
#include "mb/pg_wchar.h"
#include "utils/json.h"
#include "utils/timestamp.h"

#include "avro_to_json.h"
#include "avro_writer.h"
#include "debezium.h"
#include "record.h"
#include "rel_entry.h"
#include "schema_json.h"
#include "typemap.h"
#include "decoding_state.h"

#define W2A_SOURCE_NAME		"wal2avro.Source"

/* The flat envelope's own fields, after the row's */
static const char *const flat_meta_names[] = {"__op", "__lsn", "__source_ts_ms", "__deleted"};

#define FLAT_META_COUNT		lengthof(flat_meta_names)

static void
row_schema(SchemaBuf *sb, RelSchemaEntry *entry, const char *fullname,
		   const char *const *meta_names)
{
	int			i;

	if (!schema_record_begin(sb, fullname, NULL))
		return;
	for (i = 0; i < entry->nfields; i++)
	{
		const W2aField *f = &entry->fields[i];

		schema_field_begin(sb, i == 0, f->avro_name, f->pg_name, f->type->pg_type);
		typemap_field_schema(sb, f);
		schema_field_end(sb, "null");
	}
	if (meta_names)
	{
		static const char *const meta_types[] = {"string", "long", "long", "boolean"};

		for (i = 0; i < (int) FLAT_META_COUNT; i++)
		{
			schema_field_begin(sb, entry->nfields == 0 && i == 0, meta_names[i], NULL, NULL);
			schema_primitive(sb, meta_types[i], NULL);
			schema_field_end(sb, NULL);
		}
	}
	schema_record_end(sb);
}

static void
string_field(SchemaBuf *sb, bool first, const char *name, const char *default_json)
{
	schema_field_begin(sb, first, name, NULL, NULL);
	schema_primitive(sb, "string", NULL);
	schema_field_end(sb, default_json);
}

static void
optional_long_field(SchemaBuf *sb, const char *name)
{
	schema_field_begin(sb, false, name, NULL, NULL);
	schema_raw(sb, "[\"null\",\"long\"]");
	schema_field_end(sb, "null");
}

static void
source_schema(SchemaBuf *sb)
{
	if (!schema_record_begin(sb, W2A_SOURCE_NAME, NULL))
		return;
	string_field(sb, true, "version", NULL);
	string_field(sb, false, "connector", NULL);
	string_field(sb, false, "name", NULL);
	string_field(sb, false, "db", NULL);
	string_field(sb, false, "schema", NULL);
	string_field(sb, false, "table", NULL);
	string_field(sb, false, "snapshot", "\"false\"");
	schema_field_begin(sb, false, "ts_ms", NULL, NULL);
	schema_primitive(sb, "long", NULL);
	schema_field_end(sb, NULL);
	optional_long_field(sb, "txId");
	optional_long_field(sb, "lsn");
	optional_long_field(sb, "xmin");
	schema_record_end(sb);
}

/* Is name one of the flat envelope's fields, or the Avro name of a column? */
static bool
flat_name_used(RelSchemaEntry *entry, const char *name)
{
	int			i;

	for (i = 0; i < (int) FLAT_META_COUNT; i++)
	{
		if (strcmp(flat_meta_names[i], name) == 0)
			return true;
	}
	for (i = 0; i < entry->nfields; i++)
	{
		if (strcmp(entry->fields[i].avro_name, name) == 0)
			return true;
	}
	return false;
}

/*
 * With the flat envelope, its fields keep their documented names: a column
 * whose Avro name is one of them gets the first suffix _2, _3, ... that no
 * field of the record has, columns taken in column order.  Other columns
 * keep their names.  Changes entry->fields[].avro_name, so both formats use
 * the new name; key fields keep theirs (the key record has no such field).
 */
static void
rename_flat_clashes(RelSchemaEntry *entry)
{
	int			i,
				j;

	for (i = 0; i < entry->nfields; i++)
	{
		W2aField   *f = &entry->fields[i];

		for (j = 0; j < (int) FLAT_META_COUNT; j++)
		{
			if (strcmp(flat_meta_names[j], f->avro_name) == 0)
			{
				const char *base = f->avro_name;
				int			suffix = 2;
				char	   *candidate = psprintf("%s_%d", base, suffix);

				while (flat_name_used(entry, candidate))
					candidate = psprintf("%s_%d", base, ++suffix);
				f->avro_name = candidate;
				break;
			}
		}
	}
}

/*
 * The names of the row records, kept from composite types: a composite
 * type can have one ("composite"."public" and a type public."Value"), and
 * each must describe its own values.  Reserved in the key schema too, so a
 * composite has the same name in both.
 */
static void
reserve_row_names(SchemaBuf *sb, const char *ns)
{
	schema_reserve(sb, psprintf("%s.Key", ns));
	schema_reserve(sb, psprintf("%s.Value", ns));
	schema_reserve(sb, psprintf("%s.Envelope", ns));
}

/*
 * A name in the server encoding as an Avro string, which is UTF-8 (the
 * json format reads every string so).  As for text values, a SQL_ASCII
 * database's bytes are taken as they are.
 */
static void
write_name_utf8(StringInfo out, const char *name)
{
	int			enc = GetDatabaseEncoding();

	if (enc != PG_UTF8 && enc != PG_SQL_ASCII)
		name = pg_server_to_any(name, strlen(name), PG_UTF8);
	avro_write_string(out, name);
}

/*
 * Compute the entry's topic, key and value schemas, fingerprints and the
 * Source head.  Runs in the entry's memory context at rebuild.  With the
 * flat envelope it also renames the value fields of columns named like the
 * envelope's own fields (entry->fields[].avro_name; key fields keep theirs).
 */
void
record_build_schemas(Wal2AvroData *data, RelSchemaEntry *entry)
{
	char	   *ns;
	char	   *row_name;
	SchemaBuf	sb;
	int			i;

	if (data->compat == W2A_COMPAT_DEBEZIUM)
	{
		record_debezium_build_schemas(data, entry);
		return;
	}
	ns = psprintf("%s.%s.%s", data->avro_prefix, schema_avro_name(entry->nspname),
				  schema_avro_name(entry->relname));
	row_name = psprintf("%s.Value", ns);
	entry->topic = data->topic ? pstrdup(data->topic) :
		psprintf("%s.%s.%s", data->topic_prefix, entry->nspname, entry->relname);

	/* key */
	entry->key_schema = NULL;
	entry->key_fp = 0;
	if (entry->nkeys > 0)
	{
		schema_init(&sb);
		reserve_row_names(&sb, ns);
		schema_record_begin(&sb, psprintf("%s.Key", ns), NULL);
		for (i = 0; i < entry->nkeys; i++)
		{
			const W2aField *f = &entry->key_defs[i];

			schema_field_begin(&sb, i == 0, f->avro_name, f->pg_name, f->type->pg_type);
			typemap_field_schema(&sb, f);
			schema_field_end(&sb, NULL);
		}
		schema_record_end(&sb);
		entry->key_schema = sb.full.data;
		entry->key_fp = schema_fingerprint(sb.full.data, sb.full.len);
	}

	/* value */
	schema_init(&sb);
	reserve_row_names(&sb, ns);
	if (data->envelope == W2A_ENVELOPE_FLAT)
	{
		rename_flat_clashes(entry);
		row_schema(&sb, entry, row_name, flat_meta_names);
	}
	else
	{
		schema_record_begin(&sb, psprintf("%s.Envelope", ns), NULL);
		schema_field_begin(&sb, true, "before", NULL, NULL);
		schema_raw(&sb, "[\"null\",");
		row_schema(&sb, entry, row_name, NULL);
		schema_raw(&sb, "]");
		schema_field_end(&sb, "null");
		schema_field_begin(&sb, false, "after", NULL, NULL);
		schema_raw(&sb, "[\"null\",");
		row_schema(&sb, entry, row_name, NULL);
		schema_raw(&sb, "]");
		schema_field_end(&sb, "null");
		schema_field_begin(&sb, false, "source", NULL, NULL);
		source_schema(&sb);
		schema_field_end(&sb, NULL);
		string_field(&sb, false, "op", NULL);
		optional_long_field(&sb, "ts_ms");
		schema_record_end(&sb);
	}
	entry->value_schema = sb.full.data;
	entry->value_fp = schema_fingerprint(sb.full.data, sb.full.len);

	/* constant head of the Source record */
	initStringInfo(&entry->source_head);
	avro_write_string(&entry->source_head, WAL2AVRO_VERSION);
	avro_write_string(&entry->source_head, "wal2avro");
	write_name_utf8(&entry->source_head, data->topic_prefix);
	write_name_utf8(&entry->source_head, data->dbname);
	write_name_utf8(&entry->source_head, entry->nspname);
	write_name_utf8(&entry->source_head, entry->relname);

	entry->key_json = NULL;
	entry->value_json = NULL;
	if (data->format == W2A_FORMAT_JSON)
	{
		if (entry->key_schema)
			entry->key_json = avro_json_compile(entry->key_schema);
		entry->value_json = avro_json_compile(entry->value_schema);
	}
}

/* ------------------------------------------------------------------------
 * Per row
 * ------------------------------------------------------------------------
 */

/* An unlogged TOAST value: still a pointer to the table's TOAST relation */
static inline bool
is_unchanged_toast(const W2aField *f, Datum value, bool isnull)
{
	return f->toastable && !isnull &&
		VARATT_IS_EXTERNAL_ONDISK(DatumGetPointer(value));
}

/*
 * A change's row, not deformed yet.  Cannot fail; the tuple (NULL: no such
 * row) must outlive the row.
 */
void
record_row_init(W2aRow *row, TupleDesc desc, HeapTuple tuple)
{
	row->tuple = tuple;
	row->desc = desc;
	row->values = NULL;
	row->nulls = NULL;
}

/*
 * Write a row.  An unlogged TOAST value is taken from "fallback" (the old
 * row, under REPLICA IDENTITY FULL) when that has it, and is the Unchanged
 * marker otherwise.
 */
static void
write_row(StringInfo out, RelSchemaEntry *entry, W2aRow *row, W2aRow *fallback)
{
	int			i;

	row_deform(row);
	for (i = 0; i < entry->nfields; i++)
	{
		const W2aField *f = &entry->fields[i];
		Datum		v = row->values[f->attno];
		bool		isnull = row->nulls[f->attno];
		bool		unchanged = is_unchanged_toast(f, v, isnull);

		if (unchanged && row_present(fallback))
		{
			row_deform(fallback);
			if (!fallback->nulls[f->attno] &&
				!is_unchanged_toast(f, fallback->values[f->attno], false))
			{
				v = fallback->values[f->attno];
				unchanged = false;
			}
		}
		typemap_field_avro(out, f, v, isnull, unchanged);
	}
}

/*
 * A key column of an update PostgreSQL logged no value for: under REPLICA
 * IDENTITY NOTHING the old key is not logged, and a TOASTed key column the
 * update left alone is only a pointer.  The change then goes out without a
 * key (doc/protocol.md); say so once per table and schema.
 */
static void
warn_key_not_logged(RelSchemaEntry *entry, const W2aField *f)
{
	if (entry->key_not_logged_warned)
		return;
	entry->key_not_logged_warned = true;
	ereport(WARNING,
			(errcode(ERRCODE_WARNING),
			 errmsg("key column \"%s\" of table \"%s.%s\" was not logged: changes go out without a key",
					f->pg_name, entry->nspname, entry->relname),
			 errdetail("An update left the column's TOASTed value alone and the table's replica identity logs no old key."),
			 errhint("Set the table's replica identity to DEFAULT or FULL.")));
}

/*
 * Write the key record of a change.  Key columns come from the new tuple,
 * or from the old one for deletes and for unlogged TOASTed key values (which
 * PostgreSQL then logs in the old key; for the create half of a key change
 * the caller passes that old key).  Returns false, writing nothing, when
 * the relation has no key or the change carries none: a REPLICA IDENTITY
 * NOTHING delete, or an update whose TOASTed key column PostgreSQL did not
 * log (REPLICA IDENTITY NOTHING; warned once per table).  Never fails for
 * what the data holds.
 */
static bool
write_key(StringInfo out, RelSchemaEntry *entry, W2aRow *newrow, W2aRow *oldrow)
{
	bool		has_new = row_present(newrow);
	bool		has_old = row_present(oldrow);
	TupleDesc	desc;
	int			start = out->len;
	int			i;

	if (entry->nkeys == 0 || (!has_new && !has_old))
		return false;
	desc = has_new ? newrow->desc : oldrow->desc;
	if (has_new)
		row_deform(newrow);

	for (i = 0; i < entry->nkeys; i++)
	{
		const W2aField *f = &entry->key_defs[i];
		Datum		v;
		bool		isnull;

		if (!row_key_value(newrow, oldrow, desc, f->attno, f->nullable, &v, &isnull))
		{
			warn_key_not_logged(entry, f);
			out->len = start;
			out->data[start] = '\0';
			return false;
		}
		typemap_field_avro(out, f, v, isnull, false);
	}
	return true;
}

/*
 * The key record of a change (write_key), in the stream's format: the json
 * format renders the Avro record from its schema.
 */
bool
record_write_key(StringInfo out, Wal2AvroData *data, RelSchemaEntry *entry,
				 W2aRow *newrow, W2aRow *oldrow)
{
	StringInfoData avro;

	if (data->compat == W2A_COMPAT_DEBEZIUM)
		return record_debezium_write_key(out, entry, newrow, oldrow);
	if (data->format != W2A_FORMAT_JSON)
		return write_key(out, entry, newrow, oldrow);
	initStringInfo(&avro);
	if (!write_key(&avro, entry, newrow, oldrow))
	{
		pfree(avro.data);
		return false;
	}
	avro_json_write(out, entry->key_json, avro.data, avro.len, 0);
	pfree(avro.data);
	return true;
}

static int64
commit_ms(Wal2AvroData *data, TimestampTz commit_time)
{
	if (!data->include_timestamps)
		return 0;
	return (commit_time + ((int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY)) / 1000;
}

/*
 * Write the value record of a change: the envelope, or the flat row.
 * toast_source (may be NULL) is the old row PostgreSQL logged, where the
 * new row's unlogged TOAST values can be found.  source says where the
 * change comes from (Source's snapshot, ts_ms, txId and lsn; the flat
 * __lsn and __source_ts_ms).  Cannot fail except on memory or a value its
 * type cannot encode; allocates in the current memory context.
 */
static void
write_value(StringInfo out, Wal2AvroData *data, RelSchemaEntry *entry,
			char op, W2aRow *oldrow, W2aRow *newrow,
			W2aRow *toast_source, const W2aSource *source)
{
	char		opstr[2] = {op, '\0'};

	if (!row_present(oldrow))
		oldrow = NULL;
	if (!row_present(newrow))
		newrow = NULL;
	if (!row_present(toast_source))
		toast_source = oldrow;
	if (!data->include_before)
		oldrow = NULL;

	if (data->envelope == W2A_ENVELOPE_FLAT)
	{
		W2aRow	   *row = newrow ? newrow : oldrow;

		if (row == NULL)
		{
			/* a delete under REPLICA IDENTITY NOTHING: no row at all */
			int			i;

			for (i = 0; i < entry->nfields; i++)
				avro_write_long(out, 0);
		}
		else
			write_row(out, entry, row, row == newrow ? toast_source : NULL);

		avro_write_string(out, opstr);
		avro_write_long(out, (int64) source->lsn);
		avro_write_long(out, commit_ms(data, source->time));
		avro_write_bool(out, op == 'd');
		return;
	}

	/* before, after */
	if (oldrow)
	{
		avro_write_long(out, 1);
		write_row(out, entry, oldrow, NULL);
	}
	else
		avro_write_long(out, 0);
	if (newrow)
	{
		avro_write_long(out, 1);
		write_row(out, entry, newrow, toast_source);
	}
	else
		avro_write_long(out, 0);

	/* source: the constant head, then snapshot, ts_ms, txId, lsn, xmin */
	avro_append(out, entry->source_head.data, entry->source_head.len);
	avro_write_string(out, source->snapshot);
	avro_write_long(out, commit_ms(data, source->time));
	avro_write_optional_long(out, TransactionIdIsValid(source->xid), source->xid);
	avro_write_optional_long(out, !XLogRecPtrIsInvalid(source->lsn), (int64) source->lsn);
	avro_write_long(out, 0);

	avro_write_string(out, opstr);
	if (data->include_timestamps)
	{
		avro_write_long(out, 1);
		avro_write_long(out, data->txn_ts_ms);
	}
	else
		avro_write_long(out, 0);
}

/*
 * The value record of a change (write_value), in the stream's format: the
 * json format renders the Avro record from its schema.  A flat change
 * without any row (a delete under REPLICA IDENTITY NOTHING) leaves its
 * null columns out of the JSON, as the json format always has.
 */
void
record_write_value(StringInfo out, Wal2AvroData *data, RelSchemaEntry *entry,
				   char op, W2aRow *oldrow, W2aRow *newrow,
				   W2aRow *toast_source, const W2aSource *source)
{
	StringInfoData avro;
	int			omit = 0;

	if (data->compat == W2A_COMPAT_DEBEZIUM)
	{
		record_debezium_write_value(out, data, entry, op, oldrow, newrow, toast_source, source);
		return;
	}
	if (data->format != W2A_FORMAT_JSON)
	{
		write_value(out, data, entry, op, oldrow, newrow, toast_source, source);
		return;
	}
	if (data->envelope == W2A_ENVELOPE_FLAT && !row_present(newrow) &&
		(!data->include_before || !row_present(oldrow)))
		omit = entry->nfields;
	initStringInfo(&avro);
	write_value(&avro, data, entry, op, oldrow, newrow, toast_source, source);
	avro_json_write(out, entry->value_json, avro.data, avro.len, omit);
	pfree(avro.data);
}
