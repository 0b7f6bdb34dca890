/*-------------------------------------------------------------------------
 *
 * connect_json_schema.c
 *		Compile an Avro schema text (libjansson) into the tree connect_json.c
 *		walks, and render its Connect schema once, as JsonConverter would.
 *
 * The rules are AvroData.toConnectSchema's (connect.meta.data=true,
 * enhanced.avro.schema.support=false), as regress/tools/connect_avro.py
 * writes them down: int with connect.type int8/int16; logicalType decimal,
 * date, time-millis, timestamp-millis as Connect's Decimal, Date, Time,
 * Timestamp; a union of null and T as an optional T; an array of MapEntry
 * records as a Connect map; record and field docs and enum symbols as
 * parameters.  The metadata a schema carries (connect.name,
 * connect.version, connect.doc, connect.parameters, connect.default and
 * "avro*" props) and the defaults are read in connect_json_metadata.c.
 * The Connect schema is written in JsonConverter.asJsonSchema's key order.
 * Everything allocated hangs off the ConnectJson and goes with
 * connect_json_free.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/connect_json_schema.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "connect_json_internal.h"
#include "connect_json_schema_internal.h"
#include "json_out.h"

#define DECIMAL_NAME	"org.apache.kafka.connect.data.Decimal"

/* ------------------------------------------------------------------------
 * The compiler's allocations and errors (connect_json_schema_internal.h)
 * ------------------------------------------------------------------------
 */

/* size zeroed bytes freed with the ConnectJson; NULL once compiling failed */
void *
cj_alloc(CjCompiler *c, size_t size)
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

/* n bytes of s and a NUL, freed with the ConnectJson; NULL once failed */
char *
cj_strdup(CjCompiler *c, const char *s, size_t n)
{
	char	   *d = cj_alloc(c, n + 1);

	if (d)
		memcpy(d, s, n);
	return d;
}

/* Fail the compilation with this message, unless it failed already */
void
cj_fail(CjCompiler *c, const char *fmt,...)
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
char *
cj_take(CjCompiler *c, JsonOut *b)
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

/* ------------------------------------------------------------------------
 * Types
 * ------------------------------------------------------------------------
 */

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
full_name(CjCompiler *c, const char *name, const char *ns)
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
find_named(CjCompiler *c, const char *full)
{
	size_t		i;

	for (i = 0; i < c->nnamed; i++)
		if (strcmp(c->named[i]->fullname, full) == 0)
			return c->named[i];
	return NULL;
}

static void
add_named(CjCompiler *c, CjNode *n)
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

static CjNode *compile(CjCompiler *c, json_t *j, const char *ns, int depth);

/* the namespace a named type's children inherit: its full name's prefix */
static char *
namespace_of(CjCompiler *c, const char *full)
{
	const char *dot = strrchr(full, '.');

	return dot ? cj_strdup(c, full, dot - full) : NULL;
}

static CjNode *
new_node(CjCompiler *c, CjKind kind, const char *ctype)
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
compile_union(CjCompiler *c, json_t *j, const char *ns, int depth)
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
compile_record(CjCompiler *c, json_t *o, const char *ns, int depth)
{
	const char *name = cj_json_str(o, "name");
	json_t	   *fields = json_object_get(o, "fields");
	const char *explicit_ns = cj_json_str(o, "namespace");
	const char *doc = cj_json_str(o, "doc");
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
		cj_add_param(c, n, CJ_AVRO_NS ".record.doc", doc);
	n->may_be_empty = true;
	for (i = 0; i < n->nfields && !c->failed; i++)
	{
		json_t	   *f = json_array_get(fields, i);
		CjField    *cf = &n->fields[i];
		const char *fname = cj_json_str(f, "name");
		const char *fdoc = cj_json_str(f, "doc");
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

			snprintf(key, sizeof(key), CJ_AVRO_NS ".field.doc.%s", fname);
			cj_add_param(c, n, key, fdoc);
		}
		cf->name = cj_strdup(c, fname, strlen(fname));
		json_out_cstring(&kb, fname);
		json_out_char(&kb, ':');
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

			cj_default_json(c, cf->type, def, &b);
			cf->default_json = cj_take(c, &b);
		}
	}
	n->compiled = true;
	return n;
}

static CjNode *
compile_object(CjCompiler *c, json_t *o, const char *ns, int depth)
{
	json_t	   *tj = json_object_get(o, "type");
	const char *t;
	const char *logical = cj_json_str(o, "logicalType");
	const char *ctype_prop = cj_json_str(o, "connect.type");
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
			cj_add_param(c, n, "scale", num);
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
					cj_add_param(c, n, "connect.decimal.precision", num);
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
		const char *name = cj_json_str(o, "name");
		const char *ens = cj_json_str(o, "namespace");
		const char *doc = cj_json_str(o, "doc");
		const char *def = cj_json_str(o, "default");
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
				snprintf(key, sizeof(key), CJ_AVRO_NS ".enum.doc.%s", shortname);
				cj_add_param(c, n, key, doc);
			}
			if (def)
			{
				snprintf(key, sizeof(key), CJ_AVRO_NS ".enum.default.%s", shortname);
				cj_add_param(c, n, key, def);
			}
		}
		cj_add_param(c, n, CJ_AVRO_NS ".Enum", n->fullname);
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
			snprintf(key, sizeof(key), CJ_AVRO_NS ".Enum.%s", json_string_value(s));
			cj_add_param(c, n, key, json_string_value(s));
			json_out_cstring(&b, json_string_value(s));
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
			(strcmp(n->items->fullname, CJ_AVRO_NS ".MapEntry") == 0 ||
			 (json_is_object(items) && cj_json_str(items, "connect.internal.type") &&
			  strcmp(cj_json_str(items, "connect.internal.type"), "MapEntry") == 0)))
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
	cj_apply_props(c, n, o, builder_name);
	return c->failed ? NULL : n;
}

static CjNode *
compile(CjCompiler *c, json_t *j, const char *ns, int depth)
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

ConnectJson *
connect_json_new(const char *avro_schema, size_t len, char *err, size_t errlen)
{
	CjCompiler	c = {0};
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
	j = json_loadb(avro_schema, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
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
		connect_json_render_schema(&b, cj->root);
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
