/*-------------------------------------------------------------------------
 *
 * clock.c
 *		The relay's monotonic and wall clocks, in microseconds (clock.h).
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/clock.c
 *
 *-------------------------------------------------------------------------
 */
#include <time.h>

#include "clock.h"

int64_t
relay_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t
relay_wall_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
