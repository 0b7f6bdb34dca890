/*-------------------------------------------------------------------------
 *
 * avro_json.h
 *		Plain JSON from libavro values (avro_json.c).
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/tail/avro_json.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RELAY_AVRO_JSON_H
#define RELAY_AVRO_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include <avro.h>

/* A growing text; data is malloc'd (free it), NUL-terminated once used. */
typedef struct JsonBuf
{
	char	   *data;
	size_t		len;
	size_t		cap;
	bool		failed;			/* out of memory: the text is incomplete */
} JsonBuf;

extern void json_append(JsonBuf *b, const char *s, size_t n);
extern void json_printf(JsonBuf *b, const char *fmt,...) __attribute__((format(printf, 2, 3)));
extern void jsonbuf_string(JsonBuf *b, const char *s, size_t n);
extern int	avro_json_render(JsonBuf *b, avro_value_t *v);

#endif							/* RELAY_AVRO_JSON_H */
