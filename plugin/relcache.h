/*-------------------------------------------------------------------------
 *
 * relcache.h
 *		The per-relation schema cache (relcache.c): what is published of a
 *		relation, its Avro schemas and what they depend on.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * plugin/relcache.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef W2A_RELCACHE_H
#define W2A_RELCACHE_H

#include "lib/stringinfo.h"
#include "nodes/pg_list.h"
#include "utils/relcache.h"

#include "decoding_state.h"
#include "rel_entry.h"


extern void relcache_init(Wal2AvroData *data);
extern RelSchemaEntry *relcache_get(Wal2AvroData *data, Relation rel);
extern void relcache_build_entry(Wal2AvroData *data, Relation rel, RelSchemaEntry *out);
extern void relcache_shutdown(void);

#endif							/* W2A_RELCACHE_H */
