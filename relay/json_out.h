/*-------------------------------------------------------------------------
 *
 * json_out.h
 *		JSON text the way Kafka Connect's JsonConverter (Jackson) writes it
 *		(json_out.c): numbers, strings, base64, into a growing buffer.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/json_out.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RELAY_JSON_OUT_H
#define RELAY_JSON_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/*
 * A growing output text; data is malloc'd (the owner frees it) and kept
 * NUL-terminated.  When it cannot grow, failed is set and every later write
 * is dropped.  (Not avro_json.h's JsonBuf: that header's
 * json_string once collided with libjansson's, which connect_json uses.)
 */
typedef struct JsonOut
{
	char	   *data;
	size_t		len;
	size_t		cap;
	bool		failed;			/* out of memory: the text is incomplete */
} JsonOut;

/* Room for more bytes (and the NUL); false when out of memory. */
static inline bool
json_out_reserve(JsonOut *b, size_t more)
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
json_out_mem(JsonOut *b, const void *s, size_t n)
{
	if (!json_out_reserve(b, n))
		return;
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

static inline void
json_out_char(JsonOut *b, char c)
{
	if (!json_out_reserve(b, 1))
		return;
	b->data[b->len++] = c;
	b->data[b->len] = '\0';
}

#define JSON_OUT_LIT(b, s) json_out_mem((b), (s), sizeof(s) - 1)

/* A decimal integer. */
extern void json_out_int64(JsonOut *b, int64_t v);

/*
 * Java's Double.toString (single: Float.toString) of a finite v, as Jackson
 * writes a number: the shortest decimal that reads back as v (two digits
 * when one would do), "1.0E10" style outside [1e-3, 1e7).  buf needs 32
 * bytes; returns the length.
 * XXX Before JDK 19 Java sometimes writes more digits than the shortest
 * (OpenJDK 17: 11% of random float bit patterns, 0.2% of doubles, none of
 * 400,000 short decimals and gaussians); this writes the JDK 19+ text.
 */
extern int	json_java_double(char *buf, double v, bool single);

/* A float or double as JsonConverter writes it: NaN and infinities quoted. */
extern void json_out_double(JsonOut *b, double v, bool single);

/*
 * A JSON string as Jackson writes one: ", \, \b \t \n \f \r escaped short,
 * other controls as \u00XX (upper-case hex), everything else as UTF-8;
 * malformed UTF-8 becomes U+FFFD per maximal ill-formed part, as Java
 * decodes Avro strings.
 */
extern void json_out_string(JsonOut *b, const uint8_t *s, size_t n);
extern void json_out_cstring(JsonOut *b, const char *s);

/* Bytes as a base64 JSON string (standard alphabet, padded). */
extern void json_out_base64(JsonOut *b, const uint8_t *s, size_t n);

/*
 * A Decimal's unscaled two's-complement integer as JsonConverter writes it:
 * base64 of BigInteger.toByteArray(), so redundant sign bytes go.  n >= 1.
 */
extern void json_out_decimal(JsonOut *b, const uint8_t *s, size_t n);

#endif							/* RELAY_JSON_OUT_H */
