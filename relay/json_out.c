/*-------------------------------------------------------------------------
 *
 * json_out.c
 *		JSON text the way Kafka Connect's JsonConverter (Jackson) writes it:
 *		Java's number text, Jackson's string escapes, base64.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/json_out.c
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_out.h"

void
json_out_int64(JsonOut *b, int64_t v)
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
	json_out_mem(b, q, tmp + sizeof(tmp) - q);
}

/* Java's Double.toString / Float.toString; see json_out.h */
int
json_java_double(char *buf, double v, bool single)
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
	/*
	 * The shortest correctly rounded digits that read back as v: if p digits
	 * do, p + 1 do too, so search; 17 (9 for a float) always do.
	 */
	{
		int			lo = 1,
					hi = single ? 9 : 17;

		while (lo < hi)
		{
			int			mid = (lo + hi) / 2;

			snprintf(tmp, sizeof(tmp), "%.*e", mid - 1, v);
			if (single ? strtof(tmp, NULL) == (float) v : strtod(tmp, NULL) == v)
				hi = mid;
			else
				lo = mid + 1;
		}
		p = lo;
		snprintf(tmp, sizeof(tmp), "%.*e", p - 1, v);
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

/* a float or double as JsonConverter writes it (see json_out.h) */
void
json_out_double(JsonOut *b, double v, bool single)
{
	char		tmp[40];

	if (isnan(v))
		JSON_OUT_LIT(b, "\"NaN\"");
	else if (isinf(v))
	{
		if (v > 0)
			JSON_OUT_LIT(b, "\"Infinity\"");
		else
			JSON_OUT_LIT(b, "\"-Infinity\"");
	}
	else
		json_out_mem(b, tmp, json_java_double(tmp, v, single));
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

/* A JSON string as Jackson writes one (see json_out.h) */
void
json_out_string(JsonOut *b, const uint8_t *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t		i = 0,
				run;

	/* worst case six bytes per input byte (\u00XX), plus quotes */
	if (!json_out_reserve(b, n * 6 + 2))
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

void
json_out_cstring(JsonOut *b, const char *s)
{
	json_out_string(b, (const uint8_t *) s, strlen(s));
}

/* bytes as Jackson's base64 (standard alphabet, padded, no line breaks) */
void
json_out_base64(JsonOut *b, const uint8_t *s, size_t n)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char	   *d;
	size_t		i;

	if (!json_out_reserve(b, (n + 2) / 3 * 4 + 2))
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
void
json_out_decimal(JsonOut *b, const uint8_t *s, size_t n)
{
	size_t		i = 0;

	while (i + 1 < n && ((s[i] == 0x00 && !(s[i + 1] & 0x80)) ||
						 (s[i] == 0xFF && (s[i + 1] & 0x80))))
		i++;
	json_out_base64(b, s + i, n - i);
}
