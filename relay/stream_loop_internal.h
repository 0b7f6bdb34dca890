/*-------------------------------------------------------------------------
 *
 * stream_loop_internal.h
 *		What the files of the stream loop share: stream_loop.c (the loop)
 *		and stream_loop_start.c (the slot and the start position).
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/stream_loop_internal.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RELAY_STREAM_LOOP_INTERNAL_H
#define RELAY_STREAM_LOOP_INTERNAL_H

#include <libpq-fe.h>

#include "config.h"
#include "lsn.h"
#include "stream.h"
#include "stream_loop.h"

/* What a PostgreSQL failure classified in s->pgerr ends the run with. */
extern LoopResult loop_pg_failed(StreamLoop *s);

/*
 * Make sure the slot exists and its initial snapshot, if any, is complete;
 * *confirmed gets the position streaming starts from.  Returns 0, or -1
 * with *result and s->err set.  (stream_loop_start.c)
 */
extern int	loop_prepare_slot(StreamLoop *s, PGconn *conn, const StreamSystem *sys,
							  const RelaySettingList *opts, Lsn *confirmed, LoopResult *result);

/*
 * Decide where the stream starts, from the slot's confirmed position and
 * the stored one; returns what START_REPLICATION asks for.
 * (stream_loop_start.c)
 */
extern Lsn	loop_choose_start(StreamLoop *s, PGconn *conn, const StreamSystem *sys,
							  Lsn slot_confirmed);

#endif							/* RELAY_STREAM_LOOP_INTERNAL_H */
