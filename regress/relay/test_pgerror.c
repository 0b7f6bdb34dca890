/*-------------------------------------------------------------------------
 *
 * test_pgerror.c
 *		Unit tests for relay/pgerror.c: the class of each SQLSTATE class,
 *		the exceptions inside a class, connection failures read from
 *		verbose messages in English and in German (the text never
 *		matters, only the code), and the bounded retries at one position.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * regress/relay/test_pgerror.c
 *
 *-------------------------------------------------------------------------
 */
#include <string.h>

#include "lsn.h"
#include "pgerror.h"
#include "unit.h"

static void
test_classes(void)
{
	/* permanent: a bad option, a data error, a limit, authentication */
	CHECK_INT(pgerror_class("22023"), PGERROR_PERMANENT);	/* invalid_parameter_value */
	CHECK_INT(pgerror_class("22003"), PGERROR_PERMANENT);	/* numeric out of range */
	CHECK_INT(pgerror_class("22021"), PGERROR_PERMANENT);	/* bad encoding */
	CHECK_INT(pgerror_class("42703"), PGERROR_PERMANENT);	/* undefined_column */
	CHECK_INT(pgerror_class("42501"), PGERROR_PERMANENT);	/* not an allowed output plugin */
	CHECK_INT(pgerror_class("42704"), PGERROR_PERMANENT);	/* no such slot */
	CHECK_INT(pgerror_class("54000"), PGERROR_PERMANENT);	/* max-record-size, frame limit */
	CHECK_INT(pgerror_class("0A000"), PGERROR_PERMANENT);
	CHECK_INT(pgerror_class("28P01"), PGERROR_PERMANENT);	/* bad password */
	CHECK_INT(pgerror_class("28000"), PGERROR_PERMANENT);	/* no pg_hba.conf entry */
	CHECK_INT(pgerror_class("3D000"), PGERROR_PERMANENT);	/* no such database */
	CHECK_INT(pgerror_class("55000"), PGERROR_PERMANENT);	/* invalidated slot */
	CHECK_INT(pgerror_class("58P01"), PGERROR_PERMANENT);	/* plugin not installed */

	/* transient: the connection, conflicts, resources, operators */
	CHECK_INT(pgerror_class("08006"), PGERROR_TRANSIENT);
	CHECK_INT(pgerror_class("08P01"), PGERROR_TRANSIENT);
	CHECK_INT(pgerror_class("40001"), PGERROR_TRANSIENT);
	CHECK_INT(pgerror_class("40P01"), PGERROR_TRANSIENT);
	CHECK_INT(pgerror_class("53300"), PGERROR_TRANSIENT);	/* too many connections */
	CHECK_INT(pgerror_class("53100"), PGERROR_TRANSIENT);	/* disk full */
	CHECK_INT(pgerror_class("55006"), PGERROR_TRANSIENT);	/* slot active for PID n */
	CHECK_INT(pgerror_class("55P03"), PGERROR_TRANSIENT);	/* lock not available */
	CHECK_INT(pgerror_class("57P01"), PGERROR_TRANSIENT);	/* admin shutdown */
	CHECK_INT(pgerror_class("57P03"), PGERROR_TRANSIENT);	/* starting up */
	CHECK_INT(pgerror_class("57014"), PGERROR_TRANSIENT);	/* canceled */
	CHECK_INT(pgerror_class("58030"), PGERROR_TRANSIENT);	/* I/O error */
	CHECK_INT(pgerror_class(NULL), PGERROR_TRANSIENT);	/* libpq's own */
	CHECK_INT(pgerror_class(""), PGERROR_TRANSIENT);

	/* repeatable: internal (elog ERROR), and anything unknown */
	CHECK_INT(pgerror_class("XX000"), PGERROR_REPEATABLE);
	CHECK_INT(pgerror_class("XX001"), PGERROR_REPEATABLE);
	CHECK_INT(pgerror_class("P0001"), PGERROR_REPEATABLE);
	CHECK_INT(pgerror_class("ZZ999"), PGERROR_REPEATABLE);
	CHECK_INT(pgerror_class("2200"), PGERROR_REPEATABLE);	/* malformed */
	CHECK_INT(pgerror_class("22023x"), PGERROR_REPEATABLE);
	CHECK_INT(pgerror_class("22a23"), PGERROR_REPEATABLE);

	CHECK_STR(pgerror_class_name(PGERROR_TRANSIENT), "transient");
	CHECK_STR(pgerror_class_name(PGERROR_REPEATABLE), "repeatable");
	CHECK_STR(pgerror_class_name(PGERROR_PERMANENT), "permanent");
}

static void
test_result(void)
{
	PGresult   *res = PQmakeEmptyPGresult(NULL, PGRES_FATAL_ERROR);
	PgError		e;

	/* no result, or one without a SQLSTATE: a failure libpq saw itself */
	e = pgerror_from_result(NULL);
	CHECK_INT(e.cls, PGERROR_TRANSIENT);
	CHECK_STR(e.sqlstate, "");
	CHECK(res != NULL);
	e = pgerror_from_result(res);
	CHECK_INT(e.cls, PGERROR_TRANSIENT);
	CHECK_STR(e.sqlstate, "");
	PQclear(res);
}

/* The same failure in two languages must get the same class and code. */
static void
check_same(const char *english, const char *german, const char *code, PgErrorClass cls)
{
	PgError		en = pgerror_from_connect_message(english, false);
	PgError		de = pgerror_from_connect_message(german, false);

	CHECK_STR(en.sqlstate, code);
	CHECK_STR(de.sqlstate, code);
	CHECK_INT(en.cls, cls);
	CHECK_INT(de.cls, cls);
}

static void
test_connect_messages(void)
{
	PgError		e;

	check_same("connection to server at \"127.0.0.1\", port 5432 failed: FATAL:  28P01: password authentication failed for user \"cdc\"\n"
			   "LOCATION:  auth_failed, auth.c:326\n",
			   "connection to server at \"127.0.0.1\", port 5432 failed: FATAL:  28P01: Passwort-Authentifizierung für Benutzer »cdc« fehlgeschlagen\n"
			   "LOCATION:  auth_failed, auth.c:326\n",
			   "28P01", PGERROR_PERMANENT);
	check_same("connection to server on socket \"/tmp/.s.PGSQL.5432\" failed: FATAL:  3D000: database \"shop\" does not exist\n",
			   "connection to server on socket \"/tmp/.s.PGSQL.5432\" failed: SCHWERWIEGEND:  3D000: Datenbank »shop« existiert nicht\n",
			   "3D000", PGERROR_PERMANENT);
	check_same("connection to server at \"db\" (10.0.0.1), port 5432 failed: FATAL:  57P03: the database system is starting up\n",
			   "connection to server at \"db\" (10.0.0.1), port 5432 failed: SCHWERWIEGEND:  57P03: das Datenbanksystem startet\n",
			   "57P03", PGERROR_TRANSIENT);
	check_same("connection to server at \"db\" (10.0.0.1), port 5432 failed: FATAL:  53300: sorry, too many clients already\n",
			   "connection to server at \"db\" (10.0.0.1), port 5432 failed: SCHWERWIEGEND:  53300: tut mir leid, schon zu viele Verbindungen\n",
			   "53300", PGERROR_TRANSIENT);

	/* the words the relay once looked for decide nothing */
	e = pgerror_from_connect_message("FATAL:  55006: replication slot \"wal2avro\" is active for PID 4242", false);
	CHECK_INT(e.cls, PGERROR_TRANSIENT);
	e = pgerror_from_connect_message("connection to server at \"wal2avro-db\" failed: role \"x\" does not exist, no pg_hba.conf entry, password authentication failed", false);
	CHECK_INT(e.cls, PGERROR_TRANSIENT);	/* no SQLSTATE: libpq's own words */
	CHECK_STR(e.sqlstate, "");

	/* the server unreachable: transient */
	e = pgerror_from_connect_message("connection to server at \"127.0.0.1\", port 1 failed: Connection refused\n"
									 "\tIs the server running on that host and accepting TCP/IP connections?\n", false);
	CHECK_INT(e.cls, PGERROR_TRANSIENT);
	e = pgerror_from_connect_message(NULL, false);
	CHECK_INT(e.cls, PGERROR_TRANSIENT);
	e = pgerror_from_connect_message("", false);
	CHECK_INT(e.cls, PGERROR_TRANSIENT);

	/* a password asked for and none given: permanent */
	e = pgerror_from_connect_message("connection to server at \"db\" failed: fe_sendauth: no password supplied\n", true);
	CHECK_INT(e.cls, PGERROR_PERMANENT);

	/* several hosts tried in turn: the last one's code */
	e = pgerror_from_connect_message("connection to server at \"a\" failed: FATAL:  57P03: the database system is starting up\n"
									 "connection to server at \"b\" failed: FATAL:  28P01: password authentication failed for user \"cdc\"\n",
									 false);
	CHECK_STR(e.sqlstate, "28P01");
	CHECK_INT(e.cls, PGERROR_PERMANENT);

	/* text that only looks like a code: lower case, too short, no colon */
	e = pgerror_from_connect_message("FATAL:  abcde: x", false);
	CHECK_STR(e.sqlstate, "");
	e = pgerror_from_connect_message("FATAL:  2200", false);
	CHECK_STR(e.sqlstate, "");
	e = pgerror_from_connect_message("FATAL:  28P01 without the colon", false);
	CHECK_STR(e.sqlstate, "");
}

static void
test_bounded_retries(void)
{
	PgRetry		r = {0};
	int			i;

	/* a repeatable failure at one position: the third one stops */
	CHECK_INT(pgerror_note_failure(&r, 0x1000, PGERROR_REPEATABLE), PGRETRY_AGAIN_AT_ONCE);
	CHECK_INT(pgerror_note_failure(&r, 0x1000, PGERROR_REPEATABLE), PGRETRY_AGAIN);
	CHECK_INT(pgerror_note_failure(&r, 0x1000, PGERROR_REPEATABLE), PGRETRY_STOP);
	CHECK_INT(r.repeats, PGERROR_MAX_REPEATS);
	CHECK_U64(r.failed_at, 0x1000);

	/* transient failures in between neither count nor reset the count */
	memset(&r, 0, sizeof(r));
	CHECK_INT(pgerror_note_failure(&r, 0x1000, PGERROR_REPEATABLE), PGRETRY_AGAIN_AT_ONCE);
	for (i = 0; i < 10; i++)
		CHECK_INT(pgerror_note_failure(&r, 0x1000, PGERROR_TRANSIENT), PGRETRY_AGAIN);
	CHECK_INT(pgerror_note_failure(&r, 0x1000, PGERROR_REPEATABLE), PGRETRY_AGAIN);
	/* failing earlier (before streaming, or from a position confirmed before) is no progress */
	CHECK_INT(pgerror_note_failure(&r, 0, PGERROR_TRANSIENT), PGRETRY_AGAIN);
	CHECK_INT(pgerror_note_failure(&r, 0x800, PGERROR_REPEATABLE), PGRETRY_STOP);

	/* a run that got further starts again, backoff and count */
	memset(&r, 0, sizeof(r));
	CHECK_INT(pgerror_note_failure(&r, 0x1000, PGERROR_REPEATABLE), PGRETRY_AGAIN_AT_ONCE);
	CHECK_INT(pgerror_note_failure(&r, 0x1000, PGERROR_REPEATABLE), PGRETRY_AGAIN);
	CHECK_INT(pgerror_note_failure(&r, 0x2000, PGERROR_REPEATABLE), PGRETRY_AGAIN_AT_ONCE);
	CHECK_INT(pgerror_note_failure(&r, 0x2000, PGERROR_REPEATABLE), PGRETRY_AGAIN);
	CHECK_INT(pgerror_note_failure(&r, 0x2000, PGERROR_REPEATABLE), PGRETRY_STOP);

	/* transient failures alone never stop; progress resets the backoff */
	memset(&r, 0, sizeof(r));
	for (i = 0; i < 100; i++)
		CHECK_INT(pgerror_note_failure(&r, 0x1000, PGERROR_TRANSIENT),
				  i == 0 ? PGRETRY_AGAIN_AT_ONCE : PGRETRY_AGAIN);
	CHECK_INT(pgerror_note_failure(&r, 0x1001, PGERROR_TRANSIENT), PGRETRY_AGAIN_AT_ONCE);

	/* failures before streaming (INVALID_LSN): repeatable ones still stop */
	memset(&r, 0, sizeof(r));
	CHECK_INT(pgerror_note_failure(&r, INVALID_LSN, PGERROR_REPEATABLE), PGRETRY_AGAIN);
	CHECK_INT(pgerror_note_failure(&r, INVALID_LSN, PGERROR_REPEATABLE), PGRETRY_AGAIN);
	CHECK_INT(pgerror_note_failure(&r, INVALID_LSN, PGERROR_REPEATABLE), PGRETRY_STOP);
}

int
main(void)
{
	test_classes();
	test_result();
	test_connect_messages();
	test_bounded_retries();
	return unit_finish("test_pgerror");
}
