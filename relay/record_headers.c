/*-------------------------------------------------------------------------
 *
 * record_headers.c
 *		The Kafka headers of the records the relay writes: change records
 *		and their tombstones, messages, schemas, and the two a record gets
 *		when it goes to the dead-letter topic.
 *
 * A change record carries, in this order: wal2avro.lsn ("%X/%X", as
 * PostgreSQL prints an LSN), wal2avro.xid, wal2avro.op (one letter),
 * wal2avro.commit_ts_ms, wal2avro.schema and wal2avro.table.  They are
 * built for every record (librdkafka takes each list over), so this is the
 * relay's hot path: the numbers are written by hand, not with snprintf, the
 * transaction's two are written once at its BEGIN, and every length is
 * given so that librdkafka measures no string.  With compat=debezium the
 * two halves of a key change also get Debezium's __debezium.newkey (the
 * delete and its tombstone) or __debezium.oldkey (the create).
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/record_headers.c
 *
 *-------------------------------------------------------------------------
 */
#include <string.h>

#include "lsn.h"
#include "record_headers.h"

/* The headers of a change record */
#define CHANGE_HEADERS		6

/* Add header NAME (a string literal) with value v of n bytes */
#define ADD(hdrs, name, v, n) \
	rd_kafka_header_add((hdrs), (name), sizeof(name) - 1, (v), (ssize_t) (n))

/*
 * Write u in base 10 or 16 (upper case, as %X) without leading zeros at out
 * (room for 20 digits); returns the length.
 */
static size_t
put_number(char *out, uint64_t u, unsigned int base)
{
	static const char digits[] = "0123456789ABCDEF";
	char		tmp[20];
	size_t		n = 0,
				i;

	do
	{
		tmp[n++] = digits[u % base];
		u /= base;
	} while (u > 0);
	for (i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	return n;
}

/* The LSN as LSN_FMT prints it, at out (room for 17 bytes); returns the length. */
static size_t
put_lsn(char *out, Lsn lsn)
{
	size_t		n = put_number(out, (uint32_t) (lsn >> 32), 16);

	out[n++] = '/';
	return n + put_number(out + n, (uint32_t) lsn, 16);
}

/*
 * Put the transaction's xid and commit time (us since the epoch; the header
 * has ms, truncated toward zero as C division does) in text.
 */
void
record_headers_begin(RecordHeadersTxn *txn, uint32_t xid, int64_t commit_time_us)
{
	int64_t		ms = commit_time_us / 1000;
	size_t		n = 0;

	txn->xid_len = put_number(txn->xid, xid, 10);
	if (ms < 0)
	{
		txn->commit_ts[n++] = '-';
		txn->commit_ts_len = n + put_number(txn->commit_ts + n, -(uint64_t) ms, 10);
	}
	else
		txn->commit_ts_len = put_number(txn->commit_ts, (uint64_t) ms, 10);
}

/* The six headers of a change record (and of its tombstone). */
rd_kafka_headers_t *
record_headers_change(const RecordHeadersTxn *txn, Lsn lsn, char op,
					  const char *schema, size_t schema_len,
					  const char *table, size_t table_len)
{
	rd_kafka_headers_t *hdrs = rd_kafka_headers_new(CHANGE_HEADERS);
	char		buf[24];

	ADD(hdrs, "wal2avro.lsn", buf, put_lsn(buf, lsn));
	ADD(hdrs, "wal2avro.xid", txn->xid, txn->xid_len);
	ADD(hdrs, "wal2avro.op", &op, 1);
	ADD(hdrs, "wal2avro.commit_ts_ms", txn->commit_ts, txn->commit_ts_len);
	ADD(hdrs, "wal2avro.schema", schema, schema_len);
	ADD(hdrs, "wal2avro.table", table, table_len);
	return hdrs;
}

/* The headers of a logical message's record. */
/*
 * Debezium's headers on the halves of a key change: __debezium.newkey (the
 * new key) on the delete and its tombstone, __debezium.oldkey (the old key)
 * on the create; key is the other key as text.
 */
void
record_headers_add_key_change(rd_kafka_headers_t *hdrs, char op, const char *key, size_t key_len)
{
	if (op == 'd')
		ADD(hdrs, "__debezium.newkey", key, key_len);
	else
		ADD(hdrs, "__debezium.oldkey", key, key_len);
}

rd_kafka_headers_t *
record_headers_message(Lsn lsn, bool transactional)
{
	rd_kafka_headers_t *hdrs = rd_kafka_headers_new(2);
	char		buf[24];

	ADD(hdrs, "wal2avro.lsn", buf, put_lsn(buf, lsn));
	if (transactional)
		ADD(hdrs, "wal2avro.transactional", "true", 4);
	else
		ADD(hdrs, "wal2avro.transactional", "false", 5);
	return hdrs;
}

/* The headers of a schema's record on the schema topic. */
rd_kafka_headers_t *
record_headers_schema(const char *schema, size_t schema_len, const char *table, size_t table_len)
{
	rd_kafka_headers_t *hdrs = rd_kafka_headers_new(2);

	ADD(hdrs, "wal2avro.schema", schema, schema_len);
	ADD(hdrs, "wal2avro.table", table, table_len);
	return hdrs;
}

/*
 * Add why a record went to the dead-letter topic and where it was meant to
 * go, to hdrs or, when it is NULL, to a new list; returns the list.
 */
rd_kafka_headers_t *
record_headers_add_failure(rd_kafka_headers_t *hdrs, const char *error, const char *topic)
{
	if (hdrs == NULL)
		hdrs = rd_kafka_headers_new(2);
	ADD(hdrs, "wal2avro.error", error, strlen(error));
	ADD(hdrs, "wal2avro.topic", topic, strlen(topic));
	return hdrs;
}
