/*-------------------------------------------------------------------------
 *
 * record.h
 *		A change's key and value records, in Avro (record.c; the json
 *		format is rendered from them).
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * plugin/record.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef W2A_RECORD_H
#define W2A_RECORD_H

#include "access/htup.h"
#include "access/tupdesc.h"
#include "access/xlogdefs.h"
#include "datatype/timestamp.h"
#include "lib/stringinfo.h"

#include "rel_entry.h"
#include "decoding_state.h"

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

extern void record_build_schemas(Wal2AvroData *data, RelSchemaEntry *entry);
extern void record_row_init(W2aRow *row, TupleDesc desc, HeapTuple tuple);
extern bool record_write_key(StringInfo out, Wal2AvroData *data, RelSchemaEntry *entry,
							 W2aRow *newrow, W2aRow *oldrow);
extern void record_write_value(StringInfo out, Wal2AvroData *data, RelSchemaEntry *entry,
							   char op, W2aRow *oldrow, W2aRow *newrow,
							   W2aRow *toast_source, const W2aSource *source);

#endif							/* W2A_RECORD_H */
