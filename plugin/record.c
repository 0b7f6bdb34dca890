/*-------------------------------------------------------------------------
 *
 * record.c
 *		A change's key and value records: their schemas (once per relation)
 *		and their encoding (per row), in Avro binary or JSON.
 *
 * The value is a Debezium-shaped envelope (before, after, source, op, ts_ms)
 * or, with envelope=flat, the row itself with __op, __lsn, __source_ts_ms
 * and __deleted.  The constant part of the Source record is encoded once per
 * relation (source_head) and copied into every change; the rest comes from
 * the W2aSource of the change, streamed or read by a snapshot.
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
#include "utils/json.h"
#include "utils/timestamp.h"

#include "wal2avro.h"

#define W2A_SOURCE_NAME		"wal2avro.Source"

/* Fields of wal2avro.Source after the constant head, for the JSON format too */
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

/*
 * Compute the entry's topic, key and value schemas, fingerprints and the
 * Source head.  Runs in the entry's memory context at rebuild.
 */
void
record_build_schemas(Wal2AvroData *data, RelSchemaEntry *entry)
{
	char	   *ns;
	char	   *row_name;
	SchemaBuf	sb;
	int			i;

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
	if (data->envelope == W2A_ENVELOPE_FLAT)
	{
		char	  **names = palloc(sizeof(char *) * (entry->nfields + FLAT_META_COUNT));

		for (i = 0; i < entry->nfields; i++)
			names[i] = entry->fields[i].avro_name;
		for (i = 0; i < (int) FLAT_META_COUNT; i++)
			names[entry->nfields + i] = (char *) flat_meta_names[i];
		schema_make_unique(names, entry->nfields + FLAT_META_COUNT);
		row_schema(&sb, entry, row_name, (const char *const *) names + entry->nfields);
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
	avro_write_string(&entry->source_head, data->topic_prefix);
	avro_write_string(&entry->source_head, data->dbname);
	avro_write_string(&entry->source_head, entry->nspname);
	avro_write_string(&entry->source_head, entry->relname);
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

static void
deform(TupleDesc desc, HeapTuple tuple, Datum **values, bool **nulls)
{
	*values = palloc(sizeof(Datum) * desc->natts);
	*nulls = palloc(sizeof(bool) * desc->natts);
	heap_deform_tuple(tuple, desc, *values, *nulls);
}

/*
 * Write a row.  An unlogged TOAST value is taken from "fallback" (the old
 * row, under REPLICA IDENTITY FULL) when that has it, and is the Unchanged
 * marker otherwise.
 */
static void
write_row(StringInfo out, Wal2AvroData *data, RelSchemaEntry *entry,
		  TupleDesc desc, HeapTuple tuple, HeapTuple fallback)
{
	Datum	   *values;
	bool	   *nulls;
	Datum	   *oldvalues = NULL;
	bool	   *oldnulls = NULL;
	int			i;

	deform(desc, tuple, &values, &nulls);
	if (data->format == W2A_FORMAT_JSON)
		appendStringInfoChar(out, '{');
	for (i = 0; i < entry->nfields; i++)
	{
		const W2aField *f = &entry->fields[i];
		Datum		v = values[f->attno];
		bool		isnull = nulls[f->attno];
		bool		unchanged = is_unchanged_toast(f, v, isnull);

		if (unchanged && fallback)
		{
			if (oldvalues == NULL)
				deform(desc, fallback, &oldvalues, &oldnulls);
			if (!oldnulls[f->attno] &&
				!is_unchanged_toast(f, oldvalues[f->attno], false))
			{
				v = oldvalues[f->attno];
				unchanged = false;
			}
		}

		if (data->format == W2A_FORMAT_JSON)
		{
			if (i > 0)
				appendStringInfoChar(out, ',');
			escape_json(out, f->avro_name);
			appendStringInfoChar(out, ':');
			typemap_field_json(out, f, v, isnull, unchanged);
		}
		else
			typemap_field_avro(out, f, v, isnull, unchanged);
	}
	if (data->format == W2A_FORMAT_JSON && data->envelope == W2A_ENVELOPE_DEBEZIUM)
		appendStringInfoChar(out, '}');
}

/*
 * Write the key record of a change.  Key columns come from the new tuple,
 * or from the old one for deletes and for unlogged TOASTed key values (which
 * PostgreSQL then logs in the old key).  Returns false, writing nothing, when
 * the relation has no key or the change carries none (REPLICA IDENTITY
 * NOTHING deletes).
 */
bool
record_write_key(StringInfo out, Wal2AvroData *data, RelSchemaEntry *entry,
				 TupleDesc desc, HeapTuple newtuple, HeapTuple oldtuple)
{
	Datum	   *newvals = NULL,
			   *oldvals = NULL;
	bool	   *newnulls = NULL,
			   *oldnulls = NULL;
	int			i;

	if (entry->nkeys == 0 || (newtuple == NULL && oldtuple == NULL))
		return false;
	if (newtuple)
		deform(desc, newtuple, &newvals, &newnulls);
	if (oldtuple)
		deform(desc, oldtuple, &oldvals, &oldnulls);

	if (data->format == W2A_FORMAT_JSON)
		appendStringInfoChar(out, '{');
	for (i = 0; i < entry->nkeys; i++)
	{
		const W2aField *f = &entry->key_defs[i];
		Datum		v = 0;
		bool		isnull = true;
		bool		new_usable = false;

		if (newvals)
			new_usable = newnulls[f->attno] ||
				TupleDescAttr(desc, f->attno)->attlen != -1 ||
				!VARATT_IS_EXTERNAL_ONDISK(DatumGetPointer(newvals[f->attno]));
		if (new_usable)
		{
			v = newvals[f->attno];
			isnull = newnulls[f->attno];
		}
		else if (oldvals)
		{
			v = oldvals[f->attno];
			isnull = oldnulls[f->attno];
		}
		else if (!f->nullable)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("key column \"%s\" of \"%s.%s\" was not logged",
							f->pg_name, entry->nspname, entry->relname)));

		/* a chosen key column PostgreSQL did not log (see key-columns) */
		if (!isnull && f->nullable &&
			TupleDescAttr(desc, f->attno)->attlen == -1 &&
			VARATT_IS_EXTERNAL_ONDISK(DatumGetPointer(v)))
			isnull = true;

		if (data->format == W2A_FORMAT_JSON)
		{
			if (i > 0)
				appendStringInfoChar(out, ',');
			escape_json(out, f->avro_name);
			appendStringInfoChar(out, ':');
			typemap_field_json(out, f, v, isnull, false);
		}
		else
			typemap_field_avro(out, f, v, isnull, false);
	}
	if (data->format == W2A_FORMAT_JSON)
		appendStringInfoChar(out, '}');
	return true;
}

static int64
commit_ms(Wal2AvroData *data, TimestampTz commit_time)
{
	if (!data->include_timestamps)
		return 0;
	return (commit_time + ((int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY)) / 1000;
}

static void
write_source_json(StringInfo out, Wal2AvroData *data, RelSchemaEntry *entry,
				  const W2aSource *source)
{
	appendStringInfo(out, "{\"version\":\"%s\",\"connector\":\"wal2avro\",\"name\":",
					 WAL2AVRO_VERSION);
	escape_json(out, data->topic_prefix);
	appendStringInfoString(out, ",\"db\":");
	escape_json(out, data->dbname);
	appendStringInfoString(out, ",\"schema\":");
	escape_json(out, entry->nspname);
	appendStringInfoString(out, ",\"table\":");
	escape_json(out, entry->relname);
	appendStringInfoString(out, ",\"snapshot\":");
	escape_json(out, source->snapshot);
	appendStringInfo(out, ",\"ts_ms\":" INT64_FORMAT, commit_ms(data, source->time));
	if (TransactionIdIsValid(source->xid))
		appendStringInfo(out, ",\"txId\":%u", source->xid);
	else
		appendStringInfoString(out, ",\"txId\":null");
	if (!XLogRecPtrIsInvalid(source->lsn))
		appendStringInfo(out, ",\"lsn\":" UINT64_FORMAT ",\"xmin\":null}",
						 (uint64) source->lsn);
	else
		appendStringInfoString(out, ",\"lsn\":null,\"xmin\":null}");
}

/* An optional long of the Source record: null, or the value */
static void
write_optional_long(StringInfo out, bool present, int64 v)
{
	avro_write_long(out, present ? 1 : 0);
	if (present)
		avro_write_long(out, v);
}

/*
 * Write the value record of a change: the envelope, or the flat row.
 * toast_source (may be NULL) is the old row PostgreSQL logged, where the
 * new row's unlogged TOAST values can be found.  source says where the
 * change comes from (Source's snapshot, ts_ms, txId and lsn; the flat
 * __lsn and __source_ts_ms).  Cannot fail except on memory or a value its
 * type cannot encode; allocates in the current memory context.
 */
void
record_write_value(StringInfo out, Wal2AvroData *data, RelSchemaEntry *entry,
				   TupleDesc desc, char op, HeapTuple oldtuple,
				   HeapTuple newtuple, HeapTuple toast_source,
				   const W2aSource *source)
{
	bool		json = (data->format == W2A_FORMAT_JSON);
	char		opstr[2] = {op, '\0'};

	if (toast_source == NULL)
		toast_source = oldtuple;
	if (!data->include_before)
		oldtuple = NULL;

	if (data->envelope == W2A_ENVELOPE_FLAT)
	{
		HeapTuple	row = newtuple ? newtuple : oldtuple;

		if (row == NULL)
		{
			/* a delete under REPLICA IDENTITY NOTHING: no row at all */
			if (json)
				appendStringInfoChar(out, '{');
			else
			{
				int			i;

				for (i = 0; i < entry->nfields; i++)
					avro_write_long(out, 0);
			}
		}
		else
			write_row(out, data, entry, desc, row, row == newtuple ? toast_source : NULL);

		if (json)
		{
			appendStringInfo(out, "%s\"__op\":\"%c\",\"__lsn\":" UINT64_FORMAT
							 ",\"__source_ts_ms\":" INT64_FORMAT ",\"__deleted\":%s}",
							 (row && entry->nfields > 0) ? "," : "",
							 op, (uint64) source->lsn, commit_ms(data, source->time),
							 op == 'd' ? "true" : "false");
		}
		else
		{
			avro_write_string(out, opstr);
			avro_write_long(out, (int64) source->lsn);
			avro_write_long(out, commit_ms(data, source->time));
			avro_write_bool(out, op == 'd');
		}
		return;
	}

	if (json)
	{
		appendStringInfoString(out, "{\"before\":");
		if (oldtuple)
			write_row(out, data, entry, desc, oldtuple, NULL);
		else
			appendStringInfoString(out, "null");
		appendStringInfoString(out, ",\"after\":");
		if (newtuple)
			write_row(out, data, entry, desc, newtuple, toast_source);
		else
			appendStringInfoString(out, "null");
		appendStringInfoString(out, ",\"source\":");
		write_source_json(out, data, entry, source);
		appendStringInfo(out, ",\"op\":\"%c\",\"ts_ms\":", op);
		if (data->include_timestamps)
			appendStringInfo(out, INT64_FORMAT "}", data->txn_ts_ms);
		else
			appendStringInfoString(out, "null}");
		return;
	}

	/* before, after */
	if (oldtuple)
	{
		avro_write_long(out, 1);
		write_row(out, data, entry, desc, oldtuple, NULL);
	}
	else
		avro_write_long(out, 0);
	if (newtuple)
	{
		avro_write_long(out, 1);
		write_row(out, data, entry, desc, newtuple, toast_source);
	}
	else
		avro_write_long(out, 0);

	/* source: the constant head, then snapshot, ts_ms, txId, lsn, xmin */
	appendBinaryStringInfo(out, entry->source_head.data, entry->source_head.len);
	avro_write_string(out, source->snapshot);
	avro_write_long(out, commit_ms(data, source->time));
	write_optional_long(out, TransactionIdIsValid(source->xid), source->xid);
	write_optional_long(out, !XLogRecPtrIsInvalid(source->lsn), (int64) source->lsn);
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
