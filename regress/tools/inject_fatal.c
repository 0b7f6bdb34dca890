/*-------------------------------------------------------------------------
 *
 * inject_fatal.c
 *		An LD_PRELOAD shim for end-to-end tests: raises a fatal producer
 *		error inside a running wal2avro-relay, as librdkafka would after a
 *		broken idempotent sequence.
 *
 * The relay's producer is the handle it passes to rd_kafka_poll.  When the
 * file named by W2A_INJECT_FATAL exists and is empty, the error is raised
 * right before the next record's headers are made (rd_kafka_headers_new),
 * so the produce call that follows finds the producer dead, as when
 * librdkafka's own threads raise the error between two polls under load;
 * the file is removed then.  When it holds "always", every producer gets
 * the error at its first poll, and the file stays (for the bound on fatal
 * errors in a row).
 *
 * Build: cc -shared -fPIC -o inject_fatal.so inject_fatal.c -lrdkafka -ldl
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * regress/tools/inject_fatal.c
 *
 *-------------------------------------------------------------------------
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

typedef int (*PollFn) (rd_kafka_t *rk, int timeout_ms);
typedef rd_kafka_headers_t *(*HeadersNewFn) (size_t initial_count);
typedef void (*DestroyFn) (rd_kafka_t *rk);

static rd_kafka_t *producer;	/* the handle last polled, until destroyed */

/* The trigger file's mode: -1 no file, 0 once, 1 always. */
static int
trigger(void)
{
	const char *path = getenv("W2A_INJECT_FATAL");
	FILE	   *f;
	char		mode[16] = "";

	if (path == NULL || (f = fopen(path, "r")) == NULL)
		return -1;
	if (fgets(mode, sizeof(mode), f) == NULL)
		mode[0] = '\0';
	fclose(f);
	return strncmp(mode, "always", 6) == 0;
}

static void
inject(rd_kafka_t *rk)
{
	char		err[8];

	if (rd_kafka_fatal_error(rk, err, sizeof(err)) == RD_KAFKA_RESP_ERR_NO_ERROR)
		rd_kafka_test_fatal_error(rk, RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER,
								  "injected by regress/tools/inject_fatal.c");
}

int
rd_kafka_poll(rd_kafka_t *rk, int timeout_ms)
{
	static PollFn real;

	if (real == NULL)
		real = (PollFn) dlsym(RTLD_NEXT, "rd_kafka_poll");
	producer = rk;
	if (trigger() == 1)
		inject(rk);
	return real(rk, timeout_ms);
}

rd_kafka_headers_t *
rd_kafka_headers_new(size_t initial_count)
{
	static HeadersNewFn real;

	if (real == NULL)
		real = (HeadersNewFn) dlsym(RTLD_NEXT, "rd_kafka_headers_new");
	if (producer && trigger() == 0)
	{
		unlink(getenv("W2A_INJECT_FATAL"));
		inject(producer);
	}
	return real(initial_count);
}

void
rd_kafka_destroy(rd_kafka_t *rk)
{
	static DestroyFn real;

	if (real == NULL)
		real = (DestroyFn) dlsym(RTLD_NEXT, "rd_kafka_destroy");
	if (rk == producer)
		producer = NULL;
	real(rk);
}
