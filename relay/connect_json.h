/*-------------------------------------------------------------------------
 *
 * connect_json.h
 *		Kafka Connect JsonConverter's bytes from an Avro datum (connect_json.c).
 *
 * An Avro schema (the text the plugin sends) is compiled once into a
 * ConnectJson; each datum is then walked over it and rendered as the JSON
 * Kafka Connect's JsonConverter writes for the Connect value that
 * Confluent's AvroData.toConnectData makes of it: with schemas.enable=true
 * {"schema":<Connect schema>,"payload":<value>}, without it the bare value.
 * The Connect schema text is computed once per ConnectJson.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/connect_json.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RELAY_CONNECT_JSON_H
#define RELAY_CONNECT_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "json_out.h"			/* JsonOut */

typedef struct ConnectJson ConnectJson;

/*
 * Compile an Avro schema given as JSON text (len bytes, need not be
 * NUL-terminated).  Returns a new ConnectJson the caller owns (free it with
 * connect_json_free), or NULL with a message in err (errlen bytes) when the
 * text is not JSON, not a valid Avro schema, or uses what AvroData cannot map
 * (standalone null, general unions, recursive records).
 */
extern ConnectJson *connect_json_new(const char *avro_schema, size_t len,
									 char *err, size_t errlen);

extern void connect_json_free(ConnectJson *cj);

/*
 * The Connect schema as JsonConverter writes it (its "schema" member);
 * owned by cj, valid until connect_json_free.  *len gets its length.
 */
extern const char *connect_json_schema_text(const ConnectJson *cj, size_t *len);

/*
 * Append the JSON of one Avro binary datum (len bytes) to out: the envelope
 * {"schema":..,"payload":..} when with_schema, else the payload alone.
 * Returns 0, or -1 with a message in err when the datum does not match the
 * schema (truncated, bad varint, union or enum index out of range, bytes
 * left over) or out could not grow (out->failed); on -1 out is as it was.
 * Never reads outside datum[0..len).
 */
extern int	connect_json_render(const ConnectJson *cj, const uint8_t *datum, size_t len,
								bool with_schema, JsonOut *out, char *err, size_t errlen);

#endif							/* RELAY_CONNECT_JSON_H */
