/*-------------------------------------------------------------------------
 *
 * test_lsn.c
 *		Unit tests for relay/lsn.c: LSN text, parsed and printed.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * regress/relay/test_lsn.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>

#include "lsn.h"
#include "unit.h"

static void
check_lsn(const char *text, bool ok, Lsn want, int line)
{
	Lsn			got = 12345;
	bool		r = relay_lsn_parse(text, &got);

	unit_record(r == ok && (!ok || got == want) && (ok || got == 12345),
				__FILE__, line, text);
	if (r != ok || (ok && got != want))
		fprintf(stderr, "    \"%s\": got %d " LSN_FMT "\n", text, r, LSN_ARGS(got));
}

#define CHECK_LSN(text, ok, want) check_lsn(text, ok, want, __LINE__)

static void
test_lsn(void)
{
	char		buf[LSN_TEXT_SIZE];

	CHECK_LSN("0/0", true, 0);
	CHECK_LSN("16/B374D848", true, UINT64_C(0x16B374D848));
	CHECK_LSN("16/b374d848", true, UINT64_C(0x16B374D848));
	CHECK_LSN("FFFFFFFF/FFFFFFFF", true, UINT64_MAX);
	CHECK_LSN("00000001/00000002", true, UINT64_C(0x100000002));
	CHECK_LSN("", false, 0);
	CHECK_LSN("/", false, 0);
	CHECK_LSN("1/", false, 0);
	CHECK_LSN("/1", false, 0);
	CHECK_LSN("1", false, 0);
	CHECK_LSN("1/2/3", false, 0);
	CHECK_LSN("123456789/0", false, 0);
	CHECK_LSN("0/123456789", false, 0);
	CHECK_LSN(" 1/2", false, 0);
	CHECK_LSN("1/2 ", false, 0);
	CHECK_LSN("+1/2", false, 0);
	CHECK_LSN("0x1/2", false, 0);
	CHECK_LSN("G/0", false, 0);

	snprintf(buf, sizeof(buf), LSN_FMT, LSN_ARGS(UINT64_MAX));
	CHECK_STR(buf, "FFFFFFFF/FFFFFFFF");
	snprintf(buf, sizeof(buf), LSN_FMT, LSN_ARGS(UINT64_C(0x16B374D848)));
	CHECK_STR(buf, "16/B374D848");
	snprintf(buf, sizeof(buf), LSN_FMT, LSN_ARGS(INVALID_LSN));
	CHECK_STR(buf, "0/0");
}

int
main(void)
{
	test_lsn();
	return unit_finish("test_lsn");
}
