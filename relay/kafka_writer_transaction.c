/*-------------------------------------------------------------------------
 *
 * kafka_writer_transaction.c
 *		--provide-transaction-metadata: the BEGIN and END records of each
 *		transaction on "<prefix>.transaction", as Debezium writes them.
 *
 * kafka_writer.c calls in at a BEGIN frame, before and after each event's
 * record, and at COMMIT; the records themselves are transaction_topic.c's.
 * Both go into the open tracker transaction like its change records (as
 * control records: not counted as changes), so nothing at or past a
 * transaction is confirmed before its END is acknowledged.  After a replay
 * an unconfirmed transaction's BEGIN and END come again, as its changes do.
 * Keys and values are in the formats of the change records: JSON, or Avro
 * in Confluent's wire format with the ids of the subjects
 * "<prefix>.transaction-key" and "-value" (config.c refuses Avro without a
 * schema registry).  Keys are partitioned as the change records' are.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/kafka_writer_transaction.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka_writer_internal.h"
#include "transaction_topic.h"

/* FNV-1a of a schema text: its key in the registry client's cache */
static uint64_t
schema_hash(const char *s)
{
	uint64_t	h = UINT64_C(0xcbf29ce484222325);

	for (; *s; s++)
		h = (h ^ (unsigned char) *s) * UINT64_C(0x100000001b3);
	return h;
}

/* The registry id of the key or value schema; WRITER_WAIT while unreachable */
static WriterResult
registry_schema_id(KafkaWriter *r, const char *topic, const char *which, const char *schema,
				   uint32_t *id, char *err, size_t errlen)
{
	return writer_registry_id(r, topic, which, "the transaction topic", schema_hash(schema),
							  schema, strlen(schema), id, err, errlen);
}

/* Key or value of a BEGIN or END record into out, in its format */
static WriterResult
encode(KafkaWriter *r, const char *topic, bool key, TxnTopicStatus status, Lsn end_lsn,
	   JsonOut *out, char *err, size_t errlen)
{
	RelayFormat format = key ? r->cfg->key_format : r->cfg->value_format;
	const TxnTopic *t = &r->txmeta;
	WriterResult rc;

	out->len = 0;
	out->failed = false;
	if (format == RELAY_FORMAT_JSON)
	{
		if (key)
			txn_topic_json_key(t, status, end_lsn, r->cfg->json_schemas, out);
		else
			txn_topic_json_value(t, status, end_lsn, r->cfg->json_schemas, out);
	}
	else
	{
		uint8_t		header[REGISTRY_HEADER_LEN];
		uint32_t	id;

		if (r->registry == NULL)
		{
			/* config.c refuses the option without a registry */
			snprintf(err, errlen, "the transaction topic needs a schema registry for avro");
			return WRITER_ERROR;
		}
		if ((rc = registry_schema_id(r, topic, key ? "key" : "value",
									 key ? txn_topic_avro_key_schema : txn_topic_avro_value_schema,
									 &id, err, errlen)) != WRITER_OK)
			return rc;
		registry_header(header, id);
		json_out_mem(out, header, sizeof(header));
		if (key)
			txn_topic_avro_key(t, status, end_lsn, out);
		else
			txn_topic_avro_value(t, status, end_lsn, out);
	}
	if (out->failed)
	{
		snprintf(err, errlen, "out of memory");
		return WRITER_ERROR;
	}
	return WRITER_OK;
}

/* Produce the BEGIN or END record in the open tracker transaction */
static WriterResult
produce(KafkaWriter *r, TxnTopicStatus status, Lsn end_lsn, char *err, size_t errlen)
{
	char		topic[TOPIC_MAX];
	WriterResult rc;

	snprintf(topic, sizeof(topic), "%s" TXN_TOPIC_SUFFIX, r->cfg->topic_prefix);
	if ((rc = encode(r, topic, true, status, end_lsn, &r->txmeta_key, err, errlen)) != WRITER_OK ||
		(rc = encode(r, topic, false, status, end_lsn, &r->txmeta_value, err, errlen)) != WRITER_OK)
		return rc;
	return writer_produce(r, topic, NULL, r->txmeta_key.data, r->txmeta_key.len,
						   r->txmeta_value.data, r->txmeta_value.len, NULL,
						   lsn_tracker_add(r->tracker) | CONTROL_RECORD_BIT, err, errlen);
}

/*
 * At a BEGIN frame.  A transaction without an xid (the relay's own, around
 * a snapshot) has no metadata, as Debezium's snapshot rows have none.
 */
void
writer_txmeta_open(KafkaWriter *r, uint32_t xid, int64_t commit_time)
{
	if (!r->cfg->provide_transaction_metadata)
		return;
	txn_topic_open(&r->txmeta, xid, commit_time);
	r->txmeta.open = xid != 0;
}

/*
 * Before the record of an event at lsn (not yet produced): the BEGIN
 * record, if the event is its transaction's first.  Returns WRITER_OK
 * (also when there is nothing to do), or as writer_produce; call again
 * after WRITER_WAIT.
 */
WriterResult
writer_txmeta_before(KafkaWriter *r, Lsn lsn, char *err, size_t errlen)
{
	WriterResult rc;

	if (!r->txmeta.open || r->txmeta.begun || lsn == INVALID_LSN)
		return WRITER_OK;
	r->txmeta.first_lsn = lsn;
	if ((rc = produce(r, TXN_TOPIC_BEGIN, INVALID_LSN, err, errlen)) == WRITER_OK)
		r->txmeta.begun = true;
	return rc;
}

/*
 * After the record of an event was produced: count it, for table e (NULL:
 * a transactional message at lsn).  WRITER_ERROR when out of memory.
 */
WriterResult
writer_txmeta_count(KafkaWriter *r, const RelEntry *e, Lsn lsn, char *err, size_t errlen)
{
	int			rc;

	if (!r->txmeta.open || !r->txmeta.begun || lsn == INVALID_LSN)
		return WRITER_OK;
	rc = e ? txn_topic_count_change(&r->txmeta, e->schema, e->schema_len, e->table, e->table_len) :
		txn_topic_count_message(&r->txmeta, lsn);
	if (rc == 0)
		return WRITER_OK;
	snprintf(err, errlen, "out of memory");
	return WRITER_ERROR;
}

/*
 * At a COMMIT frame, before the tracker closes the transaction: the END
 * record of a transaction that had a BEGIN.  Returns as
 * writer_txmeta_before; once WRITER_OK, the transaction is closed here.
 */
WriterResult
writer_txmeta_commit(KafkaWriter *r, Lsn end_lsn, char *err, size_t errlen)
{
	WriterResult rc;

	if (r->txmeta.open && r->txmeta.begun &&
		(rc = produce(r, TXN_TOPIC_END, end_lsn, err, errlen)) != WRITER_OK)
		return rc;
	r->txmeta.open = false;
	r->txmeta.begun = false;
	return WRITER_OK;
}

/* After a reconnect: the open transaction comes again from its BEGIN frame */
void
writer_txmeta_reset(KafkaWriter *r)
{
	r->txmeta.open = false;
	r->txmeta.begun = false;
}

void
writer_txmeta_free(KafkaWriter *r)
{
	txn_topic_free(&r->txmeta);
	free(r->txmeta_key.data);
	free(r->txmeta_value.data);
}
