/*-------------------------------------------------------------------------
 *
 * ondemand_snapshot.c
 *		On-demand snapshots: read chosen tables again, chunk by chunk, while
 *		the stream goes on, so that a consumer rebuilding the last record per
 *		key ends with the table as it is, and no change is lost meanwhile.
 *
 * A request is a transactional logical message, prefix "wal2avro.snapshot",
 * content the tables' OIDs (wal2avro.request_snapshot() writes it), seen in
 * the stream in commit order.  Tables are read in the order requested, each
 * in chunks of snapshot-chunk-size bytes of heap (a block range read by
 * wal2avro.snapshot_frames(), so the rows are encoded by the plugin, marked
 * source.snapshot = "incremental").  For one chunk, after the DBLog scheme
 * with a single watermark:
 *
 *   1. From this point of the stream on, remember the key of every change
 *      to the table (the window opens).
 *   2. On a second connection, in a REPEATABLE READ transaction, take the
 *      snapshot S (pg_current_snapshot()); write the watermark in that
 *      same transaction: a transactional message "wal2avro.watermark" with
 *      this relay's tag and the chunk's number; read the chunk under S.
 *   3. Commit: the watermark enters the stream at that commit.
 *   4. When the stream reaches the watermark, produce the chunk's rows,
 *      inside the watermark's transaction, minus every row whose key
 *      changed in the window; close the window.
 *
 * The watermark is written before the chunk is read so that the rows can
 * carry its position: with compat=debezium they hold, as Debezium's
 * incremental snapshot rows hold the stream position where they are sent,
 * the watermark's LSN (what pg_logical_emit_message returned) and its
 * transaction's txid_current() as source.lsn and txId (plugin options
 * snapshot-lsn and snapshot-txid).  The order of the read and the message
 * inside the transaction does not matter: S is fixed by its first query,
 * and the message is seen by the stream only at the commit, after S.
 *
 * Why that is right: a change committed after S was taken and before the
 * watermark is in the window, so the stream already carries it and the
 * older row of the chunk is dropped; a change after the watermark comes
 * after the chunk's rows; a change before the window was visible to S, so
 * the chunk's row is no older.  That last point needs every transaction the
 * stream delivered before the window to be visible to S, which PostgreSQL
 * does not promise: a transaction is decoded once its commit record is
 * flushed, and becomes visible a little later (much later when it waits for
 * a synchronous standby).  So the xids of recent transactions are kept, and
 * a chunk whose S still saw one of them in progress is read again.  A
 * schema change or a TRUNCATE of the table inside the window also discards
 * the chunk and reads it again.
 *
 * Nothing past the oldest unfinished request is confirmed (ondemand_hold),
 * so after a crash or a reconnect the stream replays the request and the
 * table is read again from its first block: at least once, never lost.
 * The rows of a table without a key cannot be matched with changes; they
 * are produced as read, and a warning says so.
 *
 * A partitioned table is requested as its leaves.  With
 * publish-via-partition-root the stream carries a leaf's changes, schema
 * and truncates under the relid of its partition root, and so do the
 * chunk's frames; otherwise under the leaf's own.  The window takes a frame
 * under either as the leaf's (OnDemandTarget, the root asked once per
 * table), which is exact since the stream uses one of them at a time, and
 * keeps working when the leaf is detached in the middle (its own relid
 * then comes with new fingerprints: read again).  Under the root, changes
 * of the other leaves are collected too: their keys are those of the
 * root's topic, where the consumer keeps one record per key whatever the
 * leaf, so a chunk row whose key changed in another leaf is older than a
 * record already in the stream for that key and is dropped as well
 * (keeping it would put the older one last).  With the root's primary key,
 * which holds the partition key, no two leaves share a key anyway.  A
 * truncate of any leaf names the root, so it also reads the chunk again:
 * needless, but rare and harmless.  A chunk whose SCHEMA frame names
 * neither relid (the table was attached to a partitioned table since it
 * was opened) takes that relid as its root and is read again.
 * XXX A table attached between a chunk's read and its watermark is not
 * noticed for that chunk: its changes under the new root are not
 * collected, so a row they overtook may be kept.  Catching it would take
 * a look at the catalogs at every watermark, for a rare DDL.
 *
 * Files: this one holds the state, the second connection (one query in the
 * air at a time, never blocking the stream) and the emitting of a chunk;
 * ondemand_snapshot_window.c the stream side (requests, watermarks, the
 * window's keys); ondemand_snapshot_chunk.c the reading of a table chunk by
 * chunk.  They share ondemand_snapshot_internal.h.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/ondemand_snapshot.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "clock.h"
#include "config.h"
#include "frames.h"
#include "kafka_writer.h"
#include "key_set.h"
#include "log.h"
#include "lsn.h"
#include "ondemand_snapshot.h"
#include "ondemand_snapshot_internal.h"
#include "snapshot.h"
#include "stream.h"
#include "wal2avro_protocol.h"

OnDemandSnapshot *
ondemand_create(const RelayConfig *cfg, Metrics *metrics)
{
	OnDemandSnapshot *r = calloc(1, sizeof(OnDemandSnapshot));

	if (r == NULL)
		return NULL;
	r->cfg = cfg;
	r->metrics = metrics;
	r->hold = INVALID_LSN;
	/* another relay on this database sees our watermarks: tell them apart */
	snprintf(r->tag, sizeof(r->tag), "%lx.%llx", (unsigned long) getpid(),
			 (unsigned long long) relay_wall_now_us());
	return r;
}

void
ondemand_drop_chunk(OnDemandSnapshot *r)
{
	PQclear(r->chunk);
	r->chunk = NULL;
	r->phase = PHASE_IDLE;
	r->window = false;
	r->invalid = false;
	r->chunk_fp_known = false;
	r->window_schema_seen = false;
	r->window_schema_mixed = false;
	r->emit_row = 0;
	r->emit_stage = WRITER_STAGE_NONE;
	key_set_clear(&r->keys);
}

void
ondemand_free(OnDemandSnapshot *r)
{
	if (r == NULL)
		return;
	ondemand_drop_chunk(r);
	ondemand_close_connection(r);
	key_set_free(&r->keys);
	free(r->queue);
	free(r->options);
	free(r);
}

int
ondemand_reset(OnDemandSnapshot *r, const RelaySettingList *options)
{
	if (r->queue_len > 0)
		relay_log(RELAY_LOG_INFO, "on-demand snapshot of %zu table(s) interrupted: the stream restarts at its request, which starts it again",
				  r->queue_len);
	ondemand_drop_chunk(r);
	ondemand_close_connection(r);
	r->queue_len = 0;
	r->hold = INVALID_LSN;
	r->table_open = false;
	r->txn_commit_lsn = INVALID_LSN;
	r->not_before_us = 0;
	free(r->options);
	r->options = snapshot_options_array(options);
	r->debezium = snapshot_options_debezium(options);
	return r->options ? 0 : -1;
}

void
ondemand_close_connection(OnDemandSnapshot *r)
{
	if (r->conn)
		PQfinish(r->conn);
	r->conn = NULL;
	PQclear(r->pending_res);
	r->pending_res = NULL;
	r->pending = PENDING_NONE;
}

void
ondemand_set_conn_error(OnDemandSnapshot *r, const char *what, PGresult *res)
{
	const char *msg = res ? PQresultErrorMessage(res) : "";

	if (msg[0] == '\0' && r->conn)
		msg = PQerrorMessage(r->conn);
	relay_log(RELAY_LOG_WARNING, "on-demand snapshot: %s: %.*s", what,
			  (int) strcspn(msg, "\n"), msg);
	r->not_before_us = relay_now_us() + RETRY_US;
	if (r->conn && PQstatus(r->conn) != CONNECTION_OK)
		ondemand_close_connection(r);
}

static bool
connect_if_needed(OnDemandSnapshot *r)
{
	if (r->conn && PQstatus(r->conn) == CONNECTION_OK)
		return true;
	ondemand_close_connection(r);
	r->conn = stream_connect_plain(r->cfg->dbname, r->cfg->pg_password, "snapshot");
	if (r->conn == NULL || PQstatus(r->conn) != CONNECTION_OK)
	{
		ondemand_set_conn_error(r, "could not connect", NULL);
		return false;
	}
	if (PQsetnonblocking(r->conn, 1) != 0)
	{
		ondemand_set_conn_error(r, "could not make the connection non-blocking", NULL);
		ondemand_close_connection(r);
		return false;
	}
	return true;
}

static bool
result_ok(const PGresult *res)
{
	return PQresultStatus(res) == PGRES_TUPLES_OK || PQresultStatus(res) == PGRES_COMMAND_OK;
}

/*
 * The connection's queries are asynchronous: a step sends one and returns;
 * a later step takes its result once all of it has arrived, so the stream
 * loop never waits for the database (a chunk behind a lock, a watermark
 * behind a synchronous standby, a slow network).  A query still running
 * after QUERY_BOUND_US is abandoned with its connection and tried again.
 */
bool
ondemand_send_query(OnDemandSnapshot *r, Pending what, const char *sql, int nparams,
		   const char *const *params, int result_format)
{
	int			ok;

	if (nparams == 0 && result_format == 0)
		ok = PQsendQuery(r->conn, sql);
	else
		ok = PQsendQueryParams(r->conn, sql, nparams, NULL, params, NULL, NULL, result_format);
	if (!ok || PQflush(r->conn) < 0)
	{
		ondemand_set_conn_error(r, "could not send a query", NULL);
		ondemand_close_connection(r);
		return false;
	}
	r->pending = what;
	r->pending_deadline_us = relay_now_us() + QUERY_BOUND_US;
	return true;
}

/*
 * The result of the query in the air, once complete (true): the first
 * failed result if a statement failed, else the last one; the caller owns
 * it.  False while it runs, or when the connection failed (then it is
 * closed and nothing is pending).
 */
static bool
take_result(OnDemandSnapshot *r, PGresult **out)
{
	PGresult   *res;

	*out = NULL;
	if (PQflush(r->conn) < 0 || !PQconsumeInput(r->conn))
	{
		ondemand_set_conn_error(r, "connection lost", NULL);
		ondemand_close_connection(r);
		ondemand_abandon_chunk(r);
		return false;
	}
	while (!PQisBusy(r->conn))
	{
		res = PQgetResult(r->conn);
		if (res == NULL)
		{
			*out = r->pending_res;
			r->pending_res = NULL;
			r->pending = PENDING_NONE;
			return true;
		}
		if (r->pending_res == NULL || result_ok(r->pending_res))
		{
			PQclear(r->pending_res);
			r->pending_res = res;
		}
		else
			PQclear(res);		/* keep the first failure */
	}
	if (relay_now_us() > r->pending_deadline_us)
	{
		relay_log(RELAY_LOG_WARNING, "on-demand snapshot of %s.%s: a query ran longer than %d s: abandoned, trying again",
				  r->table_open ? r->schema : "?", r->table_open ? r->table : "?",
				  (int) (QUERY_BOUND_US / 1000000));
		ondemand_close_connection(r);
		ondemand_abandon_chunk(r);
		r->not_before_us = relay_now_us() + RETRY_US;
	}
	return false;
}

/* A result came for the query in the air: the next step. */
static void
query_done(OnDemandSnapshot *r, Pending what, PGresult *res)
{
	switch (what)
	{
		case PENDING_NONE:
			break;
		case PENDING_LOOKUP:
			ondemand_lookup_done(r, res);
			break;
		case PENDING_BEGIN:
			ondemand_chunk_begun(r, res);
			break;
		case PENDING_CHUNK:
			ondemand_chunk_read(r, res);
			res = NULL;			/* kept as r->chunk, or freed by it */
			break;
		case PENDING_COMMIT:
			ondemand_chunk_committed(r, res);
			break;
		case PENDING_WATERMARK:
			ondemand_watermark_written(r, res);
			break;
		case PENDING_ROLLBACK:
			break;
	}
	PQclear(res);
}

void
ondemand_step(OnDemandSnapshot *r)
{
	int64_t		now;

	if (r->pending != PENDING_NONE)
	{
		Pending		what = r->pending;
		PGresult   *res;

		if (!take_result(r, &res))
			return;
		query_done(r, what, res);
		if (r->pending != PENDING_NONE)
			return;
	}
	if (r->queue_len == 0 || r->phase != PHASE_IDLE || r->window)
		return;
	now = relay_now_us();
	if (now < r->not_before_us || !connect_if_needed(r))
		return;
	if (!r->table_open)
	{
		ondemand_start_lookup(r);
		return;
	}
	if (r->next_block >= r->nblocks)
	{
		ondemand_finish_table(r, "done");
		return;
	}
	if (now - r->logged_us >= PROGRESS_EVERY_US)
		ondemand_log_progress(r, now);
	ondemand_start_chunk(r);
}

int
ondemand_socket(const OnDemandSnapshot *r)
{
	return r->pending != PENDING_NONE && r->conn ? PQsocket(r->conn) : -1;
}

bool
ondemand_ready(const OnDemandSnapshot *r)
{
	return r->phase == PHASE_EMITTING;
}

WriterResult
ondemand_emit(OnDemandSnapshot *r, KafkaWriter *records, char *err, size_t errlen)
{
	int			n = PQntuples(r->chunk);

	for (; r->emit_row < n; r->emit_row++)
	{
		Frame		f;
		WriterResult rc;

		if (frames_parse((const uint8_t *) PQgetvalue(r->chunk, r->emit_row, 0),
						 (size_t) PQgetlength(r->chunk, r->emit_row, 0), &f, err, errlen) != 0)
			return WRITER_ERROR;
		if (r->emit_stage == WRITER_STAGE_NONE && f.kind == W2A_FRAME_CHANGE && f.change.has_key &&
			key_set_contains(&r->keys, f.change.key.data, f.change.key.len))
		{
			r->dropped++;
			continue;
		}
		rc = writer_handle_frame(records, &f, &r->emit_stage, err, errlen);
		if (rc != WRITER_OK)
			return rc;
		r->emit_stage = WRITER_STAGE_NONE;
		if (f.kind == W2A_FRAME_CHANGE)
			r->rows++;
	}
	ondemand_drop_chunk(r);
	r->next_block += r->chunk_blocks;
	metrics_set_snapshot_rows(r->metrics, r->schema, r->table, r->rows, r->estimated);
	if (r->next_block >= r->nblocks)
		ondemand_finish_table(r, "done");
	return WRITER_OK;
}

Lsn
ondemand_hold(const OnDemandSnapshot *r)
{
	return r->hold;
}
