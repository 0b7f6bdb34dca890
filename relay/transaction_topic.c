/*-------------------------------------------------------------------------
 *
 * transaction_topic.c
 *		Debezium's BEGIN and END transaction metadata records: one
 *		transaction's event counts, and both records in JSON or Avro.
 *
 * What Debezium 3.6.1's PostgreSQL connector writes, as its capture of
 * regress/workloads/debezium_types.sql shows (topic dbz.transaction):
 *
 * - BEGIN comes with the transaction's first event, so a transaction with
 *   no event written gets neither record.  Its id is "<txId>:<lsn of that
 *   event>"; END's is "<txId>:<end LSN of the commit record>" (the LSN the
 *   server stamps on the commit): the two differ.
 * - Events are changes (a key change is two, its tombstone none),
 *   truncates and transactional logical messages; snapshot rows and
 *   messages outside a transaction have no transaction.
 * - data_collections lists each table's count in a java.util.HashMap's
 *   iteration order over the names.  Each message is a collection of its
 *   own, named by Object.toString of a new LogicalDecodingMessageId (an
 *   identity hash, so its place among the tables changes from run to run
 *   under Debezium).
 * - ts_ms is the commit time in milliseconds, in both records.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/transaction_topic.c
 *
 *-------------------------------------------------------------------------
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_out.h"
#include "lsn.h"
#include "transaction_topic.h"

#define MESSAGE_COLLECTION \
	"io.debezium.connector.postgresql.LogicalDecodingMessageMonitor$LogicalDecodingMessageId@"

/* java.util.HashMap's first table size (its load factor is 3/4) */
#define JAVA_MAP_MIN_CAPACITY	16

/* Kafka Connect JSON schemas, as JsonConverter writes them (schemas.enable) */
static const char key_json_schema[] =
	"{\"type\":\"struct\",\"fields\":[{\"type\":\"string\",\"optional\":false,\"field\":\"id\"}],"
	"\"optional\":false,\"name\":\"io.debezium.connector.common.TransactionMetadataKey\","
	"\"version\":1}";
static const char value_json_schema[] =
	"{\"type\":\"struct\",\"fields\":["
	"{\"type\":\"string\",\"optional\":false,\"field\":\"status\"},"
	"{\"type\":\"string\",\"optional\":false,\"field\":\"id\"},"
	"{\"type\":\"int64\",\"optional\":true,\"field\":\"event_count\"},"
	"{\"type\":\"array\",\"items\":{\"type\":\"struct\",\"fields\":["
	"{\"type\":\"string\",\"optional\":false,\"field\":\"data_collection\"},"
	"{\"type\":\"int64\",\"optional\":false,\"field\":\"event_count\"}],"
	"\"optional\":true,\"name\":\"event.collection\",\"version\":1},"
	"\"optional\":true,\"field\":\"data_collections\"},"
	"{\"type\":\"int64\",\"optional\":false,\"field\":\"ts_ms\"}],"
	"\"optional\":false,\"name\":\"io.debezium.connector.common.TransactionMetadataValue\","
	"\"version\":1}";

const char *const txn_topic_avro_key_schema =
	"{\"type\":\"record\",\"name\":\"TransactionMetadataKey\","
	"\"namespace\":\"io.debezium.connector.common\","
	"\"fields\":[{\"name\":\"id\",\"type\":\"string\"}],"
	"\"connect.version\":1,\"connect.name\":\"io.debezium.connector.common.TransactionMetadataKey\"}";

const char *const txn_topic_avro_value_schema =
	"{\"type\":\"record\",\"name\":\"TransactionMetadataValue\","
	"\"namespace\":\"io.debezium.connector.common\",\"fields\":["
	"{\"name\":\"status\",\"type\":\"string\"},"
	"{\"name\":\"id\",\"type\":\"string\"},"
	"{\"name\":\"event_count\",\"type\":[\"null\",\"long\"],\"default\":null},"
	"{\"name\":\"data_collections\",\"type\":[\"null\",{\"type\":\"array\",\"items\":[\"null\","
	"{\"type\":\"record\",\"name\":\"event.collection\",\"fields\":["
	"{\"name\":\"data_collection\",\"type\":\"string\"},"
	"{\"name\":\"event_count\",\"type\":\"long\"}],"
	"\"connect.version\":1,\"connect.name\":\"event.collection\"}]}],\"default\":null},"
	"{\"name\":\"ts_ms\",\"type\":\"long\"}],"
	"\"connect.version\":1,\"connect.name\":\"io.debezium.connector.common.TransactionMetadataValue\"}";

/* ------------------------------------------------------------------------
 * Counting
 * ------------------------------------------------------------------------
 */

void
txn_topic_open(TxnTopic *t, uint32_t xid, int64_t commit_time)
{
	for (size_t i = 0; i < t->ncols; i++)
		free(t->cols[i].name);
	t->ncols = 0;
	t->open = true;
	t->begun = false;
	t->xid = xid;
	t->commit_time = commit_time;
	t->first_lsn = INVALID_LSN;
	t->total = 0;
}

int32_t
txn_topic_java_hash(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *) s;
	uint32_t	h = 0;
	size_t		i = 0;

	while (i < len)
	{
		uint32_t	cp = p[i];
		size_t		n = 1;

		/* UTF-8 to a code point; a stray byte stands for itself */
		if (cp >= 0xF0)
			n = 4;
		else if (cp >= 0xE0)
			n = 3;
		else if (cp >= 0xC0)
			n = 2;
		if (i + n > len)
			n = 1;
		if (n == 2)
			cp = ((cp & 0x1F) << 6) | (p[i + 1] & 0x3F);
		else if (n == 3)
			cp = ((cp & 0x0F) << 12) | ((p[i + 1] & 0x3F) << 6) | (p[i + 2] & 0x3F);
		else if (n == 4)
			cp = ((cp & 0x07) << 18) | ((p[i + 1] & 0x3F) << 12) |
				((p[i + 2] & 0x3F) << 6) | (p[i + 3] & 0x3F);
		i += n;
		if (cp >= 0x10000)
		{
			/* two UTF-16 code units: the surrogate pair */
			cp -= 0x10000;
			h = 31 * h + (0xD800 + (cp >> 10));
			h = 31 * h + (0xDC00 + (cp & 0x3FF));
		}
		else
			h = 31 * h + cp;
	}
	return (int32_t) h;
}

/* Add count one to collection name (taken over: freed on failure). */
static int
count_in(TxnTopic *t, char *name, size_t len, bool shared)
{
	if (name == NULL)
		return -1;
	if (shared)
	{
		for (size_t i = 0; i < t->ncols; i++)
			if (t->cols[i].len == len && memcmp(t->cols[i].name, name, len) == 0)
			{
				free(name);
				t->cols[i].count++;
				t->total++;
				return 0;
			}
	}
	if (t->ncols == t->cap)
	{
		size_t		cap = t->cap ? t->cap * 2 : 8;
		TxnTopicCollection *c = realloc(t->cols, cap * sizeof(TxnTopicCollection));

		if (c == NULL)
		{
			free(name);
			return -1;
		}
		t->cols = c;
		t->cap = cap;
	}
	t->cols[t->ncols++] = (TxnTopicCollection) {
		name, len, 1, txn_topic_java_hash(name, len)
	};
	t->total++;
	return 0;
}

int
txn_topic_count_change(TxnTopic *t, const char *schema, size_t schema_len,
					   const char *table, size_t table_len)
{
	char	   *name = malloc(schema_len + table_len + 2);

	if (name)
	{
		memcpy(name, schema, schema_len);
		name[schema_len] = '.';
		memcpy(name + schema_len + 1, table, table_len);
		name[schema_len + 1 + table_len] = '\0';
	}
	return count_in(t, name, schema_len + 1 + table_len, true);
}

int
txn_topic_count_message(TxnTopic *t, Lsn lsn)
{
	uint64_t	x = ((uint64_t) t->xid << 32) ^ lsn ^ (t->total * UINT64_C(0x9E3779B97F4A7C15));
	uint32_t	identity;
	char	   *name;
	int			n;

	/* a mix (splitmix64's finaliser) in place of an identity hash: 31 bits, not 0 */
	x = (x ^ (x >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	x = (x ^ (x >> 27)) * UINT64_C(0x94D049BB133111EB);
	x ^= x >> 31;
	identity = (uint32_t) (x & 0x7FFFFFFF);
	if (identity == 0)
		identity = 1;
	if ((name = malloc(sizeof(MESSAGE_COLLECTION) + 8)) == NULL)
		return -1;
	n = snprintf(name, sizeof(MESSAGE_COLLECTION) + 8, "%s%" PRIx32, MESSAGE_COLLECTION, identity);
	return count_in(t, name, (size_t) n, false);
}

/* A name's bucket in a HashMap table of cap (a power of two) */
static size_t
java_bucket(int32_t hash, size_t cap)
{
	uint32_t	h = (uint32_t) hash;

	return (h ^ (h >> 16)) & (cap - 1);
}

/* What txn_topic_order sorts by: bucket, then insertion order */
typedef struct OrderCtx
{
	const TxnTopic *t;
	size_t		cap;
} OrderCtx;

static int
order_cmp(const void *a, const void *b, void *arg)
{
	const OrderCtx *c = arg;
	size_t		i = *(const size_t *) a,
				j = *(const size_t *) b;
	size_t		bi = java_bucket(c->t->cols[i].hash, c->cap),
				bj = java_bucket(c->t->cols[j].hash, c->cap);

	if (bi != bj)
		return bi < bj ? -1 : 1;
	return i < j ? -1 : i > j;
}

void
txn_topic_order(const TxnTopic *t, size_t *order)
{
	OrderCtx	c = {t, JAVA_MAP_MIN_CAPACITY};

	/* the table doubles when the entries pass three quarters of it */
	while (t->ncols > c.cap / 4 * 3)
		c.cap *= 2;

	/*
	 * Buckets in index order, each in insertion order (a resize splits a
	 * bucket keeping its order).  Not modelled, and said so in
	 * doc/debezium.md: Java turns a bucket of more than eight names into a
	 * tree once the table has 64 buckets, which moves the tree's root to
	 * the bucket's front; that takes nine names of one transaction in one
	 * bucket of a table of at least 48 entries.
	 */
	for (size_t i = 0; i < t->ncols; i++)
		order[i] = i;
	qsort_r(order, t->ncols, sizeof(size_t), order_cmp, &c);
}

/* ------------------------------------------------------------------------
 * Rendering
 * ------------------------------------------------------------------------
 */

void
txn_topic_id(const TxnTopic *t, TxnTopicStatus status, Lsn end_lsn, char *buf)
{
	snprintf(buf, 32, "%" PRIu32 ":%" PRIu64, t->xid,
			 status == TXN_TOPIC_BEGIN ? t->first_lsn : end_lsn);
}

/* Milliseconds of the commit time, rounded down as Java's Instant does */
static int64_t
commit_ms(const TxnTopic *t)
{
	int64_t		us = t->commit_time;

	return us >= 0 ? us / 1000 : -((-us + 999) / 1000);
}

/* JsonConverter's {"schema":..,"payload": opening, with schemas.enable */
static void
open_envelope(JsonOut *out, bool schemas, const char *schema, size_t len)
{
	if (!schemas)
		return;
	JSON_OUT_LIT(out, "{\"schema\":");
	json_out_mem(out, schema, len);
	JSON_OUT_LIT(out, ",\"payload\":");
}

void
txn_topic_json_key(const TxnTopic *t, TxnTopicStatus status, Lsn end_lsn, bool schemas,
				   JsonOut *out)
{
	char		id[32];

	txn_topic_id(t, status, end_lsn, id);
	open_envelope(out, schemas, key_json_schema, sizeof(key_json_schema) - 1);
	JSON_OUT_LIT(out, "{\"id\":");
	json_out_cstring(out, id);
	json_out_char(out, '}');
	if (schemas)
		json_out_char(out, '}');
}

void
txn_topic_json_value(const TxnTopic *t, TxnTopicStatus status, Lsn end_lsn, bool schemas,
					 JsonOut *out)
{
	char		id[32];

	txn_topic_id(t, status, end_lsn, id);
	open_envelope(out, schemas, value_json_schema, sizeof(value_json_schema) - 1);
	JSON_OUT_LIT(out, "{\"status\":");
	json_out_cstring(out, status == TXN_TOPIC_BEGIN ? "BEGIN" : "END");
	JSON_OUT_LIT(out, ",\"id\":");
	json_out_cstring(out, id);
	if (status == TXN_TOPIC_BEGIN)
		JSON_OUT_LIT(out, ",\"event_count\":null,\"data_collections\":null");
	else
	{
		size_t	   *order = malloc((t->ncols + 1) * sizeof(size_t));

		if (order == NULL)
		{
			out->failed = true;
			return;
		}
		txn_topic_order(t, order);
		JSON_OUT_LIT(out, ",\"event_count\":");
		json_out_int64(out, (int64_t) t->total);
		JSON_OUT_LIT(out, ",\"data_collections\":[");
		for (size_t i = 0; i < t->ncols; i++)
		{
			const TxnTopicCollection *c = &t->cols[order[i]];

			if (i > 0)
				json_out_char(out, ',');
			JSON_OUT_LIT(out, "{\"data_collection\":");
			json_out_string(out, (const uint8_t *) c->name, c->len);
			JSON_OUT_LIT(out, ",\"event_count\":");
			json_out_int64(out, (int64_t) c->count);
			json_out_char(out, '}');
		}
		json_out_char(out, ']');
		free(order);
	}
	JSON_OUT_LIT(out, ",\"ts_ms\":");
	json_out_int64(out, commit_ms(t));
	json_out_char(out, '}');
	if (schemas)
		json_out_char(out, '}');
}

/* Avro's long: zigzag, then base-128 groups, low first */
static void
avro_long(JsonOut *out, int64_t v)
{
	uint64_t	z = ((uint64_t) v << 1) ^ (uint64_t) (v >> 63);
	uint8_t		buf[10];
	size_t		n = 0;

	do
	{
		buf[n] = (uint8_t) (z & 0x7F);
		z >>= 7;
		if (z)
			buf[n] |= 0x80;
		n++;
	} while (z);
	json_out_mem(out, buf, n);
}

static void
avro_string(JsonOut *out, const char *s, size_t len)
{
	avro_long(out, (int64_t) len);
	json_out_mem(out, s, len);
}

void
txn_topic_avro_key(const TxnTopic *t, TxnTopicStatus status, Lsn end_lsn, JsonOut *out)
{
	char		id[32];

	txn_topic_id(t, status, end_lsn, id);
	avro_string(out, id, strlen(id));
}

void
txn_topic_avro_value(const TxnTopic *t, TxnTopicStatus status, Lsn end_lsn, JsonOut *out)
{
	const char *st = status == TXN_TOPIC_BEGIN ? "BEGIN" : "END";
	char		id[32];

	txn_topic_id(t, status, end_lsn, id);
	avro_string(out, st, strlen(st));
	avro_string(out, id, strlen(id));
	if (status == TXN_TOPIC_BEGIN)
	{
		avro_long(out, 0);		/* event_count: null */
		avro_long(out, 0);		/* data_collections: null */
	}
	else
	{
		size_t	   *order = malloc((t->ncols + 1) * sizeof(size_t));

		if (order == NULL)
		{
			out->failed = true;
			return;
		}
		txn_topic_order(t, order);
		avro_long(out, 1);
		avro_long(out, (int64_t) t->total);
		avro_long(out, 1);
		if (t->ncols > 0)
		{
			avro_long(out, (int64_t) t->ncols);	/* one block */
			for (size_t i = 0; i < t->ncols; i++)
			{
				const TxnTopicCollection *c = &t->cols[order[i]];

				avro_long(out, 1);	/* the item's union: the record */
				avro_string(out, c->name, c->len);
				avro_long(out, (int64_t) c->count);
			}
		}
		avro_long(out, 0);		/* end of the array */
		free(order);
	}
	avro_long(out, commit_ms(t));
}

void
txn_topic_free(TxnTopic *t)
{
	for (size_t i = 0; i < t->ncols; i++)
		free(t->cols[i].name);
	free(t->cols);
	memset(t, 0, sizeof(*t));
}
