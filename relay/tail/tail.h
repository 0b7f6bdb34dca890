/*-------------------------------------------------------------------------
 *
 * tail.h
 *		The tail subcommand (tail.c).
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/tail/tail.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RELAY_TAIL_H
#define RELAY_TAIL_H

#include <signal.h>

/*
 * "wal2avro-relay tail [OPTION]... TOPIC...": argv from the word "tail" on
 * "tail".  Returns the process's exit status; stops early when *stop is set.
 */
extern int	tail_main(int argc, char **argv, volatile sig_atomic_t *stop);

#endif							/* RELAY_TAIL_H */
