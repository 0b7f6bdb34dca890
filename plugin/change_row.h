/*-------------------------------------------------------------------------
 *
 * change_row.h
 *		The rows of one change and where it comes from (W2aRow, W2aSource),
 *		shared by the record writers of both representations (record.c,
 *		debezium_record.c) and by wal2avro.c, which fills them.
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
#include "access/tupdesc.h"
#include "access/xlogdefs.h"
#include "datatype/timestamp.h"

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

#endif							/* W2A_CHANGE_ROW_H */
