/*-------------------------------------------------------------------------
 *
 * test_record_headers.c
 *		Unit tests for relay/record_headers.c: the headers of a change
 *		record, a message, a schema and a dead-lettered record, compared
 *		with what snprintf writes for the same numbers (as the relay wrote
 *		them before), over edge values and many random ones.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * regress/relay/test_record_headers.c
 *
 *-------------------------------------------------------------------------
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "lsn.h"
#include "record_headers.h"
#include "unit.h"

/* Header i of hdrs must be name=want (want: a C string) */
static void
check_header(rd_kafka_headers_t *hdrs, size_t i, const char *name, const char *want)
{
	const char *got_name;
	const void *v;
	size_t		len;

	if (rd_kafka_header_get_all(hdrs, i, &got_name, &v, &len) != RD_KAFKA_RESP_ERR_NO_ERROR)
	{
		CHECK(!"header present");
		return;
	}
	CHECK_STR(got_name, name);
	CHECK_INT(len, strlen(want));
	CHECK(len == strlen(want) && memcmp(v, want, len) == 0);
}

static void
check_change(uint32_t xid, int64_t commit_us, Lsn lsn, char op)
{
	RecordHeadersTxn txn;
	rd_kafka_headers_t *hdrs;
	char		want[64];
	char		opname[2] = {op, '\0'};

	record_headers_begin(&txn, xid, commit_us);
	hdrs = record_headers_change(&txn, lsn, op, "public", 6, "t", 1);
	CHECK_INT(rd_kafka_header_cnt(hdrs), 6);
	snprintf(want, sizeof(want), LSN_FMT, LSN_ARGS(lsn));
	check_header(hdrs, 0, "wal2avro.lsn", want);
	snprintf(want, sizeof(want), "%" PRIu32, xid);
	check_header(hdrs, 1, "wal2avro.xid", want);
	check_header(hdrs, 2, "wal2avro.op", opname);
	snprintf(want, sizeof(want), "%" PRId64, commit_us / 1000);
	check_header(hdrs, 3, "wal2avro.commit_ts_ms", want);
	check_header(hdrs, 4, "wal2avro.schema", "public");
	check_header(hdrs, 5, "wal2avro.table", "t");
	rd_kafka_headers_destroy(hdrs);
}

static void
test_change_edges(void)
{
	check_change(0, 0, 0, 'c');
	check_change(1, 999, 1, 'u');
	check_change(UINT32_MAX, INT64_MAX, UINT64_MAX, 'd');
	check_change(12345, -1, UINT64_C(0x100000000), 'r');
	check_change(7, -999, UINT64_C(0xABCDEF0123456789), 'c');
	check_change(7, -1000, UINT64_C(0x10), 'c');
	check_change(7, -1001, UINT64_C(0xF0000000F), 'c');
	check_change(7, INT64_MIN, UINT64_C(0xFFFFFFFF), 'c');
	check_change(4000000000u, 1733220000123456, UINT64_C(0x1A2B3C4D5), 'u');
}

static void
test_change_random(void)
{
	int			i;

	srand(11);
	for (i = 0; i < 20000; i++)
	{
		uint64_t	a = ((uint64_t) rand() << 33) ^ ((uint64_t) rand() << 11) ^ (uint64_t) rand();
		uint64_t	b = ((uint64_t) rand() << 33) ^ ((uint64_t) rand() << 11) ^ (uint64_t) rand();

		/* short numbers as often as long ones */
		check_change((uint32_t) (a >> (a % 32)), (int64_t) (b >> (b % 64)) * (i % 2 ? 1 : -1),
					 b >> (a % 64), "cudr"[i % 4]);
	}
}

static void
test_others(void)
{
	rd_kafka_headers_t *hdrs;

	hdrs = record_headers_message(UINT64_C(0x16B3748), true);
	CHECK_INT(rd_kafka_header_cnt(hdrs), 2);
	check_header(hdrs, 0, "wal2avro.lsn", "0/16B3748");
	check_header(hdrs, 1, "wal2avro.transactional", "true");
	rd_kafka_headers_destroy(hdrs);

	hdrs = record_headers_message(UINT64_C(0x200000000), false);
	check_header(hdrs, 0, "wal2avro.lsn", "2/0");
	check_header(hdrs, 1, "wal2avro.transactional", "false");
	hdrs = record_headers_add_failure(hdrs, "Broker: Message size too large", "wal2avro.public.t");
	CHECK_INT(rd_kafka_header_cnt(hdrs), 4);
	check_header(hdrs, 2, "wal2avro.error", "Broker: Message size too large");
	check_header(hdrs, 3, "wal2avro.topic", "wal2avro.public.t");
	rd_kafka_headers_destroy(hdrs);

	hdrs = record_headers_add_failure(NULL, "e", "t");
	CHECK_INT(rd_kafka_header_cnt(hdrs), 2);
	check_header(hdrs, 0, "wal2avro.error", "e");
	check_header(hdrs, 1, "wal2avro.topic", "t");
	rd_kafka_headers_destroy(hdrs);

	/* the lengths given are the lengths taken: no terminator needed */
	hdrs = record_headers_schema("publicX", 6, "tableY", 5);
	check_header(hdrs, 0, "wal2avro.schema", "public");
	check_header(hdrs, 1, "wal2avro.table", "table");
	rd_kafka_headers_destroy(hdrs);
}

int
main(void)
{
	test_change_edges();
	test_change_random();
	test_others();
	return unit_finish("test_record_headers");
}
