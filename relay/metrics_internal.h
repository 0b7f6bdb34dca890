/*-------------------------------------------------------------------------
 *
 * metrics_internal.h
 *		What metrics.c (counting) and metrics_render.c (the exposition
 *		text) share: the state behind the opaque Metrics.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/metrics_internal.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RELAY_METRICS_INTERNAL_H
#define RELAY_METRICS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metrics.h"
#include "metrics_http.h"

#define SERIES_BLOCK			256 /* series per allocation; they never move */
#define OVERFLOW_SLACK			256 /* room for the "other" series: one per op */
#define RATIO_SAMPLES			64	/* > METRICS_ERROR_WINDOW_SECONDS + 2 */
#define RATIO_SAMPLE_GAP_US		1000000LL
#define LATENCY_BUCKETS			13

/* One labelled series: records and bytes of a table and op, or snapshot rows */
typedef struct MetricsSeries
{
	char	   *schema;			/* "" for an "other" series */
	char	   *table;
	char		op;				/* '\0': no op label */
	uint64_t	hash;
	uint64_t	a;				/* records, or rows */
	uint64_t	b;				/* bytes, or estimate (UINT64_MAX: unknown) */
} Series;

/* A set of series and the loop thread's hash over them */
typedef struct SeriesSet
{
	Series	  **blocks;			/* sized once at start: never reallocated */
	size_t		nblocks;
	size_t		count;			/* series made */
	size_t		max;			/* series before the "other" ones */
	bool		overflow;		/* beyond max: count as "other" (else drop) */
	bool		warned;			/* the overflow warning was logged */
	uint32_t   *slots;			/* open addressing: series index + 1, 0 empty */
	size_t		nslots;			/* a power of two, at least twice count */
} SeriesSet;

/* Commit-to-ack latencies; buckets are not cumulative, the last is +Inf */
typedef struct Histogram
{
	uint64_t	buckets[LATENCY_BUCKETS + 1];
	double		sum;
	uint64_t	count;
} Histogram;

/* Delivery outcomes at one moment, for the error ratio over a window */
typedef struct RatioSample
{
	int64_t		at_us;
	uint64_t	acked;
	uint64_t	errors;
} RatioSample;

struct Metrics
{
	MetricsConfig cfg;			/* listen_host: NULL (used only to start) */
	MetricsHttp *http;			/* serves what metrics_update renders */
	int64_t		start_epoch_us;
	SeriesSet	records;		/* a: records, b: bytes */
	SeriesSet	snapshot_rows;	/* a: rows sent, b: rows estimated */
	Histogram	latency;
	RatioSample samples[RATIO_SAMPLES]; /* a ring, oldest at sample_first */
	size_t		sample_first;
	size_t		nsamples;
	MetricsSnapshot snap;		/* as of the last metrics_update */
	double		error_ratio;	/* over the last METRICS_ERROR_WINDOW_SECONDS */
	uint64_t	reconnects;
};

/* Series number i of a set. */
static inline Series *
series_at(const SeriesSet *s, size_t i)
{
	return &s->blocks[i / SERIES_BLOCK][i % SERIES_BLOCK];
}

/*
 * Render the exposition text and hand it to the HTTP side; out of memory,
 * the old page stays.  (metrics_render.c)
 */
extern void metrics_publish(Metrics *m);

#endif							/* RELAY_METRICS_INTERNAL_H */
