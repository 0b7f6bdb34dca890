/*-------------------------------------------------------------------------
 *
 * ondemand_snapshot.h
 *		On-demand snapshots of chosen tables while the stream goes on
 *		(ondemand_snapshot.c, ondemand_snapshot_window.c, ondemand_snapshot_chunk.c).
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/ondemand_snapshot.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RELAY_ONDEMAND_SNAPSHOT_H
#define RELAY_ONDEMAND_SNAPSHOT_H

#include "config.h"
#include "frames.h"
#include "kafka_writer.h"
#include "lsn.h"
#include "metrics.h"

/* Logical message prefixes of the protocol (doc/protocol.md) */
#define ONDEMAND_REQUEST_PREFIX	"wal2avro.snapshot"
#define ONDEMAND_WATERMARK_PREFIX "wal2avro.watermark"

typedef struct OnDemandSnapshot OnDemandSnapshot;

/*
 * The table a chunk is read from, as the stream names it: a change, schema
 * or truncate of the table comes under its own relid, or, with
 * publish-via-partition-root, under its partition root's.  Only one of the
 * two is in use at a time, so a frame under either is the table's.
 */
typedef struct OnDemandTarget
{
	uint32_t	relid;			/* the table read: a plain table or a leaf */
	uint32_t	root;			/* its partition root, 0 when not a partition */
} OnDemandTarget;

/* What a stream frame means for the chunk whose window is open */
typedef enum OnDemandEffect
{
	ONDEMAND_NONE = 0,		/* nothing: another table, or no news */
	ONDEMAND_KEY,				/* a change of the table: drop its key's row */
	ONDEMAND_INVALID			/* schema changed or truncated: read again */
} OnDemandEffect;

/* Is relid one the stream may use for the target's table?  Pure. */
extern bool ondemand_target_has(const OnDemandTarget *t, uint32_t relid);

/*
 * Classify a stream frame for the chunk read from t whose SCHEMA frame had
 * fingerprints key_fp and value_fp: ONDEMAND_KEY for a CHANGE of the table
 * that has a key (f->change.key), ONDEMAND_INVALID for a SCHEMA frame of
 * the table with other fingerprints or a TRUNCATE naming it, and
 * ONDEMAND_NONE for anything else.  Pure; f must come from frames_parse.
 */
extern OnDemandEffect ondemand_frame_effect(const OnDemandTarget *t, const Frame *f,
												uint64_t key_fp, uint64_t value_fp);

/* NULL when out of memory. */
extern OnDemandSnapshot *ondemand_create(const RelayConfig *cfg, Metrics *metrics);
extern void ondemand_free(OnDemandSnapshot *r);

/*
 * Forget every request and chunk: at the start of each stream, which
 * begins at or before the oldest unfinished request (see ondemand_hold),
 * so the requests come again.  options: the plugin options of the stream.
 * Returns 0, or -1 out of memory.
 */
extern int	ondemand_reset(OnDemandSnapshot *r, const RelaySettingList *options);

/*
 * See a stream frame before kafka_writer.c does.  Returns true when the frame
 * is one of ours (a request or a watermark), which is not produced.
 */
extern bool ondemand_observe(OnDemandSnapshot *r, const Frame *f);

/*
 * Advance the database side of the next chunk when one is due: look the
 * table up, read the chunk, write its watermark, one asynchronous query at
 * a time.  Never waits for the database: a step sends a query or takes the
 * result that has come.  Errors are logged and retried later; nothing here
 * stops the stream.
 */
extern void ondemand_step(OnDemandSnapshot *r);

/*
 * The socket of the query in the air, for the loop's poll (a result wakes
 * it), or -1 when none is.
 */
extern int	ondemand_socket(const OnDemandSnapshot *r);

/* Blocks per chunk of chunk_size bytes with the server's block_size: >= 1. */
extern int64_t ondemand_chunk_blocks(uint64_t chunk_size, int64_t block_size);

/* True when a chunk's rows must be produced before the next stream frame. */
extern bool ondemand_ready(const OnDemandSnapshot *r);

/*
 * Produce the ready chunk's rows, minus those a change in the stream
 * overtook, into the transaction of its watermark.  Returns WRITER_OK
 * when all are given, WRITER_WAIT (serve events, call again),
 * WRITER_FAILED or WRITER_ERROR as writer_handle_frame.
 */
extern WriterResult ondemand_emit(OnDemandSnapshot *r, KafkaWriter *records, char *err, size_t errlen);

/*
 * The highest position that may be confirmed while requests are unfinished
 * (the commit position of the oldest request, so the stream restarts at
 * it), or INVALID_LSN when none is.
 */
extern Lsn	ondemand_hold(const OnDemandSnapshot *r);

#endif							/* RELAY_ONDEMAND_SNAPSHOT_H */
