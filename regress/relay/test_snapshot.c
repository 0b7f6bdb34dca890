/*-------------------------------------------------------------------------
 *
 * test_snapshot.c
 *		Unit tests for the pure part of relay/snapshot.c: the plugin options
 *		as the text[] literal snapshot_frames() takes.  Names and values may
 *		hold anything a configuration allows (quoted table names with commas,
 *		quotes, backslashes, braces), and a value-less option must stay NULL,
 *		so a wrong literal would make the snapshot read other tables than the
 *		stream, or fail.  And when the options ask for Debezium's records,
 *		whose snapshot rows the relay tells more (snapshot_debezium.c).
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * regress/relay/test_snapshot.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "snapshot.h"
#include "snapshot_internal.h"
#include "unit.h"

static void
check_literal(RelaySetting *items, size_t n, const char *want)
{
	RelaySettingList list = {items, n, n};
	char	   *got = snapshot_options_array(&list);

	CHECK(got != NULL);
	if (got)
		CHECK_STR(got, want);
	free(got);
}

static void
test_plain(void)
{
	RelaySetting none[1];
	RelaySetting two[] = {{"topic-prefix", "prod"}, {"include-timestamps", "false"}};

	check_literal(none, 0, "{}");
	check_literal(two, 2, "{\"topic-prefix\",\"prod\",\"include-timestamps\",\"false\"}");
}

/* an option given without a value is NULL, the word "NULL" is a string */
static void
test_null(void)
{
	RelaySetting opts[] = {{"flag", NULL}, {"topic", "NULL"}};

	check_literal(opts, 2, "{\"flag\",NULL,\"topic\",\"NULL\"}");
}

/* quotes and backslashes are escaped; commas, braces and spaces are kept */
static void
test_escapes(void)
{
	RelaySetting opts[] = {
		{"include-tables", "public.\"a,b\",s.\"say \"\"hi\"\"\""},
		{"topic", "x\\y{z} w"},
		{"exclude-columns", ""},
	};

	check_literal(opts, 3,
				  "{\"include-tables\",\"public.\\\"a,b\\\",s.\\\"say \\\"\\\"hi\\\"\\\"\\\"\","
				  "\"topic\",\"x\\\\y{z} w\",\"exclude-columns\",\"\"}");
}

/* long values grow the buffer */
static void
test_long(void)
{
	char	   *big = malloc(5001);
	char	   *want = malloc(2 * 5001 + 32);
	char	   *w = want;
	RelaySetting opts[1];

	memset(big, '"', 5000);
	big[5000] = '\0';
	w += sprintf(w, "{\"k\",\"");
	for (int i = 0; i < 5000; i++)
		w += sprintf(w, "\\\"");
	strcpy(w, "\"}");
	opts[0].name = "k";
	opts[0].value = big;
	check_literal(opts, 1, want);
	free(big);
	free(want);
}

/* only compat=debezium, with its value, is Debezium's */
static void
test_debezium(void)
{
	RelaySetting dbz[] = {{"topic-prefix", "debezium"}, {"compat", "debezium"}};
	RelaySetting own[] = {{"compat", "wal2avro"}, {"envelope", "debezium"}};
	RelaySetting bare[] = {{"compat", NULL}};
	RelaySettingList l_dbz = {dbz, 2, 2};
	RelaySettingList l_own = {own, 2, 2};
	RelaySettingList l_bare = {bare, 1, 1};
	RelaySettingList l_none = {NULL, 0, 0};

	CHECK(snapshot_options_debezium(&l_dbz));
	CHECK(!snapshot_options_debezium(&l_own));
	CHECK(!snapshot_options_debezium(&l_bare));
	CHECK(!snapshot_options_debezium(&l_none));
}

int
main(void)
{
	test_plain();
	test_null();
	test_escapes();
	test_long();
	test_debezium();
	return unit_finish("test_snapshot");
}
