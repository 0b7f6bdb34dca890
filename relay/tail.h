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

extern int	tail_main(int argc, char **argv, volatile sig_atomic_t *stop);

#endif							/* RELAY_TAIL_H */
