/*-------------------------------------------------------------------------
 *
 * clock.h
 *		The relay's two clocks, in microseconds (clock.c).
 *
 * The monotonic clock measures intervals (timeouts, rates, ages); the wall
 * clock stamps what leaves the process (heartbeats, snapshot markers,
 * metrics timestamps, status updates to PostgreSQL).
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/clock.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RELAY_CLOCK_H
#define RELAY_CLOCK_H

#include <stdint.h>

/* Monotonic clock in microseconds: the relay's one clock unit.  Never fails. */
extern int64_t relay_now_us(void);

/* Wall clock: microseconds since the Unix epoch (UTC).  Never fails. */
extern int64_t relay_wall_now_us(void);

#endif							/* RELAY_CLOCK_H */
