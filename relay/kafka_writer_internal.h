/*-------------------------------------------------------------------------
 *
 * kafka_writer_internal.h
 *		What the files of the records module share: kafka_writer.c (frames
 *		to records), kafka_writer_relations.c (the relation table),
 *		kafka_writer_changes.c (a change's records), kafka_writer_delivery.c
 *		(delivery reports), kafka_writer_schemas.c (schema publication),
 *		kafka_writer_registry.c and kafka_writer_transaction.c (the
 *		transaction topic).  Nothing else includes it.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/kafka_writer_internal.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RELAY_KAFKA_WRITER_INTERNAL_H
#define RELAY_KAFKA_WRITER_INTERNAL_H

#include <librdkafka/rdkafka.h>

#include "config.h"
#include "connect_json.h"
#include "frames.h"
#include "kafka_writer.h"
#include "lsn.h"
#include "lsn_tracker.h"
#include "metrics.h"
#include "record_headers.h"
#include "registry.h"
#include "schema_ids.h"
#include "transaction_topic.h"

/* The opaque of a schema record has this bit set, beside the tracker id */
#define SCHEMA_RECORD_BIT	(UINT64_C(1) << 63)
/* ... or this one for a control record (a snapshot marker): not counted */
#define CONTROL_RECORD_BIT	(UINT64_C(1) << 62)
/* ... or this one, beside a tag instead, for a record outside the tracker */
#define UNTRACKED_RECORD_BIT	(UINT64_C(1) << 61)
#define RECORD_ID_MASK		(~(SCHEMA_RECORD_BIT | CONTROL_RECORD_BIT | UNTRACKED_RECORD_BIT))

#define TOPIC_MAX			512

/* While isolating: how long one produce waits for its report in place */
#define ISOLATED_FLUSH_MS	100

/*
 * What a queued record costs librdkafka beside its key and value: the
 * message struct, its headers (six, with names), the opaque.  Counted in
 * the in-flight bytes so that max-in-flight-bytes bounds memory, not only
 * payload; many small records would otherwise outgrow it several times.
 */
#define RECORD_OVERHEAD_BYTES	320

/* A relation seen in a SCHEMA frame */
typedef struct RelEntry
{
	uint32_t	relid;
	bool		used;
	uint64_t	key_fp;
	uint64_t	value_fp;
	char	   *schema;
	size_t		schema_len;
	char	   *table;
	size_t		table_len;
	char	   *topic;			/* expanded template, when it has no {op} */
	rd_kafka_topic_t *rkt;		/* topic's handle in the producer, or NULL */
	MetricsTable metrics;		/* its record counters, over schema and table */
	/* --schema-registry: the ids for e->topic, until the next SCHEMA frame */
	bool		registry_ids_known;
	bool		registry_key_known;
	bool		registry_value_known;
	uint32_t	registry_key_id;
	uint32_t	registry_value_id;
	/* --key-format/--value-format=json: the schemas compiled, or NULL */
	ConnectJson *key_json;
	ConnectJson *value_json;
	/* Debezium's flat value, delete mode "tombstone": a delete's JSON, or NULL */
	char	   *flat_null;
	size_t		flat_null_len;
} RelEntry;

/* A committed transaction whose records are not all acknowledged yet */
typedef struct PendingCommit
{
	Lsn			end_lsn;
	int64_t		commit_time;	/* us since the Unix epoch */
} PendingCommit;

struct KafkaWriter
{
	const RelayConfig *cfg;
	LsnTracker *tracker;
	Producer   *producer;
	Registry   *registry;		/* --schema-registry, or NULL */
	bool		template_has_op;

	RelEntry   *rels;			/* open addressing by relid */
	size_t		rel_cap;
	size_t		rel_count;
	SchemaIds	schemas;		/* fingerprint -> schema text and its state */
	bool		schema_topic_read;	/* writer_read_schema_topic succeeded */
	bool		schema_topic_oom;	/* ran out of memory while reading it */

	/* the transaction being read */
	RecordHeadersTxn txn_headers;	/* its xid and commit time in text */
	bool		in_txn;
	bool		lone_change;	/* in_txn: the transaction of one record a
								 * compat=debezium non-transactional message
								 * (CHANGE op m outside BEGIN/COMMIT) opened */
	TxnTopic	txmeta;			/* --provide-transaction-metadata: its events */
	JsonOut		txmeta_key;		/* scratch for its BEGIN and END records */
	JsonOut		txmeta_value;

	/* scratch for single-object encoded keys and values */
	uint8_t    *buf;
	size_t		buf_cap;
	/* ... and for JSON ones, reused from record to record */
	JsonOut		json_key;
	JsonOut		json_value;
	JsonOut		json_other_key; /* a key change's other key, for its header */

	/* for metrics: the relation and op of the record being produced */
	Metrics    *metrics;
	MetricsTable *cur_metrics;
	MetricsTable message_metrics[2];	/* messages, heartbeats */
	char		cur_op;
	uint64_t	txn_records;	/* records produced in the open transaction */

	/* committed transactions in flight, oldest first: a ring */
	PendingCommit *commits;
	size_t		commit_cap;
	size_t		commit_head;
	size_t		commit_count;

	/* dead-letter isolation (see the file header) */
	Lsn			txn_commit_lsn; /* commit LSN of the transaction being read */
	Lsn			produced_commit_lsn;	/* ... of the last one a record went in */
	Lsn			done_commit_lsn;	/* ... of the last one read to its end */
	uint64_t	unreported;		/* records enqueued, not yet reported */
	bool		isolation_needed;	/* a batch was refused, outside isolation */
	char		isolation_why[512];
	bool		isolating;		/* one record in flight at a time */
	Lsn			isolate_until;	/* through the transaction committing here */
	bool		last_dead_lettered; /* the last change record went there */

	uint64_t	untracked_acked;	/* highest tag of an untracked record acknowledged */

	WriterStats stats;
	bool		discarding;		/* reports of a producer being thrown away */
	bool		replay_needed;	/* a delivery failed for a local, passing cause */
	char		replay_why[512];
	bool		failed;			/* a delivery failed under on-error=stop, or a schema was refused */
	char		fail_msg[512];
	char		fail_hint[512]; /* empty: the caller's usual hint */
};

/* Where relid's probe starts in a relation table of cap slots (a power of two) */
static inline size_t
writer_rel_home(uint32_t relid, size_t cap)
{
	return (relid * 2654435761u) & (cap - 1);
}

/*
 * The entry a SCHEMA frame made for relid, or NULL when there is none.
 * Per change, so inline: open addressing, linear probing.
 */
static inline RelEntry *
writer_rel_lookup(KafkaWriter *r, uint32_t relid)
{
	size_t		i;

	if (r->rel_cap == 0)
		return NULL;
	i = writer_rel_home(relid, r->rel_cap);
	while (r->rels[i].used)
	{
		if (r->rels[i].relid == relid)
			return &r->rels[i];
		i = (i + 1) & (r->rel_cap - 1);
	}
	return NULL;
}

/* kafka_writer_registry.c */
extern WriterResult writer_registry_id(KafkaWriter *r, const char *topic, const char *which,
									   const char *what, uint64_t fp, const char *schema,
									   size_t len, uint32_t *id, char *err, size_t errlen);
extern WriterResult writer_registry_ids(KafkaWriter *r, RelEntry *e, const char *topic,
										bool want_key, bool want_value,
										uint32_t *key_id, uint32_t *value_id,
										char *err, size_t errlen);

/* kafka_writer.c */
extern WriterResult writer_end_isolation(KafkaWriter *r);

/* kafka_writer_relations.c */
extern WriterResult writer_handle_schema(KafkaWriter *r, const Frame *f, char *err, size_t errlen);

/* kafka_writer_changes.c */
extern WriterResult writer_refuse(KafkaWriter *r, const char *hint, char *err, size_t errlen);
extern WriterResult writer_produce(KafkaWriter *r, const char *topic, rd_kafka_topic_t *rkt,
									 const void *key, size_t keylen,
									 const void *value, size_t valuelen,
									 rd_kafka_headers_t *hdrs, uint64_t opaque,
									 char *err, size_t errlen);
extern WriterResult writer_handle_change(KafkaWriter *r, const Frame *f, WriterStage *stage,
										 char *err, size_t errlen);

/* kafka_writer_messages.c */
extern WriterResult writer_handle_message(KafkaWriter *r, const Frame *f, WriterStage *stage,
										  char *err, size_t errlen);
extern WriterResult writer_handle_lone_change(KafkaWriter *r, const Frame *f,
											  WriterStage *stage, char *err, size_t errlen);

/* kafka_writer_delivery.c */
extern void writer_set_untracked_hint(KafkaWriter *r);

/* kafka_writer_transaction.c */
extern void writer_txmeta_open(KafkaWriter *r, uint32_t xid, int64_t commit_time);
extern WriterResult writer_txmeta_before(KafkaWriter *r, Lsn lsn, char *err, size_t errlen);
extern WriterResult writer_txmeta_count(KafkaWriter *r, const RelEntry *e, Lsn lsn,
										char *err, size_t errlen);
extern WriterResult writer_txmeta_commit(KafkaWriter *r, Lsn end_lsn, char *err, size_t errlen);
extern void writer_txmeta_reset(KafkaWriter *r);
extern void writer_txmeta_free(KafkaWriter *r);

/* kafka_writer_schemas.c */
extern WriterResult writer_send_schema(KafkaWriter *r, SchemaId *s, const char *schema,
										 size_t schema_len, const char *table,
										 size_t table_len, char *err, size_t errlen);
extern WriterResult writer_publish_schema(KafkaWriter *r, uint64_t fp, FrameBytes json,
											const char *which, const FrameBytes *schema,
											const FrameBytes *table, char *err, size_t errlen);

#endif							/* RELAY_KAFKA_WRITER_INTERNAL_H */
