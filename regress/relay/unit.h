/*-------------------------------------------------------------------------
 *
 * unit.h
 *		A tiny check library shared by the relay's unit test programs.
 *
 * Each CHECK counts one pass or one failure; a failure prints its file,
 * line and what was compared to stderr, and the program goes on.  A
 * program ends with "return unit_finish("test_frames");", which prints
 * "test_frames: 57 passed, 0 failed" (the line regress/run-relay-unit.sh
 * adds up) and returns the exit status: 0 only when nothing failed and at
 * least one check ran.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * regress/relay/unit.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef UNIT_H
#define UNIT_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* Counts for this program (each test is its own program). */
static int	unit_passed;
static int	unit_failed;

static inline void
unit_record(int ok, const char *file, int line, const char *what)
{
	if (ok)
		unit_passed++;
	else
	{
		unit_failed++;
		fprintf(stderr, "%s:%d: check failed: %s\n", file, line, what);
	}
}

#define CHECK(cond) \
	unit_record((cond) ? 1 : 0, __FILE__, __LINE__, #cond)

/* Integers, printed as signed 64-bit on failure. */
#define CHECK_INT(got, want) \
	do { \
		long long	unit_g_ = (long long) (got); \
		long long	unit_w_ = (long long) (want); \
		unit_record(unit_g_ == unit_w_, __FILE__, __LINE__, #got " == " #want); \
		if (unit_g_ != unit_w_) \
			fprintf(stderr, "    got %lld, want %lld\n", unit_g_, unit_w_); \
	} while (0)

/* Unsigned 64-bit values (LSNs, ids), printed in hex on failure. */
#define CHECK_U64(got, want) \
	do { \
		uint64_t	unit_g_ = (uint64_t) (got); \
		uint64_t	unit_w_ = (uint64_t) (want); \
		unit_record(unit_g_ == unit_w_, __FILE__, __LINE__, #got " == " #want); \
		if (unit_g_ != unit_w_) \
			fprintf(stderr, "    got 0x%" PRIX64 ", want 0x%" PRIX64 "\n", unit_g_, unit_w_); \
	} while (0)

/* NUL-terminated strings; NULL equals only NULL. */
#define CHECK_STR(got, want) \
	do { \
		const char *unit_g_ = (got); \
		const char *unit_w_ = (want); \
		int			unit_ok_ = (unit_g_ == NULL || unit_w_ == NULL) ? \
			unit_g_ == unit_w_ : strcmp(unit_g_, unit_w_) == 0; \
		unit_record(unit_ok_, __FILE__, __LINE__, #got " equals " #want); \
		if (!unit_ok_) \
			fprintf(stderr, "    got \"%s\"\n    want \"%s\"\n", \
					unit_g_ ? unit_g_ : "(null)", unit_w_ ? unit_w_ : "(null)"); \
	} while (0)

/* A string containing a substring. */
#define CHECK_CONTAINS(hay, needle) \
	do { \
		const char *unit_h_ = (hay); \
		const char *unit_n_ = (needle); \
		int			unit_ok_ = unit_h_ != NULL && strstr(unit_h_, unit_n_) != NULL; \
		unit_record(unit_ok_, __FILE__, __LINE__, #hay " contains " #needle); \
		if (!unit_ok_) \
			fprintf(stderr, "    \"%s\"\n    does not contain \"%s\"\n", \
					unit_h_ ? unit_h_ : "(null)", unit_n_); \
	} while (0)

/* Counted bytes (a FrameBytes) equal to a string. */
#define CHECK_BYTES(bytes, want) \
	do { \
		const char *unit_w_ = (want); \
		int			unit_ok_ = (bytes).len == strlen(unit_w_) && \
			((bytes).len == 0 || memcmp((bytes).data, unit_w_, (bytes).len) == 0); \
		unit_record(unit_ok_, __FILE__, __LINE__, #bytes " equals " #want); \
		if (!unit_ok_) \
			fprintf(stderr, "    got \"%.*s\" (%u bytes), want \"%s\"\n", \
					(int) (bytes).len, (bytes).data ? (const char *) (bytes).data : "", \
					(unsigned) (bytes).len, unit_w_); \
	} while (0)

/* Print the summary line; the program's exit status. */
static inline int
unit_finish(const char *name)
{
	printf("%s: %d passed, %d failed\n", name, unit_passed, unit_failed);
	fflush(stdout);
	return (unit_failed > 0 || unit_passed == 0) ? 1 : 0;
}

#endif							/* UNIT_H */
