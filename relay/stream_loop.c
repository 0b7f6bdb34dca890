/*-------------------------------------------------------------------------
 *
 * stream_loop.c
 *		The relay loop: one replication stream into Kafka, from connect to
 *		a clean stop, confirming only what the broker acknowledged.
 *
 * Single-threaded: delivery reports arrive on our thread inside
 * producer_poll, so the tracker needs no lock.  Each pass serves Kafka
 * events, sends a status update when due (flush = the tracker's safe LSN,
 * never more), then reads one message unless the producer is backed up, in
 * which case it only keeps the connection alive with status updates.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/stream_loop.c
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "clock.h"
#include "config.h"
#include "frames.h"
#include "kafka_writer.h"
#include "log.h"
#include "lsn.h"
#include "lsn_tracker.h"
#include "position.h"
#include "producer.h"
#include "stream.h"
#include "stream_loop.h"
#include "stream_loop_internal.h"
#include "topic_reader.h"
#include "wal2avro_protocol.h"

#define STATUS_MIN_GAP_US		(200 * 1000)	/* confirm progress this often at most */
#define PROGRESS_EVERY_US		(10 * 1000000LL)
#define STOP_FLUSH_US			(30 * 1000000LL)
#define BLOCKED_STATUS_US		(1000000LL)	/* status updates while not reading */
#define READ_BATCH				256 /* frames read in a row while data flows */

static bool
has_option(const RelaySettingList *l, const char *name)
{
	size_t		i;

	for (i = 0; i < l->count; i++)
	{
		if (strcmp(l->items[i].name, name) == 0)
			return true;
	}
	return false;
}

/* The plugin options we send: the user's, plus protocol and prefix */
static int
build_options(const RelayConfig *cfg, RelaySettingList *out)
{
	size_t		n = cfg->plugin_options.count + 2,
				i;

	out->items = calloc(n, sizeof(RelaySetting));
	out->count = 0;
	out->capacity = n;
	if (out->items == NULL)
		return -1;
	for (i = 0; i < cfg->plugin_options.count; i++)
		out->items[out->count++] = cfg->plugin_options.items[i];
	if (!has_option(&cfg->plugin_options, "protocol-version"))
		out->items[out->count++] = (RelaySetting) {"protocol-version", "1"};
	if (!has_option(&cfg->plugin_options, "topic-prefix"))
		out->items[out->count++] = (RelaySetting) {"topic-prefix", cfg->topic_prefix};
	return 0;
}

/*
 * The position we may confirm: what the broker acknowledged, but not past
 * an on-demand snapshot still being read.
 */
static Lsn
confirmable(const StreamLoop *s)
{
	Lsn			safe = lsn_tracker_safe_lsn(s->tracker);
	Lsn			hold = ondemand_hold(s->ondemand);

	return hold != INVALID_LSN && hold < safe ? hold : safe;
}

/* ... and already on the state topic: what the next status update confirms */
static Lsn
flushable(const StreamLoop *s)
{
	Lsn			c = confirmable(s);
	Lsn			limit = position_limit(s->position);

	return limit < c ? limit : c;
}

static int
send_status(StreamLoop *s, PGconn *conn, bool reply)
{
	Lsn			flush = flushable(s);
	Lsn			write = s->received > flush ? s->received : flush;

	if (stream_send_status(conn, write, flush, reply, s->err, sizeof(s->err)) != 0)
		return -1;
	if (flush != s->last_flush)
		relay_log(RELAY_LOG_DEBUG, "confirmed " LSN_FMT, LSN_ARGS(flush));
	s->last_flush = flush;
	s->last_status_us = relay_now_us();
	return 0;
}

static void
log_progress(StreamLoop *s, int64_t now)
{
	const WriterStats *st = writer_stats(s->records);
	LsnTrackerCounts c = lsn_tracker_in_flight(s->tracker);
	Lsn			safe = flushable(s);
	double		secs = (now - s->progress_at_us) / 1e6;
	uint64_t	lag = s->server_end > safe ? s->server_end - safe : 0;

	relay_log(RELAY_LOG_INFO,
			  "confirmed " LSN_FMT ", %llu records in flight, %.0f records/s, lag %llu bytes",
			  LSN_ARGS(safe), (unsigned long long) c.records,
			  secs > 0 ? (st->records_produced - s->progress_records) / secs : 0.0,
			  (unsigned long long) lag);
	s->progress_at_us = now;
	s->progress_records = st->records_produced;
}

/*
 * Stop cleanly: wait (bounded) for what is in flight, keep the server
 * informed meanwhile, send the final position, end the stream.
 */
static void
shut_down(StreamLoop *s, PGconn *conn)
{
	int64_t		deadline = relay_now_us() + STOP_FLUSH_US;

	while (producer_outq_len(s->producer) > 0 && relay_now_us() < deadline)
	{
		producer_poll(s->producer, 100);
		if (relay_now_us() - s->last_status_us > 1000000 &&
			send_status(s, conn, false) != 0)
			break;
		if (writer_failed(s->records, s->err, sizeof(s->err)))
			break;
	}
	if (producer_outq_len(s->producer) > 0)
		relay_log(RELAY_LOG_WARNING, "%d records still in flight at stop: they were not confirmed and will be sent again",
				  producer_outq_len(s->producer));
	/* the last position on the state topic before it goes to the server */
	while (relay_now_us() < deadline)
	{
		WriterResult rc = position_step(s->position, s->records, confirmable(s), true,
										 s->err, sizeof(s->err));

		if (rc == WRITER_FAILED || rc == WRITER_ERROR ||
			position_settled(s->position, confirmable(s)) ||
			writer_failed(s->records, s->err, sizeof(s->err)))
			break;
		producer_poll(s->producer, 100);
	}
	if (!position_settled(s->position, confirmable(s)))
		relay_log(RELAY_LOG_WARNING, "the position " LSN_FMT " did not reach state topic \"%s\": confirming " LSN_FMT " only",
				  LSN_ARGS(confirmable(s)), s->cfg->state_topic,
				  LSN_ARGS(flushable(s)));
	if (send_status(s, conn, false) != 0)
		relay_log(RELAY_LOG_WARNING, "%s", s->err);
	relay_log(RELAY_LOG_INFO, "stopped at confirmed position " LSN_FMT,
			  LSN_ARGS(flushable(s)));
	stream_finish(conn);
}

/*
 * Serve Kafka for up to 100 ms while nothing can be read.  Reading nothing,
 * we see no keepalive request either: a status update every second keeps
 * wal_sender_timeout from firing.  Returns -1 when that update failed.
 */
static int
wait_for_room(StreamLoop *s, PGconn *conn)
{
	if (relay_now_us() - s->last_status_us >= BLOCKED_STATUS_US &&
		send_status(s, conn, false) != 0)
		return -1;
	producer_send_now(s->producer, false);
	stream_wait(NULL, producer_event_fd(s->producer), 100);
	return 0;
}

/*
 * Is this frame part of what the relay confirmed before (skip_before), and
 * so already in Kafka?  Then it is not produced again.  A covered
 * transaction's BEGIN and COMMIT still go through (an empty transaction of
 * the tracker), and so do SCHEMA frames, which later transactions need.
 */
static bool
skip_confirmed(StreamLoop *s, const Frame *f)
{
	switch (f->kind)
	{
		case W2A_FRAME_BEGIN:
			s->skipping_txn = position_covers(s->skip_before, f->begin.commit_lsn);
			if (!s->skipping_txn && s->skipped_txns > 0)
			{
				relay_log(RELAY_LOG_INFO, "skipped %llu transactions committed before " LSN_FMT ": they are in Kafka already",
						  (unsigned long long) s->skipped_txns, LSN_ARGS(s->skip_before));
				s->skipped_txns = 0;
			}
			return false;
		case W2A_FRAME_CHANGE:
			/* compat=debezium's non-transactional message: alone, as below */
			return f->change.non_transactional ?
				position_covers(s->skip_before, f->change.lsn) : s->skipping_txn;
		case W2A_FRAME_TRUNCATE:
			return s->skipping_txn;
		case W2A_FRAME_MESSAGE:
			return f->message.transactional ? s->skipping_txn :
				position_covers(s->skip_before, f->message.lsn);
		default:
			return false;
	}
}

/*
 * The LSN of a frame that is a transaction of its own: a non-transactional
 * message (a MESSAGE frame, or compat=debezium's CHANGE with the flag
 * NON_TRANSACTIONAL); INVALID_LSN for any other frame.
 */
static Lsn
lone_lsn(const Frame *f)
{
	if (f->kind == W2A_FRAME_MESSAGE && !f->message.transactional)
		return f->message.lsn;
	if (f->kind == W2A_FRAME_CHANGE && f->change.non_transactional)
		return f->change.lsn;
	return INVALID_LSN;
}

/* Process one XLogData payload (one frame).  Returns RECORDS_* */
static WriterResult
process(StreamLoop *s, char *err, size_t errlen)
{
	Frame		f;
	WriterResult rc;
	Lsn			lone;

	if (frames_parse(s->pending.payload, s->pending.payload_len, &f, err, errlen) != 0)
	{
		s->pgerr.cls = PGERROR_REPEATABLE;
		return WRITER_ERROR;
	}
	lone = lone_lsn(&f);
	if (s->pending_stage == WRITER_STAGE_NONE)
	{
		if (f.kind == W2A_FRAME_BEGIN)
			s->stream_pos = f.begin.commit_lsn;
		else if (lone != INVALID_LSN && lone > s->stream_pos)
			s->stream_pos = lone;
	}
	if (s->cfg->endpos != INVALID_LSN && s->pending_stage == WRITER_STAGE_NONE &&
		((f.kind == W2A_FRAME_BEGIN && f.begin.commit_lsn > s->cfg->endpos) ||
		 (lone != INVALID_LSN && lone > s->cfg->endpos)))
	{
		s->endpos_reached = true;
		return WRITER_OK;
	}
	if (s->pending_stage == WRITER_STAGE_NONE && skip_confirmed(s, &f))
		return WRITER_OK;
	/* a request or watermark of an on-demand snapshot is not produced */
	if (s->pending_stage == WRITER_STAGE_NONE && ondemand_observe(s->ondemand, &f))
		return WRITER_OK;
	rc = writer_handle_frame(s->records, &f, &s->pending_stage, err, errlen);
	if (rc == WRITER_OK && f.kind == W2A_FRAME_COMMIT && s->skipping_txn)
	{
		s->skipping_txn = false;
		s->skipped_txns++;
	}
	if (rc == WRITER_ERROR)
		s->pgerr.cls = PGERROR_REPEATABLE;	/* the same frame comes again */
	else if (rc != WRITER_WAIT && f.kind == W2A_FRAME_COMMIT)
		s->stream_pos = f.commit.end_lsn;
	return rc;
}

/* What a PostgreSQL failure classified in s->pgerr ends the run with */
LoopResult
loop_pg_failed(StreamLoop *s)
{
	return s->pgerr.cls == PGERROR_PERMANENT ? LOOP_FATAL_PG : LOOP_RETRY;
}

static void
drop_pending(StreamLoop *s)
{
	if (s->pending_buf)
		PQfreemem(s->pending_buf);
	s->pending_buf = NULL;
	s->pending_stage = WRITER_STAGE_NONE;
}

/*
 * Publish the loop's state to the metrics endpoint.  Cheap, but called at
 * most every second from the loop (and at state changes).
 */
void
loop_publish_metrics(StreamLoop *s, bool streaming)
{
	MetricsSnapshot snap = {0};
	const WriterStats *st = writer_stats(s->records);
	LsnTrackerCounts c = lsn_tracker_in_flight(s->tracker);

	if (s->metrics == NULL)
		return;
	snap.streaming = streaming;
	snap.producer_connected = producer_connected(s->producer);
	snap.confirmed_lsn = s->last_flush;
	snap.server_wal_lsn = s->server_end;
	snap.records_in_flight = c.records;
	snap.transactions_in_flight = c.transactions;
	snap.in_flight_bytes = st->in_flight_bytes;
	snap.records_acked = st->records_acked;
	snap.delivery_errors = st->delivery_errors;
	snap.oldest_pending_commit_time = writer_oldest_pending_commit(s->records);
	snap.producer_queue_messages = (uint64_t) producer_outq_len(s->producer);
	snap.producer_queue_capacity = s->queue_capacity;
	metrics_update(s->metrics, &snap);
	s->metrics_at_us = relay_now_us();
}

/* After SIGHUP: reopen the log file (log rotation). */
void
loop_reopen_log(StreamLoop *s)
{
	if (!*s->hup_requested)
		return;
	*s->hup_requested = 0;
	if (s->cfg->log_file == NULL)
		relay_log(RELAY_LOG_INFO, "SIGHUP: logging to standard error, nothing to reopen");
	else if (relay_log_open(s->cfg->log_file) != 0)
		relay_log(RELAY_LOG_WARNING, "could not reopen log file \"%s\": %s",
				  s->cfg->log_file, strerror(errno));
	else
		relay_log(RELAY_LOG_INFO, "SIGHUP: log file reopened");
}

/*
 * What a fatal producer error (message in s->err) ends the run with: a new
 * producer, unless it happened while looking for a refused record one
 * record at a time, which must not loop.
 */
LoopResult
loop_producer_fatal(StreamLoop *s)
{
	char		why[sizeof(s->err)];

	if (!writer_isolating(s->records))
		return LOOP_RESTART_PRODUCER;
	snprintf(why, sizeof(why), "%s", s->err);
	snprintf(s->err, sizeof(s->err),
			 "fatal Kafka error while looking for the refused record: %.900s", why);
	return LOOP_FATAL_KAFKA;
}

/*
 * Stream until stopped, the connection fails, or a fatal error.  See
 * LoopResult for what the caller does next; s->err says why on failure.
 */
LoopResult
loop_stream(StreamLoop *s)
{
	PGconn	   *conn;
	StreamSystem sys;
	Lsn			confirmed = INVALID_LSN;
	Lsn			start;
	RelaySettingList opts = {0};
	LoopResult	result = LOOP_RETRY;
	char		why[sizeof(s->err)];

	s->err[0] = '\0';
	s->pgerr = pgerror_from_result(NULL);
	s->kafka_failed = false;
	s->stream_pos = INVALID_LSN;
	conn = stream_connect(s->cfg->dbname, s->cfg->pg_password, &sys, s->err, sizeof(s->err),
						  &s->pgerr);
	if (conn == NULL)
		return loop_pg_failed(s);
	/* before Kafka is read: a server that cannot have the slot asked for */
	if (s->cfg->failover_slot && PQserverVersion(conn) < 170000)
	{
		snprintf(s->err, sizeof(s->err),
				 "failover-slot needs PostgreSQL 17 or later, and the server is %d.%d",
				 PQserverVersion(conn) / 10000, PQserverVersion(conn) % 10000);
		s->pgerr.cls = PGERROR_PERMANENT;
		PQfinish(conn);
		return LOOP_FATAL_PG;
	}

	/* what was in flight on the last connection comes again */
	lsn_tracker_reset(s->tracker);
	writer_reset(s->records);
	drop_pending(s);
	s->last_flush = INVALID_LSN;
	s->slot_created = false;
	s->skipping_txn = false;
	s->skipped_txns = 0;
	s->logged_first_data = false;
	if (build_options(s->cfg, &opts) != 0 || ondemand_reset(s->ondemand, &opts) != 0)
	{
		snprintf(s->err, sizeof(s->err), "out of memory");
		PQfinish(conn);
		return LOOP_RETRY;
	}

	/* before the first schema is used, snapshot ones included */
	if (writer_read_schema_topic(s->records, topic_reader_conf(s->cfg), why,
								  sizeof(why)) != 0)
	{
		snprintf(s->err, sizeof(s->err), "could not read schema topic \"%s\": %.700s",
				 s->cfg->schema_topic, why);
		s->kafka_failed = true;
		free(opts.items);
		PQfinish(conn);
		return LOOP_RETRY;
	}
	/* the confirmed position, before any slot is created or dropped */
	if (position_load(s->position, why, sizeof(why)) != 0)
	{
		snprintf(s->err, sizeof(s->err), "could not read state topic \"%s\": %.700s",
				 s->cfg->state_topic, why);
		s->kafka_failed = true;
		free(opts.items);
		PQfinish(conn);
		return LOOP_RETRY;
	}
	if (loop_prepare_slot(s, conn, &sys, &opts, &confirmed, &result) != 0)
	{
		free(opts.items);
		PQfinish(conn);
		return result;
	}
	if (s->cfg->snapshot_mode == RELAY_SNAPSHOT_INITIAL_ONLY)
	{
		relay_log(RELAY_LOG_INFO, "snapshot-mode is initial_only: not streaming; slot \"%s\" stays at " LSN_FMT,
				  s->cfg->slot, LSN_ARGS(confirmed));
		free(opts.items);
		PQfinish(conn);
		return LOOP_ENDPOS;
	}
	start = loop_choose_start(s, conn, &sys, confirmed);
	s->stream_pos = start > confirmed ? start : confirmed;
	result = LOOP_RETRY;

	/*
	 * A bad plugin option (22023, 42704), an invalidated slot (55000) fail
	 * for good; a slot still held by a relay killed a moment ago (55006)
	 * does not.
	 */
	if (stream_start(conn, s->cfg->slot, start, &opts, s->err, sizeof(s->err), &s->pgerr) != 0)
	{
		free(opts.items);
		if (s->err[0] == '\0')
			snprintf(s->err, sizeof(s->err), "out of memory");
		PQfinish(conn);
		return loop_pg_failed(s);
	}
	free(opts.items);
	/* the server streams from the later of the slot's and the one asked for */
	relay_log(RELAY_LOG_INFO, "streaming slot \"%s\" from " LSN_FMT " (slot confirmed at " LSN_FMT ", asked for " LSN_FMT ")",
			  s->cfg->slot, LSN_ARGS(start > confirmed ? start : confirmed),
			  LSN_ARGS(confirmed), LSN_ARGS(start));
	loop_publish_metrics(s, true);
	s->progress_at_us = relay_now_us();
	s->last_status_us = 0;

	for (;;)
	{
		int64_t		now = relay_now_us();
		int64_t		status_due = s->last_status_us + (int64_t) s->cfg->status_interval * 1000000;
		bool		blocked;
		StreamMsg	msg;
		char	   *buf;
		StreamMsgKind kind;
		int			batch;

		loop_reopen_log(s);
		producer_poll(s->producer, 0);
		writer_observe_latency(s->records, lsn_tracker_safe_lsn(s->tracker), relay_wall_now_us());
		heartbeat_poll(s->heartbeat);
		if (now - s->metrics_at_us >= 1000000)
			loop_publish_metrics(s, true);
		if (writer_failed(s->records, s->err, sizeof(s->err)))
		{
			result = LOOP_FATAL_KAFKA;
			break;
		}
		if (writer_replay_needed(s->records, s->err, sizeof(s->err)))
		{
			result = LOOP_RESTART_PRODUCER;
			break;
		}
		if (writer_isolation_needed(s->records, s->err, sizeof(s->err)))
		{
			result = LOOP_ISOLATE;
			break;
		}
		if (producer_fatal(s->producer, s->err, sizeof(s->err)))
		{
			result = loop_producer_fatal(s);
			break;
		}
		{
			WriterResult prc = position_step(s->position, s->records, confirmable(s), false,
											  s->err, sizeof(s->err));

			if (prc == WRITER_FAILED || prc == WRITER_ERROR)
			{
				result = LOOP_FATAL_KAFKA;
				break;
			}
		}
		if (now >= status_due ||
			(flushable(s) > s->last_flush &&
			 now - s->last_status_us >= STATUS_MIN_GAP_US))
		{
			if (send_status(s, conn, false) != 0)
				break;
		}
		if (now - s->progress_at_us >= PROGRESS_EVERY_US)
			log_progress(s, now);

		if (*s->stop_requested)
		{
			relay_log(RELAY_LOG_INFO, "stop requested");
			shut_down(s, conn);
			return LOOP_STOPPED;
		}
		if (s->endpos_reached && lsn_tracker_idle(s->tracker))
		{
			relay_log(RELAY_LOG_INFO, "reached end position " LSN_FMT, LSN_ARGS(s->cfg->endpos));
			shut_down(s, conn);
			return LOOP_ENDPOS;
		}

		/* the rows of an on-demand snapshot chunk go before the next frame */
		if (ondemand_ready(s->ondemand))
		{
			WriterResult rc = ondemand_emit(s->ondemand, s->records,
											   s->err, sizeof(s->err));

			if (rc == WRITER_ERROR)
			{
				result = LOOP_RETRY;
				break;
			}
			if (rc == WRITER_WAIT)
			{
				if (wait_for_room(s, conn) != 0)
					break;
				continue;
			}
		}

		/* a frame waiting for room in the producer, or for its schema */
		if (s->pending_buf)
		{
			WriterResult rc = process(s, s->err, sizeof(s->err));

			if (rc == WRITER_ERROR)
			{
				result = LOOP_RETRY;
				break;
			}
			if (rc == WRITER_WAIT)
			{
				if (wait_for_room(s, conn) != 0)
					break;
				continue;
			}
			drop_pending(s);
			if (rc == WRITER_FAILED)
				continue;		/* read nothing more: the loop's top stops */
		}

		blocked = s->endpos_reached ||
			writer_stats(s->records)->in_flight_bytes > s->cfg->max_in_flight_bytes;
		if (!blocked)
			ondemand_step(s->ondemand);
		if (blocked)
		{
			if (wait_for_room(s, conn) != 0)
				break;
			continue;
		}

		batch = 0;
read_more:
		kind = stream_read(conn, &msg, &buf, s->err, sizeof(s->err), &s->pgerr);
		switch (kind)
		{
			case STREAM_MSG_NONE:
				{
					int64_t		wait_us = status_due - relay_now_us();
					int			fds[2];

					if (wait_us > 1000000)
						wait_us = 1000000;
					if (wait_us < 0)
						wait_us = 0;
					/* nothing more to hand over: no reason to linger */
					producer_send_now(s->producer, true);
					/* a Kafka event or an on-demand snapshot's result wakes it */
					fds[0] = producer_event_fd(s->producer);
					fds[1] = ondemand_socket(s->ondemand);
					stream_wait_fds(conn, fds, 2, (int) (wait_us / 1000));
				}
				continue;
			case STREAM_MSG_KEEPALIVE:
				if (msg.wal_end > s->received)
					s->received = msg.wal_end;
				s->server_end = msg.wal_end;
				lsn_tracker_note_wal_end(s->tracker, msg.wal_end);
				if (s->cfg->endpos != INVALID_LSN && msg.wal_end >= s->cfg->endpos &&
					lsn_tracker_idle(s->tracker))
					s->endpos_reached = true;
				if (msg.reply_requested && send_status(s, conn, false) != 0)
					goto failed;
				continue;
			case STREAM_MSG_DATA:
				if (!s->logged_first_data)
				{
					relay_log(RELAY_LOG_DEBUG, "first data of slot \"%s\" at " LSN_FMT,
							  s->cfg->slot, LSN_ARGS(msg.data_start));
					s->logged_first_data = true;
				}
				if (msg.data_start > s->received)
					s->received = msg.data_start;
				if (msg.wal_end > s->server_end)
					s->server_end = msg.wal_end;
				s->pending_buf = buf;
				s->pending = msg;
				s->pending_stage = WRITER_STAGE_NONE;
				{
					WriterResult rc = process(s, s->err, sizeof(s->err));

					if (rc == WRITER_ERROR)
					{
						result = LOOP_RETRY;
						goto failed;
					}
					if (rc == WRITER_OK || rc == WRITER_FAILED)
						drop_pending(s);

					/*
					 * Read on without the per-pass housekeeping while data
					 * flows: it costs more than a frame.  A batch is short
					 * (well under the status interval).
					 */
					if (rc == WRITER_OK && ++batch < READ_BATCH &&
						!s->endpos_reached && !*s->stop_requested &&
						!ondemand_ready(s->ondemand) &&
						writer_stats(s->records)->in_flight_bytes <= s->cfg->max_in_flight_bytes)
						goto read_more;
				}
				continue;
			case STREAM_MSG_END:
				snprintf(s->err, sizeof(s->err), "the server ended the replication stream");
				goto failed;
			case STREAM_MSG_ERROR:
				result = loop_pg_failed(s);
				goto failed;
		}
	}

failed:
	drop_pending(s);
	if (result == LOOP_FATAL_KAFKA || result == LOOP_RESTART_PRODUCER || result == LOOP_ISOLATE)
	{
		/* confirm what is safe, then leave: nothing past a failure */
		send_status(s, conn, false);
		stream_finish(conn);
	}
	else
		PQfinish(conn);
	return result;
}
