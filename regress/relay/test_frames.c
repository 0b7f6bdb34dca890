/*-------------------------------------------------------------------------
 *
 * test_frames.c
 *		Unit tests for relay/frames.c: every frame kind parsed back from
 *		bytes built by hand, and every way a frame can be wrong.
 *
 * Frames are built with the w2a_put_* helpers of wal2avro_protocol.h, not
 * with the plugin's frame.c, so the test and the parser share only the
 * header's constants.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * regress/relay/test_frames.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>
#include <string.h>

#include "frames.h"
#include "lsn.h"
#include "unit.h"
#include "wal2avro_protocol.h"

#define BUILD_MAX	4096

/* A frame under construction: body appended after a reserved header. */
typedef struct Build
{
	uint8_t		buf[BUILD_MAX];
	size_t		len;
	char		kind;
} Build;

static char err[512];

static void
b_start(Build *b, char kind)
{
	memset(b->buf, 0, W2A_HEADER_SIZE);
	b->len = W2A_HEADER_SIZE;
	b->kind = kind;
}

static void
b_u8(Build *b, uint8_t v)
{
	b->buf[b->len++] = v;
}

static void
b_u16(Build *b, uint16_t v)
{
	w2a_put_u16(b->buf + b->len, v);
	b->len += 2;
}

static void
b_u32(Build *b, uint32_t v)
{
	w2a_put_u32(b->buf + b->len, v);
	b->len += 4;
}

static void
b_u64(Build *b, uint64_t v)
{
	w2a_put_u64(b->buf + b->len, v);
	b->len += 8;
}

static void
b_raw(Build *b, const void *data, size_t n)
{
	memcpy(b->buf + b->len, data, n);
	b->len += n;
}

static void
b_str(Build *b, const char *s)
{
	b_u32(b, (uint32_t) strlen(s));
	b_raw(b, s, strlen(s));
}

static void
b_block(Build *b, const void *data, size_t n)
{
	b_u32(b, (uint32_t) n);
	b_raw(b, data, n);
}

/* Write the header for the body built so far; returns the frame length. */
static size_t
b_finish(Build *b)
{
	b->buf[0] = W2A_MAGIC0;
	b->buf[1] = W2A_MAGIC1;
	b->buf[2] = W2A_MAGIC2;
	b->buf[3] = W2A_PROTOCOL_VERSION;
	b->buf[4] = (uint8_t) b->kind;
	b->buf[5] = 0;
	w2a_put_u32(b->buf + 6, (uint32_t) (b->len - W2A_HEADER_SIZE));
	return b->len;
}

/* ---- sample frames, one per kind ---- */

static const uint8_t avro_key[] = {0x02, 0x0A, 0x00, 0xFF};	/* has '\n' and NUL */
static const uint8_t avro_value[] = {0x00, 0x02, 0x0A, 0x0A, 0x06, 'a', 'b', 'c'};

static size_t
make_begin(Build *b)
{
	b_start(b, W2A_FRAME_BEGIN);
	b_u32(b, 4000000000u);
	b_u64(b, UINT64_C(0x16B374D848));
	b_u64(b, (uint64_t) INT64_C(-1234567));	/* before 1970 */
	return b_finish(b);
}

static size_t
make_schema(Build *b)
{
	b_start(b, W2A_FRAME_SCHEMA);
	b_u32(b, 16384);
	b_u64(b, UINT64_C(0x7275D51A3F395C8F));
	b_u64(b, UINT64_C(0xFFFFFFFFFFFFFFFF));
	b_str(b, "public");
	b_str(b, "Ordérs");
	b_str(b, "wal2avro.public.orders");
	b_u16(b, 2);
	b_str(b, "id");
	b_str(b, "région");
	b_str(b, "{\"type\":\"record\",\"name\":\"Key\",\"fields\":[]}");
	b_str(b, "{\"type\":\"record\",\"name\":\"Envelope\",\"fields\":[]}");
	return b_finish(b);
}

static size_t
make_change(Build *b, char op, bool with_key)
{
	b_start(b, W2A_FRAME_CHANGE);
	b_u8(b, (uint8_t) op);
	b_u32(b, 16384);
	b_u64(b, UINT64_C(0x100000001));
	b_u64(b, with_key ? 42 : 0);
	b_u64(b, 43);
	if (with_key)
		b_block(b, avro_key, sizeof(avro_key));
	else
		b_u32(b, W2A_NO_BLOCK);
	b_block(b, avro_value, sizeof(avro_value));
	return b_finish(b);
}

static size_t
make_truncate(Build *b)
{
	b_start(b, W2A_FRAME_TRUNCATE);
	b_u8(b, W2A_TRUNCATE_CASCADE | W2A_TRUNCATE_RESTART_IDENTITY);
	b_u64(b, UINT64_C(0xABCDEF));
	b_u16(b, 2);
	b_u32(b, 16384);
	b_str(b, "public");
	b_str(b, "orders");
	b_u32(b, 16390);
	b_str(b, "sales");
	b_str(b, "");
	return b_finish(b);
}

static size_t
make_message(Build *b, bool transactional, bool with_content)
{
	b_start(b, W2A_FRAME_MESSAGE);
	b_u8(b, transactional ? 1 : 0);
	b_u64(b, UINT64_C(0x2000000AA));
	b_str(b, "audit");
	if (with_content)
		b_block(b, "hello\n\0world", 12);
	else
		b_u32(b, W2A_NO_BLOCK);
	return b_finish(b);
}

static size_t
make_commit(Build *b)
{
	b_start(b, W2A_FRAME_COMMIT);
	b_u64(b, UINT64_C(0x16B374D848));
	b_u64(b, UINT64_C(0x16B374D878));
	b_u64(b, UINT64_C(1767225600000000));
	b_u64(b, UINT64_C(1) << 40);
	return b_finish(b);
}

/* ---- round trips ---- */

static void
test_begin(void)
{
	Build		b;
	size_t		n = make_begin(&b);
	Frame		f;

	CHECK_INT(frames_parse(b.buf, n, &f, err, sizeof(err)), 0);
	CHECK_INT(f.kind, W2A_FRAME_BEGIN);
	CHECK_INT(f.body_len, 20);
	CHECK_U64(f.begin.xid, 4000000000u);
	CHECK_U64(f.begin.commit_lsn, UINT64_C(0x16B374D848));
	CHECK_INT(f.begin.commit_time, -1234567);
	CHECK_STR(frames_kind_name(f.kind), "begin");
}

static void
test_schema(void)
{
	Build		b;
	size_t		n = make_schema(&b);
	Frame		f;
	FrameBytes	col;
	size_t		pos = 0;

	CHECK_INT(frames_parse(b.buf, n, &f, err, sizeof(err)), 0);
	CHECK_INT(f.kind, W2A_FRAME_SCHEMA);
	CHECK_U64(f.schema.relid, 16384);
	CHECK_U64(f.schema.key_fingerprint, UINT64_C(0x7275D51A3F395C8F));
	CHECK_U64(f.schema.value_fingerprint, UINT64_MAX);
	CHECK_BYTES(f.schema.schema_name, "public");
	CHECK_BYTES(f.schema.table_name, "Ordérs");
	CHECK_BYTES(f.schema.topic, "wal2avro.public.orders");
	CHECK_INT(f.schema.key_columns.count, 2);
	CHECK(frames_next_key_column(&f.schema.key_columns, &pos, &col));
	CHECK_BYTES(col, "id");
	CHECK(frames_next_key_column(&f.schema.key_columns, &pos, &col));
	CHECK_BYTES(col, "région");
	CHECK(!frames_next_key_column(&f.schema.key_columns, &pos, &col));
	CHECK_BYTES(f.schema.key_schema, "{\"type\":\"record\",\"name\":\"Key\",\"fields\":[]}");
	CHECK_BYTES(f.schema.value_schema, "{\"type\":\"record\",\"name\":\"Envelope\",\"fields\":[]}");
	/* No copies: the strings point into the buffer. */
	CHECK(f.schema.topic.data > b.buf && f.schema.topic.data < b.buf + n);

	/* A relation without a key: no columns, empty key schema. */
	b_start(&b, W2A_FRAME_SCHEMA);
	b_u32(&b, 1);
	b_u64(&b, 0);
	b_u64(&b, 5);
	b_str(&b, "s");
	b_str(&b, "t");
	b_str(&b, "p.s.t");
	b_u16(&b, 0);
	b_str(&b, "");
	b_str(&b, "\"int\"");
	n = b_finish(&b);
	CHECK_INT(frames_parse(b.buf, n, &f, err, sizeof(err)), 0);
	CHECK_INT(f.schema.key_columns.count, 0);
	pos = 0;
	CHECK(!frames_next_key_column(&f.schema.key_columns, &pos, &col));
	CHECK_INT(f.schema.key_schema.len, 0);
	CHECK(f.schema.key_schema.data != NULL);	/* empty, not absent */
	CHECK_BYTES(f.schema.value_schema, "\"int\"");
}

static void
test_change(void)
{
	static const char ops[] = {W2A_OP_CREATE, W2A_OP_UPDATE, W2A_OP_DELETE, W2A_OP_READ,
	W2A_OP_TRUNCATE, W2A_OP_MESSAGE};
	Build		b;
	size_t		n;
	Frame		f;

	for (size_t i = 0; i < sizeof(ops); i++)
	{
		n = make_change(&b, ops[i], true);
		CHECK_INT(frames_parse(b.buf, n, &f, err, sizeof(err)), 0);
		CHECK_INT(f.change.op, ops[i]);
	}
	CHECK_INT(f.kind, W2A_FRAME_CHANGE);
	CHECK_U64(f.change.relid, 16384);
	CHECK_U64(f.change.lsn, UINT64_C(0x100000001));
	CHECK_U64(f.change.key_fingerprint, 42);
	CHECK_U64(f.change.value_fingerprint, 43);
	CHECK(f.change.has_key);
	CHECK_INT(f.change.key.len, sizeof(avro_key));
	CHECK(memcmp(f.change.key.data, avro_key, sizeof(avro_key)) == 0);
	CHECK_INT(f.change.value.len, sizeof(avro_value));
	CHECK(memcmp(f.change.value.data, avro_value, sizeof(avro_value)) == 0);
	CHECK(f.change.value.data == b.buf + n - sizeof(avro_value));

	/* An absent key (a table without one). */
	n = make_change(&b, W2A_OP_DELETE, false);
	CHECK_INT(frames_parse(b.buf, n, &f, err, sizeof(err)), 0);
	CHECK(!f.change.has_key);
	CHECK(f.change.key.data == NULL);
	CHECK_INT(f.change.key.len, 0);
	CHECK_U64(f.change.key_fingerprint, 0);

	/* An empty but present value and key. */
	b_start(&b, W2A_FRAME_CHANGE);
	b_u8(&b, 'c');
	b_u32(&b, 1);
	b_u64(&b, 1);
	b_u64(&b, 1);
	b_u64(&b, 1);
	b_u32(&b, 0);
	b_u32(&b, 0);
	n = b_finish(&b);
	CHECK_INT(frames_parse(b.buf, n, &f, err, sizeof(err)), 0);
	CHECK(f.change.has_key);
	CHECK(f.change.key.data != NULL && f.change.value.data != NULL);
	CHECK_INT(f.change.value.len, 0);
	CHECK(!f.change.non_transactional);

	/* compat=debezium: a non-transactional message (flag 0x02), op m only */
	n = make_change(&b, W2A_OP_MESSAGE, true);
	b.buf[5] = W2A_CHANGE_NON_TRANSACTIONAL;
	CHECK_INT(frames_parse(b.buf, n, &f, err, sizeof(err)), 0);
	CHECK(f.change.non_transactional);
	CHECK(!f.change.key_change);
}

static void
test_truncate(void)
{
	Build		b;
	size_t		n = make_truncate(&b);
	Frame		f;
	FrameRelation rel;
	size_t		pos = 0;

	CHECK_INT(frames_parse(b.buf, n, &f, err, sizeof(err)), 0);
	CHECK_INT(f.kind, W2A_FRAME_TRUNCATE);
	CHECK_INT(f.truncate.flags, W2A_TRUNCATE_CASCADE | W2A_TRUNCATE_RESTART_IDENTITY);
	CHECK_U64(f.truncate.lsn, 0xABCDEF);
	CHECK_INT(f.truncate.relations.count, 2);
	CHECK(frames_next_relation(&f.truncate.relations, &pos, &rel));
	CHECK_U64(rel.relid, 16384);
	CHECK_BYTES(rel.schema_name, "public");
	CHECK_BYTES(rel.table_name, "orders");
	CHECK(frames_next_relation(&f.truncate.relations, &pos, &rel));
	CHECK_U64(rel.relid, 16390);
	CHECK_BYTES(rel.schema_name, "sales");
	CHECK_BYTES(rel.table_name, "");
	CHECK(!frames_next_relation(&f.truncate.relations, &pos, &rel));
	CHECK_INT(pos, f.truncate.relations.len);

	/* No flags, no relations. */
	b_start(&b, W2A_FRAME_TRUNCATE);
	b_u8(&b, 0);
	b_u64(&b, 7);
	b_u16(&b, 0);
	n = b_finish(&b);
	CHECK_INT(frames_parse(b.buf, n, &f, err, sizeof(err)), 0);
	CHECK_INT(f.truncate.flags, 0);
	pos = 0;
	CHECK(!frames_next_relation(&f.truncate.relations, &pos, &rel));
}

static void
test_message(void)
{
	Build		b;
	size_t		n = make_message(&b, true, true);
	Frame		f;

	CHECK_INT(frames_parse(b.buf, n, &f, err, sizeof(err)), 0);
	CHECK_INT(f.kind, W2A_FRAME_MESSAGE);
	CHECK(f.message.transactional);
	CHECK_U64(f.message.lsn, UINT64_C(0x2000000AA));
	CHECK_BYTES(f.message.prefix, "audit");
	CHECK(f.message.has_content);
	CHECK_INT(f.message.content.len, 12);
	CHECK(memcmp(f.message.content.data, "hello\n\0world", 12) == 0);

	n = make_message(&b, false, false);
	CHECK_INT(frames_parse(b.buf, n, &f, err, sizeof(err)), 0);
	CHECK(!f.message.transactional);
	CHECK(!f.message.has_content);
	CHECK(f.message.content.data == NULL);
}

static void
test_commit(void)
{
	Build		b;
	size_t		n = make_commit(&b);
	Frame		f;
	char		text[LSN_TEXT_SIZE];

	CHECK_INT(frames_parse(b.buf, n, &f, err, sizeof(err)), 0);
	CHECK_INT(f.kind, W2A_FRAME_COMMIT);
	CHECK_U64(f.commit.commit_lsn, UINT64_C(0x16B374D848));
	CHECK_U64(f.commit.end_lsn, UINT64_C(0x16B374D878));
	CHECK_INT(f.commit.commit_time, INT64_C(1767225600000000));
	CHECK_U64(f.commit.change_count, UINT64_C(1) << 40);
	snprintf(text, sizeof(text), LSN_FMT, LSN_ARGS(f.commit.end_lsn));
	CHECK_STR(text, "16/B374D878");
}

/* ---- header errors ---- */

static void
expect_error(const uint8_t *buf, size_t len, const char *want, int line)
{
	Frame		f;
	int			r = frames_parse(buf, len, &f, err, sizeof(err));

	unit_record(r == -1, __FILE__, line, "frames_parse refuses the frame");
	unit_record(strstr(err, want) != NULL, __FILE__, line, "error message");
	if (r != -1 || strstr(err, want) == NULL)
		fprintf(stderr, "    got %d \"%s\", want \"%s\"\n", r, r ? err : "", want);
}

#define EXPECT_ERROR(buf, len, want) expect_error(buf, len, want, __LINE__)

static void
test_header_errors(void)
{
	Build		b;
	size_t		n;

	for (int i = 0; i < 3; i++)
	{
		n = make_begin(&b);
		b.buf[i] = 'x';
		EXPECT_ERROR(b.buf, n, "bad frame magic");
	}
	n = make_begin(&b);
	b.buf[1] = 0;
	EXPECT_ERROR(b.buf, n, "found byte 0x00 at byte 1");

	n = make_begin(&b);
	b.buf[3] = 2;
	EXPECT_ERROR(b.buf, n, "unknown protocol version 2 at byte 3, expected 1");

	n = make_begin(&b);
	b.buf[4] = 'X';
	EXPECT_ERROR(b.buf, n, "unknown frame kind 0x58 at byte 4");
	b.buf[4] = 0;
	EXPECT_ERROR(b.buf, n, "unknown frame kind 0x00");

	n = make_begin(&b);
	b.buf[5] = 0x01;
	EXPECT_ERROR(b.buf, n, "unknown header flags 0x01 in begin frame");
	b.buf[5] = 0x80;
	EXPECT_ERROR(b.buf, n, "unknown header flags 0x80");

	n = make_begin(&b);
	w2a_put_u32(b.buf + 6, W2A_MAX_BODY + 1);
	EXPECT_ERROR(b.buf, n, "body length 1073741824 exceeds the maximum 1073741823");
	w2a_put_u32(b.buf + 6, 0xFFFFFFFF);
	EXPECT_ERROR(b.buf, n, "exceeds the maximum");

	/* Too short for a header. */
	n = make_begin(&b);
	EXPECT_ERROR(b.buf, 0, "truncated frame header: 0 of 10 bytes");
	EXPECT_ERROR(b.buf, 9, "truncated frame header: 9 of 10 bytes");

	/* The header's length and the buffer disagree. */
	EXPECT_ERROR(b.buf, n - 1, "begin frame: header says 20 body bytes, frame has 19");
	b.buf[n] = 0;
	EXPECT_ERROR(b.buf, n + 1, "header says 20 body bytes, frame has 21");
}

/* ---- body errors ---- */

static void
test_body_errors(void)
{
	Build		b;
	size_t		n;

	/* A field cut short, with a header that agrees. */
	b_start(&b, W2A_FRAME_BEGIN);
	b_u32(&b, 1);
	b_u64(&b, 2);
	b_u32(&b, 3);
	n = b_finish(&b);
	EXPECT_ERROR(b.buf, n, "begin frame: truncated: commit time needs 8 bytes, 4 left (at frame byte 22)");

	/* Trailing bytes after a complete body. */
	b_start(&b, W2A_FRAME_COMMIT);
	for (int i = 0; i < 4; i++)
		b_u64(&b, 1);
	b_u8(&b, 0);
	n = b_finish(&b);
	EXPECT_ERROR(b.buf, n, "commit frame: 1 trailing bytes after the body (at frame byte 42)");

	/* A string whose length runs past the end. */
	b_start(&b, W2A_FRAME_SCHEMA);
	b_u32(&b, 1);
	b_u64(&b, 0);
	b_u64(&b, 0);
	b_u32(&b, 0xFFFFFF00u);
	b_raw(&b, "public", 6);
	n = b_finish(&b);
	EXPECT_ERROR(b.buf, n, "schema frame: truncated: schema name needs 4294967040 bytes, 6 left");

	/* A string marked absent. */
	b_start(&b, W2A_FRAME_SCHEMA);
	b_u32(&b, 1);
	b_u64(&b, 0);
	b_u64(&b, 0);
	b_str(&b, "public");
	b_u32(&b, W2A_NO_BLOCK);
	n = b_finish(&b);
	EXPECT_ERROR(b.buf, n, "table name is marked absent, but strings cannot be (at frame byte 40)");

	/* More key columns announced than present. */
	b_start(&b, W2A_FRAME_SCHEMA);
	b_u32(&b, 1);
	b_u64(&b, 1);
	b_u64(&b, 1);
	b_str(&b, "s");
	b_str(&b, "t");
	b_str(&b, "x");
	b_u16(&b, 65535);
	b_str(&b, "id");
	n = b_finish(&b);
	EXPECT_ERROR(b.buf, n, "truncated: key column 2 length needs 4 bytes, 0 left");

	/* Unknown op. */
	n = make_change(&b, 'x', true);
	EXPECT_ERROR(b.buf, n, "change frame: unknown op 0x78 (at frame byte 10)");
	n = make_change(&b, 'C', true);
	EXPECT_ERROR(b.buf, n, "unknown op 0x43");

	/* An absent value block. */
	b_start(&b, W2A_FRAME_CHANGE);
	b_u8(&b, 'd');
	b_u32(&b, 1);
	b_u64(&b, 1);
	b_u64(&b, 0);
	b_u64(&b, 1);
	b_u32(&b, W2A_NO_BLOCK);
	b_u32(&b, W2A_NO_BLOCK);
	n = b_finish(&b);
	EXPECT_ERROR(b.buf, n, "change frame: the value block is absent (at frame byte 43)");

	/* A key block longer than what is left. */
	b_start(&b, W2A_FRAME_CHANGE);
	b_u8(&b, 'c');
	b_u32(&b, 1);
	b_u64(&b, 1);
	b_u64(&b, 1);
	b_u64(&b, 1);
	b_u32(&b, 1000);
	b_raw(&b, "abc", 3);
	n = b_finish(&b);
	EXPECT_ERROR(b.buf, n, "truncated: key block needs 1000 bytes, 3 left (at frame byte 43)");

	/* A value block of 0xFFFFFFFE bytes. */
	b_start(&b, W2A_FRAME_CHANGE);
	b_u8(&b, 'c');
	b_u32(&b, 1);
	b_u64(&b, 1);
	b_u64(&b, 1);
	b_u64(&b, 1);
	b_u32(&b, 0);
	b_u32(&b, 0xFFFFFFFEu);
	n = b_finish(&b);
	EXPECT_ERROR(b.buf, n, "value block needs 4294967294 bytes, 0 left");

	/* TRUNCATE flags and counts. */
	b_start(&b, W2A_FRAME_TRUNCATE);
	b_u8(&b, 0x04);
	b_u64(&b, 1);
	b_u16(&b, 0);
	n = b_finish(&b);
	EXPECT_ERROR(b.buf, n, "truncate frame: unknown flags 0x04 (at frame byte 10)");
	b_start(&b, W2A_FRAME_TRUNCATE);
	b_u8(&b, 0);
	b_u64(&b, 1);
	b_u16(&b, 3);
	b_u32(&b, 1);
	b_str(&b, "s");
	b_str(&b, "t");
	n = b_finish(&b);
	EXPECT_ERROR(b.buf, n, "truncated: relation 2 OID needs 4 bytes, 0 left");

	/* MESSAGE's transactional byte. */
	n = make_message(&b, true, true);
	b.buf[W2A_HEADER_SIZE] = 2;
	EXPECT_ERROR(b.buf, n, "message frame: transactional flag is 2, not 0 or 1");
}

/* compat=debezium's flag NON_TRANSACTIONAL is for messages only */
static void
test_change_flag_errors(void)
{
	Build		b;
	size_t		n;

	n = make_change(&b, W2A_OP_TRUNCATE, false);
	b.buf[5] = W2A_CHANGE_NON_TRANSACTIONAL;
	EXPECT_ERROR(b.buf, n, "flag NON_TRANSACTIONAL on a change that is not a message (op t)");
	n = make_change(&b, W2A_OP_MESSAGE, true);
	b.buf[5] = 0x04;
	EXPECT_ERROR(b.buf, n, "unknown header flags 0x04 in change frame");
}

static void
test_utf8(void)
{
	static const struct
	{
		const char *text;
		size_t		bad_at;		/* offset of the first bad byte, or SIZE_MAX */
	}			cases[] = {
		{"plain", SIZE_MAX},
		{"\xC3\xA9t\xC3\xA9", SIZE_MAX},	/* été */
		{"\xE2\x82\xAC", SIZE_MAX},	/* euro sign */
		{"\xF0\x9F\x98\x80", SIZE_MAX},	/* U+1F600 */
		{"\xF4\x8F\xBF\xBF", SIZE_MAX},	/* U+10FFFF */
		{"ab\x80", 2},			/* lone continuation */
		{"\xC0\xAF", 0},		/* overlong "/" */
		{"\xE0\x80\xAF", 0},	/* overlong */
		{"\xED\xA0\x80", 0},	/* surrogate U+D800 */
		{"\xF4\x90\x80\x80", 0},	/* above U+10FFFF */
		{"a\xF5\x80\x80\x80", 1},
		{"xy\xE2\x82", 2},		/* cut short */
		{"\xC3(", 0},			/* bad continuation */
		{"\xFF", 0},
	};
	Build		b;
	Frame		f;
	char		want[64];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		size_t		n;
		int			r;

		b_start(&b, W2A_FRAME_MESSAGE);
		b_u8(&b, 0);
		b_u64(&b, 1);
		b_str(&b, cases[i].text);
		b_block(&b, "", 0);
		n = b_finish(&b);
		r = frames_parse(b.buf, n, &f, err, sizeof(err));
		if (cases[i].bad_at == SIZE_MAX)
		{
			CHECK_INT(r, 0);
			CHECK_BYTES(f.message.prefix, cases[i].text);
		}
		else
		{
			/* The prefix string starts at frame byte 19; its text at 23. */
			snprintf(want, sizeof(want), "prefix is not valid UTF-8 (at frame byte %zu)",
					 23 + cases[i].bad_at);
			EXPECT_ERROR(b.buf, n, want);
		}
	}
}

/*
 * Every proper prefix of every sample frame is refused, both with the
 * original header (length mismatch) and with a header patched to the
 * shorter body (a field runs past the end).
 */
static void
test_every_truncation(void)
{
	Build		b;
	size_t		sizes[8];
	Build		frames[8];
	int			nframes = 0;

	sizes[nframes] = make_begin(&frames[nframes]), nframes++;
	sizes[nframes] = make_schema(&frames[nframes]), nframes++;
	sizes[nframes] = make_change(&frames[nframes], 'u', true), nframes++;
	sizes[nframes] = make_change(&frames[nframes], 'd', false), nframes++;
	sizes[nframes] = make_truncate(&frames[nframes]), nframes++;
	sizes[nframes] = make_message(&frames[nframes], true, true), nframes++;
	sizes[nframes] = make_message(&frames[nframes], false, false), nframes++;
	sizes[nframes] = make_commit(&frames[nframes]), nframes++;

	for (int i = 0; i < nframes; i++)
	{
		int			accepted_as_is = 0;
		int			accepted_patched = 0;
		Frame		f;

		for (size_t len = 0; len < sizes[i]; len++)
		{
			if (frames_parse(frames[i].buf, len, &f, err, sizeof(err)) != -1)
				accepted_as_is++;
			if (len >= W2A_HEADER_SIZE)
			{
				memcpy(b.buf, frames[i].buf, len);
				w2a_put_u32(b.buf + 6, (uint32_t) (len - W2A_HEADER_SIZE));
				if (frames_parse(b.buf, len, &f, err, sizeof(err)) != -1)
					accepted_patched++;
			}
		}
		CHECK_INT(accepted_as_is, 0);
		CHECK_INT(accepted_patched, 0);
		CHECK_INT(frames_parse(frames[i].buf, sizes[i], &f, err, sizeof(err)), 0);
	}
}

/* ---- streams ---- */

/* Six frames back to back, with a newline after each when "newline". */
static size_t
make_stream(uint8_t *out, bool newline, size_t *ends)
{
	Build		b;
	size_t		len = 0;
	size_t		n;
	int			k = 0;

	for (int i = 0; i < 6; i++)
	{
		switch (i)
		{
			case 0:
				n = make_begin(&b);
				break;
			case 1:
				n = make_schema(&b);
				break;
			case 2:
				n = make_change(&b, 'c', true);
				break;
			case 3:
				n = make_truncate(&b);
				break;
			case 4:
				n = make_message(&b, true, true);
				break;
			default:
				n = make_commit(&b);
				break;
		}
		memcpy(out + len, b.buf, n);
		len += n;
		if (newline)
			out[len++] = '\n';
		ends[k++] = len;
	}
	return len;
}

static void
test_stream(bool newline)
{
	static const char kinds[] = "BSDTMC";
	uint8_t		stream[BUILD_MAX * 2] = {0};
	size_t		ends[6];
	size_t		len = make_stream(stream, newline, ends);
	unsigned int opts = newline ? FRAMES_NEWLINE : 0;
	size_t		pos = 0;
	size_t		consumed;
	Frame		f;
	int			count = 0;
	int			r;
	bool		ok = true;

	while ((r = frames_next(stream + pos, len - pos, opts, &consumed, &f, err, sizeof(err))) == 1)
	{
		ok = ok && f.kind == kinds[count] && pos + consumed == ends[count];
		pos += consumed;
		count++;
	}
	CHECK_INT(r, 0);
	CHECK_INT(count, 6);
	CHECK(ok);
	CHECK_INT(pos, len);
	CHECK_INT(consumed, 0);

	/* Every prefix: partial reads say "more" and consume nothing, or give a whole frame. */
	{
		int			bad = 0;

		for (size_t cut = 0; cut <= len; cut++)
		{
			int			whole = 0;

			for (int i = 0; i < 6; i++)
				if (ends[i] <= cut)
					whole = i + 1;
			r = frames_next(stream, cut, opts | FRAMES_PARTIAL, &consumed, &f, err, sizeof(err));
			if (whole == 0 && (r != 0 || consumed != 0))
				bad++;
			if (whole > 0 && (r != 1 || consumed != ends[0]))
				bad++;
			/* Without FRAMES_PARTIAL a cut inside the first frame is an error. */
			r = frames_next(stream, cut, opts, &consumed, &f, err, sizeof(err));
			if (cut > 0 && whole == 0 && r != -1)
				bad++;
		}
		CHECK_INT(bad, 0);
	}
}

static void
test_stream_errors(void)
{
	uint8_t		stream[BUILD_MAX * 2] = {0};
	size_t		ends[6];
	size_t		len;
	size_t		consumed = 99;
	Frame		f;

	CHECK_INT(frames_next(stream, 0, 0, &consumed, &f, err, sizeof(err)), 0);
	CHECK_INT(consumed, 0);

	/* A raw stream read as if it had newlines: byte after frame 1 is 'W'. */
	len = make_stream(stream, false, ends);
	CHECK_INT(frames_next(stream, len, FRAMES_NEWLINE, &consumed, &f, err, sizeof(err)), -1);
	CHECK_CONTAINS(err, "expected a newline after the begin frame, found byte 0x57 at byte 30");

	/* The last newline missing. */
	len = make_stream(stream, true, ends);
	CHECK_INT(frames_next(stream + ends[4], len - ends[4] - 1, FRAMES_NEWLINE,
						  &consumed, &f, err, sizeof(err)), -1);
	CHECK_CONTAINS(err, "missing newline after the commit frame: the input ends at byte 42");
	CHECK_INT(consumed, 0);

	/* A cut body. */
	CHECK_INT(frames_next(stream, 25, 0, &consumed, &f, err, sizeof(err)), -1);
	CHECK_CONTAINS(err, "truncated begin frame: body of 20 bytes, 15 present");
	CHECK_INT(frames_next(stream, 4, 0, &consumed, &f, err, sizeof(err)), -1);
	CHECK_CONTAINS(err, "truncated frame header: 4 of 10 bytes");

	/* A bad header is refused at once, even when more may come. */
	CHECK_INT(frames_next((const uint8_t *) "X", 1, FRAMES_PARTIAL, &consumed, &f, err, sizeof(err)), -1);
	CHECK_CONTAINS(err, "bad frame magic");
	CHECK_INT(frames_next((const uint8_t *) "W2A\x02", 4, FRAMES_PARTIAL, &consumed, &f, err, sizeof(err)), -1);
	CHECK_CONTAINS(err, "unknown protocol version 2");
	CHECK_INT(frames_next((const uint8_t *) "W2A\x01Z", 5, FRAMES_PARTIAL, &consumed, &f, err, sizeof(err)), -1);
	CHECK_CONTAINS(err, "unknown frame kind 0x5a");
	CHECK_INT(frames_next((const uint8_t *) "W2A\x01" "B\x00\x7F\xFF\xFF\xFF", 10, FRAMES_PARTIAL,
						  &consumed, &f, err, sizeof(err)), -1);
	CHECK_CONTAINS(err, "exceeds the maximum");

	/* A frame whose body is wrong inside a good stream. */
	len = make_stream(stream, false, ends);
	stream[ends[1] + W2A_HEADER_SIZE] = 'q';	/* the op of the CHANGE */
	CHECK_INT(frames_next(stream + ends[1], len - ends[1], 0, &consumed, &f, err, sizeof(err)), -1);
	CHECK_CONTAINS(err, "change frame: unknown op 0x71");
}

static void
test_null_err_buffer(void)
{
	Build		b;
	size_t		n = make_begin(&b);
	Frame		f;

	b.buf[0] = 0;
	CHECK_INT(frames_parse(b.buf, n, &f, NULL, 0), -1);
	n = make_change(&b, 'z', true);
	CHECK_INT(frames_parse(b.buf, n, &f, NULL, 0), -1);
	CHECK_STR(frames_kind_name('?'), "unknown");
}

int
main(void)
{
	test_begin();
	test_schema();
	test_change();
	test_truncate();
	test_message();
	test_commit();
	test_header_errors();
	test_body_errors();
	test_change_flag_errors();
	test_utf8();
	test_every_truncation();
	test_stream(false);
	test_stream(true);
	test_stream_errors();
	test_null_err_buffer();
	return unit_finish("test_frames");
}
