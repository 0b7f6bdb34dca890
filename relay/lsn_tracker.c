/*-------------------------------------------------------------------------
 *
 * lsn_tracker.c
 *		Records in flight per transaction, and the highest LSN safe to
 *		confirm to PostgreSQL.
 *
 * Transactions sit in a ring in commit order, each with a count of records
 * whose delivery is not yet reported.  A record's id is its transaction's
 * sequence number, so a delivery report finds its transaction in O(1) and
 * the tracker allocates nothing per record: a transaction of a million
 * records costs one ring slot.  The head of the ring is popped while it is
 * committed and fully acknowledged; its end LSN becomes the safe LSN.  A
 * failed record pins its transaction at the head until a reset, which is
 * what keeps a lost record from ever being confirmed.
 *
 * Single-threaded: librdkafka calls the delivery callback inside poll, on
 * the relay's own thread.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/lsn_tracker.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>
#include <string.h>

#include "lsn.h"
#include "lsn_tracker.h"

#define RING_MIN_CAPACITY	16

static LsnTrackerTxn *txn_for_id(LsnTracker *t, uint64_t id);
static void advance(LsnTracker *t);
static bool resize(LsnTracker *t, size_t capacity);

void
lsn_tracker_init(LsnTracker *t, Lsn start)
{
	memset(t, 0, sizeof(*t));
	t->head_seq = 1;			/* so that id 0 is never issued */
	t->safe_lsn = start;
}

void
lsn_tracker_free(LsnTracker *t)
{
	free(t->ring);
	memset(t, 0, sizeof(*t));
}

LsnTrackerStatus
lsn_tracker_begin(LsnTracker *t, Lsn commit_lsn)
{
	LsnTrackerTxn *txn;

	if (t->open)
		return LSN_TRACKER_BAD_ORDER;
	if (t->count == t->capacity &&
		!resize(t, t->capacity ? t->capacity * 2 : RING_MIN_CAPACITY))
		return LSN_TRACKER_NO_MEMORY;
	txn = &t->ring[(t->head + t->count) & (t->capacity - 1)];
	memset(txn, 0, sizeof(*txn));
	txn->commit_lsn = commit_lsn;
	t->count++;
	t->open = true;
	return LSN_TRACKER_OK;
}

uint64_t
lsn_tracker_add(LsnTracker *t)
{
	LsnTrackerTxn *txn;

	if (!t->open)
		return LSN_TRACKER_NO_ID;
	txn = &t->ring[(t->head + t->count - 1) & (t->capacity - 1)];
	txn->records++;
	txn->pending++;
	t->records_pending++;
	return t->head_seq + t->count - 1;
}

LsnTrackerStatus
lsn_tracker_commit(LsnTracker *t, Lsn end_lsn)
{
	LsnTrackerTxn *txn;

	if (!t->open)
		return LSN_TRACKER_BAD_ORDER;
	txn = &t->ring[(t->head + t->count - 1) & (t->capacity - 1)];
	txn->committed = true;
	txn->end_lsn = end_lsn;
	t->open = false;
	advance(t);
	return LSN_TRACKER_OK;
}

LsnTrackerStatus
lsn_tracker_ack(LsnTracker *t, uint64_t id)
{
	LsnTrackerTxn *txn = txn_for_id(t, id);

	if (txn == NULL)
		return LSN_TRACKER_UNKNOWN_ID;
	txn->pending--;
	t->records_pending--;
	if (id == t->head_seq)
		advance(t);
	return LSN_TRACKER_OK;
}

LsnTrackerStatus
lsn_tracker_fail(LsnTracker *t, uint64_t id)
{
	LsnTrackerTxn *txn = txn_for_id(t, id);

	if (txn == NULL)
		return LSN_TRACKER_UNKNOWN_ID;
	txn->pending--;
	txn->failed = true;
	t->records_pending--;
	t->records_failed++;
	return LSN_TRACKER_OK;
}

LsnTrackerStatus
lsn_tracker_cancel(LsnTracker *t, uint64_t id)
{
	LsnTrackerTxn *txn = txn_for_id(t, id);

	if (txn == NULL)
		return LSN_TRACKER_UNKNOWN_ID;
	txn->records--;
	txn->pending--;
	t->records_pending--;
	if (id == t->head_seq)
		advance(t);
	return LSN_TRACKER_OK;
}

/*
 * The transaction of a record id with a delivery still pending, or NULL.
 * Ids below head_seq belong to transactions already safe or forgotten by a
 * reset; ids at or past the tail were never issued.
 */
static LsnTrackerTxn *
txn_for_id(LsnTracker *t, uint64_t id)
{
	LsnTrackerTxn *txn;

	if (id < t->head_seq || id - t->head_seq >= t->count)
		return NULL;
	txn = &t->ring[(t->head + (size_t) (id - t->head_seq)) & (t->capacity - 1)];
	if (txn->pending == 0)
		return NULL;
	return txn;
}

Lsn
lsn_tracker_safe_lsn(const LsnTracker *t)
{
	return t->safe_lsn;
}

void
lsn_tracker_note_wal_end(LsnTracker *t, Lsn wal_end)
{
	if (lsn_tracker_idle(t) && wal_end > t->safe_lsn)
		t->safe_lsn = wal_end;
}

bool
lsn_tracker_idle(const LsnTracker *t)
{
	return t->count == 0;
}

LsnTrackerCounts
lsn_tracker_in_flight(const LsnTracker *t)
{
	LsnTrackerCounts c;

	c.records = t->records_pending;
	c.transactions = t->count;
	c.failed_records = t->records_failed;
	c.open = t->open;
	return c;
}

void
lsn_tracker_reset(LsnTracker *t)
{
	/* Skip the numbers handed out, so late reports are refused. */
	t->head_seq += t->count;
	t->head = 0;
	t->count = 0;
	t->open = false;
	t->records_pending = 0;
	t->records_failed = 0;
	free(t->ring);
	t->ring = NULL;
	t->capacity = 0;
}

void
lsn_tracker_restart(LsnTracker *t, Lsn start)
{
	lsn_tracker_reset(t);
	t->safe_lsn = start;
}

size_t
lsn_tracker_memory(const LsnTracker *t)
{
	return t->capacity * sizeof(LsnTrackerTxn);
}

const char *
lsn_tracker_status_text(LsnTrackerStatus status)
{
	switch (status)
	{
		case LSN_TRACKER_OK:
			return "ok";
		case LSN_TRACKER_NO_MEMORY:
			return "out of memory";
		case LSN_TRACKER_BAD_ORDER:
			return "transaction boundaries out of order";
		case LSN_TRACKER_UNKNOWN_ID:
			return "record id not in flight";
	}
	return "unknown status";
}

/*
 * Pop the transactions at the head that are committed, fully acknowledged
 * and not failed, moving the safe LSN to their end.  The open transaction
 * is never committed, so it stops the walk.
 */
static void
advance(LsnTracker *t)
{
	while (t->count > 0)
	{
		LsnTrackerTxn *txn = &t->ring[t->head];

		if (!txn->committed || txn->pending > 0 || txn->failed)
			break;
		if (txn->end_lsn > t->safe_lsn)
			t->safe_lsn = txn->end_lsn;
		t->head = (t->head + 1) & (t->capacity - 1);
		t->head_seq++;
		t->count--;
	}
	/* Give memory back after a burst; a failed shrink just keeps the ring. */
	if (t->capacity > RING_MIN_CAPACITY && t->count <= t->capacity / 4)
		(void) resize(t, t->capacity / 2);
}

/*
 * Move the ring to a new array of "capacity" slots (a power of two, at least
 * count), oldest first.  Returns false, changing nothing, when out of memory.
 */
static bool
resize(LsnTracker *t, size_t capacity)
{
	LsnTrackerTxn *ring;

	if (capacity > SIZE_MAX / sizeof(LsnTrackerTxn))
		return false;
	ring = malloc(capacity * sizeof(LsnTrackerTxn));
	if (ring == NULL)
		return false;
	for (size_t i = 0; i < t->count; i++)
		ring[i] = t->ring[(t->head + i) & (t->capacity - 1)];
	free(t->ring);
	t->ring = ring;
	t->capacity = capacity;
	t->head = 0;
	return true;
}
