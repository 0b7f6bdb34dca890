/*-------------------------------------------------------------------------
 *
 * connect_json.c
 *		Kafka Connect JsonConverter's JSON for an Avro datum, walked over a
 *		schema compiled once: what a Debezium consumer reads from a topic
 *		written by Kafka Connect with the JSON converter.
 *
 * The mapping is the one regress/tools/connect_avro.py writes down (its
 * avro_to_connect): Confluent's AvroData.toConnectSchema/toConnectData
 * (connect.meta.data=true, enhanced.avro.schema.support=false) make a
 * Connect schema and value of the Avro ones, and Kafka's JsonConverter
 * (schemas.enable, decimal.format=BASE64, replace.null.with.default=true)
 * writes them through Jackson.  So: Connect schema keys in asJsonSchema's
 * order (type, items|keys,values|fields, optional, name, version, doc,
 * parameters, default, then "field"); int64 as a plain number; float and
 * double as Java's Float/Double.toString, NaN and infinities as quoted
 * strings; bytes and Decimal's unscaled integer as base64; strings escaped
 * as Jackson does (", \, \b \t \n \f \r, other controls as \u00XX upper-case
 * hex, everything else as UTF-8, malformed UTF-8 as U+FFFD as Java decodes
 * it); a null with a default writes the default.
 *
 * Compilation parses the schema text with libjansson into a tree of
 * CjNode; rendering reads the Avro binary by hand, never past its end.
 * Every allocation of a ConnectJson hangs off it and goes with
 * connect_json_free.
 *
 * XXX Avro maps (and Connect maps of non-string keys) are written in the
 * datum's order; AvroData puts them in a java.util.HashMap, whose order
 * JsonConverter then follows.  Debezium's PostgreSQL connector has no map
 * columns at its defaults (hstore.handling.mode=json), so this is left.
 * XXX Java's Double.toString before JDK 19 sometimes writes one digit more
 * than the shortest; this writes the shortest (JDK 19+ behaviour).
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/connect_json.c
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "connect_json.h"

#define CJ_MAX_DEPTH	64		/* schema nesting; bounds the walk's recursion */
#define CJ_MAX_EMPTY_ITEMS	(1 << 20)	/* items of zero bytes in one block */

#define AVRO_NS			"io.confluent.connect.avro"
#define DECIMAL_NAME	"org.apache.kafka.connect.data.Decimal"
#define FIELD_DEFAULT_FLAG	AVRO_NS ".field.default"

typedef enum CjKind
{
	CJ_BOOLEAN,
	CJ_INT,
	CJ_LONG,
	CJ_FLOAT,
	CJ_DOUBLE,
	CJ_BYTES,
	CJ_DECIMAL,
	CJ_STRING,
	CJ_ENUM,
	CJ_RECORD,
	CJ_ARRAY,
	CJ_MAP,						/* Avro map: string keys */
	CJ_MAP_ENTRIES,				/* array of MapEntry records: a Connect map */
	CJ_OPTIONAL					/* union of null and one type */
} CjKind;

typedef struct CjNode CjNode;

typedef struct CjParam
{
	char	   *key;
	char	   *value;
} CjParam;

typedef struct CjField
{
	char	   *name;
	char	   *key_json;		/* "name": as JSON, ready to copy */
	size_t		key_len;
	CjNode	   *type;
	char	   *default_json;	/* Connect JSON of the Avro field default, for a
								 * field that is not a union; else NULL */
} CjField;

struct CjNode
{
	CjKind		kind;
	const char *ctype;			/* Connect type: "int32", "struct", ... */
	int			int_bits;		/* CJ_INT: 8, 16 or 32 (Connect int8/16/32) */
	char	   *fullname;		/* Avro named types */
	bool		compiled;		/* records: all fields compiled (cycle check) */
	/* the Connect schema's metadata */
	char	   *name;
	int			version;		/* -1: none */
	char	   *doc;
	CjParam    *params;
	size_t		nparams;
	char	   *default_json;	/* from connect.default, as Connect JSON */
	/* children */
	CjField    *fields;
	size_t		nfields;
	char	  **symbols;		/* enum symbols as JSON strings */
	size_t	   *symbol_lens;
	size_t		nsymbols;
	CjNode	   *items;			/* array items, map values, the optional's type,
								 * map entries' value */
	CjNode	   *keys;			/* map entries' key */
	int			null_index;		/* CJ_OPTIONAL: the union index of null */
	bool		may_be_empty;	/* its datum can be zero bytes */
};

struct ConnectJson
{
	CjNode	   *root;
	char	   *schema_text;
	size_t		schema_len;
	void	  **allocs;			/* everything below, freed together */
	size_t		nallocs;
	size_t		cap_allocs;
};

/* compile-time state */
typedef struct Compiler
{
	ConnectJson *cj;
	CjNode	  **named;			/* named types seen so far */
	size_t		nnamed;
	size_t		cap_named;
	char	   *err;
	size_t		errlen;
	bool		failed;
} Compiler;

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
 * Output
 * --------------------------------------------------------------------- */

static bool
out_reserve(JsonOut *b, size_t more)
{
	size_t		cap;
	char	   *d;

	if (b->failed)
		return false;
	if (b->len + more + 1 <= b->cap)
		return true;
	cap = b->cap ? b->cap : 256;
	while (b->len + more + 1 > cap)
		cap *= 2;
	d = realloc(b->data, cap);
	if (d == NULL)
	{
		b->failed = true;
		return false;
	}
	b->data = d;
	b->cap = cap;
	return true;
}

static inline void
out_mem(JsonOut *b, const void *s, size_t n)
{
	if (!out_reserve(b, n))
		return;
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

static inline void
out_char(JsonOut *b, char c)
{
	if (!out_reserve(b, 1))
		return;
	b->data[b->len++] = c;
	b->data[b->len] = '\0';
}

#define out_lit(b, s) out_mem((b), (s), sizeof(s) - 1)

static void
out_int64(JsonOut *b, int64_t v)
{
	char		tmp[24];
	char	   *q = tmp + sizeof(tmp);
	uint64_t	u = v < 0 ? (uint64_t) 0 - (uint64_t) v : (uint64_t) v;

	do
	{
		*--q = (char) ('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--q = '-';
	out_mem(b, q, tmp + sizeof(tmp) - q);
}

/* Java's Double.toString / Float.toString; see connect_json.h */
int
connect_json_java_double(char *buf, double v, bool single)
{
	char		tmp[40];
	char		digits[24];
	int			p,
				n = 0,
				e,
				len = 0,
				i;
	const char *s;

	if (v == 0)
		return sprintf(buf, signbit(v) ? "-0.0" : "0.0");
	/* the shortest correctly rounded digits that read back as v */
	for (p = 1; p <= 17; p++)
	{
		snprintf(tmp, sizeof(tmp), "%.*e", p - 1, v);
		if (single ? strtof(tmp, NULL) == (float) v : strtod(tmp, NULL) == v)
			break;
	}
	/* one digit would do: Java picks the closest of two digits */
	if (p == 1)
		snprintf(tmp, sizeof(tmp), "%.1e", v);
	s = tmp;
	if (*s == '-')
	{
		buf[len++] = '-';
		s++;
	}
	for (; *s && *s != 'e'; s++)
		if (*s != '.')
			digits[n++] = *s;
	e = atoi(s + 1);
	while (n > 1 && digits[n - 1] == '0')
		n--;
	if (e >= -3 && e < 7)
	{
		if (e >= 0)
		{
			for (i = 0; i <= e; i++)
				buf[len++] = i < n ? digits[i] : '0';
			buf[len++] = '.';
			if (n > e + 1)
				for (i = e + 1; i < n; i++)
					buf[len++] = digits[i];
			else
				buf[len++] = '0';
		}
		else
		{
			buf[len++] = '0';
			buf[len++] = '.';
			for (i = 0; i < -e - 1; i++)
				buf[len++] = '0';
			for (i = 0; i < n; i++)
				buf[len++] = digits[i];
		}
	}
	else
	{
		buf[len++] = digits[0];
		buf[len++] = '.';
		if (n > 1)
			for (i = 1; i < n; i++)
				buf[len++] = digits[i];
		else
			buf[len++] = '0';
		len += sprintf(buf + len, "E%d", e);
	}
	buf[len] = '\0';
	return len;
}

/* a float or double as JsonConverter writes it */
static void
out_java_double(JsonOut *b, double v, bool single)
{
	char		tmp[40];

	if (isnan(v))
		out_lit(b, "\"NaN\"");
	else if (isinf(v))
	{
		if (v > 0)
			out_lit(b, "\"Infinity\"");
		else
			out_lit(b, "\"-Infinity\"");
	}
	else
		out_mem(b, tmp, connect_json_java_double(tmp, v, single));
}

/*
 * Length of the well-formed UTF-8 sequence at s (n bytes left), or 0 when
 * malformed; *bad gets the bytes of its maximal ill-formed prefix (at least
 * 1), which Java's decoder replaces by one U+FFFD.
 */
static size_t
utf8_seq(const uint8_t *s, size_t n, size_t *bad)
{
	uint8_t		c = s[0];
	size_t		need,
				i;
	uint8_t		lo = 0x80,
				hi = 0xBF;

	if (c >= 0xC2 && c <= 0xDF)
		need = 2;
	else if (c >= 0xE0 && c <= 0xEF)
	{
		need = 3;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
	}
	else if (c >= 0xF0 && c <= 0xF4)
	{
		need = 4;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
	}
	else
	{
		*bad = 1;
		return 0;
	}
	for (i = 1; i < need; i++)
	{
		if (i >= n || s[i] < lo || s[i] > hi)
		{
			*bad = i;
			return 0;
		}
		lo = 0x80;
		hi = 0xBF;
	}
	return need;
}

/* A JSON string as Jackson writes one (see the file comment) */
static void
out_string(JsonOut *b, const uint8_t *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t		i = 0,
				run;

	/* worst case six bytes per input byte (\u00XX), plus quotes */
	if (!out_reserve(b, n * 6 + 2))
		return;
	b->data[b->len++] = '"';
	while (i < n)
	{
		uint8_t		c = s[i];

		if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\')
		{
			run = i + 1;
			while (run < n && s[run] >= 0x20 && s[run] < 0x80 &&
				   s[run] != '"' && s[run] != '\\')
				run++;
			memcpy(b->data + b->len, s + i, run - i);
			b->len += run - i;
			i = run;
		}
		else if (c < 0x80)
		{
			char	   *d = b->data + b->len;

			d[0] = '\\';
			switch (c)
			{
				case '"':
				case '\\':
					d[1] = (char) c;
					b->len += 2;
					break;
				case '\b':
					d[1] = 'b';
					b->len += 2;
					break;
				case '\t':
					d[1] = 't';
					b->len += 2;
					break;
				case '\n':
					d[1] = 'n';
					b->len += 2;
					break;
				case '\f':
					d[1] = 'f';
					b->len += 2;
					break;
				case '\r':
					d[1] = 'r';
					b->len += 2;
					break;
				default:
					d[1] = 'u';
					d[2] = '0';
					d[3] = '0';
					d[4] = hex[c >> 4];
					d[5] = hex[c & 15];
					b->len += 6;
			}
			i++;
		}
		else
		{
			size_t		bad = 0,
						k = utf8_seq(s + i, n - i, &bad);

			if (k)
			{
				memcpy(b->data + b->len, s + i, k);
				b->len += k;
				i += k;
			}
			else
			{
				/* U+FFFD is 3 bytes, never more than the bytes it replaces + 2 */
				memcpy(b->data + b->len, "\xEF\xBF\xBD", 3);
				b->len += 3;
				i += bad;
			}
		}
	}
	b->data[b->len++] = '"';
	b->data[b->len] = '\0';
}

static void
out_cstring(JsonOut *b, const char *s)
{
	out_string(b, (const uint8_t *) s, strlen(s));
}

/* bytes as Jackson's base64 (standard alphabet, padded, no line breaks) */
static void
out_base64(JsonOut *b, const uint8_t *s, size_t n)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char	   *d;
	size_t		i;

	if (!out_reserve(b, (n + 2) / 3 * 4 + 2))
		return;
	d = b->data + b->len;
	*d++ = '"';
	for (i = 0; i + 2 < n; i += 3)
	{
		uint32_t	v = (uint32_t) s[i] << 16 | (uint32_t) s[i + 1] << 8 | s[i + 2];

		*d++ = tab[v >> 18];
		*d++ = tab[(v >> 12) & 63];
		*d++ = tab[(v >> 6) & 63];
		*d++ = tab[v & 63];
	}
	if (i < n)
	{
		uint32_t	v = (uint32_t) s[i] << 16 | (i + 1 < n ? (uint32_t) s[i + 1] << 8 : 0);

		*d++ = tab[v >> 18];
		*d++ = tab[(v >> 12) & 63];
		*d++ = i + 1 < n ? tab[(v >> 6) & 63] : '=';
		*d++ = '=';
	}
	*d++ = '"';
	b->len = d - b->data;
	b->data[b->len] = '\0';
}

/*
 * Decimal's unscaled integer as JsonConverter writes it: AvroData makes a
 * BigInteger of the bytes and JsonConverter writes its toByteArray(), the
 * shortest two's complement, so redundant sign bytes go.
 */
static void
out_decimal(JsonOut *b, const uint8_t *s, size_t n)
{
	size_t		i = 0;

	while (i + 1 < n && ((s[i] == 0x00 && !(s[i + 1] & 0x80)) ||
						 (s[i] == 0xFF && (s[i + 1] & 0x80))))
		i++;
	out_base64(b, s + i, n - i);
}

/* ---------------------------------------------------------------------
 * Compilation: Avro schema JSON -> CjNode tree (AvroData.toConnectSchema)
 * --------------------------------------------------------------------- */

static void *
cj_alloc(Compiler *c, size_t size)
{
	ConnectJson *cj = c->cj;
	void	   *p;

	if (c->failed)
		return NULL;
	if (cj->nallocs == cj->cap_allocs)
	{
		size_t		cap = cj->cap_allocs ? cj->cap_allocs * 2 : 64;
		void	  **a = realloc(cj->allocs, cap * sizeof(void *));

		if (a == NULL)
			goto oom;
		cj->allocs = a;
		cj->cap_allocs = cap;
	}
	p = calloc(1, size ? size : 1);
	if (p == NULL)
		goto oom;
	cj->allocs[cj->nallocs++] = p;
	return p;
oom:
	c->failed = true;
	snprintf(c->err, c->errlen, "out of memory");
	return NULL;
}

static char *
cj_strdup(Compiler *c, const char *s, size_t n)
{
	char	   *d = cj_alloc(c, n + 1);

	if (d)
		memcpy(d, s, n);
	return d;
}

static void
cj_fail(Compiler *c, const char *fmt,...) __attribute__((format(printf, 2, 3)));

static void
cj_fail(Compiler *c, const char *fmt,...)
{
	va_list		ap;

	if (c->failed)
		return;
	c->failed = true;
	va_start(ap, fmt);
	vsnprintf(c->err, c->errlen, fmt, ap);
	va_end(ap);
}

/* a JsonOut's text moved into the ConnectJson's allocations */
static char *
cj_take(Compiler *c, JsonOut *b)
{
	char	   *s;

	if (b->failed)
	{
		free(b->data);
		cj_fail(c, "out of memory");
		return NULL;
	}
	s = cj_strdup(c, b->data ? b->data : "", b->len);
	free(b->data);
	memset(b, 0, sizeof(*b));
	return s;
}

static void
add_param(Compiler *c, CjNode *n, const char *key, const char *value)
{
	CjParam    *p;
	size_t		i;

	/* Connect's parameters are a LinkedHashMap: a key keeps its first place */
	for (i = 0; i < n->nparams; i++)
		if (strcmp(n->params[i].key, key) == 0)
		{
			n->params[i].value = cj_strdup(c, value, strlen(value));
			return;
		}
	p = cj_alloc(c, (n->nparams + 1) * sizeof(CjParam));
	if (p == NULL)
		return;
	if (n->nparams)
		memcpy(p, n->params, n->nparams * sizeof(CjParam));
	p[n->nparams].key = cj_strdup(c, key, strlen(key));
	p[n->nparams].value = cj_strdup(c, value, strlen(value));
	n->params = p;
	n->nparams++;
}

static const char *
primitive_kind(const char *t, CjKind *kind)
{
	static const struct
	{
		const char *avro;
		CjKind		kind;
		const char *ctype;
	}			prims[] = {
		{"boolean", CJ_BOOLEAN, "boolean"},
		{"int", CJ_INT, "int32"},
		{"long", CJ_LONG, "int64"},
		{"float", CJ_FLOAT, "float"},
		{"double", CJ_DOUBLE, "double"},
		{"bytes", CJ_BYTES, "bytes"},
		{"string", CJ_STRING, "string"},
	};
	size_t		i;

	for (i = 0; i < sizeof(prims) / sizeof(prims[0]); i++)
		if (strcmp(t, prims[i].avro) == 0)
		{
			*kind = prims[i].kind;
			return prims[i].ctype;
		}
	return NULL;
}

/* the full name of a named type: its name qualified by namespace */
static char *
full_name(Compiler *c, const char *name, const char *ns)
{
	size_t		nl = strlen(name),
				sl;
	char	   *f;

	if (strchr(name, '.') || ns == NULL || *ns == '\0')
		return cj_strdup(c, name, nl);
	sl = strlen(ns);
	f = cj_alloc(c, sl + nl + 2);
	if (f)
	{
		memcpy(f, ns, sl);
		f[sl] = '.';
		memcpy(f + sl + 1, name, nl);
	}
	return f;
}

static CjNode *
find_named(Compiler *c, const char *full)
{
	size_t		i;

	for (i = 0; i < c->nnamed; i++)
		if (strcmp(c->named[i]->fullname, full) == 0)
			return c->named[i];
	return NULL;
}

static void
add_named(Compiler *c, CjNode *n)
{
	if (find_named(c, n->fullname))
	{
		cj_fail(c, "Avro type \"%s\" is defined twice", n->fullname);
		return;
	}
	if (c->nnamed == c->cap_named)
	{
		size_t		cap = c->cap_named ? c->cap_named * 2 : 16;
		CjNode	  **a = realloc(c->named, cap * sizeof(CjNode *));

		if (a == NULL)
		{
			cj_fail(c, "out of memory");
			return;
		}
		c->named = a;
		c->cap_named = cap;
	}
	c->named[c->nnamed++] = n;
}

static CjNode *compile(Compiler *c, json_t *j, const char *ns, int depth);
static void default_json(Compiler *c, const CjNode *n, json_t *v, JsonOut *b);

/* the namespace a named type's children inherit: its full name's prefix */
static char *
namespace_of(Compiler *c, const char *full)
{
	const char *dot = strrchr(full, '.');

	return dot ? cj_strdup(c, full, dot - full) : NULL;
}

static const char *
json_str(json_t *o, const char *key)
{
	json_t	   *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* the connect.* and avro* properties of an Avro schema (toConnectSchema) */
static void
apply_props(Compiler *c, CjNode *n, json_t *o, const char *builder_name)
{
	json_t	   *v;
	const char *key;
	const char *cname;

	v = json_object_get(o, "connect.doc");
	if (json_is_string(v))
		n->doc = cj_strdup(c, json_string_value(v), strlen(json_string_value(v)));
	v = json_object_get(o, "connect.version");
	if (v != NULL)
	{
		int			ver;

		if (!json_is_integer(v))
		{
			cj_fail(c, "Invalid Connect version found in Avro schema");
			return;
		}
		ver = (int) json_integer_value(v);
		if (ver >= 0)
		{
			if (n->version >= 0 && n->version != ver)
			{
				cj_fail(c, "Mismatched versions: version already added to SchemaBuilder (%d) differs from version in source schema (%d)",
						n->version, ver);
				return;
			}
			n->version = ver;
		}
	}
	v = json_object_get(o, "connect.parameters");
	if (v != NULL)
	{
		json_t	   *pv;

		if (!json_is_object(v))
		{
			cj_fail(c, "Expected JSON object for schema parameters");
			return;
		}
		json_object_foreach(v, key, pv)
		{
			if (!json_is_string(pv))
			{
				cj_fail(c, "Expected schema parameter values to be strings (parameter \"%s\")", key);
				return;
			}
			add_param(c, n, key, json_string_value(pv));
		}
	}
	json_object_foreach(o, key, v)
	{
		if (strncmp(key, "avro", 4) == 0)
		{
			/* XXX a non-string value is Java's toString(); JSON is close */
			if (json_is_string(v))
				add_param(c, n, key, json_string_value(v));
			else
			{
				char	   *t = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);

				if (t == NULL)
				{
					cj_fail(c, "out of memory");
					return;
				}
				add_param(c, n, key, t);
				free(t);
			}
		}
	}
	v = json_object_get(o, "connect.default");
	if (v != NULL && !json_is_null(v))
	{
		JsonOut		b = {0};

		default_json(c, n, v, &b);
		n->default_json = cj_take(c, &b);
	}
	cname = json_str(o, "connect.name");
	if (cname == NULL && (n->kind == CJ_RECORD || n->kind == CJ_ENUM))
		cname = n->fullname;
	if (cname != NULL && strcmp(cname, AVRO_NS ".ConnectDefault") != 0)
	{
		if (builder_name != NULL && strcmp(builder_name, cname) != 0)
		{
			cj_fail(c, "Mismatched names: name already added to SchemaBuilder (%s) differs from name in source schema (%s)",
					builder_name, cname);
			return;
		}
		n->name = cj_strdup(c, cname, strlen(cname));
	}
	else if (builder_name != NULL)
		n->name = cj_strdup(c, builder_name, strlen(builder_name));
}

static CjNode *
new_node(Compiler *c, CjKind kind, const char *ctype)
{
	CjNode	   *n = cj_alloc(c, sizeof(CjNode));

	if (n)
	{
		n->kind = kind;
		n->ctype = ctype;
		n->int_bits = 32;
		n->version = -1;
	}
	return n;
}

static CjNode *
compile_union(Compiler *c, json_t *j, const char *ns, int depth)
{
	json_t	   *a = json_array_get(j, 0),
			   *b = json_array_get(j, 1);
	CjNode	   *n;
	int			null_index;

	if (json_array_size(j) == 2 && json_is_string(a) && strcmp(json_string_value(a), "null") == 0)
		null_index = 0;
	else if (json_array_size(j) == 2 && json_is_string(b) && strcmp(json_string_value(b), "null") == 0)
		null_index = 1;
	else
	{
		cj_fail(c, "only unions of \"null\" and one type are supported (AvroData makes other unions io.confluent.connect.avro.Union structs)");
		return NULL;
	}
	n = new_node(c, CJ_OPTIONAL, NULL);
	if (n == NULL)
		return NULL;
	n->null_index = null_index;
	n->items = compile(c, null_index == 0 ? b : a, ns, depth + 1);
	if (n->items == NULL)
		return NULL;
	if (n->items->kind == CJ_OPTIONAL)
	{
		cj_fail(c, "unions cannot contain unions");
		return NULL;
	}
	return n;
}

static CjNode *
compile_record(Compiler *c, json_t *o, const char *ns, int depth)
{
	const char *name = json_str(o, "name");
	json_t	   *fields = json_object_get(o, "fields");
	const char *explicit_ns = json_str(o, "namespace");
	const char *doc = json_str(o, "doc");
	CjNode	   *n;
	char	   *inner;
	size_t		i;

	if (name == NULL || !json_is_array(fields))
	{
		cj_fail(c, "a record needs a \"name\" and \"fields\"");
		return NULL;
	}
	n = new_node(c, CJ_RECORD, "struct");
	if (n == NULL)
		return NULL;
	n->fullname = full_name(c, name, strchr(name, '.') ? NULL :
							(explicit_ns != NULL ? explicit_ns : ns));
	if (n->fullname == NULL)
		return NULL;
	add_named(c, n);
	inner = namespace_of(c, n->fullname);
	n->nfields = json_array_size(fields);
	n->fields = cj_alloc(c, n->nfields * sizeof(CjField));
	if (c->failed)
		return NULL;
	/* toConnectSchema, RECORD: the record doc, then each field's, as parameters */
	if (doc != NULL)
		add_param(c, n, AVRO_NS ".record.doc", doc);
	n->may_be_empty = true;
	for (i = 0; i < n->nfields && !c->failed; i++)
	{
		json_t	   *f = json_array_get(fields, i);
		CjField    *cf = &n->fields[i];
		const char *fname = json_str(f, "name");
		const char *fdoc = json_str(f, "doc");
		json_t	   *def = json_object_get(f, "default");
		JsonOut		kb = {0};
		size_t		k;

		if (fname == NULL || json_object_get(f, "type") == NULL)
		{
			cj_fail(c, "field %zu of record \"%s\" needs a \"name\" and a \"type\"", i, n->fullname);
			return NULL;
		}
		for (k = 0; k < i; k++)
			if (strcmp(n->fields[k].name, fname) == 0)
			{
				cj_fail(c, "record \"%s\" has two fields named \"%s\"", n->fullname, fname);
				return NULL;
			}
		if (fdoc != NULL)
		{
			char		key[512];

			snprintf(key, sizeof(key), AVRO_NS ".field.doc.%s", fname);
			add_param(c, n, key, fdoc);
		}
		cf->name = cj_strdup(c, fname, strlen(fname));
		out_cstring(&kb, fname);
		out_char(&kb, ':');
		cf->key_len = kb.len;
		cf->key_json = cj_take(c, &kb);
		cf->type = compile(c, json_object_get(f, "type"), inner, depth + 1);
		if (cf->type == NULL)
			return NULL;
		if (!cf->type->may_be_empty)
			n->may_be_empty = false;
		/* a union field's default is not used (AvroData takes connect.default) */
		if (def != NULL && cf->type->kind != CJ_OPTIONAL)
		{
			JsonOut		b = {0};

			default_json(c, cf->type, def, &b);
			cf->default_json = cj_take(c, &b);
		}
	}
	n->compiled = true;
	return n;
}

static CjNode *
compile_object(Compiler *c, json_t *o, const char *ns, int depth)
{
	json_t	   *tj = json_object_get(o, "type");
	const char *t;
	const char *logical = json_str(o, "logicalType");
	const char *ctype_prop = json_str(o, "connect.type");
	const char *builder_name = NULL;
	CjNode	   *n;
	CjKind		kind;
	const char *ctype;

	if (json_is_array(tj) || json_is_object(tj))
		return compile(c, tj, ns, depth + 1);
	if (!json_is_string(tj))
	{
		cj_fail(c, "an Avro schema object needs a \"type\"");
		return NULL;
	}
	t = json_string_value(tj);
	if ((ctype = primitive_kind(t, &kind)) != NULL)
	{
		n = new_node(c, kind, ctype);
		if (n == NULL)
			return NULL;
		if (kind == CJ_BYTES && logical && strcasecmp(logical, "decimal") == 0)
		{
			json_t	   *scale = json_object_get(o, "scale");
			json_t	   *prec = json_object_get(o, "precision");
			char		num[32];

			if (!json_is_integer(scale))
			{
				cj_fail(c, "scale must be specified and must be a number.");
				return NULL;
			}
			n->kind = CJ_DECIMAL;
			n->version = 1;
			builder_name = DECIMAL_NAME;
			snprintf(num, sizeof(num), "%d", (int) json_integer_value(scale));
			add_param(c, n, "scale", num);
			if (prec != NULL)
			{
				if (!json_is_integer(prec))
				{
					cj_fail(c, "precision property must be a JSON Integer.");
					return NULL;
				}
				if (json_integer_value(prec) != 64)
				{
					snprintf(num, sizeof(num), "%d", (int) json_integer_value(prec));
					add_param(c, n, "connect.decimal.precision", num);
				}
			}
		}
		else if (kind == CJ_INT && logical != NULL)
		{
			if (strcasecmp(logical, "date") == 0)
				builder_name = "org.apache.kafka.connect.data.Date";
			else if (strcasecmp(logical, "time-millis") == 0)
				builder_name = "org.apache.kafka.connect.data.Time";
			if (builder_name)
				n->version = 1;
		}
		else if (kind == CJ_INT && ctype_prop != NULL)
		{
			if (strcmp(ctype_prop, "int8") == 0)
			{
				n->ctype = "int8";
				n->int_bits = 8;
			}
			else if (strcmp(ctype_prop, "int16") == 0)
			{
				n->ctype = "int16";
				n->int_bits = 16;
			}
			else
			{
				cj_fail(c, "Connect type annotation for Avro int field is null");
				return NULL;
			}
		}
		else if (kind == CJ_LONG && logical && strcasecmp(logical, "timestamp-millis") == 0)
		{
			builder_name = "org.apache.kafka.connect.data.Timestamp";
			n->version = 1;
		}
	}
	else if (strcmp(t, "record") == 0 || strcmp(t, "error") == 0)
		n = compile_record(c, o, ns, depth);
	else if (strcmp(t, "enum") == 0)
	{
		json_t	   *syms = json_object_get(o, "symbols");
		const char *name = json_str(o, "name");
		const char *ens = json_str(o, "namespace");
		const char *doc = json_str(o, "doc");
		const char *def = json_str(o, "default");
		char		key[512];
		size_t		i;

		if (name == NULL || !json_is_array(syms) || json_array_size(syms) == 0)
		{
			cj_fail(c, "an enum needs a \"name\" and \"symbols\"");
			return NULL;
		}
		n = new_node(c, CJ_ENUM, "string");
		if (n == NULL)
			return NULL;
		n->fullname = full_name(c, name, strchr(name, '.') ? NULL : (ens ? ens : ns));
		if (n->fullname == NULL)
			return NULL;
		add_named(c, n);
		n->compiled = true;
		{
			const char *shortname = strrchr(n->fullname, '.') ? strrchr(n->fullname, '.') + 1 : n->fullname;

			/* toConnectSchema, ENUM: doc, default, the type name, each symbol */
			if (doc)
			{
				snprintf(key, sizeof(key), AVRO_NS ".enum.doc.%s", shortname);
				add_param(c, n, key, doc);
			}
			if (def)
			{
				snprintf(key, sizeof(key), AVRO_NS ".enum.default.%s", shortname);
				add_param(c, n, key, def);
			}
		}
		add_param(c, n, AVRO_NS ".Enum", n->fullname);
		n->nsymbols = json_array_size(syms);
		n->symbols = cj_alloc(c, n->nsymbols * sizeof(char *));
		n->symbol_lens = cj_alloc(c, n->nsymbols * sizeof(size_t));
		for (i = 0; i < n->nsymbols && !c->failed; i++)
		{
			json_t	   *s = json_array_get(syms, i);
			JsonOut		b = {0};

			if (!json_is_string(s))
			{
				cj_fail(c, "enum \"%s\": symbols must be strings", n->fullname);
				return NULL;
			}
			snprintf(key, sizeof(key), AVRO_NS ".Enum.%s", json_string_value(s));
			add_param(c, n, key, json_string_value(s));
			out_cstring(&b, json_string_value(s));
			n->symbol_lens[i] = b.len;
			n->symbols[i] = cj_take(c, &b);
		}
	}
	else if (strcmp(t, "array") == 0)
	{
		json_t	   *items = json_object_get(o, "items");

		if (items == NULL)
		{
			cj_fail(c, "an array needs \"items\"");
			return NULL;
		}
		n = new_node(c, CJ_ARRAY, "array");
		if (n == NULL)
			return NULL;
		n->items = compile(c, items, ns, depth + 1);
		if (n->items == NULL)
			return NULL;
		/* AvroData.isMapEntry: an array of MapEntry records is a Connect map */
		if (n->items->kind == CJ_RECORD && n->items->nfields == 2 &&
			(strcmp(n->items->fullname, AVRO_NS ".MapEntry") == 0 ||
			 (json_is_object(items) && json_str(items, "connect.internal.type") &&
			  strcmp(json_str(items, "connect.internal.type"), "MapEntry") == 0)))
		{
			CjNode	   *rec = n->items;

			if (strcmp(rec->fields[0].name, "key") != 0 || strcmp(rec->fields[1].name, "value") != 0)
			{
				cj_fail(c, "Found map encoded as array of key-value pairs, but array elements do not match the expected format.");
				return NULL;
			}
			n->kind = CJ_MAP_ENTRIES;
			n->ctype = "map";
			n->keys = rec->fields[0].type;
			n->items = rec->fields[1].type;
		}
	}
	else if (strcmp(t, "map") == 0)
	{
		json_t	   *values = json_object_get(o, "values");

		if (values == NULL)
		{
			cj_fail(c, "a map needs \"values\"");
			return NULL;
		}
		n = new_node(c, CJ_MAP, "map");
		if (n == NULL)
			return NULL;
		n->items = compile(c, values, ns, depth + 1);
		if (n->items == NULL)
			return NULL;
	}
	else if (strcmp(t, "fixed") == 0)
	{
		cj_fail(c, "Avro fixed types are not supported");
		return NULL;
	}
	else if (strcmp(t, "null") == 0)
	{
		cj_fail(c, "Standalone null schemas are not supported by this converter");
		return NULL;
	}
	else
	{
		/* {"type": "SomeRecord"}: a reference */
		return compile(c, tj, ns, depth + 1);
	}
	if (n == NULL || c->failed)
		return NULL;
	apply_props(c, n, o, builder_name);
	return c->failed ? NULL : n;
}

static CjNode *
compile(Compiler *c, json_t *j, const char *ns, int depth)
{
	if (c->failed)
		return NULL;
	if (depth > CJ_MAX_DEPTH)
	{
		cj_fail(c, "the Avro schema nests deeper than %d levels", CJ_MAX_DEPTH);
		return NULL;
	}
	if (json_is_string(j))
	{
		const char *t = json_string_value(j);
		CjKind		kind;
		const char *ctype = primitive_kind(t, &kind);
		CjNode	   *n;
		char	   *full;

		if (ctype != NULL)
			return new_node(c, kind, ctype);
		if (strcmp(t, "null") == 0)
		{
			cj_fail(c, "Standalone null schemas are not supported by this converter");
			return NULL;
		}
		full = full_name(c, t, ns);
		if (full == NULL)
			return NULL;
		n = find_named(c, full);
		if (n == NULL)
			n = find_named(c, t);
		if (n == NULL)
		{
			cj_fail(c, "unknown Avro type \"%s\"", full);
			return NULL;
		}
		if (!n->compiled)
		{
			cj_fail(c, "recursive Avro type \"%s\" is not supported", n->fullname);
			return NULL;
		}
		return n;
	}
	if (json_is_array(j))
		return compile_union(c, j, ns, depth);
	if (json_is_object(j))
		return compile_object(c, j, ns, depth);
	cj_fail(c, "an Avro schema is a string, an array or an object");
	return NULL;
}

/*
 * The Connect JSON of a default value: AvroData.defaultValueFromAvro, then
 * JsonConverter.convertToJson (bytes: the ISO-8859-1 text Avro defaults use).
 */
static void
default_json(Compiler *c, const CjNode *n, json_t *v, JsonOut *b)
{
	size_t		i;

	if (v == NULL || json_is_null(v))
	{
		if (n->default_json)
			out_mem(b, n->default_json, strlen(n->default_json));
		else
			out_lit(b, "null");
		return;
	}
	switch (n->kind)
	{
		case CJ_OPTIONAL:
			/* a union's default matches its first branch */
			if (n->null_index == 0)
				default_json(c, n->items, NULL, b);
			else
				default_json(c, n->items, v, b);
			return;
		case CJ_BOOLEAN:
			if (json_is_true(v))
				out_lit(b, "true");
			else
				out_lit(b, "false");
			return;
		case CJ_INT:
		case CJ_LONG:
			{
				int64_t		x = json_is_integer(v) ? (int64_t) json_integer_value(v) :
					(int64_t) json_number_value(v);

				if (n->kind == CJ_INT)
					x = n->int_bits == 8 ? (int8_t) x : n->int_bits == 16 ? (int16_t) x : (int32_t) x;
				out_int64(b, x);
				return;
			}
		case CJ_FLOAT:
			out_java_double(b, (float) json_number_value(v), true);
			return;
		case CJ_DOUBLE:
			out_java_double(b, json_number_value(v), false);
			return;
		case CJ_STRING:
		case CJ_ENUM:
			if (json_is_string(v))
				out_string(b, (const uint8_t *) json_string_value(v), json_string_length(v));
			else
			{
				cj_fail(c, "a string default must be a JSON string");
			}
			return;
		case CJ_BYTES:
		case CJ_DECIMAL:
			{
				const unsigned char *s;
				size_t		len,
							k = 0;
				uint8_t    *raw;

				if (!json_is_string(v))
				{
					cj_fail(c, "a bytes default must be a JSON string");
					return;
				}
				s = (const unsigned char *) json_string_value(v);
				len = json_string_length(v);
				raw = malloc(len ? len : 1);
				if (raw == NULL)
				{
					cj_fail(c, "out of memory");
					return;
				}
				/* code points U+0000..U+00FF, one byte each */
				for (i = 0; i < len; i++)
				{
					if (s[i] < 0x80)
						raw[k++] = s[i];
					else if ((s[i] == 0xC2 || s[i] == 0xC3) && i + 1 < len)
					{
						raw[k++] = (uint8_t) (((s[i] & 0x03) << 6) | (s[i + 1] & 0x3F));
						i++;
					}
					else
					{
						free(raw);
						cj_fail(c, "a bytes default has a character above U+00FF");
						return;
					}
				}
				if (n->kind == CJ_DECIMAL)
				{
					if (k == 0)
					{
						free(raw);
						cj_fail(c, "a decimal default has no bytes");
						return;
					}
					out_decimal(b, raw, k);
				}
				else
					out_base64(b, raw, k);
				free(raw);
				return;
			}
		case CJ_RECORD:
			out_char(b, '{');
			for (i = 0; i < n->nfields; i++)
			{
				const CjField *f = &n->fields[i];
				json_t	   *fv = json_object_get(v, f->name);

				if (i)
					out_char(b, ',');
				out_mem(b, f->key_json, f->key_len);
				if ((fv == NULL || json_is_null(fv)) && f->default_json)
					out_mem(b, f->default_json, strlen(f->default_json));
				else
					default_json(c, f->type, fv, b);
			}
			out_char(b, '}');
			return;
		case CJ_ARRAY:
			out_char(b, '[');
			for (i = 0; i < json_array_size(v); i++)
			{
				if (i)
					out_char(b, ',');
				default_json(c, n->items, json_array_get(v, i), b);
			}
			out_char(b, ']');
			return;
		case CJ_MAP:
			{
				const char *key;
				json_t	   *mv;
				bool		first = true;

				out_char(b, '{');
				json_object_foreach(v, key, mv)
				{
					if (!first)
						out_char(b, ',');
					first = false;
					out_cstring(b, key);
					out_char(b, ':');
					default_json(c, n->items, mv, b);
				}
				out_char(b, '}');
				return;
			}
		case CJ_MAP_ENTRIES:
			out_char(b, '[');
			for (i = 0; i < json_array_size(v); i++)
			{
				json_t	   *e = json_array_get(v, i);

				if (i)
					out_char(b, ',');
				out_char(b, '[');
				default_json(c, n->keys, json_object_get(e, "key"), b);
				out_char(b, ',');
				default_json(c, n->items, json_object_get(e, "value"), b);
				out_char(b, ']');
			}
			out_char(b, ']');
			return;
	}
}

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
	out_lit(b, "{\"type\":");
	out_cstring(b, n->ctype);
	switch (n->kind)
	{
		case CJ_ARRAY:
			out_lit(b, ",\"items\":");
			render_schema(b, n->items, false, NULL, NULL);
			break;
		case CJ_MAP:
			out_lit(b, ",\"keys\":{\"type\":\"string\",\"optional\":false},\"values\":");
			render_schema(b, n->items, false, NULL, NULL);
			break;
		case CJ_MAP_ENTRIES:
			out_lit(b, ",\"keys\":");
			render_schema(b, n->keys, false, NULL, NULL);
			out_lit(b, ",\"values\":");
			render_schema(b, n->items, false, NULL, NULL);
			break;
		case CJ_RECORD:
			out_lit(b, ",\"fields\":[");
			for (i = 0; i < n->nfields; i++)
			{
				if (i)
					out_char(b, ',');
				render_schema(b, n->fields[i].type, false, n->fields[i].default_json,
							  n->fields[i].name);
			}
			out_char(b, ']');
			break;
		default:
			break;
	}
	if (optional)
		out_lit(b, ",\"optional\":true");
	else
		out_lit(b, ",\"optional\":false");
	if (n->name)
	{
		out_lit(b, ",\"name\":");
		out_cstring(b, n->name);
	}
	if (n->version >= 0)
	{
		out_lit(b, ",\"version\":");
		out_int64(b, n->version);
	}
	if (n->doc)
	{
		out_lit(b, ",\"doc\":");
		out_cstring(b, n->doc);
	}
	if (n->nparams || flag)
	{
		out_lit(b, ",\"parameters\":{");
		for (i = 0; i < n->nparams; i++)
		{
			if (i)
				out_char(b, ',');
			out_cstring(b, n->params[i].key);
			out_char(b, ':');
			out_cstring(b, n->params[i].value);
		}
		if (flag)
		{
			if (n->nparams)
				out_char(b, ',');
			out_lit(b, "\"" FIELD_DEFAULT_FLAG "\":\"true\"");
		}
		out_char(b, '}');
	}
	if (def)
	{
		out_lit(b, ",\"default\":");
		out_mem(b, def, strlen(def));
	}
	if (field_name)
	{
		out_lit(b, ",\"field\":");
		out_cstring(b, field_name);
	}
	out_char(b, '}');
}

ConnectJson *
connect_json_new(const char *avro_schema, size_t len, char *err, size_t errlen)
{
	Compiler	c = {0};
	json_t	   *j;
	json_error_t jerr;
	JsonOut		b = {0};
	ConnectJson *cj;

	cj = calloc(1, sizeof(ConnectJson));
	if (cj == NULL)
	{
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c.cj = cj;
	c.err = err;
	c.errlen = errlen;
	j = json_loadb(avro_schema, len, JSON_DECODE_ANY, &jerr);
	if (j == NULL)
	{
		snprintf(err, errlen, "the Avro schema is not JSON: %s (line %d, column %d)",
				 jerr.text, jerr.line, jerr.column);
		connect_json_free(cj);
		return NULL;
	}
	cj->root = compile(&c, j, NULL, 0);
	json_decref(j);
	free(c.named);
	if (cj->root != NULL && !c.failed)
	{
		render_schema(&b, cj->root, false, NULL, NULL);
		cj->schema_len = b.len;
		cj->schema_text = cj_take(&c, &b);
	}
	if (c.failed || cj->root == NULL)
	{
		connect_json_free(cj);
		return NULL;
	}
	return cj;
}

void
connect_json_free(ConnectJson *cj)
{
	size_t		i;

	if (cj == NULL)
		return;
	for (i = 0; i < cj->nallocs; i++)
		free(cj->allocs[i]);
	free(cj->allocs);
	free(cj);
}

const char *
connect_json_schema_text(const ConnectJson *cj, size_t *len)
{
	if (len)
		*len = cj->schema_len;
	return cj->schema_text;
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
				out_lit(out, "true");
			else
				out_lit(out, "false");
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
				out_int64(out, v);
				return 0;
			}
		case CJ_LONG:
			{
				int64_t		v = 0;

				if (read_long(w, &v) < 0)
					return -1;
				out_int64(out, v);
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
				out_java_double(out, f, true);
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
				out_java_double(out, d, false);
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
					out_string(out, s, len);
				else if (n->kind == CJ_BYTES)
					out_base64(out, s, len);
				else if (len == 0)
					return walk_fail(w, "bad datum: a decimal of zero bytes (Zero length BigInteger)");
				else
					out_decimal(out, s, len);
				return 0;
			}
		case CJ_ENUM:
			{
				int32_t		i = 0;

				if (read_int(w, &i) < 0)
					return -1;
				if (i < 0 || (size_t) i >= n->nsymbols)
					return walk_fail(w, "bad datum: enum index %d of %zu symbols", i, n->nsymbols);
				out_mem(out, n->symbols[i], n->symbol_lens[i]);
				return 0;
			}
		case CJ_RECORD:
			{
				size_t		i;
				const char *outer = w->field;

				out_char(out, '{');
				for (i = 0; i < n->nfields; i++)
				{
					if (i)
						out_char(out, ',');
					out_mem(out, n->fields[i].key_json, n->fields[i].key_len);
					w->field = n->fields[i].name;
					if (walk(w, n->fields[i].type) < 0)
						return -1;
				}
				w->field = outer;
				out_char(out, '}');
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

				out_char(out, n->kind == CJ_MAP ? '{' : '[');
				for (;;)
				{
					if (read_block(w, item, &count) < 0)
						return -1;
					if (count == 0)
						break;
					for (k = 0; k < count; k++)
					{
						if (!first)
							out_char(out, ',');
						first = false;
						if (n->kind == CJ_MAP)
						{
							const uint8_t *s = NULL;
							size_t		len = 0;

							if (read_bytes(w, &s, &len) < 0)
								return -1;
							out_string(out, s, len);
							out_char(out, ':');
							if (walk(w, n->items) < 0)
								return -1;
						}
						else if (n->kind == CJ_MAP_ENTRIES)
						{
							out_char(out, '[');
							if (walk(w, n->keys) < 0)
								return -1;
							out_char(out, ',');
							if (walk(w, n->items) < 0)
								return -1;
							out_char(out, ']');
						}
						else if (walk(w, n->items) < 0)
							return -1;
					}
				}
				out_char(out, n->kind == CJ_MAP ? '}' : ']');
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
					out_mem(out, n->items->default_json, strlen(n->items->default_json));
				else
					out_lit(out, "null");
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
		out_lit(out, "{\"schema\":");
		out_mem(out, cj->schema_text, cj->schema_len);
		out_lit(out, ",\"payload\":");
	}
	if (walk(&w, cj->root) == 0)
	{
		if (w.p != w.end)
			walk_fail(&w, "bad datum: %zu bytes after its end", (size_t) (w.end - w.p));
		else if (with_schema)
			out_char(out, '}');
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
