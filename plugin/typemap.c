/*-------------------------------------------------------------------------
 *
 * typemap.c
 *		PostgreSQL type -> what its Avro schema and encoder need, decided once
 *		per column.
 *
 * typemap_build looks a type up in the catalogs (under the historic
 * snapshot, when the schema cache is rebuilt) and records everything the
 * encoders need, so encoding a row does no catalog lookup; only a composite
 * value asks the type cache for its row type's descriptor of the moment
 * (deform_composite), since the value may be newer than the schema's.  What
 * a schema depends on (typemap_add_deps) tells the schema cache when to
 * rebuild it.  typemap_schema.c writes a type's schema, typemap_avro.c its
 * values.  Each field is a union:
 *
 *		["null"]? main-type ["string"]? ["wal2avro.Unchanged"]?
 *
 * "null" for nullable fields (every column), "string" for values the main
 * type cannot hold (numeric NaN/Infinity, arrays that are not one-dimensional
 * from 1, late timestamps, 17's infinite intervals), and the Unchanged marker for variable-length columns, whose value
 * an UPDATE may leave TOASTed and unlogged.  doc/protocol.md lists the
 * mapping of every type.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * plugin/typemap.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

#include "compat.h"
#include "schema_json.h"
#include "typemap.h"

/* Nesting deeper than this (composites of arrays of composites...) is text */
#define W2A_MAX_TYPE_DEPTH	16

static W2aType *build_type(Oid typid, int32 typmod, int depth);

/*
 * Describe a column type.  Allocates in the current memory context (the
 * cache entry's); needs catalog access.  Never fails for an existing type:
 * what we do not map is carried as its text output.
 */
W2aType *
typemap_build(Oid typid, int32 typmod)
{
	return build_type(typid, typmod, 0);
}

/* numeric(p,s) typmod decoding; scale may be negative from PostgreSQL 15 on */
static void
numeric_typmod_parts(int32 typmod, int *precision, int *scale)
{
	int32		tm = typmod - VARHDRSZ;

	*precision = (tm >> 16) & 0xffff;
	*scale = (((tm & 0x7ff) ^ 1024) - 1024);
}

/* Bytes a two's-complement integer needs to hold any value of p digits */
static int
decimal_fixed_size(int precision)
{
	return (int) ceil((precision * 3.321928094887362 + 1.0) / 8.0);
}

static void
set_outfunc(W2aType *type, Oid typid)
{
	Oid			outfn;
	bool		isvarlena;

	getTypeOutputInfo(typid, &outfn, &isvarlena);
	fmgr_info_cxt(outfn, &type->outfunc, CurrentMemoryContext);
}

static void
build_composite(W2aType *type, Oid typid, int depth)
{
	TupleDesc	desc = lookup_rowtype_tupdesc(typid, -1);
	char	  **names;
	int			i,
				n = 0;
	HeapTuple	tp;
	Form_pg_type typ;

	type->fields = palloc0(sizeof(W2aField) * Max(desc->natts, 1));
	names = palloc(sizeof(char *) * Max(desc->natts, 1));
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		W2aField   *f;

		if (att->attisdropped)
			continue;
		f = &type->fields[n];
		f->pg_name = pstrdup(NameStr(att->attname));
		f->attno = i;
		f->atttypid = att->atttypid;
		f->type = build_type(att->atttypid, att->atttypmod, depth + 1);
		f->nullable = true;
		f->toastable = false;	/* composite datums hold no external values */
		names[n++] = schema_avro_name(f->pg_name);
	}
	schema_make_unique(names, n);
	for (i = 0; i < n; i++)
		type->fields[i].avro_name = names[i];
	type->nfields = n;
	tp = SearchSysCache1(TYPEOID, ObjectIdGetDatum(typid));
	if (!HeapTupleIsValid(tp))
		elog(ERROR, "cache lookup failed for type %u", typid);
	typ = (Form_pg_type) GETSTRUCT(tp);
	type->typrelid = typ->typrelid;
	/* mapped names may meet: schema_composite_name keeps them apart */
	type->record_name = psprintf("wal2avro.composite.%s.%s",
								 schema_avro_name(get_namespace_name(typ->typnamespace)),
								 schema_avro_name(NameStr(typ->typname)));
	ReleaseSysCache(tp);
	ReleaseTupleDesc(desc);
}

static W2aType *
build_type(Oid typid, int32 typmod, int depth)
{
	W2aType    *type = palloc0(sizeof(W2aType));
	int32		basemod = typmod;
	Oid			base = getBaseTypeAndTypmod(typid, &basemod);
	Oid			elemtype;

	type->decl_typid = typid;
	type->typid = base;
	type->typmod = basemod;
	type->pg_type = format_type_with_typemod(typid, typmod);

	switch (base)
	{
		case BOOLOID:
			type->kind = W2A_T_BOOL;
			return type;
		case INT2OID:
			type->kind = W2A_T_INT2;
			return type;
		case INT4OID:
			type->kind = W2A_T_INT4;
			return type;
		case INT8OID:
			type->kind = W2A_T_INT8;
			return type;
		case OIDOID:
			type->kind = W2A_T_OID;
			return type;
		case FLOAT4OID:
			type->kind = W2A_T_FLOAT4;
			return type;
		case FLOAT8OID:
			type->kind = W2A_T_FLOAT8;
			return type;
		case NUMERICOID:
			type->has_string_branch = true;
			type->kind = W2A_T_NUMERIC_VAR;
			if (basemod >= (int32) VARHDRSZ)
			{
				numeric_typmod_parts(basemod, &type->precision, &type->scale);
				/* Avro wants 0 <= scale <= precision; others vary in scale */
				if (type->scale >= 0 && type->scale <= type->precision)
				{
					type->kind = W2A_T_NUMERIC_FIXED;
					type->fixed_size = decimal_fixed_size(type->precision);
				}
			}
			return type;
		case TEXTOID:
		case VARCHAROID:
		case BPCHAROID:
		case JSONOID:
			type->kind = W2A_T_TEXT;
			return type;
		case NAMEOID:
			type->kind = W2A_T_NAME;
			return type;
		case BYTEAOID:
			type->kind = W2A_T_BYTEA;
			return type;
		case DATEOID:
			type->kind = W2A_T_DATE;
			return type;
		case TIMESTAMPOID:
		case TIMESTAMPTZOID:
			type->kind = (base == TIMESTAMPOID) ? W2A_T_TIMESTAMP : W2A_T_TIMESTAMPTZ;
			/* the last 30 years PostgreSQL allows overflow Unix microseconds */
			type->has_string_branch = true;
			return type;
		case TIMEOID:
			type->kind = W2A_T_TIME;
			return type;
		case TIMETZOID:
			type->kind = W2A_T_TIMETZ;
			return type;
		case INTERVALOID:
			type->kind = W2A_T_INTERVAL;
			/* "infinity" and "-infinity", on servers that have them */
			type->has_string_branch = W2A_HAVE_INFINITE_INTERVALS;
			return type;
		case UUIDOID:
			type->kind = W2A_T_UUID;
			return type;
		default:
			break;
	}

	if (depth < W2A_MAX_TYPE_DEPTH)
	{
		elemtype = get_element_type(base);
		if (OidIsValid(elemtype) && get_typlen(base) == -1)
		{
			type->kind = W2A_T_ARRAY;
			type->has_string_branch = true;
			type->elem = build_type(elemtype, basemod, depth + 1);
			get_typlenbyvalalign(elemtype, &type->elmlen, &type->elmbyval,
								 &type->elmalign);
			set_outfunc(type, base);
			return type;
		}
		if (get_typtype(base) == TYPTYPE_COMPOSITE)
		{
			type->kind = W2A_T_COMPOSITE;
			build_composite(type, base, depth);
			return type;
		}
	}

	/* enums, jsonb, ranges, network types, ...: their text output */
	type->kind = W2A_T_TEXTOUT;
	set_outfunc(type, base);
	return type;
}

/*
 * Add what a type's schema depends on: every type it names (declared and
 * base, elements, attributes; a rename or a change of any of them arrives
 * as a TYPEOID invalidation) to *typids, and the relation of every
 * composite in it (ALTER TYPE ... ADD/DROP/RENAME ATTRIBUTE, ALTER TABLE on
 * a row type, arrive as relcache invalidations of that relation) to
 * *relids.  Lists of OIDs, without duplicates.
 */
void
typemap_add_deps(const W2aType *type, List **typids, List **relids)
{
	int			i;

	*typids = list_append_unique_oid(*typids, type->decl_typid);
	*typids = list_append_unique_oid(*typids, type->typid);
	if (type->kind == W2A_T_ARRAY)
		typemap_add_deps(type->elem, typids, relids);
	else if (type->kind == W2A_T_COMPOSITE)
	{
		*relids = list_append_unique_oid(*relids, type->typrelid);
		for (i = 0; i < type->nfields; i++)
			typemap_add_deps(type->fields[i].type, typids, relids);
	}
}
