/*-------------------------------------------------------------------------
 *
 * debezium_values.c
 *		compat=debezium: a column's value as Avro binary in Debezium's
 *		mapping (debezium_typemap.c chooses it): one encoder per kind, the
 *		unavailable-value placeholder, the fallback of a required column.
 *
 * The handling modes' encoders write what Debezium's converters give, with
 * its quirks: numeric NaN in decimal.handling.mode=string is "NAN" (the
 * Java enum's name), money goes through a double, an hstore is a Java
 * HashMap, so its entries come in HashMap's iteration order.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * plugin/debezium_values.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "common/base64.h"
#include "mb/pg_wchar.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/cash.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/fmgrprotos.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"
#include "utils/varbit.h"

#include "compat.h"
#include "debezium.h"
#include "decimal.h"

/*
 * What Debezium's converters give for infinite dates and timestamps
 * (PostgresValueConverter: pgjdbc's DATE_POSITIVE/NEGATIVE_INFINITY taken
 * as microseconds, and the LocalDates -5877611-06-21 and -22)
 */
#define DBZ_TIMESTAMP_POS_INFINITY	INT64CONST(9223372036825200000)
#define DBZ_TIMESTAMP_NEG_INFINITY	INT64CONST(-9223372036832400000)
#define DBZ_DATE_POS_INFINITY		(-2147472693)
#define DBZ_DATE_NEG_INFINITY		(-2147472692)

/* MicroDuration.DAYS_PER_MONTH_AVG */
#define DBZ_DAYS_PER_MONTH			(365.25 / 12.0)

/* Write the union branch of a present value */
static inline void
write_branch(StringInfo out, const DbzColumn *col)
{
	if (col->optional)
		avro_write_long(out, 1);
}

/* Null, or the fallback of a column that cannot be null */
static void
write_null(StringInfo out, const DbzColumn *col)
{
	if (col->optional)
		avro_write_long(out, 0);
	else
		appendBinaryStringInfo(out, col->zero, col->zero_len);
}

/* ------------------------------------------------------------------------
 * Encoders, one per kind
 * ------------------------------------------------------------------------
 */

static void
enc_bool(StringInfo out, const DbzColumn *col, Datum value)
{
	write_branch(out, col);
	avro_write_bool(out, DatumGetBool(value));
}

static void
enc_int16(StringInfo out, const DbzColumn *col, Datum value)
{
	write_branch(out, col);
	avro_write_long(out, DatumGetInt16(value));
}

static void
enc_int32(StringInfo out, const DbzColumn *col, Datum value)
{
	write_branch(out, col);
	avro_write_long(out, DatumGetInt32(value));
}

static void
enc_int64(StringInfo out, const DbzColumn *col, Datum value)
{
	write_branch(out, col);
	avro_write_long(out, DatumGetInt64(value));
}

static void
enc_oid(StringInfo out, const DbzColumn *col, Datum value)
{
	write_branch(out, col);
	avro_write_long(out, DatumGetObjectId(value));
}

static void
enc_float(StringInfo out, const DbzColumn *col, Datum value)
{
	write_branch(out, col);
	avro_write_float(out, DatumGetFloat4(value));
}

static void
enc_double(StringInfo out, const DbzColumn *col, Datum value)
{
	write_branch(out, col);
	avro_write_double(out, DatumGetFloat8(value));
}

/* Types whose Avro is wal2avro's own (strings, bytes, uuid): typemap_avro.c */
static void
enc_plain(StringInfo out, const DbzColumn *col, Datum value)
{
	write_branch(out, col);
	typemap_field_avro(out, &col->plain, value, false, false);
}

/* Decimal: the unscaled value's shortest two's complement; NaN, infinities null */
static void
enc_decimal(StringInfo out, const DbzColumn *col, Datum value)
{
	if (decimal_is_special(value))
	{
		write_null(out, col);
		return;
	}
	write_branch(out, col);
	decimal_write_avro(out, value, col->scale, 0, -1);
}

/*
 * VariableScaleDecimal {scale, value}: Debezium strips the fraction's
 * trailing zeros (1.50 is 15 at scale 1, 100 stays 100 at scale 0)
 */
static void
enc_vsd(StringInfo out, const DbzColumn *col, Datum value)
{
	if (decimal_is_special(value))
	{
		write_null(out, col);
		return;
	}
	write_branch(out, col);
	decimal_write_avro(out, value, DECIMAL_SCALE_SIGNIFICANT, 0, -1);
}

/* An int64 as BigInteger.toByteArray() gives it: shortest big-endian two's complement */
static void
write_int64_bytes(StringInfo out, int64 v)
{
	unsigned char be[8];
	int			i;

	for (i = 0; i < 8; i++)
		be[7 - i] = (unsigned char) ((uint64) v >> (8 * i));
	i = 0;
	while (i < 7 &&
		   ((be[i] == 0x00 && !(be[i + 1] & 0x80)) ||
			(be[i] == 0xFF && (be[i + 1] & 0x80))))
		i++;
	avro_write_bytes(out, (const char *) be + i, 8 - i);
}

static void
enc_money(StringInfo out, const DbzColumn *col, Datum value)
{
	write_branch(out, col);
	write_int64_bytes(out, DatumGetCash(value));
}

static void
enc_date(StringInfo out, const DbzColumn *col, Datum value)
{
	DateADT		d = DatumGetDateADT(value);

	write_branch(out, col);
	if (DATE_IS_NOEND(d))
		avro_write_long(out, DBZ_DATE_POS_INFINITY);
	else if (DATE_IS_NOBEGIN(d))
		avro_write_long(out, DBZ_DATE_NEG_INFINITY);
	else
		avro_write_long(out, (int64) d + W2A_EPOCH_DAYS);
}

/* Unix microseconds of a finite timestamp, or Debezium's infinities */
static int64
timestamp_unix_micros(Timestamp ts)
{
	if (TIMESTAMP_IS_NOEND(ts))
		return DBZ_TIMESTAMP_POS_INFINITY;
	if (TIMESTAMP_IS_NOBEGIN(ts))
		return DBZ_TIMESTAMP_NEG_INFINITY;
	return ts + W2A_EPOCH_USECS;
}

static void
enc_timestamp_micro(StringInfo out, const DbzColumn *col, Datum value)
{
	write_branch(out, col);
	avro_write_long(out, timestamp_unix_micros(DatumGetTimestamp(value)));
}

static void
enc_timestamp_milli(StringInfo out, const DbzColumn *col, Datum value)
{
	int64		us = timestamp_unix_micros(DatumGetTimestamp(value));

	/* floor division; the infinities too (Debezium's milliseconds of them) */
	write_branch(out, col);
	avro_write_long(out, us >= 0 ? us / 1000 : -((-us + 999) / 1000));
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
 * A fraction of a second in microseconds as java.time prints it: exactly
 * "width" digits (nanoseconds past the sixth are zeros), or with width 0
 * as few as it takes (none for 0).  Returns the end.
 */
static char *
put_fraction(char *p, int64 usecs, int width)
{
	char		digits[6];
	int			n;

	put_digits(digits, usecs, 6);
	if (width > 0)
	{
		*p++ = '.';
		for (n = 0; n < width; n++)
			*p++ = n < 6 ? digits[n] : '0';
		return p;
	}
	if (usecs == 0)
		return p;
	for (n = 6; n > 0 && digits[n - 1] == '0'; n--)
		;
	*p++ = '.';
	memcpy(p, digits, n);
	return p + n;
}

/* ISO_LOCAL_DATE's year: four digits at least, a sign outside 0..9999 */
static char *
put_iso_year(char *p, int year)
{
	if (year >= 0 && year <= 9999)
		return put_digits(p, year, 4);
	*p++ = year < 0 ? '-' : '+';
	if (year < 0)
		year = -year;
	return p + sprintf(p, "%04d", year);
}

/*
 * ZonedTimestamp: ISO-8601 in UTC, "infinity" and "-infinity" as such;
 * formatted by hand into a stack buffer (it runs for every value).
 */
static void
enc_zoned_timestamp(StringInfo out, const DbzColumn *col, Datum value)
{
	TimestampTz ts = DatumGetTimestampTz(value);
	char		buf[64];
	char	   *p = buf;
	struct pg_tm tm;
	fsec_t		fsec;

	write_branch(out, col);
	if (TIMESTAMP_IS_NOEND(ts))
	{
		avro_write_string(out, "infinity");
		return;
	}
	if (TIMESTAMP_IS_NOBEGIN(ts))
	{
		avro_write_string(out, "-infinity");
		return;
	}
	if (timestamp2tm(ts, NULL, &tm, &fsec, NULL, NULL) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range")));
	/* tm_year is astronomical: 0 is 1 BC, as in java.time */
	p = put_iso_year(p, tm.tm_year);
	*p++ = '-';
	p = put_digits(p, tm.tm_mon, 2);
	*p++ = '-';
	p = put_digits(p, tm.tm_mday, 2);
	*p++ = 'T';
	p = put_digits(p, tm.tm_hour, 2);
	*p++ = ':';
	p = put_digits(p, tm.tm_min, 2);
	*p++ = ':';
	p = put_digits(p, tm.tm_sec, 2);
	p = put_fraction(p, fsec, col->width);
	*p++ = 'Z';
	avro_write_bytes(out, buf, p - buf);
}

static void
enc_time_micro(StringInfo out, const DbzColumn *col, Datum value)
{
	write_branch(out, col);
	avro_write_long(out, DatumGetTimeADT(value));
}

static void
enc_time_milli(StringInfo out, const DbzColumn *col, Datum value)
{
	write_branch(out, col);
	avro_write_long(out, DatumGetTimeADT(value) / 1000);
}

/* ZonedTime: the time in UTC, ISO_OFFSET_TIME ("10:00:00Z", "10:00:00.5Z") */
static void
enc_zoned_time(StringInfo out, const DbzColumn *col, Datum value)
{
	TimeTzADT  *t = DatumGetTimeTzADTP(value);
	int64		us = (t->time + (int64) t->zone * USECS_PER_SEC) % USECS_PER_DAY;
	char		buf[32];
	char	   *p = buf;

	if (us < 0)
		us += USECS_PER_DAY;
	p = put_digits(p, us / USECS_PER_HOUR, 2);
	*p++ = ':';
	p = put_digits(p, us / USECS_PER_MINUTE % 60, 2);
	*p++ = ':';
	p = put_digits(p, us / USECS_PER_SEC % 60, 2);
	p = put_fraction(p, us % USECS_PER_SEC, 0);
	*p++ = 'Z';
	write_branch(out, col);
	avro_write_bytes(out, buf, p - buf);
}

/*
 * MicroDuration.durationMicros over the parts pgjdbc's PGInterval reads
 * from the interval's text, in doubles, cast to long as Java casts
 * (saturating; NaN is 0).  17's infinite intervals, which PGInterval cannot
 * read, are the long's max and min, as saturation gives the largest ones.
 */
static void
enc_interval(StringInfo out, const DbzColumn *col, Datum value)
{
	Interval   *iv = DatumGetIntervalP(value);
	int			years = iv->month / MONTHS_PER_YEAR;
	int			months = iv->month % MONTHS_PER_YEAR;
	int64		t = iv->time;
	int64		hours = t / USECS_PER_HOUR;
	int64		minutes = (t / USECS_PER_MINUTE) % 60;
	double		seconds = (double) ((t / USECS_PER_SEC) % 60) +
		(double) (t % USECS_PER_SEC) / 1e6;
	double		days_total;
	double		secs_total;
	double		us;
	int64		result;

	if (W2A_INTERVAL_IS_NOEND(iv) || W2A_INTERVAL_IS_NOBEGIN(iv))
	{
		write_branch(out, col);
		avro_write_long(out, W2A_INTERVAL_IS_NOEND(iv) ? PG_INT64_MAX : PG_INT64_MIN);
		return;
	}
	days_total = (double) (years * 12 + months) * DBZ_DAYS_PER_MONTH + (double) iv->day;
	secs_total = ((days_total * 24.0 + (double) hours) * 60.0 + (double) minutes) * 60.0 + seconds;
	us = secs_total * 1e6;
	if (isnan(us))
		result = 0;
	else if (us >= 9223372036854775807.0)
		result = PG_INT64_MAX;
	else if (us <= -9223372036854775808.0)
		result = PG_INT64_MIN;
	else
		result = (int64) us;
	write_branch(out, col);
	avro_write_long(out, result);
}

/*
 * io.debezium.data.Bits: the bit string as a number, its last bit the
 * least significant, in BitSet.toByteArray()'s little-endian bytes
 * without the high zero bytes.
 */
static void
enc_bits(StringInfo out, const DbzColumn *col, Datum value)
{
	VarBit	   *vb = DatumGetVarBitP(value);
	int			nbits = VARBITLEN(vb);
	const bits8 *src = VARBITS(vb);
	int			nbytes = (nbits + 7) / 8;
	unsigned char *le = palloc0(Max(nbytes, 1));
	int			used = 0;
	int			i;

	for (i = 0; i < nbits; i++)
	{
		int			pos = nbits - 1 - i;	/* the bit of weight 2^i */

		if (src[pos / 8] & (0x80 >> (pos % 8)))
		{
			le[i / 8] |= (unsigned char) (1 << (i % 8));
			used = i / 8 + 1;
		}
	}
	write_branch(out, col);
	avro_write_bytes(out, (const char *) le, used);
	pfree(le);
}

/* bit(1): a boolean */
static void
enc_bit_bool(StringInfo out, const DbzColumn *col, Datum value)
{
	VarBit	   *vb = DatumGetVarBitP(value);

	write_branch(out, col);
	avro_write_bool(out, VARBITLEN(vb) > 0 && (VARBITS(vb)[0] & 0x80) != 0);
}

/* An array: its elements in storage order (Debezium reads one dimension) */
static void
enc_array(StringInfo out, const DbzColumn *col, Datum value)
{
	ArrayType  *arr = DatumGetArrayTypeP(value);
	const W2aType *type = col->field->type;
	Datum	   *elems;
	bool	   *nulls;
	int			n,
				i;

	deconstruct_array(arr, ARR_ELEMTYPE(arr), type->elmlen, type->elmbyval,
					  type->elmalign, &elems, &nulls, &n);
	write_branch(out, col);
	if (n > 0)
	{
		avro_write_long(out, n);
		for (i = 0; i < n; i++)
			debezium_typemap_value(out, col->elem, elems[i], nulls[i], false);
	}
	avro_write_long(out, 0);
}

/* ------------------------------------------------------------------------
 * Encoders of the handling modes
 * ------------------------------------------------------------------------
 */

/* decimal.handling.mode=double: BigDecimal.doubleValue(), NaN and infinities as such */
static void
enc_decimal_double(StringInfo out, const DbzColumn *col, Datum value)
{
	write_branch(out, col);
	avro_write_double(out, DatumGetFloat8(DirectFunctionCall1(numeric_float8, value)));
}

/*
 * decimal.handling.mode=string: the numeric's text (BigDecimal's
 * toPlainString of it); NaN and the infinities by SpecialValueDecimal's
 * enum names
 */
static void
enc_decimal_string(StringInfo out, const DbzColumn *col, Datum value)
{
	Numeric		num = DatumGetNumeric(value);
	char	   *text = DatumGetCString(DirectFunctionCall1(numeric_out, value));

	write_branch(out, col);
	if (numeric_is_nan(num))
		avro_write_string(out, "NAN");
	else if (W2A_NUMERIC_IS_INF(num))
		avro_write_string(out, text[0] == '-' ? "NEGATIVE_INFINITY" : "POSITIVE_INFINITY");
	else
		avro_write_string(out, text);
	pfree(text);
}

/* money as a plain decimal of two fraction digits ("-12.34"); returns buf */
static char *
money_text(char *buf, Cash c)
{
	uint64		u = c < 0 ? -(uint64) c : (uint64) c;

	sprintf(buf, "%s" UINT64_FORMAT ".%02d", c < 0 ? "-" : "", u / 100, (int) (u % 100));
	return buf;
}

/* money in mode double: pgjdbc's PGmoney parses the text into a double */
static void
enc_money_double(StringInfo out, const DbzColumn *col, Datum value)
{
	char		buf[32];

	write_branch(out, col);
	avro_write_double(out, strtod(money_text(buf, DatumGetCash(value)), NULL));
}

static void
enc_money_string(StringInfo out, const DbzColumn *col, Datum value)
{
	char		buf[32];

	write_branch(out, col);
	avro_write_string(out, money_text(buf, DatumGetCash(value)));
}

/* bytes in binary.handling.mode base64 (padded), base64-url-safe or hex (lower case) */
static void
write_binary_text(StringInfo out, int kind, const char *bytes, int len)
{
	char	   *text;
	int			n;

	if (kind == DBZ_HEX)
	{
		text = palloc(len * 2 + 1);
		n = (int) hex_encode(bytes, len, text);
	}
	else
	{
		int			i;

		text = palloc(pg_b64_enc_len(len) + 1);
		n = W2A_B64_ENCODE(bytes, len, text, pg_b64_enc_len(len));
		if (n < 0)
			elog(ERROR, "could not encode %d bytes in base64", len);
		for (i = 0; kind == DBZ_BASE64_URL_SAFE && i < n; i++)
		{
			if (text[i] == '+')
				text[i] = '-';
			else if (text[i] == '/')
				text[i] = '_';
		}
	}
	avro_write_bytes(out, text, n);
	pfree(text);
}

static void
enc_binary_text(StringInfo out, const DbzColumn *col, Datum value)
{
	bytea	   *b = DatumGetByteaPP(value);

	write_branch(out, col);
	write_binary_text(out, col->kind, VARDATA_ANY(b), VARSIZE_ANY_EXHDR(b));
}

/*
 * interval.handling.mode=string: Interval.toIsoString over the parts pgjdbc's
 * PGInterval reads from the text, every part written
 * ("P1Y2M3DT4H5M6.789S", "P0Y1M-1DT0H0M-0.000001S"); 17's infinite
 * intervals as "infinity" and "-infinity", as ZonedTimestamp spells them.
 */
static void
enc_interval_string(StringInfo out, const DbzColumn *col, Datum value)
{
	Interval   *iv = DatumGetIntervalP(value);
	int64		t = iv->time;
	int64		sec_us = t % USECS_PER_MINUTE;	/* the seconds, sign of t */
	uint64		abs_us = sec_us < 0 ? -(uint64) sec_us : (uint64) sec_us;
	StringInfoData buf;

	if (W2A_INTERVAL_IS_NOEND(iv) || W2A_INTERVAL_IS_NOBEGIN(iv))
	{
		write_branch(out, col);
		avro_write_string(out, W2A_INTERVAL_IS_NOEND(iv) ? "infinity" : "-infinity");
		return;
	}
	initStringInfo(&buf);
	appendStringInfo(&buf, "P%dY%dM%dDT" INT64_FORMAT "H" INT64_FORMAT "M",
					 iv->month / MONTHS_PER_YEAR, iv->month % MONTHS_PER_YEAR, iv->day,
					 t / USECS_PER_HOUR, (t / USECS_PER_MINUTE) % 60);
	if (sec_us < 0)
		appendStringInfoChar(&buf, '-');
	appendStringInfo(&buf, UINT64_FORMAT, abs_us / USECS_PER_SEC);
	if (abs_us % USECS_PER_SEC != 0)
	{
		char		frac[8];
		int			n = 6;

		put_digits(frac, abs_us % USECS_PER_SEC, 6);
		while (frac[n - 1] == '0')
			n--;
		appendStringInfoChar(&buf, '.');
		appendBinaryStringInfo(&buf, frac, n);
	}
	appendStringInfoChar(&buf, 'S');
	write_branch(out, col);
	avro_write_bytes(out, buf.data, buf.len);
	pfree(buf.data);
}

/* One hstore entry: key and value (NULL for an SQL NULL), UTF-8 */
typedef struct HstoreEntry
{
	char	   *key;
	char	   *value;
	int			bucket;			/* its bucket in Java's HashMap */
	int			order;			/* its place in the hstore's text */
} HstoreEntry;

/* A quoted hstore string at *p (backslash escapes), unquoted; advances *p */
static char *
hstore_token(const char **p)
{
	StringInfoData buf;
	const char *s = *p;

	if (*s != '"')
		elog(ERROR, "unexpected hstore text at \"%s\"", s);
	initStringInfo(&buf);
	for (s++; *s && *s != '"'; s++)
	{
		if (*s == '\\' && s[1])
			s++;
		appendStringInfoChar(&buf, *s);
	}
	if (*s != '"')
		elog(ERROR, "unterminated string in hstore text");
	*p = s + 1;
	return buf.data;
}

/* Java's String.hashCode over the UTF-16 of a UTF-8 string */
static int32
java_string_hash(const char *s)
{
	const unsigned char *p = (const unsigned char *) s;
	uint32		h = 0;

	while (*p)
	{
		int			len = pg_utf_mblen(p);
		pg_wchar	c = utf8_to_unicode(p);

		if (c >= 0x10000)
		{
			h = 31 * h + (0xD800 + ((c - 0x10000) >> 10));
			h = 31 * h + (0xDC00 + ((c - 0x10000) & 0x3FF));
		}
		else
			h = 31 * h + c;
		p += len;
	}
	return (int32) h;
}

static int
hstore_entry_cmp(const void *a, const void *b)
{
	const HstoreEntry *x = a;
	const HstoreEntry *y = b;

	if (x->bucket != y->bucket)
		return x->bucket < y->bucket ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/*
 * The entries of an hstore value in the order Debezium writes them: pgjdbc's
 * HStoreConverter puts them into a HashMap in the text's order, and its
 * iteration order is by bucket ((h ^ h >>> 16) & (capacity - 1), the
 * capacity a power of two from 16 that keeps the load at 0.75 at most),
 * then by insertion.  XXX a bucket of 8 or more keys (a tree bin, or an
 * early resize below capacity 64) is not modelled.
 */
static HstoreEntry *
hstore_entries(const DbzColumn *col, Datum value, int *count)
{
	char	   *text = OutputFunctionCall((FmgrInfo *) &col->field->type->outfunc, value);
	const char *p;
	int			n = 0;
	int			cap = 16;
	int			alloc = 8;
	HstoreEntry *e = palloc(sizeof(HstoreEntry) * alloc);
	int			i;

	if (GetDatabaseEncoding() != PG_UTF8)
		text = pg_server_to_any(text, strlen(text), PG_UTF8);
	p = text;
	for (;;)
	{
		while (*p == ' ' || *p == ',')
			p++;
		if (*p == '\0')
			break;
		if (n == alloc)
		{
			alloc *= 2;
			e = repalloc(e, sizeof(HstoreEntry) * alloc);
		}
		e[n].key = hstore_token(&p);
		if (strncmp(p, "=>", 2) != 0)
			elog(ERROR, "unexpected hstore text at \"%s\"", p);
		p += 2;
		if (strncmp(p, "NULL", 4) == 0)
		{
			e[n].value = NULL;
			p += 4;
		}
		else
			e[n].value = hstore_token(&p);
		e[n].order = n;
		n++;
	}
	while (n > cap / 4 * 3)
		cap *= 2;
	for (i = 0; i < n; i++)
	{
		uint32		h = (uint32) java_string_hash(e[i].key);

		e[i].bucket = (int) ((h ^ (h >> 16)) & (uint32) (cap - 1));
	}
	qsort(e, n, sizeof(HstoreEntry), hstore_entry_cmp);
	*count = n;
	return e;
}

/* A JSON string as Jackson's generator writes it */
static void
append_jackson_string(StringInfo buf, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	appendStringInfoChar(buf, '"');
	for (; *s; s++)
	{
		unsigned char c = (unsigned char) *s;

		switch (c)
		{
			case '"':
				appendStringInfoString(buf, "\\\"");
				break;
			case '\\':
				appendStringInfoString(buf, "\\\\");
				break;
			case '\b':
				appendStringInfoString(buf, "\\b");
				break;
			case '\t':
				appendStringInfoString(buf, "\\t");
				break;
			case '\f':
				appendStringInfoString(buf, "\\f");
				break;
			case '\n':
				appendStringInfoString(buf, "\\n");
				break;
			case '\r':
				appendStringInfoString(buf, "\\r");
				break;
			default:
				if (c < 0x20)
					appendStringInfo(buf, "\\u00%c%c", hex[c >> 4], hex[c & 15]);
				else
					appendStringInfoChar(buf, (char) c);
		}
	}
	appendStringInfoChar(buf, '"');
}

/* hstore.handling.mode=json: {"k":"v","n":null}, HashMap's order */
static void
enc_hstore_json(StringInfo out, const DbzColumn *col, Datum value)
{
	int			n;
	HstoreEntry *e = hstore_entries(col, value, &n);
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	for (i = 0; i < n; i++)
	{
		if (i > 0)
			appendStringInfoChar(&buf, ',');
		append_jackson_string(&buf, e[i].key);
		appendStringInfoChar(&buf, ':');
		if (e[i].value)
			append_jackson_string(&buf, e[i].value);
		else
			appendStringInfoString(&buf, "null");
	}
	appendStringInfoChar(&buf, '}');
	write_branch(out, col);
	avro_write_bytes(out, buf.data, buf.len);
}

/* hstore.handling.mode=map: an Avro map of ["null", "string"], HashMap's order */
static void
enc_hstore_map(StringInfo out, const DbzColumn *col, Datum value)
{
	int			n;
	HstoreEntry *e = hstore_entries(col, value, &n);
	int			i;

	write_branch(out, col);
	if (n > 0)
	{
		avro_write_long(out, n);
		for (i = 0; i < n; i++)
		{
			avro_write_string(out, e[i].key);
			if (e[i].value)
			{
				avro_write_long(out, 1);
				avro_write_string(out, e[i].value);
			}
			else
				avro_write_long(out, 0);
		}
	}
	avro_write_long(out, 0);
}

/* ------------------------------------------------------------------------
 * Values
 * ------------------------------------------------------------------------
 */

/* The unavailable-value placeholder, in the form the column's type takes */
static void
write_placeholder(StringInfo out, const DbzColumn *col)
{
	static const char ph[] = DBZ_UNAVAILABLE_VALUE;
	int			i;

	if (col->placeholder == DBZ_PH_NULL)
	{
		write_null(out, col);
		return;
	}
	write_branch(out, col);
	switch (col->placeholder)
	{
		case DBZ_PH_NULL:
			break;
		case DBZ_PH_STRING:
		case DBZ_PH_BYTES:
			avro_write_bytes(out, ph, sizeof(ph) - 1);
			break;
		case DBZ_PH_BYTES_TEXT:
			write_binary_text(out, col->kind, ph, sizeof(ph) - 1);
			break;
		case DBZ_PH_STRING_ARRAY:
		case DBZ_PH_BYTES_ARRAY:
			avro_write_long(out, 1);
			write_branch(out, col->elem);
			avro_write_bytes(out, ph, sizeof(ph) - 1);
			avro_write_long(out, 0);
			break;
		case DBZ_PH_INT_ARRAY:
			avro_write_long(out, sizeof(ph) - 1);
			for (i = 0; i < (int) sizeof(ph) - 1; i++)
			{
				write_branch(out, col->elem);
				avro_write_long(out, (unsigned char) ph[i]);
			}
			avro_write_long(out, 0);
			break;
	}
}

/*
 * Encode one column's value in Debezium's mapping: the union branch, then
 * the value.  "unchanged" marks an unlogged TOAST value, written as the
 * placeholder.  A null in a column Debezium declares non-optional (a
 * NOT NULL column PostgreSQL did not log, as in the old row of a delete)
 * is Debezium's fallback for the type.  Allocates in the current context.
 */
void
debezium_typemap_value(StringInfo out, const DbzColumn *col, Datum value,
					   bool isnull, bool unchanged)
{
	if (unchanged)
		write_placeholder(out, col);
	else if (isnull)
		write_null(out, col);
	else
		col->encode(out, col, value);
}


/* ------------------------------------------------------------------------
 * Chosen once per column (debezium_typemap_build)
 * ------------------------------------------------------------------------
 */

static const DbzEncodeFn encoders[] = {
	[DBZ_BOOL] = enc_bool,
	[DBZ_INT16] = enc_int16,
	[DBZ_INT32] = enc_int32,
	[DBZ_INT64] = enc_int64,
	[DBZ_OID] = enc_oid,
	[DBZ_FLOAT] = enc_float,
	[DBZ_DOUBLE] = enc_double,
	[DBZ_DECIMAL] = enc_decimal,
	[DBZ_VSD] = enc_vsd,
	[DBZ_MONEY] = enc_money,
	[DBZ_STRING] = enc_plain,
	[DBZ_JSON] = enc_plain,
	[DBZ_XML] = enc_plain,
	[DBZ_TSVECTOR] = enc_plain,
	[DBZ_ENUM] = enc_plain,
	[DBZ_BYTES] = enc_plain,
	[DBZ_DATE] = enc_date,
	[DBZ_TIMESTAMP_MILLI] = enc_timestamp_milli,
	[DBZ_TIMESTAMP_MICRO] = enc_timestamp_micro,
	[DBZ_ZONED_TIMESTAMP] = enc_zoned_timestamp,
	[DBZ_TIME_MILLI] = enc_time_milli,
	[DBZ_TIME_MICRO] = enc_time_micro,
	[DBZ_ZONED_TIME] = enc_zoned_time,
	[DBZ_INTERVAL] = enc_interval,
	[DBZ_UUID] = enc_plain,
	[DBZ_BITS] = enc_bits,
	[DBZ_BIT_BOOL] = enc_bit_bool,
	[DBZ_ARRAY] = enc_array,
	[DBZ_DECIMAL_DOUBLE] = enc_decimal_double,
	[DBZ_DECIMAL_STRING] = enc_decimal_string,
	[DBZ_MONEY_DOUBLE] = enc_money_double,
	[DBZ_MONEY_STRING] = enc_money_string,
	[DBZ_BASE64] = enc_binary_text,
	[DBZ_BASE64_URL_SAFE] = enc_binary_text,
	[DBZ_HEX] = enc_binary_text,
	[DBZ_CONNECT_DATE] = enc_date,
	[DBZ_CONNECT_TIME] = enc_time_milli,
	[DBZ_CONNECT_TIMESTAMP] = enc_timestamp_milli,
	[DBZ_INTERVAL_STRING] = enc_interval_string,
	[DBZ_HSTORE_JSON] = enc_hstore_json,
	[DBZ_HSTORE_MAP] = enc_hstore_map,
};

/* The encoder of a kind (DbzKind).  Cannot fail. */
DbzEncodeFn
debezium_typemap_encoder(int kind)
{
	Assert(kind >= 0 && kind < (int) lengthof(encoders) && encoders[kind] != NULL);
	return encoders[kind];
}

/* The fallback's Avro bytes: Debezium's value for a required column without one */
/* Cannot fail; allocates in the current memory context. */
void
debezium_typemap_set_zero(DbzColumn *col)
{
	static const char zero8[8] = {0};
	StringInfoData buf;

	initStringInfo(&buf);
	switch ((DbzKind) col->kind)
	{
		case DBZ_FLOAT:
			appendBinaryStringInfo(&buf, zero8, 4);
			break;
		case DBZ_DOUBLE:
		case DBZ_DECIMAL_DOUBLE:
		case DBZ_MONEY_DOUBLE:
			appendBinaryStringInfo(&buf, zero8, 8);
			break;
		case DBZ_DECIMAL_STRING:
			{
				/* BigDecimal.ZERO at the column's scale: "0", "0.0", ... */
				StringInfoData z;
				int			i;

				initStringInfo(&z);
				appendStringInfoString(&z, col->scale > 0 ? "0." : "0");
				for (i = 0; i < col->scale; i++)
					appendStringInfoChar(&z, '0');
				avro_write_bytes(&buf, z.data, z.len);
				break;
			}
		case DBZ_MONEY_STRING:
			avro_write_string(&buf, "0.00");
			break;
		case DBZ_INTERVAL_STRING:
			avro_write_string(&buf, "P0Y0M0DT0H0M0S");
			break;
		case DBZ_HSTORE_JSON:
			avro_write_string(&buf, "{}");
			break;
		case DBZ_DECIMAL:
		case DBZ_MONEY:
			write_int64_bytes(&buf, 0);
			break;
		case DBZ_VSD:
			avro_write_long(&buf, 0);
			write_int64_bytes(&buf, 0);
			break;
		case DBZ_ZONED_TIMESTAMP:
			avro_write_string(&buf, "1970-01-01T00:00:00Z");
			break;
		case DBZ_ZONED_TIME:
			avro_write_string(&buf, "00:00:00Z");
			break;
		default:
			/* 0, false, "", empty bytes, an empty array: one zero byte */
			avro_write_long(&buf, 0);
			break;
	}
	col->zero = buf.data;
	col->zero_len = buf.len;
}
