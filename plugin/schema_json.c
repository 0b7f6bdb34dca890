/*-------------------------------------------------------------------------
 *
 * schema_json.c
 *		Avro schema JSON and its fingerprint.
 *
 * The builder writes the schema as we publish it, with logical types and
 * pg.* properties, always the same text for the same table layout and
 * options.  The fingerprint is the CRC-64-AVRO (Rabin) of that whole text,
 * not of its Parsing Canonical Form (PCF): the PCF drops logical types and
 * properties, so timestamp and timestamptz (local-timestamp-micros and
 * timestamp-micros longs), int4 and date, text and jsonb would share one,
 * and a consumer looking a fingerprint up would read old records with the
 * new meaning.  The PCF could only tell them apart through named wrapper
 * types, which would change the data consumers see.  doc/protocol.md says
 * what this means for readers.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * plugin/schema_json.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/json.h"

#include "schema_json.h"

/* The Rabin fingerprint's empty value, from the Avro specification */
#define CRC64_AVRO_EMPTY	UINT64CONST(0xc15d213aa4d7a795)

static uint64 crc64_table[256];
static bool crc64_table_ready = false;

/* Has this full name been defined earlier in the schema?  Remember it if not. */
static bool
schema_seen(SchemaBuf *sb, const char *fullname)
{
	ListCell   *lc;

	foreach(lc, sb->defined)
	{
		if (strcmp((char *) lfirst(lc), fullname) == 0)
			return true;
	}
	sb->defined = lappend(sb->defined, pstrdup(fullname));
	return false;
}

/* Write a reference to an already defined named type. */
static void
append_name_ref(SchemaBuf *sb, const char *fullname)
{
	escape_json(&sb->full, fullname);
}

/*
 * Start a schema.  The buffers live in the current memory context.
 */
void
schema_init(SchemaBuf *sb)
{
	initStringInfo(&sb->full);
	sb->defined = NIL;
	sb->composite_names = NIL;
	sb->composite_oids = NIL;
	sb->reserved = NIL;
}

/* Literal JSON text: brackets, commas, array openers. */
void
schema_raw(SchemaBuf *sb, const char *text)
{
	appendStringInfoString(&sb->full, text);
}

/*
 * A primitive type.  "extra" is NULL or more JSON members
 * (",\"logicalType\":...").
 */
void
schema_primitive(SchemaBuf *sb, const char *type, const char *extra)
{
	if (extra)
		appendStringInfo(&sb->full, "{\"type\":\"%s\"%s}", type, extra);
	else
		appendStringInfo(&sb->full, "\"%s\"", type);
}

/*
 * Open a record.  Returns false when the name was defined before: then only a
 * reference was written and the caller must not write fields.
 */
bool
schema_record_begin(SchemaBuf *sb, const char *fullname, const char *extra)
{
	if (schema_seen(sb, fullname))
	{
		append_name_ref(sb, fullname);
		return false;
	}
	appendStringInfoString(&sb->full, "{\"type\":\"record\",\"name\":");
	escape_json(&sb->full, fullname);
	if (extra)
		appendStringInfoString(&sb->full, extra);
	appendStringInfoString(&sb->full, ",\"fields\":[");
	return true;
}

void
schema_record_end(SchemaBuf *sb)
{
	schema_raw(sb, "]}");
}

/*
 * Open a field; the caller writes its type next, then calls schema_field_end.
 * pg_name and pg_type may be NULL.
 */
void
schema_field_begin(SchemaBuf *sb, bool first, const char *name,
				   const char *pg_name, const char *pg_type)
{
	if (!first)
		schema_raw(sb, ",");
	appendStringInfoString(&sb->full, "{\"name\":");
	escape_json(&sb->full, name);
	if (pg_name)
	{
		appendStringInfoString(&sb->full, ",\"pg.name\":");
		escape_json(&sb->full, pg_name);
	}
	if (pg_type)
	{
		appendStringInfoString(&sb->full, ",\"pg.type\":");
		escape_json(&sb->full, pg_type);
	}
	appendStringInfoString(&sb->full, ",\"type\":");
}

/* Close a field, with a default (JSON text) or none (NULL). */
void
schema_field_end(SchemaBuf *sb, const char *default_json)
{
	if (default_json)
		appendStringInfo(&sb->full, ",\"default\":%s", default_json);
	schema_raw(sb, "}");
}

/* A one-symbol enum (the unchanged-TOAST marker). */
void
schema_enum(SchemaBuf *sb, const char *fullname, const char *symbol)
{
	if (schema_seen(sb, fullname))
	{
		append_name_ref(sb, fullname);
		return;
	}
	appendStringInfoString(&sb->full, "{\"type\":\"enum\",\"name\":");
	escape_json(&sb->full, fullname);
	appendStringInfo(&sb->full, ",\"symbols\":[\"%s\"]}", symbol);
}

/* A fixed type, e.g. a decimal; "extra" as for schema_primitive. */
void
schema_fixed(SchemaBuf *sb, const char *fullname, int size, const char *extra)
{
	if (schema_seen(sb, fullname))
	{
		append_name_ref(sb, fullname);
		return;
	}
	appendStringInfoString(&sb->full, "{\"type\":\"fixed\",\"name\":");
	escape_json(&sb->full, fullname);
	appendStringInfo(&sb->full, ",\"size\":%d%s}", size, extra ? extra : "");
}

/* Is this full name taken by a named type other than a composite's? */
static bool
name_taken(SchemaBuf *sb, const char *fullname)
{
	ListCell   *lc;

	foreach(lc, sb->reserved)
	{
		if (strcmp((char *) lfirst(lc), fullname) == 0)
			return true;
	}
	foreach(lc, sb->defined)
	{
		if (strcmp((char *) lfirst(lc), fullname) == 0)
			return true;
	}
	return false;
}

/*
 * Keep a full name from every composite type of this schema (the row
 * records' names, which a composite can meet: table "public" of schema
 * "composite" and type public."Value").  The name stays free for
 * schema_record_begin.
 */
void
schema_reserve(SchemaBuf *sb, const char *fullname)
{
	sb->reserved = lappend(sb->reserved, pstrdup(fullname));
}

/*
 * The record name of a composite type in this schema: "name", unless another
 * type already has it (mapped names can meet: "pair-t" and pair_t), or a
 * reserved or already defined named type does; then "name_o<type OID>",
 * until free.  The first type by column order keeps the plain name, so the
 * rule depends only on the table's layout.
 */
const char *
schema_composite_name(SchemaBuf *sb, const char *name, Oid typid)
{
	char	   *candidate = pstrdup(name);
	ListCell   *ln,
			   *lo;
	bool		clash = true;

	while (clash)
	{
		clash = false;
		forboth(ln, sb->composite_names, lo, sb->composite_oids)
		{
			if (strcmp((char *) lfirst(ln), candidate) != 0)
				continue;
			if (lfirst_oid(lo) == typid)
				return candidate;
			clash = true;
			break;
		}
		if (!clash)
			clash = name_taken(sb, candidate);
		if (clash)
			candidate = psprintf("%s_o%u", candidate, typid);
	}
	sb->composite_names = lappend(sb->composite_names, candidate);
	sb->composite_oids = lappend_oid(sb->composite_oids, typid);
	return candidate;
}

/*
 * CRC-64-AVRO fingerprint of len bytes of schema text (the whole JSON as
 * published).  Cannot fail.
 */
uint64
schema_fingerprint(const char *text, size_t len)
{
	uint64		fp = CRC64_AVRO_EMPTY;
	size_t		i;

	if (!crc64_table_ready)
	{
		for (i = 0; i < 256; i++)
		{
			uint64		v = i;
			int			j;

			for (j = 0; j < 8; j++)
				v = (v >> 1) ^ (CRC64_AVRO_EMPTY & -(v & 1));
			crc64_table[i] = v;
		}
		crc64_table_ready = true;
	}
	for (i = 0; i < len; i++)
		fp = (fp >> 8) ^ crc64_table[(fp ^ (unsigned char) text[i]) & 0xff];
	return fp;
}

/*
 * Map a PostgreSQL name to a valid Avro name: characters outside
 * [A-Za-z0-9_] become '_', and a leading digit (or an empty name) gets a '_'
 * in front.  Returns a palloc'd string.  Uniqueness is schema_make_unique's.
 */
char *
schema_avro_name(const char *pgname)
{
	StringInfoData buf;
	const char *p;

	initStringInfo(&buf);
	if (pgname[0] == '\0' || (pgname[0] >= '0' && pgname[0] <= '9'))
		appendStringInfoChar(&buf, '_');
	for (p = pgname; *p; p++)
	{
		char		c = *p;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			(c >= '0' && c <= '9') || c == '_')
			appendStringInfoChar(&buf, c);
		else if (((unsigned char) c & 0xC0) == 0x80)
			continue;			/* one '_' per multibyte character */
		else
			appendStringInfoChar(&buf, '_');
	}
	return buf.data;
}

/*
 * Make names[0..n) unique in place: a name equal to an earlier one gets the
 * first free suffix _2, _3, ...  Earlier names win, so the rule depends only
 * on column order.  Replaced strings are palloc'd.
 */
void
schema_make_unique(char **names, int n)
{
	int			i,
				j;

	for (i = 1; i < n; i++)
	{
		const char *base = names[i];
		int			suffix = 1;
		bool		clash = true;

		while (clash)
		{
			clash = false;
			for (j = 0; j < i; j++)
			{
				if (strcmp(names[j], names[i]) == 0)
				{
					clash = true;
					break;
				}
			}
			if (clash)
				names[i] = psprintf("%s_%d", base, ++suffix);
		}
	}
}
