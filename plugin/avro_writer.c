/*-------------------------------------------------------------------------
 *
 * avro_writer.c
 *		Avro binary encoding of primitive values into a StringInfo.
 *
 * Implements the encodings of the Avro 1.11 specification: zig-zag varints
 * for int and long (union indexes and lengths included), little-endian IEEE
 * floats, length-prefixed bytes and strings, and the two's-complement
 * big-endian integer behind the decimal logical type.  No allocation beyond
 * growing the output buffer; nothing here can fail except by running out of
 * memory.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * plugin/avro_writer.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "avro_writer.h"

/* (avro_write_long and avro_write_bytes are inline, in avro_writer.h) */
void
avro_write_bool(StringInfo out, bool v)
{
	appendStringInfoCharMacro(out, v ? 1 : 0);
}

void
avro_write_float(StringInfo out, float4 v)
{
	uint32		bits;
	char		buf[4];

	memcpy(&bits, &v, sizeof(bits));
	buf[0] = (char) bits;
	buf[1] = (char) (bits >> 8);
	buf[2] = (char) (bits >> 16);
	buf[3] = (char) (bits >> 24);
	avro_append(out, buf, 4);
}

void
avro_write_double(StringInfo out, float8 v)
{
	uint64		bits;
	char		buf[8];
	int			i;

	memcpy(&bits, &v, sizeof(bits));
	for (i = 0; i < 8; i++)
		buf[i] = (char) (bits >> (8 * i));
	avro_append(out, buf, 8);
}

void
avro_write_string(StringInfo out, const char *str)
{
	avro_write_bytes(out, str, strlen(str));
}

/* Room for the length of any bytes a StringInfo holds (under 2^30) */
#define AVRO_LENGTH_ROOM	5

/*
 * Bytes (or a string) whose length is known only once they are written:
 * avro_bytes_begin keeps room for the length and returns where the value
 * starts; write the bytes, then avro_bytes_end puts the length in front
 * and moves the bytes up against it.
 */
int
avro_bytes_begin(StringInfo out)
{
	int			start = out->len;

	enlargeStringInfo(out, AVRO_LENGTH_ROOM);
	out->len += AVRO_LENGTH_ROOM;
	return start;
}

void
avro_bytes_end(StringInfo out, int start)
{
	int			len = out->len - start - AVRO_LENGTH_ROOM;
	uint64		z = (uint64) len << 1;	/* zig-zag of a length */
	char		buf[AVRO_LENGTH_ROOM];
	int			n = 0;

	while (z > 0x7F)
	{
		buf[n++] = (char) ((z & 0x7F) | 0x80);
		z >>= 7;
	}
	buf[n++] = (char) z;
	memmove(out->data + start + n, out->data + start + AVRO_LENGTH_ROOM, len);
	memcpy(out->data + start, buf, n);
	out->len = start + n + len;
	out->data[out->len] = '\0';
}

/*
 * Write a decimal's unscaled value.  "digits" is an optional '-' and decimal
 * digits, nothing else (the caller removed the point).  With fixed_size > 0
 * the value fills exactly that many bytes, sign-extended (the caller sized it
 * from the precision); otherwise it is written as Avro bytes of minimal
 * length.
 */
void
avro_write_decimal(StringInfo out, const char *digits, int fixed_size)
{
	bool		negative = false;
	unsigned char *mag;			/* little-endian base-256 magnitude */
	int			nbytes = 1;
	int			cap;
	int			i;
	const char *p = digits;

	if (*p == '-')
	{
		negative = true;
		p++;
	}
	cap = strlen(p) / 2 + 2;	/* log256(10) < 1/2 */
	if (cap < fixed_size)
		cap = fixed_size;
	mag = palloc0(cap);

	for (; *p; p++)
	{
		unsigned int carry = (unsigned int) (*p - '0');

		for (i = 0; i < nbytes; i++)
		{
			unsigned int v = mag[i] * 10 + carry;

			mag[i] = (unsigned char) v;
			carry = v >> 8;
		}
		if (carry)
			mag[nbytes++] = (unsigned char) carry;
	}

	/* room for the sign bit */
	if (mag[nbytes - 1] & 0x80)
		nbytes++;
	if (negative)
	{
		unsigned int carry = 1;

		for (i = 0; i < cap; i++)
		{
			unsigned int v = (unsigned char) ~mag[i] + carry;

			mag[i] = (unsigned char) v;
			carry = v >> 8;
		}
	}

	if (fixed_size > 0)
	{
		Assert(nbytes <= fixed_size);
		nbytes = fixed_size;
	}
	else
	{
		/* drop sign-redundant leading bytes */
		while (nbytes > 1 &&
			   ((mag[nbytes - 1] == 0x00 && !(mag[nbytes - 2] & 0x80)) ||
				(mag[nbytes - 1] == 0xFF && (mag[nbytes - 2] & 0x80))))
			nbytes--;
		avro_write_long(out, nbytes);
	}
	enlargeStringInfo(out, nbytes);
	for (i = nbytes - 1; i >= 0; i--)
		out->data[out->len++] = (char) mag[i];
	out->data[out->len] = '\0';
	pfree(mag);
}

#ifdef HAVE_INT128
/*
 * Write a decimal's unscaled value given as sign and magnitude (below
 * 2^127), with the bytes avro_write_decimal gives for its digits: exactly
 * fixed_size bytes, sign-extended, when fixed_size > 0 (a value too large
 * keeps its low bytes); otherwise Avro bytes of minimal length.
 */
void
avro_write_decimal128(StringInfo out, bool negative, uint128 magnitude, int fixed_size)
{
	uint128		v = negative ? (uint128) 0 - magnitude : magnitude;
	unsigned char be[16];		/* v, big-endian two's complement */
	unsigned char sign = (v >> 127) ? 0xFF : 0x00;
	int			i;
	char	   *p;

	uint64		lo = (uint64) v;
	uint64		hi = (uint64) (v >> 64);

	for (i = 0; i < 8; i++)
	{
		be[15 - i] = (unsigned char) (lo >> (8 * i));
		be[7 - i] = (unsigned char) (hi >> (8 * i));
	}

	if (fixed_size > 0)
	{
		enlargeStringInfo(out, fixed_size);
		p = out->data + out->len;
		for (i = fixed_size - 1; i >= 0; i--)
			*p++ = (char) (i < 16 ? be[15 - i] : sign);
		out->len += fixed_size;
		out->data[out->len] = '\0';
		return;
	}

	/* drop sign-redundant leading bytes */
	i = 0;
	while (i < 15 &&
		   ((be[i] == 0x00 && !(be[i + 1] & 0x80)) ||
			(be[i] == 0xFF && (be[i + 1] & 0x80))))
		i++;
	avro_write_bytes(out, (const char *) be + i, 16 - i);
}
#endif
