/*-------------------------------------------------------------------------
 *
 * test_lsn_tracker.c
 *		Unit tests for relay/lsn_tracker.c: the safe LSN under acks in any
 *		order, failures, empty and open transactions, resets, and memory
 *		that does not grow with the records of a transaction.
 *
 * Besides hand-written cases, a randomized run checks the tracker against a
 * plain model (an array of every transaction ever begun) at every step.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * regress/relay/test_lsn_tracker.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>
#include <string.h>

#include "lsn.h"
#include "lsn_tracker.h"
#include "unit.h"

/*
 * Heap in use, measured outside the tracker: AddressSanitizer's allocator
 * when present (the unit build), else glibc's mallinfo2 (plain builds).
 */
#if defined(__SANITIZE_ADDRESS__)
#define HAVE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HAVE_ASAN 1
#endif
#endif

#ifdef HAVE_ASAN
extern size_t __sanitizer_get_current_allocated_bytes(void);

static size_t
heap_in_use(void)
{
	return __sanitizer_get_current_allocated_bytes();
}
#else
#include <malloc.h>

static size_t
heap_in_use(void)
{
	return mallinfo2().uordblks;
}
#endif

static void
test_basics(void)
{
	LsnTracker	t;
	LsnTrackerCounts c;
	uint64_t	id;

	lsn_tracker_init(&t, 0x100);
	CHECK_U64(lsn_tracker_safe_lsn(&t), 0x100);
	CHECK(lsn_tracker_idle(&t));
	c = lsn_tracker_in_flight(&t);
	CHECK(c.records == 0 && c.transactions == 0 && c.failed_records == 0 && !c.open);
	CHECK_INT(lsn_tracker_memory(&t), 0);

	CHECK_INT(lsn_tracker_begin(&t, 0x1000), LSN_TRACKER_OK);
	CHECK(!lsn_tracker_idle(&t));
	id = lsn_tracker_add(&t);
	CHECK(id != LSN_TRACKER_NO_ID);
	CHECK_U64(lsn_tracker_add(&t), id);	/* one id per transaction */
	c = lsn_tracker_in_flight(&t);
	CHECK_INT(c.records, 2);
	CHECK_INT(c.transactions, 1);
	CHECK(c.open);

	/* Acknowledged but still open: never safe. */
	CHECK_INT(lsn_tracker_ack(&t, id), LSN_TRACKER_OK);
	CHECK_INT(lsn_tracker_ack(&t, id), LSN_TRACKER_OK);
	CHECK_U64(lsn_tracker_safe_lsn(&t), 0x100);
	CHECK(!lsn_tracker_idle(&t));

	CHECK_INT(lsn_tracker_commit(&t, 0x1028), LSN_TRACKER_OK);
	CHECK_U64(lsn_tracker_safe_lsn(&t), 0x1028);
	CHECK(lsn_tracker_idle(&t));
	c = lsn_tracker_in_flight(&t);
	CHECK(c.records == 0 && c.transactions == 0 && !c.open);

	/* Committed first, acknowledged after. */
	CHECK_INT(lsn_tracker_begin(&t, 0x2000), LSN_TRACKER_OK);
	id = lsn_tracker_add(&t);
	CHECK_INT(lsn_tracker_commit(&t, 0x2030), LSN_TRACKER_OK);
	CHECK_U64(lsn_tracker_safe_lsn(&t), 0x1028);
	CHECK_INT(lsn_tracker_ack(&t, id), LSN_TRACKER_OK);
	CHECK_U64(lsn_tracker_safe_lsn(&t), 0x2030);
	lsn_tracker_free(&t);
}

static void
test_bad_order_and_unknown_ids(void)
{
	LsnTracker	t;
	uint64_t	id;
	LsnTrackerCounts c;

	lsn_tracker_init(&t, INVALID_LSN);
	CHECK_U64(lsn_tracker_add(&t), LSN_TRACKER_NO_ID);
	CHECK_INT(lsn_tracker_commit(&t, 5), LSN_TRACKER_BAD_ORDER);
	CHECK_INT(lsn_tracker_ack(&t, 0), LSN_TRACKER_UNKNOWN_ID);
	CHECK_INT(lsn_tracker_ack(&t, 1), LSN_TRACKER_UNKNOWN_ID);
	CHECK_INT(lsn_tracker_fail(&t, 1), LSN_TRACKER_UNKNOWN_ID);

	CHECK_INT(lsn_tracker_begin(&t, 10), LSN_TRACKER_OK);
	CHECK_INT(lsn_tracker_begin(&t, 11), LSN_TRACKER_BAD_ORDER);
	id = lsn_tracker_add(&t);
	CHECK_INT(lsn_tracker_ack(&t, id + 1), LSN_TRACKER_UNKNOWN_ID);	/* never issued */
	CHECK_INT(lsn_tracker_ack(&t, id), LSN_TRACKER_OK);
	CHECK_INT(lsn_tracker_ack(&t, id), LSN_TRACKER_UNKNOWN_ID);	/* one ack too many */
	CHECK_INT(lsn_tracker_fail(&t, id), LSN_TRACKER_UNKNOWN_ID);
	c = lsn_tracker_in_flight(&t);
	CHECK_INT(c.records, 0);
	CHECK_INT(c.failed_records, 0);
	CHECK_INT(lsn_tracker_commit(&t, 20), LSN_TRACKER_OK);
	CHECK_INT(lsn_tracker_commit(&t, 21), LSN_TRACKER_BAD_ORDER);
	CHECK_U64(lsn_tracker_safe_lsn(&t), 20);
	CHECK_INT(lsn_tracker_ack(&t, id), LSN_TRACKER_UNKNOWN_ID);	/* already safe */

	CHECK_STR(lsn_tracker_status_text(LSN_TRACKER_OK), "ok");
	CHECK_STR(lsn_tracker_status_text(LSN_TRACKER_NO_MEMORY), "out of memory");
	CHECK_STR(lsn_tracker_status_text(LSN_TRACKER_BAD_ORDER), "transaction boundaries out of order");
	CHECK_STR(lsn_tracker_status_text(LSN_TRACKER_UNKNOWN_ID), "record id not in flight");
	lsn_tracker_free(&t);
}

/*
 * Three transactions acknowledged newest first: the safe LSN stays put
 * until the oldest is done, then jumps over all of them.
 */
static void
test_out_of_order_acks(void)
{
	LsnTracker	t;
	uint64_t	a,
				b,
				c;

	lsn_tracker_init(&t, INVALID_LSN);
	lsn_tracker_begin(&t, 100);
	a = lsn_tracker_add(&t);
	lsn_tracker_add(&t);
	lsn_tracker_add(&t);
	lsn_tracker_commit(&t, 110);
	lsn_tracker_begin(&t, 200);
	b = lsn_tracker_add(&t);
	lsn_tracker_add(&t);
	lsn_tracker_commit(&t, 210);
	lsn_tracker_begin(&t, 300);
	c = lsn_tracker_add(&t);
	lsn_tracker_commit(&t, 310);
	CHECK(a != b && b != c && a != c);
	CHECK_INT(lsn_tracker_in_flight(&t).records, 6);
	CHECK_INT(lsn_tracker_in_flight(&t).transactions, 3);

	CHECK_INT(lsn_tracker_ack(&t, c), LSN_TRACKER_OK);
	CHECK_U64(lsn_tracker_safe_lsn(&t), INVALID_LSN);
	CHECK_INT(lsn_tracker_ack(&t, b), LSN_TRACKER_OK);
	CHECK_INT(lsn_tracker_ack(&t, a), LSN_TRACKER_OK);
	CHECK_INT(lsn_tracker_ack(&t, b), LSN_TRACKER_OK);
	CHECK_U64(lsn_tracker_safe_lsn(&t), INVALID_LSN);
	CHECK_INT(lsn_tracker_ack(&t, a), LSN_TRACKER_OK);
	CHECK_U64(lsn_tracker_safe_lsn(&t), INVALID_LSN);
	CHECK_INT(lsn_tracker_in_flight(&t).records, 1);
	CHECK_INT(lsn_tracker_ack(&t, a), LSN_TRACKER_OK);
	CHECK_U64(lsn_tracker_safe_lsn(&t), 310);
	CHECK(lsn_tracker_idle(&t));

	/* Oldest done first: it alone becomes safe, the rest wait. */
	lsn_tracker_begin(&t, 400);
	a = lsn_tracker_add(&t);
	lsn_tracker_commit(&t, 410);
	lsn_tracker_begin(&t, 500);
	b = lsn_tracker_add(&t);
	lsn_tracker_commit(&t, 510);
	lsn_tracker_ack(&t, a);
	CHECK_U64(lsn_tracker_safe_lsn(&t), 410);
	lsn_tracker_ack(&t, b);
	CHECK_U64(lsn_tracker_safe_lsn(&t), 510);

	/* An open transaction behind acknowledged ones stops the walk. */
	lsn_tracker_begin(&t, 600);
	a = lsn_tracker_add(&t);
	lsn_tracker_commit(&t, 610);
	lsn_tracker_begin(&t, 700);
	b = lsn_tracker_add(&t);
	lsn_tracker_ack(&t, b);
	lsn_tracker_ack(&t, a);
	CHECK_U64(lsn_tracker_safe_lsn(&t), 610);
	CHECK(lsn_tracker_in_flight(&t).open);
	CHECK_INT(lsn_tracker_in_flight(&t).transactions, 1);
	lsn_tracker_commit(&t, 710);
	CHECK_U64(lsn_tracker_safe_lsn(&t), 710);
	lsn_tracker_free(&t);
}

static void
test_empty_transactions(void)
{
	LsnTracker	t;
	uint64_t	a;

	lsn_tracker_init(&t, INVALID_LSN);

	/* Alone: safe at its COMMIT. */
	lsn_tracker_begin(&t, 100);
	CHECK(!lsn_tracker_idle(&t));
	lsn_tracker_commit(&t, 110);
	CHECK_U64(lsn_tracker_safe_lsn(&t), 110);
	CHECK(lsn_tracker_idle(&t));

	/* Behind a pending transaction: waits for it, then both are safe. */
	lsn_tracker_begin(&t, 200);
	a = lsn_tracker_add(&t);
	lsn_tracker_commit(&t, 210);
	lsn_tracker_begin(&t, 300);
	lsn_tracker_commit(&t, 310);
	lsn_tracker_begin(&t, 400);
	lsn_tracker_commit(&t, 410);
	CHECK_U64(lsn_tracker_safe_lsn(&t), 110);
	CHECK_INT(lsn_tracker_in_flight(&t).transactions, 3);
	lsn_tracker_ack(&t, a);
	CHECK_U64(lsn_tracker_safe_lsn(&t), 410);
	CHECK(lsn_tracker_idle(&t));

	/* A commit without an end position confirms nothing and blocks nothing. */
	lsn_tracker_begin(&t, 500);
	lsn_tracker_commit(&t, INVALID_LSN);
	CHECK_U64(lsn_tracker_safe_lsn(&t), 410);
	CHECK(lsn_tracker_idle(&t));

	/* A non-transactional message: a one-record transaction at its LSN. */
	lsn_tracker_begin(&t, 600);
	a = lsn_tracker_add(&t);
	lsn_tracker_commit(&t, 600);
	lsn_tracker_ack(&t, a);
	CHECK_U64(lsn_tracker_safe_lsn(&t), 600);
	lsn_tracker_free(&t);
}

/* A failed record pins its transaction: nothing after it becomes safe. */
static void
test_failure_blocks(void)
{
	LsnTracker	t;
	uint64_t	a,
				b,
				old;
	LsnTrackerCounts c;

	lsn_tracker_init(&t, 50);
	lsn_tracker_begin(&t, 100);
	a = lsn_tracker_add(&t);
	lsn_tracker_add(&t);
	lsn_tracker_commit(&t, 110);
	lsn_tracker_begin(&t, 200);
	b = lsn_tracker_add(&t);
	lsn_tracker_commit(&t, 210);

	CHECK_INT(lsn_tracker_fail(&t, a), LSN_TRACKER_OK);
	CHECK_INT(lsn_tracker_ack(&t, a), LSN_TRACKER_OK);
	CHECK_INT(lsn_tracker_ack(&t, b), LSN_TRACKER_OK);
	c = lsn_tracker_in_flight(&t);
	CHECK_INT(c.records, 0);
	CHECK_INT(c.failed_records, 1);
	CHECK_INT(c.transactions, 2);
	CHECK_U64(lsn_tracker_safe_lsn(&t), 50);
	CHECK(!lsn_tracker_idle(&t));

	/* Later transactions, all acknowledged: still blocked, "forever". */
	for (int i = 0; i < 1000; i++)
	{
		lsn_tracker_begin(&t, 1000 + (Lsn) i * 10);
		lsn_tracker_ack(&t, lsn_tracker_add(&t));
		lsn_tracker_commit(&t, 1005 + (Lsn) i * 10);
	}
	CHECK_U64(lsn_tracker_safe_lsn(&t), 50);
	lsn_tracker_note_wal_end(&t, 99999);	/* not idle: ignored */
	CHECK_U64(lsn_tracker_safe_lsn(&t), 50);
	CHECK_INT(lsn_tracker_in_flight(&t).transactions, 1002);

	/* Reset forgets it all; the safe LSN stays; old ids are refused. */
	old = lsn_tracker_add(&t);
	CHECK_U64(old, LSN_TRACKER_NO_ID);
	lsn_tracker_begin(&t, 20000);
	old = lsn_tracker_add(&t);
	lsn_tracker_reset(&t);
	CHECK(lsn_tracker_idle(&t));
	c = lsn_tracker_in_flight(&t);
	CHECK(c.records == 0 && c.transactions == 0 && c.failed_records == 0 && !c.open);
	CHECK_U64(lsn_tracker_safe_lsn(&t), 50);
	CHECK_INT(lsn_tracker_ack(&t, old), LSN_TRACKER_UNKNOWN_ID);
	CHECK_INT(lsn_tracker_ack(&t, a), LSN_TRACKER_UNKNOWN_ID);
	CHECK_INT(lsn_tracker_fail(&t, old), LSN_TRACKER_UNKNOWN_ID);
	CHECK_INT(lsn_tracker_commit(&t, 1), LSN_TRACKER_BAD_ORDER);	/* the open one is gone */
	CHECK_INT(lsn_tracker_memory(&t), 0);

	/* And the tracker works again, ids continuing past the old ones. */
	lsn_tracker_begin(&t, 100);
	a = lsn_tracker_add(&t);
	CHECK(a > old);
	lsn_tracker_commit(&t, 110);
	CHECK_INT(lsn_tracker_ack(&t, old), LSN_TRACKER_UNKNOWN_ID);
	CHECK_U64(lsn_tracker_safe_lsn(&t), 50);
	lsn_tracker_ack(&t, a);
	CHECK_U64(lsn_tracker_safe_lsn(&t), 110);
	lsn_tracker_free(&t);
}

/* A dead-letter re-send reuses the id: one ack closes the record. */
static void
test_resend_same_id(void)
{
	LsnTracker	t;
	uint64_t	a;

	lsn_tracker_init(&t, INVALID_LSN);
	lsn_tracker_begin(&t, 100);
	a = lsn_tracker_add(&t);
	lsn_tracker_commit(&t, 110);
	/* First delivery failed; the record went to the dead-letter topic with id a. */
	CHECK_INT(lsn_tracker_ack(&t, a), LSN_TRACKER_OK);
	CHECK_U64(lsn_tracker_safe_lsn(&t), 110);
	lsn_tracker_free(&t);
}

/* A record whose produce failed is taken back, not acknowledged. */
static void
test_cancel(void)
{
	LsnTracker	t;
	uint64_t	a;
	uint64_t	b;

	lsn_tracker_init(&t, INVALID_LSN);
	lsn_tracker_begin(&t, 100);
	a = lsn_tracker_add(&t);
	b = lsn_tracker_add(&t);	/* the queue was full: */
	CHECK_INT(lsn_tracker_cancel(&t, b), LSN_TRACKER_OK);
	CHECK_INT(lsn_tracker_in_flight(&t).records, 1);
	b = lsn_tracker_add(&t);	/* the same frame, given again, goes through */
	CHECK_INT(lsn_tracker_commit(&t, 110), LSN_TRACKER_OK);
	CHECK_INT(lsn_tracker_ack(&t, a), LSN_TRACKER_OK);
	CHECK_U64(lsn_tracker_safe_lsn(&t), INVALID_LSN);
	CHECK_INT(lsn_tracker_ack(&t, b), LSN_TRACKER_OK);
	CHECK_U64(lsn_tracker_safe_lsn(&t), 110);
	CHECK_INT(lsn_tracker_cancel(&t, b), LSN_TRACKER_UNKNOWN_ID);

	/* Cancelling the last pending record of a committed head makes it safe. */
	lsn_tracker_begin(&t, 200);
	a = lsn_tracker_add(&t);
	b = lsn_tracker_add(&t);
	lsn_tracker_commit(&t, 210);
	lsn_tracker_ack(&t, a);
	CHECK_U64(lsn_tracker_safe_lsn(&t), 110);
	CHECK_INT(lsn_tracker_cancel(&t, b), LSN_TRACKER_OK);
	CHECK_U64(lsn_tracker_safe_lsn(&t), 210);
	CHECK(lsn_tracker_idle(&t));

	/* A standalone message kept open across a retry: begin once, cancel, add again. */
	lsn_tracker_begin(&t, 300);
	a = lsn_tracker_add(&t);
	lsn_tracker_cancel(&t, a);
	CHECK_INT(lsn_tracker_begin(&t, 300), LSN_TRACKER_BAD_ORDER);
	a = lsn_tracker_add(&t);
	lsn_tracker_commit(&t, 300);
	lsn_tracker_ack(&t, a);
	CHECK_U64(lsn_tracker_safe_lsn(&t), 300);
	lsn_tracker_free(&t);
}

static void
test_wal_end(void)
{
	LsnTracker	t;
	uint64_t	a;

	lsn_tracker_init(&t, INVALID_LSN);
	lsn_tracker_note_wal_end(&t, 0x500);
	CHECK_U64(lsn_tracker_safe_lsn(&t), 0x500);
	lsn_tracker_note_wal_end(&t, 0x400);	/* never backwards */
	CHECK_U64(lsn_tracker_safe_lsn(&t), 0x500);

	lsn_tracker_begin(&t, 0x600);	/* open, no record yet */
	lsn_tracker_note_wal_end(&t, 0x700);
	CHECK_U64(lsn_tracker_safe_lsn(&t), 0x500);
	a = lsn_tracker_add(&t);
	lsn_tracker_commit(&t, 0x610);
	lsn_tracker_note_wal_end(&t, 0x700);
	CHECK_U64(lsn_tracker_safe_lsn(&t), 0x500);
	lsn_tracker_ack(&t, a);
	CHECK_U64(lsn_tracker_safe_lsn(&t), 0x610);
	lsn_tracker_note_wal_end(&t, 0x700);
	CHECK_U64(lsn_tracker_safe_lsn(&t), 0x700);

	/* An end LSN below the safe one (after a walEnd) does not lower it. */
	lsn_tracker_begin(&t, 0x650);
	lsn_tracker_commit(&t, 0x660);
	CHECK_U64(lsn_tracker_safe_lsn(&t), 0x700);
	lsn_tracker_free(&t);
}

/*
 * A new stream starts where it starts, even behind the last safe LSN (the
 * server lost confirmations in a crash); ids of before stay refused.
 */
static void
test_restart(void)
{
	LsnTracker	t;
	uint64_t	a;

	lsn_tracker_init(&t, 0x1000);
	lsn_tracker_begin(&t, 0x1100);
	a = lsn_tracker_add(&t);
	lsn_tracker_commit(&t, 0x1110);
	lsn_tracker_note_wal_end(&t, 0x5000);
	CHECK_U64(lsn_tracker_safe_lsn(&t), 0x1000);
	lsn_tracker_restart(&t, 0x800);
	CHECK_U64(lsn_tracker_safe_lsn(&t), 0x800);
	CHECK(lsn_tracker_idle(&t));
	CHECK_INT(lsn_tracker_ack(&t, a), LSN_TRACKER_UNKNOWN_ID);
	CHECK_U64(lsn_tracker_safe_lsn(&t), 0x800);
	lsn_tracker_restart(&t, 0x2000);
	CHECK_U64(lsn_tracker_safe_lsn(&t), 0x2000);
	lsn_tracker_begin(&t, 0x2100);
	a = lsn_tracker_add(&t);
	lsn_tracker_commit(&t, 0x2110);
	CHECK_INT(lsn_tracker_ack(&t, a), LSN_TRACKER_OK);
	CHECK_U64(lsn_tracker_safe_lsn(&t), 0x2110);
	lsn_tracker_free(&t);
}

/* A million records in one transaction cost one ring slot. */
static void
test_million_records(void)
{
	LsnTracker	t;
	uint64_t	id = 0;
	size_t		before;
	size_t		during;
	size_t		ring;
	bool		same_id = true;

	lsn_tracker_init(&t, INVALID_LSN);
	before = heap_in_use();
	lsn_tracker_begin(&t, 0x1000);
	ring = lsn_tracker_memory(&t);
	for (int i = 0; i < 1000000; i++)
	{
		uint64_t	r = lsn_tracker_add(&t);

		if (i == 0)
			id = r;
		same_id = same_id && r == id;
	}
	during = heap_in_use();
	CHECK(same_id);
	CHECK_INT(lsn_tracker_in_flight(&t).records, 1000000);
	CHECK_INT(lsn_tracker_memory(&t), ring);
	CHECK(ring <= 16 * sizeof(LsnTrackerTxn));
	CHECK(during - before <= 4096);
	if (during - before > 4096)
		fprintf(stderr, "    heap grew by %zu bytes\n", during - before);
	lsn_tracker_commit(&t, 0x2000);
	for (int i = 0; i < 999999; i++)
		lsn_tracker_ack(&t, id);
	CHECK_U64(lsn_tracker_safe_lsn(&t), INVALID_LSN);
	CHECK_INT(lsn_tracker_in_flight(&t).records, 1);
	lsn_tracker_ack(&t, id);
	CHECK_U64(lsn_tracker_safe_lsn(&t), 0x2000);
	CHECK(heap_in_use() - before <= 4096);
	lsn_tracker_free(&t);
	CHECK(heap_in_use() <= before);
}

/* Many transactions in flight grow the ring; draining them shrinks it. */
static void
test_ring_grows_and_shrinks(void)
{
	LsnTracker	t;
	uint64_t   *ids = malloc(100000 * sizeof(uint64_t));
	size_t		peak;

	lsn_tracker_init(&t, INVALID_LSN);
	for (int i = 0; i < 100000; i++)
	{
		lsn_tracker_begin(&t, (Lsn) i * 100 + 1);
		ids[i] = lsn_tracker_add(&t);
		lsn_tracker_commit(&t, (Lsn) i * 100 + 50);
	}
	peak = lsn_tracker_memory(&t);
	CHECK(peak >= 100000 * sizeof(LsnTrackerTxn));
	CHECK(peak <= 2 * 131072 * sizeof(LsnTrackerTxn));
	for (int i = 0; i < 100000; i++)
		lsn_tracker_ack(&t, ids[i]);
	CHECK_U64(lsn_tracker_safe_lsn(&t), (Lsn) 99999 * 100 + 50);
	CHECK(lsn_tracker_memory(&t) <= 16 * sizeof(LsnTrackerTxn));
	lsn_tracker_free(&t);
	free(ids);
}

/* ---- a randomized run against a model ---- */

typedef struct ModelTxn
{
	Lsn			end_lsn;
	uint64_t	id;
	int			records;
	int			pending;
	bool		committed;
	bool		failed;
} ModelTxn;

static uint64_t rng_state = UINT64_C(0x9E3779B97F4A7C15);

static uint64_t
rng(void)
{
	/* xorshift64*: deterministic, so a failure repeats */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * UINT64_C(2685821657736338717);
}

/*
 * The safe LSN by definition: the end of the longest prefix of transactions
 * committed, acknowledged and not failed.  *head remembers how far the
 * prefix reached (it never shrinks), so each call walks only new ground.
 */
static Lsn
model_safe(const ModelTxn *txns, int n, int *head, Lsn safe)
{
	while (*head < n)
	{
		const ModelTxn *txn = &txns[*head];

		if (!txn->committed || txn->pending > 0 || txn->failed)
			break;
		if (txn->end_lsn > safe)
			safe = txn->end_lsn;
		(*head)++;
	}
	return safe;
}

/*
 * Begin, add, commit and ack at random, acks landing on any transaction;
 * fail the record acknowledged "fail_at"-th (0: none).
 */
static void
test_random_against_model(int fail_at)
{
	enum
	{
		NTXN = 20000
	};
	ModelTxn   *txns = calloc(NTXN, sizeof(ModelTxn));
	int		   *live = calloc(NTXN, sizeof(int));	/* transactions with pending records */
	int			nlive = 0;
	LsnTracker	t;
	int			begun = 0;
	int			open = -1;
	int			mismatches = 0;
	int			steps = 0;
	uint64_t	pending_total = 0;
	int			acks = 0;
	int			model_head = 0;
	Lsn			model_lsn = INVALID_LSN;

	lsn_tracker_init(&t, INVALID_LSN);
	while (begun < NTXN || pending_total > 0 || open >= 0)
	{
		uint64_t	r = rng() % 100;

		if (r < 30 && begun < NTXN && open < 0)
		{
			open = begun++;
			lsn_tracker_begin(&t, (Lsn) open * 1000 + 1);
		}
		else if (r < 60 && open >= 0)
		{
			uint64_t	id = lsn_tracker_add(&t);

			if (txns[open].records == 0 && txns[open].id == 0)
				txns[open].id = id;
			else if (id != txns[open].id)
				mismatches++;
			if (rng() % 20 == 0)
			{
				/* the produce failed: take the record back */
				if (lsn_tracker_cancel(&t, id) != LSN_TRACKER_OK)
					mismatches++;
				steps++;
				continue;
			}
			if (txns[open].pending == 0)
				live[nlive++] = open;
			txns[open].records++;
			txns[open].pending++;
			pending_total++;
		}
		else if (r < 70 && open >= 0)
		{
			txns[open].committed = true;
			txns[open].end_lsn = (Lsn) open * 1000 + 500;
			lsn_tracker_commit(&t, txns[open].end_lsn);
			open = -1;
		}
		else if (pending_total > 0)
		{
			/* Ack (rarely fail) a pending record of a random transaction. */
			int			k = (int) (rng() % (uint64_t) nlive);
			int			i = live[k];

			if (--txns[i].pending == 0)
				live[k] = live[--nlive];
			pending_total--;
			if (++acks == fail_at)
			{
				txns[i].failed = true;
				lsn_tracker_fail(&t, txns[i].id);
			}
			else if (lsn_tracker_ack(&t, txns[i].id) != LSN_TRACKER_OK)
				mismatches++;
		}
		steps++;
		model_lsn = model_safe(txns, begun, &model_head, model_lsn);
		if (lsn_tracker_safe_lsn(&t) != model_lsn)
			mismatches++;
		if (lsn_tracker_in_flight(&t).records != pending_total)
			mismatches++;
	}
	CHECK_INT(mismatches, 0);
	CHECK(steps > NTXN * 3);
	CHECK(acks > fail_at);
	if (fail_at == 0)
	{
		CHECK(lsn_tracker_idle(&t));
		CHECK_U64(lsn_tracker_safe_lsn(&t), (Lsn) (NTXN - 1) * 1000 + 500);
	}
	else
	{
		/* Stuck before the failed transaction, somewhere in the middle. */
		CHECK(!lsn_tracker_idle(&t));
		CHECK_INT(lsn_tracker_in_flight(&t).failed_records, 1);
		CHECK(lsn_tracker_safe_lsn(&t) > 0);
		CHECK(lsn_tracker_safe_lsn(&t) < (Lsn) (NTXN - 1) * 1000 + 500);
	}
	lsn_tracker_free(&t);
	free(live);
	free(txns);
}

int
main(void)
{
	test_basics();
	test_bad_order_and_unknown_ids();
	test_out_of_order_acks();
	test_empty_transactions();
	test_failure_blocks();
	test_resend_same_id();
	test_cancel();
	test_wal_end();
	test_restart();
	test_million_records();
	test_ring_grows_and_shrinks();
	test_random_against_model(0);
	test_random_against_model(30000);
	return unit_finish("test_lsn_tracker");
}
