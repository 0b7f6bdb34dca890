/*-------------------------------------------------------------------------
 *
 * snapshot.c
 *		The initial snapshot: read every captured table under the snapshot
 *		the new slot exported, as op 'r' records, before the stream starts
 *		at the slot's consistent point.
 *
 * A second, ordinary connection imports the snapshot (SET TRANSACTION
 * SNAPSHOT) while the replication connection waits in command mode, and
 * reads each table through wal2avro.snapshot_frames(), so the records are
 * built by the plugin's own encoder and go through writer_handle_frame
 * like streamed ones.  The whole snapshot is one transaction of the LSN
 * tracker, committing at the consistent point: nothing past it is confirmed
 * before every snapshot record is acknowledged.
 *
 * With compat=debezium every table is read with the options Debezium's
 * snapshot rows need (snapshot_debezium.c): the consistent point, the
 * snapshot transaction's id, and which table's last row is the snapshot's
 * last.
 *
 * Tables, in order of schema name then table name: every permanent table
 * and leaf partition outside the system schemas that the plugin options
 * publish (wal2avro.published()).  Each is read through a cursor, 1000
 * frames a FETCH, so memory stays bounded; only ACCESS SHARE locks are
 * taken, all of them before the first row is read (as pg_dump does): a
 * rewriting ALTER TABLE or a TRUNCATE would otherwise empty a table for the
 * old snapshot (they are not MVCC-safe).  One that committed between the
 * export and our lock is seen by its new relfilenode: the snapshot is then
 * unreadable and a new slot is taken (SNAPSHOT_STALE).  A table dropped
 * meanwhile is gone: skipped.
 *
 * Markers on the state topic (key "snapshot.<slot>") make a crash safe:
 * "creating" before the slot is created, "started <LSN>" before the first
 * row is read, "done <LSN>" once every record is acknowledged.  Streaming
 * starts only after "done", so a slot whose last marker is "creating" or
 * "started" at its unmoved confirmed position never confirmed anything:
 * stream_loop_start.c drops it and the snapshot is done again.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/snapshot.c
 *
 *-------------------------------------------------------------------------
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>
#include <librdkafka/rdkafka.h>

#include "clock.h"
#include "config.h"
#include "frames.h"
#include "kafka_writer.h"
#include "log.h"
#include "lsn.h"
#include "lsn_tracker.h"
#include "pgerror.h"
#include "snapshot.h"
#include "snapshot_internal.h"
#include "stream.h"
#include "topic_reader.h"
#include "wal2avro_protocol.h"

#define FETCH_ROWS			1000	/* the FETCH below */
#define PROGRESS_EVERY_US	(10 * 1000000LL)
#define CURSOR_NAME			"wal2avro_snapshot"

/*
 * Records queued in librdkafka at most while reading.  max-in-flight-bytes
 * counts keys and values only; snapshot records are small and each costs
 * librdkafka some 400 bytes more (headers, bookkeeping), so the count bounds
 * memory better here.
 */
#define MAX_QUEUED_RECORDS	100000

/* What snapshot_read_state looks for while reading the state topic */
typedef struct StateReader
{
	const char *key;			/* "snapshot.<slot>" */
	SnapshotState state;		/* of the last marker with that key */
	Lsn			lsn;
} StateReader;

/* One table being read, for the progress line */
typedef struct TableProgress
{
	const char *schema;
	const char *table;
	int64_t		estimated;		/* -1: unknown */
	uint64_t	rows;
	int64_t		started_us;
	int64_t		logged_us;
} TableProgress;

static void
marker_key(const RelayConfig *cfg, char *buf, size_t len)
{
	snprintf(buf, len, "snapshot.%s", cfg->slot);
}

static void
note_marker_cb(void *ctx, const rd_kafka_message_t *m)
{
	StateReader *r = ctx;
	char		value[64];
	size_t		len = m->len < sizeof(value) - 1 ? m->len : sizeof(value) - 1;

	if (m->key_len != strlen(r->key) || memcmp(m->key, r->key, m->key_len) != 0)
		return;
	if (m->payload == NULL)
	{
		r->state = SNAPSHOT_STATE_NONE; /* a tombstone forgets the slot */
		return;
	}
	memcpy(value, m->payload, len);
	value[len] = '\0';
	if (strcmp(value, "creating") == 0)
		r->state = SNAPSHOT_STATE_CREATING;
	else if (strncmp(value, "started ", 8) == 0 && relay_lsn_parse(value + 8, &r->lsn))
		r->state = SNAPSHOT_STATE_STARTED;
	else if (strncmp(value, "done ", 5) == 0 && relay_lsn_parse(value + 5, &r->lsn))
		r->state = SNAPSHOT_STATE_DONE;
}

/*
 * The last snapshot marker of this slot: read the state topic to its end.
 * Returns 0 with *state (and *lsn for STARTED and DONE), or -1 with a
 * message in err when Kafka cannot be read.
 */
int
snapshot_read_state(const RelayConfig *cfg, SnapshotState *state, Lsn *lsn,
					char *err, size_t errlen)
{
	char		key[256];
	StateReader r = {0};
	bool		complete = false;

	marker_key(cfg, key, sizeof(key));
	r.key = key;
	if (topic_reader_read(topic_reader_conf(cfg), cfg->state_topic, note_marker_cb, &r,
						  &complete, err, errlen) != 0)
		return -1;

	/*
	 * A marker not read is not "no marker": taken as none, an interrupted
	 * snapshot would never be redone and its rows would be missing.
	 */
	if (!complete)
	{
		relay_set_error(err, errlen,
						"the broker did not answer, or the read stopped before the end of the topic");
		return -1;
	}
	*state = r.state;
	*lsn = r.lsn;
	return 0;
}

/*
 * Ask the caller whether to go on: it serves what it must meanwhile (its
 * log, its metrics) and says no on a stop request or a Kafka failure, with
 * the reason in s->err.  Returns true, with *result set, when the snapshot
 * must leave now.
 */
bool
snapshot_must_leave(SnapshotSink *s, SnapshotFailure *result)
{
	if (s->keep_going(s->ctx, s->err, sizeof(s->err)))
		return false;
	*result = SNAPSHOT_FAILED_YIELD;
	return true;
}

/* Serve delivery reports until nothing is in flight.  Returns 0 or -1. */
static int
wait_acknowledged(SnapshotSink *s, SnapshotFailure *result)
{
	while (!lsn_tracker_idle(s->tracker))
	{
		producer_poll(s->producer, 100);
		if (snapshot_must_leave(s, result))
			return -1;
	}
	return 0;
}

/*
 * Produce one marker as a tracker transaction of its own at "lsn" and wait
 * for its acknowledgement.  Returns 0, or -1 with *result and s->err set.
 */
static int
send_marker(SnapshotSink *s, Lsn lsn, const char *value, SnapshotFailure *result)
{
	char		key[256];
	WriterResult rc;

	marker_key(s->cfg, key, sizeof(key));
	if (lsn_tracker_begin(s->tracker, lsn) != LSN_TRACKER_OK)
	{
		snprintf(s->err, sizeof(s->err), "snapshot marker inside a transaction");
		*result = SNAPSHOT_FAILED_RETRY;
		return -1;
	}
	while ((rc = writer_send_control(s->records, s->cfg->state_topic, key, value,
									  s->err, sizeof(s->err))) == WRITER_WAIT)
	{
		producer_poll(s->producer, 100);
		if (snapshot_must_leave(s, result))
			return -1;
	}
	lsn_tracker_commit(s->tracker, lsn);
	if (rc != WRITER_OK)
	{
		s->kafka_failed = true;
		*result = rc == WRITER_FAILED ? SNAPSHOT_FAILED_KAFKA : SNAPSHOT_FAILED_RETRY;
		return -1;
	}
	if (wait_acknowledged(s, result) != 0)
		return -1;
	relay_log(RELAY_LOG_DEBUG, "snapshot marker \"%s\" acknowledged on topic \"%s\"",
			  value, s->cfg->state_topic);
	return 0;
}

/*
 * The "creating" marker, before the slot is created for a snapshot: a crash
 * between the creation and the "started" marker then still redoes it.
 * Returns 0, or -1 with *result and s->err set.
 */
int
snapshot_mark_creating(SnapshotSink *s, SnapshotFailure *result)
{
	return send_marker(s, lsn_tracker_safe_lsn(s->tracker), "creating", result);
}

void
snapshot_set_pg_error(SnapshotSink *s, const char *what, PGconn *conn)
{
	size_t		n;

	snprintf(s->err, sizeof(s->err), "%s: %s", what, PQerrorMessage(conn));
	n = strlen(s->err);
	while (n > 0 && (s->err[n - 1] == '\n' || s->err[n - 1] == ' '))
		s->err[--n] = '\0';
}

/*
 * Open the connection that reads the tables and check that the wal2avro
 * extension is installed there.  Call it before creating the slot, so a
 * missing extension creates nothing.  Returns the connection, or NULL with
 * *result and s->err set (SNAPSHOT_FAILED_PG when retrying cannot help).
 */
PGconn *
snapshot_connect(SnapshotSink *s, SnapshotFailure *result)
{
	PGconn	   *conn = stream_connect_plain(s->cfg->dbname, s->cfg->pg_password, "snapshot");
	PGresult   *res;

	*result = SNAPSHOT_FAILED_RETRY;
	if (conn == NULL || PQstatus(conn) != CONNECTION_OK)
	{
		if (conn)
			snapshot_set_pg_error(s, "could not connect to server for the snapshot", conn);
		else
			snprintf(s->err, sizeof(s->err), "out of memory");
		PQfinish(conn);
		return NULL;
	}
	res = PQexec(conn, "SELECT n.nspname FROM pg_catalog.pg_extension e "
				 "JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace "
				 "WHERE e.extname = 'wal2avro'");
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		snapshot_set_pg_error(s, "could not look up the wal2avro extension", conn);
		PQclear(res);
		PQfinish(conn);
		return NULL;
	}
	if (PQntuples(res) == 0 || strcmp(PQgetvalue(res, 0, 0), "wal2avro") != 0)
	{
		snprintf(s->err, sizeof(s->err),
				 "the initial snapshot needs extension \"wal2avro\" in schema \"wal2avro\" of database \"%s\"",
				 PQdb(conn));
		relay_log(RELAY_LOG_ERROR, "%s", s->err);
		relay_log_hint(RELAY_LOG_ERROR,
					   "Run CREATE EXTENSION wal2avro in that database, or set snapshot-mode = never to stream changes only.");
		*result = SNAPSHOT_FAILED_PG;
		PQclear(res);
		PQfinish(conn);
		return NULL;
	}
	PQclear(res);
	return conn;
}

/*
 * The plugin options as a text[] literal of name/value pairs ("{"a","b"}");
 * an option without a value gets NULL.  Returns a malloc'd string, or NULL
 * when out of memory.
 */
char *
snapshot_options_array(const RelaySettingList *options)
{
	size_t		cap = 16,
				len = 0,
				i;
	char	   *out = malloc(cap);

	if (out == NULL)
		return NULL;
	out[len++] = '{';
	for (i = 0; i < options->count * 2; i++)
	{
		const char *v = i % 2 == 0 ? options->items[i / 2].name : options->items[i / 2].value;
		size_t		need = v ? strlen(v) * 2 + 4 : 6;

		if (len + need + 2 > cap)
		{
			char	   *g;

			while (len + need + 2 > cap)
				cap *= 2;
			g = realloc(out, cap);
			if (g == NULL)
			{
				free(out);
				return NULL;
			}
			out = g;
		}
		if (i > 0)
			out[len++] = ',';
		if (v == NULL)
		{
			memcpy(out + len, "NULL", 4);
			len += 4;
			continue;
		}
		out[len++] = '"';
		for (; *v; v++)
		{
			if (*v == '"' || *v == '\\')
				out[len++] = '\\';
			out[len++] = *v;
		}
		out[len++] = '"';
	}
	out[len++] = '}';
	out[len] = '\0';
	return out;
}

/*
 * A failed query: an ERROR of the plugin or of a bad option (data
 * exception, feature not supported, syntax or access rule, a program limit
 * such as max-record-size) stops the relay; a lost connection or a
 * conflict is retried (pgerror.c decides).
 */
SnapshotFailure
snapshot_query_failed(SnapshotSink *s, PGconn *conn, const char *what, PGresult *res)
{
	snapshot_set_pg_error(s, what, conn);
	s->pgerr = pgerror_from_result(res);
	return s->pgerr.cls == PGERROR_PERMANENT ? SNAPSHOT_FAILED_PG : SNAPSHOT_FAILED_RETRY;
}

static void
log_table_progress(TableProgress *p, int64_t now, bool done)
{
	double		secs = (now - p->started_us) / 1e6;
	double		rate = secs > 0 ? p->rows / secs : 0.0;

	p->logged_us = now;
	if (done)
		relay_log(RELAY_LOG_INFO, "snapshot %s.%s: %" PRIu64 " rows done in %.1f s, %.0f rows/s",
				  p->schema, p->table, p->rows, secs, rate);
	else if (p->estimated > 0)
	{
		double		pct = 100.0 * p->rows / p->estimated;
		double		eta = rate > 0 && (double) p->estimated > p->rows ?
			(p->estimated - (double) p->rows) / rate : 0.0;

		relay_log(RELAY_LOG_INFO,
				  "snapshot %s.%s: %" PRIu64 "/%" PRId64 " rows (%.0f%%), %.0f rows/s, ETA %.0f s",
				  p->schema, p->table, p->rows, p->estimated, pct > 100 ? 100.0 : pct, rate, eta);
	}
	else
		relay_log(RELAY_LOG_INFO, "snapshot %s.%s: %" PRIu64 " rows, %.0f rows/s",
				  p->schema, p->table, p->rows, rate);
}

/*
 * Give one frame to writer_handle_frame, serving producer events while it
 * waits for room or for its schema, and while too much is in flight.
 * Returns 0, or -1 with *result and s->err set.
 */
static int
handle_frame(SnapshotSink *s, const Frame *f, SnapshotFailure *result)
{
	WriterStage stage = WRITER_STAGE_NONE;
	WriterResult rc;

	while (writer_stats(s->records)->in_flight_bytes > s->cfg->max_in_flight_bytes ||
		   producer_outq_len(s->producer) > MAX_QUEUED_RECORDS)
	{
		producer_poll(s->producer, 100);
		if (snapshot_must_leave(s, result))
			return -1;
	}
	while ((rc = writer_handle_frame(s->records, f, &stage, s->err, sizeof(s->err))) == WRITER_WAIT)
	{
		producer_poll(s->producer, 10);
		if (snapshot_must_leave(s, result))
			return -1;
	}
	if (rc == WRITER_OK)
	{
		producer_poll(s->producer, 0);
		return 0;
	}
	if (rc == WRITER_FAILED)
	{
		writer_failed(s->records, s->err, sizeof(s->err));
		*result = SNAPSHOT_FAILED_KAFKA;
	}
	else
		*result = SNAPSHOT_FAILED_RETRY;
	return -1;
}

/* Read one table through a cursor.  Returns 0, or -1 with *result set. */
static int
read_table(SnapshotSink *s, PGconn *conn, const char *relid, const char *opts,
		   TableProgress *p, SnapshotFailure *result)
{
	const char *params[2] = {relid, opts};
	PGresult   *res;

	res = PQexecParams(conn, "DECLARE " CURSOR_NAME " NO SCROLL CURSOR FOR "
					   "SELECT wal2avro.snapshot_frames($1::pg_catalog.oid::pg_catalog.regclass, $2::pg_catalog.text[])",
					   2, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
	{
		*result = snapshot_query_failed(s, conn, "could not start reading the table", res);
		PQclear(res);
		return -1;
	}
	PQclear(res);

	for (;;)
	{
		int			n,
					i;
		int64_t		now;

		res = PQexecParams(conn, "FETCH 1000 FROM " CURSOR_NAME,
						   0, NULL, NULL, NULL, NULL, 1);
		if (PQresultStatus(res) != PGRES_TUPLES_OK)
		{
			*result = snapshot_query_failed(s, conn, "could not read the table", res);
			PQclear(res);
			return -1;
		}
		n = PQntuples(res);
		for (i = 0; i < n; i++)
		{
			Frame		f;

			if (frames_parse((const uint8_t *) PQgetvalue(res, i, 0),
							 (size_t) PQgetlength(res, i, 0), &f, s->err, sizeof(s->err)) != 0)
			{
				*result = SNAPSHOT_FAILED_PG;
				PQclear(res);
				return -1;
			}
			if (handle_frame(s, &f, result) != 0)
			{
				PQclear(res);
				return -1;
			}
			if (f.kind == W2A_FRAME_CHANGE)
				p->rows++;
		}
		PQclear(res);
		now = relay_now_us();
		metrics_set_snapshot_rows(s->metrics, p->schema, p->table, p->rows, p->estimated);
		if (n < FETCH_ROWS)
			break;
		if (now - p->logged_us >= PROGRESS_EVERY_US)
			log_table_progress(p, now, false);
		if (snapshot_must_leave(s, result))
			return -1;
	}
	res = PQexec(conn, "CLOSE " CURSOR_NAME);
	PQclear(res);
	log_table_progress(p, relay_now_us(), true);
	return 0;
}

/*
 * Read every captured table under the exported snapshot "snapshot_name"
 * of the slot created at "start", produce the records as one tracker
 * transaction committing at start, wait until all are acknowledged, then
 * mark the snapshot done.  Every table is locked before the first row is
 * read.  conn comes from snapshot_connect and is closed here.  The
 * replication connection must run no command meanwhile.  Returns 0;
 * SNAPSHOT_STALE, with the reason in s->err, when a table was rewritten
 * after the export (nothing was read: the caller takes a new slot); or -1
 * with *result and s->err set: a snapshot left unfinished is done again by
 * the next run (see the markers above).
 */
int
snapshot_run(SnapshotSink *s, PGconn *conn, const char *snapshot_name, Lsn start,
			 const RelaySettingList *options, SnapshotFailure *result)
{
	char	   *opts = snapshot_options_array(options);
	char	   *lit = NULL;
	SnapshotDebezium dbz = {NULL, NULL, -1};
	char		marker[64];
	PGresult   *res = NULL;
	PGresult   *tables = NULL;
	bool	   *gone = NULL;
	Frame		f;
	int			i,
				rc,
				ntables,
				nread = 0;
	uint64_t	total = 0;
	int64_t		began = relay_now_us();
	double		secs;

	*result = SNAPSHOT_FAILED_RETRY;
	if (opts == NULL || (lit = PQescapeLiteral(conn, snapshot_name, strlen(snapshot_name))) == NULL)
	{
		snprintf(s->err, sizeof(s->err), "out of memory");
		goto failed;
	}

	snprintf(marker, sizeof(marker), "started " LSN_FMT, LSN_ARGS(start));
	if (send_marker(s, start, marker, result) != 0)
		goto failed;
	rc = snapshot_open_tables(s, conn, lit, opts, &tables, &gone, result);
	if (rc == SNAPSHOT_STALE)
	{
		PQfreemem(lit);
		free(opts);
		PQfinish(conn);
		return SNAPSHOT_STALE;
	}
	if (rc != 0)
		goto failed;
	if (snapshot_options_debezium(options) &&
		snapshot_debezium_prepare(s, conn, tables, gone, options, opts, start, &dbz, result) != 0)
		goto failed;
	ntables = PQntuples(tables);
	for (i = 0; i < ntables; i++)
		nread += gone[i] ? 0 : 1;

	relay_log(RELAY_LOG_INFO, "snapshot of %d tables at " LSN_FMT " (exported snapshot %s), all locked",
			  nread, LSN_ARGS(start), snapshot_name);

	memset(&f, 0, sizeof(f));
	f.kind = W2A_FRAME_BEGIN;
	f.begin.commit_lsn = start;
	f.begin.commit_time = relay_wall_now_us();
	if (handle_frame(s, &f, result) != 0)
		goto failed;

	for (i = 0; i < ntables; i++)
	{
		TableProgress p = {0};

		if (gone[i])
			continue;
		p.schema = PQgetvalue(tables, i, 1);
		p.table = PQgetvalue(tables, i, 2);
		p.estimated = strtoll(PQgetvalue(tables, i, 3), NULL, 10);
		p.started_us = p.logged_us = relay_now_us();
		if (read_table(s, conn, PQgetvalue(tables, i, 0),
					   dbz.opts == NULL ? opts : i == dbz.last ? dbz.last_opts : dbz.opts,
					   &p, result) != 0)
		{
			char		why[sizeof(s->err)];

			snprintf(why, sizeof(why), "%s", s->err);
			snprintf(s->err, sizeof(s->err), "snapshot of table \"%s.%s\" interrupted: %.700s",
					 p.schema, p.table, why);
			goto failed;
		}
		total += p.rows;
	}

	memset(&f, 0, sizeof(f));
	f.kind = W2A_FRAME_COMMIT;
	f.commit.commit_lsn = start;
	f.commit.end_lsn = start;
	f.commit.commit_time = relay_wall_now_us();
	if (handle_frame(s, &f, result) != 0)
		goto failed;
	res = PQexec(conn, "COMMIT");
	PQclear(res);
	res = NULL;
	PQfinish(conn);
	conn = NULL;

	if (wait_acknowledged(s, result) != 0)
		goto failed;
	snprintf(marker, sizeof(marker), "done " LSN_FMT, LSN_ARGS(start));
	if (send_marker(s, start, marker, result) != 0)
		goto failed;
	secs = (relay_now_us() - began) / 1e6;
	relay_log(RELAY_LOG_INFO, "snapshot done: %d tables, %" PRIu64 " rows in %.1f s (%.0f rows/s), all acknowledged",
			  nread, total, secs, secs > 0 ? total / secs : 0.0);
	PQclear(tables);
	free(gone);
	PQfreemem(lit);
	free(opts);
	snapshot_debezium_free(&dbz);
	return 0;

failed:
	snapshot_debezium_free(&dbz);
	PQclear(res);
	PQclear(tables);
	free(gone);
	if (lit)
		PQfreemem(lit);
	free(opts);
	if (conn)
		PQfinish(conn);
	return -1;
}
