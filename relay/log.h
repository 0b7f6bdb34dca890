/*-------------------------------------------------------------------------
 *
 * log.h
 *		The relay's logger (log.c): one line per message on standard
 *		error, levels, and the one-line error messages modules hand back.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/log.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RELAY_LOG_H
#define RELAY_LOG_H

#include <stdbool.h>
#include <stddef.h>

#if defined(__GNUC__) || defined(__clang__)
#define RELAY_PRINTF(f, a)	__attribute__((format(printf, f, a)))
#else
#define RELAY_PRINTF(f, a)
#endif

/* Log levels, most severe first: a message is printed when level <= current. */
typedef enum RelayLogLevel
{
	RELAY_LOG_ERROR = 0,
	RELAY_LOG_WARNING,
	RELAY_LOG_INFO,
	RELAY_LOG_DEBUG,
	RELAY_LOG_TRACE				/* per record: shown from -vv on */
} RelayLogLevel;

#define RELAY_LOG_DEFAULT	RELAY_LOG_INFO

/*
 * Print one line to stderr: "<ISO 8601 UTC time> wal2avro-relay: <level>:
 * <message>", written with a single write(2) so lines never interleave.  A
 * trailing newline in fmt is not needed (one is added; one given is
 * dropped).  Messages longer than 4 kB are cut and end in "...".  Never fails
 * (a failed write is ignored); safe to call from any thread.
 */
extern void relay_log(RelayLogLevel level, const char *fmt,...) RELAY_PRINTF(2, 3);

/*
 * Print "... wal2avro-relay: hint: <message>" when "level" is enabled: call
 * it just after the relay_log(level, ...) the hint explains.  The hint is a
 * full sentence, capitalized, ending in a period.
 */
extern void relay_log_hint(RelayLogLevel level, const char *fmt,...) RELAY_PRINTF(2, 3);

/*
 * Send the log (standard error) to "path", appending; call again to reopen
 * it after rotation (SIGHUP).  Returns 0, or -1 with errno set, the log
 * staying where it was.
 */
extern int	relay_log_open(const char *path);

/* Set the most verbose level printed (default RELAY_LOG_DEFAULT); clamped. */
extern void relay_log_set_level(RelayLogLevel level);
extern RelayLogLevel relay_log_get_level(void);

/* Would a message at this level be printed?  Guard costly arguments with it. */
extern bool relay_log_enabled(RelayLogLevel level);

/* The level name as printed and as "log-level" accepts it ("warning"). */
extern const char *relay_log_level_name(RelayLogLevel level);

/*
 * Parse a level name (case-insensitive: error, warning, info, debug,
 * trace); returns false and leaves *level alone when the name is unknown.
 */
extern bool relay_log_level_parse(const char *name, RelayLogLevel *level);

/* Map a syslog severity (librdkafka's log_cb "level", 0..7) to ours. */
extern RelayLogLevel relay_log_level_from_syslog(int syslog_level);

/*
 * Format a one-line error message into err (of errlen bytes, cut to fit);
 * does nothing when err is NULL or errlen 0.  The relay's modules report
 * failures this way and leave logging to their caller.
 */
extern void relay_set_error(char *err, size_t errlen, const char *fmt,...) RELAY_PRINTF(3, 4);

#endif							/* RELAY_LOG_H */
