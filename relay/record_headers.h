/*-------------------------------------------------------------------------
 *
 * record_headers.h
 *		The Kafka headers of the records the relay writes (record_headers.c).
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/record_headers.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RELAY_RECORD_HEADERS_H
#define RELAY_RECORD_HEADERS_H

#include <librdkafka/rdkafka.h>

#include "lsn.h"

/*
 * The header values every change record of one transaction shares, put in
 * text once per transaction (record_headers_begin).
 */
typedef struct RecordHeadersTxn
{
	char		xid[16];		/* wal2avro.xid: the xid in decimal */
	size_t		xid_len;
	char		commit_ts[24];	/* wal2avro.commit_ts_ms: ms since the epoch */
	size_t		commit_ts_len;
} RecordHeadersTxn;

extern void record_headers_begin(RecordHeadersTxn *txn, uint32_t xid, int64_t commit_time_us);
extern rd_kafka_headers_t *record_headers_change(const RecordHeadersTxn *txn, Lsn lsn, char op,
												 const char *schema, size_t schema_len,
												 const char *table, size_t table_len);
extern void record_headers_add_key_change(rd_kafka_headers_t *hdrs, char op,
										  const char *key, size_t key_len);
extern rd_kafka_headers_t *record_headers_message(Lsn lsn, bool transactional);
extern rd_kafka_headers_t *record_headers_add_failure(rd_kafka_headers_t *hdrs,
													  const char *error, const char *topic);
extern rd_kafka_headers_t *record_headers_schema(const char *schema, size_t schema_len,
												 const char *table, size_t table_len);

#endif							/* RELAY_RECORD_HEADERS_H */
