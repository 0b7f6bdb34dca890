/*-------------------------------------------------------------------------
 *
 * connect_json_metadata.c
 *		What a compiled Connect schema says beside its types: the metadata
 *		AvroData.toConnectSchema reads from an Avro schema's props
 *		(connect.name, connect.version, connect.doc, connect.parameters,
 *		connect.default, "avro*"), its parameters, and Avro defaults as
 *		Connect JSON (AvroData.defaultValueFromAvro, then
 *		JsonConverter.convertToJson).  connect_json_schema.c calls it while
 *		it compiles a schema.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/connect_json_metadata.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "connect_json_internal.h"
#include "connect_json_schema_internal.h"
#include "json_out.h"

/* Set parameter key of n to value (a copy), keeping a known key's place */
void
cj_add_param(CjCompiler *c, CjNode *n, const char *key, const char *value)
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

/* the connect.* and avro* properties of an Avro schema (toConnectSchema) */
void
cj_apply_props(CjCompiler *c, CjNode *n, json_t *o, const char *builder_name)
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
			cj_add_param(c, n, key, json_string_value(pv));
		}
	}
	json_object_foreach(o, key, v)
	{
		if (strncmp(key, "avro", 4) == 0)
		{
			/* a non-string value: its JSON text, where Java writes toString() (close; a stated limit) */
			if (json_is_string(v))
				cj_add_param(c, n, key, json_string_value(v));
			else
			{
				char	   *t = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);

				if (t == NULL)
				{
					cj_fail(c, "out of memory");
					return;
				}
				cj_add_param(c, n, key, t);
				free(t);
			}
		}
	}
	v = json_object_get(o, "connect.default");
	if (v != NULL && !json_is_null(v))
	{
		JsonOut		b = {0};

		cj_default_json(c, n, v, &b);
		n->default_json = cj_take(c, &b);
	}
	cname = cj_json_str(o, "connect.name");
	if (cname == NULL && (n->kind == CJ_RECORD || n->kind == CJ_ENUM))
		cname = n->fullname;
	if (cname != NULL && strcmp(cname, CJ_AVRO_NS ".ConnectDefault") != 0)
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

/*
 * The Connect JSON of a default value: AvroData.defaultValueFromAvro, then
 * JsonConverter.convertToJson (bytes: the ISO-8859-1 text Avro defaults use).
 */
void
cj_default_json(CjCompiler *c, const CjNode *n, json_t *v, JsonOut *b)
{
	size_t		i;

	if (v == NULL || json_is_null(v))
	{
		if (n->default_json)
			json_out_mem(b, n->default_json, strlen(n->default_json));
		else
			JSON_OUT_LIT(b, "null");
		return;
	}
	switch (n->kind)
	{
		case CJ_OPTIONAL:
			/* a union's default matches its first branch */
			if (n->null_index == 0)
				cj_default_json(c, n->items, NULL, b);
			else
				cj_default_json(c, n->items, v, b);
			return;
		case CJ_BOOLEAN:
			if (json_is_true(v))
				JSON_OUT_LIT(b, "true");
			else
				JSON_OUT_LIT(b, "false");
			return;
		case CJ_INT:
		case CJ_LONG:
			{
				int64_t		x = json_is_integer(v) ? (int64_t) json_integer_value(v) :
					(int64_t) json_number_value(v);

				if (n->kind == CJ_INT)
					x = n->int_bits == 8 ? (int8_t) x : n->int_bits == 16 ? (int16_t) x : (int32_t) x;
				json_out_int64(b, x);
				return;
			}
		case CJ_FLOAT:
			json_out_double(b, (float) json_number_value(v), true);
			return;
		case CJ_DOUBLE:
			json_out_double(b, json_number_value(v), false);
			return;
		case CJ_STRING:
		case CJ_ENUM:
			if (json_is_string(v))
				json_out_string(b, (const uint8_t *) json_string_value(v), json_string_length(v));
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
					json_out_decimal(b, raw, k);
				}
				else
					json_out_base64(b, raw, k);
				free(raw);
				return;
			}
		case CJ_RECORD:
			json_out_char(b, '{');
			for (i = 0; i < n->nfields; i++)
			{
				const CjField *f = &n->fields[i];
				json_t	   *fv = json_object_get(v, f->name);

				if (i)
					json_out_char(b, ',');
				json_out_mem(b, f->key_json, f->key_len);
				if ((fv == NULL || json_is_null(fv)) && f->default_json)
					json_out_mem(b, f->default_json, strlen(f->default_json));
				else
					cj_default_json(c, f->type, fv, b);
			}
			json_out_char(b, '}');
			return;
		case CJ_ARRAY:
			json_out_char(b, '[');
			for (i = 0; i < json_array_size(v); i++)
			{
				if (i)
					json_out_char(b, ',');
				cj_default_json(c, n->items, json_array_get(v, i), b);
			}
			json_out_char(b, ']');
			return;
		case CJ_MAP:
			{
				const char *key;
				json_t	   *mv;
				bool		first = true;

				json_out_char(b, '{');
				json_object_foreach(v, key, mv)
				{
					if (!first)
						json_out_char(b, ',');
					first = false;
					json_out_cstring(b, key);
					json_out_char(b, ':');
					cj_default_json(c, n->items, mv, b);
				}
				json_out_char(b, '}');
				return;
			}
		case CJ_MAP_ENTRIES:
			json_out_char(b, '[');
			for (i = 0; i < json_array_size(v); i++)
			{
				json_t	   *e = json_array_get(v, i);

				if (i)
					json_out_char(b, ',');
				json_out_char(b, '[');
				cj_default_json(c, n->keys, json_object_get(e, "key"), b);
				json_out_char(b, ',');
				cj_default_json(c, n->items, json_object_get(e, "value"), b);
				json_out_char(b, ']');
			}
			json_out_char(b, ']');
			return;
	}
}
