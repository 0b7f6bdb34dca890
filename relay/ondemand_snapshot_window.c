/*-------------------------------------------------------------------------
 *
 * ondemand_snapshot_window.c
 *		The stream side of on-demand snapshots: requests and watermarks
 *		seen in the stream, and the keys a chunk's window collects.
 *
 * See ondemand_snapshot.c for the scheme (chunks, window, watermark).
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/ondemand_snapshot_window.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "frames.h"
#include "key_set.h"
#include "log.h"
#include "lsn.h"
#include "ondemand_snapshot.h"
#include "ondemand_snapshot_internal.h"
#include "wal2avro_protocol.h"

static bool
bytes_equal(FrameBytes b, const char *s)
{
	size_t		n = strlen(s);

	return b.len == n && memcmp(b.data, s, n) == 0;
}

/* Queue the OIDs of a request, each once.  Malformed words are skipped. */
static void
queue_request(OnDemandSnapshot *r, const Frame *f)
{
	const uint8_t *c = f->message.has_content ? f->message.content.data : NULL;
	size_t		n = f->message.has_content ? f->message.content.len : 0;
	size_t		pos = 0;
	int			added = 0;

	while (pos < n)
	{
		size_t		word,
					i;
		uint64_t	v = 0;
		bool		valid = true;
		bool		queued = false;

		while (pos < n && c[pos] == ' ')
			pos++;
		if (pos == n)
			break;
		for (word = pos; pos < n && c[pos] != ' '; pos++)
		{
			if (c[pos] < '0' || c[pos] > '9' || v > UINT32_MAX)
				valid = false;
			else
				v = v * 10 + (uint64_t) (c[pos] - '0');
		}
		if (!valid || v == 0 || v > UINT32_MAX)
		{
			relay_log(RELAY_LOG_WARNING, "snapshot request at " LSN_FMT ": \"%.*s\" is not a table OID: ignored",
					  LSN_ARGS(f->message.lsn), (int) (pos - word > 64 ? 64 : pos - word),
					  (const char *) c + word);
			continue;
		}

		/*
		 * Once in the queue is enough, except for the table being read:
		 * part of it was read before this request, so it goes in again.
		 */
		for (i = r->table_open ? 1 : 0; i < r->queue_len; i++)
			queued |= r->queue[i] == (uint32_t) v;
		if (queued)
			continue;
		if (r->queue_len == r->queue_cap)
		{
			size_t		cap = r->queue_cap ? r->queue_cap * 2 : 16;
			uint32_t   *q = realloc(r->queue, cap * sizeof(uint32_t));

			if (q == NULL)
			{
				relay_log(RELAY_LOG_ERROR, "out of memory: snapshot request of table OID %" PRIu64 " dropped", v);
				continue;
			}
			r->queue = q;
			r->queue_cap = cap;
		}
		r->queue[r->queue_len++] = (uint32_t) v;
		added++;
	}
	if (added == 0)
		return;
	/* confirm nothing from the request on until every table is read */
	if (r->hold == INVALID_LSN)
		r->hold = f->message.transactional ? r->txn_commit_lsn : f->message.lsn;
	relay_log(RELAY_LOG_INFO, "on-demand snapshot of %d table(s) requested at " LSN_FMT,
			  added, LSN_ARGS(f->message.lsn));
}

/* Our watermark for the chunk in the air? */
static bool
is_our_watermark(const OnDemandSnapshot *r, const Frame *f)
{
	char		want[64];
	int			n;

	if (r->phase != PHASE_WAITING || !f->message.has_content)
		return false;
	n = snprintf(want, sizeof(want), "%s %" PRIu64, r->tag, r->chunk_seq);
	return f->message.content.len == (uint32_t) n &&
		memcmp(f->message.content.data, want, (size_t) n) == 0;
}

bool
ondemand_target_has(const OnDemandTarget *t, uint32_t relid)
{
	return relid != 0 && (relid == t->relid || relid == t->root);
}

OnDemandEffect
ondemand_frame_effect(const OnDemandTarget *t, const Frame *f,
						uint64_t key_fp, uint64_t value_fp)
{
	size_t		pos = 0;
	FrameRelation rel;

	switch (f->kind)
	{
		case W2A_FRAME_CHANGE:
			/* compat=debezium's truncate record overtakes the chunk too */
			if (ondemand_target_has(t, f->change.relid) && f->change.op == W2A_OP_TRUNCATE)
				return ONDEMAND_INVALID;
			if (ondemand_target_has(t, f->change.relid) && f->change.has_key)
				return ONDEMAND_KEY;
			return ONDEMAND_NONE;
		case W2A_FRAME_SCHEMA:
			if (ondemand_target_has(t, f->schema.relid) &&
				(f->schema.key_fingerprint != key_fp ||
				 f->schema.value_fingerprint != value_fp))
				return ONDEMAND_INVALID;
			return ONDEMAND_NONE;
		case W2A_FRAME_TRUNCATE:
			while (frames_next_relation(&f->truncate.relations, &pos, &rel))
			{
				if (ondemand_target_has(t, rel.relid))
					return ONDEMAND_INVALID;
			}
			return ONDEMAND_NONE;
		default:
			return ONDEMAND_NONE;
	}
}

bool
ondemand_observe(OnDemandSnapshot *r, const Frame *f)
{
	switch (f->kind)
	{
		case W2A_FRAME_BEGIN:
			r->txn_commit_lsn = f->begin.commit_lsn;
			r->txn_seq++;
			r->recent[r->txn_seq & (RECENT_XIDS - 1)] = (RecentXid) {f->begin.xid, r->txn_seq};
			return false;
		case W2A_FRAME_CHANGE:
		case W2A_FRAME_SCHEMA:
		case W2A_FRAME_TRUNCATE:
			if (!r->window)
				return false;
			if (f->kind == W2A_FRAME_SCHEMA && !r->chunk_fp_known)
			{
				/* compared with the chunk's own once it has come */
				if (ondemand_target_has(&r->target, f->schema.relid))
				{
					if (r->window_schema_seen &&
						(r->seen_key_fp != f->schema.key_fingerprint ||
						 r->seen_value_fp != f->schema.value_fingerprint))
						r->window_schema_mixed = true;
					r->window_schema_seen = true;
					r->seen_key_fp = f->schema.key_fingerprint;
					r->seen_value_fp = f->schema.value_fingerprint;
				}
				return false;
			}
			switch (ondemand_frame_effect(&r->target, f, r->chunk_key_fp, r->chunk_value_fp))
			{
				case ONDEMAND_NONE:
					break;
				case ONDEMAND_KEY:
					if (key_set_add(&r->keys, f->change.key.data, f->change.key.len) != 0)
						r->invalid = true;	/* out of memory: cannot match, read again */
					break;
				case ONDEMAND_INVALID:
					r->invalid = true;
					break;
			}
			return false;
		case W2A_FRAME_MESSAGE:
			if (bytes_equal(f->message.prefix, ONDEMAND_REQUEST_PREFIX))
			{
				queue_request(r, f);
				return true;
			}
			if (bytes_equal(f->message.prefix, ONDEMAND_WATERMARK_PREFIX))
			{
				if (is_our_watermark(r, f))
				{
					r->window = false;
					if (r->invalid)
					{
						relay_log(RELAY_LOG_DEBUG, "on-demand snapshot of %s.%s: chunk at block %" PRId64 " overtaken by a schema change or a truncate, reading it again",
								  r->schema, r->table, r->next_block);
						r->rereads++;
						ondemand_drop_chunk(r);
					}
					else
						r->phase = PHASE_EMITTING;
				}
				return true;	/* ours or another relay's: never produced */
			}
			return false;
		default:
			return false;
	}
}
