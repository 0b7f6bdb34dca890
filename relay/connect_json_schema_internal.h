/*-------------------------------------------------------------------------
 *
 * connect_json_schema_internal.h
 *		What the two files of the schema compiler share while they compile
 *		one Avro schema: connect_json_schema.c (types, names, the tree and
 *		its allocations) and connect_json_metadata.c (the Connect metadata,
 *		parameters and defaults).  Nothing else includes it.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/connect_json_schema_internal.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RELAY_CONNECT_JSON_SCHEMA_INTERNAL_H
#define RELAY_CONNECT_JSON_SCHEMA_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "connect_json_internal.h"
#include "json_out.h"

#define CJ_AVRO_NS		"io.confluent.connect.avro"

/* compile-time state */
typedef struct CjCompiler
{
	ConnectJson *cj;
	CjNode	  **named;			/* named types seen so far */
	size_t		nnamed;
	size_t		cap_named;
	char	   *err;
	size_t		errlen;
	bool		failed;
} CjCompiler;

/* A string member of a JSON object, or NULL when it is missing or no string */
static inline const char *
cj_json_str(json_t *o, const char *key)
{
	json_t	   *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/*
 * connect_json_schema.c: allocations hang off c->cj and go with it; once
 * c->failed is set (out of memory, or cj_fail) they return NULL and the
 * first message stays in c->err.
 */
extern void *cj_alloc(CjCompiler *c, size_t size);
extern char *cj_strdup(CjCompiler *c, const char *s, size_t n);
extern void cj_fail(CjCompiler *c, const char *fmt,...) __attribute__((format(printf, 2, 3)));
extern char *cj_take(CjCompiler *c, JsonOut *b);

/*
 * connect_json_metadata.c: each reports a failure through cj_fail and
 * returns nothing; the caller checks c->failed.
 */
extern void cj_add_param(CjCompiler *c, CjNode *n, const char *key, const char *value);
extern void cj_apply_props(CjCompiler *c, CjNode *n, json_t *o, const char *builder_name);
extern void cj_default_json(CjCompiler *c, const CjNode *n, json_t *v, JsonOut *b);

#endif							/* RELAY_CONNECT_JSON_SCHEMA_INTERNAL_H */
