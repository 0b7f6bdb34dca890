/*-------------------------------------------------------------------------
 *
 * test_clock.c
 *		Unit tests for relay/clock.c: the monotonic clock.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * regress/relay/test_clock.c
 *
 *-------------------------------------------------------------------------
 */
#include <unistd.h>

#include "clock.h"
#include "unit.h"

static void
test_clock(void)
{
	int64_t		a = relay_now_us();
	int64_t		b;

	usleep(2000);				/* the interval the clock must measure */
	b = relay_now_us();
	CHECK(a > 0);
	CHECK(b - a >= 2000);
	CHECK(b - a < 2000000);
}

int
main(void)
{
	test_clock();
	return unit_finish("test_clock");
}
