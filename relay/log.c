/*-------------------------------------------------------------------------
 *
 * log.c
 *		The relay's logger, declared in log.h: levels, one line per
 *		message, the log file, and one-line error messages.
 *
 * The logger formats a whole line in a stack buffer and writes it with one
 * write(2), so librdkafka's threads (if its log queue is not used) cannot
 * interleave with ours, and nothing is allocated on the way to an "out of
 * memory" message.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/log.c
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "program.h"

#define LOG_LINE_MAX	4096

/* The most verbose level printed; atomic because librdkafka threads may log. */
static atomic_int log_level = RELAY_LOG_DEFAULT;

static const char *const level_names[] = {
	[RELAY_LOG_ERROR] = "error",
	[RELAY_LOG_WARNING] = "warning",
	[RELAY_LOG_INFO] = "info",
	[RELAY_LOG_DEBUG] = "debug",
	[RELAY_LOG_TRACE] = "trace",
};

static void log_line(const char *tag, const char *fmt, va_list ap) RELAY_PRINTF(2, 0);

void
relay_log_set_level(RelayLogLevel level)
{
	if ((int) level < RELAY_LOG_ERROR)
		level = RELAY_LOG_ERROR;
	if (level > RELAY_LOG_TRACE)
		level = RELAY_LOG_TRACE;
	atomic_store(&log_level, (int) level);
}

RelayLogLevel
relay_log_get_level(void)
{
	return (RelayLogLevel) atomic_load(&log_level);
}

bool
relay_log_enabled(RelayLogLevel level)
{
	return (int) level <= atomic_load(&log_level);
}

const char *
relay_log_level_name(RelayLogLevel level)
{
	if ((int) level < RELAY_LOG_ERROR || level > RELAY_LOG_TRACE)
		return "unknown";
	return level_names[level];
}

bool
relay_log_level_parse(const char *name, RelayLogLevel *level)
{
	for (int i = RELAY_LOG_ERROR; i <= RELAY_LOG_TRACE; i++)
	{
		if (strcasecmp(name, level_names[i]) == 0)
		{
			*level = (RelayLogLevel) i;
			return true;
		}
	}
	return false;
}

RelayLogLevel
relay_log_level_from_syslog(int syslog_level)
{
	if (syslog_level <= 3)		/* emerg, alert, crit, err */
		return RELAY_LOG_ERROR;
	if (syslog_level == 4)
		return RELAY_LOG_WARNING;
	if (syslog_level <= 6)		/* notice, info */
		return RELAY_LOG_INFO;
	return RELAY_LOG_DEBUG;
}

void
relay_log(RelayLogLevel level, const char *fmt,...)
{
	va_list		ap;

	if (!relay_log_enabled(level))
		return;
	va_start(ap, fmt);
	log_line(relay_log_level_name(level), fmt, ap);
	va_end(ap);
}

void
relay_log_hint(RelayLogLevel level, const char *fmt,...)
{
	va_list		ap;

	if (!relay_log_enabled(level))
		return;
	va_start(ap, fmt);
	log_line("hint", fmt, ap);
	va_end(ap);
}

/*
 * Format "<time> wal2avro-relay: <tag>: <message>\n" and write it at once.
 * The time is UTC with milliseconds, as ISO 8601 spells it.
 */
static void
log_line(const char *tag, const char *fmt, va_list ap)
{
	char		line[LOG_LINE_MAX];
	struct timespec ts;
	struct tm	tm;
	size_t		n;
	int			r;
	const char *p;
	ssize_t		w;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
	r = snprintf(line + n, sizeof(line) - n, ".%03dZ %s: %s: ",
				 (int) (ts.tv_nsec / 1000000), RELAY_PROGNAME, tag);
	if (r > 0)
		n += (size_t) r;

	/* Leave room for "...\n" in case the message is cut. */
	r = vsnprintf(line + n, sizeof(line) - n - 4, fmt, ap);
	if (r < 0)
		r = 0;
	if ((size_t) r >= sizeof(line) - n - 4)
	{
		n = sizeof(line) - 5;
		memcpy(line + n, "...", 3);
		n += 3;
	}
	else
		n += (size_t) r;
	while (n > 0 && line[n - 1] == '\n')
		n--;
	line[n++] = '\n';

	p = line;
	while (n > 0)
	{
		w = write(STDERR_FILENO, p, n);
		if (w <= 0)
			break;
		p += w;
		n -= (size_t) w;
	}
}

/*
 * Send the log to "path" (appending), by making it standard error; call
 * again after the file was rotated.
 */
int
relay_log_open(const char *path)
{
	int			fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);

	if (fd < 0)
		return -1;
	if (dup2(fd, STDERR_FILENO) < 0)
	{
		int			saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	close(fd);
	return 0;
}

void
relay_set_error(char *err, size_t errlen, const char *fmt,...)
{
	va_list		ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}
