/*-------------------------------------------------------------------------
 *
 * kafka_writer_messages.c
 *		Logical messages to Kafka records: wal2avro's MESSAGE frames (to
 *		<prefix>.messages, heartbeats to their topic), and compat=debezium's
 *		non-transactional message, a CHANGE frame with op m outside
 *		BEGIN/COMMIT.  A message outside a transaction is a transaction of
 *		one record in the LSN tracker: nothing past it is confirmed before
 *		the broker acknowledged it.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/kafka_writer_messages.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "config.h"
#include "frames.h"
#include "heartbeat.h"
#include "kafka_writer_internal.h"
#include "lsn.h"
#include "lsn_tracker.h"
#include "record_headers.h"
#include "wal2avro_protocol.h"

/*
 * Open the transaction of one record that a non-transactional message is
 * (a MESSAGE frame, or compat=debezium's CHANGE op m outside BEGIN/COMMIT):
 * its record is confirmed only once the broker acknowledged it.
 */
static WriterResult
open_lone(KafkaWriter *r, Lsn lsn, char *err, size_t errlen)
{
	if (writer_end_isolation(r) != WRITER_OK)
		return WRITER_WAIT;
	r->txn_commit_lsn = lsn;
	if (lsn_tracker_begin(r->tracker, lsn) != LSN_TRACKER_OK)
	{
		snprintf(err, errlen, "non-transactional message inside a transaction at " LSN_FMT,
				 LSN_ARGS(lsn));
		return WRITER_ERROR;
	}
	return WRITER_OK;
}

static void
close_lone(KafkaWriter *r, Lsn lsn)
{
	lsn_tracker_commit(r->tracker, lsn);
	r->done_commit_lsn = lsn;
}

/*
 * compat=debezium: a non-transactional message's CHANGE frame (op m, flag
 * NON_TRANSACTIONAL, on the message pseudo relation) outside BEGIN/COMMIT,
 * a transaction of one record as a MESSAGE frame is.
 */
WriterResult
writer_handle_lone_change(KafkaWriter *r, const Frame *f, WriterStage *stage, char *err, size_t errlen)
{
	WriterResult rc;

	if (!r->lone_change)
	{
		if ((rc = open_lone(r, f->change.lsn, err, errlen)) != WRITER_OK)
			return rc;
		record_headers_begin(&r->txn_headers, 0, 0);
		r->in_txn = true;
		r->lone_change = true;
	}
	rc = writer_handle_change(r, f, stage, err, errlen);
	if (rc == WRITER_OK)
	{
		close_lone(r, f->change.lsn);
		r->in_txn = false;
		r->lone_change = false;
	}
	return rc;
}

WriterResult
writer_handle_message(KafkaWriter *r, const Frame *f, WriterStage *stage, char *err, size_t errlen)
{
	char		topic[TOPIC_MAX];
	uint64_t	id;
	WriterResult rc;
	bool		alone = !f->message.transactional;
	bool		heartbeat;

	/* a message outside any transaction is a transaction of one record */
	if (alone && *stage == WRITER_STAGE_NONE)
	{
		if ((rc = open_lone(r, f->message.lsn, err, errlen)) != WRITER_OK)
			return rc;
		*stage = WRITER_STAGE_MESSAGE_OPENED;
	}
	heartbeat = f->message.prefix.len == strlen(HEARTBEAT_PREFIX) &&
		memcmp(f->message.prefix.data, HEARTBEAT_PREFIX, f->message.prefix.len) == 0;
	if (heartbeat && r->cfg->heartbeat_topic)
		snprintf(topic, sizeof(topic), "%s", r->cfg->heartbeat_topic);
	else if (heartbeat)
		snprintf(topic, sizeof(topic), "__wal2avro-heartbeat.%s", r->cfg->topic_prefix);
	else
		snprintf(topic, sizeof(topic), "%s.messages", r->cfg->topic_prefix);
	r->cur_metrics = &r->message_metrics[heartbeat];
	r->cur_op = 'm';
	if (!alone && !heartbeat && (rc = writer_txmeta_before(r, f->message.lsn, err, errlen)) != WRITER_OK)
		return rc;
	id = lsn_tracker_add(r->tracker);
	rc = writer_produce(r, topic, NULL, f->message.prefix.data, f->message.prefix.len,
						 f->message.has_content ? f->message.content.data : (const uint8_t *) "",
						 f->message.has_content ? f->message.content.len : 0,
						 record_headers_message(f->message.lsn, !alone), id, err, errlen);
	if (!alone && !heartbeat && rc == WRITER_OK)
		rc = writer_txmeta_count(r, NULL, f->message.lsn, err, errlen);
	if (alone && rc == WRITER_OK)
		close_lone(r, f->message.lsn);
	return rc;
}
