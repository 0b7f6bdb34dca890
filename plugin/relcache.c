/*-------------------------------------------------------------------------
 *
 * relcache.c
 *		Schema cache keyed by relation OID: columns, key, Avro schemas and
 *		fingerprints, rebuilt lazily after invalidations.
 *
 * The pattern is pgoutput's: invalidation callbacks, registered once per
 * backend, only mark entries stale; the next change of the relation rebuilds
 * its entry under the historic snapshot.  Invalidations fire for many
 * harmless reasons, so a rebuilt entry keeps schema_sent when its schema
 * text is unchanged, and the stream sees a SCHEMA frame only when the schema
 * really changed.  An entry also goes stale when something it depends on
 * changes, and only then: the relation of a composite type its columns use
 * (ALTER TYPE ... ADD, DROP, RENAME ATTRIBUTE; ALTER TABLE on a row type),
 * any type they name (TYPEOID, by hash value), or the schema of the table
 * or of one of those types (NAMESPACEOID, by hash value).  So a temporary
 * table, a new type or a new schema elsewhere in the database rebuilds
 * nothing.  An enum's labels (ALTER TYPE ... ADD VALUE, RENAME VALUE) live
 * in pg_enum, whose invalidations (ENUMTYPOIDNAME) hash the type with the
 * label and so cannot name the type: they only ask the entries that use an
 * enum to compare its labels with the ones they were built with, at their
 * next change, and those whose labels changed are rebuilt.
 *
 * The cache lives in the decoding context's cache_cxt; each entry's data
 * lives in a small context of its own, deleted whole on rebuild.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * plugin/relcache.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/sysattr.h"
#include "access/tupconvert.h"
#include "catalog/partition.h"
#include "catalog/pg_class.h"
#include "catalog/pg_enum.h"
#include "catalog/pg_index.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/catcache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "compat.h"
#include "options.h"
#include "record.h"
#include "relcache.h"
#include "schema_json.h"
#include "typemap.h"
#include "decoding_state.h"

/* The cache of the decoding context now running, or NULL between them */
static HTAB *RelSchemaCache = NULL;

/*
 * Whether an entry of RelSchemaCache has ever had a composite column: until
 * then a relcache invalidation concerns one entry only, found by its OID
 */
static bool cache_has_composites = false;

/* Invalidation callbacks cannot be unregistered: register once per backend */
static bool callbacks_registered = false;

/* Entries relcache_get built or rebuilt in this backend, for tests */
static int64 schema_builds = 0;

static void relcache_inval_cb(Datum arg, Oid relid);
static void syscache_inval_cb(Datum arg, int cacheid, uint32 hashvalue);

/*
 * Create the cache for a decoding context.  Cannot fail except on memory.
 */
/*
 * The cache goes with its memory context, also when decoding ends in an
 * ERROR and no shutdown callback runs: forget the pointer then, or the next
 * invalidation would write into freed memory.
 */
static void
relcache_forget_cb(void *arg)
{
	RelSchemaCache = NULL;
}

void
relcache_init(Wal2AvroData *data)
{
	HASHCTL		ctl;
	MemoryContextCallback *cb;

	ctl.keysize = sizeof(Oid);
	ctl.entrysize = sizeof(RelSchemaEntry);
	ctl.hcxt = data->cache_cxt;
	RelSchemaCache = hash_create("wal2avro schema cache", 128, &ctl,
								 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	cache_has_composites = false;
	cb = MemoryContextAlloc(data->cache_cxt, sizeof(MemoryContextCallback));
	cb->func = relcache_forget_cb;
	cb->arg = NULL;
	MemoryContextRegisterResetCallback(data->cache_cxt, cb);

	if (!callbacks_registered)
	{
		CacheRegisterRelcacheCallback(relcache_inval_cb, (Datum) 0);
		/* composite, domain and enum changes; schema renames */
		CacheRegisterSyscacheCallback(TYPEOID, syscache_inval_cb, (Datum) 0);
		CacheRegisterSyscacheCallback(NAMESPACEOID, syscache_inval_cb, (Datum) 0);
		/* an enum's labels added or renamed */
		CacheRegisterSyscacheCallback(ENUMTYPOIDNAME, syscache_inval_cb, (Datum) 0);
		callbacks_registered = true;
	}
}

/* Forget the cache; its memory goes with the decoding context. */
void
relcache_shutdown(void)
{
	RelSchemaCache = NULL;
}

/*
 * The key columns (0-based attribute indexes, in key order) of a relation:
 * the key-columns option's, else the replica identity index's, else the
 * primary key's.  Returns the count; *attnos is palloc'd; *chosen tells
 * whether the option chose them.
 */
static int
find_key_columns(Wal2AvroData *data, Relation rel, const char *nspname,
				 const char *relname, int **attnos, bool *chosen)
{
	TupleDesc	desc = RelationGetDescr(rel);
	ListCell   *lc;
	Oid			indexoid;
	HeapTuple	tup;
	Form_pg_index index;
	int			i,
				n;

	*chosen = false;
	foreach(lc, data->key_columns)
	{
		W2aKeyColumns *kc = lfirst(lc);
		ListCell   *lc2;

		if (strcmp(kc->nspname, nspname) != 0 || strcmp(kc->relname, relname) != 0)
			continue;
		*attnos = palloc(sizeof(int) * list_length(kc->columns));
		n = 0;
		foreach(lc2, kc->columns)
		{
			const char *col = lfirst(lc2);

			for (i = 0; i < desc->natts; i++)
			{
				Form_pg_attribute att = TupleDescAttr(desc, i);

				if (!att->attisdropped && strcmp(NameStr(att->attname), col) == 0)
					break;
			}
			if (i == desc->natts)
				ereport(ERROR,
						(errcode(ERRCODE_UNDEFINED_COLUMN),
						 errmsg("column \"%s\" named in \"key-columns\" does not exist in table \"%s.%s\"",
								col, nspname, relname)));
			if (W2A_ATT_IS_VIRTUAL(TupleDescAttr(desc, i)))
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("column \"%s\" named in \"key-columns\" of table \"%s.%s\" is a virtual generated column",
								col, nspname, relname),
						 errdetail("Its values are not in the WAL, and wal2avro does not publish it.")));
			(*attnos)[n++] = i;
		}
		*chosen = true;
		return n;
	}

	if (rel->rd_rel->relreplident == REPLICA_IDENTITY_INDEX)
		indexoid = RelationGetReplicaIndex(rel);
	else
		indexoid = W2A_PRIMARY_KEY_INDEX(rel);
	if (!OidIsValid(indexoid))
	{
		*attnos = NULL;
		return 0;
	}

	tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(indexoid));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for index %u", indexoid);
	index = (Form_pg_index) GETSTRUCT(tup);
	n = index->indnkeyatts;
	*attnos = palloc(sizeof(int) * n);
	for (i = 0; i < n; i++)
		(*attnos)[i] = index->indkey.values[i] - 1;
	ReleaseSysCache(tup);
	return n;
}

/*
 * Does an old row PostgreSQL logs hold every key column?  Always under
 * REPLICA IDENTITY FULL; otherwise only when the key columns are the
 * identity's (key-columns may choose others).
 */
static bool
key_in_identity(Relation rel, const int *keyatts, int nkeys)
{
	Bitmapset  *identity;
	int			i;

	if (rel->rd_rel->relreplident == REPLICA_IDENTITY_FULL)
		return true;
	identity = W2A_IDENTITY_KEY_BITMAP(rel);
	for (i = 0; i < nkeys; i++)
	{
		if (!bms_is_member(keyatts[i] + 1 - FirstLowInvalidHeapAttributeNumber, identity))
			return false;
	}
	return true;
}

/* Fill a fresh entry's columns and key; runs in the entry's context. */
static void
build_columns(Wal2AvroData *data, RelSchemaEntry *entry, Relation rel)
{
	TupleDesc	desc = RelationGetDescr(rel);
	char	  **names = palloc(sizeof(char *) * Max(desc->natts, 1));
	int		   *keyatts;
	bool		chosen;
	int			i,
				j,
				n = 0;

	entry->fields = palloc0(sizeof(W2aField) * Max(desc->natts, 1));
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		W2aField   *f;

		/* a virtual generated column is not in the WAL: not published */
		if (att->attisdropped || W2A_ATT_IS_VIRTUAL(att) ||
			options_column_excluded(data, entry->nspname, entry->relname, NameStr(att->attname)))
			continue;
		f = &entry->fields[n];
		f->pg_name = pstrdup(NameStr(att->attname));
		f->attno = i;
		f->type = typemap_build(att->atttypid, att->atttypmod);
		f->nullable = true;
		/* any varlena may be an unlogged TOAST pointer, whatever its storage now */
		f->toastable = (att->attlen == -1);
		names[n++] = schema_avro_name(f->pg_name);
	}
	schema_make_unique(names, n);
	for (i = 0; i < n; i++)
		entry->fields[i].avro_name = names[i];
	entry->nfields = n;

	entry->nkeys = find_key_columns(data, rel, entry->nspname, entry->relname, &keyatts,
									&chosen);
	entry->old_key_logged = key_in_identity(rel, keyatts, entry->nkeys);
	entry->key_defs = palloc0(sizeof(W2aField) * Max(entry->nkeys, 1));
	for (i = 0; i < entry->nkeys; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, keyatts[i]);
		W2aField   *kf = &entry->key_defs[i];

		kf->attno = keyatts[i];
		kf->pg_name = pstrdup(NameStr(att->attname));
		kf->avro_name = NULL;
		/* reuse the value field's mapping when the column is published */
		for (j = 0; j < entry->nfields; j++)
		{
			if (entry->fields[j].attno == keyatts[i])
			{
				kf->avro_name = entry->fields[j].avro_name;
				kf->type = entry->fields[j].type;
			}
		}
		if (kf->avro_name == NULL)
		{
			kf->avro_name = schema_avro_name(kf->pg_name);
			kf->type = typemap_build(att->atttypid, att->atttypmod);
		}
		/*
		 * Chosen key columns may be missing from what a delete logs (they
		 * need not be in the replica identity): such keys carry null.
		 */
		kf->nullable = !att->attnotnull || chosen;
		kf->toastable = false;
	}
}

/*
 * The syscache hash values of a list of OIDs in cache cacheid, as a
 * palloc'd array; *n gets the count.
 */
static uint32 *
hash_oids(int cacheid, List *oids, int *n)
{
	uint32	   *hashes = palloc(sizeof(uint32) * Max(list_length(oids), 1));
	ListCell   *lc;
	int			i = 0;

	foreach(lc, oids)
		hashes[i++] = GetSysCacheHashValue1(cacheid, ObjectIdGetDatum(lfirst_oid(lc)));
	*n = i;
	return hashes;
}

/*
 * An enum's labels as pg_enum has them now, into a fresh buf: each one's
 * sort position and name, in the order of the syscache list.  Two calls
 * give the same bytes when no label was added, renamed or moved.
 */
static void
enum_labels(Oid typid, StringInfo buf)
{
	CatCList   *list = SearchSysCacheList1(ENUMTYPOIDNAME, ObjectIdGetDatum(typid));
	int			i;

	initStringInfo(buf);
	for (i = 0; i < list->n_members; i++)
	{
		Form_pg_enum en = (Form_pg_enum) GETSTRUCT(&list->members[i]->tuple);

		appendBinaryStringInfo(buf, (const char *) &en->enumsortorder, sizeof(float4));
		appendStringInfoString(buf, NameStr(en->enumlabel));
		appendStringInfoChar(buf, '\0');
	}
	ReleaseCatCacheList(list);
}

/*
 * Are the labels of every enum the entry uses those it was built with?
 * Needs catalog access; allocates in the current memory context.
 */
static bool
enum_labels_unchanged(const RelSchemaEntry *entry)
{
	bool		same = true;
	int			i;

	for (i = 0; i < entry->ndep_enums && same; i++)
	{
		StringInfoData now;

		enum_labels(entry->dep_enum_typids[i], &now);
		same = now.len == entry->dep_enum_labels[i].len &&
			memcmp(now.data, entry->dep_enum_labels[i].data, now.len) == 0;
		pfree(now.data);
	}
	return same;
}

/*
 * Remember what the entry depends on, for the invalidation callbacks
 * (relcache_inval_cb, syscache_inval_cb): the relations of the composite
 * types its columns and key use; those types and every type they name; and
 * the schemas whose names the entry carries: the relation's (its topic and
 * record names, the table filters) and each of those types' (composite
 * record names, format_type's qualified names); and the labels of the
 * enums among those types (Debezium's Enum lists them).  Runs in the
 * entry's context; an entry without columns (filtered out, published via
 * its root) depends on its schema only.
 */
static void
collect_deps(RelSchemaEntry *entry, Relation rel)
{
	List	   *typids = NIL;
	List	   *nspids = list_make1_oid(RelationGetNamespace(rel));
	List	   *enumids = NIL;
	ListCell   *lc;
	int			i;

	for (i = 0; i < entry->nfields; i++)
		typemap_add_deps(entry->fields[i].type, &typids, &entry->dep_relids);
	for (i = 0; i < entry->nkeys; i++)
		typemap_add_deps(entry->key_defs[i].type, &typids, &entry->dep_relids);
	foreach(lc, typids)
	{
		HeapTuple	tp = SearchSysCache1(TYPEOID, ObjectIdGetDatum(lfirst_oid(lc)));

		if (!HeapTupleIsValid(tp))
			elog(ERROR, "cache lookup failed for type %u", lfirst_oid(lc));
		nspids = list_append_unique_oid(nspids,
										((Form_pg_type) GETSTRUCT(tp))->typnamespace);
		if (((Form_pg_type) GETSTRUCT(tp))->typtype == TYPTYPE_ENUM)
			enumids = lappend_oid(enumids, lfirst_oid(lc));
		ReleaseSysCache(tp);
	}
	entry->dep_type_hashes = hash_oids(TYPEOID, typids, &entry->ndep_types);
	entry->dep_nsp_hashes = hash_oids(NAMESPACEOID, nspids, &entry->ndep_nsps);
	entry->ndep_enums = list_length(enumids);
	entry->dep_enum_typids = palloc(sizeof(Oid) * Max(entry->ndep_enums, 1));
	entry->dep_enum_labels = palloc(sizeof(StringInfoData) * Max(entry->ndep_enums, 1));
	i = 0;
	foreach(lc, enumids)
	{
		entry->dep_enum_typids[i] = lfirst_oid(lc);
		enum_labels(lfirst_oid(lc), &entry->dep_enum_labels[i]);
		i++;
	}
	list_free(typids);
	list_free(nspids);
	list_free(enumids);
	if (entry->dep_relids != NIL)
		cache_has_composites = true;
}

/*
 * A partition published as its root: remember the root and how to turn the
 * partition's tuples into the root's shape.  Descriptors are copied, since
 * the map must outlive the relcache's own.
 */
static void
set_partition_root(RelSchemaEntry *entry, Relation rel)
{
	List	   *ancestors = get_partition_ancestors(RelationGetRelid(rel));
	Relation	root;

	entry->root_relid = llast_oid(ancestors);
	root = RelationIdGetRelation(entry->root_relid);
	if (!RelationIsValid(root))
		elog(ERROR, "could not open relation with OID %u", entry->root_relid);
	entry->root_map = convert_tuples_by_name(CreateTupleDescCopyConstr(RelationGetDescr(rel)),
											 CreateTupleDescCopyConstr(RelationGetDescr(root)));
	RelationClose(root);
	/* filters are decided on the root's name */
	entry->included = true;
}

static bool
strings_equal(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/*
 * Describe a relation as a fresh entry: names, filters, columns, key,
 * schemas.  Allocates a new context under cache_cxt that the caller owns
 * (out->cxt).  Needs catalog access; ERROR on a bad key-columns option.
 * schema_sent and schema_valid are left false.
 */
void
relcache_build_entry(Wal2AvroData *data, Relation rel, RelSchemaEntry *out)
{
	MemoryContext cxt;
	MemoryContext old;

	Assert(data->dbname != NULL);

	cxt = AllocSetContextCreate(data->cache_cxt, "wal2avro schema entry",
								ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		memset(out, 0, sizeof(RelSchemaEntry));
		out->relid = RelationGetRelid(rel);
		out->cxt = cxt;
		out->nspname = get_namespace_name(RelationGetNamespace(rel));
		out->relname = pstrdup(RelationGetRelationName(rel));
		out->included =
			(data->include_tables == NIL ||
			 options_table_matches(data->include_tables, out->nspname, out->relname)) &&
			!options_table_matches(data->exclude_tables, out->nspname, out->relname);
		if (data->via_partition_root && rel->rd_rel->relispartition)
			set_partition_root(out, rel);
		else if (out->included)
		{
			build_columns(data, out, rel);
			record_build_schemas(data, out);
		}
		collect_deps(out, rel);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(old);
		MemoryContextDelete(cxt);
		PG_RE_THROW();
	}
	PG_END_TRY();
	MemoryContextSwitchTo(old);
}

static void
rebuild_entry(Wal2AvroData *data, RelSchemaEntry *entry, Relation rel)
{
	RelSchemaEntry fresh;

	relcache_build_entry(data, rel, &fresh);

	/* same schema text as what the stream already has: no new SCHEMA frame */
	fresh.schema_sent = entry->schema_sent && fresh.included &&
		strings_equal(entry->key_schema, fresh.key_schema) &&
		strings_equal(entry->value_schema, fresh.value_schema) &&
		strings_equal(entry->topic, fresh.topic);
	fresh.schema_valid = true;

	if (entry->cxt)
		MemoryContextDelete(entry->cxt);
	*entry = fresh;
}

/*
 * The entry for a relation, rebuilt if stale.  Needs catalog access (call
 * from a change callback).  ERROR on bad key-columns; the entry then stays
 * stale and is tried again at the next change.
 */
RelSchemaEntry *
relcache_get(Wal2AvroData *data, Relation rel)
{
	Oid			relid = RelationGetRelid(rel);
	RelSchemaEntry *entry;
	bool		found;

	Assert(RelSchemaCache != NULL);
	entry = hash_search(RelSchemaCache, &relid, HASH_ENTER, &found);
	if (!found)
	{
		memset(entry, 0, sizeof(RelSchemaEntry));
		entry->relid = relid;
	}
	/* a pg_enum change somewhere: are this entry's labels still the same? */
	if (entry->schema_valid && entry->enums_to_check)
	{
		entry->enums_to_check = false;
		if (!enum_labels_unchanged(entry))
			entry->schema_valid = false;
	}
	if (!entry->schema_valid)
	{
		rebuild_entry(data, entry, rel);
		schema_builds++;
	}
	return entry;
}

PG_FUNCTION_INFO_V1(wal2avro_schema_cache_builds);

/*
 * wal2avro.schema_cache_builds(): how many times decoding in this backend
 * has described a relation, the first time or after an invalidation.  Tests
 * call it in the session that decodes (pg_logical_slot_get_changes) to see
 * which invalidations cost a rebuild.  Cannot fail.
 */
Datum
wal2avro_schema_cache_builds(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(schema_builds);
}

/* ------------------------------------------------------------------------
 * Invalidation callbacks: only mark entries stale.
 * ------------------------------------------------------------------------
 */

/*
 * A relation changed: its own entry, and every entry with a column of a
 * composite type that is this relation's row type (ALTER TYPE ... ADD, DROP
 * or RENAME ATTRIBUTE invalidate the composite's relation; ALTER TABLE the
 * table's, whose row type another table may use), also nested in other
 * composites or in arrays.  InvalidOid: everything.
 */
static void
relcache_inval_cb(Datum arg, Oid relid)
{
	HASH_SEQ_STATUS status;
	RelSchemaEntry *entry;

	if (RelSchemaCache == NULL)
		return;
	if (OidIsValid(relid) && !cache_has_composites)
	{
		entry = hash_search(RelSchemaCache, &relid, HASH_FIND, NULL);
		if (entry)
			entry->schema_valid = false;
		return;
	}
	hash_seq_init(&status, RelSchemaCache);
	while ((entry = hash_seq_search(&status)) != NULL)
	{
		if (!OidIsValid(relid) || entry->relid == relid ||
			list_member_oid(entry->dep_relids, relid))
			entry->schema_valid = false;
	}
}

/* Is hashvalue among the n hashes? */
static bool
hashes_contain(const uint32 *hashes, int n, uint32 hashvalue)
{
	int			i;

	for (i = 0; i < n; i++)
	{
		if (hashes[i] == hashvalue)
			return true;
	}
	return false;
}

/*
 * A type changed (TYPEOID: renamed, moved, a domain altered) or a schema
 * (NAMESPACEOID: renamed): the entries that depend on it, by the syscache
 * hash of its OID (collect_deps; a collision only costs a rebuild).  A new
 * schema or type, such as a temporary table's, concerns no entry.  0 means
 * every type or schema.  An enum's label added, renamed or moved, or an
 * enum created or dropped (ENUMTYPOIDNAME, a pg_enum row): its hash value
 * is of the type and the label together, and a new label's is not known
 * before, so every entry that uses an enum compares its labels at its next
 * change (relcache_get).
 */
static void
syscache_inval_cb(Datum arg, int cacheid, uint32 hashvalue)
{
	HASH_SEQ_STATUS status;
	RelSchemaEntry *entry;

	if (RelSchemaCache == NULL)
		return;
	hash_seq_init(&status, RelSchemaCache);
	while ((entry = hash_seq_search(&status)) != NULL)
	{
		if (cacheid == ENUMTYPOIDNAME)
			entry->enums_to_check |= entry->ndep_enums > 0;
		else if (hashvalue == 0 ||
				 (cacheid == TYPEOID &&
				  hashes_contain(entry->dep_type_hashes, entry->ndep_types, hashvalue)) ||
				 (cacheid == NAMESPACEOID &&
				  hashes_contain(entry->dep_nsp_hashes, entry->ndep_nsps, hashvalue)))
			entry->schema_valid = false;
	}
}
