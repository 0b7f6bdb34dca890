/*-------------------------------------------------------------------------
 *
 * snapshot_debezium.c
 *		compat=debezium: what the initial snapshot tells snapshot_frames()
 *		so that its rows carry what Debezium's snapshot rows carry.
 *
 * Debezium's snapshot rows hold in their Source the slot's consistent point
 * (lsn, sequence [null,"<lsn>"]) and the id of the snapshot transaction
 * (txId: Debezium asks txid_current() in it); and the last row of the whole
 * snapshot is marked "last", the last row read, even when the tables after
 * its own are empty.  The plugin reads one table a call and cannot know
 * these: the relay passes them as the plugin options snapshot-lsn,
 * snapshot-txid and, for the last table that has a row, snapshot-last-table.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/snapshot_debezium.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "lsn.h"
#include "snapshot.h"
#include "snapshot_internal.h"

/* Do the plugin options ask for Debezium's records?  Cannot fail. */
bool
snapshot_options_debezium(const RelaySettingList *options)
{
	size_t		i;

	for (i = 0; i < options->count; i++)
	{
		const RelaySetting *o = &options->items[i];

		if (strcmp(o->name, "compat") == 0 && o->value != NULL &&
			strcmp(o->value, "debezium") == 0)
			return true;
	}
	return false;
}

/*
 * The options with the extra name/value pairs after them, as a text[]
 * literal (snapshot_options_array).  Returns a malloc'd string, or NULL when
 * out of memory.
 */
static char *
options_with(const RelaySettingList *options, const RelaySetting *extra, size_t nextra)
{
	RelaySettingList all;
	char	   *lit;

	all.count = options->count + nextra;
	all.capacity = all.count;
	all.items = malloc((all.count + 1) * sizeof(RelaySetting));
	if (all.items == NULL)
		return NULL;
	if (options->count > 0)
		memcpy(all.items, options->items, options->count * sizeof(RelaySetting));
	memcpy(all.items + options->count, extra, nextra * sizeof(RelaySetting));
	lit = snapshot_options_array(&all);
	free(all.items);
	return lit;
}

/* The first column of a one-row query's result, into buf; -1 on failure */
static int
query_value(SnapshotSink *s, PGconn *conn, const char *sql, int nparams, const char *const *params,
			const char *what, char *buf, size_t len, SnapshotFailure *result)
{
	PGresult   *res = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);

	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
	{
		*result = snapshot_query_failed(s, conn, what, res);
		PQclear(res);
		return -1;
	}
	snprintf(buf, len, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return 0;
}

/*
 * Fill *d for the tables of an open snapshot transaction (tables and gone
 * as snapshot_open_tables gives them): the options of every table's read,
 * with snapshot-lsn "start" and snapshot-txid, those of the last table that
 * has a row, with snapshot-last-table too, and that table's index (-1:
 * every table is empty).  Asks txid_current() in the transaction (as
 * Debezium does: it gives the read-only transaction an xid; on a standby,
 * where no xid can be assigned, the snapshot's xmin instead); and whether a
 * table has a row through snapshot_frames(), from the last table back.
 * opts are the plain options as a literal.  Returns 0, or -1 with *result
 * and s->err set; snapshot_debezium_free releases *d either way.
 */
int
snapshot_debezium_prepare(SnapshotSink *s, PGconn *conn, PGresult *tables, const bool *gone,
						  const RelaySettingList *options, const char *opts, Lsn start,
						  SnapshotDebezium *d, SnapshotFailure *result)
{
	char		lsn[32];
	char		txid[32];
	RelaySetting extra[3];
	int			i;

	memset(d, 0, sizeof(*d));
	d->last = -1;
	if (query_value(s, conn,
					"SELECT CASE WHEN pg_catalog.pg_is_in_recovery() "
					"THEN pg_catalog.txid_snapshot_xmin(pg_catalog.txid_current_snapshot()) "
					"ELSE pg_catalog.txid_current() END", 0, NULL,
					"could not read the snapshot's transaction id", txid, sizeof(txid), result) != 0)
		return -1;
	snprintf(lsn, sizeof(lsn), LSN_FMT, LSN_ARGS(start));
	extra[0].name = "snapshot-lsn";
	extra[0].value = lsn;
	extra[1].name = "snapshot-txid";
	extra[1].value = txid;
	extra[2].name = "snapshot-last-table";
	extra[2].value = "true";
	d->opts = options_with(options, extra, 2);
	d->last_opts = options_with(options, extra, 3);
	if (d->opts == NULL || d->last_opts == NULL)
	{
		snprintf(s->err, sizeof(s->err), "out of memory");
		*result = SNAPSHOT_FAILED_RETRY;
		return -1;
	}

	for (i = PQntuples(tables) - 1; i >= 0; i--)
	{
		const char *params[2] = {PQgetvalue(tables, i, 0), opts};
		char		frames[32];

		if (gone[i])
			continue;
		/* the SCHEMA frame, then a first row if there is one */
		if (query_value(s, conn,
						"SELECT pg_catalog.count(*) FROM (SELECT wal2avro.snapshot_frames("
						"$1::pg_catalog.oid::pg_catalog.regclass, $2::pg_catalog.text[]) LIMIT 2) f",
						2, params, "could not look for the snapshot's last row",
						frames, sizeof(frames), result) != 0)
			return -1;
		if (strcmp(frames, "2") == 0)
		{
			d->last = i;
			break;
		}
	}
	return 0;
}

/* Release what snapshot_debezium_prepare allocated; *d may be zeroed. */
void
snapshot_debezium_free(SnapshotDebezium *d)
{
	free(d->opts);
	free(d->last_opts);
	d->opts = NULL;
	d->last_opts = NULL;
}
