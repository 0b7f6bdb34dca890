/*-------------------------------------------------------------------------
 *
 * key_set.h
 *		A set of byte strings (Avro-encoded record keys), for on-demand
 *		snapshots to drop rows a concurrent change overtook (key_set.c).
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/key_set.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RELAY_KEY_SET_H
#define RELAY_KEY_SET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct KeySetSlot KeySetSlot;

/* Zero-initialised is an empty set.  Fields are private to key_set.c. */
typedef struct KeySet
{
	KeySetSlot *slots;			/* open addressing, capacity a power of two */
	size_t		capacity;
	size_t		count;
	uint8_t    *arena;			/* the keys' bytes, end to end */
	size_t		arena_len;
	size_t		arena_cap;
} KeySet;

/* Add a copy of key (a no-op when present).  Returns 0, or -1 out of memory. */
extern int	key_set_add(KeySet *set, const uint8_t *key, size_t len);
extern bool key_set_contains(const KeySet *set, const uint8_t *key, size_t len);
extern size_t key_set_count(const KeySet *set);
/* Empty the set, keeping its memory for reuse. */
extern void key_set_clear(KeySet *set);
extern void key_set_free(KeySet *set);

#endif							/* RELAY_KEY_SET_H */
