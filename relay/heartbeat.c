/*-------------------------------------------------------------------------
 *
 * heartbeat.c
 *		Heartbeats: every heartbeat-interval, a logical message through the
 *		slot (and the optional heartbeat-action-query), on a connection of
 *		its own.
 *
 * The message comes back through the replication stream like any change
 * and is produced to the heartbeat topic, so consumers and dashboards see
 * the relay alive end to end, and the slot's position moves even when the
 * captured tables are quiet.  The query is sent without waiting for it
 * (PQsendQuery) and its results are collected on later passes, so a slow
 * database never stalls the relay loop.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/heartbeat.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "clock.h"
#include "config.h"
#include "heartbeat.h"
#include "log.h"
#include "stream.h"

struct Heartbeat
{
	const RelayConfig *cfg;
	PGconn	   *conn;
	bool		busy;			/* a heartbeat query is running */
	int64_t		next_us;		/* when the next one is due */
	int64_t		retry_us;		/* not before this after a failure */
	uint64_t	sent;
};

/* NULL when heartbeats are off (interval 0). */
Heartbeat *
heartbeat_create(const RelayConfig *cfg)
{
	Heartbeat  *hb;

	if (cfg->heartbeat_interval <= 0)
		return NULL;
	hb = calloc(1, sizeof(Heartbeat));
	if (hb)
		hb->cfg = cfg;
	return hb;
}

static void
drop_connection(Heartbeat *hb, const char *why)
{
	relay_log(RELAY_LOG_WARNING, "heartbeat: %s", why);
	if (hb->conn)
		PQfinish(hb->conn);
	hb->conn = NULL;
	hb->busy = false;
	hb->retry_us = relay_now_us() + 5 * 1000000LL;
}

static void
collect(Heartbeat *hb)
{
	PGresult   *res;

	if (!PQconsumeInput(hb->conn))
	{
		drop_connection(hb, PQerrorMessage(hb->conn));
		return;
	}
	while (!PQisBusy(hb->conn))
	{
		res = PQgetResult(hb->conn);
		if (res == NULL)
		{
			hb->busy = false;
			return;
		}
		if (PQresultStatus(res) != PGRES_TUPLES_OK &&
			PQresultStatus(res) != PGRES_COMMAND_OK)
			relay_log(RELAY_LOG_WARNING, "heartbeat query failed: %s",
					  PQresultErrorMessage(res));
		PQclear(res);
	}
}

/*
 * Send the heartbeat when due, collect what the last one returned.  Never
 * blocks on the query; connecting blocks (briefly, once) when due.
 */
void
heartbeat_poll(Heartbeat *hb)
{
	int64_t		now;
	char		sql[8192];

	if (hb == NULL)
		return;
	if (hb->busy)
	{
		collect(hb);
		if (hb->busy)
			return;
	}
	now = relay_now_us();
	if (now < hb->next_us || now < hb->retry_us)
		return;

	if (hb->conn == NULL)
	{
		hb->conn = stream_connect_plain(hb->cfg->dbname, hb->cfg->pg_password, "heartbeat");
		if (PQstatus(hb->conn) != CONNECTION_OK)
		{
			drop_connection(hb, PQerrorMessage(hb->conn));
			return;
		}
	}

	snprintf(sql, sizeof(sql),
			 "SELECT pg_catalog.pg_logical_emit_message(false, 'wal2avro.heartbeat', '%lld');%s",
			 (long long) (relay_wall_now_us() / 1000),
			 hb->cfg->heartbeat_action_query ? hb->cfg->heartbeat_action_query : "");
	if (!PQsendQuery(hb->conn, sql))
	{
		drop_connection(hb, PQerrorMessage(hb->conn));
		return;
	}
	hb->busy = true;
	hb->sent++;
	hb->next_us = now + (int64_t) hb->cfg->heartbeat_interval * 1000000;
	relay_log(RELAY_LOG_DEBUG, "heartbeat %llu sent", (unsigned long long) hb->sent);
}

void
heartbeat_free(Heartbeat *hb)
{
	if (hb == NULL)
		return;
	if (hb->conn)
		PQfinish(hb->conn);
	free(hb);
}
