/*-------------------------------------------------------------------------
 *
 * avro_json.c
 *		Render a libavro value as plain JSON for people: unions unwrapped,
 *		decimals as exact decimal strings, bytes as \x hex, the Unchanged
 *		marker as {"__unchanged":true}.
 *
 * libavro's own avro_value_to_json writes the Avro JSON encoding (unions
 * as {"type": value}, bytes as raw characters), which is right for
 * machines and unreadable for people; this is what tail prints.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/tail/avro_json.c
 *
 *-------------------------------------------------------------------------
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <avro.h>

#include "avro_json.h"

static void
buf_grow(JsonBuf *b, size_t more)
{
	if (b->failed)
		return;
	if (b->len + more + 1 > b->cap)
	{
		size_t		cap = b->cap ? b->cap : 256;
		char	   *d;

		while (b->len + more + 1 > cap)
			cap *= 2;
		d = realloc(b->data, cap);
		if (d == NULL)
		{
			b->failed = true;
			return;
		}
		b->data = d;
		b->cap = cap;
	}
}

void
json_append(JsonBuf *b, const char *s, size_t n)
{
	buf_grow(b, n);
	if (b->failed)
		return;
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
json_printf(JsonBuf *b, const char *fmt,...)
{
	va_list		ap;
	char		small[128];
	int			n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t) n < sizeof(small))
	{
		json_append(b, small, n);
		return;
	}
	buf_grow(b, n);
	if (b->failed)
		return;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, n + 1, fmt, ap);
	va_end(ap);
	b->len += n;
}

/* A JSON string; bytes that are not printable ASCII or UTF-8 go as \u00XX. */
void
jsonbuf_string(JsonBuf *b, const char *s, size_t n)
{
	size_t		i;

	json_append(b, "\"", 1);
	for (i = 0; i < n; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (c == '"' || c == '\\')
		{
			char		esc[2] = {'\\', (char) c};

			json_append(b, esc, 2);
		}
		else if (c == '\n')
			json_append(b, "\\n", 2);
		else if (c == '\t')
			json_append(b, "\\t", 2);
		else if (c == '\r')
			json_append(b, "\\r", 2);
		else if (c < 0x20 || c == 0x7F)
			json_printf(b, "\\u%04x", c);
		else
			json_append(b, (const char *) &c, 1);
	}
	json_append(b, "\"", 1);
}

static void
json_hex(JsonBuf *b, const uint8_t *p, size_t n)
{
	size_t		i;

	json_append(b, "\"\\\\x", 4);
	for (i = 0; i < n; i++)
		json_printf(b, "%02x", p[i]);
	json_append(b, "\"", 1);
}

/* A two's-complement big-endian integer with "scale" digits after the point */
static void
json_decimal(JsonBuf *b, const uint8_t *p, size_t n, int scale)
{
	uint8_t    *mag = malloc(n ? n : 1);
	char	   *digits = malloc(n * 3 + 2);
	bool		negative = n > 0 && (p[0] & 0x80);
	size_t		nd = 0,
				i;
	int			k;

	if (mag == NULL || digits == NULL)
	{
		free(mag);
		free(digits);
		b->failed = true;
		return;
	}
	memcpy(mag, p, n);
	if (negative)
	{
		unsigned	carry = 1;

		for (i = n; i-- > 0;)
		{
			unsigned	v = (uint8_t) ~mag[i] + carry;

			mag[i] = (uint8_t) v;
			carry = v >> 8;
		}
	}
	/* repeated division by 10, least significant digit first */
	for (;;)
	{
		unsigned	rem = 0;
		bool		zero = true;

		for (i = 0; i < n; i++)
		{
			unsigned	cur = (rem << 8) | mag[i];

			mag[i] = (uint8_t) (cur / 10);
			rem = cur % 10;
			if (mag[i])
				zero = false;
		}
		digits[nd++] = (char) ('0' + rem);
		if (zero)
			break;
	}
	while ((int) nd <= scale)
		digits[nd++] = '0';
	json_append(b, "\"", 1);
	if (negative)
		json_append(b, "-", 1);
	for (k = (int) nd - 1; k >= 0; k--)
	{
		json_append(b, &digits[k], 1);
		if (k == scale && scale > 0)
			json_append(b, ".", 1);
	}
	json_append(b, "\"", 1);
	free(mag);
	free(digits);
}

static void
json_double(JsonBuf *b, double d)
{
	if (isnan(d))
		json_append(b, "\"NaN\"", 5);
	else if (isinf(d))
		json_printf(b, "\"%sInfinity\"", d < 0 ? "-" : "");
	else
		json_printf(b, "%.17g", d);
}

/*
 * Append a value as plain JSON.  Returns 0, or -1 when libavro fails to
 * read the value (b then holds a partial text).
 */
int
avro_json_render(JsonBuf *b, avro_value_t *v)
{
	avro_schema_t schema = avro_value_get_schema(v);
	size_t		n,
				i;

	switch (avro_value_get_type(v))
	{
		case AVRO_NULL:
			json_append(b, "null", 4);
			return 0;
		case AVRO_BOOLEAN:
			{
				int			x;

				avro_value_get_boolean(v, &x);
				json_append(b, x ? "true" : "false", x ? 4 : 5);
				return 0;
			}
		case AVRO_INT32:
			{
				int32_t		x;

				avro_value_get_int(v, &x);
				json_printf(b, "%" PRId32, x);
				return 0;
			}
		case AVRO_INT64:
			{
				int64_t		x;

				avro_value_get_long(v, &x);
				json_printf(b, "%" PRId64, x);
				return 0;
			}
		case AVRO_FLOAT:
			{
				float		x;

				avro_value_get_float(v, &x);
				json_double(b, x);
				return 0;
			}
		case AVRO_DOUBLE:
			{
				double		x;

				avro_value_get_double(v, &x);
				json_double(b, x);
				return 0;
			}
		case AVRO_STRING:
			{
				const char *s;

				avro_value_get_string(v, &s, &n);
				jsonbuf_string(b, s, n > 0 ? n - 1 : 0);	/* size counts the NUL */
				return 0;
			}
		case AVRO_BYTES:
			{
				const void *p;

				avro_value_get_bytes(v, &p, &n);
				json_hex(b, p, n);
				return 0;
			}
		case AVRO_FIXED:
			{
				const void *p;
				const char *name = avro_schema_name(schema);
				int			precision,
							scale;

				avro_value_get_fixed(v, &p, &n);
				if (sscanf(name, "decimal_%d_%d", &precision, &scale) == 2)
					json_decimal(b, p, n, scale);
				else
					json_hex(b, p, n);
				return 0;
			}
		case AVRO_ENUM:
			{
				int			x;
				const char *sym;

				avro_value_get_enum(v, &x);
				sym = avro_schema_enum_get(schema, x);
				if (strcmp(avro_schema_name(schema), "Unchanged") == 0)
					json_append(b, "{\"__unchanged\":true}", 20);
				else
					jsonbuf_string(b, sym ? sym : "", sym ? strlen(sym) : 0);
				return 0;
			}
		case AVRO_UNION:
			{
				avro_value_t branch;

				if (avro_value_get_current_branch(v, &branch) != 0)
					return -1;
				return avro_json_render(b, &branch);
			}
		case AVRO_ARRAY:
			avro_value_get_size(v, &n);
			json_append(b, "[", 1);
			for (i = 0; i < n; i++)
			{
				avro_value_t item;

				if (i > 0)
					json_append(b, ",", 1);
				if (avro_value_get_by_index(v, i, &item, NULL) != 0 ||
					avro_json_render(b, &item) != 0)
					return -1;
			}
			json_append(b, "]", 1);
			return 0;
		case AVRO_MAP:
		case AVRO_RECORD:
			{
				const char *name = avro_schema_name(schema);

				avro_value_get_size(v, &n);
				/* a variable-scale decimal: {scale, value} as one string */
				if (avro_value_get_type(v) == AVRO_RECORD &&
					strcmp(name, "VariableScaleDecimal") == 0 && n == 2)
				{
					avro_value_t sv,
								vv;
					int32_t		sc;
					const void *p;
					size_t		len;

					avro_value_get_by_index(v, 0, &sv, NULL);
					avro_value_get_by_index(v, 1, &vv, NULL);
					avro_value_get_int(&sv, &sc);
					avro_value_get_bytes(&vv, &p, &len);
					json_decimal(b, p, len, sc);
					return 0;
				}
				json_append(b, "{", 1);
				for (i = 0; i < n; i++)
				{
					avro_value_t field;
					const char *fname;

					if (avro_value_get_by_index(v, i, &field, &fname) != 0)
						return -1;
					if (i > 0)
						json_append(b, ",", 1);
					jsonbuf_string(b, fname, strlen(fname));
					json_append(b, ":", 1);
					if (avro_json_render(b, &field) != 0)
						return -1;
				}
				json_append(b, "}", 1);
				return 0;
			}
		default:
			return -1;
	}
}
