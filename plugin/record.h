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

#include "lib/stringinfo.h"

#include "change_row.h"
#include "decoding_state.h"
#include "rel_entry.h"

extern void record_build_schemas(Wal2AvroData *data, RelSchemaEntry *entry);
extern void record_row_init(W2aRow *row, TupleDesc desc, HeapTuple tuple);
extern bool record_write_key(StringInfo out, Wal2AvroData *data, RelSchemaEntry *entry,
							 W2aRow *newrow, W2aRow *oldrow);
extern void record_write_value(StringInfo out, Wal2AvroData *data, RelSchemaEntry *entry,
							   char op, W2aRow *oldrow, W2aRow *newrow,
							   W2aRow *toast_source, const W2aSource *source);

#endif							/* W2A_RECORD_H */
