/*-------------------------------------------------------------------------
 *
 * decimal.c
 *		A numeric value as an Avro decimal: its unscaled integer, read from
 *		the numeric's base-10000 digits.
 *
 * The bytes are those numeric_out's text would give: the digits it prints
 * (fraction digits past the display scale are cut, as it cuts them), padded
 * with zeros to the schema's scale.  Values of up to 38 decimal digits are
 * computed in a 128-bit integer from the digits themselves; larger ones, and
 * servers without 128-bit integers, go through the text.  NaN and infinities
 * are their text, in the union's string branch.
 *
 * The numeric's on-disk format is private to utils/adt/numeric.c, but it is
 * an on-disk format: pg_upgrade carries it over unchanged, so it does not
 * move between major versions.  Only the fields read here are described.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * plugin/decimal.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/numeric.h"

#include "avro_writer.h"
#include "compat.h"
#include "decimal.h"

/*
 * The numeric header (utils/adt/numeric.c): a uint16 whose top two bits say
 * the form.  The short form packs sign, display scale and weight into it;
 * the long form has sign and display scale, then an int16 weight.  Base-
 * 10000 digits (int16, most significant first) follow.
 */
#define W2A_NUMERIC_SIGN_MASK		0xC000
#define W2A_NUMERIC_NEG				0x4000
#define W2A_NUMERIC_SPECIAL			0xC000	/* NaN, +Infinity, -Infinity */
#define W2A_NUMERIC_IS_SHORT_HDR	0x8000
#define W2A_NUMERIC_SHORT_SIGN		0x2000
#define W2A_NUMERIC_SHORT_DSCALE	0x1F80
#define W2A_NUMERIC_SHORT_DSCALE_SHIFT 7
#define W2A_NUMERIC_SHORT_WEIGHT_SIGN 0x0040
#define W2A_NUMERIC_SHORT_WEIGHT	0x003F
#define W2A_NUMERIC_DSCALE_MASK		0x3FFF

#define W2A_DEC_DIGITS				4	/* decimal digits per base-10000 digit */

/* The most decimal digits an unscaled value computed in 128 bits may have */
#define W2A_DECIMAL_FAST_DIGITS		38

static bool
numeric_is_special_value(Numeric num)
{
	return numeric_is_nan(num) || W2A_NUMERIC_IS_INF(num);
}

/* Is the value NaN or an infinity?  For the JSON format, which prints text. */
bool
decimal_is_special(Datum value)
{
	return numeric_is_special_value(DatumGetNumeric(value));
}

/* A finite numeric as stored: sign, display scale, weight, digits */
typedef struct NumericDigits
{
	bool		negative;
	int			dscale;			/* decimal digits after the point, as printed */
	int			weight;			/* of the first digit, in powers of 10000 */
	int			ndigits;
	const char *digits;			/* int16 each, maybe unaligned */
} NumericDigits;

/*
 * Read a numeric's header (value: a detoasted varlena, any header).
 * Returns false for NaN and the infinities, and for what is too short to be
 * a numeric.
 */
static bool
read_numeric(const struct varlena *v, NumericDigits *n)
{
	const char *p = VARDATA_ANY(v);
	int			len = VARSIZE_ANY_EXHDR(v);
	uint16		header;

	if (len < (int) sizeof(uint16))
		return false;
	memcpy(&header, p, sizeof(header));
	if ((header & W2A_NUMERIC_SIGN_MASK) == W2A_NUMERIC_SPECIAL)
		return false;
	if (header & W2A_NUMERIC_IS_SHORT_HDR)
	{
		n->negative = (header & W2A_NUMERIC_SHORT_SIGN) != 0;
		n->dscale = (header & W2A_NUMERIC_SHORT_DSCALE) >> W2A_NUMERIC_SHORT_DSCALE_SHIFT;
		n->weight = ((header & W2A_NUMERIC_SHORT_WEIGHT_SIGN) ? ~W2A_NUMERIC_SHORT_WEIGHT : 0) |
			(header & W2A_NUMERIC_SHORT_WEIGHT);
		p += sizeof(uint16);
		len -= sizeof(uint16);
	}
	else
	{
		int16		w;

		if (len < (int) (sizeof(uint16) + sizeof(int16)))
			return false;
		n->negative = (header & W2A_NUMERIC_SIGN_MASK) == W2A_NUMERIC_NEG;
		n->dscale = header & W2A_NUMERIC_DSCALE_MASK;
		memcpy(&w, p + sizeof(uint16), sizeof(w));
		n->weight = w;
		p += sizeof(uint16) + sizeof(int16);
		len -= sizeof(uint16) + sizeof(int16);
	}
	n->digits = p;
	n->ndigits = len / (int) sizeof(int16);
	return true;
}

/* Digit i of the number, 0 past either end */
static inline int
digit_at(const NumericDigits *n, int i)
{
	int16		d;

	if (i < 0 || i >= n->ndigits)
		return 0;
	memcpy(&d, n->digits + i * sizeof(int16), sizeof(d));
	return (uint16) d;
}

/*
 * Append a numeric's text, character for character what numeric_out prints
 * (utils/adt/numeric.c, get_str_from_var): a '-', the integer digits
 * without leading zeros ("0" when there are none), then a point and exactly
 * dscale digits, the last group cut.  For jsonb numbers; NaN and the
 * infinities go through numeric_out itself.
 */
void
decimal_append_text(StringInfo out, struct NumericData *num)
{
	NumericDigits n;
	int			d;
	int			i;
	char	   *cp;
	char	   *endcp;

	if (!read_numeric((const struct varlena *) num, &n))
	{
		appendStringInfoString(out, DatumGetCString(DirectFunctionCall1(numeric_out,
																	  NumericGetDatum(num))));
		return;
	}

	i = (n.weight + 1) * W2A_DEC_DIGITS;
	if (i <= 0)
		i = 1;
	enlargeStringInfo(out, i + n.dscale + W2A_DEC_DIGITS + 2);
	cp = out->data + out->len;
	if (n.negative)
		*cp++ = '-';
	if (n.weight < 0)
	{
		d = n.weight + 1;
		*cp++ = '0';
	}
	else
	{
		for (d = 0; d <= n.weight; d++)
		{
			int			dig = digit_at(&n, d);
			bool		putit = (d > 0);
			int			d1;

			/* in the first digit, no leading zeros */
			d1 = dig / 1000;
			dig -= d1 * 1000;
			putit |= (d1 > 0);
			if (putit)
				*cp++ = d1 + '0';
			d1 = dig / 100;
			dig -= d1 * 100;
			putit |= (d1 > 0);
			if (putit)
				*cp++ = d1 + '0';
			d1 = dig / 10;
			dig -= d1 * 10;
			putit |= (d1 > 0);
			if (putit)
				*cp++ = d1 + '0';
			*cp++ = dig + '0';
		}
	}
	if (n.dscale > 0)
	{
		*cp++ = '.';
		endcp = cp + n.dscale;
		for (i = 0; i < n.dscale; d++, i += W2A_DEC_DIGITS)
		{
			int			dig = digit_at(&n, d);

			*cp++ = dig / 1000 + '0';
			*cp++ = dig / 100 % 10 + '0';
			*cp++ = dig / 10 % 10 + '0';
			*cp++ = dig % 10 + '0';
		}
		cp = endcp;
	}
	out->len = cp - out->data;
	*cp = '\0';
}

/*
 * The display scale without the fraction's trailing zeros (never below 0):
 * 1.50 has 1, 0.000 and 100 have 0.  The digits past the display scale are
 * zeros (a numeric is rounded to it), so the last nonzero decimal digit of
 * the last nonzero base-10000 digit says it.
 */
static int
significant_scale(const NumericDigits *n)
{
	for (int i = n->ndigits - 1; i >= 0; i--)
	{
		int			d = digit_at(n, i);
		int			e;

		if (d == 0)
			continue;
		/* the exponent of d's last decimal digit, then of its last nonzero one */
		e = W2A_DEC_DIGITS * (n->weight - i);
		for (; d % 10 == 0; d /= 10)
			e++;
		return e >= 0 ? 0 : Min(-e, n->dscale);
	}
	return 0;
}

#ifdef HAVE_INT128

static const uint64 pow10_u64[] = {
	UINT64CONST(1), UINT64CONST(10), UINT64CONST(100), UINT64CONST(1000),
	UINT64CONST(10000), UINT64CONST(100000), UINT64CONST(1000000),
	UINT64CONST(10000000), UINT64CONST(100000000), UINT64CONST(1000000000),
	UINT64CONST(10000000000), UINT64CONST(100000000000),
	UINT64CONST(1000000000000), UINT64CONST(10000000000000),
	UINT64CONST(100000000000000), UINT64CONST(1000000000000000),
	UINT64CONST(10000000000000000), UINT64CONST(100000000000000000),
	UINT64CONST(1000000000000000000), UINT64CONST(10000000000000000000)
};

/* 10^e for 0 <= e <= 38 */
static inline uint128
pow10_u128(int e)
{
	if (e < (int) lengthof(pow10_u64))
		return pow10_u64[e];
	return (uint128) pow10_u64[19] * pow10_u64[e - 19];
}

/*
 * The unscaled value of a finite numeric at "scale" (< 0: at its display
 * scale, which *scale_out gets) as sign and magnitude.  Returns false for
 * what the text path is to handle: NaN and infinities, more display digits
 * than "scale" (an error there), and values past 38 decimal digits.
 */
static bool
unscaled_from_digits(Datum value, int scale, int *scale_out, bool *negative,
					 uint128 *magnitude)
{
	NumericDigits n;
	int			int_digits;
	int			i;
	uint128		mag = 0;

	if (!read_numeric(pg_detoast_datum_packed((struct varlena *) DatumGetPointer(value)), &n))
		return false;
	if (scale == DECIMAL_SCALE_SIGNIFICANT)
		n.dscale = significant_scale(&n);
	if (scale < 0)
		scale = n.dscale;
	if (n.dscale > scale)
		return false;
	int_digits = n.weight >= 0 ? (n.weight + 1) * W2A_DEC_DIGITS : 0;
	if (int_digits + scale > W2A_DECIMAL_FAST_DIGITS)
		return false;

	/*
	 * Each digit, times 10000^its weight, at the display scale: the group
	 * the display scale cuts loses its last decimal digits, as numeric_out
	 * prints them, and the digits after it are not printed at all.
	 */
	for (i = 0; i < n.ndigits; i++)
	{
		int			e = W2A_DEC_DIGITS * (n.weight - i) + n.dscale;
		int			d = digit_at(&n, i);

		if (e >= 0)
			mag += (uint128) d * pow10_u128(e);
		else
		{
			if (e > -W2A_DEC_DIGITS)
				mag += d / pow10_u64[-e];
			break;
		}
	}
	*negative = n.negative;
	*magnitude = mag * pow10_u128(scale - n.dscale);
	*scale_out = scale;
	return true;
}
#endif							/* HAVE_INT128 */

/*
 * A numeric's text without the point, padded to "scale" fraction digits;
 * *scale_out gets the scale used (the text's own when scale < 0).
 */
static char *
numeric_unscaled_digits(const char *text, int scale, int *scale_out)
{
	StringInfoData buf;
	const char *point = strchr(text, '.');
	int			frac = point ? (int) strlen(point + 1) : 0;
	const char *p;

	if (scale < 0)
		scale = frac;
	if (frac > scale)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("numeric value \"%s\" has more than %d fraction digits", text, scale)));
	initStringInfo(&buf);
	for (p = text; *p; p++)
	{
		if (*p != '.')
			appendStringInfoChar(&buf, *p);
	}
	for (; frac < scale; frac++)
		appendStringInfoChar(&buf, '0');
	*scale_out = scale;
	return buf.data;
}

/*
 * Write a numeric as the union's decimal branch (at "branch"; < 0: no
 * union index), or as its text in the string branch after it for NaN and
 * infinities.  With scale >= 0 the decimal is a fixed of fixed_size bytes
 * at that scale (decimal(p,s)); with scale < 0 it is a VariableScaleDecimal,
 * a scale then the minimal bytes: the value's display scale with
 * DECIMAL_SCALE_DISPLAY, without the fraction's trailing zeros with
 * DECIMAL_SCALE_SIGNIFICANT (Debezium's, which strips them: 1.50 is 15
 * at scale 1).  ERROR for a value with
 * more fraction digits than a fixed scale, which a numeric(p,s) column does
 * not hold.
 */
void
decimal_write_avro(StringInfo out, Datum value, int scale, int fixed_size, int branch)
{
	Numeric		num;
	char	   *text;
	char	   *digits;
	int			used_scale;

#ifdef HAVE_INT128
	bool		negative;
	uint128		magnitude;

	if (unscaled_from_digits(value, scale, &used_scale, &negative, &magnitude))
	{
		if (branch >= 0)
			avro_write_long(out, branch);
		if (scale < 0)
			avro_write_long(out, used_scale);
		avro_write_decimal128(out, negative, magnitude, scale < 0 ? 0 : fixed_size);
		return;
	}
#endif

	num = DatumGetNumeric(value);
	text = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(num)));
	if (numeric_is_special_value(num))
	{
		if (branch >= 0)
			avro_write_long(out, branch + 1);
		avro_write_string(out, text);
		return;
	}
	if (branch >= 0)
		avro_write_long(out, branch);
	if (scale == DECIMAL_SCALE_SIGNIFICANT && strchr(text, '.') != NULL)
	{
		size_t		len = strlen(text);

		while (text[len - 1] == '0')
			text[--len] = '\0';
		if (text[len - 1] == '.')
			text[--len] = '\0';
	}
	digits = numeric_unscaled_digits(text, scale < 0 ? -1 : scale, &used_scale);
	if (scale < 0)
	{
		avro_write_long(out, used_scale);
		avro_write_decimal(out, digits, 0);
	}
	else
		avro_write_decimal(out, digits, fixed_size);
}
