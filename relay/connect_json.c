/*-------------------------------------------------------------------------
 *
 * connect_json.c
 *		Kafka Connect JsonConverter's JSON for an Avro datum, walked over a
 *		schema compiled once (connect_json_schema.c): what a Debezium
 *		consumer reads from a topic Kafka Connect wrote with the JSON
 *		converter.
 *
 * The mapping is regress/tools/connect_avro.py's avro_to_connect:
 * Confluent's AvroData.toConnectData makes a Connect value of the Avro one
 * and Kafka's JsonConverter (schemas.enable, decimal.format=BASE64,
 * replace.null.with.default=true) writes it through Jackson: int8/int16 as
 * Java's byteValue()/shortValue() of the int; int64 as a plain number;
 * floats as Java's toString, NaN and infinities quoted; bytes and Decimal's
 * unscaled integer as base64; records as objects in field order; a null
 * with a default as the default.  The walk reads the Avro binary by hand and
 * never past its end; a datum that does not match is an error, not a crash.
 *
 * XXX Avro maps (and Connect maps of other keys) are written in the datum's
 * order; AvroData puts them in a java.util.HashMap, whose order JsonConverter
 * then follows.  Debezium's PostgreSQL connector has no map columns at its
 * defaults (hstore.handling.mode=json), so this is left for later.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/connect_json.c
 *
 *-------------------------------------------------------------------------
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "connect_json_internal.h"
#include "json_out.h"

#define FIELD_DEFAULT_FLAG	"io.confluent.connect.avro.field.default"

/* walk-time state */
typedef struct Walk
{
	const uint8_t *start;
	const uint8_t *p;
	const uint8_t *end;
	JsonOut    *out;
	const char *field;			/* innermost field being read, for errors */
	char	   *err;
	size_t		errlen;
	bool		failed;
} Walk;

/* ---------------------------------------------------------------------
 * The Connect schema (JsonConverter.asJsonSchema), rendered once per schema
 * --------------------------------------------------------------------- */

/*
 * JsonConverter.asJsonSchema of one use of a node: optional and default
 * belong to the use (a union makes its type optional; a record field's Avro
 * default, on a field that is no union, overrides connect.default and, when
 * there is no connect.default, is flagged io.confluent.connect.avro.field.default).
 */
static void
render_schema(JsonOut *b, const CjNode *n, bool optional, const char *field_default,
			  const char *field_name)
{
	const char *def;
	bool		flag = false;
	size_t		i;

	if (n->kind == CJ_OPTIONAL)
	{
		render_schema(b, n->items, true, NULL, field_name);
		return;
	}
	def = n->default_json;
	if (field_default != NULL)
	{
		flag = n->default_json == NULL;
		def = field_default;
	}
	JSON_OUT_LIT(b, "{\"type\":");
	json_out_cstring(b, n->ctype);
	switch (n->kind)
	{
		case CJ_ARRAY:
			JSON_OUT_LIT(b, ",\"items\":");
			render_schema(b, n->items, false, NULL, NULL);
			break;
		case CJ_MAP:
			JSON_OUT_LIT(b, ",\"keys\":{\"type\":\"string\",\"optional\":false},\"values\":");
			render_schema(b, n->items, false, NULL, NULL);
			break;
		case CJ_MAP_ENTRIES:
			JSON_OUT_LIT(b, ",\"keys\":");
			render_schema(b, n->keys, false, NULL, NULL);
			JSON_OUT_LIT(b, ",\"values\":");
			render_schema(b, n->items, false, NULL, NULL);
			break;
		case CJ_RECORD:
			JSON_OUT_LIT(b, ",\"fields\":[");
			for (i = 0; i < n->nfields; i++)
			{
				if (i)
					json_out_char(b, ',');
				render_schema(b, n->fields[i].type, false, n->fields[i].default_json,
							  n->fields[i].name);
			}
			json_out_char(b, ']');
			break;
		default:
			break;
	}
	if (optional)
		JSON_OUT_LIT(b, ",\"optional\":true");
	else
		JSON_OUT_LIT(b, ",\"optional\":false");
	if (n->name)
	{
		JSON_OUT_LIT(b, ",\"name\":");
		json_out_cstring(b, n->name);
	}
	if (n->version >= 0)
	{
		JSON_OUT_LIT(b, ",\"version\":");
		json_out_int64(b, n->version);
	}
	if (n->doc)
	{
		JSON_OUT_LIT(b, ",\"doc\":");
		json_out_cstring(b, n->doc);
	}
	if (n->nparams || flag)
	{
		JSON_OUT_LIT(b, ",\"parameters\":{");
		for (i = 0; i < n->nparams; i++)
		{
			if (i)
				json_out_char(b, ',');
			json_out_cstring(b, n->params[i].key);
			json_out_char(b, ':');
			json_out_cstring(b, n->params[i].value);
		}
		if (flag)
		{
			if (n->nparams)
				json_out_char(b, ',');
			JSON_OUT_LIT(b, "\"" FIELD_DEFAULT_FLAG "\":\"true\"");
		}
		json_out_char(b, '}');
	}
	if (def)
	{
		JSON_OUT_LIT(b, ",\"default\":");
		json_out_mem(b, def, strlen(def));
	}
	if (field_name)
	{
		JSON_OUT_LIT(b, ",\"field\":");
		json_out_cstring(b, field_name);
	}
	json_out_char(b, '}');
}

/* connect_json_internal.h: the Connect schema text of the whole schema */
void
connect_json_render_schema(JsonOut *b, const CjNode *root)
{
	render_schema(b, root, false, NULL, NULL);
}

/* ---------------------------------------------------------------------
 * The walk: Avro binary -> JsonConverter's payload
 * --------------------------------------------------------------------- */

static int	walk(Walk *w, const CjNode *n);

static int
walk_fail(Walk *w, const char *fmt,...) __attribute__((format(printf, 2, 3)));

static int
walk_fail(Walk *w, const char *fmt,...)
{
	va_list		ap;
	size_t		k;

	if (w->failed)
		return -1;
	w->failed = true;
	va_start(ap, fmt);
	vsnprintf(w->err, w->errlen, fmt, ap);
	va_end(ap);
	k = strlen(w->err);
	if (k < w->errlen)
		snprintf(w->err + k, w->errlen - k, " at byte %zu of %zu%s%s%s",
				 (size_t) (w->p - w->start), (size_t) (w->end - w->start),
				 w->field ? " (field \"" : "", w->field ? w->field : "", w->field ? "\")" : "");
	return -1;
}

/* Avro's zig-zag varint long: at most 10 bytes */
static inline int
read_long(Walk *w, int64_t *v)
{
	uint64_t	u = 0;
	int			shift = 0;
	const uint8_t *p = w->p;

	*v = 0;

	for (;;)
	{
		uint8_t		c;

		if (p >= w->end)
			return walk_fail(w, "truncated datum: a varint runs past the end");
		c = *p++;
		if (shift == 63 && (c & 0x7E))
			return walk_fail(w, "bad varint: more than 64 bits");
		u |= (uint64_t) (c & 0x7F) << shift;
		if (!(c & 0x80))
			break;
		shift += 7;
		if (shift > 63)
			return walk_fail(w, "bad varint: longer than 10 bytes");
	}
	w->p = p;
	*v = (int64_t) (u >> 1) ^ -(int64_t) (u & 1);
	return 0;
}

/* an Avro int: a varint of at most 5 bytes whose value fits 32 bits */
static inline int
read_int(Walk *w, int32_t *v)
{
	const uint8_t *before = w->p;
	int64_t		x = 0;

	if (read_long(w, &x) < 0)
		return -1;
	if (w->p - before > 5 || x < INT32_MIN || x > INT32_MAX)
	{
		w->p = before;
		return walk_fail(w, "bad varint: an int out of 32-bit range");
	}
	*v = (int32_t) x;
	return 0;
}

/* the length and start of a bytes or string value */
static inline int
read_bytes(Walk *w, const uint8_t **s, size_t *n)
{
	int64_t		len = 0;

	if (read_long(w, &len) < 0)
		return -1;
	if (len < 0)
		return walk_fail(w, "bad datum: negative length %" PRId64, len);
	if ((uint64_t) len > (uint64_t) (w->end - w->p))
		return walk_fail(w, "truncated datum: %" PRId64 " bytes announced, %zu left",
						 len, (size_t) (w->end - w->p));
	*s = w->p;
	*n = (size_t) len;
	w->p += len;
	return 0;
}

/* one block count of an array or map: 0 ends; a negative count has a size */
static int
read_block(Walk *w, const CjNode *item, int64_t *count)
{
	int64_t		size = 0;

	*count = 0;
	if (read_long(w, count) < 0)
		return -1;
	if (*count < 0)
	{
		if (*count == INT64_MIN)
			return walk_fail(w, "bad datum: block count out of range");
		*count = -*count;
		if (read_long(w, &size) < 0)
			return -1;
		if (size < 0)
			return walk_fail(w, "bad datum: negative block size");
	}
	if (item == NULL || !item->may_be_empty)
	{
		if ((uint64_t) *count > (uint64_t) (w->end - w->p))
			return walk_fail(w, "truncated datum: a block of %" PRId64 " items, %zu bytes left",
							 *count, (size_t) (w->end - w->p));
	}
	else if (*count > CJ_MAX_EMPTY_ITEMS)
		return walk_fail(w, "bad datum: a block of %" PRId64 " empty items", *count);
	return 0;
}

static int
walk(Walk *w, const CjNode *n)
{
	JsonOut    *out = w->out;

	switch (n->kind)
	{
		case CJ_BOOLEAN:
			if (w->p >= w->end)
				return walk_fail(w, "truncated datum: a boolean past the end");
			if (*w->p > 1)
				return walk_fail(w, "bad datum: boolean byte 0x%02x", *w->p);
			if (*w->p++)
				JSON_OUT_LIT(out, "true");
			else
				JSON_OUT_LIT(out, "false");
			return 0;
		case CJ_INT:
			{
				int32_t		v = 0;

				if (read_int(w, &v) < 0)
					return -1;
				/* AvroData: Integer.byteValue()/shortValue() for int8/int16 */
				if (n->int_bits == 8)
					v = (int8_t) v;
				else if (n->int_bits == 16)
					v = (int16_t) v;
				json_out_int64(out, v);
				return 0;
			}
		case CJ_LONG:
			{
				int64_t		v = 0;

				if (read_long(w, &v) < 0)
					return -1;
				json_out_int64(out, v);
				return 0;
			}
		case CJ_FLOAT:
			{
				float		f;
				uint32_t	u;

				if (w->end - w->p < 4)
					return walk_fail(w, "truncated datum: a float past the end");
				u = (uint32_t) w->p[0] | (uint32_t) w->p[1] << 8 |
					(uint32_t) w->p[2] << 16 | (uint32_t) w->p[3] << 24;
				memcpy(&f, &u, 4);
				w->p += 4;
				json_out_double(out, f, true);
				return 0;
			}
		case CJ_DOUBLE:
			{
				double		d;
				uint64_t	u = 0;
				int			i;

				if (w->end - w->p < 8)
					return walk_fail(w, "truncated datum: a double past the end");
				for (i = 7; i >= 0; i--)
					u = u << 8 | w->p[i];
				memcpy(&d, &u, 8);
				w->p += 8;
				json_out_double(out, d, false);
				return 0;
			}
		case CJ_BYTES:
		case CJ_DECIMAL:
		case CJ_STRING:
			{
				const uint8_t *s = NULL;
				size_t		len = 0;

				if (read_bytes(w, &s, &len) < 0)
					return -1;
				if (n->kind == CJ_STRING)
					json_out_string(out, s, len);
				else if (n->kind == CJ_BYTES)
					json_out_base64(out, s, len);
				else if (len == 0)
					return walk_fail(w, "bad datum: a decimal of zero bytes (Zero length BigInteger)");
				else
					json_out_decimal(out, s, len);
				return 0;
			}
		case CJ_ENUM:
			{
				int32_t		i = 0;

				if (read_int(w, &i) < 0)
					return -1;
				if (i < 0 || (size_t) i >= n->nsymbols)
					return walk_fail(w, "bad datum: enum index %d of %zu symbols", i, n->nsymbols);
				json_out_mem(out, n->symbols[i], n->symbol_lens[i]);
				return 0;
			}
		case CJ_RECORD:
			{
				size_t		i;
				const char *outer = w->field;

				json_out_char(out, '{');
				for (i = 0; i < n->nfields; i++)
				{
					if (i)
						json_out_char(out, ',');
					json_out_mem(out, n->fields[i].key_json, n->fields[i].key_len);
					w->field = n->fields[i].name;
					if (walk(w, n->fields[i].type) < 0)
						return -1;
				}
				w->field = outer;
				json_out_char(out, '}');
				return 0;
			}
		case CJ_ARRAY:
		case CJ_MAP:
		case CJ_MAP_ENTRIES:
			{
				int64_t		count = 0,
							k;
				bool		first = true;
				const CjNode *item = n->kind == CJ_MAP_ENTRIES ? NULL : n->items;

				json_out_char(out, n->kind == CJ_MAP ? '{' : '[');
				for (;;)
				{
					if (read_block(w, item, &count) < 0)
						return -1;
					if (count == 0)
						break;
					for (k = 0; k < count; k++)
					{
						if (!first)
							json_out_char(out, ',');
						first = false;
						if (n->kind == CJ_MAP)
						{
							const uint8_t *s = NULL;
							size_t		len = 0;

							if (read_bytes(w, &s, &len) < 0)
								return -1;
							json_out_string(out, s, len);
							json_out_char(out, ':');
							if (walk(w, n->items) < 0)
								return -1;
						}
						else if (n->kind == CJ_MAP_ENTRIES)
						{
							json_out_char(out, '[');
							if (walk(w, n->keys) < 0)
								return -1;
							json_out_char(out, ',');
							if (walk(w, n->items) < 0)
								return -1;
							json_out_char(out, ']');
						}
						else if (walk(w, n->items) < 0)
							return -1;
					}
				}
				json_out_char(out, n->kind == CJ_MAP ? '}' : ']');
				return 0;
			}
		case CJ_OPTIONAL:
			{
				int64_t		idx = 0;

				if (read_long(w, &idx) < 0)
					return -1;
				if (idx != 0 && idx != 1)
					return walk_fail(w, "bad datum: union index %" PRId64 " of 2 branches", idx);
				if (idx != n->null_index)
					return walk(w, n->items);
				/* JsonConverter: a null with a default writes the default */
				if (n->items->default_json)
					json_out_mem(out, n->items->default_json, strlen(n->items->default_json));
				else
					JSON_OUT_LIT(out, "null");
				return 0;
			}
	}
	return walk_fail(w, "internal error: unknown node kind %d", (int) n->kind);
}

int
connect_json_render(const ConnectJson *cj, const uint8_t *datum, size_t len,
					bool with_schema, JsonOut *out, char *err, size_t errlen)
{
	Walk		w = {0};
	size_t		saved = out->len;

	w.start = w.p = datum;
	w.end = datum + len;
	w.out = out;
	w.err = err;
	w.errlen = errlen;
	if (out->failed)
	{
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (with_schema)
	{
		JSON_OUT_LIT(out, "{\"schema\":");
		json_out_mem(out, cj->schema_text, cj->schema_len);
		JSON_OUT_LIT(out, ",\"payload\":");
	}
	if (walk(&w, cj->root) == 0)
	{
		if (w.p != w.end)
			walk_fail(&w, "bad datum: %zu bytes after its end", (size_t) (w.end - w.p));
		else if (with_schema)
			json_out_char(out, '}');
	}
	if (!w.failed && out->failed)
	{
		snprintf(err, errlen, "out of memory");
		w.failed = true;
	}
	if (w.failed)
	{
		out->len = saved;
		if (out->data)
			out->data[saved] = '\0';
		return -1;
	}
	return 0;
}
