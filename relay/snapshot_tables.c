/*-------------------------------------------------------------------------
 *
 * snapshot_tables.c
 *		The tables of the initial snapshot: import the exported snapshot,
 *		list what the plugin options publish, and lock every table before
 *		the first row is read, retrying a lock timeout with backoff.
 *
 * A table rewritten between the export and our lock (ALTER TABLE, TRUNCATE,
 * CLUSTER, VACUUM FULL) is seen by its new relfilenode: the snapshot is then
 * unreadable (SNAPSHOT_STALE).  One dropped or renamed meanwhile is looked
 * up again.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/snapshot_tables.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "clock.h"
#include "log.h"
#include "producer.h"
#include "snapshot.h"
#include "snapshot_internal.h"

#define LOCK_TIMEOUT		"5s"	/* per table, while taking the locks */
#define LOCK_ATTEMPTS		5	/* then the snapshot attempt fails */

/* How one attempt at locking every table ended */
typedef enum LockResult
{
	LOCK_OK,					/* every table locked (or gone), none rewritten */
	LOCK_BUSY,					/* a lock timeout or deadlock: wait, try again */
	LOCK_CHANGED,				/* a table dropped or renamed under us: try again */
	LOCK_STALE,					/* a table was rewritten since the export */
	LOCK_FAILED					/* *result and s->err are set */
} LockResult;

/* Roll the snapshot transaction back; the connection stays usable. */
static void
roll_back(PGconn *conn)
{
	PQclear(PQexec(conn, "ROLLBACK"));
}

/*
 * Begin the snapshot transaction, import the slot's snapshot, list the
 * tables into *tables.  Returns 0, or -1 with *result and s->err set.
 */
static int
import_and_list(SnapshotSink *s, PGconn *conn, const char *lit, const char *opts,
				PGresult **tables, SnapshotFailure *result)
{
	char		sql[256];
	const char *params[1] = {opts};
	PGresult   *res;

	res = PQexec(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
	{
		*result = snapshot_query_failed(s, conn, "could not begin the snapshot transaction", res);
		PQclear(res);
		return -1;
	}
	PQclear(res);
	snprintf(sql, sizeof(sql), "SET TRANSACTION SNAPSHOT %s", lit);
	res = PQexec(conn, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
	{
		snapshot_set_pg_error(s, "could not import the slot's snapshot", conn);
		*result = SNAPSHOT_FAILED_RETRY;
		PQclear(res);
		return -1;
	}
	PQclear(res);

	/*
	 * pg_class as of the snapshot; object_names comes from the catalog
	 * cache, so it is the table's name now (NULL: dropped since).
	 */
	*tables = PQexecParams(conn,
						   "SELECT c.oid, n.nspname, c.relname, wal2avro.snapshot_row_estimate(c.oid), "
						   "(pg_catalog.pg_identify_object_as_address('pg_catalog.pg_class'::pg_catalog.regclass, c.oid, 0)).object_names "
						   "FROM pg_catalog.pg_class c "
						   "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
						   "WHERE c.relkind = 'r' AND c.relpersistence = 'p' "
						   "AND n.nspname <> 'information_schema' AND n.nspname !~ '^pg_' "
						   "AND wal2avro.published(c.oid, $1::pg_catalog.text[]) "
						   "ORDER BY n.nspname COLLATE \"C\", c.relname COLLATE \"C\"",
						   1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(*tables) != PGRES_TUPLES_OK)
	{
		*result = snapshot_query_failed(s, conn, "could not list the tables to snapshot", *tables);
		PQclear(*tables);
		*tables = NULL;
		return -1;
	}
	return 0;
}

/*
 * The table's current name, quoted, from the text[] literal {schema,name}
 * into buf.  Returns false when the literal is not that.
 */
static bool
current_name(PGconn *conn, const char *names, char *buf, size_t len)
{
	char		part[2][256];
	int			n = 0;
	const char *p = names;

	if (*p++ != '{')
		return false;
	while (n < 2)
	{
		size_t		k = 0;
		bool		quoted = *p == '"';
		char	   *q;

		if (quoted)
			p++;
		while (*p && (quoted ? *p != '"' : (*p != ',' && *p != '}')))
		{
			if (quoted && *p == '\\' && p[1])
				p++;
			if (k + 1 >= sizeof(part[n]))
				return false;
			part[n][k++] = *p++;
		}
		part[n][k] = '\0';
		if (quoted && *p++ != '"')
			return false;
		if (*p != (n == 0 ? ',' : '}'))
			return false;
		p++;
		q = PQescapeIdentifier(conn, part[n], strlen(part[n]));
		if (q == NULL)
			return false;
		snprintf(part[n], sizeof(part[n]), "%s", q);
		PQfreemem(q);
		n++;
	}
	snprintf(buf, len, "%s.%s", part[0], part[1]);
	return true;
}

/*
 * Lock every listed table in ACCESS SHARE mode under lock_timeout, by its
 * current name (a table renamed since the export is still ours), then check
 * that no table was rewritten since the export: pg_class read under the
 * snapshot against pg_relation_filenode(), which after the lock reads the
 * current catalog.  gone[i] is set for a table dropped since the export.
 * *waited names the table a LOCK_BUSY or LOCK_CHANGED was about.
 */
static LockResult
lock_tables(SnapshotSink *s, PGconn *conn, PGresult *tables, bool *gone,
			char *waited, size_t waited_len, SnapshotFailure *result)
{
	int			ntables = PQntuples(tables),
				i;
	PGresult   *res;
	char		sql[700];
	char	   *oids;
	size_t		len = 0;
	const char *params[1];

	res = PQexec(conn, "SET LOCAL lock_timeout = '" LOCK_TIMEOUT "'");
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
	{
		*result = snapshot_query_failed(s, conn, "could not set lock_timeout", res);
		PQclear(res);
		return LOCK_FAILED;
	}
	PQclear(res);
	oids = malloc((size_t) ntables * 12 + 3);
	if (oids == NULL)
	{
		snprintf(s->err, sizeof(s->err), "out of memory");
		*result = SNAPSHOT_FAILED_RETRY;
		return LOCK_FAILED;
	}
	oids[len++] = '{';
	for (i = 0; i < ntables; i++)
	{
		const char *state;
		char		name[600];

		snprintf(waited, waited_len, "%s.%s", PQgetvalue(tables, i, 1), PQgetvalue(tables, i, 2));
		gone[i] = PQgetisnull(tables, i, 4);
		if (gone[i])
		{
			relay_log(RELAY_LOG_INFO, "snapshot: table \"%s\" was dropped after the snapshot was exported: gone, skipped",
					  waited);
			continue;
		}
		if (!current_name(conn, PQgetvalue(tables, i, 4), name, sizeof(name)))
		{
			snprintf(s->err, sizeof(s->err), "unexpected name of table \"%s\": %s",
					 waited, PQgetvalue(tables, i, 4));
			*result = SNAPSHOT_FAILED_RETRY;
			free(oids);
			return LOCK_FAILED;
		}
		len += (size_t) snprintf(oids + len, 13, "%s%s", len > 1 ? "," : "", PQgetvalue(tables, i, 0));
		snprintf(sql, sizeof(sql), "LOCK TABLE ONLY %s IN ACCESS SHARE MODE", name);
		res = PQexec(conn, sql);
		if (PQresultStatus(res) == PGRES_COMMAND_OK)
		{
			PQclear(res);
			continue;
		}
		state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		if (PQstatus(conn) == CONNECTION_OK && state != NULL &&
			(strcmp(state, "55P03") == 0 || strcmp(state, "40P01") == 0 ||
			 strcmp(state, "42P01") == 0))
		{
			/* lock_not_available, deadlock_detected, undefined_table */
			PQclear(res);
			free(oids);
			return strcmp(state, "42P01") == 0 ? LOCK_CHANGED : LOCK_BUSY;
		}
		*result = snapshot_query_failed(s, conn, "could not lock a table for the snapshot", res);
		PQclear(res);
		free(oids);
		return LOCK_FAILED;
	}
	oids[len++] = '}';
	oids[len] = '\0';
	PQclear(PQexec(conn, "SET LOCAL lock_timeout TO DEFAULT"));

	/* a name that now means another table: not locked under our oid */
	params[0] = oids;
	res = PQexecParams(conn,
					   "SELECT n.nspname || '.' || c.relname, "
					   "c.relfilenode IS DISTINCT FROM pg_catalog.pg_relation_filenode(c.oid), "
					   "NOT EXISTS (SELECT FROM pg_catalog.pg_locks l WHERE l.locktype = 'relation' "
					   "AND l.relation = c.oid AND l.pid = pg_catalog.pg_backend_pid() AND l.granted "
					   "AND l.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database())) "
					   "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
					   "WHERE c.oid = ANY ($1::pg_catalog.oid[])",
					   1, NULL, params, NULL, NULL, 0);
	free(oids);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		*result = snapshot_query_failed(s, conn, "could not check the tables of the snapshot", res);
		PQclear(res);
		return LOCK_FAILED;
	}
	for (i = 0; i < PQntuples(res); i++)
	{
		snprintf(waited, waited_len, "%s", PQgetvalue(res, i, 0));
		if (strcmp(PQgetvalue(res, i, 2), "t") == 0)
		{
			PQclear(res);
			return LOCK_CHANGED;
		}
		if (strcmp(PQgetvalue(res, i, 1), "t") == 0)
		{
			PQclear(res);
			return LOCK_STALE;
		}
	}
	PQclear(res);
	return LOCK_OK;
}

/* Wait secs seconds serving the producer.  Returns 0, or -1 with *result. */
static int
wait_serving(SnapshotSink *s, int secs, SnapshotFailure *result)
{
	int64_t		until = relay_now_us() + (int64_t) secs * 1000000;

	while (relay_now_us() < until)
	{
		producer_poll(s->producer, 100);
		if (snapshot_must_leave(s, result))
			return -1;
	}
	return 0;
}

/*
 * Import the snapshot, list the tables and lock them all, retrying a lock
 * timeout with backoff up to LOCK_ATTEMPTS times.  Returns 0 with *tables
 * and *gone (malloc'd) and the transaction open, SNAPSHOT_STALE when a
 * table was rewritten since the export, or -1 with *result and s->err set.
 */
int
snapshot_open_tables(SnapshotSink *s, PGconn *conn, const char *lit, const char *opts,
			  PGresult **tables, bool **gone, SnapshotFailure *result)
{
	int			attempt;
	int			backoff = 1;

	for (attempt = 1;; attempt++)
	{
		char		waited[600] = "";
		LockResult	lr;

		if (import_and_list(s, conn, lit, opts, tables, result) != 0)
			return -1;
		*gone = calloc((size_t) PQntuples(*tables) + 1, sizeof(bool));
		if (*gone == NULL)
		{
			snprintf(s->err, sizeof(s->err), "out of memory");
			*result = SNAPSHOT_FAILED_RETRY;
			return -1;
		}
		lr = lock_tables(s, conn, *tables, *gone, waited, sizeof(waited), result);
		if (lr == LOCK_OK)
			return 0;
		free(*gone);
		*gone = NULL;
		PQclear(*tables);
		*tables = NULL;
		if (lr == LOCK_FAILED)
			return -1;
		roll_back(conn);
		if (lr == LOCK_STALE)
		{
			snprintf(s->err, sizeof(s->err),
					 "table \"%s\" was rewritten (ALTER TABLE, TRUNCATE, CLUSTER or VACUUM FULL) after the slot exported its snapshot, which cannot read it any more",
					 waited);
			return SNAPSHOT_STALE;
		}
		if (attempt == LOCK_ATTEMPTS)
		{
			snprintf(s->err, sizeof(s->err),
					 "could not lock table \"%s\" for the initial snapshot in %d attempts (lock_timeout %s each)",
					 waited, LOCK_ATTEMPTS, LOCK_TIMEOUT);
			*result = SNAPSHOT_FAILED_RETRY;
			return -1;
		}
		if (lr == LOCK_CHANGED)
		{
			relay_log(RELAY_LOG_INFO, "snapshot: table \"%s\" was dropped or renamed while it was being locked: locking again (attempt %d of %d)",
					  waited, attempt + 1, LOCK_ATTEMPTS);
			continue;
		}
		relay_log(RELAY_LOG_WARNING, "snapshot: waited more than lock_timeout (%s) for table \"%s\": trying again in %d s (attempt %d of %d)",
				  LOCK_TIMEOUT, waited, backoff, attempt + 1, LOCK_ATTEMPTS);
		if (wait_serving(s, backoff, result) != 0)
			return -1;
		backoff *= 2;
	}
}
