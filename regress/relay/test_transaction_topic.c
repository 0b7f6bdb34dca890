/*-------------------------------------------------------------------------
 *
 * test_transaction_topic.c
 *		Unit tests for relay/transaction_topic.c: Java's String.hashCode,
 *		java.util.HashMap's iteration order (with a resize), the ids, and
 *		the BEGIN and END records in JSON (against Debezium 3.6.1's capture)
 *		and Avro.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * regress/relay/test_transaction_topic.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>
#include <string.h>

#include "transaction_topic.h"
#include "unit.h"

#define MSG_PREFIX "io.debezium.connector.postgresql.LogicalDecodingMessageMonitor$LogicalDecodingMessageId@"

static void
test_java_hash(void)
{
	/* values from Java's "...".hashCode() (UTF-16 code units) */
	CHECK_INT(txn_topic_java_hash("", 0), 0);
	CHECK_INT(txn_topic_java_hash("public.orders", 13), 762281482);
	CHECK_INT(txn_topic_java_hash("public.types", 12), -524761932);
	CHECK_INT(txn_topic_java_hash("\xc3\xa9t\xc3\xa9", 5), 227742);	/* été */
	CHECK_INT(txn_topic_java_hash("a\xf0\x9f\x98\x80", 5), 1866116);	/* a, U+1F600: a pair */
}

/* Debezium's capture: "public.orders" (bucket 5) before its message (10) */
static void
test_order_capture(void)
{
	TxnTopic	t = {0};
	size_t		order[2];

	txn_topic_open(&t, 761, 0);
	t.begun = true;
	/* the message came last in the transaction, listed last */
	CHECK_INT(txn_topic_count_change(&t, "public", 6, "orders", 6), 0);
	CHECK_INT(txn_topic_count_change(&t, "public", 6, "orders", 6), 0);
	CHECK_INT(txn_topic_count_message(&t, 22435664), 0);
	CHECK_INT(t.ncols, 2);
	CHECK_INT(t.total, 3);
	free(t.cols[1].name);
	t.cols[1].name = strdup(MSG_PREFIX "67e3da60");
	t.cols[1].len = strlen(t.cols[1].name);
	t.cols[1].hash = txn_topic_java_hash(t.cols[1].name, t.cols[1].len);
	txn_topic_order(&t, order);
	CHECK_INT(order[0], 0);
	CHECK_INT(order[1], 1);

	/* inserted the other way round, the map lists them the same way */
	{
		TxnTopicCollection c = t.cols[0];

		t.cols[0] = t.cols[1];
		t.cols[1] = c;
	}
	txn_topic_order(&t, order);
	CHECK_INT(order[0], 1);
	CHECK_INT(order[1], 0);
	txn_topic_free(&t);
}

/* 14 names: the table grew to 32 buckets; order as Java's (see the .py check) */
static void
test_order_resize(void)
{
	TxnTopic	t = {0};
	size_t		order[14];
	const size_t want[14] = {12, 13, 8, 7, 9, 4, 3, 6, 5, 0, 10, 11, 2, 1};
	char		table[8];

	txn_topic_open(&t, 1, 0);
	for (int i = 0; i < 14; i++)
	{
		int			n = snprintf(table, sizeof(table), "t%d", i);

		CHECK_INT(txn_topic_count_change(&t, "public", 6, table, (size_t) n), 0);
	}
	CHECK_INT(txn_topic_count_change(&t, "public", 6, "t3", 2), 0);	/* again: counted */
	CHECK_INT(t.ncols, 14);
	CHECK_INT(t.cols[3].count, 2);
	txn_topic_order(&t, order);
	for (int i = 0; i < 14; i++)
		CHECK_INT(order[i], want[i]);
	txn_topic_free(&t);
}

/* Messages: one collection each, named like Debezium's, nonzero hex */
static void
test_messages(void)
{
	TxnTopic	t = {0};

	txn_topic_open(&t, 5, 0);
	CHECK_INT(txn_topic_count_message(&t, 100), 0);
	CHECK_INT(txn_topic_count_message(&t, 100), 0);
	CHECK_INT(t.ncols, 2);
	CHECK(strncmp(t.cols[0].name, MSG_PREFIX, strlen(MSG_PREFIX)) == 0);
	CHECK(strcmp(t.cols[0].name, t.cols[1].name) != 0);
	CHECK(strlen(t.cols[0].name) > strlen(MSG_PREFIX));
	CHECK(strlen(t.cols[0].name) <= strlen(MSG_PREFIX) + 8);
	txn_topic_free(&t);
}

static void
test_json(void)
{
	TxnTopic	t = {0};
	JsonOut		out = {0};
	char		id[32];

	txn_topic_open(&t, 748, INT64_C(1796589695294123));
	t.first_lsn = 22431688;
	txn_topic_id(&t, TXN_TOPIC_BEGIN, 22432368, id);
	CHECK(strcmp(id, "748:22431688") == 0);
	txn_topic_id(&t, TXN_TOPIC_END, 22432368, id);
	CHECK(strcmp(id, "748:22432368") == 0);

	txn_topic_json_key(&t, TXN_TOPIC_BEGIN, 0, false, &out);
	CHECK(strcmp(out.data, "{\"id\":\"748:22431688\"}") == 0);
	out.len = 0;
	txn_topic_json_value(&t, TXN_TOPIC_BEGIN, 0, false, &out);
	CHECK(strcmp(out.data, "{\"status\":\"BEGIN\",\"id\":\"748:22431688\",\"event_count\":null,"
				 "\"data_collections\":null,\"ts_ms\":1796589695294}") == 0);
	CHECK_INT(txn_topic_count_change(&t, "public", 6, "ty\"pes", 6), 0);
	out.len = 0;
	txn_topic_json_value(&t, TXN_TOPIC_END, 22432368, false, &out);
	CHECK(strcmp(out.data, "{\"status\":\"END\",\"id\":\"748:22432368\",\"event_count\":1,"
				 "\"data_collections\":[{\"data_collection\":\"public.ty\\\"pes\",\"event_count\":1}],"
				 "\"ts_ms\":1796589695294}") == 0);

	/* with schemas: JsonConverter's, as in the capture */
	out.len = 0;
	txn_topic_json_key(&t, TXN_TOPIC_END, 22432368, true, &out);
	CHECK(strcmp(out.data, "{\"schema\":{\"type\":\"struct\",\"fields\":[{\"type\":\"string\","
				 "\"optional\":false,\"field\":\"id\"}],\"optional\":false,"
				 "\"name\":\"io.debezium.connector.common.TransactionMetadataKey\",\"version\":1},"
				 "\"payload\":{\"id\":\"748:22432368\"}}") == 0);
	out.len = 0;
	txn_topic_json_value(&t, TXN_TOPIC_BEGIN, 0, true, &out);
	CHECK(strncmp(out.data, "{\"schema\":{\"type\":\"struct\",\"fields\":[{\"type\":\"string\",\"optional\":false,"
				  "\"field\":\"status\"}", 80) == 0);
	CHECK(strstr(out.data, "\"name\":\"io.debezium.connector.common.TransactionMetadataValue\",\"version\":1},"
				 "\"payload\":{\"status\":\"BEGIN\"") != NULL);
	CHECK(!out.failed);

	/* commit time before 1970: rounded down, as Instant.toEpochMilli */
	txn_topic_open(&t, 1, -1500);
	t.first_lsn = 1;
	out.len = 0;
	txn_topic_json_value(&t, TXN_TOPIC_BEGIN, 0, false, &out);
	CHECK(strstr(out.data, "\"ts_ms\":-2}") != NULL);
	free(out.data);
	txn_topic_free(&t);
}

static void
test_avro(void)
{
	TxnTopic	t = {0};
	JsonOut		out = {0};
	const uint8_t begin[] = {
		10, 'B', 'E', 'G', 'I', 'N', 6, '7', ':', '9',
		0, 0,					/* event_count, data_collections: null */
		0xD0, 0x0F				/* ts_ms 1000 */
	};
	const uint8_t end[] = {
		6, 'E', 'N', 'D', 8, '7', ':', '1', '2',
		2, 4,					/* event_count: 2 */
		2, 2,					/* data_collections: an array, one block of one */
		2, 6, 'a', '.', 'b', 4,	/* the record, "a.b", 2 */
		0,						/* end of the array */
		0xD0, 0x0F
	};

	txn_topic_open(&t, 7, 1000 * 1000 + 999);
	t.first_lsn = 9;
	txn_topic_avro_key(&t, TXN_TOPIC_BEGIN, 0, &out);
	CHECK_INT(out.len, 4);
	CHECK(memcmp(out.data, "\x06" "7:9", 4) == 0);
	out.len = 0;
	txn_topic_avro_value(&t, TXN_TOPIC_BEGIN, 0, &out);
	CHECK_INT(out.len, sizeof(begin));
	CHECK(memcmp(out.data, begin, sizeof(begin)) == 0);
	CHECK_INT(txn_topic_count_change(&t, "a", 1, "b", 1), 0);
	CHECK_INT(txn_topic_count_change(&t, "a", 1, "b", 1), 0);
	out.len = 0;
	txn_topic_avro_value(&t, TXN_TOPIC_END, 12, &out);
	CHECK_INT(out.len, sizeof(end));
	CHECK(memcmp(out.data, end, sizeof(end)) == 0);
	CHECK(strstr(txn_topic_avro_value_schema, "\"connect.name\":\"event.collection\"") != NULL);
	free(out.data);
	txn_topic_free(&t);
}

int
main(void)
{
	test_java_hash();
	test_order_capture();
	test_order_resize();
	test_messages();
	test_json();
	test_avro();
	return unit_finish("test_transaction_topic");
}
