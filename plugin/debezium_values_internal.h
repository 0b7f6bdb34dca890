/*-------------------------------------------------------------------------
 *
 * debezium_values_internal.h
 *		What the two files of compat=debezium's value encoders share:
 *		debezium_values.c (the default mapping, the placeholder, the table
 *		of encoders by kind) and debezium_values_modes.c (the handling
 *		modes' encoders).  Nothing else includes it.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * plugin/debezium_values_internal.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef W2A_DEBEZIUM_VALUES_INTERNAL_H
#define W2A_DEBEZIUM_VALUES_INTERNAL_H

#include "avro_writer.h"
#include "debezium.h"

/* Write the union branch of a present value (per value: inline) */
static inline void
write_branch(StringInfo out, const DbzColumn *col)
{
	if (col->optional)
		avro_write_long(out, 1);
}

/* n digits of v, zero-padded, at p; returns the end */
static inline char *
put_digits(char *p, int64 v, int n)
{
	int			i;

	for (i = n - 1; i >= 0; i--)
	{
		p[i] = (char) ('0' + v % 10);
		v /= 10;
	}
	return p + n;
}

/*
 * debezium_values_modes.c: each encoder is a DbzEncodeFn (writes a
 * non-null value, its union branch first; allocates in the current
 * context).  debezium_write_binary_text writes len bytes as Avro bytes in
 * base64, base64-url-safe or hex, by kind (DBZ_BASE64, DBZ_BASE64_URL_SAFE,
 * DBZ_HEX).
 */
extern void debezium_enc_decimal_double(StringInfo out, const DbzColumn *col, Datum value);
extern void debezium_enc_decimal_string(StringInfo out, const DbzColumn *col, Datum value);
extern void debezium_enc_money_double(StringInfo out, const DbzColumn *col, Datum value);
extern void debezium_enc_money_string(StringInfo out, const DbzColumn *col, Datum value);
extern void debezium_write_binary_text(StringInfo out, int kind, const char *bytes, int len);
extern void debezium_enc_binary_text(StringInfo out, const DbzColumn *col, Datum value);
extern void debezium_enc_interval_string(StringInfo out, const DbzColumn *col, Datum value);
extern void debezium_enc_hstore_json(StringInfo out, const DbzColumn *col, Datum value);
extern void debezium_enc_hstore_map(StringInfo out, const DbzColumn *col, Datum value);

#endif							/* W2A_DEBEZIUM_VALUES_INTERNAL_H */
