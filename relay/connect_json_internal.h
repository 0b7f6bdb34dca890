/*-------------------------------------------------------------------------
 *
 * connect_json_internal.h
 *		The compiled schema shared by connect_json_schema.c (which builds it)
 *		and connect_json.c (which walks datums over it).
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/connect_json_internal.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RELAY_CONNECT_JSON_INTERNAL_H
#define RELAY_CONNECT_JSON_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "connect_json.h"
#include "json_out.h"

#define CJ_MAX_DEPTH	64		/* schema nesting; bounds the walk's recursion */
#define CJ_MAX_EMPTY_ITEMS	(1 << 20)	/* items of zero bytes in one block */


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

/* a compiled schema: the public ConnectJson */
struct ConnectJson
{
	CjNode	   *root;
	char	   *schema_text;
	size_t		schema_len;
	void	  **allocs;			/* everything below, freed together */
	size_t		nallocs;
	size_t		cap_allocs;
};

/* Append the Connect schema of the whole tree, as JsonConverter writes it. */
extern void connect_json_render_schema(JsonOut *b, const CjNode *root);

#endif							/* RELAY_CONNECT_JSON_INTERNAL_H */
