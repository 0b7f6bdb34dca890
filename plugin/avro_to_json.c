/*-------------------------------------------------------------------------
 *
 * avro_to_json.c
 *		The json format: an Avro record the plugin built, rendered as JSON
 *		by walking the schema it publishes for the relation.
 *
 * avro_json_compile turns a schema's JSON text into a tree of nodes once per
 * schema (at rebuild); avro_json_write walks that tree over the record's
 * Avro binary and writes one JSON value.  Primitives print as JSON numbers,
 * booleans and strings, records as objects, arrays as arrays, unions as the
 * branch the value took.  What the bare Avro type does not say comes from
 * the schema: the logicalType of dates, timestamps and times (ISO 8601
 * text, as the types print in UTC), decimals (numeric_out's text, from the
 * "scale" property or the VariableScaleDecimal record), the named
 * wal2avro.Unchanged marker ({"__unchanged":true}), and bytes (bytea's hex
 * text).  Strings, UTF-8 in Avro, are written in the server encoding.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * plugin/avro_to_json.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/float.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"

#include "avro_to_json.h"
#include "compat.h"
#include "typemap.h"

typedef enum AjKind
{
	AJ_NULL,
	AJ_BOOLEAN,
	AJ_INT,
	AJ_LONG,
	AJ_FLOAT,
	AJ_DOUBLE,
	AJ_BYTES,
	AJ_STRING,
	AJ_RECORD,
	AJ_ENUM,
	AJ_ARRAY,
	AJ_FIXED,
	AJ_UNION
} AjKind;

/* What the schema says beyond the Avro type */
typedef enum AjLogical
{
	AJL_NONE,
	AJL_DATE,					/* int, logicalType date */
	AJL_TIMESTAMP,				/* long, local-timestamp-micros */
	AJL_TIMESTAMPTZ,			/* long, timestamp-micros */
	AJL_TIME,					/* long, time-micros */
	AJL_DECIMAL,				/* fixed, logicalType decimal */
	AJL_VARDEC,					/* record wal2avro.VariableScaleDecimal */
	AJL_UNCHANGED				/* enum wal2avro.Unchanged */
} AjLogical;

struct AvroJsonNode
{
	AjKind		kind;
	AjLogical	logical;
	int			scale;			/* AJL_DECIMAL */
	int			size;			/* fixed */
	char	   *fullname;		/* named types */
	int			n;				/* children: fields, branches, items (1) */
	AvroJsonNode **children;
	char	  **keys;			/* record: "name": as JSON text */
	int		   *keylens;
	char	  **symbols;		/* enum */
};

/* The named types defined so far while compiling one schema */
typedef struct AjCompile
{
	List	   *named;			/* of AvroJsonNode * */
} AjCompile;

/* The Avro binary being read; mutable, see write_string */
typedef struct AjReader
{
	char	   *p;
	char	   *end;
	bool		convert;		/* server encoding is not UTF-8 */
} AjReader;

static AvroJsonNode *compile_node(AjCompile *c, JsonbValue *v);
static void walk(StringInfo out, const AvroJsonNode *node, AjReader *r);

static void
schema_error(const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_INTERNAL_ERROR),
			 errmsg("cannot render the json format from this Avro schema: %s", what)));
}

/* A member of a schema object, or NULL */
static JsonbValue *
member(JsonbContainer *obj, const char *key)
{
	return getKeyJsonValueFromContainer(obj, key, strlen(key), NULL);
}

static char *
member_text(JsonbContainer *obj, const char *key)
{
	JsonbValue *v = member(obj, key);

	if (v == NULL || v->type != jbvString)
		return NULL;
	return pnstrdup(v->val.string.val, v->val.string.len);
}

static int
member_int(JsonbContainer *obj, const char *key)
{
	JsonbValue *v = member(obj, key);

	if (v == NULL || v->type != jbvNumeric)
		schema_error(key);
	return DatumGetInt32(DirectFunctionCall1(numeric_int4, NumericGetDatum(v->val.numeric)));
}

static AvroJsonNode *
new_node(AjKind kind)
{
	AvroJsonNode *node = palloc0(sizeof(AvroJsonNode));

	node->kind = kind;
	return node;
}

/* A named type: defined here, and findable by its full name from now on */
static AvroJsonNode *
new_named(AjCompile *c, AjKind kind, JsonbContainer *obj)
{
	AvroJsonNode *node = new_node(kind);

	node->fullname = member_text(obj, "name");
	if (node->fullname == NULL)
		schema_error("a named type without a name");
	if (strcmp(node->fullname, "wal2avro.VariableScaleDecimal") == 0)
		node->logical = AJL_VARDEC;
	else if (strcmp(node->fullname, "wal2avro.Unchanged") == 0)
		node->logical = AJL_UNCHANGED;
	c->named = lappend(c->named, node);
	return node;
}

/* A type given by name: a primitive, or a named type defined before */
static AvroJsonNode *
compile_name(AjCompile *c, const char *name)
{
	static const char *const primitives[] = {
		"null", "boolean", "int", "long", "float", "double", "bytes", "string"
	};
	ListCell   *lc;
	int			i;

	for (i = 0; i < (int) lengthof(primitives); i++)
	{
		if (strcmp(primitives[i], name) == 0)
			return new_node((AjKind) (AJ_NULL + i));
	}
	foreach(lc, c->named)
	{
		AvroJsonNode *node = lfirst(lc);

		if (strcmp(node->fullname, name) == 0)
			return node;
	}
	schema_error(psprintf("unknown type \"%s\"", name));
	return NULL;				/* keep compiler quiet */
}

static AvroJsonNode *
compile_record(AjCompile *c, JsonbContainer *obj)
{
	AvroJsonNode *node = new_named(c, AJ_RECORD, obj);
	JsonbValue *fields = member(obj, "fields");
	int			i;

	if (fields == NULL || fields->type != jbvBinary)
		schema_error("a record without fields");
	node->n = JsonContainerSize(fields->val.binary.data);
	node->children = palloc(sizeof(AvroJsonNode *) * Max(node->n, 1));
	node->keys = palloc(sizeof(char *) * Max(node->n, 1));
	node->keylens = palloc(sizeof(int) * Max(node->n, 1));
	for (i = 0; i < node->n; i++)
	{
		JsonbValue *f = getIthJsonbValueFromContainer(fields->val.binary.data, i);
		StringInfoData key;
		char	   *name;

		if (f == NULL || f->type != jbvBinary ||
			(name = member_text(f->val.binary.data, "name")) == NULL)
			schema_error("a field without a name");
		initStringInfo(&key);
		escape_json(&key, name);
		appendStringInfoChar(&key, ':');
		node->keys[i] = key.data;
		node->keylens[i] = key.len;
		node->children[i] = compile_node(c, member(f->val.binary.data, "type"));
	}
	return node;
}

/* {"type": ...}: a complex type, or a primitive with properties */
static AvroJsonNode *
compile_object(AjCompile *c, JsonbContainer *obj)
{
	char	   *type = member_text(obj, "type");
	char	   *logical = member_text(obj, "logicalType");
	AvroJsonNode *node;
	int			i;

	if (type == NULL)
		return compile_node(c, member(obj, "type"));
	if (strcmp(type, "record") == 0)
		return compile_record(c, obj);
	if (strcmp(type, "array") == 0)
	{
		node = new_node(AJ_ARRAY);
		node->n = 1;
		node->children = palloc(sizeof(AvroJsonNode *));
		node->children[0] = compile_node(c, member(obj, "items"));
		return node;
	}
	if (strcmp(type, "enum") == 0)
	{
		JsonbValue *symbols = member(obj, "symbols");

		node = new_named(c, AJ_ENUM, obj);
		if (symbols == NULL || symbols->type != jbvBinary)
			schema_error("an enum without symbols");
		node->n = JsonContainerSize(symbols->val.binary.data);
		node->symbols = palloc(sizeof(char *) * Max(node->n, 1));
		for (i = 0; i < node->n; i++)
		{
			JsonbValue *s = getIthJsonbValueFromContainer(symbols->val.binary.data, i);

			node->symbols[i] = pnstrdup(s->val.string.val, s->val.string.len);
		}
		return node;
	}
	if (strcmp(type, "fixed") == 0)
	{
		node = new_named(c, AJ_FIXED, obj);
		node->size = member_int(obj, "size");
		if (logical && strcmp(logical, "decimal") == 0)
		{
			node->logical = AJL_DECIMAL;
			node->scale = member_int(obj, "scale");
		}
		return node;
	}

	/* a primitive with a logical type (uuid prints as the string it is) */
	node = new_node(compile_name(c, type)->kind);
	if (logical == NULL)
		return node;
	if (node->kind == AJ_INT && strcmp(logical, "date") == 0)
		node->logical = AJL_DATE;
	else if (node->kind == AJ_LONG && strcmp(logical, "local-timestamp-micros") == 0)
		node->logical = AJL_TIMESTAMP;
	else if (node->kind == AJ_LONG && strcmp(logical, "timestamp-micros") == 0)
		node->logical = AJL_TIMESTAMPTZ;
	else if (node->kind == AJ_LONG && strcmp(logical, "time-micros") == 0)
		node->logical = AJL_TIME;
	return node;
}

static AvroJsonNode *
compile_node(AjCompile *c, JsonbValue *v)
{
	AvroJsonNode *node;
	JsonbContainer *jc;
	int			i;

	if (v == NULL)
		schema_error("a field without a type");
	if (v->type == jbvString)
		return compile_name(c, pnstrdup(v->val.string.val, v->val.string.len));
	if (v->type != jbvBinary)
		schema_error("a type that is neither a name, a union nor an object");
	jc = v->val.binary.data;
	if (JsonContainerIsObject(jc))
		return compile_object(c, jc);

	node = new_node(AJ_UNION);
	node->n = JsonContainerSize(jc);
	node->children = palloc(sizeof(AvroJsonNode *) * Max(node->n, 1));
	for (i = 0; i < node->n; i++)
		node->children[i] = compile_node(c, getIthJsonbValueFromContainer(jc, i));
	return node;
}

/*
 * Compile a schema's JSON text (as the plugin publishes it) for
 * avro_json_write.  Allocates in the current memory context; ERROR for a
 * schema this walker does not know, which the plugin does not write.
 */
AvroJsonNode *
avro_json_compile(const char *schema)
{
	Jsonb	   *jb = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(schema)));
	JsonbValue	root;
	AjCompile	c = {NIL};

	root.type = jbvBinary;
	root.val.binary.data = &jb->root;
	root.val.binary.len = VARSIZE(jb) - VARHDRSZ;
	return compile_node(&c, &root);
}

/* ------------------------------------------------------------------------
 * Walking the binary
 * ------------------------------------------------------------------------
 */

static void
need(AjReader *r, int64 n)
{
	if (n < 0 || n > r->end - r->p)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("Avro record is shorter than its schema")));
}

/*
 * Room for n more bytes and the terminator; inline, as the output grows by
 * a few bytes at a time.
 */
static inline void
reserve(StringInfo out, int n)
{
	if (out->len + n >= out->maxlen)
		enlargeStringInfo(out, n);
}

static inline void
put_char(StringInfo out, char c)
{
	reserve(out, 1);
	out->data[out->len++] = c;
	out->data[out->len] = '\0';
}

static inline void
put_bytes(StringInfo out, const char *s, int n)
{
	reserve(out, n);
	memcpy(out->data + out->len, s, n);
	out->len += n;
	out->data[out->len] = '\0';
}

#define put_literal(out, lit)	put_bytes(out, lit, sizeof(lit) - 1)

static int64
read_long(AjReader *r)
{
	uint64		u = 0;
	int			shift = 0;
	uint8		b;

	/* most longs here (union indexes, lengths, small numbers) take a byte */
	if (r->p < r->end && (*r->p & 0x80) == 0)
	{
		b = (uint8) *r->p++;
		return (int64) (b >> 1) ^ -(int64) (b & 1);
	}
	do
	{
		need(r, 1);
		if (shift > 63)
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("Avro long longer than ten bytes")));
		b = (uint8) *r->p++;
		u |= (uint64) (b & 0x7f) << shift;
		shift += 7;
	} while (b & 0x80);
	return (int64) (u >> 1) ^ -(int64) (u & 1);
}

static uint32
read_le32(AjReader *r)
{
	const uint8 *p = (const uint8 *) r->p;

	need(r, 4);
	r->p += 4;
	return (uint32) p[0] | ((uint32) p[1] << 8) | ((uint32) p[2] << 16) | ((uint32) p[3] << 24);
}

static void
write_float(StringInfo out, float8 v, const char *text)
{
	if (isnan(v))
		put_literal(out, "\"NaN\"");
	else if (isinf(v))
		appendStringInfoString(out, v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
	else
		appendStringInfoString(out, text);
}

/* bytes as bytea_out's hex text */
static void
write_hex(StringInfo out, const uint8 *p, int len)
{
	static const char hex[] = "0123456789abcdef";
	int			i;

	put_literal(out, "\"\\\\x");
	reserve(out, len * 2 + 1);
	for (i = 0; i < len; i++)
	{
		out->data[out->len++] = hex[p[i] >> 4];
		out->data[out->len++] = hex[p[i] & 0x0F];
	}
	appendStringInfoChar(out, '"');
}

/*
 * A string, escaped: copied as it is when nothing in it needs escaping,
 * else NUL-terminated in place for escape_json (the byte after it is put
 * back); converted to the server encoding where that is not UTF-8.
 */
static void
write_string(StringInfo out, AjReader *r)
{
	int64		len = read_long(r);
	char	   *s = r->p;
	char		save;
	int64		i;

	need(r, len);
	for (i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (c < 0x20 || c == '"' || c == '\\' || (c >= 0x80 && r->convert))
			break;
	}
	if (i == len)
	{
		reserve(out, (int) len + 2);
		out->data[out->len++] = '"';
		memcpy(out->data + out->len, s, len);
		out->len += (int) len;
		out->data[out->len++] = '"';
		out->data[out->len] = '\0';
		r->p += len;
		return;
	}
	save = s[len];
	s[len] = '\0';
	if (r->convert)
		escape_json(out, pg_any_to_server(s, (int) len, PG_UTF8));
	else
		escape_json(out, s);
	s[len] = save;
	r->p += len;
}

/*
 * A big-endian two's-complement unscaled value as numeric_out prints it:
 * a '-', the integer digits ("0" when none), a point and "scale" digits.
 */
static void
write_decimal(StringInfo out, const uint8 *bytes, int len, int scale)
{
	bool		negative = len > 0 && (bytes[0] & 0x80);
	uint8	   *mag = palloc(Max(len, 1));
	char	   *digits = palloc(len * 3 + scale + 2);
	int			nd = 0;
	int			start = 0;
	int			i;

	memcpy(mag, bytes, len);
	if (negative)
	{
		int			carry = 1;

		for (i = len - 1; i >= 0; i--)
		{
			int			v = (uint8) ~mag[i] + carry;

			mag[i] = (uint8) v;
			carry = v >> 8;
		}
	}
	/* decimal digits, last first, by long division of the magnitude by 10 */
	for (;;)
	{
		uint32		rem = 0;

		while (start < len && mag[start] == 0)
			start++;
		if (start == len)
			break;
		for (i = start; i < len; i++)
		{
			uint32		cur = (rem << 8) | mag[i];

			mag[i] = (uint8) (cur / 10);
			rem = cur % 10;
		}
		digits[nd++] = '0' + rem;
	}
	while (nd <= scale)
		digits[nd++] = '0';
	if (negative)
		appendStringInfoChar(out, '-');
	for (i = nd - 1; i >= scale; i--)
		appendStringInfoChar(out, digits[i]);
	if (scale > 0)
	{
		appendStringInfoChar(out, '.');
		for (i = scale - 1; i >= 0; i--)
			appendStringInfoChar(out, digits[i]);
	}
	pfree(mag);
	pfree(digits);
}

/* A date, timestamp or time (logicalType) as its ISO 8601 text in UTC */
static void
write_datetime(StringInfo out, AjLogical logical, int64 v)
{
	char		buf[MAXDATELEN + 1];
	struct pg_tm tm;
	fsec_t		fsec;

	switch (logical)
	{
		case AJL_DATE:
			if (v == PG_INT32_MIN || v == PG_INT32_MAX)
			{
				appendStringInfoString(out, v < 0 ? "\"-infinity\"" : "\"infinity\"");
				return;
			}
			j2date((int) (v - W2A_EPOCH_DAYS) + POSTGRES_EPOCH_JDATE,
				   &tm.tm_year, &tm.tm_mon, &tm.tm_mday);
			EncodeDateOnly(&tm, USE_ISO_DATES, buf);
			break;
		case AJL_TIMESTAMP:
		case AJL_TIMESTAMPTZ:
			if (v == PG_INT64_MIN || v == PG_INT64_MAX)
			{
				appendStringInfoString(out, v < 0 ? "\"-infinity\"" : "\"infinity\"");
				return;
			}
			typemap_timestamp_iso(v - W2A_EPOCH_USECS, logical == AJL_TIMESTAMPTZ, buf);
			break;
		default:
			time2tm((TimeADT) v, &tm, &fsec);
			EncodeTimeOnly(&tm, fsec, false, 0, USE_ISO_DATES, buf);
			break;
	}
	/* ISO 8601 text needs no escaping */
	put_char(out, '"');
	put_bytes(out, buf, strlen(buf));
	put_char(out, '"');
}

static void
walk_record(StringInfo out, const AvroJsonNode *node, AjReader *r, int omit)
{
	int			i;

	if (node->logical == AJL_VARDEC)
	{
		int			scale = (int) read_long(r);
		int64		len = read_long(r);

		need(r, len);
		write_decimal(out, (const uint8 *) r->p, (int) len, scale);
		r->p += len;
		return;
	}
	put_char(out, '{');
	for (i = 0; i < node->n; i++)
	{
		if (i < omit)
		{
			/* read and dropped: rendered into a scratch buffer */
			StringInfoData skip;

			initStringInfo(&skip);
			walk(&skip, node->children[i], r);
			pfree(skip.data);
			continue;
		}
		if (i > omit)
			put_char(out, ',');
		put_bytes(out, node->keys[i], node->keylens[i]);
		walk(out, node->children[i], r);
	}
	put_char(out, '}');
}

static void
walk_array(StringInfo out, const AvroJsonNode *node, AjReader *r)
{
	int64		count;
	bool		first = true;

	put_char(out, '[');
	while ((count = read_long(r)) != 0)
	{
		if (count < 0)
		{
			count = -count;
			(void) read_long(r);	/* the block's size in bytes */
		}
		while (count-- > 0)
		{
			if (!first)
				put_char(out, ',');
			first = false;
			walk(out, node->children[0], r);
		}
	}
	put_char(out, ']');
}

static void
walk(StringInfo out, const AvroJsonNode *node, AjReader *r)
{
	int64		v;

	switch (node->kind)
	{
		case AJ_NULL:
			put_literal(out, "null");
			break;
		case AJ_BOOLEAN:
			need(r, 1);
			if (*r->p++)
				put_literal(out, "true");
			else
				put_literal(out, "false");
			break;
		case AJ_INT:
		case AJ_LONG:
			v = read_long(r);
			if (node->logical == AJL_NONE)
			{
				reserve(out, MAXINT8LEN + 1);
				out->len += W2A_LLTOA(v, out->data + out->len);
			}
			else
				write_datetime(out, node->logical, v);
			break;
		case AJ_FLOAT:
			{
				uint32		bits = read_le32(r);
				float4		f;

				memcpy(&f, &bits, sizeof(f));
				write_float(out, f, DatumGetCString(DirectFunctionCall1(float4out,
																		Float4GetDatum(f))));
			}
			break;
		case AJ_DOUBLE:
			{
				uint64		bits = read_le32(r);
				float8		d;

				bits |= (uint64) read_le32(r) << 32;
				memcpy(&d, &bits, sizeof(d));
				write_float(out, d, float8out_internal(d));
			}
			break;
		case AJ_BYTES:
			v = read_long(r);
			need(r, v);
			write_hex(out, (const uint8 *) r->p, (int) v);
			r->p += v;
			break;
		case AJ_STRING:
			write_string(out, r);
			break;
		case AJ_RECORD:
			walk_record(out, node, r, 0);
			break;
		case AJ_ENUM:
			v = read_long(r);
			if (v < 0 || v >= node->n)
				schema_error("an enum symbol out of range");
			if (node->logical == AJL_UNCHANGED)
				appendStringInfoString(out, "{\"__unchanged\":true}");
			else
				escape_json(out, node->symbols[v]);
			break;
		case AJ_ARRAY:
			walk_array(out, node, r);
			break;
		case AJ_FIXED:
			need(r, node->size);
			if (node->logical == AJL_DECIMAL)
				write_decimal(out, (const uint8 *) r->p, node->size, node->scale);
			else
				write_hex(out, (const uint8 *) r->p, node->size);
			r->p += node->size;
			break;
		case AJ_UNION:
			v = read_long(r);
			if (v < 0 || v >= node->n)
				schema_error("a union branch out of range");
			walk(out, node->children[v], r);
			break;
	}
}

/*
 * Write the Avro record "avro" (len bytes, of the schema "node" was compiled
 * from) as one JSON value.  The first "omit" fields of the record are read
 * but not written (the flat envelope of a change without a row).  The
 * buffer is modified while it is read and restored; it must have a byte
 * past its end (a StringInfo's terminator).  ERROR when the record does not
 * match the schema.
 */
void
avro_json_write(StringInfo out, const AvroJsonNode *node, char *avro, int len, int omit)
{
	AjReader	r;
	int			enc = GetDatabaseEncoding();

	r.p = avro;
	r.end = avro + len;
	r.convert = !(enc == PG_UTF8 || enc == PG_SQL_ASCII);
	if (node->kind == AJ_RECORD)
		walk_record(out, node, &r, omit);
	else
		walk(out, node, &r);
	if (r.p != r.end)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("Avro record is longer than its schema")));
}
