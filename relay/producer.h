/*-------------------------------------------------------------------------
 *
 * producer.h
 *		The librdkafka producer (producer.c).
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/producer.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RELAY_PRODUCER_H
#define RELAY_PRODUCER_H

#include <librdkafka/rdkafka.h>

#include "config.h"

typedef struct Producer Producer;

/* queue.buffering.max.messages unless configured: room for bursts */
#define PRODUCER_QUEUE_MESSAGES		1000000

/* reconnect.backoff.max.ms unless configured: back within a second */
#define PRODUCER_RECONNECT_MAX_MS	1000
/* librdkafka's linger.ms unless configured: see producer_create */
#define PRODUCER_LINGER_MS			1000

/* Called for every delivery report, on our thread, from producer_poll. */
typedef void (*ProducerDeliveryFn) (void *ctx, const rd_kafka_message_t *m);

typedef enum ProducerStatus
{
	PRODUCER_OK = 0,
	PRODUCER_QUEUE_FULL,		/* serve events, then try again */
	PRODUCER_FATAL,				/* the producer had a fatal error: recreate it */
	PRODUCER_ERROR				/* this record is refused */
} ProducerStatus;

extern Producer *producer_create(const RelayConfig *cfg, ProducerDeliveryFn on_delivery,
								 void *ctx, char *err, size_t errlen);
extern ProducerStatus producer_send(Producer *p, const char *topic, const void *key,
									size_t keylen, const void *value, size_t valuelen,
									rd_kafka_headers_t *hdrs, void *opaque,
									char *err, size_t errlen);
extern rd_kafka_topic_t *producer_topic(Producer *p, const char *topic);
extern ProducerStatus producer_send_to(Producer *p, rd_kafka_topic_t *rkt, const void *key,
									   size_t keylen, const void *value, size_t valuelen,
									   rd_kafka_headers_t *hdrs, void *opaque,
									   char *err, size_t errlen);
extern int	producer_poll(Producer *p, int timeout_ms);
extern bool producer_flush(Producer *p, int timeout_ms);
extern void producer_send_now(Producer *p, bool outstanding);
extern int	producer_event_fd(const Producer *p);
extern int	producer_outq_len(const Producer *p);
extern bool producer_connected(const Producer *p);
extern bool producer_fatal(Producer *p, char *err, size_t errlen);
extern rd_kafka_t *producer_handle(const Producer *p);
extern void producer_destroy(Producer *p, int flush_timeout_ms);

#endif							/* RELAY_PRODUCER_H */
