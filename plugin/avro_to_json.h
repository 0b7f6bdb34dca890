/*-------------------------------------------------------------------------
 *
 * avro_to_json.h
 *		The json format, rendered from the Avro record and its schema
 *		(avro_to_json.c).
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * plugin/avro_to_json.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef W2A_AVRO_TO_JSON_H
#define W2A_AVRO_TO_JSON_H

#include "lib/stringinfo.h"

typedef struct AvroJsonNode AvroJsonNode;

extern AvroJsonNode *avro_json_compile(const char *schema);
extern void avro_json_write(StringInfo out, const AvroJsonNode *node, char *avro, int len,
							int omit);

#endif							/* W2A_AVRO_TO_JSON_H */
