/*-------------------------------------------------------------------------
 *
 * debezium_values_modes.c
 *		compat=debezium: the encoders of the handling modes other than the
 *		defaults: decimal.handling.mode double and string, money in both,
 *		binary.handling.mode base64, base64-url-safe and hex,
 *		interval.handling.mode=string, hstore.handling.mode json and map.
 *
 * They write what Debezium's converters give, with its quirks: numeric NaN
 * in decimal.handling.mode=string is "NAN" (the Java enum's name), money
 * goes through a double, an hstore is a Java HashMap, so its entries come
 * in HashMap's iteration order.  debezium_values.c holds the table that
 * picks them by kind.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * plugin/debezium_values_modes.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/base64.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/cash.h"
#include "utils/fmgrprotos.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "debezium.h"
#include "debezium_values_internal.h"

/* decimal.handling.mode=double: BigDecimal.doubleValue(), NaN and infinities as such */
void
debezium_enc_decimal_double(StringInfo out, const DbzColumn *col, Datum value)
{
	write_branch(out, col);
	avro_write_double(out, DatumGetFloat8(DirectFunctionCall1(numeric_float8, value)));
}

/*
 * decimal.handling.mode=string: the numeric's text (BigDecimal's
 * toPlainString of it); NaN and the infinities by SpecialValueDecimal's
 * enum names
 */
void
debezium_enc_decimal_string(StringInfo out, const DbzColumn *col, Datum value)
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
void
debezium_enc_money_double(StringInfo out, const DbzColumn *col, Datum value)
{
	char		buf[32];

	write_branch(out, col);
	avro_write_double(out, strtod(money_text(buf, DatumGetCash(value)), NULL));
}

void
debezium_enc_money_string(StringInfo out, const DbzColumn *col, Datum value)
{
	char		buf[32];

	write_branch(out, col);
	avro_write_string(out, money_text(buf, DatumGetCash(value)));
}

/* bytes in binary.handling.mode base64 (padded), base64-url-safe or hex (lower case) */
void
debezium_write_binary_text(StringInfo out, int kind, const char *bytes, int len)
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

void
debezium_enc_binary_text(StringInfo out, const DbzColumn *col, Datum value)
{
	bytea	   *b = DatumGetByteaPP(value);

	write_branch(out, col);
	debezium_write_binary_text(out, col->kind, VARDATA_ANY(b), VARSIZE_ANY_EXHDR(b));
}

/*
 * interval.handling.mode=string: Interval.toIsoString over the parts pgjdbc's
 * PGInterval reads from the text, every part written
 * ("P1Y2M3DT4H5M6.789S", "P0Y1M-1DT0H0M-0.000001S"); 17's infinite
 * intervals as "infinity" and "-infinity", as ZonedTimestamp spells them.
 */
void
debezium_enc_interval_string(StringInfo out, const DbzColumn *col, Datum value)
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
 * then by insertion.  A stated limit (doc/debezium.md): a bucket of 8 or
 * more keys (a tree bin, or an early resize below capacity 64) is not
 * modelled.
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
void
debezium_enc_hstore_json(StringInfo out, const DbzColumn *col, Datum value)
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
void
debezium_enc_hstore_map(StringInfo out, const DbzColumn *col, Datum value)
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
