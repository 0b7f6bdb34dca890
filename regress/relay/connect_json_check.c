/*-------------------------------------------------------------------------
 *
 * connect_json_check.c
 *		Drive relay/connect_json.c over recorded cases: byte-exact check
 *		against Debezium's JSON, a robustness run, a microbenchmark.
 *
 *   connect_json_check [--out FILE] < cases.tsv        check
 *   connect_json_check --fuzz < cases.tsv              truncations, bit flips
 *   connect_json_check --bench ROUNDS < cases.tsv      ns per record
 *
 * cases.tsv comes from `regress/tools/connect_avro.py cases`: per line
 * LABEL, AVRO SCHEMA, DATUM HEX, RECORD, PAYLOAD (tab-separated).  The check
 * renders each datum with and without the schema and compares the bytes to
 * RECORD and PAYLOAD, printing "DIFF label (with|without schema) at byte N"
 * with both texts around N; --out writes "LABEL\tWITH\tWITHOUT" lines for a
 * parsed comparison.  --fuzz renders every truncation and every single-bit
 * flip of every datum (under ASan/UBSan nothing may crash; each result must
 * be 0 or -1 with a message).  --bench renders every datum ROUNDS times
 * without and with the schema and prints ns per record.  Exit 0 when all
 * is well, 1 otherwise.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * regress/relay/connect_json_check.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "connect_json.h"

typedef struct Case
{
	char	   *label;
	ConnectJson *cj;
	uint8_t    *datum;
	size_t		len;
	char	   *with;
	char	   *without;
} Case;

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* split one line into 5 tab-separated fields, in place */
static int
split(char *line, char **f)
{
	int			n = 0;

	f[n++] = line;
	for (char *p = line; *p; p++)
		if (*p == '\t')
		{
			*p = '\0';
			if (n == 5)
				return -1;
			f[n++] = p + 1;
		}
	return n == 5 ? 0 : -1;
}

static Case *
read_cases(size_t *ncases)
{
	Case	   *cases = NULL;
	size_t		n = 0,
				cap = 0;
	char	   *line = NULL;
	size_t		lcap = 0;
	ssize_t		got;
	char		err[512];

	while ((got = getline(&line, &lcap, stdin)) > 0)
	{
		char	   *f[5];
		Case	   *c;
		size_t		i;

		if (line[got - 1] == '\n')
			line[--got] = '\0';
		if (got == 0)
			continue;
		if (split(line, f) < 0)
		{
			fprintf(stderr, "connect_json_check: a line without 5 fields\n");
			exit(1);
		}
		if (n == cap)
		{
			cap = cap ? cap * 2 : 64;
			cases = realloc(cases, cap * sizeof(Case));
			if (cases == NULL)
				exit(1);
		}
		c = &cases[n++];
		c->label = strdup(f[0]);
		c->cj = connect_json_new(f[1], strlen(f[1]), err, sizeof(err));
		if (c->cj == NULL)
		{
			fprintf(stderr, "connect_json_check: %s: schema refused: %s\n", f[0], err);
			exit(1);
		}
		c->len = strlen(f[2]) / 2;
		c->datum = malloc(c->len ? c->len : 1);
		for (i = 0; i < c->len; i++)
			c->datum[i] = (uint8_t) (hexval(f[2][2 * i]) << 4 | hexval(f[2][2 * i + 1]));
		c->with = strdup(f[3]);
		c->without = strdup(f[4]);
	}
	free(line);
	*ncases = n;
	return cases;
}

static void
show_diff(const char *label, const char *how, const char *got, size_t glen, const char *want)
{
	size_t		wlen = strlen(want),
				i = 0,
				from;

	while (i < glen && i < wlen && got[i] == want[i])
		i++;
	from = i > 60 ? i - 60 : 0;
	printf("DIFF %s (%s) at byte %zu\n  got:  %.*s\n  want: %.*s\n", label, how, i,
		   (int) (glen - from < 140 ? glen - from : 140), got + from,
		   (int) (wlen - from < 140 ? wlen - from : 140), want + from);
}

static int
check(Case *cases, size_t n, const char *outpath)
{
	FILE	   *out = outpath ? fopen(outpath, "w") : NULL;
	size_t		i,
				bad = 0;
	char		err[512];

	if (outpath && out == NULL)
	{
		perror(outpath);
		return 1;
	}
	for (i = 0; i < n; i++)
	{
		JsonOut		w = {0},
					wo = {0};
		bool		ok = true;

		if (connect_json_render(cases[i].cj, cases[i].datum, cases[i].len, true, &w, err, sizeof(err)) < 0 ||
			connect_json_render(cases[i].cj, cases[i].datum, cases[i].len, false, &wo, err, sizeof(err)) < 0)
		{
			printf("FAIL %s: %s\n", cases[i].label, err);
			bad++;
			free(w.data);
			free(wo.data);
			continue;
		}
		if (w.len != strlen(cases[i].with) || memcmp(w.data, cases[i].with, w.len) != 0)
		{
			show_diff(cases[i].label, "with schema", w.data, w.len, cases[i].with);
			ok = false;
		}
		if (wo.len != strlen(cases[i].without) || memcmp(wo.data, cases[i].without, wo.len) != 0)
		{
			show_diff(cases[i].label, "without schema", wo.data, wo.len, cases[i].without);
			ok = false;
		}
		if (!ok)
			bad++;
		if (out)
			fprintf(out, "%s\t%s\t%s\n", cases[i].label, w.data, wo.data);
		free(w.data);
		free(wo.data);
	}
	if (out)
		fclose(out);
	printf("connect_json_check: %zu records, %zu differ\n", n, bad);
	return bad ? 1 : 0;
}

static int
fuzz(Case *cases, size_t n)
{
	size_t		i,
				k,
				runs = 0,
				refused = 0;
	char		err[512];
	JsonOut		o = {0};

	for (i = 0; i < n; i++)
	{
		Case	   *c = &cases[i];
		uint8_t    *copy = malloc(c->len ? c->len : 1);

		/* every truncation: a copy of exactly that size, so ASan sees overreads */
		for (k = 0; k < c->len; k++)
		{
			uint8_t    *t = malloc(k ? k : 1);
			int			rc;

			memcpy(t, c->datum, k);
			o.len = 0;
			rc = connect_json_render(c->cj, t, k, true, &o, err, sizeof(err));
			runs++;
			if (rc == 0)
			{
				printf("FUZZ %s: truncated to %zu bytes but accepted\n", c->label, k);
				free(t);
				free(copy);
				free(o.data);
				return 1;
			}
			if (err[0] == '\0')
			{
				printf("FUZZ %s: refused without a message\n", c->label);
				return 1;
			}
			refused++;
			free(t);
		}
		/* every single-bit flip */
		for (k = 0; k < c->len * 8; k++)
		{
			int			rc;

			memcpy(copy, c->datum, c->len);
			copy[k / 8] ^= (uint8_t) (1 << (k % 8));
			o.len = 0;
			err[0] = '\0';
			rc = connect_json_render(c->cj, copy, c->len, k % 2 == 0, &o, err, sizeof(err));
			runs++;
			if (rc < 0)
			{
				if (err[0] == '\0')
				{
					printf("FUZZ %s: refused without a message\n", c->label);
					return 1;
				}
				refused++;
			}
		}
		free(copy);
	}
	free(o.data);
	printf("connect_json_check: fuzz: %zu renders of %zu records, %zu refused, none crashed\n",
		   runs, n, refused);
	return 0;
}

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int
bench(Case *cases, size_t n, long rounds)
{
	char		err[512];
	JsonOut		o = {0};
	size_t		bytes = 0;

	for (int with = 0; with <= 1; with++)
	{
		double		t0 = now_ns(),
					t;

		for (long r = 0; r < rounds; r++)
			for (size_t i = 0; i < n; i++)
			{
				o.len = 0;
				if (connect_json_render(cases[i].cj, cases[i].datum, cases[i].len, with, &o, err, sizeof(err)) < 0)
				{
					printf("bench: %s: %s\n", cases[i].label, err);
					return 1;
				}
				bytes += o.len;
			}
		t = now_ns() - t0;
		printf("connect_json_check: bench %s schema: %.0f ns per record (%zu records x %ld rounds, %.0f MB/s out)\n",
			   with ? "with" : "without", t / ((double) n * rounds), n, rounds,
			   bytes / (t / 1e9) / 1e6);
		bytes = 0;
	}
	free(o.data);
	return 0;
}

int
main(int argc, char **argv)
{
	size_t		n,
				i;
	Case	   *cases;
	int			rc;
	const char *outpath = NULL;
	enum
	{
		MODE_CHECK, MODE_FUZZ, MODE_BENCH
	}			mode = MODE_CHECK;
	long		rounds = 0;

	if (argc == 3 && strcmp(argv[1], "--out") == 0)
		outpath = argv[2];
	else if (argc == 2 && strcmp(argv[1], "--fuzz") == 0)
		mode = MODE_FUZZ;
	else if (argc == 3 && strcmp(argv[1], "--bench") == 0 && (rounds = atol(argv[2])) > 0)
		mode = MODE_BENCH;
	else if (argc != 1)
	{
		fprintf(stderr, "usage: connect_json_check [--out FILE | --fuzz | --bench ROUNDS] < cases.tsv\n");
		return 2;
	}
	cases = read_cases(&n);
	if (n == 0)
	{
		fprintf(stderr, "connect_json_check: no cases on stdin\n");
		return 1;
	}
	rc = mode == MODE_FUZZ ? fuzz(cases, n) : mode == MODE_BENCH ? bench(cases, n, rounds) :
		check(cases, n, outpath);
	for (i = 0; i < n; i++)
	{
		connect_json_free(cases[i].cj);
		free(cases[i].label);
		free(cases[i].datum);
		free(cases[i].with);
		free(cases[i].without);
	}
	free(cases);
	return rc;
}
