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

extern void avro_write_long(StringInfo out, int64 v);
extern void avro_write_bool(StringInfo out, bool v);
extern void avro_write_float(StringInfo out, float4 v);
extern void avro_write_double(StringInfo out, float8 v);
extern void avro_write_bytes(StringInfo out, const char *data, int len);
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
