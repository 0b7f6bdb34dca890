/*-------------------------------------------------------------------------
 *
 * metrics.c
 *		Counters and gauges of the relay, and their Prometheus exposition
 *		text, which metrics_http.c serves at /metrics.
 *
 * Everything here runs on the relay loop's thread and takes no lock: the
 * per-table counters in an open-addressing hash, the latency histogram,
 * the error-ratio samples.  metrics_update renders the whole exposition
 * text from them (once a second) and hands it to metrics_http.c, which
 * swaps it in under its mutex and serves it.  A scrape thus never waits
 * on the loop nor the loop on a scrape, and sees each update whole.
 *
 * Counting a record costs no hash: the caller keeps a MetricsTable per
 * relation, which remembers the series of each op once looked up; the
 * hash (one per schema, table and op) is probed only for an op the table
 * has not had yet.  Series live in fixed blocks that never move, so those
 * pointers hold until metrics_stop.  Their number is capped; beyond the
 * cap, records count under table "other".
 *
 * The exposition text and readiness are in metrics_render.c; the two share
 * metrics_internal.h.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/metrics.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "metrics.h"
#include "metrics_http.h"
#include "metrics_internal.h"

/* Upper bounds of the commit-to-ack latency buckets, in seconds */
static const double latency_bounds[LATENCY_BUCKETS] = {
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10
};

static bool series_set_init(SeriesSet *s, size_t max, bool overflow);
static void series_set_free(SeriesSet *s);
static Series *series_get(SeriesSet *s, const char *schema, const char *table, char op);


/* ------------------------------------------------------------------------
 * Start
 * ------------------------------------------------------------------------
 */


Metrics *
metrics_start(const MetricsConfig *cfg, char *err, size_t errlen)
{
	Metrics    *m = calloc(1, sizeof(Metrics));
	size_t		max = cfg->max_series ? cfg->max_series : METRICS_DEFAULT_MAX_SERIES;

	if (m == NULL)
	{
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	m->cfg = *cfg;
	m->cfg.listen_host = NULL;
	m->cfg.max_series = max;
	m->start_epoch_us = relay_wall_now_us();
	m->samples[0].at_us = relay_now_us();	/* counters start at 0 now */
	m->nsamples = 1;
	if (!series_set_init(&m->records, max, true) ||
		!series_set_init(&m->snapshot_rows, max, false))
	{
		snprintf(err, errlen, "out of memory");
		metrics_stop(m);
		return NULL;
	}
	if ((m->http = metrics_http_start(cfg->listen_host, cfg->port, err, errlen)) == NULL)
	{
		metrics_stop(m);
		return NULL;
	}
	metrics_publish(m);					/* the first page: all zero, not streaming */
	return m;
}

int
metrics_port(const Metrics *m)
{
	return m ? metrics_http_port(m->http) : 0;
}


/* ------------------------------------------------------------------------
 * Counting, on the loop thread
 * ------------------------------------------------------------------------
 */

static bool
series_set_init(SeriesSet *s, size_t max, bool overflow)
{
	memset(s, 0, sizeof(*s));
	s->max = max;
	s->overflow = overflow;
	s->nblocks = (max + (overflow ? OVERFLOW_SLACK : 0) + SERIES_BLOCK - 1) / SERIES_BLOCK;
	s->blocks = calloc(s->nblocks, sizeof(Series *));
	return s->blocks != NULL;
}

static void
series_set_free(SeriesSet *s)
{
	size_t		i;

	for (i = 0; i < s->count; i++)
	{
		Series	   *e = &s->blocks[i / SERIES_BLOCK][i % SERIES_BLOCK];

		free(e->schema);
		free(e->table);
	}
	for (i = 0; i < s->nblocks; i++)
		free(s->blocks[i]);
	free(s->blocks);
	free(s->slots);
	memset(s, 0, sizeof(*s));
}

/* FNV-1a over schema, table and op; 0xFF separates (it is never in UTF-8) */
static uint64_t
series_hash(const char *schema, const char *table, char op)
{
	uint64_t	h = UINT64_C(14695981039346656037);
	const unsigned char *p;

	for (p = (const unsigned char *) schema; *p; p++)
		h = (h ^ *p) * UINT64_C(1099511628211);
	h = (h ^ 0xFF) * UINT64_C(1099511628211);
	for (p = (const unsigned char *) table; *p; p++)
		h = (h ^ *p) * UINT64_C(1099511628211);
	h = (h ^ 0xFF) * UINT64_C(1099511628211);
	return (h ^ (unsigned char) op) * UINT64_C(1099511628211);
}

static Series *
series_find(const SeriesSet *s, const char *schema, const char *table, char op,
			uint64_t hash)
{
	size_t		mask = s->nslots - 1;
	size_t		i;
	uint32_t	idx;

	if (s->nslots == 0)
		return NULL;
	for (i = hash & mask; (idx = s->slots[i]) != 0; i = (i + 1) & mask)
	{
		Series	   *e = series_at(s, idx - 1);

		if (e->hash == hash && e->op == op && strcmp(e->table, table) == 0 &&
			strcmp(e->schema, schema) == 0)
			return e;
	}
	return NULL;
}

/* Keep the hash at most half full */
static bool
series_grow_slots(SeriesSet *s)
{
	size_t		n = s->nslots ? s->nslots * 2 : 64;
	uint32_t   *slots = calloc(n, sizeof(uint32_t));
	size_t		i;

	if (slots == NULL)
		return false;
	for (i = 0; i < s->count; i++)
	{
		size_t		j = series_at(s, i)->hash & (n - 1);

		while (slots[j] != 0)
			j = (j + 1) & (n - 1);
		slots[j] = (uint32_t) i + 1;
	}
	free(s->slots);
	s->slots = slots;
	s->nslots = n;
	return true;
}

static Series *
series_add(SeriesSet *s, const char *schema, const char *table, char op, uint64_t hash)
{
	size_t		i = s->count;
	size_t		j;
	Series	   *e;

	if (i / SERIES_BLOCK >= s->nblocks)
		return NULL;
	if ((i + 1) * 2 > s->nslots && !series_grow_slots(s))
		return NULL;
	if (s->blocks[i / SERIES_BLOCK] == NULL &&
		(s->blocks[i / SERIES_BLOCK] = calloc(SERIES_BLOCK, sizeof(Series))) == NULL)
		return NULL;
	e = series_at(s, i);
	e->schema = strdup(schema);
	e->table = strdup(table);
	if (e->schema == NULL || e->table == NULL)
	{
		free(e->schema);
		free(e->table);
		e->schema = e->table = NULL;
		return NULL;
	}
	e->op = op;
	e->hash = hash;
	for (j = hash & (s->nslots - 1); s->slots[j] != 0; j = (j + 1) & (s->nslots - 1))
		;
	s->slots[j] = (uint32_t) i + 1;
	s->count++;
	return e;
}

/*
 * The series for schema.table and op, made when new.  Past the cap: the
 * "other" series of the op, or NULL when the set does not overflow.  NULL
 * also when out of memory.
 */
static Series *
series_get(SeriesSet *s, const char *schema, const char *table, char op)
{
	uint64_t	hash = series_hash(schema, table, op);
	Series	   *e = series_find(s, schema, table, op, hash);

	if (e != NULL)
		return e;
	if (s->count >= s->max)
	{
		if (!s->overflow)
			return NULL;
		if (!s->warned)
		{
			relay_log(RELAY_LOG_WARNING, "more than %zu tables and operations in metrics: the records of further tables are counted under table \"%s\"",
					  s->max, METRICS_OTHER_TABLE);
			s->warned = true;
		}
		schema = METRICS_OTHER_SCHEMA;
		table = METRICS_OTHER_TABLE;
		hash = series_hash(schema, table, op);
		if ((e = series_find(s, schema, table, op, hash)) != NULL)
			return e;
	}
	return series_add(s, schema, table, op, hash);
}

void
metrics_table_init(MetricsTable *t, Metrics *m, const char *schema, const char *table)
{
	memset(t, 0, sizeof(*t));
	t->m = m;
	t->schema = schema;
	t->table = table;
}

void
metrics_count_record(MetricsTable *t, char op, size_t bytes)
{
	Series	   *e = NULL;
	int			i;

	if (t == NULL || t->m == NULL)
		return;
	if (op < 0x21 || op > 0x7E)
		op = '?';
	for (i = 0; i < METRICS_TABLE_OPS && t->ops[i] != '\0'; i++)
	{
		if (t->ops[i] == op)
		{
			e = t->series[i];
			break;
		}
	}
	if (e == NULL)
	{
		if ((e = series_get(&t->m->records, t->schema, t->table, op)) == NULL)
			return;
		if (i < METRICS_TABLE_OPS)
		{
			t->ops[i] = op;
			t->series[i] = e;
		}
	}
	e->a++;
	e->b += bytes;
}

void
metrics_observe_latency(Metrics *m, double seconds)
{
	int			i;

	if (m == NULL)
		return;
	if (!(seconds > 0))			/* negative, or NaN */
		seconds = 0;
	for (i = 0; i < LATENCY_BUCKETS && seconds > latency_bounds[i]; i++)
		;
	m->latency.buckets[i]++;
	m->latency.sum += seconds;
	m->latency.count++;
}

void
metrics_set_snapshot_rows(Metrics *m, const char *schema, const char *table,
						  uint64_t rows, int64_t estimated)
{
	Series	   *e;

	if (m == NULL || (e = series_get(&m->snapshot_rows, schema, table, '\0')) == NULL)
		return;
	e->a = rows;
	e->b = estimated < 0 ? UINT64_MAX : (uint64_t) estimated;
}

void
metrics_inc_reconnects(Metrics *m)
{
	if (m == NULL)
		return;
	m->reconnects++;
	metrics_publish(m);
}


/* ------------------------------------------------------------------------
 * Publishing
 * ------------------------------------------------------------------------
 */

/*
 * Take a sample of delivery outcomes (at most one a second) and compute
 * the error ratio against the newest sample at least a window old, or the
 * oldest one when none is.  Errors / (errors + acks) since then; 0 when
 * nothing was reported.  Sets m->error_ratio.
 */
static void
sample_ratio(Metrics *m, const MetricsSnapshot *snap)
{
	int64_t		window = (int64_t) METRICS_ERROR_WINDOW_SECONDS * 1000000;
	RatioSample *newest = &m->samples[(m->sample_first + m->nsamples - 1) % RATIO_SAMPLES];
	RatioSample *base;
	int64_t		now = snap->now_us < newest->at_us ? newest->at_us : snap->now_us;
	uint64_t	errors,
				acked;

	if (now - newest->at_us >= RATIO_SAMPLE_GAP_US)
	{
		if (m->nsamples == RATIO_SAMPLES)
		{
			m->sample_first = (m->sample_first + 1) % RATIO_SAMPLES;
			m->nsamples--;
		}
		newest = &m->samples[(m->sample_first + m->nsamples) % RATIO_SAMPLES];
		newest->at_us = now;
		newest->acked = snap->records_acked;
		newest->errors = snap->delivery_errors;
		m->nsamples++;
	}
	while (m->nsamples > 1 &&
		   m->samples[(m->sample_first + 1) % RATIO_SAMPLES].at_us <= now - window)
	{
		m->sample_first = (m->sample_first + 1) % RATIO_SAMPLES;
		m->nsamples--;
	}
	base = &m->samples[m->sample_first];
	errors = snap->delivery_errors > base->errors ? snap->delivery_errors - base->errors : 0;
	acked = snap->records_acked > base->acked ? snap->records_acked - base->acked : 0;
	m->error_ratio = errors + acked > 0 ? (double) errors / (double) (errors + acked) : 0.0;
}

void
metrics_update(Metrics *m, const MetricsSnapshot *snap)
{
	if (m == NULL)
		return;
	m->snap = *snap;
	if (m->snap.now_us == 0)
		m->snap.now_us = relay_now_us();
	if (m->snap.now_epoch_us == 0)
		m->snap.now_epoch_us = relay_wall_now_us();
	sample_ratio(m, &m->snap);
	metrics_publish(m);
}


/* ------------------------------------------------------------------------
 * Stop
 * ------------------------------------------------------------------------
 */

void
metrics_stop(Metrics *m)
{
	if (m == NULL)
		return;
	metrics_http_stop(m->http);
	series_set_free(&m->records);
	series_set_free(&m->snapshot_rows);
	free(m);
}
