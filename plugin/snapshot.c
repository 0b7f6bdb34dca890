/*-------------------------------------------------------------------------
 *
 * snapshot.c
 *		A table's rows under the caller's snapshot, as the frames the stream
 *		carries: the initial snapshot of a table.
 *
 * wal2avro.snapshot_frames() returns one SCHEMA frame, then one CHANGE
 * frame with op 'r' per row, built by the same code as streamed changes
 * (relcache.c, record.c, frame.c), so a reader handles both alike.  A
 * client exports a snapshot when it creates the slot, reads every table in
 * a transaction that uses it, and then streams the changes committed after
 * it.
 *
 * With compat=debezium, the options snapshot-lsn, snapshot-txid and
 * snapshot-last-table give what Debezium's snapshot rows carry and only the
 * reader of the snapshot knows: the slot's consistent point (Source.lsn and
 * sequence), the snapshot transaction's id (txId), and that the table is
 * the last of the snapshot (its last row is "last").
 *
 * Given a block range, it reads only those blocks (a scan with limits, no
 * synchronized scan) and marks the rows "incremental": the relay's
 * on-demand snapshot reads a table that way, one chunk at a time, between
 * the frames of the stream (relay/ondemand_snapshot.c).
 *
 * It is a value-per-call set-returning function: it holds one row and the
 * row read after it (to mark the last one), and each frame lives in a
 * context reset at the next call, so memory stays bounded whatever the
 * table's size.  PostgreSQL streams the rows of such a function called in
 * the select list; called in FROM, it collects the whole set first.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * plugin/snapshot.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/heapam.h"
#include "access/heaptoast.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/tupconvert.h"
#include "catalog/catalog.h"
#include "catalog/pg_class.h"
#include "commands/dbcommands.h"
#include "executor/executor.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "frame.h"
#include "compat.h"
#include "options.h"
#include "record.h"
#include "relcache.h"
#include "sql_functions.h"
#include "decoding_state.h"
#include "wal2avro_protocol.h"

PG_FUNCTION_INFO_V1(wal2avro_snapshot_frames);
PG_FUNCTION_INFO_V1(wal2avro_snapshot_row_estimate);

/* One snapshot_frames() scan, kept across its calls */
typedef struct SnapshotScan
{
	Wal2AvroData data;			/* the options */
	RelSchemaEntry entry;		/* schema the rows are published under */
	TupleDesc	desc;			/* ... and the descriptor of those rows */
	TupleConversionMap *map;	/* partition row -> root row, or NULL */
	Relation	rel;			/* the table scanned; NULL once closed */
	Snapshot	snapshot;		/* registered for the scan */
	TableScanDesc scan;
	HeapTuple	next;			/* row read ahead (in the scan's buffer), or
								 * NULL at the end */
	bool		schema_sent;
	bool		chunk;			/* a block range: rows are "incremental" */
	uint64		rows;			/* CHANGE frames returned */
	MemoryContext frame_cxt;	/* the last frame; reset at every call */
	ExprContext *econtext;		/* where end_scan_cb is registered */
} SnapshotScan;

/*
 * Refuse what has no stream to match: anything but a plain table, and
 * tables whose changes logical decoding never reads.
 */
static void
check_table(Relation rel)
{
	char		relkind = rel->rd_rel->relkind;
	char	   *nspname = get_namespace_name(RelationGetNamespace(rel));

	if (relkind == RELKIND_PARTITIONED_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot snapshot partitioned table \"%s.%s\"",
						nspname, RelationGetRelationName(rel)),
				 errdetail("Its rows are stored, and their changes decoded, in its partitions."),
				 errhint("Snapshot each leaf partition (see pg_partition_tree()); with \"publish-via-partition-root\" their rows come under this table's name.")));
	if (relkind != RELKIND_RELATION)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a table", RelationGetRelationName(rel)),
				 W2A_ERRDETAIL_RELKIND(relkind)));
	if (rel->rd_rel->relpersistence != RELPERSISTENCE_PERMANENT ||
		IsCatalogRelation(rel))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("table \"%s.%s\" has no changes in a logical decoding stream",
						nspname, RelationGetRelationName(rel)),
				 errdetail("Logical decoding reads no changes of temporary, unlogged or system tables.")));
}

/*
 * The frames hold every row: refuse a caller who may not read them all.
 * Runs before the table is locked.
 */
static void
check_privileges(Oid relid)
{
	AclResult	aclresult = pg_class_aclcheck(relid, GetUserId(), ACL_SELECT);

	if (aclresult != ACLCHECK_OK)
		aclcheck_error(aclresult, get_relkind_objtype(get_rel_relkind(relid)),
					   get_rel_name(relid));
	if (check_enable_rls(relid, InvalidOid, false) == RLS_ENABLED)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot snapshot table \"%s.%s\" under row-level security",
						get_namespace_name(get_rel_namespace(relid)),
						get_rel_name(relid)),
				 errdetail("Snapshot frames carry every row of the table, and row-level security would hide some."),
				 errhint("Read the snapshot as a role that bypasses row-level security.")));
}

/* Close what the scan holds; the locks stay until the transaction ends. */
static void
end_scan(SnapshotScan *s)
{
	if (s->scan)
		table_endscan(s->scan);
	s->scan = NULL;
	s->next = NULL;
	if (s->snapshot)
		UnregisterSnapshot(s->snapshot);
	s->snapshot = NULL;
	if (s->rel)
		table_close(s->rel, NoLock);
	s->rel = NULL;
}

/* The query ended before the last row (LIMIT, a closed cursor) */
static void
end_scan_cb(Datum arg)
{
	end_scan((SnapshotScan *) DatumGetPointer(arg));
}

/*
 * First call: parse the options, describe the table as the stream would,
 * start the scan.  Runs in the multi-call context, which holds the state.
 */
static SnapshotScan *
begin_scan(FunctionCallInfo fcinfo)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			relid = PG_GETARG_OID(0);
	SnapshotScan *s = palloc0(sizeof(SnapshotScan));
	Relation	rel;

	s->data.cache_cxt = CurrentMemoryContext;
	s->data.dbname = get_database_name(MyDatabaseId);
	options_parse(&s->data, PG_ARGISNULL(1) ? NIL :
				  sql_options_from_array(PG_GETARG_ARRAYTYPE_P(1)));
	if (s->data.format != W2A_FORMAT_AVRO)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("snapshot frames cannot be written in the json format"),
				 errhint("Leave out the \"format\" option, or set it to \"avro\".")));

	check_privileges(relid);
	rel = table_open(relid, AccessShareLock);
	check_table(rel);

	relcache_build_entry(&s->data, rel, &s->entry);
	s->desc = RelationGetDescr(rel);
	if (OidIsValid(s->entry.root_relid))
	{
		/* a partition published as its root (publish-via-partition-root) */
		RelSchemaEntry part = s->entry;
		Relation	root = table_open(part.root_relid, AccessShareLock);

		relcache_build_entry(&s->data, root, &s->entry);
		s->desc = CreateTupleDescCopy(RelationGetDescr(root));
		s->map = part.root_map;
		table_close(root, NoLock);
	}
	if (!s->entry.included)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("table \"%s.%s\" is left out by the table filters",
						s->entry.nspname, s->entry.relname)));

	s->frame_cxt = AllocSetContextCreate(CurrentMemoryContext,
										 "wal2avro snapshot frame context",
										 ALLOCSET_DEFAULT_SIZES);
	s->data.change_cxt = s->frame_cxt;

	s->rel = rel;
	s->snapshot = RegisterSnapshot(GetActiveSnapshot());
	if (PG_NARGS() >= 4 && !PG_ARGISNULL(2))
	{
		/* one chunk of an on-demand snapshot: the blocks asked for */
		int64		first = PG_GETARG_INT64(2);
		int64		count = PG_ARGISNULL(3) ? (int64) MaxBlockNumber : PG_GETARG_INT64(3);
		BlockNumber nblocks = RelationGetNumberOfBlocks(rel);

		if (first < 0 || count < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s must not be negative", first < 0 ? "first_block" : "blocks")));
		if (first > nblocks)
			first = nblocks;
		if (count > (int64) nblocks - first)
			count = (int64) nblocks - first;
		/* no synchronized scan: it would start somewhere else */
		if (s->data.snapshot_last_table)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("option \"snapshot-last-table\" cannot be used with a block range"),
					 errdetail("The rows of a block range are one chunk of an on-demand snapshot, marked \"incremental\".")));
		s->scan = table_beginscan_strat(rel, s->snapshot, 0, NULL, true, false);
		heap_setscanlimits(s->scan, (BlockNumber) first, (BlockNumber) count);
		s->chunk = true;
	}
	else
		s->scan = table_beginscan(rel, s->snapshot, 0, NULL);
	s->econtext = rsinfo->econtext;
	RegisterExprContextCallback(s->econtext, end_scan_cb, PointerGetDatum(s));
	s->next = heap_getnext(s->scan, ForwardScanDirection);
	return s;
}

/* A frame as the bytea the function returns, with room for the header */
static void
frame_buffer(StringInfo buf)
{
	initStringInfo(buf);
	appendStringInfoSpaces(buf, VARHDRSZ);
}

static bytea *
frame_bytea(StringInfo buf)
{
	SET_VARSIZE(buf->data, buf->len);
	return (bytea *) buf->data;
}

static int64
unix_ms(TimestampTz t)
{
	return (t + ((int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY)) / 1000;
}

/*
 * The CHANGE frame of the row read ahead, and the next row read ahead.
 *
 * A row read from the table holds its out-of-line values as pointers to
 * the TOAST table, which the record code takes for values an UPDATE left
 * unchanged: they are fetched first, so the frame carries them in full.
 */
static bytea *
row_frame(SnapshotScan *s)
{
	StringInfoData buf;
	HeapTuple	tuple;
	W2aRow		row;
	W2aSource	source;
	int			start;
	int			block;
	int			size;

	if (HeapTupleHasExternal(s->next))
		tuple = toast_flatten_tuple(s->next, RelationGetDescr(s->rel));
	else
		tuple = heap_copytuple(s->next);
	if (s->map)
		tuple = execute_attr_map_tuple(tuple, s->map);

	s->next = heap_getnext(s->scan, ForwardScanDirection);

	/*
	 * As Debezium marks them: the last row of a one-row table is "last";
	 * the rows of a chunk, read while the stream goes on, "incremental".
	 */
	if (s->chunk)
		source.snapshot = "incremental";
	else
		source.snapshot = s->next == NULL ? "last" : s->rows == 0 ? "first" : "true";
	source.xid = InvalidTransactionId;
	source.lsn = s->data.snapshot_lsn;	/* compat=debezium: snapshot-lsn */
	source.time = GetCurrentTimestamp();
	s->data.txn_ts_ms = s->data.include_timestamps ? unix_ms(source.time) : 0;

	record_row_init(&row, s->desc, tuple);
	frame_buffer(&buf);
	start = frame_change_begin(&buf, W2A_OP_READ, &s->entry, InvalidXLogRecPtr);
	if (s->entry.nkeys > 0)
	{
		block = frame_block_begin(&buf);
		record_write_key(&buf, &s->data, &s->entry, &row, NULL);
		frame_block_end(&buf, block);
	}
	else
		frame_put_block(&buf, NULL, 0);
	block = frame_block_begin(&buf);
	record_write_value(&buf, &s->data, &s->entry, W2A_OP_READ, NULL, &row, NULL,
					   &source);
	frame_block_end(&buf, block);
	size = buf.len - block - 4;
	if (s->data.max_record_size > 0 && size > s->data.max_record_size)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("record of %d bytes for table \"%s.%s\" exceeds \"max-record-size\" of %d bytes",
						size, s->entry.nspname, s->entry.relname,
						s->data.max_record_size),
				 errhint("Raise \"max-record-size\", or leave the large column out with \"exclude-columns\".")));
	frame_end(&buf, start);

	s->rows++;
	return frame_bytea(&buf);
}

/*
 * wal2avro.snapshot_frames(rel regclass, options text[],
 *						   first_block bigint, blocks bigint) -> setof bytea
 *
 * The SCHEMA frame of the table, then a CHANGE frame (op 'r', LSN 0) per
 * row visible to the active snapshot, for the given plugin options.  With
 * first_block, only the rows stored in blocks [first_block, first_block +
 * blocks) of the table (all blocks from first_block on when blocks is
 * NULL), marked "incremental": one chunk of a snapshot taken while the
 * stream goes on.  A returned frame stays valid until the next call.
 */
Datum
wal2avro_snapshot_frames(PG_FUNCTION_ARGS)
{
	FuncCallContext *funcctx;
	SnapshotScan *s;
	MemoryContext old;
	bytea	   *frame;

	if (SRF_IS_FIRSTCALL())
	{
		funcctx = SRF_FIRSTCALL_INIT();
		if (PG_ARGISNULL(0))
			SRF_RETURN_DONE(funcctx);
		old = MemoryContextSwitchTo(funcctx->multi_call_memory_ctx);
		funcctx->user_fctx = begin_scan(fcinfo);
		MemoryContextSwitchTo(old);
	}
	funcctx = SRF_PERCALL_SETUP();
	s = funcctx->user_fctx;

	MemoryContextReset(s->frame_cxt);
	if (s->schema_sent && s->next == NULL)
	{
		end_scan(s);
		UnregisterExprContextCallback(s->econtext, end_scan_cb, PointerGetDatum(s));
		SRF_RETURN_DONE(funcctx);
	}

	old = MemoryContextSwitchTo(s->frame_cxt);
	if (!s->schema_sent)
	{
		StringInfoData buf;

		frame_buffer(&buf);
		frame_write_schema(&buf, &s->entry);
		frame = frame_bytea(&buf);
		s->schema_sent = true;
	}
	else
		frame = row_frame(s);
	MemoryContextSwitchTo(old);

	SRF_RETURN_NEXT(funcctx, PointerGetDatum(frame));
}

/*
 * wal2avro.snapshot_row_estimate(rel regclass) -> bigint
 *
 * About how many rows snapshot_frames() will return, for progress reports:
 * the density the last VACUUM or ANALYZE saw, times the table's size now,
 * as the planner estimates it.  -1 when the table was never vacuumed or
 * analyzed, or has grown from empty since.
 */
Datum
wal2avro_snapshot_row_estimate(PG_FUNCTION_ARGS)
{
	Relation	rel = table_open(PG_GETARG_OID(0), AccessShareLock);
	float4		reltuples = rel->rd_rel->reltuples;
	BlockNumber relpages = rel->rd_rel->relpages;
	BlockNumber curpages;
	int64		estimate;

	check_table(rel);
	curpages = RelationGetNumberOfBlocks(rel);
	table_close(rel, AccessShareLock);

	if (reltuples < 0)
		estimate = -1;
	else if (relpages > 0)
		estimate = (int64) rint((double) reltuples / relpages * curpages);
	else
		estimate = curpages == 0 ? 0 : -1;
	PG_RETURN_INT64(estimate);
}
