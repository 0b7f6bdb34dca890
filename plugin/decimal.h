/*-------------------------------------------------------------------------
 *
 * decimal.h
 *		Numeric values as Avro decimals (decimal.c).
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * plugin/decimal.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef W2A_DECIMAL_H
#define W2A_DECIMAL_H

#include "lib/stringinfo.h"

struct NumericData;

extern void decimal_write_avro(StringInfo out, Datum value, int scale, int fixed_size,
							   int branch);
extern bool decimal_is_special(Datum value);
extern void decimal_append_text(StringInfo out, struct NumericData *num);

#endif							/* W2A_DECIMAL_H */
