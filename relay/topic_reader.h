/*-------------------------------------------------------------------------
 *
 * topic_reader.h
 *		Read a topic from its beginning to its end (topic_reader.c).
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/topic_reader.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RELAY_TOPIC_READER_H
#define RELAY_TOPIC_READER_H

#include <stdbool.h>
#include <stddef.h>

#include <librdkafka/rdkafka.h>

#include "config.h"

/* Called for each record topic_reader_read reads, on the caller's thread. */
typedef void (*TopicRecordFn) (void *ctx, const rd_kafka_message_t *m);

/*
 * A consumer configuration from the relay's brokers and kafka.* settings
 * (producer-only properties ignored), for topic_reader_read, which takes
 * it over.  Never fails.
 */
extern rd_kafka_conf_t *topic_reader_conf(const RelayConfig *cfg);

/*
 * Read every partition of "topic" from its start to its current end, giving
 * each record to fn, with a consumer made from conf (taken over: destroyed
 * here, whatever happens; group.id is set here).  A missing topic is an
 * empty one.  Gives up after 10 s without a message.  Returns 0, or -1 with
 * a message in err when the consumer cannot be made.  *complete (unless
 * NULL) tells whether the whole topic was read.
 */
extern int	topic_reader_read(rd_kafka_conf_t *conf, const char *topic, TopicRecordFn fn,
							  void *ctx, bool *complete, char *err, size_t errlen);

#endif							/* RELAY_TOPIC_READER_H */
