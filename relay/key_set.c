/*-------------------------------------------------------------------------
 *
 * key_set.c
 *		A set of byte strings: the keys of the changes a table received
 *		while one chunk of an on-demand snapshot was in the air.
 *
 * Open addressing with linear probing over slots that hold a 64-bit hash
 * and the key's place in one growing arena, so adding a key costs no
 * allocation of its own and clearing the set between chunks is O(slots).
 * Keys are never removed one by one.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/key_set.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>
#include <string.h>

#include "key_set.h"

struct KeySetSlot
{
	uint64_t	hash;			/* 0: empty (hash_bytes never returns 0) */
	size_t		offset;			/* in the arena */
	size_t		len;
};

#define MIN_CAPACITY	64

/* FNV-1a, 64 bits, with 0 mapped away (it marks an empty slot) */
static uint64_t
hash_bytes(const uint8_t *p, size_t len)
{
	uint64_t	h = 0xcbf29ce484222325ULL;
	size_t		i;

	for (i = 0; i < len; i++)
	{
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h ? h : 1;
}

static KeySetSlot *
find(const KeySet *set, uint64_t hash, const uint8_t *key, size_t len)
{
	size_t		mask = set->capacity - 1;
	size_t		i = (size_t) hash & mask;

	for (;;)
	{
		KeySetSlot *s = &set->slots[i];

		if (s->hash == 0)
			return s;
		if (s->hash == hash && s->len == len &&
			(len == 0 || memcmp(set->arena + s->offset, key, len) == 0))
			return s;
		i = (i + 1) & mask;
	}
}

static int
grow(KeySet *set)
{
	size_t		capacity = set->capacity ? set->capacity * 2 : MIN_CAPACITY;
	KeySetSlot *old = set->slots;
	size_t		old_capacity = set->capacity;
	size_t		i;

	set->slots = calloc(capacity, sizeof(KeySetSlot));
	if (set->slots == NULL)
	{
		set->slots = old;
		return -1;
	}
	set->capacity = capacity;
	for (i = 0; i < old_capacity; i++)
	{
		if (old[i].hash != 0)
		{
			size_t		j = (size_t) old[i].hash & (capacity - 1);

			while (set->slots[j].hash != 0)
				j = (j + 1) & (capacity - 1);
			set->slots[j] = old[i];
		}
	}
	free(old);
	return 0;
}

int
key_set_add(KeySet *set, const uint8_t *key, size_t len)
{
	uint64_t	hash = hash_bytes(key, len);
	KeySetSlot *s;

	/* keep the load under 1/2 */
	if ((set->count + 1) * 2 > set->capacity && grow(set) != 0)
		return -1;
	s = find(set, hash, key, len);
	if (s->hash != 0)
		return 0;
	if (set->arena_len + len > set->arena_cap)
	{
		size_t		cap = set->arena_cap ? set->arena_cap : 4096;
		uint8_t    *a;

		while (set->arena_len + len > cap)
			cap *= 2;
		a = realloc(set->arena, cap);
		if (a == NULL)
			return -1;
		set->arena = a;
		set->arena_cap = cap;
	}
	if (len > 0)
		memcpy(set->arena + set->arena_len, key, len);
	s->hash = hash;
	s->offset = set->arena_len;
	s->len = len;
	set->arena_len += len;
	set->count++;
	return 0;
}

bool
key_set_contains(const KeySet *set, const uint8_t *key, size_t len)
{
	if (set->count == 0)
		return false;
	return find(set, hash_bytes(key, len), key, len)->hash != 0;
}

size_t
key_set_count(const KeySet *set)
{
	return set->count;
}

void
key_set_clear(KeySet *set)
{
	if (set->slots)
		memset(set->slots, 0, set->capacity * sizeof(KeySetSlot));
	set->count = 0;
	set->arena_len = 0;
}

void
key_set_free(KeySet *set)
{
	free(set->slots);
	free(set->arena);
	memset(set, 0, sizeof(*set));
}
