/*-------------------------------------------------------------------------
 *
 * debezium_typemap.c
 *		compat=debezium: a column's Connect type as Debezium's PostgreSQL
 *		connector (3.6, defaults) declares it, written as Confluent's AvroData
 *		converts it; chosen once per column, with the value's encoder.
 *
 * Debezium's defaults (each a mode the options can change, W2aDbzModes):
 * decimal.handling.mode=precise (numeric(p,s) is a
 * Connect Decimal, numeric without typmod io.debezium.data.VariableScaleDecimal,
 * money a Decimal of scale 2), time.precision.mode=adaptive (date
 * io.debezium.time.Date, time and timestamp micro- or millisecond types by
 * their precision, timestamptz io.debezium.time.ZonedTimestamp text in UTC,
 * timetz ZonedTime), binary.handling.mode=bytes, interval.handling.mode=numeric
 * (MicroDuration: months of 365.25/12 days), the unavailable-value
 * placeholder for unchanged TOAST, hstore.handling.mode=json (the hstore
 * as a JSON object in io.debezium.data.Json).  The other modes:
 * decimal double (numeric and money as double, NaN and the infinities as
 * such) or string (numeric's text, NaN and the infinities as "NAN",
 * "POSITIVE_INFINITY", "NEGATIVE_INFINITY"; money with two decimals);
 * binary base64, base64-url-safe, hex (a string); time connect (Connect's
 * Date, Time and Timestamp, milliseconds) or adaptive_time_microseconds
 * (every time MicroTime); interval string (io.debezium.time.Interval,
 * "P<y>Y<m>M<d>DT<h>H<m>M<s>S"); hstore map (a map of optional strings).
 * Composite columns Debezium leaves out
 * (include.unknown.datatypes=false); so does this mapping.
 *
 * AvroData writes a Connect schema's name, version, parameters and default
 * as connect.* properties of the Avro type, an int16 as an int with
 * connect.type, a Decimal as bytes with logicalType decimal (precision 38
 * unless connect.decimal.precision says), and an optional type as
 * ["null", T] (or [T, "null"] when it has a default).
 *
 * The encoder (debezium_values.c) is a function pointer chosen here:
 * encoding a value is one indirect call, no branch on the type.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * plugin/debezium_typemap.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_enum.h"
#include "catalog/pg_type.h"
#include "utils/catcache.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "debezium.h"
/* ------------------------------------------------------------------------
 * Schemas
 * ------------------------------------------------------------------------
 */

/* A primitive with Connect's name and version, as AvroData writes it */
static void
named_primitive(SchemaBuf *sb, const char *type, const char *name)
{
	appendStringInfo(&sb->full, "{\"type\":\"%s\",\"connect.version\":1,\"connect.name\":\"%s\"}",
					 type, name);
}

static void
base_schema(SchemaBuf *sb, const DbzColumn *col)
{
	switch ((DbzKind) col->kind)
	{
		case DBZ_BOOL:
		case DBZ_BIT_BOOL:
			schema_raw(sb, "\"boolean\"");
			break;
		case DBZ_INT16:
			schema_raw(sb, "{\"type\":\"int\",\"connect.type\":\"int16\"}");
			break;
		case DBZ_INT32:
			schema_raw(sb, "\"int\"");
			break;
		case DBZ_INT64:
		case DBZ_OID:
			schema_raw(sb, "\"long\"");
			break;
		case DBZ_FLOAT:
			schema_raw(sb, "\"float\"");
			break;
		case DBZ_DOUBLE:
			schema_raw(sb, "\"double\"");
			break;
		case DBZ_DECIMAL:
			appendStringInfo(&sb->full,
							 "{\"type\":\"bytes\",\"scale\":%d,\"precision\":%d,\"connect.version\":1,"
							 "\"connect.parameters\":{\"scale\":\"%d\",\"connect.decimal.precision\":\"%d\"},"
							 "\"connect.name\":\"org.apache.kafka.connect.data.Decimal\",\"logicalType\":\"decimal\"}",
							 col->scale, col->field->type->precision, col->scale,
							 col->field->type->precision);
			break;
		case DBZ_MONEY:
			schema_raw(sb, "{\"type\":\"bytes\",\"scale\":2,\"precision\":64,\"connect.version\":1,"
					   "\"connect.parameters\":{\"scale\":\"2\"},"
					   "\"connect.name\":\"org.apache.kafka.connect.data.Decimal\",\"logicalType\":\"decimal\"}");
			break;
		case DBZ_VSD:
			if (schema_record_begin(sb, "io.debezium.data.VariableScaleDecimal", NULL))
			{
				schema_raw(sb, "{\"name\":\"scale\",\"type\":\"int\"},{\"name\":\"value\",\"type\":\"bytes\"}],"
						   "\"connect.doc\":\"Variable scaled decimal\",\"connect.version\":1,"
						   "\"connect.name\":\"io.debezium.data.VariableScaleDecimal\"}");
			}
			break;
		case DBZ_STRING:
			schema_raw(sb, "\"string\"");
			break;
		case DBZ_JSON:
			named_primitive(sb, "string", "io.debezium.data.Json");
			break;
		case DBZ_XML:
			named_primitive(sb, "string", "io.debezium.data.Xml");
			break;
		case DBZ_TSVECTOR:
			named_primitive(sb, "string", "io.debezium.data.Tsvector");
			break;
		case DBZ_ENUM:
			appendStringInfoString(&sb->full,
								   "{\"type\":\"string\",\"connect.version\":1,\"connect.parameters\":{\"allowed\":");
			escape_json(&sb->full, col->allowed);
			appendStringInfoString(&sb->full, "},\"connect.name\":\"io.debezium.data.Enum\"}");
			break;
		case DBZ_BYTES:
			schema_raw(sb, "\"bytes\"");
			break;
		case DBZ_DATE:
			named_primitive(sb, "int", "io.debezium.time.Date");
			break;
		case DBZ_TIMESTAMP_MILLI:
			named_primitive(sb, "long", "io.debezium.time.Timestamp");
			break;
		case DBZ_TIMESTAMP_MICRO:
			named_primitive(sb, "long", "io.debezium.time.MicroTimestamp");
			break;
		case DBZ_ZONED_TIMESTAMP:
			named_primitive(sb, "string", "io.debezium.time.ZonedTimestamp");
			break;
		case DBZ_TIME_MILLI:
			named_primitive(sb, "int", "io.debezium.time.Time");
			break;
		case DBZ_TIME_MICRO:
			named_primitive(sb, "long", "io.debezium.time.MicroTime");
			break;
		case DBZ_ZONED_TIME:
			named_primitive(sb, "string", "io.debezium.time.ZonedTime");
			break;
		case DBZ_INTERVAL:
			named_primitive(sb, "long", "io.debezium.time.MicroDuration");
			break;
		case DBZ_UUID:
			named_primitive(sb, "string", "io.debezium.data.Uuid");
			break;
		case DBZ_BITS:
			appendStringInfo(&sb->full,
							 "{\"type\":\"bytes\",\"connect.version\":1,\"connect.parameters\":{\"length\":\"%d\"},"
							 "\"connect.name\":\"io.debezium.data.Bits\"}", col->length);
			break;
		case DBZ_ARRAY:
			schema_raw(sb, "{\"type\":\"array\",\"items\":");
			debezium_typemap_schema(sb, col->elem);
			schema_raw(sb, "}");
			break;
		case DBZ_DECIMAL_DOUBLE:
		case DBZ_MONEY_DOUBLE:
			schema_raw(sb, "\"double\"");
			break;
		case DBZ_DECIMAL_STRING:
		case DBZ_MONEY_STRING:
		case DBZ_BASE64:
		case DBZ_BASE64_URL_SAFE:
		case DBZ_HEX:
			schema_raw(sb, "\"string\"");
			break;
		case DBZ_CONNECT_DATE:
			schema_raw(sb, "{\"type\":\"int\",\"connect.version\":1,"
					   "\"connect.name\":\"org.apache.kafka.connect.data.Date\",\"logicalType\":\"date\"}");
			break;
		case DBZ_CONNECT_TIME:
			schema_raw(sb, "{\"type\":\"int\",\"connect.version\":1,"
					   "\"connect.name\":\"org.apache.kafka.connect.data.Time\",\"logicalType\":\"time-millis\"}");
			break;
		case DBZ_CONNECT_TIMESTAMP:
			schema_raw(sb, "{\"type\":\"long\",\"connect.version\":1,"
					   "\"connect.name\":\"org.apache.kafka.connect.data.Timestamp\",\"logicalType\":\"timestamp-millis\"}");
			break;
		case DBZ_INTERVAL_STRING:
			named_primitive(sb, "string", "io.debezium.time.Interval");
			break;
		case DBZ_HSTORE_JSON:
			named_primitive(sb, "string", "io.debezium.data.Json");
			break;
		case DBZ_HSTORE_MAP:
			schema_raw(sb, "{\"type\":\"map\",\"values\":[\"null\",\"string\"]}");
			break;
	}
}

/*
 * Write a column's type: ["null", T] for an optional one (its field's
 * default is null), T otherwise.
 */
void
debezium_typemap_schema(SchemaBuf *sb, const DbzColumn *col)
{
	if (col->optional)
		schema_raw(sb, "[\"null\",");
	base_schema(sb, col);
	if (col->optional)
		schema_raw(sb, "]");
}

/* ------------------------------------------------------------------------
 * Choosing the mapping, once per column
 * ------------------------------------------------------------------------
 */

/* An enum's labels in their sort order, comma-separated (io.debezium.data.Enum "allowed") */
static char *
enum_labels(Oid typid)
{
	CatCList   *list = SearchSysCacheList1(ENUMTYPOIDNAME, ObjectIdGetDatum(typid));
	int			n = list->n_members;
	float4	   *orders = palloc(sizeof(float4) * Max(n, 1));
	char	  **labels = palloc(sizeof(char *) * Max(n, 1));
	StringInfoData buf;
	int			i,
				j;

	for (i = 0; i < n; i++)
	{
		Form_pg_enum e = (Form_pg_enum) GETSTRUCT(&list->members[i]->tuple);
		float4		order = e->enumsortorder;
		char	   *label = pstrdup(NameStr(e->enumlabel));

		/* insertion sort by enumsortorder: enums are small */
		for (j = i; j > 0 && orders[j - 1] > order; j--)
		{
			orders[j] = orders[j - 1];
			labels[j] = labels[j - 1];
		}
		orders[j] = order;
		labels[j] = label;
	}
	ReleaseSysCacheList(list);
	initStringInfo(&buf);
	for (i = 0; i < n; i++)
	{
		if (i > 0)
			appendStringInfoChar(&buf, ',');
		appendStringInfoString(&buf, labels[i]);
	}
	return buf.data;
}

/* Is the type the hstore extension's (Debezium finds it by name)? */
static bool
type_is_hstore(Oid typid)
{
	HeapTuple	tup = SearchSysCache1(TYPEOID, ObjectIdGetDatum(typid));
	bool		result = false;

	if (HeapTupleIsValid(tup))
	{
		Form_pg_type t = (Form_pg_type) GETSTRUCT(tup);

		result = t->typtype == TYPTYPE_BASE && strcmp(NameStr(t->typname), "hstore") == 0;
		ReleaseSysCache(tup);
	}
	return result;
}

/* numeric and money in decimal.handling.mode */
static int
decimal_kind(int precise, int money, const W2aDbzModes *modes)
{
	switch ((W2aDecimalMode) modes->decimal)
	{
		case W2A_DECIMAL_PRECISE:
			break;
		case W2A_DECIMAL_DOUBLE:
			return money ? DBZ_MONEY_DOUBLE : DBZ_DECIMAL_DOUBLE;
		case W2A_DECIMAL_STRING:
			return money ? DBZ_MONEY_STRING : DBZ_DECIMAL_STRING;
	}
	return precise;
}

/* bytea in binary.handling.mode */
static int
binary_kind(const W2aDbzModes *modes)
{
	switch ((W2aBinaryMode) modes->binary)
	{
		case W2A_BINARY_BYTES:
			break;
		case W2A_BINARY_BASE64:
			return DBZ_BASE64;
		case W2A_BINARY_BASE64_URL_SAFE:
			return DBZ_BASE64_URL_SAFE;
		case W2A_BINARY_HEX:
			return DBZ_HEX;
	}
	return DBZ_BYTES;
}

/* The kind of a W2aType in the modes, or -1 for a type Debezium leaves out */
static int
choose_kind(DbzColumn *col, const W2aType *type, const W2aDbzModes *modes)
{
	int			precision = type->typmod >= 0 ? type->typmod : 6;
	bool		connect = modes->time == W2A_TIME_CONNECT;

	switch (type->kind)
	{
		case W2A_T_BOOL:
			return DBZ_BOOL;
		case W2A_T_INT2:
			return DBZ_INT16;
		case W2A_T_INT4:
			return DBZ_INT32;
		case W2A_T_INT8:
			return DBZ_INT64;
		case W2A_T_OID:
			return DBZ_OID;
		case W2A_T_FLOAT4:
			return DBZ_FLOAT;
		case W2A_T_FLOAT8:
			return DBZ_DOUBLE;
		case W2A_T_NUMERIC_FIXED:
			col->scale = type->scale;
			return decimal_kind(DBZ_DECIMAL, false, modes);
		case W2A_T_NUMERIC_VAR:
			return decimal_kind(DBZ_VSD, false, modes);
		case W2A_T_TEXT:
			return type->typid == JSONOID ? DBZ_JSON : DBZ_STRING;
		case W2A_T_NAME:
			return DBZ_STRING;
		case W2A_T_BYTEA:
			return binary_kind(modes);
		case W2A_T_DATE:
			return connect ? DBZ_CONNECT_DATE : DBZ_DATE;
		case W2A_T_TIMESTAMP:
			if (connect)
				return DBZ_CONNECT_TIMESTAMP;
			return precision <= 3 ? DBZ_TIMESTAMP_MILLI : DBZ_TIMESTAMP_MICRO;
		case W2A_T_TIMESTAMPTZ:
			col->width = type->typmod >= 0 ? type->typmod : 6;
			return DBZ_ZONED_TIMESTAMP;
		case W2A_T_TIME:
			if (connect)
				return DBZ_CONNECT_TIME;
			if (modes->time == W2A_TIME_ADAPTIVE_MICROS)
				return DBZ_TIME_MICRO;
			return precision <= 3 ? DBZ_TIME_MILLI : DBZ_TIME_MICRO;
		case W2A_T_TIMETZ:
			return DBZ_ZONED_TIME;
		case W2A_T_INTERVAL:
			return modes->interval == W2A_INTERVAL_STRING ? DBZ_INTERVAL_STRING : DBZ_INTERVAL;
		case W2A_T_UUID:
			return DBZ_UUID;
		case W2A_T_ARRAY:
			return DBZ_ARRAY;
		case W2A_T_COMPOSITE:
			return -1;
		case W2A_T_TEXTOUT:
			break;
	}
	switch (type->typid)
	{
		case JSONBOID:
			return DBZ_JSON;
		case XMLOID:
			return DBZ_XML;
		case TSVECTOROID:
			return DBZ_TSVECTOR;
		case CASHOID:
			return decimal_kind(DBZ_MONEY, true, modes);
		case BITOID:
		case VARBITOID:
			col->length = type->typmod;
			return type->typmod > 1 ? DBZ_BITS : DBZ_BIT_BOOL;
		default:
			break;
	}
	if (type_is_enum(type->typid))
	{
		col->allowed = enum_labels(type->typid);
		return DBZ_ENUM;
	}
	if (type_is_hstore(type->typid))
		return modes->hstore == W2A_HSTORE_MAP ? DBZ_HSTORE_MAP : DBZ_HSTORE_JSON;
	return DBZ_STRING;
}
/* Is a kind's value Avro text (so an unchanged one is the placeholder text)? */
static bool
kind_is_string(int kind)
{
	return kind == DBZ_STRING || kind == DBZ_JSON || kind == DBZ_XML ||
		kind == DBZ_TSVECTOR || kind == DBZ_ENUM || kind == DBZ_DECIMAL_STRING ||
		kind == DBZ_INTERVAL_STRING;
}

static DbzPlaceholder
choose_placeholder(const DbzColumn *col)
{
	if (kind_is_string(col->kind))
		return DBZ_PH_STRING;
	if (col->kind == DBZ_BYTES)
		return DBZ_PH_BYTES;
	if (col->kind == DBZ_BASE64 || col->kind == DBZ_BASE64_URL_SAFE || col->kind == DBZ_HEX)
		return DBZ_PH_BYTES_TEXT;
	if (col->kind == DBZ_ARRAY)
	{
		int			ek = col->elem->kind;

		if (kind_is_string(ek))
			return DBZ_PH_STRING_ARRAY;
		if (ek == DBZ_BYTES)
			return DBZ_PH_BYTES_ARRAY;
		if (ek == DBZ_INT16 || ek == DBZ_INT32 || ek == DBZ_INT64)
			return DBZ_PH_INT_ARRAY;
	}
	return DBZ_PH_NULL;
}

/*
 * Choose the Debezium mapping of a column (or an array's element: relid
 * InvalidOid): its kind, encoder, placeholder and fallback, in the
 * handling modes.  "optional" says whether Debezium declares it optional.  Returns false for a type
 * Debezium leaves out (composites, arrays of them); the column is then
 * not published.  Allocates in the current memory context (the schema
 * entry's); may read the catalogs (enum labels).
 */
bool
debezium_typemap_build(DbzColumn *col, const W2aField *field, Oid relid, bool optional,
					   const W2aDbzModes *modes)
{
	int			kind;

	memset(col, 0, sizeof(DbzColumn));
	col->field = field;
	col->optional = optional;
	col->toastable = field->toastable;
	col->plain = *field;
	col->plain.nullable = false;
	col->plain.toastable = false;
	kind = choose_kind(col, field->type, modes);
	if (kind < 0)
		return false;
	col->kind = kind;
	if (kind == DBZ_ARRAY)
	{
		W2aField   *ef = palloc0(sizeof(W2aField));

		ef->avro_name = field->avro_name;
		ef->pg_name = field->pg_name;
		ef->type = field->type->elem;
		ef->nullable = true;
		col->elem = palloc(sizeof(DbzColumn));
		if (!debezium_typemap_build(col->elem, ef, InvalidOid, true, modes))
			return false;
	}
	col->encode = debezium_typemap_encoder(kind);
	col->placeholder = choose_placeholder(col);
	debezium_typemap_set_zero(col);
	return true;
}
