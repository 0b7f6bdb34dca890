/*-------------------------------------------------------------------------
 *
 * records.h
 *		From frames to Kafka records (records.c).
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/records.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RELAY_RECORDS_H
#define RELAY_RECORDS_H

#include "metrics.h"
#include "producer.h"
#include "relay.h"

typedef struct Records Records;

typedef enum RecordsResult
{
	RECORDS_OK = 0,
	RECORDS_WAIT,				/* serve events, then give the same frame again;
								 * after producer_fatal: recreate the producer */
	RECORDS_FAILED,				/* a record failed for good (see records_failed) */
	RECORDS_ERROR
} RecordsResult;

/* Counters since the relay started */
typedef struct RecordsStats
{
	uint64_t	records_produced;	/* change records and tombstones enqueued */
	uint64_t	records_acked;
	uint64_t	bytes_produced;
	uint64_t	transactions;
	uint64_t	delivery_errors;
	uint64_t	in_flight_bytes;	/* enqueued, not yet reported */
	int64_t		last_commit_time;	/* of the last COMMIT read, us since the epoch */
} RecordsStats;

extern Records *records_create(const RelayConfig *cfg, LsnTracker *tracker);
extern void records_set_producer(Records *r, Producer *p);
extern void records_discard_deliveries(Records *r, bool on);
extern ProducerDeliveryFn records_delivery_fn(void);
extern RecordsResult records_handle_frame(Records *r, const Frame *f, int *stage,
										  char *err, size_t errlen);
extern RecordsResult records_send_control(Records *r, const char *topic, const char *key,
										  const char *value, char *err, size_t errlen);
extern RecordsResult records_send_untracked(Records *r, const char *topic, const char *key,
											const char *value, uint64_t tag, char *err,
											size_t errlen);
extern uint64_t records_untracked_acked(const Records *r);
extern void records_reset(Records *r);
extern bool records_failed(const Records *r, char *err, size_t errlen);
extern const char *records_failure_hint(const Records *r);
extern int	records_read_schema_topic(Records *r, rd_kafka_conf_t *conf, char *err,
									  size_t errlen);
extern bool records_isolation_needed(const Records *r, char *err, size_t errlen);

/*
 * Is err a local delivery failure with a passing cause (the record was not
 * refused by the broker: the topic's metadata changed, a timeout)?
 */
extern bool records_replay_error(rd_kafka_resp_err_t err);

/*
 * Did such a failure happen?  Then err gets why, and the caller must drop
 * the producer (nothing at or past the record is confirmed), create a new
 * one and replay from the last confirmed position.
 */
extern bool records_replay_needed(const Records *r, char *err, size_t errlen);
extern void records_start_isolation(Records *r);
extern bool records_isolating(const Records *r);
extern const RecordsStats *records_stats(const Records *r);
extern void records_set_metrics(Records *r, Metrics *m);
extern void records_note_safe(Records *r, Lsn safe, int64_t now_epoch_us);
extern int64_t records_oldest_pending_commit(const Records *r);
extern void records_free(Records *r);

#endif							/* RELAY_RECORDS_H */
