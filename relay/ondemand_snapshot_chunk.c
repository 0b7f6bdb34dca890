/*-------------------------------------------------------------------------
 *
 * ondemand_snapshot_chunk.c
 *		Reading a requested table chunk by chunk on the second connection:
 *		look it up, read a chunk under its snapshot, write the watermark.
 *
 * See ondemand_snapshot.c for the scheme (chunks, window, watermark).
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/ondemand_snapshot_chunk.c
 *
 *-------------------------------------------------------------------------
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "clock.h"
#include "config.h"
#include "frames.h"
#include "key_set.h"
#include "log.h"
#include "lsn.h"
#include "ondemand_snapshot.h"
#include "ondemand_snapshot_internal.h"
#include "pgerror.h"
#include "wal2avro_protocol.h"

/*
 * The connection failed under a query: the chunk is read again, unless its
 * watermark has already come (its rows are here, being produced).  If the
 * watermark was written after all, it comes for no chunk and is ignored.
 */
void
ondemand_abandon_chunk(OnDemandSnapshot *r)
{
	if (r->phase != PHASE_EMITTING)
		ondemand_drop_chunk(r);
}

/* Done with queue[0]: the next table, or the end of the request. */
void
ondemand_finish_table(OnDemandSnapshot *r, const char *how)
{
	if (r->table_open)
	{
		double		secs = (relay_now_us() - r->started_us) / 1e6;

		relay_log(RELAY_LOG_INFO, "on-demand snapshot of %s.%s %s: %" PRIu64 " rows in %.1f s (%.0f rows/s), %" PRIu64 " overtaken by changes, %" PRIu64 " chunks read again",
				  r->schema, r->table, how, r->rows, secs, secs > 0 ? r->rows / secs : 0.0,
				  r->dropped, r->rereads);
	}
	r->table_open = false;
	memmove(r->queue, r->queue + 1, (r->queue_len - 1) * sizeof(uint32_t));
	r->queue_len--;
	if (r->queue_len == 0)
	{
		relay_log(RELAY_LOG_INFO, "on-demand snapshot done: every requested table read");
		r->hold = INVALID_LSN;
		ondemand_close_connection(r);
	}
}

/* Look queue[0] up: its name, size, and whether this relay captures it. */
void
ondemand_start_lookup(OnDemandSnapshot *r)
{
	const char *params[2] = {r->oid, r->options};

	snprintf(r->oid, sizeof(r->oid), "%u", r->queue[0]);
	ondemand_send_query(r, PENDING_LOOKUP,
			   "SELECT n.nspname, c.relname, "
			   "pg_catalog.pg_relation_size(c.oid) / pg_catalog.current_setting('block_size')::pg_catalog.int8, "
			   "p.published, "
			   "CASE WHEN p.published THEN wal2avro.snapshot_row_estimate(c.oid) ELSE -1 END, "
			   "CASE WHEN c.relispartition THEN pg_catalog.pg_partition_root(c.oid) END, "
			   "pg_catalog.current_setting('block_size')::pg_catalog.int8 "
			   "FROM pg_catalog.pg_class c "
			   "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace, "
			   "LATERAL (SELECT wal2avro.published(c.oid, $2::pg_catalog.text[]) AS published) p "
			   "WHERE c.oid = $1::pg_catalog.oid",
			   2, params, 0);
}

void
ondemand_lookup_done(OnDemandSnapshot *r, PGresult *res)
{
	int64_t		block_size;

	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		/* no extension, a bad option: it will not get better */
		if (pgerror_from_result(res).cls == PGERROR_PERMANENT)
		{
			relay_log(RELAY_LOG_ERROR, "on-demand snapshot of table OID %s skipped: %.*s", r->oid,
					  (int) strcspn(PQresultErrorMessage(res), "\n"), PQresultErrorMessage(res));
			relay_log_hint(RELAY_LOG_ERROR, "It needs extension \"wal2avro\" in schema \"wal2avro\" of the database.");
			ondemand_finish_table(r, "skipped");
			return;
		}
		ondemand_set_conn_error(r, "could not look up the table", res);
		return;
	}
	if (PQntuples(res) == 0)
	{
		relay_log(RELAY_LOG_WARNING, "on-demand snapshot: table OID %s no longer exists: skipped", r->oid);
		ondemand_finish_table(r, "skipped");
		return;
	}
	snprintf(r->schema, sizeof(r->schema), "%s", PQgetvalue(res, 0, 0));
	snprintf(r->table, sizeof(r->table), "%s", PQgetvalue(res, 0, 1));
	if (strcmp(PQgetvalue(res, 0, 3), "t") != 0)
	{
		relay_log(RELAY_LOG_INFO, "on-demand snapshot of %s.%s skipped: this relay does not capture it",
				  r->schema, r->table);
		ondemand_finish_table(r, "skipped");
		return;
	}
	r->nblocks = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
	r->estimated = strtoll(PQgetvalue(res, 0, 4), NULL, 10);
	r->target.relid = r->queue[0];
	r->target.root = PQgetisnull(res, 0, 5) ? 0 :
		(uint32_t) strtoul(PQgetvalue(res, 0, 5), NULL, 10);
	block_size = strtoll(PQgetvalue(res, 0, 6), NULL, 10);
	r->chunk_blocks = ondemand_chunk_blocks(r->cfg->snapshot_chunk_size, block_size);
	r->table_open = true;
	r->next_block = 0;
	r->rows = r->dropped = r->rereads = 0;
	r->warned_keyless = false;
	r->started_us = r->logged_us = relay_now_us();
	relay_log(RELAY_LOG_INFO, "on-demand snapshot of %s.%s: %" PRId64 " blocks of %" PRId64 " bytes, about %" PRId64 " rows, in chunks of %" PRId64 " blocks",
			  r->schema, r->table, r->nblocks, block_size, r->estimated, r->chunk_blocks);
	metrics_set_snapshot_rows(r->metrics, r->schema, r->table, 0, r->estimated);
}

int64_t
ondemand_chunk_blocks(uint64_t chunk_size, int64_t block_size)
{
	int64_t		blocks;

	if (block_size <= 0)
		block_size = 8192;
	blocks = (int64_t) (chunk_size / (uint64_t) block_size);
	return blocks < 1 ? 1 : blocks;
}

/*
 * Did S ("xmin:xmax:xip,...") see in progress a transaction the stream
 * delivered before the window opened (sequence number below window_seq)?
 */
static bool
saw_delivered_in_progress(const OnDemandSnapshot *r, const char *snap, uint64_t window_seq)
{
	const char *p = strchr(snap, ':');

	if (p == NULL || (p = strchr(p + 1, ':')) == NULL)
		return true;			/* cannot tell: read again */
	for (p++; *p;)
	{
		char	   *end;
		uint32_t	xid = (uint32_t) strtoull(p, &end, 10);	/* xid8 -> its xid */
		size_t		i;

		if (end == p)
			return true;
		for (i = 0; i < RECENT_XIDS; i++)
		{
			if (r->recent[i].seq != 0 && r->recent[i].seq < window_seq && r->recent[i].xid == xid)
				return true;
		}
		p = *end == ',' ? end + 1 : end;
	}
	return false;
}

void
ondemand_log_progress(OnDemandSnapshot *r, int64_t now)
{
	double		secs = (now - r->started_us) / 1e6;
	double		rate = secs > 0 ? r->rows / secs : 0.0;
	double		pct = r->nblocks > 0 ? 100.0 * r->next_block / r->nblocks : 100.0;
	double		eta = pct > 0 && pct < 100 ? secs * (100 - pct) / pct : 0.0;

	r->logged_us = now;
	relay_log(RELAY_LOG_INFO, "on-demand snapshot of %s.%s: %" PRIu64 " rows (about %" PRId64 "), block %" PRId64 "/%" PRId64 " (%.0f%%), %.0f rows/s, ETA %.0f s",
			  r->schema, r->table, r->rows, r->estimated, r->next_block, r->nblocks, pct, rate, eta);
}

/*
 * Reading a chunk, one query at a time, in one transaction:
 *   1. the window opens; BEGIN REPEATABLE READ and take S (ondemand_chunk_begun)
 *   2. the watermark, its LSN and txid_current() (ondemand_watermark_written)
 *   3. the chunk's frames under S (ondemand_chunk_read); from here on
 *      ondemand_observe waits for the watermark in the stream
 *   4. COMMIT (ondemand_chunk_committed), which puts the watermark in the
 *      stream; a chunk given up before it is rolled back, watermark and all.
 */
void
ondemand_start_chunk(OnDemandSnapshot *r)
{
	/* the window opens: what the stream delivers from here on is in it */
	key_set_clear(&r->keys);
	r->invalid = false;
	r->window_seq = r->txn_seq + 1;
	r->window = true;
	r->chunk_fp_known = false;
	r->window_schema_seen = false;
	ondemand_send_query(r, PENDING_BEGIN,
			   "BEGIN ISOLATION LEVEL REPEATABLE READ; "
			   "SELECT pg_catalog.pg_current_snapshot()", 0, NULL, 0);
	if (r->pending == PENDING_NONE)
		ondemand_drop_chunk(r);
}

/* Give up on the chunk after a database error; it is read again. */
static void
chunk_failed(OnDemandSnapshot *r, const char *what, PGresult *res)
{
	ondemand_set_conn_error(r, what, res);
	if (r->conn && PQstatus(r->conn) == CONNECTION_OK)
	{
		/* the transaction may be open: end it before the next chunk */
		ondemand_send_query(r, PENDING_ROLLBACK, "ROLLBACK", 0, NULL, 0);
	}
	ondemand_drop_chunk(r);
}

/* Give up on the chunk with its transaction open, without an error. */
static void
chunk_rolled_back(OnDemandSnapshot *r)
{
	ondemand_drop_chunk(r);
	ondemand_send_query(r, PENDING_ROLLBACK, "ROLLBACK", 0, NULL, 0);
}

void
ondemand_chunk_begun(OnDemandSnapshot *r, PGresult *res)
{
	const char *wm_params[1] = {r->mark};

	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
	{
		chunk_failed(r, "could not read a chunk", res);
		return;
	}
	if (saw_delivered_in_progress(r, PQgetvalue(res, 0, 0), r->window_seq))
	{
		relay_log(RELAY_LOG_DEBUG, "on-demand snapshot of %s.%s: a transaction already streamed was not yet visible; reading the chunk again",
				  r->schema, r->table);
		r->rereads++;
		chunk_rolled_back(r);
		r->not_before_us = relay_now_us() + REREAD_US;
		return;
	}

	/*
	 * The watermark, in the transaction of S: the stream sees it at the
	 * commit, after S, wherever in the transaction it is written.
	 */
	r->chunk_seq++;
	snprintf(r->mark, sizeof(r->mark), "%s %" PRIu64, r->tag, r->chunk_seq);
	ondemand_send_query(r, PENDING_WATERMARK,
			   "SELECT pg_catalog.pg_logical_emit_message(true, '" ONDEMAND_WATERMARK_PREFIX "', $1)::pg_catalog.text, "
			   "pg_catalog.txid_current()::pg_catalog.text",
			   1, wm_params, 0);
	if (r->pending == PENDING_NONE)
		ondemand_drop_chunk(r);
}

void
ondemand_watermark_written(OnDemandSnapshot *r, PGresult *res)
{
	const char *params[6] = {r->oid, r->options, r->first, r->count, r->mark_lsn, r->mark_txid};

	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
	{
		chunk_failed(r, "could not write a watermark", res);
		return;
	}
	snprintf(r->mark_lsn, sizeof(r->mark_lsn), "%s", PQgetvalue(res, 0, 0));
	snprintf(r->mark_txid, sizeof(r->mark_txid), "%s", PQgetvalue(res, 0, 1));
	snprintf(r->oid, sizeof(r->oid), "%u", r->queue[0]);
	snprintf(r->first, sizeof(r->first), "%" PRId64, r->next_block);
	snprintf(r->count, sizeof(r->count), "%" PRId64, r->chunk_blocks);
	if (r->debezium)
		ondemand_send_query(r, PENDING_CHUNK,
				   "SELECT wal2avro.snapshot_frames($1::pg_catalog.oid::pg_catalog.regclass, "
				   "$2::pg_catalog.text[] || ARRAY['snapshot-lsn', $5, 'snapshot-txid', $6], "
				   "$3::pg_catalog.int8, $4::pg_catalog.int8)",
				   6, params, 1);
	else
		ondemand_send_query(r, PENDING_CHUNK,
				   "SELECT wal2avro.snapshot_frames($1::pg_catalog.oid::pg_catalog.regclass, "
				   "$2::pg_catalog.text[], $3::pg_catalog.int8, $4::pg_catalog.int8)",
				   4, params, 1);
	if (r->pending == PENDING_NONE)
		ondemand_drop_chunk(r);
}

/*
 * The chunk's frames came (res is kept as the chunk, or freed).  Checked
 * before the commit, so that a chunk given up takes its watermark with it.
 */
void
ondemand_chunk_read(OnDemandSnapshot *r, PGresult *res)
{
	Frame		f;
	char		perr[256];

	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		if (pgerror_from_result(res).cls == PGERROR_PERMANENT)
		{
			relay_log(RELAY_LOG_ERROR, "on-demand snapshot of %s.%s stopped: %.*s", r->schema, r->table,
					  (int) strcspn(PQresultErrorMessage(res), "\n"),
					  PQresultErrorMessage(res));
			PQclear(res);
			chunk_rolled_back(r);
			ondemand_finish_table(r, "stopped");
			return;
		}
		chunk_failed(r, "could not read a chunk", res);
		PQclear(res);
		return;
	}
	r->chunk = res;
	if (PQntuples(r->chunk) < 1 ||
		frames_parse((const uint8_t *) PQgetvalue(r->chunk, 0, 0),
					 (size_t) PQgetlength(r->chunk, 0, 0), &f, perr, sizeof(perr)) != 0 ||
		f.kind != W2A_FRAME_SCHEMA)
	{
		relay_log(RELAY_LOG_ERROR, "on-demand snapshot of %s.%s stopped: the chunk does not start with a schema frame",
				  r->schema, r->table);
		chunk_rolled_back(r);
		ondemand_finish_table(r, "stopped");
		return;
	}
	if (!ondemand_target_has(&r->target, f.schema.relid))
	{
		/* attached to a partitioned table meanwhile: the stream uses its root */
		relay_log(RELAY_LOG_DEBUG, "on-demand snapshot of %s.%s: the chunk comes as relation OID %u, which the window did not watch; reading it again",
				  r->schema, r->table, f.schema.relid);
		r->target.root = f.schema.relid;
		r->rereads++;
		chunk_rolled_back(r);
		return;
	}
	r->chunk_key_fp = f.schema.key_fingerprint;
	r->chunk_value_fp = f.schema.value_fingerprint;
	r->chunk_fp_known = true;
	/* a schema frame the stream sent while the chunk was read */
	if (r->window_schema_seen &&
		(r->window_schema_mixed || r->seen_key_fp != r->chunk_key_fp ||
		 r->seen_value_fp != r->chunk_value_fp))
		r->invalid = true;
	if (f.schema.key_fingerprint == 0 && !r->warned_keyless)
	{
		relay_log(RELAY_LOG_WARNING, "on-demand snapshot of %s.%s: the table has no key, so rows changed meanwhile cannot be told apart; its rows are produced as read",
				  r->schema, r->table);
		r->warned_keyless = true;
	}
	if (PQntuples(r->chunk) == 1)
	{
		/* no row in these blocks: nothing to place in the stream */
		chunk_rolled_back(r);
		r->next_block += r->chunk_blocks;
		if (r->next_block >= r->nblocks)
			ondemand_finish_table(r, "done");
		return;
	}

	/*
	 * The stream may bring the watermark before the commit's result is
	 * taken here, so the chunk waits for it from now on (ondemand_observe
	 * takes it from there).
	 */
	r->phase = PHASE_WAITING;
	ondemand_send_query(r, PENDING_COMMIT, "COMMIT", 0, NULL, 0);
	if (r->pending == PENDING_NONE)
		ondemand_drop_chunk(r);
}

/*
 * The commit's result.  A failed commit wrote no watermark: the chunk is
 * read again.  Should it have committed after all (the connection lost in
 * the middle), its watermark comes for no chunk and is ignored.
 */
void
ondemand_chunk_committed(OnDemandSnapshot *r, PGresult *res)
{
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
	{
		ondemand_set_conn_error(r, "could not commit a chunk's watermark", res);
		ondemand_abandon_chunk(r);
	}
}
