/*-------------------------------------------------------------------------
 *
 * stream.h
 *		The replication connection (stream.c).
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/stream.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RELAY_STREAM_H
#define RELAY_STREAM_H

#include <poll.h>

#include <libpq-fe.h>

#include "config.h"
#include "lsn.h"
#include "pgerror.h"

/* stream_ensure_slot: the slot does not exist (and may be created) */
#define STREAM_SLOT_MISSING	1

typedef enum StreamMsgKind
{
	STREAM_MSG_NONE = 0,		/* nothing to read now */
	STREAM_MSG_DATA,			/* XLogData: one frame */
	STREAM_MSG_KEEPALIVE,		/* primary keepalive */
	STREAM_MSG_END,				/* the server ended the stream */
	STREAM_MSG_ERROR
} StreamMsgKind;

/* One message of the replication stream */
typedef struct StreamMsg
{
	Lsn			data_start;		/* XLogData: the message's WAL position (0/0: none) */
	Lsn			wal_end;		/* the server's WAL end at sending */
	bool		reply_requested;	/* keepalive: answer at once */
	const uint8_t *payload;		/* XLogData: the frame */
	size_t		payload_len;
} StreamMsg;

/* What IDENTIFY_SYSTEM said about the server */
typedef struct StreamSystem
{
	char		sysid[24];		/* systemid, a uint64 in decimal */
	unsigned int timeline;
	Lsn			flush;			/* xlogpos: WAL flushed up to here */
} StreamSystem;

extern PGconn *stream_connect_plain(const char *dbname, const char *password,
									const char *application_name);
extern PGconn *stream_connect(const char *dbname, const char *password, StreamSystem *sys,
							  char *err, size_t errlen, PgError *pgerr);
extern int	stream_ensure_slot(PGconn *conn, const char *slot, bool create, bool failover,
							   char *snapshot_name, size_t namelen, Lsn *confirmed,
							   bool *created, char *err, size_t errlen, PgError *pgerr);
extern char *stream_timeline_history(PGconn *conn, unsigned int tli, char *err, size_t errlen);
extern int	stream_drop_slot(PGconn *conn, const char *slot, char *err, size_t errlen);
extern int	stream_start(PGconn *conn, const char *slot, Lsn start,
						 const RelaySettingList *options, char *err, size_t errlen,
						 PgError *pgerr);
extern StreamMsgKind stream_read(PGconn *conn, StreamMsg *msg, char **buf,
								 char *err, size_t errlen, PgError *pgerr);
extern int	stream_send_status(PGconn *conn, Lsn write, Lsn flush, bool reply_requested,
							   char *err, size_t errlen);
extern void stream_finish(PGconn *conn);
extern int	stream_wait(PGconn *conn, int extra_fd, int timeout_ms);
extern int	stream_wait_fds(PGconn *conn, const int *extra, int n, int timeout_ms);

#endif							/* RELAY_STREAM_H */
