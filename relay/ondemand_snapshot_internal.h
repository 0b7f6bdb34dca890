/*-------------------------------------------------------------------------
 *
 * ondemand_snapshot_internal.h
 *		What the files of on-demand snapshots share: the state and the
 *		functions one file calls in another (ondemand_snapshot.c,
 *		ondemand_snapshot_window.c, ondemand_snapshot_chunk.c).
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/ondemand_snapshot_internal.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RELAY_ONDEMAND_SNAPSHOT_INTERNAL_H
#define RELAY_ONDEMAND_SNAPSHOT_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "config.h"
#include "frames.h"
#include "kafka_writer.h"
#include "key_set.h"
#include "lsn.h"
#include "metrics.h"
#include "ondemand_snapshot.h"

#define RECENT_XIDS			8192	/* transactions remembered (power of two) */
#define RETRY_US			(5 * 1000000LL) /* after a database error */
#define REREAD_US			(100 * 1000LL)	/* after a chunk S could not use */
#define PROGRESS_EVERY_US	(10 * 1000000LL)
#define QUERY_BOUND_US		(120 * 1000000LL)	/* one query, at most */
#define NAMEDATALEN_MAX		256 /* room for a quoted PostgreSQL name */

typedef enum Phase
{
	PHASE_IDLE = 0,				/* no chunk: read the next one when due */
	PHASE_WAITING,				/* chunk read, its watermark not yet seen */
	PHASE_EMITTING				/* watermark seen: produce the rows */
} Phase;

/* The query in the air on the connection, if any */
typedef enum Pending
{
	PENDING_NONE = 0,
	PENDING_LOOKUP,				/* the table's name, size, whether captured */
	PENDING_BEGIN,				/* BEGIN and S */
	PENDING_CHUNK,				/* the chunk's frames */
	PENDING_COMMIT,
	PENDING_WATERMARK,
	PENDING_ROLLBACK			/* after a failed or useless chunk */
} Pending;

/* A transaction the stream delivered, and when */
typedef struct RecentXid
{
	uint32_t	xid;
	uint64_t	seq;			/* OnDemandSnapshot.txn_seq when its BEGIN was seen */
} RecentXid;

/* The state of on-demand snapshots; the type is opaque outside these files */
struct OnDemandSnapshot
{
	const RelayConfig *cfg;
	Metrics    *metrics;
	char	   *options;		/* the plugin options, a text[] literal */
	bool		debezium;		/* they hold compat=debezium */
	PGconn	   *conn;			/* for reading chunks and writing watermarks */
	char		tag[24];		/* ours, in each watermark: this process */
	int64_t		not_before_us;	/* next chunk not before this */
	Pending		pending;		/* the query in the air */
	PGresult   *pending_res;	/* what of its result came so far */
	int64_t		pending_deadline_us;
	char		oid[16];		/* parameters of the query in the air */
	char		first[24];
	char		count[24];
	char		mark[64];
	char		mark_lsn[32];	/* the chunk's watermark: its LSN and the */
	char		mark_txid[32];	/* txid_current() of its transaction */

	/* requested tables, in order; queue[0] is the one being read */
	uint32_t   *queue;
	size_t		queue_len;
	size_t		queue_cap;
	Lsn			hold;			/* commit position of the oldest request */

	/* the stream, as observed */
	Lsn			txn_commit_lsn; /* of the transaction being read */
	uint64_t	txn_seq;		/* transactions begun so far */
	RecentXid	recent[RECENT_XIDS];

	/* the table being read */
	bool		table_open;
	OnDemandTarget target;	/* relids the stream names it by */
	char		schema[NAMEDATALEN_MAX];
	char		table[NAMEDATALEN_MAX];
	int64_t		nblocks;		/* its size when its reading began */
	int64_t		next_block;
	int64_t		chunk_blocks;	/* blocks per chunk (block_size of the server) */
	int64_t		estimated;
	uint64_t	rows;			/* produced so far */
	uint64_t	dropped;		/* rows a change overtook */
	uint64_t	rereads;
	int64_t		started_us;
	int64_t		logged_us;
	bool		warned_keyless;

	/* the chunk in the air */
	Phase		phase;
	uint64_t	chunk_seq;		/* its number, in its watermark */
	PGresult   *chunk;			/* its frames: a SCHEMA frame, then rows */
	uint64_t	chunk_key_fp;	/* fingerprints of its SCHEMA frame */
	uint64_t	chunk_value_fp;
	bool		window;			/* keys are being collected */
	uint64_t	window_seq;		/* first transaction inside it */
	bool		invalid;		/* read it again: DDL or TRUNCATE meanwhile */
	bool		chunk_fp_known; /* the chunk's SCHEMA frame has come */
	bool		window_schema_seen; /* the table's SCHEMA frames before that */
	bool		window_schema_mixed;	/* ... with different fingerprints */
	uint64_t	seen_key_fp;
	uint64_t	seen_value_fp;
	KeySet		keys;			/* changed in the window */
	int			emit_row;		/* next row of chunk to produce */
	WriterStage emit_stage;		/* of the row at emit_row */
};

/* ---- ondemand_snapshot.c: the state, the second connection, emitting ---- */

extern void ondemand_drop_chunk(OnDemandSnapshot *r);
extern void ondemand_close_connection(OnDemandSnapshot *r);
extern void ondemand_set_conn_error(OnDemandSnapshot *r, const char *what, PGresult *res);
extern bool ondemand_send_query(OnDemandSnapshot *r, Pending what, const char *sql, int nparams,
								const char *const *params, int result_format);

/* ---- ondemand_snapshot_chunk.c: reading a table chunk by chunk ---- */

extern void ondemand_abandon_chunk(OnDemandSnapshot *r);
extern void ondemand_finish_table(OnDemandSnapshot *r, const char *how);
extern void ondemand_start_lookup(OnDemandSnapshot *r);
extern void ondemand_lookup_done(OnDemandSnapshot *r, PGresult *res);
extern void ondemand_log_progress(OnDemandSnapshot *r, int64_t now);
extern void ondemand_start_chunk(OnDemandSnapshot *r);
extern void ondemand_chunk_begun(OnDemandSnapshot *r, PGresult *res);
extern void ondemand_chunk_read(OnDemandSnapshot *r, PGresult *res);
extern void ondemand_chunk_committed(OnDemandSnapshot *r, PGresult *res);
extern void ondemand_watermark_written(OnDemandSnapshot *r, PGresult *res);

#endif							/* RELAY_ONDEMAND_SNAPSHOT_INTERNAL_H */
