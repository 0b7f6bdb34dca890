/*-------------------------------------------------------------------------
 *
 * pgerror.h
 *		What a PostgreSQL failure means for the relay: retry, retry a few
 *		times, or stop (pgerror.c).
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/pgerror.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RELAY_PGERROR_H
#define RELAY_PGERROR_H

#include <stdbool.h>

#include <libpq-fe.h>

#include "lsn.h"

/*
 * A failure that is not transient and comes again at the same stream
 * position this many times in a row stops the relay (exit status 2).
 */
#define PGERROR_MAX_REPEATS	3

typedef enum PgErrorClass
{
	PGERROR_TRANSIENT = 0,		/* goes away by itself: retry with backoff, no limit */
	PGERROR_REPEATABLE,			/* unknown, internal: retry, at most
								 * PGERROR_MAX_REPEATS times at one position */
	PGERROR_PERMANENT			/* retrying cannot help: stop */
} PgErrorClass;

/* A classified failure */
typedef struct PgError
{
	PgErrorClass cls;
	char		sqlstate[6];	/* "" when the failure carried none */
} PgError;

/*
 * The class of a SQLSTATE, by its code alone (never by message text, which
 * follows the server's lc_messages).  NULL or "" (libpq's own failures: the
 * connection lost, the server unreachable) is transient.
 */
extern PgErrorClass pgerror_class(const char *sqlstate);

/*
 * Classify a failed PGresult (NULL: a failure libpq reported without one,
 * such as a lost connection).  Never fails.
 */
extern PgError pgerror_from_result(const PGresult *res);

/*
 * Classify a failed connection attempt from its error message, which must
 * have been built with PQERRORS_VERBOSE so that the server's SQLSTATE
 * follows the severity ("FATAL:  28P01: ...").  The last SQLSTATE in the
 * message wins (libpq tries each host in turn).  No SQLSTATE: transient
 * (refused, unreachable, timed out), unless needs_password (the server
 * asked for a password and none was given), which is permanent.
 */
extern PgError pgerror_from_connect_message(const char *message, bool needs_password);

/* The class as a word for messages: "transient", "repeatable", "permanent". */
extern const char *pgerror_class_name(PgErrorClass cls);

/* Where successive failed runs failed; zero it to start */
typedef struct PgRetry
{
	Lsn			failed_at;		/* the furthest stream position a run failed at */
	int			repeats;		/* repeatable failures in a row there */
} PgRetry;

typedef enum PgRetryAction
{
	PGRETRY_AGAIN = 0,			/* retry, the backoff growing */
	PGRETRY_AGAIN_AT_ONCE,		/* retry with the backoff back at its start: the
								 * run got further than any failed before */
	PGRETRY_STOP				/* the same repeatable failure PGERROR_MAX_REPEATS
								 * times in a row at one position: stop */
} PgRetryAction;

/*
 * Note a failed run that got to stream position "pos" (INVALID_LSN: it
 * failed before streaming) and failed with a failure of class "cls"
 * (a Kafka failure: PGERROR_TRANSIENT).  A position not past failed_at
 * is "the same position": the replay got no further.  Never fails.
 */
extern PgRetryAction pgerror_note_failure(PgRetry *r, Lsn pos, PgErrorClass cls);

#endif							/* RELAY_PGERROR_H */
