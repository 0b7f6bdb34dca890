/*-------------------------------------------------------------------------
 *
 * relay.h
 *		Relay-wide types, exit codes, logging, and the prototypes of every
 *		relay module, grouped under one banner per .c file.
 *
 * The relay is plain C11 on libpq and librdkafka; nothing here needs either
 * library, so the unit tests link every module but main.c without a server
 * or a broker.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/relay.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RELAY_H
#define RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "wal2avro_protocol.h"

#define RELAY_PROGNAME		"wal2avro-relay"
#define RELAY_VERSION		"0.1.0"
#define RELAY_BUGS_URL		"https://github.com/wal2avro/wal2avro/issues"

#if defined(__GNUC__) || defined(__clang__)
#define RELAY_PRINTF(f, a)	__attribute__((format(printf, f, a)))
#else
#define RELAY_PRINTF(f, a)
#endif

/* Exit status of the process; listed in --help, decided only by main. */
typedef enum RelayExit
{
	RELAY_EXIT_OK = 0,			/* stopped on request, or reached endpos with all confirmed */
	RELAY_EXIT_CONFIG = 1,		/* usage or configuration error */
	RELAY_EXIT_PG = 2,			/* PostgreSQL failure not retried */
	RELAY_EXIT_KAFKA = 3		/* fatal Kafka error, or a delivery failed under on-error=stop */
} RelayExit;

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
 * An LSN, as PostgreSQL's XLogRecPtr: a 64-bit byte position in the WAL.
 * 0 means "no position" (InvalidXLogRecPtr).  Print with
 * printf("confirmed " LSN_FMT, LSN_ARGS(lsn)).
 */
typedef uint64_t Lsn;

#define INVALID_LSN			((Lsn) 0)
#define LSN_FMT				"%X/%X"
#define LSN_ARGS(lsn)		((unsigned int) ((uint64_t) (lsn) >> 32)), \
							((unsigned int) ((uint64_t) (lsn) & 0xFFFFFFFFu))
#define LSN_TEXT_SIZE		18	/* "FFFFFFFF/FFFFFFFF" and a NUL */


/* ---- relay.c: logging, LSN text, clock ---- */

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
 * Parse an LSN as PostgreSQL prints it ("16/B374D848": 1 to 8 hex digits,
 * a slash, 1 to 8 hex digits, nothing else).  Returns false on any other
 * text, leaving *lsn alone.
 */
extern bool relay_lsn_parse(const char *text, Lsn *lsn);

/*
 * Format a one-line error message into err (of errlen bytes, cut to fit);
 * does nothing when err is NULL or errlen 0.  The relay's modules report
 * failures this way and leave logging to their caller.
 */
extern void relay_set_error(char *err, size_t errlen, const char *fmt,...) RELAY_PRINTF(3, 4);

/* Monotonic clock in microseconds: the relay's one clock unit. */
extern int64_t relay_now_us(void);


/* ---- config.h: options, config file, environment, --help, --print-config ---- */

#include "config.h"


/* ---- frames.c: parse and validate frames; pure, no I/O ---- */

/*
 * Bytes inside the buffer a frame was parsed from: a string (UTF-8, not NUL
 * terminated: print with "%.*s", FRAME_BYTES_ARGS(b)) or a block.  data is
 * NULL only for an absent block; it then has len 0.
 */
typedef struct FrameBytes
{
	const uint8_t *data;
	uint32_t	len;
} FrameBytes;

#define FRAME_BYTES_ARGS(b)	((int) (b).len), ((const char *) (b).data)

/*
 * A validated run of repeated items inside the buffer: the key column names
 * of a SCHEMA frame, the relations of a TRUNCATE frame.  Walk it with
 * frames_next_key_column / frames_next_relation.
 */
typedef struct FrameList
{
	const uint8_t *data;		/* the first item */
	size_t		len;			/* bytes of all items */
	uint16_t	count;
} FrameList;

/* One relation of a TRUNCATE frame. */
typedef struct FrameRelation
{
	uint32_t	relid;
	FrameBytes	schema_name;
	FrameBytes	table_name;
} FrameRelation;

/*
 * One parsed frame.  Every FrameBytes and FrameList points into the buffer
 * given to frames_parse, so a Frame is valid only as long as that buffer.
 */
typedef struct Frame
{
	char		kind;			/* W2A_FRAME_BEGIN ... W2A_FRAME_COMMIT */
	uint32_t	body_len;		/* from the header */
	union
	{
		struct
		{
			uint32_t	xid;
			Lsn			commit_lsn;
			int64_t		commit_time;	/* microseconds since the Unix epoch */
		}			begin;
		struct
		{
			uint32_t	relid;
			uint64_t	key_fingerprint;	/* 0: no key */
			uint64_t	value_fingerprint;
			FrameBytes	schema_name;
			FrameBytes	table_name;
			FrameBytes	topic;
			FrameList	key_columns;	/* of strings */
			FrameBytes	key_schema; /* Avro JSON; empty when no key */
			FrameBytes	value_schema;
		}			schema;
		struct
		{
			char		op;		/* W2A_OP_CREATE, _UPDATE, _DELETE, _READ */
			uint32_t	relid;
			Lsn			lsn;
			uint64_t	key_fingerprint;
			uint64_t	value_fingerprint;
			bool		has_key;	/* false: the key block is absent */
			FrameBytes	key;	/* Avro binary; data NULL when absent */
			FrameBytes	value;	/* Avro binary; never absent */
		}			change;
		struct
		{
			uint8_t		flags;	/* W2A_TRUNCATE_CASCADE | _RESTART_IDENTITY */
			Lsn			lsn;
			FrameList	relations;	/* of FrameRelation */
		}			truncate;
		struct
		{
			bool		transactional;
			Lsn			lsn;
			FrameBytes	prefix;
			bool		has_content;	/* false: the content block is absent */
			FrameBytes	content;
		}			message;
		struct
		{
			Lsn			commit_lsn;
			Lsn			end_lsn;
			int64_t		commit_time;
			uint64_t	change_count;
		}			commit;
	};
} Frame;

/* Options of frames_next */
#define FRAMES_NEWLINE	0x01	/* one '\n' follows each frame (pg_recvlogical -f) */
#define FRAMES_PARTIAL	0x02	/* buf may end inside a frame: ask for more */

/*
 * Parse exactly one frame, header and body, filling *out with pointers into
 * buf (no copy, nothing allocated).  Strict: wrong magic, version, kind,
 * header flags, op or TRUNCATE flags, a transactional byte other than 0/1, a
 * body length over W2A_MAX_BODY or different from len - header, a field
 * running past the end, an absent string or value block, a string that is
 * not UTF-8, and bytes left after the body are all errors.  Returns 0, or
 * -1 with a message in err naming the frame kind, the field and its byte
 * offset in the frame; *out is then unspecified.
 */
extern int	frames_parse(const uint8_t *buf, size_t len, Frame *out,
						 char *err, size_t errlen);

/*
 * Parse the first frame of a stream of frames laid end to end.  Returns 1
 * with the frame in *out and its size (with the newline under FRAMES_NEWLINE)
 * in *consumed; 0 when len is 0, or, under FRAMES_PARTIAL, when buf holds
 * only the start of a valid frame (read more, call again with the same
 * start); -1 with a message in err (offsets relative to buf) on an invalid
 * or, without FRAMES_PARTIAL, truncated frame.  A header is refused as soon
 * as its present bytes are wrong, even under FRAMES_PARTIAL.  *consumed is
 * 0 unless 1 is returned.
 */
extern int	frames_next(const uint8_t *buf, size_t len, unsigned int options,
						size_t *consumed, Frame *out, char *err, size_t errlen);

/* The kind's name in messages ("begin", "schema", ...), "unknown" otherwise. */
extern const char *frames_kind_name(char kind);

/*
 * Iterate a FrameList: set *pos to 0, then call until it returns false.
 * Each call fills the next item and advances *pos.  Returns false at the end
 * of the list (or if the list is damaged, which frames_parse prevents).
 */
extern bool frames_next_key_column(const FrameList *list, size_t *pos,
								   FrameBytes *name);
extern bool frames_next_relation(const FrameList *list, size_t *pos,
								 FrameRelation *rel);


/* ---- lsn_tracker.c: records in flight per transaction, the safe LSN ---- */

/* One transaction in flight: seen BEGIN, not yet safe. */
typedef struct LsnTrackerTxn
{
	Lsn			commit_lsn;		/* from BEGIN */
	Lsn			end_lsn;		/* from COMMIT; INVALID_LSN: confirms nothing */
	uint64_t	records;		/* records added */
	uint64_t	pending;		/* added, not yet acknowledged or failed */
	bool		committed;		/* COMMIT seen */
	bool		failed;			/* a record failed: never safe until reset */
} LsnTrackerTxn;

/*
 * The tracker: a ring of transactions in commit order.  Transaction number
 * "head_seq" is ring[head]; record ids are transaction numbers, which keep
 * growing across resets, so an id from before a reset is recognized as
 * stale.  Fields are private to lsn_tracker.c.
 */
typedef struct LsnTracker
{
	LsnTrackerTxn *ring;
	size_t		capacity;		/* slots in ring, a power of two */
	size_t		head;			/* index of the oldest transaction */
	size_t		count;			/* transactions in the ring, the open one included */
	uint64_t	head_seq;		/* number of ring[head]; the next one is head_seq + count */
	bool		open;			/* the newest transaction has no COMMIT yet */
	Lsn			safe_lsn;		/* highest confirmable position so far */
	uint64_t	records_pending;	/* sum of pending over the ring */
	uint64_t	records_failed; /* failed records in the ring */
} LsnTracker;

typedef enum LsnTrackerStatus
{
	LSN_TRACKER_OK = 0,
	LSN_TRACKER_NO_MEMORY,		/* the ring could not grow */
	LSN_TRACKER_BAD_ORDER,		/* BEGIN inside a transaction, COMMIT or record outside one */
	LSN_TRACKER_UNKNOWN_ID		/* not in flight: from before a reset, already done, or never issued */
} LsnTrackerStatus;

/* What is in flight, for logs, metrics and the byte-independent checks. */
typedef struct LsnTrackerCounts
{
	uint64_t	records;		/* produced, delivery not yet reported */
	uint64_t	transactions;	/* begun, not yet safe (open, unacknowledged or failed) */
	uint64_t	failed_records; /* deliveries reported failed since the last reset */
	bool		open;			/* inside BEGIN..COMMIT */
} LsnTrackerCounts;

/* Record id 0 is never issued: lsn_tracker_add returns it on misuse. */
#define LSN_TRACKER_NO_ID	((uint64_t) 0)

/*
 * Start empty with safe LSN "start" (INVALID_LSN, or the slot's confirmed
 * position).  Allocates nothing; never fails.  Pair with lsn_tracker_free.
 */
extern void lsn_tracker_init(LsnTracker *t, Lsn start);

/* Free the ring.  The tracker must be initialized again before reuse. */
extern void lsn_tracker_free(LsnTracker *t);

/*
 * A BEGIN frame: open a transaction committing at commit_lsn.  Returns
 * LSN_TRACKER_BAD_ORDER if one is open already, LSN_TRACKER_NO_MEMORY if
 * the ring cannot grow (the tracker is unchanged either way).
 */
extern LsnTrackerStatus lsn_tracker_begin(LsnTracker *t, Lsn commit_lsn);

/*
 * A record produced in the open transaction.  Returns its id, to store as
 * the librdkafka message opaque ((void *) (uintptr_t) id) and hand back to
 * lsn_tracker_ack or _fail from the delivery report; LSN_TRACKER_NO_ID when
 * no transaction is open.  Allocates nothing.  Ids are not unique per
 * record (every record of a transaction shares one); a re-send of a failed
 * record (to a dead-letter topic) reuses its id without acking or failing
 * the first delivery.
 */
extern uint64_t lsn_tracker_add(LsnTracker *t);

/*
 * A COMMIT frame: close the open transaction, whose end LSN (the position
 * confirmed once it is safe) is end_lsn.  A transaction with no records
 * becomes safe as soon as everything before it is.  Returns
 * LSN_TRACKER_BAD_ORDER when no transaction is open.
 *
 * A non-transactional MESSAGE is a transaction of one record: begin(lsn),
 * add, commit(lsn) -- a restart may repeat it, never lose it.
 */
extern LsnTrackerStatus lsn_tracker_commit(LsnTracker *t, Lsn end_lsn);

/*
 * A successful delivery report for a record id.  Acks arrive in any order.
 * Returns LSN_TRACKER_UNKNOWN_ID, changing nothing, when no record with
 * that id is in flight: normal for reports arriving after a reset.
 */
extern LsnTrackerStatus lsn_tracker_ack(LsnTracker *t, uint64_t id);

/*
 * A failed delivery report: the record is no longer in flight, and its
 * transaction, and so every later one, never becomes safe until
 * lsn_tracker_reset.  Returns LSN_TRACKER_UNKNOWN_ID as lsn_tracker_ack.
 */
extern LsnTrackerStatus lsn_tracker_fail(LsnTracker *t, uint64_t id);

/*
 * Take back a record that was added but never reached librdkafka (the
 * produce call failed, or the queue was full and the frame will be given
 * again): as if that lsn_tracker_add had not happened.  Without it the
 * transaction would wait forever for a delivery report.  Returns
 * LSN_TRACKER_UNKNOWN_ID as lsn_tracker_ack.
 */
extern LsnTrackerStatus lsn_tracker_cancel(LsnTracker *t, uint64_t id);

/*
 * The highest LSN safe to confirm as flush: the end LSN of the newest
 * transaction that is committed and acknowledged with all before it, or a
 * keepalive's walEnd noted while idle, or the start LSN.  Never decreases,
 * not even across lsn_tracker_reset (lsn_tracker_restart sets it).
 */
extern Lsn	lsn_tracker_safe_lsn(const LsnTracker *t);

/*
 * A keepalive's walEnd: when idle, the server has nothing older for us, so
 * wal_end becomes the safe LSN (if higher).  Otherwise ignored.
 */
extern void lsn_tracker_note_wal_end(LsnTracker *t, Lsn wal_end);

/* Nothing in flight: no open, unacknowledged or failed transaction. */
extern bool lsn_tracker_idle(const LsnTracker *t);

/* Records and transactions in flight, and failures since the last reset. */
extern LsnTrackerCounts lsn_tracker_in_flight(const LsnTracker *t);

/*
 * Forget everything in flight (after a reconnect or a fatal producer
 * error): the open transaction, pending records, failures.  The safe LSN
 * stays; ids issued before are refused afterwards.  Shrinks the ring;
 * never fails.
 */
extern void lsn_tracker_reset(LsnTracker *t);

/*
 * lsn_tracker_reset, and the safe LSN becomes "start", lower or higher: a
 * new stream starts there (after a server crash the slot may be behind what
 * was acknowledged on the last connection).  The only call that can move
 * the safe LSN back.  Never fails.
 */
extern void lsn_tracker_restart(LsnTracker *t, Lsn start);

/* Bytes the tracker holds on the heap (the ring): for tests and metrics. */
extern size_t lsn_tracker_memory(const LsnTracker *t);

/* The status as text, for messages ("record id not in flight"). */
extern const char *lsn_tracker_status_text(LsnTrackerStatus status);

#endif							/* RELAY_H */
