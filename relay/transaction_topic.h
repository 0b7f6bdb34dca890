/*-------------------------------------------------------------------------
 *
 * transaction_topic.h
 *		Debezium's transaction metadata records, BEGIN and END, for the
 *		topic "<prefix>.transaction" (transaction_topic.c).
 *
 * With --provide-transaction-metadata the relay writes, as Debezium 3.6's
 * provide.transaction.metadata does, a BEGIN record before the first event
 * of a transaction and an END record at its commit, keyed by the
 * transaction's id.  This module keeps the count of one transaction's
 * events and renders both records, as Kafka Connect JSON (with or without
 * schemas) or as Avro datums; it does no I/O.  kafka_writer_transaction.c
 * produces them.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/transaction_topic.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RELAY_TRANSACTION_TOPIC_H
#define RELAY_TRANSACTION_TOPIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "json_out.h"
#include "lsn.h"

/* The topic's name after the prefix */
#define TXN_TOPIC_SUFFIX ".transaction"

/* One data collection of a transaction: "schema.table", or a message's */
typedef struct TxnTopicCollection
{
	char	   *name;			/* malloc'd, NUL-terminated */
	size_t		len;
	uint64_t	count;			/* events of it in the transaction */
	int32_t		hash;			/* Java's String.hashCode of the name */
} TxnTopicCollection;

/* Zero-initialised is an idle state; fields are read by the writer. */
typedef struct TxnTopic
{
	bool		open;			/* between a BEGIN frame and its COMMIT */
	bool		begun;			/* its BEGIN record was produced */
	uint32_t	xid;
	int64_t		commit_time;	/* us since the Unix epoch */
	Lsn			first_lsn;		/* of its first event: the BEGIN record's id */
	uint64_t	total;			/* events counted */
	TxnTopicCollection *cols;	/* in first-seen order */
	size_t		ncols;
	size_t		cap;
} TxnTopic;

typedef enum TxnTopicStatus
{
	TXN_TOPIC_BEGIN,
	TXN_TOPIC_END
} TxnTopicStatus;

/* Forget the last transaction and open one (at a BEGIN frame). */
extern void txn_topic_open(TxnTopic *t, uint32_t xid, int64_t commit_time);

/*
 * Count one event of the open transaction: a change of table schema.table
 * (lengths given, not NUL-terminated).  Returns 0, or -1 when out of
 * memory (nothing counted).
 */
extern int	txn_topic_count_change(TxnTopic *t, const char *schema, size_t schema_len,
								   const char *table, size_t table_len);

/*
 * Count one transactional logical message at lsn.  Debezium gives each
 * message a data collection of its own, named after a new Java object
 * ("...LogicalDecodingMessageMonitor$LogicalDecodingMessageId@<hex>"); the
 * hex here is derived from xid and lsn.  Returns 0 or -1 (out of memory).
 */
extern int	txn_topic_count_message(TxnTopic *t, Lsn lsn);

/*
 * The record's id: "<xid>:<lsn>", lsn being the first event's for BEGIN,
 * end_lsn (after the commit record) for END.  buf must hold 32 bytes.
 */
extern void txn_topic_id(const TxnTopic *t, TxnTopicStatus status, Lsn end_lsn, char *buf);

/*
 * Key and value as Kafka Connect's JsonConverter writes Debezium's
 * (schemas: {"schema":..,"payload":..}, else the payload), appended to out.
 * out->failed says when memory ran out.
 */
extern void txn_topic_json_key(const TxnTopic *t, TxnTopicStatus status, Lsn end_lsn,
							   bool schemas, JsonOut *out);
extern void txn_topic_json_value(const TxnTopic *t, TxnTopicStatus status, Lsn end_lsn,
								 bool schemas, JsonOut *out);

/* The Avro datums of key and value (binary encoding), appended to out. */
extern void txn_topic_avro_key(const TxnTopic *t, TxnTopicStatus status, Lsn end_lsn,
							   JsonOut *out);
extern void txn_topic_avro_value(const TxnTopic *t, TxnTopicStatus status, Lsn end_lsn,
								 JsonOut *out);

/* Their Avro schemas (what Confluent's AvroConverter makes of Debezium's) */
extern const char *const txn_topic_avro_key_schema;
extern const char *const txn_topic_avro_value_schema;

/*
 * The order Debezium lists the data collections in: a java.util.HashMap's
 * iteration order over their names.  order gets t->ncols indexes into
 * t->cols.
 */
extern void txn_topic_order(const TxnTopic *t, size_t *order);

/* Java's String.hashCode of UTF-8 text s (over its UTF-16 code units). */
extern int32_t txn_topic_java_hash(const char *s, size_t len);

/* Free what t holds; t is idle again. */
extern void txn_topic_free(TxnTopic *t);

#endif							/* RELAY_TRANSACTION_TOPIC_H */
