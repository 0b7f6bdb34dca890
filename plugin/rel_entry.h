/*-------------------------------------------------------------------------
 *
 * rel_entry.h
 *		RelSchemaEntry: what the plugin keeps of one published relation
 *		(its columns, key, schemas and fingerprints).  relcache.c keeps the
 *		entries; record.c builds their schemas and writes their records;
 *		frame.c and wal2avro.c read them.  A header of its own so that the
 *		record and relcache modules need not include each other.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * plugin/rel_entry.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef W2A_REL_ENTRY_H
#define W2A_REL_ENTRY_H

#include "lib/stringinfo.h"
#include "nodes/pg_list.h"

#include "avro_to_json.h"
#include "typemap.h"

struct TupleConversionMap;

typedef struct RelSchemaEntry
{
	Oid			relid;			/* hash key: must be first */
	bool		schema_valid;	/* false after an invalidation */
	bool		schema_sent;	/* SCHEMA frame written for this schema */
	bool		included;		/* passes the table filters */
	MemoryContext cxt;			/* everything below lives here */
	char	   *nspname;
	char	   *relname;
	char	   *topic;
	int			nfields;
	W2aField   *fields;			/* published columns, in column order */
	int			nkeys;
	bool		old_key_logged; /* an old row logged by PostgreSQL has the key */
	bool		key_not_logged_warned;	/* warned of a change without its key */
	int		   *key_fields;		/* indexes into fields, in key order */
	W2aField   *key_defs;		/* the key record's fields */
	char	   *key_schema;		/* JSON, or NULL without a key */
	char	   *value_schema;
	uint64		key_fp;
	uint64		value_fp;
	AvroJsonNode *key_json;		/* format=json: the schemas, compiled */
	AvroJsonNode *value_json;
	StringInfoData source_head; /* Avro bytes of Source's constant fields */
	struct DbzRelation *dbz;	/* compat=debezium: columns and encoders */
	/* a partition published as its root (publish-via-partition-root) */
	Oid			root_relid;		/* InvalidOid: published as itself */
	struct TupleConversionMap *root_map;	/* NULL when no conversion is needed */
	/* what else the schema depends on, for the invalidation callbacks */
	List	   *dep_relids;		/* composite types' relations (Oid) */
	int			ndep_types;
	uint32	   *dep_type_hashes;	/* TYPEOID hash of every type it names */
	int			ndep_nsps;
	uint32	   *dep_nsp_hashes; /* NAMESPACEOID hash of the schemas it names */
	int			ndep_enums;
	Oid		   *dep_enum_typids;	/* the enums among those types */
	StringInfoData *dep_enum_labels;	/* ... and their labels (enum_labels) */
	bool		enums_to_check; /* a pg_enum row changed since: compare them */
} RelSchemaEntry;

#endif							/* W2A_REL_ENTRY_H */
