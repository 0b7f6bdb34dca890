/*-------------------------------------------------------------------------
 *
 * fuzz_frames.c
 *		libFuzzer target for relay/frames.c: frames_parse and frames_next
 *		on arbitrary bytes.
 *
 * Beyond "no crash, no sanitizer report", every accepted frame is checked:
 * its pointers stay inside the input, its lists walk to exactly their count,
 * and writing the parsed fields back with the w2a_put_* helpers gives the
 * input byte for byte (so the parser cannot skip or misread a field).
 * Streams are split with every option and must make progress.  Built and
 * run by regress/fuzz/run-fuzz.sh.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * regress/fuzz/fuzz_frames.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>
#include <string.h>

#include "frames.h"
#include "wal2avro_protocol.h"

/* A buffer the re-encoder writes into; sized to the input. */
typedef struct Out
{
	uint8_t    *buf;
	size_t		len;
	size_t		cap;
} Out;

static void
out_bytes(Out *o, const void *p, size_t n)
{
	if (o->len + n > o->cap)
		abort();				/* re-encoding longer than the input: a parser bug */
	if (n > 0)
		memcpy(o->buf + o->len, p, n);
	o->len += n;
}

static void
out_u8(Out *o, uint8_t v)
{
	out_bytes(o, &v, 1);
}

static void
out_u16(Out *o, uint16_t v)
{
	uint8_t		b[2];

	w2a_put_u16(b, v);
	out_bytes(o, b, 2);
}

static void
out_u32(Out *o, uint32_t v)
{
	uint8_t		b[4];

	w2a_put_u32(b, v);
	out_bytes(o, b, 4);
}

static void
out_u64(Out *o, uint64_t v)
{
	uint8_t		b[8];

	w2a_put_u64(b, v);
	out_bytes(o, b, 8);
}

static void
out_block(Out *o, FrameBytes b)
{
	if (b.data == NULL)
	{
		if (b.len != 0)
			abort();
		out_u32(o, W2A_NO_BLOCK);
		return;
	}
	out_u32(o, b.len);
	out_bytes(o, b.data, b.len);
}

/* Does b lie inside [start, start + len)? */
static void
check_inside(FrameBytes b, const uint8_t *start, size_t len)
{
	if (b.data == NULL)
		return;
	if (b.data < start || (size_t) (b.data - start) > len ||
		b.len > len - (size_t) (b.data - start))
		abort();
}

/* Check an accepted frame and write it back; it must equal the input. */
static void
check_frame(const uint8_t *data, size_t size, const Frame *f)
{
	Out			o;
	size_t		pos = 0;
	unsigned int n = 0;

	if (size < W2A_HEADER_SIZE || f->body_len != size - W2A_HEADER_SIZE)
		abort();
	o.buf = malloc(size);
	o.len = 0;
	o.cap = size;
	if (o.buf == NULL)
		abort();

	out_u8(&o, W2A_MAGIC0);
	out_u8(&o, W2A_MAGIC1);
	out_u8(&o, W2A_MAGIC2);
	out_u8(&o, W2A_PROTOCOL_VERSION);
	out_u8(&o, (uint8_t) f->kind);
	out_u8(&o, f->kind != W2A_FRAME_CHANGE ? 0 :
		   (f->change.key_change ? W2A_CHANGE_KEY_CHANGE : 0) |
		   (f->change.non_transactional ? W2A_CHANGE_NON_TRANSACTIONAL : 0));
	out_u32(&o, f->body_len);

	switch (f->kind)
	{
		case W2A_FRAME_BEGIN:
			out_u32(&o, f->begin.xid);
			out_u64(&o, f->begin.commit_lsn);
			out_u64(&o, (uint64_t) f->begin.commit_time);
			break;
		case W2A_FRAME_SCHEMA:
			{
				FrameBytes	col;

				out_u32(&o, f->schema.relid);
				out_u64(&o, f->schema.key_fingerprint);
				out_u64(&o, f->schema.value_fingerprint);
				check_inside(f->schema.schema_name, data, size);
				check_inside(f->schema.table_name, data, size);
				check_inside(f->schema.topic, data, size);
				out_block(&o, f->schema.schema_name);
				out_block(&o, f->schema.table_name);
				out_block(&o, f->schema.topic);
				out_u16(&o, f->schema.key_columns.count);
				while (frames_next_key_column(&f->schema.key_columns, &pos, &col))
				{
					check_inside(col, data, size);
					out_block(&o, col);
					n++;
				}
				if (n != f->schema.key_columns.count || pos != f->schema.key_columns.len)
					abort();
				check_inside(f->schema.key_schema, data, size);
				check_inside(f->schema.value_schema, data, size);
				out_block(&o, f->schema.key_schema);
				out_block(&o, f->schema.value_schema);
				break;
			}
		case W2A_FRAME_CHANGE:
			out_u8(&o, (uint8_t) f->change.op);
			out_u32(&o, f->change.relid);
			out_u64(&o, f->change.lsn);
			out_u64(&o, f->change.key_fingerprint);
			out_u64(&o, f->change.value_fingerprint);
			if (f->change.has_key != (f->change.key.data != NULL) || f->change.value.data == NULL)
				abort();
			check_inside(f->change.key, data, size);
			check_inside(f->change.value, data, size);
			out_block(&o, f->change.key);
			out_block(&o, f->change.value);
			if (f->change.key_change)
			{
				if (f->change.other_key.data == NULL)
					abort();
				check_inside(f->change.other_key, data, size);
				out_block(&o, f->change.other_key);
			}
			else if (f->change.other_key.data != NULL)
				abort();
			break;
		case W2A_FRAME_TRUNCATE:
			{
				FrameRelation rel;

				out_u8(&o, f->truncate.flags);
				out_u64(&o, f->truncate.lsn);
				out_u16(&o, f->truncate.relations.count);
				while (frames_next_relation(&f->truncate.relations, &pos, &rel))
				{
					check_inside(rel.schema_name, data, size);
					check_inside(rel.table_name, data, size);
					out_u32(&o, rel.relid);
					out_block(&o, rel.schema_name);
					out_block(&o, rel.table_name);
					n++;
				}
				if (n != f->truncate.relations.count || pos != f->truncate.relations.len)
					abort();
				break;
			}
		case W2A_FRAME_MESSAGE:
			out_u8(&o, f->message.transactional ? 1 : 0);
			out_u64(&o, f->message.lsn);
			check_inside(f->message.prefix, data, size);
			check_inside(f->message.content, data, size);
			if (f->message.has_content != (f->message.content.data != NULL))
				abort();
			out_block(&o, f->message.prefix);
			out_block(&o, f->message.content);
			break;
		case W2A_FRAME_COMMIT:
			out_u64(&o, f->commit.commit_lsn);
			out_u64(&o, f->commit.end_lsn);
			out_u64(&o, (uint64_t) f->commit.commit_time);
			out_u64(&o, f->commit.change_count);
			break;
		default:
			abort();
	}
	if (o.len != size || memcmp(o.buf, data, size) != 0)
		abort();
	free(o.buf);
}

/* Split the input as a stream with the given options; check progress. */
static void
split(const uint8_t *data, size_t size, unsigned int options)
{
	size_t		pos = 0;
	Frame		f;
	char		err[256];

	for (;;)
	{
		size_t		consumed = 12345;
		int			r;

		err[0] = '\0';
		r = frames_next(data + pos, size - pos, options, &consumed, &f, err, sizeof(err));
		if (r == 1)
		{
			size_t		frame_len = consumed - ((options & FRAMES_NEWLINE) ? 1 : 0);

			if (consumed == 0 || consumed > size - pos)
				abort();
			check_frame(data + pos, frame_len, &f);
			pos += consumed;
			continue;
		}
		if (consumed != 0)
			abort();
		if (r == -1)
		{
			if (err[0] == '\0' || strlen(err) >= sizeof(err))
				abort();
			break;
		}
		if (r != 0)
			abort();
		/* 0: the end, or (partial mode only) an incomplete frame. */
		if (pos != size)
		{
			if (!(options & FRAMES_PARTIAL))
				abort();
			if (frames_next(data + pos, size - pos, options & ~FRAMES_PARTIAL,
							&consumed, &f, err, sizeof(err)) != -1)
				abort();
		}
		break;
	}
}

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Frame		f;
	char		err[256];
	char		tiny[8];

	err[0] = '\0';
	if (frames_parse(data, size, &f, err, sizeof(err)) == 0)
		check_frame(data, size, &f);
	else if (err[0] == '\0')
		abort();

	/* A short error buffer truncates, and a NULL one is allowed. */
	memset(tiny, 'x', sizeof(tiny));
	if (frames_parse(data, size, &f, tiny, sizeof(tiny)) != 0 &&
		memchr(tiny, '\0', sizeof(tiny)) == NULL)
		abort();
	(void) frames_parse(data, size, &f, NULL, 0);

	split(data, size, 0);
	split(data, size, FRAMES_NEWLINE);
	split(data, size, FRAMES_PARTIAL);
	split(data, size, FRAMES_NEWLINE | FRAMES_PARTIAL);
	return 0;
}
