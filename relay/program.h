/*-------------------------------------------------------------------------
 *
 * program.h
 *		The program's name, version and bug address, and its exit codes.
 *
 * Shared by main.c (which alone decides the exit code), the --help and
 * --version text, the log line prefix and the client names sent to
 * PostgreSQL and Kafka.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/program.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RELAY_PROGRAM_H
#define RELAY_PROGRAM_H

#define RELAY_PROGNAME		"wal2avro-relay"
#define RELAY_VERSION		"0.1.0"
#define RELAY_BUGS_URL		"https://github.com/wal2avro/wal2avro/issues"

/* Exit status of the process; listed in --help, decided only by main. */
typedef enum RelayExit
{
	RELAY_EXIT_OK = 0,			/* stopped on request, or reached endpos with all confirmed */
	RELAY_EXIT_CONFIG = 1,		/* usage or configuration error */
	RELAY_EXIT_PG = 2,			/* PostgreSQL failure not retried */
	RELAY_EXIT_KAFKA = 3		/* fatal Kafka error, or a delivery failed under on-error=stop */
} RelayExit;

#endif							/* RELAY_PROGRAM_H */
