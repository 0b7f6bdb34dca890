/*-------------------------------------------------------------------------
 *
 * schema_json.h
 *		Avro schema JSON and its fingerprint (schema_json.c).
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * plugin/schema_json.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef W2A_SCHEMA_JSON_H
#define W2A_SCHEMA_JSON_H

#include "lib/stringinfo.h"
#include "nodes/pg_list.h"

/* Builds a schema's JSON text; its fingerprint is that of the whole text. */
typedef struct SchemaBuf
{
	StringInfoData full;		/* the schema as published */
	List	   *defined;		/* full names defined so far (char *) */
	List	   *composite_names;	/* record names given to composite types */
	List	   *composite_oids; /* ... and the types they were given to */
	List	   *reserved;		/* full names no composite may take (char *) */
} SchemaBuf;

extern void schema_init(SchemaBuf *sb);
extern void schema_raw(SchemaBuf *sb, const char *text);
extern void schema_primitive(SchemaBuf *sb, const char *type, const char *extra);
extern bool schema_record_begin(SchemaBuf *sb, const char *fullname, const char *extra);
extern void schema_record_end(SchemaBuf *sb);
extern void schema_field_begin(SchemaBuf *sb, bool first, const char *name,
							   const char *pg_name, const char *pg_type);
extern void schema_field_end(SchemaBuf *sb, const char *default_json);
extern void schema_enum(SchemaBuf *sb, const char *fullname, const char *symbol);
extern void schema_fixed(SchemaBuf *sb, const char *fullname, int size, const char *extra);
extern uint64 schema_fingerprint(const char *text, size_t len);
extern char *schema_avro_name(const char *pgname);
extern void schema_make_unique(char **names, int n);
extern void schema_reserve(SchemaBuf *sb, const char *fullname);
extern const char *schema_composite_name(SchemaBuf *sb, const char *name, Oid typid);

#endif							/* W2A_SCHEMA_JSON_H */
