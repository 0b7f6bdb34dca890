/*-------------------------------------------------------------------------
 *
 * stream.c
 *		The replication connection: connect, make sure the slot exists,
 *		START_REPLICATION, read CopyData messages, send status updates, and
 *		finish cleanly.
 *
 * Wire formats are PostgreSQL's streaming replication protocol: XLogData
 * ('w'), primary keepalive ('k') and standby status update ('r'), with
 * integers big-endian and times in microseconds since 2000-01-01.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/stream.c
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "clock.h"
#include "config.h"
#include "log.h"
#include "lsn.h"
#include "pgerror.h"
#include "program.h"
#include "stream.h"
#include "wal2avro_protocol.h"

/* Seconds between the Unix epoch and PostgreSQL's (2000-01-01) */
#define PG_EPOCH_OFFSET_SECS	946684800LL

static int64_t
pg_now_us(void)
{
	return relay_wall_now_us() - PG_EPOCH_OFFSET_SECS * 1000000;
}

static void
set_error(char *err, size_t errlen, const char *what, PGconn *conn)
{
	const char *msg = conn ? PQerrorMessage(conn) : "";
	size_t		n;

	snprintf(err, errlen, "%s%s%s", what, *msg ? ": " : "", msg);
	/* libpq messages end in a newline */
	n = strlen(err);
	while (n > 0 && (err[n - 1] == '\n' || err[n - 1] == ' '))
		err[--n] = '\0';
}

/*
 * Seconds libpq may take to connect unless the connection string or
 * PGCONNECT_TIMEOUT says otherwise: a connection is made from the stream's
 * loop, which must not wait for an unreachable host for minutes.
 */
#define DEFAULT_CONNECT_TIMEOUT "10"

static const char *
connect_timeout(void)
{
	const char *env = getenv("PGCONNECT_TIMEOUT");

	return env && env[0] ? env : DEFAULT_CONNECT_TIMEOUT;
}

/*
 * An ordinary (not replication) connection beside the stream, with the same
 * connection string and password: the snapshot reader, heartbeats.
 * fallback_application_name is "wal2avro-relay <application_name>".
 * connect_timeout comes before dbname, so the string's own wins.
 * Returns what PQconnectdbParams returns: check PQstatus (NULL: out of memory).
 */
PGconn *
stream_connect_plain(const char *dbname, const char *password, const char *application_name)
{
	char		app[128];
	const char *keys[] = {"connect_timeout", "dbname", "fallback_application_name",
	password ? "password" : NULL, NULL};
	const char *values[] = {connect_timeout(), dbname ? dbname : "", app, password, NULL};

	snprintf(app, sizeof(app), "%s %s", RELAY_PROGNAME, application_name);
	return PQconnectdbParams(keys, values, 1);
}

/*
 * Seconds of the connection's connect_timeout (0: none; libpq makes 1 into
 * 2), read back from the options libpq settled on.
 */
static int
connect_timeout_secs(PGconn *conn)
{
	PQconninfoOption *opts = PQconninfo(conn);
	PQconninfoOption *o;
	int			secs = 0;

	for (o = opts; o && o->keyword; o++)
	{
		if (strcmp(o->keyword, "connect_timeout") == 0 && o->val)
			secs = atoi(o->val);
	}
	PQconninfoFree(opts);
	return secs <= 0 ? 0 : secs < 2 ? 2 : secs;
}

/*
 * PQconnectdbParams with verbose error messages, so that a failure the
 * server reported carries its SQLSTATE ("FATAL:  28P01: ...") for
 * pgerror_from_connect_message; messages are default again once connected.
 * Returns the connection (check PQstatus) or NULL, with a message in err,
 * when out of memory or connect_timeout passed.
 *
 * XXX: connect_timeout bounds the whole attempt, where libpq's own loop
 * gives each host of a multi-host string its own.
 */
static PGconn *
connect_verbose(const char *const *keys, const char *const *values, char *err, size_t errlen)
{
	PGconn	   *conn = PQconnectStartParams(keys, values, 1);
	PostgresPollingStatusType st = PGRES_POLLING_WRITING;
	int64_t		deadline = 0;

	if (conn == NULL)
	{
		snprintf(err, errlen, "could not connect to server: out of memory");
		return NULL;
	}
	PQsetErrorVerbosity(conn, PQERRORS_VERBOSE);
	if (PQstatus(conn) == CONNECTION_BAD)
		return conn;
	if (connect_timeout_secs(conn) > 0)
		deadline = relay_now_us() + (int64_t) connect_timeout_secs(conn) * 1000000;
	while (st != PGRES_POLLING_OK && st != PGRES_POLLING_FAILED)
	{
		struct pollfd pfd = {PQsocket(conn), st == PGRES_POLLING_READING ? POLLIN : POLLOUT, 0};
		int			timeout = -1;

		if (deadline)
		{
			int64_t		left = deadline - relay_now_us();

			if (left <= 0)
			{
				snprintf(err, errlen, "could not connect to server: timeout expired");
				PQfinish(conn);
				return NULL;
			}
			timeout = (int) (left / 1000) + 1;
		}
		if (poll(&pfd, 1, timeout) < 0 && errno != EINTR)
			break;
		st = PQconnectPoll(conn);
	}
	if (PQstatus(conn) == CONNECTION_OK)
		PQsetErrorVerbosity(conn, PQERRORS_DEFAULT);
	return conn;
}

/*
 * A copy of a verbose libpq message without its LOCATION lines (the
 * server's source file and line: noise in a log).  libpq's own words are
 * English: the relay never calls setlocale.
 */
static void
set_connect_error(char *err, size_t errlen, const char *msg)
{
	size_t		len = 0;
	const char *p = msg;

	len = (size_t) snprintf(err, errlen, "could not connect to server: ");
	if (len >= errlen)
		len = errlen - 1;
	while (*p && len + 1 < errlen)
	{
		const char *eol = strchr(p, '\n');
		size_t		n = eol ? (size_t) (eol - p) + 1 : strlen(p);

		if (strncmp(p, "LOCATION:  ", 11) != 0)
		{
			if (n > errlen - len - 1)
				n = errlen - len - 1;
			memcpy(err + len, p, n);
			len += n;
		}
		p += eol ? (size_t) (eol - p) + 1 : strlen(p);
	}
	err[len] = '\0';
	while (len > 0 && (err[len - 1] == '\n' || err[len - 1] == ' '))
		err[--len] = '\0';
}

/* Is "dbname" a connection string or URI (which libpq expands)? */
static bool
is_conninfo(const char *dbname)
{
	return dbname && (strchr(dbname, '=') != NULL ||
					  strncmp(dbname, "postgresql://", 13) == 0 ||
					  strncmp(dbname, "postgres://", 11) == 0);
}

/*
 * Open a replication connection (replication=database) with the conninfo
 * string or URI in "dbname" (NULL: libpq's defaults) and, when not NULL,
 * a password that overrides libpq's sources; *sys gets what IDENTIFY_SYSTEM
 * says.  Returns the connection, or NULL with a message in err and the
 * failure classified in *pgerr
 * (permanent: bad password, no such database or role, a connection string
 * libpq cannot parse).
 */
PGconn *
stream_connect(const char *dbname, const char *password, StreamSystem *sys, char *err,
			   size_t errlen, PgError *pgerr)
{
	const char *keys[] = {"connect_timeout", "dbname", "replication", "fallback_application_name",
	password ? "password" : NULL, NULL};
	const char *values[] = {connect_timeout(), dbname ? dbname : "", "database", RELAY_PROGNAME,
	password, NULL};
	PGconn	   *conn;
	PGresult   *res;
	char	   *perr = NULL;
	PQconninfoOption *parsed;

	*pgerr = pgerror_from_result(NULL);

	/* a connection string libpq cannot parse will not parse next time */
	if (is_conninfo(dbname))
	{
		parsed = PQconninfoParse(dbname, &perr);
		if (parsed == NULL)
		{
			size_t		n;

			snprintf(err, errlen, "invalid connection string: %s", perr ? perr : "out of memory");
			n = strlen(err);
			while (n > 0 && (err[n - 1] == '\n' || err[n - 1] == ' '))
				err[--n] = '\0';
			pgerr->cls = perr ? PGERROR_PERMANENT : PGERROR_TRANSIENT;
			PQfreemem(perr);
			return NULL;
		}
		PQconninfoFree(parsed);
	}
	conn = connect_verbose(keys, values, err, errlen);
	if (conn == NULL)
		return NULL;
	if (PQstatus(conn) != CONNECTION_OK)
	{
		*pgerr = pgerror_from_connect_message(PQerrorMessage(conn),
											  PQconnectionNeedsPassword(conn));
		set_connect_error(err, errlen, PQerrorMessage(conn));
		PQfinish(conn);
		return NULL;
	}

	res = PQexec(conn, "IDENTIFY_SYSTEM");
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQnfields(res) < 4)
	{
		set_error(err, errlen, "could not identify system", conn);
		*pgerr = pgerror_from_result(res);
		if (PQresultStatus(res) == PGRES_TUPLES_OK)
			pgerr->cls = PGERROR_PERMANENT; /* not a replication connection */
		PQclear(res);
		PQfinish(conn);
		return NULL;
	}
	if (PQgetisnull(res, 0, 3))
	{
		snprintf(err, errlen, "the replication connection is not to a database");
		pgerr->cls = PGERROR_PERMANENT;
		PQclear(res);
		PQfinish(conn);
		return NULL;
	}
	memset(sys, 0, sizeof(*sys));
	snprintf(sys->sysid, sizeof(sys->sysid), "%s", PQgetvalue(res, 0, 0));
	sys->timeline = (unsigned int) strtoul(PQgetvalue(res, 0, 1), NULL, 10);
	if (!relay_lsn_parse(PQgetvalue(res, 0, 2), &sys->flush))
		sys->flush = INVALID_LSN;
	PQclear(res);
	return conn;
}

/*
 * ALTER_REPLICATION_SLOT an existing slot into a failover slot.  Returns 0,
 * or -1 with a message in err and the failure classified in *pgerr (on a
 * standby the server refuses it).
 */
static int
make_failover_slot(PGconn *conn, const char *slot, char *err, size_t errlen, PgError *pgerr)
{
	char	   *ident = PQescapeIdentifier(conn, slot, strlen(slot));
	char		sql[512];
	PGresult   *res;
	int			rc = 0;

	if (ident == NULL)
	{
		set_error(err, errlen, "could not quote slot name", conn);
		return -1;
	}
	snprintf(sql, sizeof(sql), "ALTER_REPLICATION_SLOT %s (FAILOVER true)", ident);
	PQfreemem(ident);
	res = PQexec(conn, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
	{
		*pgerr = pgerror_from_result(res);
		set_error(err, errlen, "could not make the replication slot a failover slot", conn);
		rc = -1;
	}
	else
		relay_log(RELAY_LOG_INFO, "replication slot \"%s\" is now a failover slot (failover-slot is on)",
				  slot);
	PQclear(res);
	return rc;
}

/*
 * Make sure the logical slot exists and uses wal2avro, creating it when
 * "create" allows, as a failover slot when "failover" says so (the caller
 * made sure the server is 17 or later).  *confirmed gets the slot's
 * confirmed flush position (for a new slot its consistent point).  When
 * snapshot_name is not NULL a new slot exports its snapshot, whose name goes
 * there (NUL terminated, cut to namelen): it lives only until this
 * connection runs another command.  Otherwise, and for an existing slot,
 * snapshot_name is left alone.  An existing slot that is not a failover
 * slot is made one when "failover" asks.  Returns 0; STREAM_SLOT_MISSING,
 * with a message in err, when the slot does not exist and "create" is
 * false; or -1 with a message in err and the failure classified in *pgerr.
 */
int
stream_ensure_slot(PGconn *conn, const char *slot, bool create, bool failover,
				   char *snapshot_name, size_t namelen, Lsn *confirmed, bool *created,
				   char *err, size_t errlen, PgError *pgerr)
{
	char	   *lit = PQescapeLiteral(conn, slot, strlen(slot));
	char	   *ident;
	char		sql[512];
	PGresult   *res;

	*pgerr = pgerror_from_result(NULL);
	*created = false;
	*confirmed = INVALID_LSN;
	if (lit == NULL)
	{
		set_error(err, errlen, "could not quote slot name", conn);
		return -1;
	}
	/* failover: a column of 17 and later; the caller checked the version */
	snprintf(sql, sizeof(sql),
			 "SELECT plugin, confirmed_flush_lsn, slot_type, %s FROM pg_catalog.pg_replication_slots "
			 "WHERE slot_name = %s", failover ? "failover" : "true", lit);
	PQfreemem(lit);
	res = PQexec(conn, sql);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		set_error(err, errlen, "could not look up replication slot", conn);
		*pgerr = pgerror_from_result(res);
		PQclear(res);
		return -1;
	}
	if (PQntuples(res) == 1)
	{
		if (strcmp(PQgetvalue(res, 0, 2), "logical") != 0 ||
			strcmp(PQgetvalue(res, 0, 0), "wal2avro") != 0)
		{
			snprintf(err, errlen, "replication slot \"%s\" exists but is not a logical slot of plugin wal2avro (plugin \"%s\")",
					 slot, PQgetvalue(res, 0, 0));
			pgerr->cls = PGERROR_PERMANENT;
			PQclear(res);
			return -1;
		}
		if (!PQgetisnull(res, 0, 1))
			relay_lsn_parse(PQgetvalue(res, 0, 1), confirmed);
		if (strcmp(PQgetvalue(res, 0, 3), "t") != 0)
		{
			PQclear(res);
			return make_failover_slot(conn, slot, err, errlen, pgerr);
		}
		PQclear(res);
		return 0;
	}
	PQclear(res);

	if (!create)
	{
		snprintf(err, errlen, "replication slot \"%s\" does not exist", slot);
		pgerr->cls = PGERROR_PERMANENT;
		return STREAM_SLOT_MISSING;
	}

	ident = PQescapeIdentifier(conn, slot, strlen(slot));
	if (ident == NULL)
	{
		set_error(err, errlen, "could not quote slot name", conn);
		return -1;
	}
	snprintf(sql, sizeof(sql), "CREATE_REPLICATION_SLOT %s LOGICAL wal2avro (SNAPSHOT '%s'%s)",
			 ident, snapshot_name ? "export" : "nothing", failover ? ", FAILOVER" : "");
	PQfreemem(ident);
	res = PQexec(conn, sql);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		/* 42501: not in output_plugin_libraries; 58P01: not installed */
		*pgerr = pgerror_from_result(res);
		set_error(err, errlen, "could not create replication slot", conn);
		PQclear(res);
		return -1;
	}
	if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 1))
		relay_lsn_parse(PQgetvalue(res, 0, 1), confirmed);
	if (snapshot_name && PQntuples(res) == 1 && PQnfields(res) >= 3 && !PQgetisnull(res, 0, 2))
		snprintf(snapshot_name, namelen, "%s", PQgetvalue(res, 0, 2));
	*created = true;
	PQclear(res);
	return 0;
}

/*
 * The history file of timeline "tli" (TIMELINE_HISTORY): one line per
 * ancestor timeline, "<tli> <switch LSN> <reason>".  Returns it, malloc'd
 * and NUL terminated (the caller frees it), or NULL with a message in err
 * (timeline 1 has none).
 */
char *
stream_timeline_history(PGconn *conn, unsigned int tli, char *err, size_t errlen)
{
	char		sql[64];
	PGresult   *res;
	char	   *text = NULL;

	snprintf(sql, sizeof(sql), "TIMELINE_HISTORY %u", tli);
	res = PQexec(conn, sql);
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1 || PQnfields(res) < 2)
		set_error(err, errlen, "could not read the timeline history", conn);
	else
	{
		int			len = PQgetlength(res, 0, 1);

		text = malloc((size_t) len + 1);
		if (text == NULL)
			snprintf(err, errlen, "out of memory");
		else
		{
			memcpy(text, PQgetvalue(res, 0, 1), (size_t) len);
			text[len] = '\0';
		}
	}
	PQclear(res);
	return text;
}

/*
 * Drop the slot, waiting while another connection still holds it (a relay
 * killed a moment ago).  Returns 0, or -1 with a message in err.
 */
int
stream_drop_slot(PGconn *conn, const char *slot, char *err, size_t errlen)
{
	char	   *ident = PQescapeIdentifier(conn, slot, strlen(slot));
	char		sql[512];
	PGresult   *res;
	int			rc = 0;

	if (ident == NULL)
	{
		set_error(err, errlen, "could not quote slot name", conn);
		return -1;
	}
	snprintf(sql, sizeof(sql), "DROP_REPLICATION_SLOT %s WAIT", ident);
	PQfreemem(ident);
	res = PQexec(conn, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
	{
		set_error(err, errlen, "could not drop replication slot", conn);
		rc = -1;
	}
	PQclear(res);
	return rc;
}

/*
 * START_REPLICATION at "start" (INVALID_LSN: 0/0, the slot's confirmed
 * position; the server never starts before that), with the plugin options in
 * order.  Returns 0 once the server is in COPY BOTH mode, or -1 with a
 * message in err (a plugin ERROR, such as a bad option, is there) and the
 * failure classified in *pgerr.
 */
int
stream_start(PGconn *conn, const char *slot, Lsn start, const RelaySettingList *options,
			 char *err, size_t errlen, PgError *pgerr)
{
	char		at[LSN_TEXT_SIZE + 16];
	size_t		cap = 256,
				len = 0,
				i;
	char	   *sql = malloc(cap);
	char	   *ident = PQescapeIdentifier(conn, slot, strlen(slot));
	PGresult   *res;
	int			rc = 0;

	*pgerr = pgerror_from_result(NULL);
	if (sql == NULL || ident == NULL)
	{
		free(sql);
		if (ident)
			PQfreemem(ident);
		snprintf(err, errlen, "out of memory");
		return -1;
	}

#define APPEND(s) do { \
		size_t n_ = strlen(s); \
		if (len + n_ + 1 > cap) { \
			char *g_; \
			while (len + n_ + 1 > cap) cap *= 2; \
			g_ = realloc(sql, cap); \
			if (g_ == NULL) { rc = -1; goto done; } \
			sql = g_; \
		} \
		memcpy(sql + len, (s), n_ + 1); \
		len += n_; \
	} while (0)

	APPEND("START_REPLICATION SLOT ");
	APPEND(ident);
	snprintf(at, sizeof(at), " LOGICAL " LSN_FMT, LSN_ARGS(start));
	APPEND(at);
	for (i = 0; i < options->count; i++)
	{
		const RelaySetting *o = &options->items[i];
		char	   *name = PQescapeIdentifier(conn, o->name, strlen(o->name));
		char	   *value = o->value ? PQescapeLiteral(conn, o->value, strlen(o->value)) : NULL;

		if (name == NULL || (o->value && value == NULL))
		{
			if (name)
				PQfreemem(name);
			if (value)
				PQfreemem(value);
			rc = -1;
			goto done;
		}
		APPEND(i == 0 ? " (" : ", ");
		APPEND(name);
		if (value)
		{
			APPEND(" ");
			APPEND(value);
		}
		PQfreemem(name);
		if (value)
			PQfreemem(value);
	}
	if (options->count > 0)
		APPEND(")");
#undef APPEND

	res = PQexec(conn, sql);
	if (PQresultStatus(res) != PGRES_COPY_BOTH)
	{
		set_error(err, errlen, "could not start replication", conn);
		*pgerr = pgerror_from_result(res);
		rc = -1;
	}
	PQclear(res);

done:
	if (rc != 0 && err[0] == '\0')
		snprintf(err, errlen, "out of memory");
	free(sql);
	PQfreemem(ident);
	return rc;
}

static uint64_t
get_u64(const char *p)
{
	return w2a_get_u64((const unsigned char *) p);
}

/*
 * Read one CopyData message without blocking.  Returns STREAM_MSG_NONE
 * (nothing yet: wait on the socket), STREAM_MSG_DATA or STREAM_MSG_KEEPALIVE
 * with *msg filled, STREAM_MSG_END when the server ended the stream, or
 * STREAM_MSG_ERROR with a message in err and the failure classified in
 * *pgerr (an ERROR of the plugin arrives as the stream's result, with its
 * SQLSTATE).  For STREAM_MSG_DATA the payload points into *buf, which the
 * caller frees with PQfreemem once done with it.
 */
StreamMsgKind
stream_read(PGconn *conn, StreamMsg *msg, char **buf, char *err, size_t errlen,
			PgError *pgerr)
{
	int			n;

	*buf = NULL;
	*pgerr = pgerror_from_result(NULL);

	/*
	 * Take what libpq already holds first; read from the socket only when it
	 * has no complete message.  Reading first would make libpq shift its
	 * whole buffer for every message and pull in everything the server
	 * sends, however far behind we are: quadratic time, unbounded memory.
	 */
	n = PQgetCopyData(conn, buf, 1);
	if (n == 0)
	{
		if (!PQconsumeInput(conn))
		{
			set_error(err, errlen, "could not receive data from server", conn);
			return STREAM_MSG_ERROR;
		}
		n = PQgetCopyData(conn, buf, 1);
	}
	if (n == 0)
		return STREAM_MSG_NONE;
	if (n == -1)
	{
		PGresult   *res = PQgetResult(conn);

		if (PQresultStatus(res) == PGRES_COMMAND_OK)
		{
			PQclear(res);
			return STREAM_MSG_END;
		}
		set_error(err, errlen, "replication stream ended", conn);
		*pgerr = pgerror_from_result(res);
		PQclear(res);
		return STREAM_MSG_ERROR;
	}
	if (n == -2)
	{
		set_error(err, errlen, "could not read COPY data", conn);
		return STREAM_MSG_ERROR;
	}

	if ((*buf)[0] == 'k' && n >= 18)
	{
		msg->wal_end = get_u64(*buf + 1);
		msg->reply_requested = (*buf)[17] != 0;
		PQfreemem(*buf);
		*buf = NULL;
		return STREAM_MSG_KEEPALIVE;
	}
	if ((*buf)[0] == 'w' && n >= 25)
	{
		msg->data_start = get_u64(*buf + 1);
		msg->wal_end = get_u64(*buf + 9);
		msg->payload = (const uint8_t *) *buf + 25;
		msg->payload_len = (size_t) n - 25;
		return STREAM_MSG_DATA;
	}
	snprintf(err, errlen, "unexpected replication message of type 0x%02x and %d bytes",
			 (unsigned char) (*buf)[0], n);
	pgerr->cls = PGERROR_REPEATABLE;
	PQfreemem(*buf);
	*buf = NULL;
	return STREAM_MSG_ERROR;
}

/*
 * Send a standby status update: write = highest position received, flush
 * and apply = what is safe to confirm.  Returns 0, or -1 with a message.
 */
int
stream_send_status(PGconn *conn, Lsn write, Lsn flush, bool reply_requested,
				   char *err, size_t errlen)
{
	unsigned char buf[1 + 8 + 8 + 8 + 8 + 1];

	buf[0] = 'r';
	w2a_put_u64(buf + 1, write);	/* written */
	w2a_put_u64(buf + 9, flush);	/* flushed: the server advances the slot to this */
	w2a_put_u64(buf + 17, flush);	/* applied */
	w2a_put_u64(buf + 25, (uint64_t) pg_now_us());	/* send time */
	buf[33] = reply_requested ? 1 : 0;
	if (PQputCopyData(conn, (const char *) buf, sizeof(buf)) <= 0 || PQflush(conn) < 0)
	{
		set_error(err, errlen, "could not send status update", conn);
		return -1;
	}
	return 0;
}

/*
 * End the stream: CopyDone, then read what the server still sends until it
 * ends its side (so the last status update is processed), then close.  The
 * server may keep sending data for a while: it is dropped, since nothing
 * after the last confirmation is lost.  Never fails; always closes.
 */
void
stream_finish(PGconn *conn)
{
	char	   *buf;
	PGresult   *res;
	int64_t		deadline = relay_now_us() + 10 * 1000000LL;

	if (conn == NULL)
		return;
	if (PQstatus(conn) == CONNECTION_OK && PQputCopyEnd(conn, NULL) > 0)
	{
		PQflush(conn);
		for (;;)
		{
			int			n;

			if (!PQconsumeInput(conn))
				break;
			n = PQgetCopyData(conn, &buf, 1);
			if (n > 0)
			{
				PQfreemem(buf);
				continue;
			}
			if (n < 0)
				break;
			if (relay_now_us() > deadline)
				break;
			stream_wait(conn, -1, 100);
		}
		while ((res = PQgetResult(conn)) != NULL)
			PQclear(res);
	}
	PQfinish(conn);
}

/*
 * Wait until the PostgreSQL socket, or one of the n "extra" sockets (-1s
 * are skipped), is readable, or timeout_ms passes.  Returns 1 if something
 * is readable, 0 on timeout or signal.
 */
int
stream_wait_fds(PGconn *conn, const int *extra, int n, int timeout_ms)
{
	struct pollfd fds[4];
	int			nfds = 0;
	int			rc;
	int			i;

	if (conn && PQsocket(conn) >= 0)
	{
		fds[nfds].fd = PQsocket(conn);
		fds[nfds].events = POLLIN;
		nfds++;
	}
	for (i = 0; i < n && nfds < 4; i++)
	{
		if (extra[i] < 0)
			continue;
		fds[nfds].fd = extra[i];
		fds[nfds].events = POLLIN;
		nfds++;
	}
	rc = poll(fds, nfds, timeout_ms);
	if (rc < 0 && errno != EINTR)
		relay_log(RELAY_LOG_WARNING, "poll failed: %s", strerror(errno));
	return rc > 0 ? 1 : 0;
}

int
stream_wait(PGconn *conn, int extra_fd, int timeout_ms)
{
	return stream_wait_fds(conn, &extra_fd, 1, timeout_ms);
}
