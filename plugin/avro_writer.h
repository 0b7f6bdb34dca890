/*-------------------------------------------------------------------------
 *
 * avro_writer.h
 *		Avro binary primitives into a StringInfo (avro_writer.c): zigzag
 *		varints, floats, bytes and strings, decimals.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * plugin/avro_writer.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef W2A_AVRO_WRITER_H
#define W2A_AVRO_WRITER_H

#include "lib/stringinfo.h"

/*
 * Room for n more bytes (and the terminating NUL) in out.  Inline, with the
 * call to enlargeStringInfo only when the buffer is full: the writers below
 * run for every field of every row, and the call, not the copy, was their
 * cost (callgrind, regress/bench/decode-instr.sh).
 */
static inline void
avro_reserve(StringInfo out, int n)
{
	if (unlikely(out->maxlen - out->len <= n))
		enlargeStringInfo(out, n);
}

/* len bytes as they are (appendBinaryStringInfo, inline) */
static inline void
avro_append(StringInfo out, const void *data, int len)
{
	avro_reserve(out, len);
	memcpy(out->data + out->len, data, len);
	out->len += len;
	out->data[out->len] = '\0';
}

/* An Avro long (or int): a zig-zag varint, straight into the buffer */
static inline void
avro_write_long(StringInfo out, int64 v)
{
	uint64		z = ((uint64) v << 1) ^ (uint64) (v >> 63);
	char	   *p;

	avro_reserve(out, 10);
	p = out->data + out->len;
	while (z > 0x7F)
	{
		*p++ = (char) ((z & 0x7F) | 0x80);
		z >>= 7;
	}
	*p++ = (char) z;
	out->len = p - out->data;
	*p = '\0';
}

/* Avro bytes or string: the length, then the bytes */
static inline void
avro_write_bytes(StringInfo out, const char *data, int len)
{
	avro_write_long(out, len);
	avro_append(out, data, len);
}

extern void avro_write_bool(StringInfo out, bool v);
extern void avro_write_float(StringInfo out, float4 v);
extern void avro_write_double(StringInfo out, float8 v);
extern void avro_write_string(StringInfo out, const char *str);

/* ["null", "long"]: null (branch 0), or the value (branch 1); per row: inline */
static inline void
avro_write_optional_long(StringInfo out, bool present, int64 v)
{
	avro_write_long(out, present ? 1 : 0);
	if (present)
		avro_write_long(out, v);
}

extern int	avro_bytes_begin(StringInfo out);
extern void avro_bytes_end(StringInfo out, int start);
extern void avro_write_decimal(StringInfo out, const char *digits, int fixed_size);
#ifdef HAVE_INT128
extern void avro_write_decimal128(StringInfo out, bool negative, uint128 magnitude,
								  int fixed_size);
#endif

#endif							/* W2A_AVRO_WRITER_H */
