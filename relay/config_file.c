/*-------------------------------------------------------------------------
 *
 * config_file.c
 *		Read the relay's config file: "key = value" lines.
 *
 * Blank lines and lines starting with "#" are ignored, and so is blank
 * space around keys and values (a key may be indented).  A value runs to
 * the end of the line ("#" kept) unless double-quoted; a quoted value knows
 * the escapes \" and \\ and may be followed by a "#" comment.  The first
 * error stops the reading, as "file:line: message".
 *
 * Why not Debian's libinih (libinih-dev, r55, checked against this syntax):
 * its rules are INI's, not these, and they are compiled into the shared
 * library, so they cannot be turned off.  Concretely:
 *   - it does not unquote: slot = "s" gives the value "s" with its quotes,
 *     and a "# comment" after a quoted value stays in the value; every
 *     string --print-config writes is quoted, so its output would no longer
 *     read back with -c;
 *   - " ;" starts an inline comment, silently cutting a value such as a
 *     conninfo "options='-c a=1 ;...'" (INI_INLINE_COMMENT_PREFIXES ";");
 *   - an indented line after a key is a continuation: "  brokers = b:1"
 *     becomes a second value of the key before it (INI_ALLOW_MULTILINE);
 *   - ":" separates like "=", so "slot wal2avro:x" sets key "slot wal2avro",
 *     and "[name]" lines are taken as sections instead of syntax errors;
 *   - lines are read into 200 bytes on the stack (INI_MAX_LINE): a longer
 *     conninfo, kafka.sasl.jaas.config or heartbeat-action-query reaches the
 *     handler cut at 199 bytes before the error is known;
 *   - a NUL byte silently ends the line (fgets and strlen);
 *   - errors carry a line number only, no message of their own, and the
 *     parse goes on after a failed key (INI_STOP_ON_FIRST_ERROR 0), so later
 *     keys are still applied.
 * Keeping our syntax through inih would mean re-scanning each value after
 * it, which is most of this file again.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/config_file.c
 *
 *-------------------------------------------------------------------------
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"

/* The value after a '"' at p, unescaped in place; NULL with a message. */
static char *
unquote(char *p, const char *key, char *err, size_t errlen)
{
	char	   *value = p;
	char	   *end = p;

	for (;;)
	{
		if (*p == '\0')
		{
			relay_set_error(err, errlen, "unterminated quoted value for \"%s\"", key);
			return NULL;
		}
		if (*p == '"')
			break;
		if (*p == '\\')
		{
			if (p[1] != '"' && p[1] != '\\')
			{
				relay_set_error(err, errlen,
								"invalid escape \"\\%c\" in the value of \"%s\" (only \\\" and \\\\ are known)",
								p[1] ? p[1] : ' ', key);
				return NULL;
			}
			p++;
		}
		*end++ = *p++;
	}
	*end = '\0';
	for (p++; isspace((unsigned char) *p); p++)
		;
	if (*p != '\0' && *p != '#')
	{
		relay_set_error(err, errlen, "unexpected text after the quoted value of \"%s\"", key);
		return NULL;
	}
	return value;
}

/*
 * Split one line into key and value, in place.  Returns 1 with *key and
 * *value set, 0 for a blank or comment line, -1 with a message.
 */
static int
split_line(char *line, char **key, char **value, char *err, size_t errlen)
{
	char	   *p = line;
	char	   *end;

	while (isspace((unsigned char) *p))
		p++;
	if (*p == '\0' || *p == '#')
		return 0;
	*key = p;
	while (*p && !isspace((unsigned char) *p) && *p != '=')
		p++;
	end = p;
	while (isspace((unsigned char) *p))
		p++;
	if (*p != '=')
	{
		*end = '\0';
		relay_set_error(err, errlen, "syntax error: expected \"=\" after \"%s\"", *key);
		return -1;
	}
	*end = '\0';
	for (p++; isspace((unsigned char) *p); p++)
		;
	if (*p == '"')
		return (*value = unquote(p + 1, *key, err, errlen)) ? 1 : -1;
	*value = p;
	end = p + strlen(p);
	while (end > p && isspace((unsigned char) end[-1]))
		end--;
	*end = '\0';
	return 1;
}

int
config_file_read(RelayConfig *cfg, const char *path, char *err, size_t errlen)
{
	FILE	   *f = fopen(path, "r");
	char	   *line = NULL;
	size_t		size = 0;
	ssize_t		n;
	int			lineno = 0;
	char		msg[512] = "";
	int			rc = 0;

	if (f == NULL)
	{
		relay_set_error(err, errlen, "could not open configuration file \"%s\": %s",
						path, strerror(errno));
		return -1;
	}
	while (rc == 0 && (n = getline(&line, &size, f)) >= 0)
	{
		char	   *key;
		char	   *value;
		int			r;

		lineno++;
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		if (n > 0 && line[n - 1] == '\r')
			line[--n] = '\0';
		if (strlen(line) != (size_t) n)
		{
			relay_set_error(msg, sizeof(msg), "line contains a NUL byte");
			r = -1;
		}
		else
			r = split_line(line, &key, &value, msg, sizeof(msg));
		if (r > 0)
			r = config_set(cfg, key, value, msg, sizeof(msg));
		if (r < 0)
		{
			relay_set_error(err, errlen, "%s:%d: %s", path, lineno, msg);
			rc = -1;
		}
	}
	if (rc == 0 && ferror(f))
	{
		relay_set_error(err, errlen, "could not read configuration file \"%s\": %s",
						path, strerror(errno));
		rc = -1;
	}
	free(line);
	fclose(f);
	return rc;
}
