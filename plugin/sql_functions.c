/*-------------------------------------------------------------------------
 *
 * sql_functions.c
 *		The extension's SQL-callable functions: a table's Avro schemas, and
 *		one frame decoded to jsonb.
 *
 * wal2avro.avro_schemas() builds the schemas with the same code the output
 * plugin runs (relcache.c, record.c), under the caller's snapshot, so what
 * it shows is what the stream will carry for the given options.
 * wal2avro.frame_to_jsonb() is a strict reader of doc/protocol.md: anything
 * truncated, oversized or unknown is an ERROR, never a crash.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * plugin/sql_functions.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "catalog/catalog.h"
#include "catalog/pg_class.h"
#include "commands/dbcommands.h"
#include "commands/defrem.h"
#include "miscadmin.h"
#include "funcapi.h"
#include "nodes/makefuncs.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "options.h"
#include "relcache.h"
#include "sql_functions.h"
#include "decoding_state.h"
#include "wal2avro_protocol.h"

PG_FUNCTION_INFO_V1(wal2avro_avro_schemas);
PG_FUNCTION_INFO_V1(wal2avro_frame_to_jsonb);
PG_FUNCTION_INFO_V1(wal2avro_published);

/*
 * Options as the SQL decoding functions take them: a text array of
 * alternating names and values, turned into the DefElem list the plugin
 * parses (options_parse).  ERROR on an odd count or a null name;
 * allocates in the current memory context.
 */
List *
sql_options_from_array(ArrayType *arr)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n,
				i;
	List	   *options = NIL;

	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	if (n % 2 != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("array of options must have an even number of elements")));
	for (i = 0; i < n; i += 2)
	{
		Node	   *arg = NULL;

		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("option name must not be null")));
		if (!nulls[i + 1])
			arg = (Node *) makeString(TextDatumGetCString(elems[i + 1]));
		options = lappend(options, makeDefElem(TextDatumGetCString(elems[i]), arg, -1));
	}
	return options;
}

/*
 * wal2avro.avro_schemas(rel regclass, options text[])
 *		-> (topic, key_columns, key_schema, value_schema, key_fingerprint,
 *			value_fingerprint)
 */
Datum
wal2avro_avro_schemas(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	TupleDesc	tupdesc;
	Wal2AvroData data;
	RelSchemaEntry entry;
	Relation	rel;
	Datum		values[6];
	bool		nulls[6] = {false};
	Datum	   *keys;
	int			i;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	memset(&data, 0, sizeof(data));
	data.cache_cxt = CurrentMemoryContext;
	data.dbname = get_database_name(MyDatabaseId);
	options_parse(&data, PG_ARGISNULL(1) ? NIL :
				  sql_options_from_array(PG_GETARG_ARRAYTYPE_P(1)));

	rel = table_open(relid, AccessShareLock);
	if (rel->rd_rel->relkind != RELKIND_RELATION &&
		rel->rd_rel->relkind != RELKIND_PARTITIONED_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a table", RelationGetRelationName(rel))));
	relcache_build_entry(&data, rel, &entry);
	table_close(rel, AccessShareLock);

	if (!entry.included)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("table \"%s.%s\" is left out by the table filters",
						entry.nspname, entry.relname)));

	keys = palloc(sizeof(Datum) * Max(entry.nkeys, 1));
	for (i = 0; i < entry.nkeys; i++)
		keys[i] = CStringGetTextDatum(entry.key_defs[i].pg_name);

	values[0] = CStringGetTextDatum(entry.topic);
	values[1] = PointerGetDatum(construct_array(keys, entry.nkeys, TEXTOID, -1,
												false, TYPALIGN_INT));
	if (entry.key_schema)
		values[2] = DirectFunctionCall1(json_in, CStringGetDatum(entry.key_schema));
	else
		nulls[2] = true;
	values[3] = DirectFunctionCall1(json_in, CStringGetDatum(entry.value_schema));
	values[4] = CStringGetTextDatum(psprintf("%016llx", (unsigned long long) entry.key_fp));
	values[5] = CStringGetTextDatum(psprintf("%016llx", (unsigned long long) entry.value_fp));
	if (!entry.key_schema)
		nulls[4] = true;

	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/*
 * wal2avro.published(rel regclass, options text[]) -> boolean
 *
 * Would the stream carry this table's changes under these options?  A
 * client choosing the tables of an initial snapshot asks it, so the plugin
 * options decide alone, exactly as in the stream.  False, not an ERROR, for
 * what the stream never carries: anything but a permanent table (or leaf
 * partition), system tables, and tables the filters leave out.
 */
Datum
wal2avro_published(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	Wal2AvroData data;
	RelSchemaEntry entry;
	Relation	rel;
	bool		included;

	memset(&data, 0, sizeof(data));
	data.cache_cxt = CurrentMemoryContext;
	data.dbname = get_database_name(MyDatabaseId);
	options_parse(&data, PG_ARGISNULL(1) ? NIL :
				  sql_options_from_array(PG_GETARG_ARRAYTYPE_P(1)));

	rel = try_relation_open(relid, AccessShareLock);
	if (rel == NULL)
		PG_RETURN_BOOL(false);
	if (rel->rd_rel->relkind != RELKIND_RELATION ||
		rel->rd_rel->relpersistence != RELPERSISTENCE_PERMANENT ||
		IsCatalogRelation(rel))
	{
		relation_close(rel, AccessShareLock);
		PG_RETURN_BOOL(false);
	}
	relcache_build_entry(&data, rel, &entry);
	if (OidIsValid(entry.root_relid))
	{
		/* published as its root (publish-via-partition-root): its filters */
		Relation	root = table_open(entry.root_relid, AccessShareLock);

		relcache_build_entry(&data, root, &entry);
		table_close(root, AccessShareLock);
	}
	included = entry.included;
	relation_close(rel, AccessShareLock);
	PG_RETURN_BOOL(included);
}

/* ------------------------------------------------------------------------
 * Frame reader
 * ------------------------------------------------------------------------
 */
typedef struct FrameReader
{
	const unsigned char *p;
	uint32		left;
} FrameReader;

static void
frame_error(const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
			 errmsg("invalid wal2avro frame: %s", what)));
}

static const unsigned char *
take(FrameReader *r, uint32 n, const char *field)
{
	const unsigned char *p = r->p;

	if (n > r->left)
		frame_error(psprintf("truncated at field \"%s\"", field));
	r->p += n;
	r->left -= n;
	return p;
}

static uint64
take_u64(FrameReader *r, const char *field)
{
	return w2a_get_u64(take(r, 8, field));
}

static uint32
take_u32(FrameReader *r, const char *field)
{
	return w2a_get_u32(take(r, 4, field));
}

static void
put_lsn(StringInfo out, const char *name, uint64 lsn)
{
	appendStringInfo(out, ",\"%s\":\"%X/%X\"", name,
					 (uint32) (lsn >> 32), (uint32) lsn);
}

static void
put_str(StringInfo out, FrameReader *r, const char *name)
{
	uint32		len = take_u32(r, name);
	const char *s = (const char *) take(r, len, name);
	char	   *copy = pnstrdup(s, len);

	if (strlen(copy) != len)
		frame_error(psprintf("field \"%s\" contains a zero byte", name));
	appendStringInfo(out, ",\"%s\":", name);
	escape_json(out, copy);
}

/* A block as "\\x" hex, or null when absent */
static void
put_block(StringInfo out, FrameReader *r, const char *name)
{
	uint32		len = take_u32(r, name);
	const unsigned char *b;
	uint32		i;

	appendStringInfo(out, ",\"%s\":", name);
	if (len == W2A_NO_BLOCK)
	{
		appendStringInfoString(out, "null");
		return;
	}
	b = take(r, len, name);
	appendStringInfoString(out, "\"\\\\x");
	for (i = 0; i < len; i++)
		appendStringInfo(out, "%02x", b[i]);
	appendStringInfoChar(out, '"');
}

static void
put_time(StringInfo out, FrameReader *r, const char *name)
{
	appendStringInfo(out, ",\"%s\":" INT64_FORMAT, name, (int64) take_u64(r, name));
}

/* A schema JSON string, embedded as JSON (checked by the jsonb parser) */
static void
put_schema(StringInfo out, FrameReader *r, const char *name)
{
	uint32		len = take_u32(r, name);
	const char *s = (const char *) take(r, len, name);

	char	   *copy;

	appendStringInfo(out, ",\"%s\":", name);
	if (len == 0)
	{
		appendStringInfoString(out, "null");
		return;
	}
	copy = pnstrdup(s, len);
	if (strlen(copy) != len)
		frame_error(psprintf("field \"%s\" contains a zero byte", name));
	/* a complete JSON value cannot change the shape of what surrounds it */
	(void) DirectFunctionCall1(json_in, CStringGetDatum(copy));
	appendStringInfoString(out, copy);
}

/*
 * wal2avro.frame_to_jsonb(frame bytea) -> jsonb: the frame's fields by name;
 * Avro payloads as hex.  ERROR on anything that is not exactly one frame.
 */
Datum
wal2avro_frame_to_jsonb(PG_FUNCTION_ARGS)
{
	bytea	   *frame = PG_GETARG_BYTEA_PP(0);
	FrameReader r;
	StringInfoData out;
	const unsigned char *h;
	uint32		body;
	char		kind;
	uint32		i,
				n;

	r.p = (const unsigned char *) VARDATA_ANY(frame);
	r.left = VARSIZE_ANY_EXHDR(frame);

	if (r.left < W2A_HEADER_SIZE)
		frame_error("shorter than the header");
	h = take(&r, W2A_HEADER_SIZE, "header");
	if (!w2a_has_magic(h))
		frame_error("bad magic");
	if (h[3] != W2A_PROTOCOL_VERSION)
		frame_error(psprintf("unknown protocol version %d", h[3]));
	if (h[5] != 0 &&
		!(h[4] == W2A_FRAME_CHANGE && (h[5] & ~W2A_CHANGE_FLAGS) == 0))
		frame_error(psprintf("unknown flags 0x%02x", h[5]));
	body = w2a_get_u32(h + 6);
	if (body != r.left)
		frame_error(psprintf("body length %u does not match the %u bytes present",
							 body, r.left));
	kind = (char) h[4];

	initStringInfo(&out);
	switch (kind)
	{
		case W2A_FRAME_BEGIN:
			appendStringInfoString(&out, "{\"kind\":\"begin\"");
			appendStringInfo(&out, ",\"xid\":%u", take_u32(&r, "xid"));
			put_lsn(&out, "commit_lsn", take_u64(&r, "commit_lsn"));
			put_time(&out, &r, "commit_time");
			break;
		case W2A_FRAME_SCHEMA:
			appendStringInfoString(&out, "{\"kind\":\"schema\"");
			appendStringInfo(&out, ",\"relid\":%u", take_u32(&r, "relid"));
			appendStringInfo(&out, ",\"key_fingerprint\":\"%016llx\"",
							 (unsigned long long) take_u64(&r, "key_fingerprint"));
			appendStringInfo(&out, ",\"value_fingerprint\":\"%016llx\"",
							 (unsigned long long) take_u64(&r, "value_fingerprint"));
			put_str(&out, &r, "schema");
			put_str(&out, &r, "table");
			put_str(&out, &r, "topic");
			n = w2a_get_u16(take(&r, 2, "key_column_count"));
			appendStringInfoString(&out, ",\"key_columns\":[");
			for (i = 0; i < n; i++)
			{
				StringInfoData col;

				initStringInfo(&col);
				put_str(&col, &r, "key_column");
				if (i > 0)
					appendStringInfoChar(&out, ',');
				/* put_str wrote ,"key_column":"..."; keep the value */
				appendStringInfoString(&out, strchr(col.data, ':') + 1);
			}
			appendStringInfoChar(&out, ']');
			put_schema(&out, &r, "key_schema");
			put_schema(&out, &r, "value_schema");
			break;
		case W2A_FRAME_CHANGE:
			{
				char		op = (char) *take(&r, 1, "op");

				/* t and m: compat=debezium's truncate and message records */
				if (op != W2A_OP_CREATE && op != W2A_OP_UPDATE &&
					op != W2A_OP_DELETE && op != W2A_OP_READ &&
					op != W2A_OP_TRUNCATE && op != W2A_OP_MESSAGE)
					frame_error(psprintf("unknown op 0x%02x", (unsigned char) op));
				appendStringInfo(&out, "{\"kind\":\"change\",\"op\":\"%c\"", op);
				appendStringInfo(&out, ",\"relid\":%u", take_u32(&r, "relid"));
				put_lsn(&out, "lsn", take_u64(&r, "lsn"));
				appendStringInfo(&out, ",\"key_fingerprint\":\"%016llx\"",
								 (unsigned long long) take_u64(&r, "key_fingerprint"));
				appendStringInfo(&out, ",\"value_fingerprint\":\"%016llx\"",
								 (unsigned long long) take_u64(&r, "value_fingerprint"));
				put_block(&out, &r, "key");
				put_block(&out, &r, "value");
				/* one half of a key change: the other half's key */
				if (h[5] & W2A_CHANGE_KEY_CHANGE)
					put_block(&out, &r, "other_key");
				/* compat=debezium: a message outside any transaction */
				if (h[5] & W2A_CHANGE_NON_TRANSACTIONAL)
				{
					if (op != W2A_OP_MESSAGE || (h[5] & W2A_CHANGE_KEY_CHANGE))
						frame_error("flag NON_TRANSACTIONAL on a change that is not a message");
					appendStringInfoString(&out, ",\"transactional\":false");
				}
			}
			break;
		case W2A_FRAME_TRUNCATE:
			{
				uint8		flags = *take(&r, 1, "flags");

				appendStringInfo(&out, "{\"kind\":\"truncate\",\"cascade\":%s,\"restart_identity\":%s",
								 (flags & W2A_TRUNCATE_CASCADE) ? "true" : "false",
								 (flags & W2A_TRUNCATE_RESTART_IDENTITY) ? "true" : "false");
				put_lsn(&out, "lsn", take_u64(&r, "lsn"));
				n = w2a_get_u16(take(&r, 2, "relation_count"));
				appendStringInfoString(&out, ",\"relations\":[");
				for (i = 0; i < n; i++)
				{
					appendStringInfo(&out, "%s{\"relid\":%u", i > 0 ? "," : "",
									 take_u32(&r, "relid"));
					put_str(&out, &r, "schema");
					put_str(&out, &r, "table");
					appendStringInfoChar(&out, '}');
				}
				appendStringInfoChar(&out, ']');
			}
			break;
		case W2A_FRAME_MESSAGE:
			appendStringInfo(&out, "{\"kind\":\"message\",\"transactional\":%s",
							 *take(&r, 1, "transactional") ? "true" : "false");
			put_lsn(&out, "lsn", take_u64(&r, "lsn"));
			put_str(&out, &r, "prefix");
			put_block(&out, &r, "content");
			break;
		case W2A_FRAME_COMMIT:
			appendStringInfoString(&out, "{\"kind\":\"commit\"");
			put_lsn(&out, "commit_lsn", take_u64(&r, "commit_lsn"));
			put_lsn(&out, "end_lsn", take_u64(&r, "end_lsn"));
			put_time(&out, &r, "commit_time");
			appendStringInfo(&out, ",\"changes\":" UINT64_FORMAT,
							 take_u64(&r, "change_count"));
			break;
		default:
			frame_error(psprintf("unknown frame kind 0x%02x", (unsigned char) kind));
	}
	if (r.left != 0)
		frame_error(psprintf("%u bytes after the last field", r.left));
	appendStringInfoChar(&out, '}');

	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(out.data)));
}
