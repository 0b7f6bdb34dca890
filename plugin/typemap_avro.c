/*-------------------------------------------------------------------------
 *
 * typemap_avro.c
 *		A column's value as Avro binary, by the type typemap.c described:
 *		the union index of its branch, then the value.
 *
 * Only a composite value asks the type cache for its row type's descriptor
 * of the moment (deform_composite), since the value may be newer than the
 * schema's.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * plugin/typemap_avro.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/detoast.h"
#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"
#include "utils/uuid.h"

#include "avro_writer.h"
#include "compat.h"
#include "decimal.h"
#include "jsonb_text.h"
#include "typemap.h"

static void write_avro_value(StringInfo out, const W2aType *type, Datum value, int branch);

/* Is text in the server encoding already what an Avro string holds? */
static inline bool
text_is_utf8(void)
{
	int			enc = GetDatabaseEncoding();

	return enc == PG_UTF8 || enc == PG_SQL_ASCII;
}

/* Text in the server encoding, as UTF-8 (Avro strings are UTF-8). */
static void
write_avro_text(StringInfo out, const char *str, int len)
{
	if (!text_is_utf8())
	{
		char	   *conv = pg_server_to_any(str, len, PG_UTF8);

		if (conv != str)
		{
			avro_write_bytes(out, conv, strlen(conv));
			return;
		}
	}
	avro_write_bytes(out, str, len);
}

/*
 * A text or bytea value's varlena, not copied when it can be read where it
 * is: decoding hands a TOAST value it reassembled over as an indirect
 * pointer to it, which DatumGetTextPP would copy whole.  Compressed and
 * on-disk values are detoasted as usual.
 */
static struct varlena *
varlena_in_place(Datum value)
{
	struct varlena *v = (struct varlena *) DatumGetPointer(value);

	if (VARATT_IS_EXTERNAL_INDIRECT(v))
	{
		struct varatt_indirect redirect;

		VARATT_EXTERNAL_GET_POINTER(redirect, v);
		v = (struct varlena *) redirect.pointer;
	}
	return pg_detoast_datum_packed(v);
}

/*
 * A finite timestamp as ISO 8601 text in UTC, whatever the session's
 * DateStyle and TimeZone.  buf holds MAXDATELEN + 1 bytes.
 */
void
typemap_timestamp_iso(Timestamp ts, bool with_tz, char *buf)
{
	struct pg_tm tm;
	fsec_t		fsec;

	/* no time zone argument: broken down as UTC */
	if (timestamp2tm(ts, NULL, &tm, &fsec, NULL, NULL) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range")));
	tm.tm_isdst = 0;			/* a known zone: UTC */
	EncodeDateTime(&tm, fsec, with_tz, 0, NULL,
				   USE_ISO_DATES, buf);
}

static void
write_union_index(StringInfo out, int branch)
{
	if (branch >= 0)
		avro_write_long(out, branch);
}

static void
write_uuid_text(char *buf, const pg_uuid_t *uuid)
{
	static const char hex[] = "0123456789abcdef";
	int			i,
				j = 0;

	for (i = 0; i < UUID_LEN; i++)
	{
		if (i == 4 || i == 6 || i == 8 || i == 10)
			buf[j++] = '-';
		buf[j++] = hex[uuid->data[i] >> 4];
		buf[j++] = hex[uuid->data[i] & 0x0F];
	}
	buf[j] = '\0';
}

static void
write_avro_array(StringInfo out, const W2aType *type, Datum value, int branch)
{
	ArrayType  *arr = DatumGetArrayTypeP(value);
	int			ndim = ARR_NDIM(arr);
	Datum	   *elems;
	bool	   *nulls;
	int			n,
				i;
	W2aField	item = {0};

	if (ndim > 1 || (ndim == 1 && ARR_LBOUND(arr)[0] != 1))
	{
		char	   *text = OutputFunctionCall((FmgrInfo *) &type->outfunc, value);

		write_union_index(out, branch + 1);
		write_avro_text(out, text, strlen(text));
		return;
	}
	write_union_index(out, branch);
	deconstruct_array(arr, ARR_ELEMTYPE(arr), type->elmlen, type->elmbyval,
					  type->elmalign, &elems, &nulls, &n);
	item.type = type->elem;
	item.nullable = true;
	if (n > 0)
	{
		avro_write_long(out, n);
		for (i = 0; i < n; i++)
			typemap_field_avro(out, &item, elems[i], nulls[i], false);
	}
	avro_write_long(out, 0);
}

/*
 * heap_deform_tuple, except that a value PostgreSQL refuses to read with
 * this descriptor returns false (with the reason in *why) instead of raising
 * an ERROR that would stop decoding at this change every time it is tried.
 * PostgreSQL refuses a value whose row type was altered incompatibly after
 * the value was made (ERRCODE_DATUM_VERSION_MISMATCH; SELECT refuses it as
 * well), never one of the descriptor's own version: only the others pay for
 * the subtransaction that makes catching the error safe.  Other errors
 * propagate.
 */
static bool
deform_checked(HeapTuple tuple, TupleDesc desc, Datum *values, bool *nulls,
			   char **why)
{
#ifdef W2A_HAVE_VERSIONED_DATUMS
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	ErrorData  *edata = NULL;

	if (!HeapTupleHeaderIsVersionedDatum(tuple->t_data) ||
		HeapTupleHeaderGetVersion(tuple->t_data) == TupleDescGetVersion(desc))
	{
		heap_deform_tuple(tuple, desc, values, nulls);
		return true;
	}
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		heap_deform_tuple(tuple, desc, values, nulls);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
		if (edata->sqlerrcode != ERRCODE_DATUM_VERSION_MISMATCH)
			ReThrowError(edata);
	}
	PG_END_TRY();
	if (edata != NULL)
	{
		*why = edata->message;
		return false;
	}
	return true;
#else
	heap_deform_tuple(tuple, desc, values, nulls);
	return true;
#endif
}

/*
 * A composite value's attributes, in the order of type->fields.
 *
 * The value is deformed with its row type's descriptor as the catalogs (the
 * historic snapshot of the change) describe it now, which PostgreSQL keeps
 * up to date in its type cache, and not with the descriptor the schema was
 * built from: a value is never newer than the catalogs of its change, while
 * the schema's descriptor may be older than the value (PostgreSQL refuses
 * to deform a value with a descriptor older than the value itself).  Older
 * values read fine with the newer descriptor: attributes added since are
 * null.  The schema cache rebuilds the schema when the type changes, so the
 * two descriptors normally agree; should they not, a field whose attribute
 * no longer exists in that form is null rather than misread.  A value
 * PostgreSQL cannot read at all (deform_checked) has every attribute null,
 * with a WARNING.
 */
static void
deform_composite(const W2aType *type, Datum value, Datum *values, bool *nulls)
{
	HeapTupleHeader th = DatumGetHeapTupleHeader(value);
	HeapTupleData tuple;
	TupleDesc	desc;
	Datum	   *all_values;
	bool	   *all_nulls;
	char	   *why = NULL;
	bool		readable;
	int			i;

	desc = lookup_rowtype_tupdesc(HeapTupleHeaderGetTypeId(th),
								  HeapTupleHeaderGetTypMod(th));
	tuple.t_len = HeapTupleHeaderGetDatumLength(th);
	ItemPointerSetInvalid(&tuple.t_self);
	tuple.t_tableOid = InvalidOid;
	tuple.t_data = th;
	all_values = palloc(sizeof(Datum) * Max(desc->natts, 1));
	all_nulls = palloc(sizeof(bool) * Max(desc->natts, 1));
	readable = deform_checked(&tuple, desc, all_values, all_nulls, &why);
	if (!readable)
		ereport(WARNING,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("a value of type %s cannot be read: its attributes are written as null",
						format_type_be(HeapTupleHeaderGetTypeId(th))),
				 errdetail_internal("%s", why)));
	for (i = 0; i < type->nfields; i++)
	{
		const W2aField *f = &type->fields[i];
		Form_pg_attribute att;

		values[i] = (Datum) 0;
		nulls[i] = true;
		if (!readable || f->attno >= desc->natts)
			continue;
		att = TupleDescAttr(desc, f->attno);
		if (att->attisdropped || att->atttypid != f->atttypid)
			continue;
		values[i] = all_values[f->attno];
		nulls[i] = all_nulls[f->attno];
	}
	ReleaseTupleDesc(desc);
}

static void
write_avro_composite(StringInfo out, const W2aType *type, Datum value)
{
	Datum	   *values = palloc(sizeof(Datum) * Max(type->nfields, 1));
	bool	   *nulls = palloc(sizeof(bool) * Max(type->nfields, 1));
	int			i;

	deform_composite(type, value, values, nulls);
	for (i = 0; i < type->nfields; i++)
		typemap_field_avro(out, &type->fields[i], values[i], nulls[i], false);
}

/*
 * Encode a non-null value of "type".  "branch" is the union index of the main
 * type, or -1 when the field is not a union; the string fallback is branch+1.
 */
static void
write_avro_value(StringInfo out, const W2aType *type, Datum value, int branch)
{
	switch (type->kind)
	{
		case W2A_T_BOOL:
			write_union_index(out, branch);
			avro_write_bool(out, DatumGetBool(value));
			break;
		case W2A_T_INT2:
			write_union_index(out, branch);
			avro_write_long(out, DatumGetInt16(value));
			break;
		case W2A_T_INT4:
			write_union_index(out, branch);
			avro_write_long(out, DatumGetInt32(value));
			break;
		case W2A_T_INT8:
			write_union_index(out, branch);
			avro_write_long(out, DatumGetInt64(value));
			break;
		case W2A_T_OID:
			write_union_index(out, branch);
			avro_write_long(out, DatumGetObjectId(value));
			break;
		case W2A_T_FLOAT4:
			write_union_index(out, branch);
			avro_write_float(out, DatumGetFloat4(value));
			break;
		case W2A_T_FLOAT8:
			write_union_index(out, branch);
			avro_write_double(out, DatumGetFloat8(value));
			break;
		case W2A_T_NUMERIC_FIXED:
			decimal_write_avro(out, value, type->scale, type->fixed_size, branch);
			break;
		case W2A_T_NUMERIC_VAR:
			decimal_write_avro(out, value, DECIMAL_SCALE_DISPLAY, 0, branch);
			break;
		case W2A_T_TEXT:
			{
				text	   *t = (text *) varlena_in_place(value);

				write_union_index(out, branch);
				write_avro_text(out, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
			}
			break;
		case W2A_T_NAME:
			{
				const char *s = NameStr(*DatumGetName(value));

				write_union_index(out, branch);
				write_avro_text(out, s, strlen(s));
			}
			break;
		case W2A_T_TEXTOUT:
			if (type->typid == JSONBOID && text_is_utf8())
			{
				/* jsonb_out's text, without its copies */
				write_union_index(out, branch);
				jsonb_text_write_avro(out, value);
			}
			else
			{
				char	   *s = OutputFunctionCall((FmgrInfo *) &type->outfunc, value);

				write_union_index(out, branch);
				write_avro_text(out, s, strlen(s));
			}
			break;
		case W2A_T_BYTEA:
			{
				bytea	   *b = (bytea *) varlena_in_place(value);

				write_union_index(out, branch);
				avro_write_bytes(out, VARDATA_ANY(b), VARSIZE_ANY_EXHDR(b));
			}
			break;
		case W2A_T_DATE:
			{
				DateADT		d = DatumGetDateADT(value);

				write_union_index(out, branch);
				if (DATE_IS_NOBEGIN(d))
					avro_write_long(out, PG_INT32_MIN);
				else if (DATE_IS_NOEND(d))
					avro_write_long(out, PG_INT32_MAX);
				else
					avro_write_long(out, (int64) d + W2A_EPOCH_DAYS);
			}
			break;
		case W2A_T_TIMESTAMP:
		case W2A_T_TIMESTAMPTZ:
			{
				Timestamp	ts = DatumGetTimestamp(value);

				if (TIMESTAMP_IS_NOBEGIN(ts))
				{
					write_union_index(out, branch);
					avro_write_long(out, PG_INT64_MIN);
				}
				else if (TIMESTAMP_IS_NOEND(ts))
				{
					write_union_index(out, branch);
					avro_write_long(out, PG_INT64_MAX);
				}
				else if (ts >= PG_INT64_MAX - W2A_EPOCH_USECS)
				{
					/* past year 294246: no room in Unix microseconds (the max is infinity) */
					char		buf[MAXDATELEN + 1];

					typemap_timestamp_iso(ts, type->kind == W2A_T_TIMESTAMPTZ, buf);
					write_union_index(out, branch + 1);
					avro_write_string(out, buf);
				}
				else
				{
					write_union_index(out, branch);
					avro_write_long(out, ts + W2A_EPOCH_USECS);
				}
			}
			break;
		case W2A_T_TIME:
			write_union_index(out, branch);
			avro_write_long(out, DatumGetTimeADT(value));
			break;
		case W2A_T_TIMETZ:
			{
				TimeTzADT  *t = DatumGetTimeTzADTP(value);

				write_union_index(out, branch);
				avro_write_long(out, t->time);
				avro_write_long(out, -t->zone);
			}
			break;
		case W2A_T_INTERVAL:
			{
				Interval   *iv = DatumGetIntervalP(value);

				if (W2A_INTERVAL_IS_NOBEGIN(iv) || W2A_INTERVAL_IS_NOEND(iv))
				{
					/* no months, days and micros: the string branch */
					write_union_index(out, branch + 1);
					avro_write_string(out, W2A_INTERVAL_IS_NOEND(iv) ? "infinity" : "-infinity");
					break;
				}
				write_union_index(out, branch);
				avro_write_long(out, iv->month);
				avro_write_long(out, iv->day);
				avro_write_long(out, iv->time);
			}
			break;
		case W2A_T_UUID:
			{
				char		buf[UUID_LEN * 2 + 5];

				write_uuid_text(buf, DatumGetUUIDP(value));
				write_union_index(out, branch);
				avro_write_string(out, buf);
			}
			break;
		case W2A_T_ARRAY:
			write_avro_array(out, type, value, branch);
			break;
		case W2A_T_COMPOSITE:
			write_union_index(out, branch);
			write_avro_composite(out, type, value);
			break;
	}
}

/* Index of the Unchanged branch in a toastable field's union */
static int
unchanged_branch(const W2aField *field)
{
	return (field->nullable ? 1 : 0) + 1 + (field->type->has_string_branch ? 1 : 0);
}

/*
 * Encode one field's value (Avro binary): the union index, then the value.
 * "unchanged" marks an unlogged TOASTed value.  ERROR only for a null in a
 * field that cannot hold one, which the schema rules make impossible.
 */
void
typemap_field_avro(StringInfo out, const W2aField *field, Datum value,
				   bool isnull, bool unchanged)
{
	int			branch = -1;

	if (field->nullable)
	{
		if (isnull)
		{
			avro_write_long(out, 0);
			return;
		}
		branch = 1;
	}
	else if (isnull)
		elog(ERROR, "null value for non-nullable field \"%s\"", field->avro_name);
	else if (field->toastable || field->type->has_string_branch)
		branch = 0;

	if (unchanged)
	{
		Assert(field->toastable);
		avro_write_long(out, unchanged_branch(field));
		avro_write_long(out, 0);	/* the enum's only symbol */
		return;
	}
	write_avro_value(out, field->type, value, branch);
}
