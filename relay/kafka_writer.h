/*-------------------------------------------------------------------------
 *
 * kafka_writer.h
 *		From frames to Kafka records (kafka_writer.c).
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/kafka_writer.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RELAY_KAFKA_WRITER_H
#define RELAY_KAFKA_WRITER_H

#include "config.h"
#include "frames.h"
#include "lsn.h"
#include "lsn_tracker.h"
#include "metrics.h"
#include "producer.h"

typedef struct KafkaWriter KafkaWriter;

typedef enum WriterResult
{
	WRITER_OK = 0,
	WRITER_WAIT,				/* serve events, then give the same frame again;
								 * after producer_fatal: recreate the producer */
	WRITER_FAILED,				/* a record failed for good (see records_failed) */
	WRITER_ERROR
} WriterResult;

/* Counters since the relay started */
typedef struct WriterStats
{
	uint64_t	records_produced;	/* change records and tombstones enqueued */
	uint64_t	records_acked;
	uint64_t	bytes_produced;
	uint64_t	transactions;
	uint64_t	delivery_errors;
	uint64_t	in_flight_bytes;	/* enqueued, not yet reported */
	int64_t		last_commit_time;	/* of the last COMMIT read, us since the epoch */
} WriterStats;

/*
 * How far writer_handle_frame got with a frame it returned WRITER_WAIT for:
 * the caller keeps it and gives the frame again with it.  Every new frame
 * starts at WRITER_STAGE_NONE.
 */
typedef enum WriterStage
{
	WRITER_STAGE_NONE = 0,		/* no frame in progress: nothing of it done yet */
	WRITER_STAGE_TOMBSTONE,		/* CHANGE: its record produced; a delete's tombstone is next */
	WRITER_STAGE_CHANGE_DONE,	/* CHANGE: everything of the frame produced */
	WRITER_STAGE_MESSAGE_OPENED /* MESSAGE outside a transaction: its own tracker
								 * transaction is open */
} WriterStage;

extern KafkaWriter *writer_create(const RelayConfig *cfg, LsnTracker *tracker);
extern void writer_set_producer(KafkaWriter *r, Producer *p);
extern void writer_discard_deliveries(KafkaWriter *r, bool on);
extern ProducerDeliveryFn writer_delivery_fn(void);
extern WriterResult writer_handle_frame(KafkaWriter *r, const Frame *f, WriterStage *stage,
										  char *err, size_t errlen);
extern WriterResult writer_send_control(KafkaWriter *r, const char *topic, const char *key,
										  const char *value, char *err, size_t errlen);
extern WriterResult writer_send_untracked(KafkaWriter *r, const char *topic, const char *key,
											const char *value, uint64_t tag, char *err,
											size_t errlen);
extern uint64_t writer_untracked_acked(const KafkaWriter *r);
extern void writer_reset(KafkaWriter *r);
extern bool writer_failed(const KafkaWriter *r, char *err, size_t errlen);
extern const char *writer_failure_hint(const KafkaWriter *r);
extern int	writer_read_schema_topic(KafkaWriter *r, rd_kafka_conf_t *conf, char *err,
									  size_t errlen);
extern bool writer_isolation_needed(const KafkaWriter *r, char *err, size_t errlen);

/*
 * Is err a local delivery failure with a passing cause (the record was not
 * refused by the broker: the topic's metadata changed, a timeout)?
 */
extern bool writer_replay_error(rd_kafka_resp_err_t err);

/*
 * Did such a failure happen?  Then err gets why, and the caller must drop
 * the producer (nothing at or past the record is confirmed), create a new
 * one and replay from the last confirmed position.
 */
extern bool writer_replay_needed(const KafkaWriter *r, char *err, size_t errlen);
extern void writer_start_isolation(KafkaWriter *r);
extern bool writer_isolating(const KafkaWriter *r);
extern const WriterStats *writer_stats(const KafkaWriter *r);
extern void writer_set_metrics(KafkaWriter *r, Metrics *m);
extern void writer_observe_latency(KafkaWriter *r, Lsn safe, int64_t now_epoch_us);
extern int64_t writer_oldest_pending_commit(const KafkaWriter *r);
extern void writer_free(KafkaWriter *r);

#endif							/* RELAY_KAFKA_WRITER_H */
