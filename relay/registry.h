/*-------------------------------------------------------------------------
 *
 * registry.h
 *		A Confluent-compatible Schema Registry client: registers a record's
 *		schema under its subject and keeps the id (registry.c).
 *
 * With --schema-registry, keys and values go to Kafka in Confluent's wire
 * format (a zero byte, the schema id as 4 bytes big-endian, the Avro
 * datum), the one Schema Registry deserializers read.  The relay speaks
 * only the registry's documented REST API (POST /subjects/S/versions), which
 * Confluent's registry, Apicurio's ccompat API, Karapace and Redpanda serve.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/registry.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RELAY_REGISTRY_H
#define RELAY_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* Bytes of the Confluent header before the datum */
#define REGISTRY_HEADER_LEN 5

typedef struct Registry Registry;

typedef enum RegistryResult
{
	REGISTRY_OK = 0,			/* *id is the schema's id in the subject */
	REGISTRY_RETRY,				/* unreachable, 5xx or 429: try again later */
	REGISTRY_REFUSED			/* the registry said no (409, 422, 401, ...) */
} RegistryResult;

/*
 * A client for cfg->schema_registry (one URL or several, comma-separated,
 * tried in turn), with the basic-auth user and password and the CA file of
 * the configuration.  NULL with a message in err when libcurl cannot start.
 */
extern Registry *registry_create(const RelayConfig *cfg, char *err, size_t errlen);

/*
 * The id of schema (its fingerprint fp) in subject: from the cache, or
 * registered now (POST /subjects/{subject}/versions; the same schema
 * registered again gets its id back).  REGISTRY_RETRY after a failure that
 * may pass, without contacting the registry again before a backoff of up to
 * 10 s; REGISTRY_REFUSED with the registry's answer in err.
 */
extern RegistryResult registry_id(Registry *reg, const char *subject, uint64_t fp,
								  const char *schema, size_t schema_len, uint32_t *id,
								  char *err, size_t errlen);

/*
 * After REGISTRY_REFUSED: what the user can do about it, by the refusal's
 * HTTP status (credentials, compatibility, size, an invalid schema).
 */
extern const char *registry_refusal_hint(const Registry *reg);

/* Write the 5-byte Confluent header for id into out. */
static inline void
registry_header(uint8_t *out, uint32_t id)
{
	out[0] = 0;
	out[1] = (uint8_t) (id >> 24);
	out[2] = (uint8_t) (id >> 16);
	out[3] = (uint8_t) (id >> 8);
	out[4] = (uint8_t) id;
}

extern void registry_free(Registry *reg);

#endif							/* RELAY_REGISTRY_H */
