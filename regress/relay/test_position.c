/*-------------------------------------------------------------------------
 *
 * test_position.c
 *		Unit tests for relay/position.c: where a stream starts from the
 *		stored and the slot's positions, what it skips, the record's text,
 *		and that nothing is confirmed before its record is acknowledged.
 *
 * The last part produces to librdkafka's in-process mock cluster
 * (test.mock.num.brokers), so no broker is needed.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * regress/relay/test_position.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "kafka_writer.h"
#include "log.h"
#include "lsn.h"
#include "lsn_tracker.h"
#include "position.h"
#include "producer.h"
#include "unit.h"

#define SYSID	"7301234567890123456"

static PositionRecord
stored_at(Lsn lsn)
{
	PositionRecord r;

	memset(&r, 0, sizeof(r));
	r.valid = true;
	r.lsn = lsn;
	strcpy(r.sysid, SYSID);
	r.timeline = 1;
	strcpy(r.slot, "s1");
	return r;
}

static void
test_decide(void)
{
	PositionRecord rec = stored_at(0x4AB9E40);
	PositionStart st;

	/* the case: the slot rolled back, the stored position wins */
	st = position_decide(&rec, SYSID, 1, false, "s1", 0x20CB460, 0x5000000);
	CHECK_INT(st.verdict, POSITION_AHEAD_OF_SLOT);
	CHECK_U64(st.request, 0x4AB9E40);
	CHECK_U64(st.from, 0x4AB9E40);
	CHECK_U64(st.skip_before, 0x4AB9E40);

	/* equal to the server's WAL end: still ours */
	st = position_decide(&rec, SYSID, 1, false, "s1", 0x20CB460, 0x4AB9E40);
	CHECK_INT(st.verdict, POSITION_AHEAD_OF_SLOT);
	CHECK_U64(st.request, 0x4AB9E40);

	/* the WAL end unknown: ours */
	st = position_decide(&rec, SYSID, 1, false, "s1", 0x20CB460, INVALID_LSN);
	CHECK_INT(st.verdict, POSITION_AHEAD_OF_SLOT);

	/* nothing stored, or no record at all: the slot's */
	st = position_decide(NULL, SYSID, 1, false, "s1", 0x20CB460, 0x5000000);
	CHECK_INT(st.verdict, POSITION_NONE);
	CHECK_U64(st.request, INVALID_LSN);
	CHECK_U64(st.from, 0x20CB460);
	CHECK_U64(st.skip_before, 0x20CB460);
	rec.valid = false;
	st = position_decide(&rec, SYSID, 1, false, "s1", 0x20CB460, 0x5000000);
	CHECK_INT(st.verdict, POSITION_NONE);
	CHECK_U64(st.request, INVALID_LSN);
	rec.valid = true;

	/* the slot is where we are, or ahead (another client moved it) */
	st = position_decide(&rec, SYSID, 1, false, "s1", 0x4AB9E40, 0x5000000);
	CHECK_INT(st.verdict, POSITION_AT_SLOT);
	CHECK_U64(st.request, INVALID_LSN);
	CHECK_U64(st.from, 0x4AB9E40);
	st = position_decide(&rec, SYSID, 1, false, "s1", 0x4C00000, 0x5000000);
	CHECK_INT(st.verdict, POSITION_AT_SLOT);
	CHECK_U64(st.from, 0x4C00000);
	CHECK_U64(st.skip_before, 0x4C00000);

	/* past the server's WAL (a restored backup): the slot's */
	st = position_decide(&rec, SYSID, 1, false, "s1", 0x20CB460, 0x4000000);
	CHECK_INT(st.verdict, POSITION_AHEAD_OF_WAL);
	CHECK_U64(st.request, INVALID_LSN);
	CHECK_U64(st.from, 0x20CB460);
	CHECK_U64(st.skip_before, 0x20CB460);

	/* another system, timeline or slot: the slot's */
	st = position_decide(&rec, "7301234567890123457", 1, false, "s1", 0x20CB460, 0x5000000);
	CHECK_INT(st.verdict, POSITION_OTHER_SERVER);
	CHECK_U64(st.request, INVALID_LSN);
	CHECK_U64(st.skip_before, 0x20CB460);
	st = position_decide(&rec, SYSID, 2, false, "s1", 0x20CB460, 0x5000000);
	CHECK_INT(st.verdict, POSITION_OTHER_SERVER);
	CHECK_U64(st.from, 0x20CB460);
	st = position_decide(&rec, SYSID, 1, false, "s2", 0x20CB460, 0x5000000);
	CHECK_INT(st.verdict, POSITION_OTHER_SERVER);
	CHECK_U64(st.request, INVALID_LSN);

	/* a promoted standby whose history holds the stored position: ours */
	st = position_decide(&rec, SYSID, 2, true, "s1", 0x20CB460, 0x5000000);
	CHECK_INT(st.verdict, POSITION_AHEAD_OF_SLOT);
	CHECK_U64(st.request, 0x4AB9E40);
	CHECK_U64(st.skip_before, 0x4AB9E40);
	/* ... but not of another system or slot */
	st = position_decide(&rec, "7301234567890123457", 2, true, "s1", 0x20CB460, 0x5000000);
	CHECK_INT(st.verdict, POSITION_OTHER_SERVER);
	st = position_decide(&rec, SYSID, 2, true, "s2", 0x20CB460, 0x5000000);
	CHECK_INT(st.verdict, POSITION_OTHER_SERVER);
}

static void
test_on_history(void)
{
	const char *history = "1\t0/4AB9E40\tno recovery target specified\n"
		"2\t0/5000000\tbefore 2000-01-01 00:00:00+00\n";

	/* timeline 1 went on to 0/4AB9E40: a position up to there holds */
	CHECK(position_on_history(history, 1, 0x4AB9E40));
	CHECK(position_on_history(history, 1, 0x20CB460));
	/* past the switch, timeline 1's WAL is not this server's */
	CHECK(!position_on_history(history, 1, 0x4AB9E41));
	CHECK(position_on_history(history, 2, 0x5000000));
	CHECK(!position_on_history(history, 2, 0x5000001));
	/* a timeline the history does not name, an empty or broken history */
	CHECK(!position_on_history(history, 3, 0x100));
	CHECK(!position_on_history("", 1, 0x100));
	CHECK(!position_on_history("1\tnot-an-lsn\treason\n", 1, 0x100));
	CHECK(!position_on_history("# comment\n\n", 1, 0x100));
	/* no newline after the last line */
	CHECK(position_on_history("1\t0/3000158\tno recovery target specified", 1, 0x3000100));
}

static void
test_covers(void)
{
	/* a transaction confirmed at X has its commit record start before X */
	CHECK(position_covers(0x4AB9E40, 0x4AB9E10));
	CHECK(position_covers(0x4AB9E40, 0x100));
	/* the next one's commit record starts at X or later */
	CHECK(!position_covers(0x4AB9E40, 0x4AB9E40));
	CHECK(!position_covers(0x4AB9E40, 0x4AB9F00));
	/* no position, or no LSN: nothing is covered */
	CHECK(!position_covers(INVALID_LSN, 0x100));
	CHECK(!position_covers(0x4AB9E40, INVALID_LSN));
}

static void
check_parse_fails(const char *text, int line)
{
	PositionRecord rec;
	bool		ok = position_parse(text, strlen(text), &rec);

	unit_record(!ok && !rec.valid, __FILE__, line, text);
}

static void
test_text(void)
{
	PositionRecord rec = stored_at(0x16B374D848),
				back;
	char		buf[256];
	int			n;
	const char *want = "confirmed 16/B374D848 system " SYSID " timeline 1 slot s1";

	n = position_format(&rec, buf, sizeof(buf));
	CHECK_INT(n, strlen(want));
	CHECK_STR(buf, want);
	CHECK(position_parse(buf, (size_t) n, &back));
	CHECK(back.valid);
	CHECK_U64(back.lsn, 0x16B374D848);
	CHECK_STR(back.sysid, SYSID);
	CHECK_INT(back.timeline, 1);
	CHECK_STR(back.slot, "s1");
	CHECK_INT(position_format(&rec, buf, 20), -1);

	/* not NUL terminated: only len bytes count */
	memcpy(buf, want, strlen(want));
	strcpy(buf + strlen(want), " trailing");
	CHECK(position_parse(buf, strlen(want), &back));
	CHECK_U64(back.lsn, 0x16B374D848);

	check_parse_fails("", __LINE__);
	check_parse_fails("creating", __LINE__);
	check_parse_fails("done 0/1", __LINE__);
	check_parse_fails("confirmed 0/1", __LINE__);
	check_parse_fails("confirmed zz/1 system 1 timeline 1 slot s", __LINE__);
	check_parse_fails("confirmed 0/1 system x1 timeline 1 slot s", __LINE__);
	check_parse_fails("confirmed 0/1 system 1 timeline 1 slot s extra", __LINE__);
	check_parse_fails("confirmed 0/1 system 1 timeline 1 slot", __LINE__);
}

/* Serve delivery reports until the limit reaches "want" (at most 10 s). */
static bool
wait_limit(Position *p, KafkaWriter *r, Producer *prod, Lsn confirmable, Lsn want)
{
	char		err[256];
	int			i;

	for (i = 0; i < 100; i++)
	{
		if (position_step(p, r, confirmable, false, err, sizeof(err)) != WRITER_OK)
			return false;
		if (position_limit(p) >= want)
			return true;
		producer_poll(prod, 100);
	}
	return false;
}

static void
test_written_before_confirmed(void)
{
	char	   *argv[] = {"wal2avro-relay", "-d", "dbname=x", "-b", "localhost:1", "-S", "s1",
		"-X", "test.mock.num.brokers=1", NULL};
	RelayConfig cfg;
	LsnTracker	tracker;
	KafkaWriter    *records;
	Producer   *prod;
	Position   *p;
	char		err[512];
	const PositionRecord *known;

	if (config_parse(&cfg, (int) (sizeof(argv) / sizeof(argv[0])) - 1, argv, err, sizeof(err)) != 0)
	{
		fprintf(stderr, "config: %s\n", err);
		CHECK(false);
		return;
	}
	free(cfg.brokers);
	cfg.brokers = NULL;			/* the mock cluster's own */
	lsn_tracker_init(&tracker, INVALID_LSN);
	records = writer_create(&cfg, &tracker);
	prod = producer_create(&cfg, writer_delivery_fn(), records, err, sizeof(err));
	CHECK(records != NULL && prod != NULL);
	if (records == NULL || prod == NULL)
	{
		fprintf(stderr, "producer: %s\n", err);
		return;
	}
	writer_set_producer(records, prod);
	p = position_create(&cfg);
	CHECK(p != NULL);

	/* a new stream from 0/1000: that much may be confirmed at once */
	position_begin(p, SYSID, 1, 0x1000, false);
	CHECK_U64(position_limit(p), 0x1000);
	CHECK(position_settled(p, 0x1000));

	/* acknowledged up to 0/2000: not confirmed before the record is */
	CHECK_INT(position_step(p, records, 0x2000, false, err, sizeof(err)), WRITER_OK);
	CHECK_U64(position_limit(p), 0x1000);
	CHECK(!position_settled(p, 0x2000));
	CHECK_INT(producer_outq_len(prod), 1);
	/* one record in flight at a time */
	CHECK_INT(position_step(p, records, 0x3000, true, err, sizeof(err)), WRITER_OK);
	CHECK_INT(producer_outq_len(prod), 1);
	CHECK_U64(position_limit(p), 0x1000);

	CHECK(wait_limit(p, records, prod, 0x3000, 0x2000));
	CHECK_U64(position_limit(p), 0x2000);
	/* the next waits a second after the last, unless forced */
	CHECK_INT(position_step(p, records, 0x3000, true, err, sizeof(err)), WRITER_OK);
	CHECK(wait_limit(p, records, prod, 0x3000, 0x3000));
	CHECK_U64(position_limit(p), 0x3000);
	CHECK(position_settled(p, 0x3000));
	CHECK_INT(producer_outq_len(prod), 0);

	/* nothing moved: nothing sent */
	CHECK_INT(position_step(p, records, 0x3000, true, err, sizeof(err)), WRITER_OK);
	CHECK_INT(producer_outq_len(prod), 0);

	/* what was acknowledged is known for the next stream of this process */
	known = position_known(p);
	CHECK(known->valid);
	CHECK_U64(known->lsn, 0x3000);
	CHECK_STR(known->sysid, SYSID);
	CHECK_STR(known->slot, "s1");

	/* a new slot forgets it */
	position_begin(p, SYSID, 1, 0x9000, true);
	CHECK(!position_known(p)->valid);
	CHECK_U64(position_limit(p), 0x9000);

	position_free(p);
	producer_destroy(prod, 1000);
	writer_free(records);
	lsn_tracker_free(&tracker);
	config_free(&cfg);
}

int
main(void)
{
	relay_log_set_level(RELAY_LOG_WARNING);
	test_decide();
	test_on_history();
	test_covers();
	test_text();
	test_written_before_confirmed();
	return unit_finish("test_position");
}
