/*-------------------------------------------------------------------------
 *
 * tail.h
 *		The tail subcommand (tail.c).
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/tail.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RELAY_TAIL_H
#define RELAY_TAIL_H

#include <signal.h>
#include <stdbool.h>

#include <librdkafka/rdkafka.h>

/* Called for each message tail_read_topic reads. */
typedef void (*TailMessageFn) (void *ctx, const rd_kafka_message_t *m);

extern int	tail_read_topic(rd_kafka_conf_t *conf, const char *topic, TailMessageFn fn,
							void *ctx, bool *complete, char *err, size_t errlen);

extern int	tail_main(int argc, char **argv, volatile sig_atomic_t *stop);

#endif							/* RELAY_TAIL_H */
