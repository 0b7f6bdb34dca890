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

/* decimal_write_avro's scale for a VariableScaleDecimal {scale, value} */
#define DECIMAL_SCALE_DISPLAY		(-1)	/* the numeric's display scale */
#define DECIMAL_SCALE_SIGNIFICANT	(-2)	/* that, less trailing fraction zeros */

extern void decimal_write_avro(StringInfo out, Datum value, int scale, int fixed_size,
							   int branch);
extern bool decimal_is_special(Datum value);
extern void decimal_append_text(StringInfo out, struct NumericData *num);

#endif							/* W2A_DECIMAL_H */
