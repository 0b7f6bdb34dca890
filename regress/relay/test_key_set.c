/*-------------------------------------------------------------------------
 *
 * test_key_set.c
 *		Unit tests for relay/key_set.c: membership of byte strings (empty,
 *		with zero bytes, prefixes of each other), growth, clearing, and a
 *		randomized run against a plain model.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * regress/relay/test_key_set.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>
#include <string.h>

#include "key_set.h"
#include "unit.h"

static void
test_basics(void)
{
	KeySet		set = {0};
	const uint8_t a[] = {0x02};
	const uint8_t ab[] = {0x02, 0x00};
	const uint8_t zero[] = {0x00, 0x00, 0x00};

	CHECK(!key_set_contains(&set, a, sizeof(a)));
	CHECK_INT(key_set_count(&set), 0);
	CHECK_INT(key_set_add(&set, a, sizeof(a)), 0);
	CHECK(key_set_contains(&set, a, sizeof(a)));
	CHECK(!key_set_contains(&set, ab, sizeof(ab)));		/* a longer key */
	CHECK(!key_set_contains(&set, a, 0));	/* the empty key */
	CHECK_INT(key_set_add(&set, a, sizeof(a)), 0);	/* again: no-op */
	CHECK_INT(key_set_count(&set), 1);
	CHECK_INT(key_set_add(&set, ab, sizeof(ab)), 0);
	CHECK_INT(key_set_add(&set, zero, sizeof(zero)), 0);
	CHECK_INT(key_set_add(&set, NULL, 0), 0);
	CHECK_INT(key_set_count(&set), 4);
	CHECK(key_set_contains(&set, ab, sizeof(ab)));
	CHECK(key_set_contains(&set, zero, sizeof(zero)));
	CHECK(key_set_contains(&set, NULL, 0));
	CHECK(!key_set_contains(&set, zero, 2));

	key_set_clear(&set);
	CHECK_INT(key_set_count(&set), 0);
	CHECK(!key_set_contains(&set, a, sizeof(a)));
	CHECK(!key_set_contains(&set, NULL, 0));
	CHECK_INT(key_set_add(&set, zero, sizeof(zero)), 0);
	CHECK(key_set_contains(&set, zero, sizeof(zero)));
	CHECK(!key_set_contains(&set, ab, sizeof(ab)));
	key_set_free(&set);
	CHECK_INT(key_set_count(&set), 0);
	key_set_free(&set);			/* twice is harmless */
}

/* 100,000 keys (Avro longs, as a bigint key is encoded): all found, none else */
static void
test_many(void)
{
	KeySet		set = {0};
	uint8_t		buf[10];
	int			i,
				missing = 0,
				extra = 0;

	for (i = 0; i < 200000; i += 2)
	{
		uint64_t	z = (uint64_t) i << 1;	/* zigzag of a positive long */
		size_t		n = 0;

		do
		{
			buf[n++] = (uint8_t) ((z & 0x7f) | (z > 0x7f ? 0x80 : 0));
			z >>= 7;
		} while (z);
		if (key_set_add(&set, buf, n) != 0)
			break;
	}
	CHECK_INT(key_set_count(&set), 100000);
	for (i = 0; i < 200000; i++)
	{
		uint64_t	z = (uint64_t) i << 1;
		size_t		n = 0;
		bool		in;

		do
		{
			buf[n++] = (uint8_t) ((z & 0x7f) | (z > 0x7f ? 0x80 : 0));
			z >>= 7;
		} while (z);
		in = key_set_contains(&set, buf, n);
		if (i % 2 == 0 && !in)
			missing++;
		if (i % 2 == 1 && in)
			extra++;
	}
	CHECK_INT(missing, 0);
	CHECK_INT(extra, 0);
	key_set_free(&set);
}

/* Random short keys against a plain list, with clears in between */
static void
test_random_against_model(void)
{
	KeySet		set = {0};
	uint8_t		model[512][4];
	size_t		model_len[512];
	size_t		nmodel = 0;
	int			step,
				mismatches = 0;

	srand(20261130);
	for (step = 0; step < 20000; step++)
	{
		uint8_t		key[4];
		size_t		len = (size_t) (rand() % 5),
					i;
		bool		in_model = false;

		for (i = 0; i < len; i++)
			key[i] = (uint8_t) (rand() % 3);	/* few values: many collisions */
		for (i = 0; i < nmodel; i++)
			in_model |= model_len[i] == len && memcmp(model[i], key, len) == 0;
		if (key_set_contains(&set, key, len) != in_model)
			mismatches++;
		if (rand() % 3 == 0 && !in_model && nmodel < 512)
		{
			if (key_set_add(&set, key, len) != 0)
				break;
			memcpy(model[nmodel], key, len);
			model_len[nmodel++] = len;
		}
		if (rand() % 2000 == 0)
		{
			key_set_clear(&set);
			nmodel = 0;
		}
		if (key_set_count(&set) != nmodel)
			mismatches++;
	}
	CHECK_INT(mismatches, 0);
	key_set_free(&set);
}

int
main(void)
{
	test_basics();
	test_many();
	test_random_against_model();
	return unit_finish("test_key_set");
}
