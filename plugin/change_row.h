/*-------------------------------------------------------------------------
 *
 * change_row.h
 *		The rows of one change and where it comes from (W2aRow, W2aSource),
 *		shared by the record writers of both representations (record.c,
 *		debezium_record.c) and by wal2avro.c, which fills them; and the
 *		few inline functions both writers read a row with.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * plugin/change_row.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef W2A_CHANGE_ROW_H
#define W2A_CHANGE_ROW_H

#include "access/htup.h"
#include "access/htup_details.h"
#include "access/tupdesc.h"
#include "access/xlogdefs.h"
#include "datatype/timestamp.h"

#include "compat.h"

/* Where a change comes from: the Source record and the flat __ fields */
typedef struct W2aSource
{
	const char *snapshot;		/* Source.snapshot: "false" when streamed,
								 * "first", "true" or "last" in a snapshot */
	TransactionId xid;			/* txId; InvalidTransactionId writes null */
	XLogRecPtr	lsn;			/* lsn; InvalidXLogRecPtr writes null (__lsn 0) */
	TimestampTz time;			/* ts_ms: commit time, or when a snapshot read it */
} W2aSource;

/*
 * One row of a change: its tuple, deformed on first use and then shared by
 * everything that reads the change (key_changed, the key, before, after,
 * the old row an unlogged TOAST value is taken from).
 */
typedef struct W2aRow
{
	HeapTuple	tuple;
	TupleDesc	desc;
	Datum	   *values;			/* NULL until deformed */
	bool	   *nulls;
} W2aRow;

/* Is there a row?  The caller may pass none (NULL) or an empty one. */
static inline bool
row_present(const W2aRow *row)
{
	return row != NULL && row->tuple != NULL;
}

/* Deform the row the first time anyone reads it; allocates in the current context */
static inline void
row_deform(W2aRow *row)
{
	if (row->values != NULL)
		return;
	row->values = palloc(sizeof(Datum) * row->desc->natts);
	row->nulls = palloc(sizeof(bool) * row->desc->natts);
	heap_deform_tuple(row->tuple, row->desc, row->values, row->nulls);
}

/*
 * The value of key column attno (desc's) in a change: the new row's
 * (deformed by the caller), unless PostgreSQL left it there as an unlogged
 * TOAST pointer, then the old row's (deformed here).  A value still
 * unlogged is null in a column that may be null (a key column chosen with
 * key-columns).  Returns false when neither row has it and the column
 * cannot be null: the change carries no key.  Per key column: inline.
 */
static inline bool
row_key_value(W2aRow *newrow, W2aRow *oldrow, TupleDesc desc, int attno,
			  bool nullable, Datum *value, bool *isnull)
{
	bool		new_usable = false;

	*value = 0;
	*isnull = true;
	if (row_present(newrow))
		new_usable = newrow->nulls[attno] ||
			TupleDescAttr(desc, attno)->attlen != -1 ||
			!VARATT_IS_EXTERNAL_ONDISK(DatumGetPointer(newrow->values[attno]));
	if (new_usable)
	{
		*value = newrow->values[attno];
		*isnull = newrow->nulls[attno];
	}
	else if (row_present(oldrow))
	{
		row_deform(oldrow);
		*value = oldrow->values[attno];
		*isnull = oldrow->nulls[attno];
	}
	else if (!nullable)
		return false;
	if (!*isnull && nullable &&
		TupleDescAttr(desc, attno)->attlen == -1 &&
		VARATT_IS_EXTERNAL_ONDISK(DatumGetPointer(*value)))
		*isnull = true;
	return true;
}

#endif							/* W2A_CHANGE_ROW_H */
