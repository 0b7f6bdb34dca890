/*-------------------------------------------------------------------------
 *
 * test_ondemand_snapshot.c
 *		Unit tests for the pure part of relay/ondemand_snapshot.c: which stream
 *		frames concern the table a chunk is read from, for a plain table, a
 *		leaf partition streamed under its own relid, and one streamed under
 *		its root's (publish-via-partition-root).
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * regress/relay/test_ondemand_snapshot.c
 *
 *-------------------------------------------------------------------------
 */
#include <string.h>

#include "frames.h"
#include "ondemand_snapshot.h"
#include "unit.h"
#include "wal2avro_protocol.h"

#define LEAF		16400
#define OTHER_LEAF	16410
#define ROOT		16390
#define UNRELATED	16500
#define KEY_FP		0x1111
#define VALUE_FP	0x2222

static const uint8_t key[] = {0x02};	/* Avro long 1 */

static Frame
change(uint32_t relid, bool has_key)
{
	Frame		f;

	memset(&f, 0, sizeof(f));
	f.kind = W2A_FRAME_CHANGE;
	f.change.op = W2A_OP_UPDATE;
	f.change.relid = relid;
	f.change.has_key = has_key;
	if (has_key)
		f.change.key = (FrameBytes) {key, sizeof(key)};
	return f;
}

static Frame
schema(uint32_t relid, uint64_t key_fp, uint64_t value_fp)
{
	Frame		f;

	memset(&f, 0, sizeof(f));
	f.kind = W2A_FRAME_SCHEMA;
	f.schema.relid = relid;
	f.schema.key_fingerprint = key_fp;
	f.schema.value_fingerprint = value_fp;
	return f;
}

/* A TRUNCATE of n relations (names "s"."t"), its list laid out in buf */
static Frame
truncate_of(uint8_t *buf, const uint32_t *relids, int n)
{
	Frame		f;
	size_t		len = 0;
	int			i;

	for (i = 0; i < n; i++)
	{
		w2a_put_u32(buf + len, relids[i]);
		w2a_put_u32(buf + len + 4, 1);
		buf[len + 8] = 's';
		w2a_put_u32(buf + len + 9, 1);
		buf[len + 13] = 't';
		len += 14;
	}
	memset(&f, 0, sizeof(f));
	f.kind = W2A_FRAME_TRUNCATE;
	f.truncate.relations = (FrameList) {buf, len, (uint16_t) n};
	return f;
}

static OnDemandEffect
effect(const OnDemandTarget *t, Frame f)
{
	return ondemand_frame_effect(t, &f, KEY_FP, VALUE_FP);
}

/* A plain table: only its own relid counts */
static void
test_plain_table(void)
{
	OnDemandTarget t = {LEAF, 0};
	uint8_t		buf[64];
	uint32_t	own[] = {UNRELATED, LEAF};
	uint32_t	other[] = {UNRELATED};
	Frame		f;

	CHECK(ondemand_target_has(&t, LEAF));
	CHECK(!ondemand_target_has(&t, 0));	/* 0 is never a relid */
	CHECK(!ondemand_target_has(&t, UNRELATED));
	CHECK_INT(effect(&t, change(LEAF, true)), ONDEMAND_KEY);
	CHECK_INT(effect(&t, change(LEAF, false)), ONDEMAND_NONE);	/* no key to match */
	CHECK_INT(effect(&t, change(UNRELATED, true)), ONDEMAND_NONE);
	CHECK_INT(effect(&t, schema(LEAF, KEY_FP, VALUE_FP)), ONDEMAND_NONE);	/* the chunk's own */
	CHECK_INT(effect(&t, schema(LEAF, KEY_FP, VALUE_FP + 1)), ONDEMAND_INVALID);
	CHECK_INT(effect(&t, schema(LEAF, KEY_FP + 1, VALUE_FP)), ONDEMAND_INVALID);
	CHECK_INT(effect(&t, schema(UNRELATED, 1, 2)), ONDEMAND_NONE);
	CHECK_INT(effect(&t, truncate_of(buf, own, 2)), ONDEMAND_INVALID);
	CHECK_INT(effect(&t, truncate_of(buf, other, 1)), ONDEMAND_NONE);
	CHECK_INT(effect(&t, truncate_of(buf, other, 0)), ONDEMAND_NONE);
	/* compat=debezium's truncate record: a CHANGE with op t and no key */
	f = change(LEAF, false);
	f.change.op = W2A_OP_TRUNCATE;
	CHECK_INT(effect(&t, f), ONDEMAND_INVALID);
	f.change.relid = UNRELATED;
	CHECK_INT(effect(&t, f), ONDEMAND_NONE);
}

/*
 * A leaf under publish-via-partition-root: its changes, the root's schema
 * changes and truncates of the root (which list the root) come under the
 * root's relid.  Changes of another leaf of the same root too: same key
 * space, so their keys count.
 */
static void
test_leaf_via_root(void)
{
	OnDemandTarget t = {LEAF, ROOT};
	uint8_t		buf[64];
	uint32_t	root[] = {ROOT};
	uint32_t	leaf[] = {UNRELATED, LEAF};
	uint32_t	other[] = {OTHER_LEAF, UNRELATED};

	CHECK(ondemand_target_has(&t, ROOT));
	CHECK(ondemand_target_has(&t, LEAF));
	CHECK(!ondemand_target_has(&t, OTHER_LEAF));
	CHECK_INT(effect(&t, change(ROOT, true)), ONDEMAND_KEY);
	CHECK_INT(effect(&t, change(ROOT, false)), ONDEMAND_NONE);
	CHECK_INT(effect(&t, schema(ROOT, KEY_FP, VALUE_FP)), ONDEMAND_NONE);
	CHECK_INT(effect(&t, schema(ROOT, KEY_FP, VALUE_FP ^ 1)), ONDEMAND_INVALID);
	CHECK_INT(effect(&t, truncate_of(buf, root, 1)), ONDEMAND_INVALID);
	CHECK_INT(effect(&t, truncate_of(buf, leaf, 2)), ONDEMAND_INVALID);
	CHECK_INT(effect(&t, truncate_of(buf, other, 2)), ONDEMAND_NONE);

	/* detached meanwhile: its own relid with its own schema */
	CHECK_INT(effect(&t, schema(LEAF, KEY_FP ^ 4, VALUE_FP ^ 4)), ONDEMAND_INVALID);
	CHECK_INT(effect(&t, change(LEAF, true)), ONDEMAND_KEY);

	/* other relations stay apart */
	CHECK_INT(effect(&t, change(OTHER_LEAF, true)), ONDEMAND_NONE);
	CHECK_INT(effect(&t, change(UNRELATED, true)), ONDEMAND_NONE);
	CHECK_INT(effect(&t, schema(OTHER_LEAF, 1, 2)), ONDEMAND_NONE);
}

/* Frames that never concern a chunk */
static void
test_other_kinds(void)
{
	OnDemandTarget t = {LEAF, ROOT};
	Frame		f;

	memset(&f, 0, sizeof(f));
	f.kind = W2A_FRAME_BEGIN;
	CHECK_INT(effect(&t, f), ONDEMAND_NONE);
	f.kind = W2A_FRAME_MESSAGE;
	CHECK_INT(effect(&t, f), ONDEMAND_NONE);
	f.kind = W2A_FRAME_COMMIT;
	CHECK_INT(effect(&t, f), ONDEMAND_NONE);
}

/* A chunk is chunk_size bytes of the server's blocks, at least one block. */
static void
test_chunk_blocks(void)
{
	CHECK_INT(ondemand_chunk_blocks(8 * 1024 * 1024, 8192), 1024);
	CHECK_INT(ondemand_chunk_blocks(64 * 1024, 8192), 8);
	CHECK_INT(ondemand_chunk_blocks(64 * 1024, 32768), 2);
	CHECK_INT(ondemand_chunk_blocks(64 * 1024, 1024), 64);
	CHECK_INT(ondemand_chunk_blocks(8192, 32768), 1);
	CHECK_INT(ondemand_chunk_blocks(1, 8192), 1);
	CHECK_INT(ondemand_chunk_blocks(64 * 1024, 0), 8);	/* unknown: 8 kB */
}

int
main(void)
{
	test_chunk_blocks();
	test_plain_table();
	test_leaf_via_root();
	test_other_kinds();
	return unit_finish("test_ondemand_snapshot");
}
