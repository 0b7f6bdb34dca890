/*-------------------------------------------------------------------------
 *
 * frames.c
 *		Parse and validate wal2avro frames (plugin/wal2avro_protocol.h);
 *		pure, no I/O, no allocation.
 *
 * A parsed Frame points into the caller's buffer.  The parser is strict:
 * whatever doc/protocol.md does not allow is refused with a message naming
 * the frame kind, the field and its byte offset, because a relay that
 * guesses forwards garbage to Kafka and confirms it to PostgreSQL.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/frames.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "frames.h"
#include "log.h"
#include "wal2avro_protocol.h"

/* A cursor over one frame; offsets in messages count from the frame start. */
typedef struct Cursor
{
	const uint8_t *frame;		/* the header's first byte */
	size_t		pos;			/* next byte to read, from frame */
	size_t		end;			/* header + body length */
	const char *kind;			/* the kind's name, for messages */
	char	   *err;
	size_t		errlen;
	bool		failed;
} Cursor;

static void cursor_error(Cursor *c, size_t at, const char *fmt,...) RELAY_PRINTF(3, 4);

const char *
frames_kind_name(char kind)
{
	switch (kind)
	{
		case W2A_FRAME_BEGIN:
			return "begin";
		case W2A_FRAME_SCHEMA:
			return "schema";
		case W2A_FRAME_CHANGE:
			return "change";
		case W2A_FRAME_TRUNCATE:
			return "truncate";
		case W2A_FRAME_MESSAGE:
			return "message";
		case W2A_FRAME_COMMIT:
			return "commit";
	}
	return "unknown";
}

/* The header flags a frame of this kind may carry. */
static uint8_t
kind_flags(char kind)
{
	return kind == W2A_FRAME_CHANGE ? W2A_CHANGE_FLAGS : 0;
}

/*
 * Check the header bytes present in buf (len may be short of a whole
 * header: only the bytes there are judged).  Returns 0, or -1 with a
 * message.
 */
static int
check_header(const uint8_t *buf, size_t len, char *err, size_t errlen)
{
	static const uint8_t magic[3] = {W2A_MAGIC0, W2A_MAGIC1, W2A_MAGIC2};

	for (size_t i = 0; i < 3 && i < len; i++)
	{
		if (buf[i] != magic[i])
		{
			relay_set_error(err, errlen,
					  "bad frame magic: expected \"W2A\", found byte 0x%02x at byte %zu",
					  buf[i], i);
			return -1;
		}
	}
	if (len > 3 && buf[3] != W2A_PROTOCOL_VERSION)
	{
		relay_set_error(err, errlen, "unknown protocol version %u at byte 3, expected %d",
				  buf[3], W2A_PROTOCOL_VERSION);
		return -1;
	}
	if (len > 4 && strcmp(frames_kind_name((char) buf[4]), "unknown") == 0)
	{
		relay_set_error(err, errlen, "unknown frame kind 0x%02x at byte 4", buf[4]);
		return -1;
	}
	if (len > 5 && (buf[5] & ~kind_flags((char) buf[4])) != 0)
	{
		relay_set_error(err, errlen, "unknown header flags 0x%02x in %s frame at byte 5",
				  buf[5], frames_kind_name((char) buf[4]));
		return -1;
	}
	if (len >= W2A_HEADER_SIZE && w2a_get_u32(buf + 6) > W2A_MAX_BODY)
	{
		relay_set_error(err, errlen,
				  "%s frame: body length %u exceeds the maximum %u",
				  frames_kind_name((char) buf[4]), w2a_get_u32(buf + 6),
				  (unsigned int) W2A_MAX_BODY);
		return -1;
	}
	return 0;
}

static void
cursor_error(Cursor *c, size_t at, const char *fmt,...)
{
	char		msg[256];
	va_list		ap;

	if (c->failed)
		return;
	c->failed = true;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	relay_set_error(c->err, c->errlen, "%s frame: %s (at frame byte %zu)", c->kind, msg, at);
}

/*
 * Take n bytes for "what" followed by "suffix" (the name an error gives the
 * field; put together only then); NULL (and an error) if fewer are left.
 */
static const uint8_t *
take_field(Cursor *c, size_t n, const char *what, const char *suffix)
{
	const uint8_t *p;

	if (c->failed)
		return NULL;
	if (n > c->end - c->pos)
	{
		cursor_error(c, c->pos, "truncated: %s%s needs %zu bytes, %zu left",
					 what, suffix, n, c->end - c->pos);
		return NULL;
	}
	p = c->frame + c->pos;
	c->pos += n;
	return p;
}

/* Take n bytes for "what"; NULL (and an error) if fewer are left. */
static const uint8_t *
take(Cursor *c, size_t n, const char *what)
{
	return take_field(c, n, what, "");
}

static uint8_t
get_u8(Cursor *c, const char *what)
{
	const uint8_t *p = take(c, 1, what);

	return p ? p[0] : 0;
}

static uint16_t
get_u16(Cursor *c, const char *what)
{
	const uint8_t *p = take(c, 2, what);

	return p ? w2a_get_u16(p) : 0;
}

static uint32_t
get_u32(Cursor *c, const char *what)
{
	const uint8_t *p = take(c, 4, what);

	return p ? w2a_get_u32(p) : 0;
}

static uint64_t
get_u64(Cursor *c, const char *what)
{
	const uint8_t *p = take(c, 8, what);

	return p ? w2a_get_u64(p) : 0;
}

/* Read the uint32 length in front of a string or block named "what". */
static uint32_t
get_length(Cursor *c, const char *what)
{
	const uint8_t *p = take_field(c, 4, what, " length");

	return p ? w2a_get_u32(p) : 0;
}

/*
 * Times are signed on the wire; convert through the two's-complement bit
 * pattern without relying on implementation-defined conversion.
 */
static int64_t
get_i64(Cursor *c, const char *what)
{
	uint64_t	u = get_u64(c, what);

	if (u <= (uint64_t) INT64_MAX)
		return (int64_t) u;
	return -(int64_t) (~u) - 1;
}

/*
 * Length of the valid UTF-8 prefix of s (RFC 3629: no overlongs, no
 * surrogates, nothing above U+10FFFF).  Equals len when all of it is valid.
 */
static size_t
utf8_valid_prefix(const uint8_t *s, size_t len)
{
	size_t		i = 0;

	while (i < len)
	{
		uint8_t		b = s[i];
		size_t		n;
		uint8_t		lo = 0x80,
					hi = 0xBF;

		if (b < 0x80)
		{
			i++;
			continue;
		}
		if (b >= 0xC2 && b <= 0xDF)
			n = 1;
		else if (b >= 0xE0 && b <= 0xEF)
		{
			n = 2;
			if (b == 0xE0)
				lo = 0xA0;		/* overlong */
			else if (b == 0xED)
				hi = 0x9F;		/* surrogates */
		}
		else if (b >= 0xF0 && b <= 0xF4)
		{
			n = 3;
			if (b == 0xF0)
				lo = 0x90;		/* overlong */
			else if (b == 0xF4)
				hi = 0x8F;		/* above U+10FFFF */
		}
		else
			return i;
		if (n > len - i - 1)
			return i;
		if (s[i + 1] < lo || s[i + 1] > hi)
			return i;
		for (size_t k = 2; k <= n; k++)
			if (s[i + k] < 0x80 || s[i + k] > 0xBF)
				return i;
		i += n + 1;
	}
	return i;
}

static FrameBytes
get_string(Cursor *c, const char *what)
{
	FrameBytes	out = {NULL, 0};
	size_t		start = c->pos;
	uint32_t	n;
	const uint8_t *p;
	size_t		valid;

	n = get_length(c, what);
	if (c->failed)
		return out;
	if (n == W2A_NO_BLOCK)
	{
		cursor_error(c, start, "%s is marked absent, but strings cannot be", what);
		return out;
	}
	p = take(c, n, what);
	if (p == NULL)
		return out;
	valid = utf8_valid_prefix(p, n);
	if (valid != n)
	{
		cursor_error(c, start + 4 + valid, "%s is not valid UTF-8", what);
		return out;
	}
	out.data = p;
	out.len = n;
	return out;
}

/* A block; *present tells whether it was absent. */
static FrameBytes
get_block(Cursor *c, const char *what, bool *present)
{
	FrameBytes	out = {NULL, 0};
	uint32_t	n;
	const uint8_t *p;

	*present = false;
	n = get_length(c, what);
	if (c->failed || n == W2A_NO_BLOCK)
		return out;
	p = take(c, n, what);
	if (p == NULL)
		return out;
	*present = true;
	out.data = p;
	out.len = n;
	return out;
}

static void
parse_schema(Cursor *c, Frame *f)
{
	size_t		start;
	char		what[48];

	f->schema.relid = get_u32(c, "relation OID");
	f->schema.key_fingerprint = get_u64(c, "key fingerprint");
	f->schema.value_fingerprint = get_u64(c, "value fingerprint");
	f->schema.schema_name = get_string(c, "schema name");
	f->schema.table_name = get_string(c, "table name");
	f->schema.topic = get_string(c, "topic");
	f->schema.key_columns.count = get_u16(c, "key column count");
	start = c->pos;
	for (unsigned int i = 0; i < f->schema.key_columns.count && !c->failed; i++)
	{
		snprintf(what, sizeof(what), "key column %u", i + 1);
		(void) get_string(c, what);
	}
	f->schema.key_columns.data = c->frame + start;
	f->schema.key_columns.len = c->pos - start;
	f->schema.key_schema = get_string(c, "key schema");
	f->schema.value_schema = get_string(c, "value schema");
}

static void
parse_change(Cursor *c, Frame *f)
{
	size_t		start = c->pos;
	bool		present;
	uint8_t		op = get_u8(c, "op");

	if (!c->failed && op != W2A_OP_CREATE && op != W2A_OP_UPDATE &&
		op != W2A_OP_DELETE && op != W2A_OP_READ &&
		op != W2A_OP_TRUNCATE && op != W2A_OP_MESSAGE)
	{
		cursor_error(c, start, "unknown op 0x%02x", op);
		return;
	}
	f->change.op = (char) op;
	f->change.relid = get_u32(c, "relation OID");
	f->change.lsn = get_u64(c, "LSN");
	f->change.key_fingerprint = get_u64(c, "key fingerprint");
	f->change.value_fingerprint = get_u64(c, "value fingerprint");
	f->change.key = get_block(c, "key block", &f->change.has_key);
	start = c->pos;
	f->change.value = get_block(c, "value block", &present);
	if (!c->failed && !present)
		cursor_error(c, start, "the value block is absent");
	f->change.key_change = (c->frame[5] & W2A_CHANGE_KEY_CHANGE) != 0;
	f->change.non_transactional = (c->frame[5] & W2A_CHANGE_NON_TRANSACTIONAL) != 0;
	if (!c->failed && f->change.non_transactional &&
		(op != W2A_OP_MESSAGE || f->change.key_change))
	{
		cursor_error(c, start, "flag NON_TRANSACTIONAL on a change that is not a message (op %c)", op);
		return;
	}
	f->change.other_key.data = NULL;
	f->change.other_key.len = 0;
	if (f->change.key_change && !c->failed)
	{
		/* one half of a key change: the other half's key follows */
		start = c->pos;
		f->change.other_key = get_block(c, "other key block", &present);
		if (!c->failed && (!present || !f->change.has_key ||
						   (op != W2A_OP_CREATE && op != W2A_OP_DELETE)))
			cursor_error(c, start, "a key change needs op c or d, a key and an other key");
	}
}

static void
parse_truncate(Cursor *c, Frame *f)
{
	size_t		start = c->pos;
	char		what[64];

	f->truncate.flags = get_u8(c, "flags");
	if (!c->failed &&
		(f->truncate.flags & ~(W2A_TRUNCATE_CASCADE | W2A_TRUNCATE_RESTART_IDENTITY)))
	{
		cursor_error(c, start, "unknown flags 0x%02x", f->truncate.flags);
		return;
	}
	f->truncate.lsn = get_u64(c, "LSN");
	f->truncate.relations.count = get_u16(c, "relation count");
	start = c->pos;
	for (unsigned int i = 0; i < f->truncate.relations.count && !c->failed; i++)
	{
		snprintf(what, sizeof(what), "relation %u OID", i + 1);
		(void) get_u32(c, what);
		snprintf(what, sizeof(what), "relation %u schema name", i + 1);
		(void) get_string(c, what);
		snprintf(what, sizeof(what), "relation %u table name", i + 1);
		(void) get_string(c, what);
	}
	f->truncate.relations.data = c->frame + start;
	f->truncate.relations.len = c->pos - start;
}

static void
parse_message(Cursor *c, Frame *f)
{
	size_t		start = c->pos;
	uint8_t		tx = get_u8(c, "transactional flag");

	if (!c->failed && tx > 1)
	{
		cursor_error(c, start, "transactional flag is %u, not 0 or 1", tx);
		return;
	}
	f->message.transactional = tx == 1;
	f->message.lsn = get_u64(c, "LSN");
	f->message.prefix = get_string(c, "prefix");
	f->message.content = get_block(c, "content", &f->message.has_content);
}

int
frames_parse(const uint8_t *buf, size_t len, Frame *out, char *err, size_t errlen)
{
	Cursor		c;
	uint32_t	body_len;

	memset(out, 0, sizeof(*out));
	if (check_header(buf, len, err, errlen) < 0)
		return -1;
	if (len < W2A_HEADER_SIZE)
	{
		relay_set_error(err, errlen, "truncated frame header: %zu of %d bytes",
				  len, W2A_HEADER_SIZE);
		return -1;
	}
	out->kind = (char) buf[4];
	body_len = w2a_get_u32(buf + 6);
	out->body_len = body_len;
	if (len - W2A_HEADER_SIZE != body_len)
	{
		relay_set_error(err, errlen, "%s frame: header says %u body bytes, frame has %zu",
				  frames_kind_name(out->kind), body_len, len - W2A_HEADER_SIZE);
		return -1;
	}

	c.frame = buf;
	c.pos = W2A_HEADER_SIZE;
	c.end = len;
	c.kind = frames_kind_name(out->kind);
	c.err = err;
	c.errlen = errlen;
	c.failed = false;

	switch (out->kind)
	{
		case W2A_FRAME_BEGIN:
			out->begin.xid = get_u32(&c, "xid");
			out->begin.commit_lsn = get_u64(&c, "commit LSN");
			out->begin.commit_time = get_i64(&c, "commit time");
			break;
		case W2A_FRAME_SCHEMA:
			parse_schema(&c, out);
			break;
		case W2A_FRAME_CHANGE:
			parse_change(&c, out);
			break;
		case W2A_FRAME_TRUNCATE:
			parse_truncate(&c, out);
			break;
		case W2A_FRAME_MESSAGE:
			parse_message(&c, out);
			break;
		case W2A_FRAME_COMMIT:
			out->commit.commit_lsn = get_u64(&c, "commit LSN");
			out->commit.end_lsn = get_u64(&c, "end LSN");
			out->commit.commit_time = get_i64(&c, "commit time");
			out->commit.change_count = get_u64(&c, "change count");
			break;
	}
	if (!c.failed && c.pos != c.end)
		cursor_error(&c, c.pos, "%zu trailing bytes after the body", c.end - c.pos);
	return c.failed ? -1 : 0;
}

int
frames_next(const uint8_t *buf, size_t len, unsigned int options,
			size_t *consumed, Frame *out, char *err, size_t errlen)
{
	bool		partial = (options & FRAMES_PARTIAL) != 0;
	bool		newline = (options & FRAMES_NEWLINE) != 0;
	size_t		frame_len;
	size_t		need;

	*consumed = 0;
	if (len == 0)
		return 0;
	if (check_header(buf, len, err, errlen) < 0)
		return -1;
	if (len < W2A_HEADER_SIZE)
	{
		if (partial)
			return 0;
		relay_set_error(err, errlen, "truncated frame header: %zu of %d bytes",
				  len, W2A_HEADER_SIZE);
		return -1;
	}
	frame_len = W2A_HEADER_SIZE + (size_t) w2a_get_u32(buf + 6);
	need = frame_len + (newline ? 1 : 0);
	if (len < frame_len)
	{
		if (partial)
			return 0;
		relay_set_error(err, errlen, "truncated %s frame: body of %u bytes, %zu present",
				  frames_kind_name((char) buf[4]), w2a_get_u32(buf + 6),
				  len - W2A_HEADER_SIZE);
		return -1;
	}
	if (newline && len < need)
	{
		if (partial)
			return 0;
		relay_set_error(err, errlen,
				  "missing newline after the %s frame: the input ends at byte %zu",
				  frames_kind_name((char) buf[4]), frame_len);
		return -1;
	}
	if (newline && buf[frame_len] != '\n')
	{
		relay_set_error(err, errlen,
				  "expected a newline after the %s frame, found byte 0x%02x at byte %zu",
				  frames_kind_name((char) buf[4]), buf[frame_len], frame_len);
		return -1;
	}
	if (frames_parse(buf, frame_len, out, err, errlen) < 0)
		return -1;
	*consumed = need;
	return 1;
}

bool
frames_next_key_column(const FrameList *list, size_t *pos, FrameBytes *name)
{
	uint32_t	n;

	if (*pos > list->len || list->len - *pos < 4)
		return false;
	n = w2a_get_u32(list->data + *pos);
	if (n > list->len - *pos - 4)
		return false;
	name->data = list->data + *pos + 4;
	name->len = n;
	*pos += 4 + (size_t) n;
	return true;
}

bool
frames_next_relation(const FrameList *list, size_t *pos, FrameRelation *rel)
{
	size_t		p = *pos;
	FrameList	rest;

	if (p > list->len || list->len - p < 4)
		return false;
	rel->relid = w2a_get_u32(list->data + p);
	p += 4;
	rest = *list;
	if (!frames_next_key_column(&rest, &p, &rel->schema_name) ||
		!frames_next_key_column(&rest, &p, &rel->table_name))
		return false;
	*pos = p;
	return true;
}
