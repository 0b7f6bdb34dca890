/*-------------------------------------------------------------------------
 *
 * kafka_writer_delivery.c
 *		The delivery reports of the records kafka_writer.c produces: each one
 *		acknowledges or fails its record in the LSN tracker, and a failure
 *		decides what the stream does next (stop, replay, isolate, or send
 *		the record to the dead-letter topic).
 *
 * Under on-error=dead-letter, a delivery report cannot say which record of
 * a producer batch the broker refused: it refuses the whole batch.  So the
 * first refusal only asks for isolation (writer_isolation_needed); the
 * caller drops the producer and replays from the last confirmed position,
 * and writer_start_isolation makes every record wait until the one before
 * it is reported, through the end of the last transaction produced before;
 * each is flushed at once (linger.ms would cost every record its wait).
 * Each record then travels alone, and the one the broker refuses alone goes
 * to the dead-letter topic, the others where they belong.  A failure then
 * that is not the broker's refusal (a local error such as a timeout) stops
 * the relay as under on-error=stop, rather than loop.
 *
 * A local failure that says nothing about the record (writer_replay_error:
 * librdkafka dropped it because its view of the topic changed, as when a
 * broker that has not yet heard of a topic just auto-created answers the
 * metadata request, and the partition count falls to 0; or a broker that
 * answers "unknown topic or partition" while it still loads its partitions,
 * as after the whole cluster restarted) refuses nothing either: the record
 * is failed in the tracker only, and writer_replay_needed
 * asks the caller to recreate the producer and replay from the last
 * confirmed position, which keeps the order per key (sending that one record
 * again would put it after later ones).
 *
 * A fatal producer error (idempotence broken: librdkafka gives up on the
 * producer) refuses no record: a produce to a dead producer makes the frame
 * wait, failures it reports fail nothing but the tracker (so nothing past
 * them is confirmed), and never reach the dead-letter topic.  The caller
 * sees producer_fatal, recreates the producer and replays from the last
 * confirmed position.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/kafka_writer_delivery.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "config.h"
#include "kafka_writer_internal.h"
#include "log.h"
#include "lsn.h"
#include "lsn_tracker.h"

/*
 * Send a record the broker refused on its own to the dead-letter topic, the
 * error and its topic in headers, under the same tracker id.  Returns 0; 1
 * when the producer just died (nothing sent: the replay after recreating it
 * finds the record again); or -1 after logging why when it could not be
 * enqueued.
 */
static int
dead_letter(KafkaWriter *r, const rd_kafka_message_t *m, const char *topic)
{
	char		err[512];
	rd_kafka_headers_t *hdrs = NULL;
	ProducerStatus st;

	if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR && hdrs)
		hdrs = rd_kafka_headers_copy(hdrs);
	else
		hdrs = NULL;
	hdrs = record_headers_add_failure(hdrs, rd_kafka_err2str(m->err), topic);
	st = producer_send(r->producer, r->cfg->dead_letter_topic, m->key, m->key_len,
					   m->payload, m->len, hdrs, m->_private, err, sizeof(err));
	if (st == PRODUCER_OK)
	{
		relay_log(RELAY_LOG_WARNING, "record for topic \"%s\" failed (%s): sent to dead-letter topic \"%s\"",
				  topic, rd_kafka_err2str(m->err), r->cfg->dead_letter_topic);
		r->stats.in_flight_bytes += m->len + m->key_len + RECORD_OVERHEAD_BYTES;
		r->unreported++;
		r->last_dead_lettered = true;
		return 0;
	}
	rd_kafka_headers_destroy(hdrs);
	if (st == PRODUCER_FATAL)
		return 1;
	relay_log(RELAY_LOG_ERROR, "%s", err);
	return -1;
}

/* The hint for a record outside the tracker that failed: the position's */
void
writer_set_untracked_hint(KafkaWriter *r)
{
	snprintf(r->fail_hint, sizeof(r->fail_hint),
			 "The relay writes its confirmed position to the state topic \"%s\" before confirming it to PostgreSQL: make sure the relay may write to that topic, then start again.",
			 r->cfg->state_topic);
}

static void
delivery(void *ctx, const rd_kafka_message_t *m)
{
	KafkaWriter    *r = ctx;
	uint64_t	opaque = (uint64_t) (uintptr_t) m->_private;
	uint64_t	id = opaque & RECORD_ID_MASK;
	size_t		bytes = m->len + m->key_len + RECORD_OVERHEAD_BYTES;

	r->stats.in_flight_bytes -= bytes < r->stats.in_flight_bytes ? bytes : r->stats.in_flight_bytes;
	if (r->unreported > 0)
		r->unreported--;

	/* a producer that had a fatal error: its records come again anyway */
	if (r->discarding)
		return;

	/*
	 * A failure reported by a dead producer (purged, or failed by the fatal
	 * error) refuses nothing: the record comes again with the replay from
	 * the last confirmed position, so neither on-error policy applies, and
	 * nothing at or past it is confirmed meanwhile.  A record it reports
	 * delivered was acknowledged by the broker, and counts.
	 */
	if (m->err && (m->err == RD_KAFKA_RESP_ERR__FATAL ||
				   producer_fatal(r->producer, NULL, 0)))
	{
		lsn_tracker_fail(r->tracker, id);
		return;
	}

	if (m->err == RD_KAFKA_RESP_ERR__PURGE_QUEUE ||
		m->err == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT)
		return;					/* dropped on stop: never confirmed, comes again */

	/* not the broker's refusal: replay (one record at a time, stop instead) */
	if (m->err && writer_replay_error(m->err) && !r->isolating)
	{
		lsn_tracker_fail(r->tracker, id);
		if (!r->replay_needed)
		{
			r->replay_needed = true;
			snprintf(r->replay_why, sizeof(r->replay_why),
					 "delivery to topic \"%s\" failed for a passing cause: %s",
					 rd_kafka_topic_name(m->rkt), rd_kafka_err2str(m->err));
		}
		return;
	}

	if (opaque & UNTRACKED_RECORD_BIT)
	{
		if (!m->err)
		{
			if (id > r->untracked_acked)
				r->untracked_acked = id;
			return;
		}
		r->stats.delivery_errors++;
		if (!r->failed)
		{
			r->failed = true;
			snprintf(r->fail_msg, sizeof(r->fail_msg), "delivery to topic \"%s\" failed: %s",
					 rd_kafka_topic_name(m->rkt), rd_kafka_err2str(m->err));
			writer_set_untracked_hint(r);
		}
		return;
	}

	if (m->err)
	{
		const char *topic = rd_kafka_topic_name(m->rkt);

		if (r->cfg->on_error == RELAY_ON_ERROR_DEAD_LETTER && r->cfg->dead_letter_topic &&
			strcmp(topic, r->cfg->dead_letter_topic) != 0 &&
			!(opaque & (SCHEMA_RECORD_BIT | CONTROL_RECORD_BIT)))
		{
			/*
			 * In a batch, every record gets the batch's error: find the
			 * refused one by sending them again one at a time.  Nothing
			 * is confirmed past this record meanwhile.
			 */
			if (!r->isolating)
			{
				lsn_tracker_fail(r->tracker, id);
				if (!r->isolation_needed)
				{
					r->isolation_needed = true;
					snprintf(r->isolation_why, sizeof(r->isolation_why),
							 "a producer batch for topic \"%s\" was refused (%s)",
							 topic, rd_kafka_err2str(m->err));
				}
				return;
			}
			/* alone in flight: this very record was refused */
			if (m->err > 0)
			{
				int			dl = dead_letter(r, m, topic);

				if (dl == 1)
				{
					lsn_tracker_fail(r->tracker, id);
					return;
				}
				r->stats.delivery_errors++;
				if (dl == 0)
					return;
			}
		}
		else
			r->stats.delivery_errors++;
		lsn_tracker_fail(r->tracker, id);
		if (!r->failed)
		{
			r->failed = true;
			if (r->isolating && m->err < 0)
				snprintf(r->fail_msg, sizeof(r->fail_msg),
						 "delivery to topic \"%s\" failed while looking for the refused record: %s",
						 topic, rd_kafka_err2str(m->err));
			else
				snprintf(r->fail_msg, sizeof(r->fail_msg),
						 "delivery to topic \"%s\" failed: %s", topic, rd_kafka_err2str(m->err));
		}
		return;
	}

	if (opaque & SCHEMA_RECORD_BIT)
	{
		SchemaId   *s;
		char		hex[17];
		uint64_t	fp;

		if (m->key_len == 16)
		{
			memcpy(hex, m->key, 16);
			hex[16] = '\0';
			fp = strtoull(hex, NULL, 16);
			if ((s = schema_ids_find(&r->schemas, fp)) != NULL)
				s->state = SCHEMA_ID_ON_BROKER;
		}
	}
	else if (!(opaque & CONTROL_RECORD_BIT))
		r->stats.records_acked++;
	lsn_tracker_ack(r->tracker, id);
}

/*
 * While on, delivery reports change nothing but the byte count: for the
 * reports a producer being destroyed after a fatal error still serves (its
 * records are not confirmed and come again after the reconnect).
 */
void
writer_discard_deliveries(KafkaWriter *r, bool on)
{
	r->discarding = on;
	if (!on)
	{
		r->stats.in_flight_bytes = 0;
		r->unreported = 0;
	}
}

/* The delivery callback to give producer_create, with the Records as ctx. */
ProducerDeliveryFn
writer_delivery_fn(void)
{
	return delivery;
}

/*
 * Did a delivery fail under on-error=stop, or was a schema refused?  Then
 * err gets why.
 */
bool
writer_failed(const KafkaWriter *r, char *err, size_t errlen)
{
	if (r->failed)
		snprintf(err, errlen, "%s", r->fail_msg);
	return r->failed;
}

/*
 * The hint for the failure records_failed reports, when it has one of its
 * own (a refused schema); NULL otherwise.  Owned by r.
 */
const char *
writer_failure_hint(const KafkaWriter *r)
{
	return r->failed && r->fail_hint[0] ? r->fail_hint : NULL;
}

bool
writer_replay_error(rd_kafka_resp_err_t err)
{
	switch (err)
	{
		case RD_KAFKA_RESP_ERR__DESTROY:	/* its partition went away */
		case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
		case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:	/* not (yet) in the metadata */
		case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:	/* a broker still loading it, as after
														 * a whole cluster's restart */
		case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:	/* message.timeout.ms set */
		case RD_KAFKA_RESP_ERR__TIMED_OUT:
		case RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE:
		case RD_KAFKA_RESP_ERR__TRANSPORT:
		case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
			return true;
		default:
			return false;
	}
}

bool
writer_replay_needed(const KafkaWriter *r, char *err, size_t errlen)
{
	if (r->replay_needed)
		snprintf(err, errlen, "%s", r->replay_why);
	return r->replay_needed;
}

/*
 * Did the broker refuse a batch under on-error=dead-letter?  Then err gets
 * why, and the caller must drop the producer (its other records are not
 * confirmed), call writer_start_isolation and replay from the last
 * confirmed position.
 */
bool
writer_isolation_needed(const KafkaWriter *r, char *err, size_t errlen)
{
	if (r->isolation_needed)
		snprintf(err, errlen, "%s", r->isolation_why);
	return r->isolation_needed;
}

/*
 * From now on, produce one record at a time, each once the one before is
 * reported, through the end of the last transaction a record was produced
 * in; then batch again.  Call with no record in flight, before the replay.
 */
void
writer_start_isolation(KafkaWriter *r)
{
	r->isolation_needed = false;
	r->isolating = true;
	r->isolate_until = r->produced_commit_lsn;
	r->done_commit_lsn = INVALID_LSN;
}

/* Is a replay one record at a time under way? */
bool
writer_isolating(const KafkaWriter *r)
{
	return r->isolating;
}
