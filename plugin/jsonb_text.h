/*-------------------------------------------------------------------------
 *
 * jsonb_text.h
 *		jsonb values as jsonb_out's text, into an Avro string (jsonb_text.c).
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * plugin/jsonb_text.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef W2A_JSONB_TEXT_H
#define W2A_JSONB_TEXT_H

#include "lib/stringinfo.h"

extern void jsonb_text_write_avro(StringInfo out, Datum value);

#endif							/* W2A_JSONB_TEXT_H */
