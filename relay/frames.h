/*-------------------------------------------------------------------------
 *
 * frames.h
 *		The parsed frame types and the frame parser (frames.c): parse and
 *		validate the frames of plugin/wal2avro_protocol.h; pure, no I/O.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/frames.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RELAY_FRAMES_H
#define RELAY_FRAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lsn.h"
#include "wal2avro_protocol.h"

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
			bool		key_change; /* header flag W2A_CHANGE_KEY_CHANGE */
			FrameBytes	other_key;	/* key_change: the other half's key
									 * (Avro binary); else data NULL */
			bool		non_transactional;	/* header flag
											 * W2A_CHANGE_NON_TRANSACTIONAL:
											 * a message outside BEGIN/COMMIT */
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
 * header flags (a CHANGE frame's KEY_CHANGE is the only one known), op
 * or TRUNCATE flags, a transactional byte other than 0/1, a
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

#endif							/* RELAY_FRAMES_H */
