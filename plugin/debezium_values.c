/*-------------------------------------------------------------------------
 *
 * debezium_values.c
 *		compat=debezium: a column's value as Avro binary in Debezium's
 *		mapping (debezium_typemap.c chooses it): one encoder per kind, the
 *		unavailable-value placeholder, the fallback of a required column.
 *
 * The handling modes' encoders (decimal, money, binary, interval and hstore
 * handling modes other than the defaults) are in debezium_values_modes.c;
 * the table of encoders by kind is here.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * plugin/debezium_values.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

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
#include "debezium_values_internal.h"
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
			debezium_write_binary_text(out, col->kind, ph, sizeof(ph) - 1);
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
	[DBZ_DECIMAL_DOUBLE] = debezium_enc_decimal_double,
	[DBZ_DECIMAL_STRING] = debezium_enc_decimal_string,
	[DBZ_MONEY_DOUBLE] = debezium_enc_money_double,
	[DBZ_MONEY_STRING] = debezium_enc_money_string,
	[DBZ_BASE64] = debezium_enc_binary_text,
	[DBZ_BASE64_URL_SAFE] = debezium_enc_binary_text,
	[DBZ_HEX] = debezium_enc_binary_text,
	[DBZ_CONNECT_DATE] = enc_date,
	[DBZ_CONNECT_TIME] = enc_time_milli,
	[DBZ_CONNECT_TIMESTAMP] = enc_timestamp_milli,
	[DBZ_INTERVAL_STRING] = debezium_enc_interval_string,
	[DBZ_HSTORE_JSON] = debezium_enc_hstore_json,
	[DBZ_HSTORE_MAP] = debezium_enc_hstore_map,
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
