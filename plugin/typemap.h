/*-------------------------------------------------------------------------
 *
 * typemap.h
 *		PostgreSQL type -> Avro: the type as typemap.c describes it once
 *		per column, its schema (typemap_schema.c) and its values
 *		(typemap_avro.c).
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * plugin/typemap.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef W2A_TYPEMAP_H
#define W2A_TYPEMAP_H

#include "datatype/timestamp.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "nodes/pg_list.h"

typedef enum W2aTypeKind
{
	W2A_T_BOOL,
	W2A_T_INT2,
	W2A_T_INT4,
	W2A_T_INT8,
	W2A_T_OID,
	W2A_T_FLOAT4,
	W2A_T_FLOAT8,
	W2A_T_NUMERIC_FIXED,		/* numeric(p,s) */
	W2A_T_NUMERIC_VAR,			/* numeric without typmod */
	W2A_T_TEXT,					/* text, varchar, bpchar, json */
	W2A_T_NAME,
	W2A_T_BYTEA,
	W2A_T_DATE,
	W2A_T_TIMESTAMP,
	W2A_T_TIMESTAMPTZ,
	W2A_T_TIME,
	W2A_T_TIMETZ,
	W2A_T_INTERVAL,
	W2A_T_UUID,
	W2A_T_ARRAY,
	W2A_T_COMPOSITE,
	W2A_T_TEXTOUT				/* anything else: the type's text output */
} W2aTypeKind;

typedef struct W2aType W2aType;

/* One record field: a table column or a composite type's attribute */
typedef struct W2aField
{
	char	   *avro_name;		/* valid, unique within the record */
	char	   *pg_name;
	int			attno;			/* 0-based index into the tuple descriptor */
	Oid			atttypid;		/* a composite's attribute: its declared type */
	W2aType    *type;
	bool		nullable;		/* union has a "null" branch (index 0) */
	bool		toastable;		/* union ends with wal2avro.Unchanged */
} W2aField;

struct W2aType
{
	W2aTypeKind kind;
	Oid			decl_typid;		/* as declared, maybe a domain */
	Oid			typid;			/* after resolving domains */
	int32		typmod;
	char	   *pg_type;		/* the declared type, as format_type prints it */
	bool		has_string_branch;	/* union carries a "string" fallback */
	int			precision;		/* numeric(p,s) */
	int			scale;
	int			fixed_size;		/* bytes of the decimal fixed */
	FmgrInfo	outfunc;		/* text output, where the kind needs one */
	/* arrays */
	W2aType    *elem;
	int16		elmlen;
	bool		elmbyval;
	char		elmalign;
	/* composite types: the attributes of the schema's time, by attno */
	Oid			typrelid;		/* the type's pg_class entry */
	int			nfields;
	W2aField   *fields;
	char	   *record_name;	/* full Avro name */
};

struct SchemaBuf;

/* typemap.c */
extern W2aType *typemap_build(Oid typid, int32 typmod);
extern void typemap_add_deps(const W2aType *type, List **typids, List **relids);

/* typemap_schema.c */
extern void typemap_field_schema(struct SchemaBuf *sb, const W2aField *field);

/* typemap_avro.c */
extern void typemap_field_avro(StringInfo out, const W2aField *field,
							   Datum value, bool isnull, bool unchanged);
extern void typemap_timestamp_iso(Timestamp ts, bool with_tz, char *buf);

/* Days and microseconds between the PostgreSQL epoch (2000) and Unix's */
#define W2A_EPOCH_DAYS		(POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE)
#define W2A_EPOCH_USECS		((int64) W2A_EPOCH_DAYS * USECS_PER_DAY)

#endif							/* W2A_TYPEMAP_H */
