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
 *      snapshot S (pg_current_snapshot()) and read the chunk under it.
 *   3. Commit, then write the watermark: a transactional message
 *      "wal2avro.watermark" with this relay's tag and the chunk's number.
 *   4. When the stream reaches the watermark, produce the chunk's rows,
 *      inside the watermark's transaction, minus every row whose key
 *      changed in the window; close the window.
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
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/ondemand_snapshot.c
 *
 *-------------------------------------------------------------------------
 */
#include <inttypes.h>
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
#include "pgerror.h"
#include "snapshot.h"
#include "stream.h"
#include "wal2avro_protocol.h"

#define RECENT_XIDS			8192	/* transactions remembered (power of two) */
#define RETRY_US			(5 * 1000000LL) /* after a database error */
#define REREAD_US			(100 * 1000LL)	/* after a chunk S could not use */
#define PROGRESS_EVERY_US	(10 * 1000000LL)
#define QUERY_BOUND_US		(120 * 1000000LL)	/* one query, at most */
#define NAMEDATALEN_MAX		256 /* room for a quoted PostgreSQL name */

typedef enum Phase
{
	PHASE_IDLE = 0,				/* no chunk: read the next one when due */
	PHASE_WAITING,				/* chunk read, its watermark not yet seen */
	PHASE_EMITTING				/* watermark seen: produce the rows */
} Phase;

/* The query in the air on the connection, if any */
typedef enum Pending
{
	PENDING_NONE = 0,
	PENDING_LOOKUP,				/* the table's name, size, whether captured */
	PENDING_BEGIN,				/* BEGIN and S */
	PENDING_CHUNK,				/* the chunk's frames */
	PENDING_COMMIT,
	PENDING_WATERMARK,
	PENDING_ROLLBACK			/* after a failed or useless chunk */
} Pending;

/* A transaction the stream delivered, and when */
typedef struct RecentXid
{
	uint32_t	xid;
	uint64_t	seq;			/* OnDemandSnapshot.txn_seq when its BEGIN was seen */
} RecentXid;

struct OnDemandSnapshot
{
	const RelayConfig *cfg;
	Metrics    *metrics;
	char	   *options;		/* the plugin options, a text[] literal */
	PGconn	   *conn;			/* for reading chunks and writing watermarks */
	char		tag[24];		/* ours, in each watermark: this process */
	int64_t		not_before_us;	/* next chunk not before this */
	Pending		pending;		/* the query in the air */
	PGresult   *pending_res;	/* what of its result came so far */
	int64_t		pending_deadline_us;
	char		oid[16];		/* parameters of the query in the air */
	char		first[24];
	char		count[24];
	char		mark[64];

	/* requested tables, in order; queue[0] is the one being read */
	uint32_t   *queue;
	size_t		queue_len;
	size_t		queue_cap;
	Lsn			hold;			/* commit position of the oldest request */

	/* the stream, as observed */
	Lsn			txn_commit_lsn; /* of the transaction being read */
	uint64_t	txn_seq;		/* transactions begun so far */
	RecentXid	recent[RECENT_XIDS];

	/* the table being read */
	bool		table_open;
	OnDemandTarget target;	/* relids the stream names it by */
	char		schema[NAMEDATALEN_MAX];
	char		table[NAMEDATALEN_MAX];
	int64_t		nblocks;		/* its size when its reading began */
	int64_t		next_block;
	int64_t		chunk_blocks;	/* blocks per chunk (block_size of the server) */
	int64_t		estimated;
	uint64_t	rows;			/* produced so far */
	uint64_t	dropped;		/* rows a change overtook */
	uint64_t	rereads;
	int64_t		started_us;
	int64_t		logged_us;
	bool		warned_keyless;

	/* the chunk in the air */
	Phase		phase;
	uint64_t	chunk_seq;		/* its number, in its watermark */
	PGresult   *chunk;			/* its frames: a SCHEMA frame, then rows */
	uint64_t	chunk_key_fp;	/* fingerprints of its SCHEMA frame */
	uint64_t	chunk_value_fp;
	bool		window;			/* keys are being collected */
	uint64_t	window_seq;		/* first transaction inside it */
	bool		invalid;		/* read it again: DDL or TRUNCATE meanwhile */
	bool		chunk_fp_known; /* the chunk's SCHEMA frame has come */
	bool		window_schema_seen; /* the table's SCHEMA frames before that */
	bool		window_schema_mixed;	/* ... with different fingerprints */
	uint64_t	seen_key_fp;
	uint64_t	seen_value_fp;
	KeySet		keys;			/* changed in the window */
	int			emit_row;		/* next row of chunk to produce */
	WriterStage emit_stage;		/* of the row at emit_row */
};

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

static void
drop_chunk(OnDemandSnapshot *r)
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

static void close_connection(OnDemandSnapshot *r);

void
ondemand_free(OnDemandSnapshot *r)
{
	if (r == NULL)
		return;
	drop_chunk(r);
	close_connection(r);
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
	drop_chunk(r);
	close_connection(r);
	r->queue_len = 0;
	r->hold = INVALID_LSN;
	r->table_open = false;
	r->txn_commit_lsn = INVALID_LSN;
	r->not_before_us = 0;
	free(r->options);
	r->options = snapshot_options_array(options);
	return r->options ? 0 : -1;
}

static bool
bytes_equal(FrameBytes b, const char *s)
{
	size_t		n = strlen(s);

	return b.len == n && memcmp(b.data, s, n) == 0;
}

/* Queue the OIDs of a request, each once.  Malformed words are skipped. */
static void
queue_request(OnDemandSnapshot *r, const Frame *f)
{
	const uint8_t *c = f->message.has_content ? f->message.content.data : NULL;
	size_t		n = f->message.has_content ? f->message.content.len : 0;
	size_t		pos = 0;
	int			added = 0;

	while (pos < n)
	{
		size_t		word,
					i;
		uint64_t	v = 0;
		bool		valid = true;
		bool		queued = false;

		while (pos < n && c[pos] == ' ')
			pos++;
		if (pos == n)
			break;
		for (word = pos; pos < n && c[pos] != ' '; pos++)
		{
			if (c[pos] < '0' || c[pos] > '9' || v > UINT32_MAX)
				valid = false;
			else
				v = v * 10 + (uint64_t) (c[pos] - '0');
		}
		if (!valid || v == 0 || v > UINT32_MAX)
		{
			relay_log(RELAY_LOG_WARNING, "snapshot request at " LSN_FMT ": \"%.*s\" is not a table OID: ignored",
					  LSN_ARGS(f->message.lsn), (int) (pos - word > 64 ? 64 : pos - word),
					  (const char *) c + word);
			continue;
		}

		/*
		 * Once in the queue is enough, except for the table being read:
		 * part of it was read before this request, so it goes in again.
		 */
		for (i = r->table_open ? 1 : 0; i < r->queue_len; i++)
			queued |= r->queue[i] == (uint32_t) v;
		if (queued)
			continue;
		if (r->queue_len == r->queue_cap)
		{
			size_t		cap = r->queue_cap ? r->queue_cap * 2 : 16;
			uint32_t   *q = realloc(r->queue, cap * sizeof(uint32_t));

			if (q == NULL)
			{
				relay_log(RELAY_LOG_ERROR, "out of memory: snapshot request of table OID %" PRIu64 " dropped", v);
				continue;
			}
			r->queue = q;
			r->queue_cap = cap;
		}
		r->queue[r->queue_len++] = (uint32_t) v;
		added++;
	}
	if (added == 0)
		return;
	/* confirm nothing from the request on until every table is read */
	if (r->hold == INVALID_LSN)
		r->hold = f->message.transactional ? r->txn_commit_lsn : f->message.lsn;
	relay_log(RELAY_LOG_INFO, "on-demand snapshot of %d table(s) requested at " LSN_FMT,
			  added, LSN_ARGS(f->message.lsn));
}

/* Our watermark for the chunk in the air? */
static bool
is_our_watermark(const OnDemandSnapshot *r, const Frame *f)
{
	char		want[64];
	int			n;

	if (r->phase != PHASE_WAITING || !f->message.has_content)
		return false;
	n = snprintf(want, sizeof(want), "%s %" PRIu64, r->tag, r->chunk_seq);
	return f->message.content.len == (uint32_t) n &&
		memcmp(f->message.content.data, want, (size_t) n) == 0;
}

bool
ondemand_target_has(const OnDemandTarget *t, uint32_t relid)
{
	return relid != 0 && (relid == t->relid || relid == t->root);
}

OnDemandEffect
ondemand_frame_effect(const OnDemandTarget *t, const Frame *f,
						uint64_t key_fp, uint64_t value_fp)
{
	size_t		pos = 0;
	FrameRelation rel;

	switch (f->kind)
	{
		case W2A_FRAME_CHANGE:
			if (ondemand_target_has(t, f->change.relid) && f->change.has_key)
				return ONDEMAND_KEY;
			return ONDEMAND_NONE;
		case W2A_FRAME_SCHEMA:
			if (ondemand_target_has(t, f->schema.relid) &&
				(f->schema.key_fingerprint != key_fp ||
				 f->schema.value_fingerprint != value_fp))
				return ONDEMAND_INVALID;
			return ONDEMAND_NONE;
		case W2A_FRAME_TRUNCATE:
			while (frames_next_relation(&f->truncate.relations, &pos, &rel))
			{
				if (ondemand_target_has(t, rel.relid))
					return ONDEMAND_INVALID;
			}
			return ONDEMAND_NONE;
		default:
			return ONDEMAND_NONE;
	}
}

bool
ondemand_observe(OnDemandSnapshot *r, const Frame *f)
{
	switch (f->kind)
	{
		case W2A_FRAME_BEGIN:
			r->txn_commit_lsn = f->begin.commit_lsn;
			r->txn_seq++;
			r->recent[r->txn_seq & (RECENT_XIDS - 1)] = (RecentXid) {f->begin.xid, r->txn_seq};
			return false;
		case W2A_FRAME_CHANGE:
		case W2A_FRAME_SCHEMA:
		case W2A_FRAME_TRUNCATE:
			if (!r->window)
				return false;
			if (f->kind == W2A_FRAME_SCHEMA && !r->chunk_fp_known)
			{
				/* compared with the chunk's own once it has come */
				if (ondemand_target_has(&r->target, f->schema.relid))
				{
					if (r->window_schema_seen &&
						(r->seen_key_fp != f->schema.key_fingerprint ||
						 r->seen_value_fp != f->schema.value_fingerprint))
						r->window_schema_mixed = true;
					r->window_schema_seen = true;
					r->seen_key_fp = f->schema.key_fingerprint;
					r->seen_value_fp = f->schema.value_fingerprint;
				}
				return false;
			}
			switch (ondemand_frame_effect(&r->target, f, r->chunk_key_fp, r->chunk_value_fp))
			{
				case ONDEMAND_NONE:
					break;
				case ONDEMAND_KEY:
					if (key_set_add(&r->keys, f->change.key.data, f->change.key.len) != 0)
						r->invalid = true;	/* out of memory: cannot match, read again */
					break;
				case ONDEMAND_INVALID:
					r->invalid = true;
					break;
			}
			return false;
		case W2A_FRAME_MESSAGE:
			if (bytes_equal(f->message.prefix, ONDEMAND_REQUEST_PREFIX))
			{
				queue_request(r, f);
				return true;
			}
			if (bytes_equal(f->message.prefix, ONDEMAND_WATERMARK_PREFIX))
			{
				if (is_our_watermark(r, f))
				{
					r->window = false;
					if (r->invalid)
					{
						relay_log(RELAY_LOG_DEBUG, "on-demand snapshot of %s.%s: chunk at block %" PRId64 " overtaken by a schema change or a truncate, reading it again",
								  r->schema, r->table, r->next_block);
						r->rereads++;
						drop_chunk(r);
					}
					else
						r->phase = PHASE_EMITTING;
				}
				return true;	/* ours or another relay's: never produced */
			}
			return false;
		default:
			return false;
	}
}

static void
close_connection(OnDemandSnapshot *r)
{
	if (r->conn)
		PQfinish(r->conn);
	r->conn = NULL;
	PQclear(r->pending_res);
	r->pending_res = NULL;
	r->pending = PENDING_NONE;
}

static void
set_conn_error(OnDemandSnapshot *r, const char *what, PGresult *res)
{
	const char *msg = res ? PQresultErrorMessage(res) : "";

	if (msg[0] == '\0' && r->conn)
		msg = PQerrorMessage(r->conn);
	relay_log(RELAY_LOG_WARNING, "on-demand snapshot: %s: %.*s", what,
			  (int) strcspn(msg, "\n"), msg);
	r->not_before_us = relay_now_us() + RETRY_US;
	if (r->conn && PQstatus(r->conn) != CONNECTION_OK)
		close_connection(r);
}

static bool
connect_if_needed(OnDemandSnapshot *r)
{
	if (r->conn && PQstatus(r->conn) == CONNECTION_OK)
		return true;
	close_connection(r);
	r->conn = stream_connect_plain(r->cfg->dbname, r->cfg->pg_password, "snapshot");
	if (r->conn == NULL || PQstatus(r->conn) != CONNECTION_OK)
	{
		set_conn_error(r, "could not connect", NULL);
		return false;
	}
	if (PQsetnonblocking(r->conn, 1) != 0)
	{
		set_conn_error(r, "could not make the connection non-blocking", NULL);
		close_connection(r);
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
static bool
send_query(OnDemandSnapshot *r, Pending what, const char *sql, int nparams,
		   const char *const *params, int result_format)
{
	int			ok;

	if (nparams == 0 && result_format == 0)
		ok = PQsendQuery(r->conn, sql);
	else
		ok = PQsendQueryParams(r->conn, sql, nparams, NULL, params, NULL, NULL, result_format);
	if (!ok || PQflush(r->conn) < 0)
	{
		set_conn_error(r, "could not send a query", NULL);
		close_connection(r);
		return false;
	}
	r->pending = what;
	r->pending_deadline_us = relay_now_us() + QUERY_BOUND_US;
	return true;
}

/*
 * The connection failed under a query: the chunk is read again, unless its
 * watermark has already come (its rows are here, being produced).  If the
 * watermark was written after all, it comes for no chunk and is ignored.
 */
static void
abandon_chunk(OnDemandSnapshot *r)
{
	if (r->phase != PHASE_EMITTING)
		drop_chunk(r);
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
		set_conn_error(r, "connection lost", NULL);
		close_connection(r);
		abandon_chunk(r);
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
		close_connection(r);
		abandon_chunk(r);
		r->not_before_us = relay_now_us() + RETRY_US;
	}
	return false;
}

/* Done with queue[0]: the next table, or the end of the request. */
static void
finish_table(OnDemandSnapshot *r, const char *how)
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
		close_connection(r);
	}
}

/* Look queue[0] up: its name, size, and whether this relay captures it. */
static void
start_lookup(OnDemandSnapshot *r)
{
	const char *params[2] = {r->oid, r->options};

	snprintf(r->oid, sizeof(r->oid), "%u", r->queue[0]);
	send_query(r, PENDING_LOOKUP,
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

static void
lookup_done(OnDemandSnapshot *r, PGresult *res)
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
			finish_table(r, "skipped");
			return;
		}
		set_conn_error(r, "could not look up the table", res);
		return;
	}
	if (PQntuples(res) == 0)
	{
		relay_log(RELAY_LOG_WARNING, "on-demand snapshot: table OID %s no longer exists: skipped", r->oid);
		finish_table(r, "skipped");
		return;
	}
	snprintf(r->schema, sizeof(r->schema), "%s", PQgetvalue(res, 0, 0));
	snprintf(r->table, sizeof(r->table), "%s", PQgetvalue(res, 0, 1));
	if (strcmp(PQgetvalue(res, 0, 3), "t") != 0)
	{
		relay_log(RELAY_LOG_INFO, "on-demand snapshot of %s.%s skipped: this relay does not capture it",
				  r->schema, r->table);
		finish_table(r, "skipped");
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

static void
log_progress(OnDemandSnapshot *r, int64_t now)
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
 * Reading a chunk, one query at a time:
 *   1. the window opens; BEGIN REPEATABLE READ and take S (chunk_begun)
 *   2. the chunk's frames under S (chunk_read)
 *   3. COMMIT (chunk_committed), then the watermark (watermark_written):
 *      from then on ondemand_observe waits for it in the stream.
 */
static void
start_chunk(OnDemandSnapshot *r)
{
	/* the window opens: what the stream delivers from here on is in it */
	key_set_clear(&r->keys);
	r->invalid = false;
	r->window_seq = r->txn_seq + 1;
	r->window = true;
	r->chunk_fp_known = false;
	r->window_schema_seen = false;
	send_query(r, PENDING_BEGIN,
			   "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY; "
			   "SELECT pg_catalog.pg_current_snapshot()", 0, NULL, 0);
	if (r->pending == PENDING_NONE)
		drop_chunk(r);
}

/* Give up on the chunk after a database error; it is read again. */
static void
chunk_failed(OnDemandSnapshot *r, const char *what, PGresult *res)
{
	set_conn_error(r, what, res);
	if (r->conn && PQstatus(r->conn) == CONNECTION_OK)
	{
		/* the transaction may be open: end it before the next chunk */
		send_query(r, PENDING_ROLLBACK, "ROLLBACK", 0, NULL, 0);
	}
	drop_chunk(r);
}

static void
chunk_begun(OnDemandSnapshot *r, PGresult *res)
{
	const char *params[4] = {r->oid, r->options, r->first, r->count};

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
		drop_chunk(r);
		send_query(r, PENDING_ROLLBACK, "ROLLBACK", 0, NULL, 0);
		r->not_before_us = relay_now_us() + REREAD_US;
		return;
	}
	snprintf(r->oid, sizeof(r->oid), "%u", r->queue[0]);
	snprintf(r->first, sizeof(r->first), "%" PRId64, r->next_block);
	snprintf(r->count, sizeof(r->count), "%" PRId64, r->chunk_blocks);
	send_query(r, PENDING_CHUNK,
			   "SELECT wal2avro.snapshot_frames($1::pg_catalog.oid::pg_catalog.regclass, "
			   "$2::pg_catalog.text[], $3::pg_catalog.int8, $4::pg_catalog.int8)",
			   4, params, 1);
	if (r->pending == PENDING_NONE)
		drop_chunk(r);
}

/* Takes res: kept as the chunk, or freed. */
static void
chunk_read(OnDemandSnapshot *r, PGresult *res)
{
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		if (pgerror_from_result(res).cls == PGERROR_PERMANENT)
		{
			relay_log(RELAY_LOG_ERROR, "on-demand snapshot of %s.%s stopped: %.*s", r->schema, r->table,
					  (int) strcspn(PQresultErrorMessage(res), "\n"),
					  PQresultErrorMessage(res));
			PQclear(res);
			drop_chunk(r);
			send_query(r, PENDING_ROLLBACK, "ROLLBACK", 0, NULL, 0);
			finish_table(r, "stopped");
			return;
		}
		chunk_failed(r, "could not read a chunk", res);
		PQclear(res);
		return;
	}
	r->chunk = res;
	send_query(r, PENDING_COMMIT, "COMMIT", 0, NULL, 0);
	if (r->pending == PENDING_NONE)
		drop_chunk(r);
}

static void
chunk_committed(OnDemandSnapshot *r, PGresult *res)
{
	const char *wm_params[1] = {r->mark};
	Frame		f;
	char		perr[256];

	if (PQresultStatus(res) != PGRES_COMMAND_OK)
	{
		chunk_failed(r, "could not read a chunk", res);
		return;
	}
	if (PQntuples(r->chunk) < 1 ||
		frames_parse((const uint8_t *) PQgetvalue(r->chunk, 0, 0),
					 (size_t) PQgetlength(r->chunk, 0, 0), &f, perr, sizeof(perr)) != 0 ||
		f.kind != W2A_FRAME_SCHEMA)
	{
		relay_log(RELAY_LOG_ERROR, "on-demand snapshot of %s.%s stopped: the chunk does not start with a schema frame",
				  r->schema, r->table);
		drop_chunk(r);
		finish_table(r, "stopped");
		return;
	}
	if (!ondemand_target_has(&r->target, f.schema.relid))
	{
		/* attached to a partitioned table meanwhile: the stream uses its root */
		relay_log(RELAY_LOG_DEBUG, "on-demand snapshot of %s.%s: the chunk comes as relation OID %u, which the window did not watch; reading it again",
				  r->schema, r->table, f.schema.relid);
		r->target.root = f.schema.relid;
		r->rereads++;
		drop_chunk(r);
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
		drop_chunk(r);
		r->next_block += r->chunk_blocks;
		if (r->next_block >= r->nblocks)
			finish_table(r, "done");
		return;
	}

	/*
	 * The watermark, after S.  The stream may bring it before its query's
	 * result is taken here, so the chunk waits for it from now on
	 * (ondemand_observe takes it from there).
	 */
	r->chunk_seq++;
	snprintf(r->mark, sizeof(r->mark), "%s %" PRIu64, r->tag, r->chunk_seq);
	send_query(r, PENDING_WATERMARK,
			   "SELECT pg_catalog.pg_logical_emit_message(true, '" ONDEMAND_WATERMARK_PREFIX "', $1)",
			   1, wm_params, 0);
	if (r->pending == PENDING_NONE)
		drop_chunk(r);
	else
		r->phase = PHASE_WAITING;
}

static void
watermark_written(OnDemandSnapshot *r, PGresult *res)
{
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		set_conn_error(r, "could not write a watermark", res);
		abandon_chunk(r);
	}
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
			lookup_done(r, res);
			break;
		case PENDING_BEGIN:
			chunk_begun(r, res);
			break;
		case PENDING_CHUNK:
			chunk_read(r, res);
			res = NULL;			/* kept as r->chunk, or freed by it */
			break;
		case PENDING_COMMIT:
			chunk_committed(r, res);
			break;
		case PENDING_WATERMARK:
			watermark_written(r, res);
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
		start_lookup(r);
		return;
	}
	if (r->next_block >= r->nblocks)
	{
		finish_table(r, "done");
		return;
	}
	if (now - r->logged_us >= PROGRESS_EVERY_US)
		log_progress(r, now);
	start_chunk(r);
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
	drop_chunk(r);
	r->next_block += r->chunk_blocks;
	metrics_set_snapshot_rows(r->metrics, r->schema, r->table, r->rows, r->estimated);
	if (r->next_block >= r->nblocks)
		finish_table(r, "done");
	return WRITER_OK;
}

Lsn
ondemand_hold(const OnDemandSnapshot *r)
{
	return r->hold;
}
