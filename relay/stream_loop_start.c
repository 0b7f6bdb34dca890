/*-------------------------------------------------------------------------
 *
 * stream_loop_start.c
 *		Before the stream: the slot made ready (created with its initial
 *		snapshot, or a snapshot left unfinished taken again) and the start
 *		position chosen from the slot's and the stored one.
 *
 * The snapshot (snapshot.c) does not know the loop: it writes through a
 * SnapshotSink built here from the loop's writer, tracker and producer, and
 * asks snapshot_keep_going_cb whether to go on, which serves the loop's
 * duties meanwhile (log reopening, metrics) and says why it must stop.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/stream_loop_start.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "clock.h"
#include "config.h"
#include "kafka_writer.h"
#include "log.h"
#include "lsn.h"
#include "lsn_tracker.h"
#include "position.h"
#include "producer.h"
#include "snapshot.h"
#include "stream.h"
#include "stream_loop.h"
#include "stream_loop_internal.h"

#define SNAPSHOT_ATTEMPTS		5	/* new slots for a snapshot a rewrite spoiled */

/* What a snapshot's keep_going callback needs, and what it decided */
typedef struct SnapshotYield
{
	StreamLoop *s;
	LoopResult	result;			/* why the snapshot was told to leave */
} SnapshotYield;

/*
 * The snapshot's keep_going: reopen the log, publish the metrics when due,
 * and say stop on a stop request, a failed delivery, a batch to isolate or
 * a fatal producer error (the LoopResult kept in the SnapshotYield).
 */
static bool
snapshot_keep_going_cb(void *ctx, char *err, size_t errlen)
{
	SnapshotYield *y = ctx;
	StreamLoop *s = y->s;
	bool		leave = true;

	loop_reopen_log(s);
	if (*s->stop_requested)
	{
		snprintf(s->err, sizeof(s->err), "stop requested");
		y->result = LOOP_STOPPED;
	}
	else if (writer_failed(s->records, s->err, sizeof(s->err)))
		y->result = LOOP_FATAL_KAFKA;
	else if (writer_isolation_needed(s->records, s->err, sizeof(s->err)))
		y->result = LOOP_ISOLATE;
	else if (producer_fatal(s->producer, s->err, sizeof(s->err)))
		y->result = loop_producer_fatal(s);
	else
	{
		leave = false;
		if (s->metrics && relay_now_us() - s->metrics_at_us >= 1000000)
			loop_publish_metrics(s, false);
	}
	if (leave)
		snprintf(err, errlen, "%s", s->err);
	return !leave;
}

/* A sink for the snapshot into the loop's writer, carrying its error state. */
static void
snapshot_sink_open(StreamLoop *s, SnapshotSink *sink, SnapshotYield *y)
{
	y->s = s;
	y->result = LOOP_RETRY;
	sink->cfg = s->cfg;
	sink->records = s->records;
	sink->tracker = s->tracker;
	sink->producer = s->producer;
	sink->metrics = s->metrics;
	sink->keep_going = snapshot_keep_going_cb;
	sink->ctx = y;
	snprintf(sink->err, sizeof(sink->err), "%s", s->err);
	sink->pgerr = s->pgerr;
	sink->kafka_failed = s->kafka_failed;
}

/* After a snapshot call: take its error state back; the LoopResult of f. */
static LoopResult
snapshot_sink_close(StreamLoop *s, const SnapshotSink *sink, const SnapshotYield *y,
					SnapshotFailure f)
{
	snprintf(s->err, sizeof(s->err), "%s", sink->err);
	s->pgerr = sink->pgerr;
	s->kafka_failed = sink->kafka_failed;
	switch (f)
	{
		case SNAPSHOT_FAILED_PG:
			return LOOP_FATAL_PG;
		case SNAPSHOT_FAILED_KAFKA:
			return LOOP_FATAL_KAFKA;
		case SNAPSHOT_FAILED_YIELD:
			return y->result;
		case SNAPSHOT_FAILED_RETRY:
			break;
	}
	return LOOP_RETRY;
}

/*
 * Create the slot, exporting its snapshot and reading every table under it
 * when snapshot-mode asks for it.  A snapshot that a table rewrite made
 * unreadable (SNAPSHOT_STALE) is dropped with its slot and taken again on a
 * new one, SNAPSHOT_ATTEMPTS times at most.  Returns 0, or -1 with *result
 * and s->err set.
 */
static int
create_slot(StreamLoop *s, PGconn *conn, const RelaySettingList *opts, Lsn *confirmed,
			LoopResult *result)
{
	bool		snapshot = s->cfg->snapshot_mode != RELAY_SNAPSHOT_NEVER;
	int			attempt;

	for (attempt = 1;; attempt++)
	{
		bool		created = false;
		char		name[256] = "";
		PGconn	   *reader = NULL;
		int			rc;
		SnapshotSink sink;
		SnapshotYield y;
		SnapshotFailure failure = SNAPSHOT_FAILED_RETRY;

		if (snapshot)
		{
			/* before the slot exists: a missing extension creates nothing */
			snapshot_sink_open(s, &sink, &y);
			reader = snapshot_connect(&sink, &failure);
			*result = snapshot_sink_close(s, &sink, &y, failure);
			if (reader == NULL)
				return -1;
			/* again before each new slot: "started" names the one dropped */
			snapshot_sink_open(s, &sink, &y);
			rc = snapshot_mark_creating(&sink, &failure);
			*result = snapshot_sink_close(s, &sink, &y, failure);
			if (rc != 0)
			{
				PQfinish(reader);
				return -1;
			}
		}
		if (stream_ensure_slot(conn, s->cfg->slot, true, s->cfg->failover_slot,
							   snapshot ? name : NULL, sizeof(name), confirmed, &created,
							   s->err, sizeof(s->err), &s->pgerr) != 0)
		{
			PQfinish(reader);
			*result = loop_pg_failed(s);
			return -1;
		}
		relay_log(RELAY_LOG_INFO, "created replication slot \"%s\" at " LSN_FMT "%s",
				  s->cfg->slot, LSN_ARGS(*confirmed),
				  s->cfg->failover_slot ? " (a failover slot)" : "");
		if (created)
			s->slot_created = true; /* a stored position is of an older slot */
		if (!snapshot)
			return 0;
		if (!created || name[0] == '\0')
		{
			PQfinish(reader);
			snprintf(s->err, sizeof(s->err), "replication slot \"%s\" exported no snapshot", s->cfg->slot);
			*result = LOOP_RETRY;
			return -1;
		}
		lsn_tracker_note_wal_end(s->tracker, *confirmed);
		snapshot_sink_open(s, &sink, &y);
		rc = snapshot_run(&sink, reader, name, *confirmed, opts, &failure);
		*result = snapshot_sink_close(s, &sink, &y, failure);
		if (rc == 0)
			return 0;
		if (rc != SNAPSHOT_STALE)
		{
			if (*result == LOOP_STOPPED)
				relay_log(RELAY_LOG_INFO, "initial snapshot interrupted by the stop request: it is done again at the next start");
			return -1;
		}
		if (attempt == SNAPSHOT_ATTEMPTS)
		{
			char		why[sizeof(s->err)];

			snprintf(why, sizeof(why), "%s", s->err);
			snprintf(s->err, sizeof(s->err), "initial snapshot not taken in %d attempts: %.700s",
					 SNAPSHOT_ATTEMPTS, why);
			*result = LOOP_RETRY;
			return -1;
		}
		relay_log(RELAY_LOG_INFO, "%s: dropping slot \"%s\" and taking a new snapshot (attempt %d of %d)",
				  s->err, s->cfg->slot, attempt + 1, SNAPSHOT_ATTEMPTS);
		if (stream_drop_slot(conn, s->cfg->slot, s->err, sizeof(s->err)) != 0)
		{
			*result = LOOP_RETRY;
			return -1;
		}
	}
}

/*
 * A slot of this name is missing on server "sys": may the relay create it?
 * Not when the state topic holds a position confirmed on a slot of this
 * name of the same system (its timeline aside: a standby promoted after a
 * failover has the old primary's system identifier), unless recreate-slot
 * says so: the slot was lost (not synchronized to this standby before the
 * failover, or dropped), and a new one would start at the WAL's end,
 * skipping every change since that position.  Returns true, or false with
 * the refusal logged and in s->err.
 */
static bool
may_create_slot(StreamLoop *s, const StreamSystem *sys)
{
	const PositionRecord *stored = position_known(s->position);

	if (s->cfg->recreate_slot || !stored->valid || strcmp(stored->sysid, sys->sysid) != 0 ||
		strcmp(stored->slot, s->cfg->slot) != 0)
		return true;
	snprintf(s->err, sizeof(s->err),
			 "replication slot \"%s\" does not exist on this server, but the relay confirmed changes from it up to " LSN_FMT " (system %s, timeline %u): it was not synchronized to this server before a failover, or it was dropped",
			 s->cfg->slot, LSN_ARGS(stored->lsn), stored->sysid, stored->timeline);
	s->pgerr.cls = PGERROR_PERMANENT;
	relay_log(RELAY_LOG_ERROR, "%s", s->err);
	relay_log_hint(RELAY_LOG_ERROR, "A new slot would start at the current end of the WAL and skip every change since " LSN_FMT ", so the relay does not create one. To keep a slot across a failover, run the relay with failover-slot and the standby with sync_replication_slots (PostgreSQL 17+). To start anyway with a new slot, accepting the gap (re-snapshot the tables), run the relay once with --recreate-slot or create the slot yourself.",
				   LSN_ARGS(stored->lsn));
	return false;
}

/*
 * Make sure the slot exists and its initial snapshot, if any, is complete:
 * create it (with its snapshot) when missing and may_create_slot allows it;
 * when the state topic shows a snapshot left unfinished on a slot that has
 * not moved since, drop the slot and create it again, since nothing past
 * its start was ever confirmed.  *confirmed gets the position streaming
 * starts from.  Returns 0, or -1 with *result and s->err set.
 */
int
loop_prepare_slot(StreamLoop *s, PGconn *conn, const StreamSystem *sys,
				  const RelaySettingList *opts, Lsn *confirmed, LoopResult *result)
{
	bool		created = false;
	SnapshotState state;
	Lsn			marked = INVALID_LSN;
	int			rc;

	rc = stream_ensure_slot(conn, s->cfg->slot, false, s->cfg->failover_slot, NULL, 0,
							confirmed, &created, s->err, sizeof(s->err), &s->pgerr);
	if (rc == STREAM_SLOT_MISSING && s->cfg->create_slot)
	{
		if (!may_create_slot(s, sys))
		{
			*result = LOOP_FATAL_PG;
			return -1;
		}
		return create_slot(s, conn, opts, confirmed, result);
	}
	if (rc != 0)
	{
		*result = loop_pg_failed(s);
		return -1;
	}
	if (s->cfg->snapshot_mode == RELAY_SNAPSHOT_NEVER)
		return 0;

	if (snapshot_read_state(s->cfg, &state, &marked, s->err, sizeof(s->err)) != 0)
	{
		char		why[sizeof(s->err)];

		snprintf(why, sizeof(why), "%s", s->err);
		snprintf(s->err, sizeof(s->err), "could not read state topic \"%s\": %.700s",
				 s->cfg->state_topic, why);
		s->kafka_failed = true;
		*result = LOOP_RETRY;
		return -1;
	}
	if (state == SNAPSHOT_STATE_NONE || state == SNAPSHOT_STATE_DONE)
	{
		if (state == SNAPSHOT_STATE_DONE)
			relay_log(RELAY_LOG_DEBUG, "initial snapshot of slot \"%s\" was done at " LSN_FMT,
					  s->cfg->slot, LSN_ARGS(marked));
		return 0;
	}
	if (state == SNAPSHOT_STATE_STARTED && *confirmed != marked)
	{
		relay_log(RELAY_LOG_WARNING, "initial snapshot of slot \"%s\" at " LSN_FMT " was not finished, but the slot has moved to " LSN_FMT ": streaming from there",
				  s->cfg->slot, LSN_ARGS(marked), LSN_ARGS(*confirmed));
		relay_log_hint(RELAY_LOG_WARNING, "Something else advanced the slot; drop it to take a new snapshot.");
		return 0;
	}
	if (!s->cfg->create_slot)
	{
		snprintf(s->err, sizeof(s->err),
				 "initial snapshot of slot \"%s\" was interrupted, and create-slot is off so it cannot be redone",
				 s->cfg->slot);
		*result = LOOP_FATAL_PG;
		return -1;
	}
	relay_log(RELAY_LOG_INFO, "initial snapshot of slot \"%s\" was interrupted (slot still at " LSN_FMT "): dropping the slot and taking the snapshot again",
			  s->cfg->slot, LSN_ARGS(*confirmed));
	if (stream_drop_slot(conn, s->cfg->slot, s->err, sizeof(s->err)) != 0)
	{
		*result = LOOP_RETRY;
		return -1;
	}
	return create_slot(s, conn, opts, confirmed, result);
}

/*
 * Is the stored position, of an older timeline of this system, on this
 * server's history (a standby promoted since it was confirmed)?  Asks the
 * server for its timeline's history; false when it cannot say.
 */
static bool
stored_on_history(PGconn *conn, const StreamSystem *sys, const PositionRecord *stored)
{
	char		why[256];
	char	   *history;
	bool		on;

	if (!stored->valid || strcmp(stored->sysid, sys->sysid) != 0 ||
		stored->timeline >= sys->timeline)
		return false;
	history = stream_timeline_history(conn, sys->timeline, why, sizeof(why));
	if (history == NULL)
	{
		relay_log(RELAY_LOG_WARNING, "%s: the confirmed position of timeline %u is not used", why,
				  stored->timeline);
		return false;
	}
	on = position_on_history(history, stored->timeline, stored->lsn);
	free(history);
	return on;
}

/*
 * Decide where the stream starts, from the slot's confirmed position and the
 * stored one, and say so when they differ.  Returns what START_REPLICATION
 * asks for.
 */
Lsn
loop_choose_start(StreamLoop *s, PGconn *conn, const StreamSystem *sys, Lsn slot_confirmed)
{
	const PositionRecord *stored = s->slot_created ? NULL : position_known(s->position);
	bool		on_history = stored && stored_on_history(conn, sys, stored);
	PositionStart st = position_decide(stored, sys->sysid, sys->timeline, on_history,
									   s->cfg->slot, slot_confirmed, sys->flush);

	if (on_history)
		relay_log(RELAY_LOG_INFO, "confirmed position " LSN_FMT " of timeline %u is on this server's timeline %u (a promoted standby)",
				  LSN_ARGS(stored->lsn), stored->timeline, sys->timeline);
	switch (st.verdict)
	{
		case POSITION_NONE:
		case POSITION_AT_SLOT:
			break;
		case POSITION_OTHER_SERVER:
			relay_log(RELAY_LOG_INFO, "confirmed position " LSN_FMT " is of system %s timeline %u slot \"%s\", not of this one (system %s timeline %u): starting at the slot's",
					  LSN_ARGS(stored->lsn), stored->sysid, stored->timeline, stored->slot,
					  sys->sysid, sys->timeline);
			break;
		case POSITION_AHEAD_OF_WAL:
			relay_log(RELAY_LOG_WARNING, "confirmed position " LSN_FMT " of slot \"%s\" is past the server's WAL end " LSN_FMT ": starting at the slot's " LSN_FMT,
					  LSN_ARGS(stored->lsn), s->cfg->slot, LSN_ARGS(sys->flush),
					  LSN_ARGS(slot_confirmed));
			relay_log_hint(RELAY_LOG_WARNING, "Was the server restored from a backup? Records after the slot's position may come again.");
			break;
		case POSITION_AHEAD_OF_SLOT:
			relay_log(RELAY_LOG_INFO, "slot \"%s\" is confirmed at " LSN_FMT " only, behind the relay's confirmed position " LSN_FMT " (the server lost confirmations in a crash): starting at " LSN_FMT,
					  s->cfg->slot, LSN_ARGS(slot_confirmed), LSN_ARGS(stored->lsn),
					  LSN_ARGS(st.from));
			break;
	}
	position_begin(s->position, sys->sysid, sys->timeline, st.from, s->slot_created);
	s->skip_before = st.skip_before;
	/* idle here: a snapshot and its markers are acknowledged before */
	if (lsn_tracker_idle(s->tracker))
		lsn_tracker_restart(s->tracker, st.from);
	else
		lsn_tracker_note_wal_end(s->tracker, st.from);
	s->received = st.from;
	s->server_end = st.from;
	return st.request;
}
