/*-------------------------------------------------------------------------
 *
 * pgerror.c
 *		Classify every PostgreSQL failure the relay meets by SQLSTATE:
 *		transient (retry with backoff), repeatable (retry a few times at
 *		one position, then stop) or permanent (stop).
 *
 * The one place that decides it: the message text follows the server's
 * lc_messages and is never looked at.  A failure libpq reports without a
 * SQLSTATE (the connection lost, the server unreachable) is transient.
 *
 * Permanent: classes 0A (feature not supported), 0L, 0P, 22 (data
 * exception: a value the plugin cannot convert), 23, 28 (authentication),
 * 3D (no such database), 3F, 42 (syntax, access, undefined object: a bad
 * plugin option), 44, 54 (program limit: max-record-size, the frame
 * limit), F0; and 55000 (object not in prerequisite state: an invalidated
 * slot, wal_level below logical, a slot of another database) and 58P01
 * (undefined file: the plugin library missing, WAL already removed).
 * Transient: classes 08 (connection), 25, 40 (serialization, deadlock), 53
 * (insufficient resources), 55 but 55000 (55006: a slot active for another
 * PID, as after a kill -9; 55P03: lock not available), 57 (operator
 * intervention: shutdown, cancel), 58 but 58P01, 72.  Everything else,
 * XX000 (internal error, what the plugin's elog(ERROR) raises) included, is
 * repeatable.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/pgerror.c
 *
 *-------------------------------------------------------------------------
 */
#include <string.h>

#include "lsn.h"
#include "pgerror.h"

/* Classes (the first two characters) that retrying cannot fix */
static const char *const permanent_classes[] = {
	"0A", "0L", "0P", "22", "23", "28", "3D", "3F", "42", "44", "54", "F0", NULL
};

/* Classes that go away by themselves */
static const char *const transient_classes[] = {
	"08", "25", "40", "53", "55", "57", "58", "72", NULL
};

/* Single codes of a transient class that are permanent */
static const char *const permanent_codes[] = {
	"55000", "58P01", NULL
};

static bool
in_list(const char *const *list, const char *code, size_t len)
{
	for (; *list; list++)
	{
		if (strncmp(*list, code, len) == 0)
			return true;
	}
	return false;
}

static bool
is_sqlstate(const char *s)
{
	int			i;

	for (i = 0; i < 5; i++)
	{
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'Z')))
			return false;
	}
	return true;
}

PgErrorClass
pgerror_class(const char *sqlstate)
{
	if (sqlstate == NULL || sqlstate[0] == '\0')
		return PGERROR_TRANSIENT;
	if (strlen(sqlstate) != 5 || !is_sqlstate(sqlstate))
		return PGERROR_REPEATABLE;
	if (in_list(permanent_codes, sqlstate, 5) || in_list(permanent_classes, sqlstate, 2))
		return PGERROR_PERMANENT;
	if (in_list(transient_classes, sqlstate, 2))
		return PGERROR_TRANSIENT;
	return PGERROR_REPEATABLE;
}

static PgError
make_error(const char *sqlstate)
{
	PgError		e;

	memset(&e, 0, sizeof(e));
	if (sqlstate && strlen(sqlstate) == 5)
		memcpy(e.sqlstate, sqlstate, 5);
	e.cls = pgerror_class(e.sqlstate);
	return e;
}

PgError
pgerror_from_result(const PGresult *res)
{
	return make_error(res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL);
}

PgError
pgerror_from_connect_message(const char *message, bool needs_password)
{
	const char *found = NULL;
	const char *p;
	PgError		e;

	/*
	 * A verbose message reads "<severity>:  <SQLSTATE>: <text>": the
	 * severity is translated, the two spaces and the code are not.
	 */
	for (p = message ? strstr(message, ":  ") : NULL; p; p = strstr(p + 1, ":  "))
	{
		if (strnlen(p + 3, 6) == 6 && is_sqlstate(p + 3) && p[8] == ':')
			found = p + 3;
	}
	if (found)
	{
		char		code[6];

		memcpy(code, found, 5);
		code[5] = '\0';
		return make_error(code);
	}
	e = make_error(NULL);
	if (needs_password)
		e.cls = PGERROR_PERMANENT;
	return e;
}

const char *
pgerror_class_name(PgErrorClass cls)
{
	switch (cls)
	{
		case PGERROR_TRANSIENT:
			return "transient";
		case PGERROR_REPEATABLE:
			return "repeatable";
		case PGERROR_PERMANENT:
			return "permanent";
	}
	return "unknown";
}

PgRetryAction
pgerror_note_failure(PgRetry *r, Lsn pos, PgErrorClass cls)
{
	PgRetryAction action = PGRETRY_AGAIN;

	if (pos > r->failed_at)
	{
		r->failed_at = pos;
		r->repeats = 0;
		action = PGRETRY_AGAIN_AT_ONCE;
	}
	if (cls == PGERROR_REPEATABLE && ++r->repeats >= PGERROR_MAX_REPEATS)
		return PGRETRY_STOP;
	return action;
}
