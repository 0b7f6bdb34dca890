/*-------------------------------------------------------------------------
 *
 * test_log.c
 *		Unit tests for relay/log.c: log levels and the shape of a log line.
 *
 * Log lines go to file descriptor 2, which the test points at a temporary
 * file while it logs, then reads back.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * regress/relay/test_log.c
 *
 *-------------------------------------------------------------------------
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "lsn.h"
#include "unit.h"

static void
test_levels(void)
{
	RelayLogLevel l = RELAY_LOG_INFO;

	CHECK_STR(relay_log_level_name(RELAY_LOG_ERROR), "error");
	CHECK_STR(relay_log_level_name(RELAY_LOG_WARNING), "warning");
	CHECK_STR(relay_log_level_name(RELAY_LOG_INFO), "info");
	CHECK_STR(relay_log_level_name(RELAY_LOG_DEBUG), "debug");
	CHECK_STR(relay_log_level_name(RELAY_LOG_TRACE), "trace");
	CHECK_STR(relay_log_level_name((RelayLogLevel) 9), "unknown");
	CHECK(relay_log_level_parse("TRACE", &l) && l == RELAY_LOG_TRACE);
	CHECK(relay_log_level_parse("warning", &l) && l == RELAY_LOG_WARNING);
	CHECK(!relay_log_level_parse("warn", &l) && l == RELAY_LOG_WARNING);

	CHECK_INT(relay_log_level_from_syslog(0), RELAY_LOG_ERROR);
	CHECK_INT(relay_log_level_from_syslog(3), RELAY_LOG_ERROR);
	CHECK_INT(relay_log_level_from_syslog(4), RELAY_LOG_WARNING);
	CHECK_INT(relay_log_level_from_syslog(5), RELAY_LOG_INFO);
	CHECK_INT(relay_log_level_from_syslog(6), RELAY_LOG_INFO);
	CHECK_INT(relay_log_level_from_syslog(7), RELAY_LOG_DEBUG);

	CHECK_INT(relay_log_get_level(), RELAY_LOG_DEFAULT);
	relay_log_set_level(RELAY_LOG_WARNING);
	CHECK(relay_log_enabled(RELAY_LOG_ERROR));
	CHECK(relay_log_enabled(RELAY_LOG_WARNING));
	CHECK(!relay_log_enabled(RELAY_LOG_INFO));
	relay_log_set_level((RelayLogLevel) 42);
	CHECK_INT(relay_log_get_level(), RELAY_LOG_TRACE);
	relay_log_set_level(RELAY_LOG_DEFAULT);
}

/* Does "line" start with "YYYY-MM-DDTHH:MM:SS.mmmZ "? */
static bool
has_timestamp(const char *line)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ ";

	for (size_t i = 0; i < sizeof(shape) - 1; i++)
	{
		if (shape[i] == 'd' ? !isdigit((unsigned char) line[i]) : line[i] != shape[i])
			return false;
	}
	return true;
}

static void
test_log_lines(void)
{
	char		path[] = "/tmp/test_log.XXXXXX";
	int			fd = mkstemp(path);
	int			saved = dup(STDERR_FILENO);
	char		big[6000];
	char	   *text;
	long		size;
	FILE	   *f;
	char	   *line;
	int			n = 0;

	if (fd < 0 || saved < 0)
	{
		perror("mkstemp/dup");
		exit(2);
	}
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';

	dup2(fd, STDERR_FILENO);
	relay_log_set_level(RELAY_LOG_INFO);
	relay_log(RELAY_LOG_ERROR, "could not connect to server: %s", "boom");
	relay_log_hint(RELAY_LOG_ERROR, "Is the server running on \"%s\"?", "db1");
	relay_log(RELAY_LOG_INFO, "confirmed " LSN_FMT ", %d records in flight",
			  LSN_ARGS(UINT64_C(0x16B3F10)), 1203);
	relay_log(RELAY_LOG_DEBUG, "not shown");
	relay_log_hint(RELAY_LOG_DEBUG, "Not shown either.");
	relay_log(RELAY_LOG_WARNING, "trailing newline dropped\n");
	relay_log(RELAY_LOG_WARNING, "%s", big);
	relay_log_set_level(RELAY_LOG_TRACE);
	relay_log(RELAY_LOG_TRACE, "record %d", 7);
	relay_log_set_level(RELAY_LOG_DEFAULT);
	dup2(saved, STDERR_FILENO);
	close(saved);

	f = fdopen(fd, "r");
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	rewind(f);
	text = calloc(1, (size_t) size + 1);
	if (fread(text, 1, (size_t) size, f) != (size_t) size)
		perror("fread");
	fclose(f);
	unlink(path);

	for (line = strtok(text, "\n"); line; line = strtok(NULL, "\n"), n++)
	{
		CHECK(has_timestamp(line));
		switch (n)
		{
			case 0:
				CHECK_STR(line + 25, "wal2avro-relay: error: could not connect to server: boom");
				break;
			case 1:
				CHECK_STR(line + 25, "wal2avro-relay: hint: Is the server running on \"db1\"?");
				break;
			case 2:
				CHECK_STR(line + 25, "wal2avro-relay: info: confirmed 0/16B3F10, 1203 records in flight");
				break;
			case 3:
				CHECK_STR(line + 25, "wal2avro-relay: warning: trailing newline dropped");
				break;
			case 4:
				/* Cut at 4 kB with "..." and still one line. */
				CHECK_INT(strlen(line), 4094);
				CHECK(strncmp(line + 25, "wal2avro-relay: warning: xxx", 28) == 0);
				CHECK_STR(line + strlen(line) - 4, "x...");
				break;
			case 5:
				CHECK_STR(line + 25, "wal2avro-relay: trace: record 7");
				break;
		}
	}
	CHECK_INT(n, 6);
	free(text);
}

int
main(void)
{
	test_levels();
	test_log_lines();
	return unit_finish("test_log");
}
