/*-------------------------------------------------------------------------
 *
 * frame.c
 *		Frame headers and body fields: the only plugin code that knows the
 *		byte layout of wal2avro_protocol.h.
 *
 * A frame is opened with frame_begin, which writes a header with a zero
 * length and returns its offset; frame_end patches the length once the body
 * is written.  Byte blocks whose length is only known after encoding (Avro
 * payloads) work the same way with frame_block_begin/frame_block_end.
 * The SCHEMA frame and the head of the CHANGE frame are written here whole,
 * for the stream and for snapshot frames alike.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * plugin/frame.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "frame.h"
#include "relcache.h"
#include "wal2avro_protocol.h"

/*
 * Append a header for a frame of the given kind; returns the offset of the
 * header in "out", for frame_end.
 */
int
frame_begin(StringInfo out, char kind)
{
	int			start = out->len;
	char		header[W2A_HEADER_SIZE];

	header[0] = W2A_MAGIC0;
	header[1] = W2A_MAGIC1;
	header[2] = W2A_MAGIC2;
	header[3] = W2A_PROTOCOL_VERSION;
	header[4] = kind;
	header[5] = 0;				/* flags */
	memset(header + 6, 0, 4);	/* length, patched by frame_end */
	appendBinaryStringInfo(out, header, W2A_HEADER_SIZE);
	return start;
}

/*
 * Patch the body length of the frame whose header starts at "start".  ERROR
 * if the body is larger than the protocol allows.
 */
void
frame_end(StringInfo out, int start)
{
	uint32		len = out->len - start - W2A_HEADER_SIZE;

	if (len > W2A_MAX_BODY)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("wal2avro frame of %u bytes exceeds the limit of %u bytes",
						len, (uint32) W2A_MAX_BODY)));
	w2a_put_u32((unsigned char *) out->data + start + 6, len);
}

void
frame_put_u8(StringInfo out, uint8 v)
{
	appendStringInfoCharMacro(out, (char) v);
}

void
frame_put_u16(StringInfo out, uint16 v)
{
	unsigned char buf[2];

	w2a_put_u16(buf, v);
	appendBinaryStringInfo(out, (char *) buf, 2);
}

void
frame_put_u32(StringInfo out, uint32 v)
{
	unsigned char buf[4];

	w2a_put_u32(buf, v);
	appendBinaryStringInfo(out, (char *) buf, 4);
}

void
frame_put_u64(StringInfo out, uint64 v)
{
	unsigned char buf[8];

	w2a_put_u64(buf, v);
	appendBinaryStringInfo(out, (char *) buf, 8);
}

/* A string: length and bytes; NULL is written as the empty string. */
void
frame_put_str(StringInfo out, const char *s)
{
	uint32		len = s ? strlen(s) : 0;

	frame_put_u32(out, len);
	appendBinaryStringInfo(out, s ? s : "", len);
}

/* A byte block; data NULL writes the "absent" length. */
void
frame_put_block(StringInfo out, const char *data, uint32 len)
{
	if (data == NULL)
	{
		frame_put_u32(out, W2A_NO_BLOCK);
		return;
	}
	frame_put_u32(out, len);
	appendBinaryStringInfo(out, data, len);
}

/* Open a block whose length is patched by frame_block_end. */
int
frame_block_begin(StringInfo out)
{
	int			start = out->len;

	frame_put_u32(out, 0);
	return start;
}

void
frame_block_end(StringInfo out, int start)
{
	w2a_put_u32((unsigned char *) out->data + start, out->len - start - 4);
}

/*
 * Append the SCHEMA frame of a relation's cache entry.  ERROR only if the
 * body is larger than the protocol allows.
 */
void
frame_write_schema(StringInfo out, const RelSchemaEntry *entry)
{
	int			start = frame_begin(out, W2A_FRAME_SCHEMA);
	int			i;

	frame_put_u32(out, entry->relid);
	frame_put_u64(out, entry->key_fp);
	frame_put_u64(out, entry->value_fp);
	frame_put_str(out, entry->nspname);
	frame_put_str(out, entry->relname);
	frame_put_str(out, entry->topic);
	frame_put_u16(out, (uint16) entry->nkeys);
	for (i = 0; i < entry->nkeys; i++)
		frame_put_str(out, entry->key_defs[i].pg_name);
	frame_put_str(out, entry->key_schema);
	frame_put_str(out, entry->value_schema);
	frame_end(out, start);
}

/*
 * Open a CHANGE frame: header, op, relation, LSN and fingerprints.  Returns
 * the header's offset; the caller appends the key and value blocks and
 * closes the frame with frame_end.  Cannot fail except on memory.
 */
int
frame_change_begin(StringInfo out, char op, const RelSchemaEntry *entry,
				   XLogRecPtr lsn)
{
	int			start = frame_begin(out, W2A_FRAME_CHANGE);

	frame_put_u8(out, (uint8) op);
	frame_put_u32(out, entry->relid);
	frame_put_u64(out, lsn);
	frame_put_u64(out, entry->key_fp);
	frame_put_u64(out, entry->value_fp);
	return start;
}

/*
 * Close the value of a CHANGE frame that is one half of a key change: set
 * the KEY_CHANGE flag in the header at "start" and append the other key's
 * datum (the new key in the delete, the old key in the create).
 */
void
frame_change_other_key(StringInfo out, int start, const char *key, uint32 len)
{
	out->data[start + 5] |= W2A_CHANGE_KEY_CHANGE;
	frame_put_block(out, key, len);
}
