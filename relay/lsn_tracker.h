/*-------------------------------------------------------------------------
 *
 * lsn_tracker.h
 *		Records in flight per transaction and the highest LSN safe to
 *		confirm (lsn_tracker.c).
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/lsn_tracker.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RELAY_LSN_TRACKER_H
#define RELAY_LSN_TRACKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lsn.h"

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

#endif							/* RELAY_LSN_TRACKER_H */
