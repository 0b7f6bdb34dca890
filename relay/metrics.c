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
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/metrics.c
 *
 *-------------------------------------------------------------------------
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "metrics.h"
#include "metrics_http.h"
#include "program.h"

#define PREFIX					"wal2avro_relay_"
#define SERIES_BLOCK			256 /* series per allocation; they never move */
#define OVERFLOW_SLACK			256 /* room for the "other" series: one per op */
#define RATIO_SAMPLES			64	/* > METRICS_ERROR_WINDOW_SECONDS + 2 */
#define RATIO_SAMPLE_GAP_US		1000000LL
#define LATENCY_BUCKETS			13

/* Upper bounds of the commit-to-ack latency buckets, in seconds */
static const double latency_bounds[LATENCY_BUCKETS] = {
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10
};

/* The same bounds as the "le" label prints them */
static const char *const latency_le[LATENCY_BUCKETS] = {
	"0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5",
	"1", "2.5", "5", "10"
};

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

/* Growing output text; "failed" sticks once memory ran out */
typedef struct Text
{
	char	   *data;
	size_t		len;
	size_t		cap;
	bool		failed;
} Text;

static bool series_set_init(SeriesSet *s, size_t max, bool overflow);
static void series_set_free(SeriesSet *s);
static Series *series_get(SeriesSet *s, const char *schema, const char *table, char op);
static void publish(Metrics *m);
static void text_printf(Text *t, const char *fmt,...) RELAY_PRINTF(2, 3);


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
	publish(m);					/* the first page: all zero, not streaming */
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

static inline Series *
series_at(const SeriesSet *s, size_t i)
{
	return &s->blocks[i / SERIES_BLOCK][i % SERIES_BLOCK];
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
	publish(m);
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
	publish(m);
}


/* ------------------------------------------------------------------------
 * Readiness and rendering
 * ------------------------------------------------------------------------
 */

static uint64_t
slot_lag(const MetricsSnapshot *snap)
{
	return snap->server_wal_lsn > snap->confirmed_lsn ?
		snap->server_wal_lsn - snap->confirmed_lsn : 0;
}

static bool
evaluate_ready(const Metrics *m, char *reason, size_t reasonlen)
{
	const MetricsConfig *cfg = &m->cfg;
	uint64_t	lag = slot_lag(&m->snap);

	if (!m->snap.streaming)
		snprintf(reason, reasonlen, "not streaming");
	else if (!m->snap.producer_connected)
		snprintf(reason, reasonlen, "producer not connected to Kafka");
	else if (cfg->max_lag_bytes > 0 && lag > cfg->max_lag_bytes)
		snprintf(reason, reasonlen, "slot lag %" PRIu64 " bytes is over health-max-lag-bytes %" PRIu64,
				 lag, cfg->max_lag_bytes);
	else if (cfg->max_error_ratio > 0 && m->error_ratio > cfg->max_error_ratio)
		snprintf(reason, reasonlen, "delivery error ratio %.4g over the last %d s is over health-max-error-ratio %g",
				 m->error_ratio, METRICS_ERROR_WINDOW_SECONDS, cfg->max_error_ratio);
	else
	{
		snprintf(reason, reasonlen, "ready");
		return true;
	}
	return false;
}

bool
metrics_ready(Metrics *m, char *reason, size_t reasonlen)
{
	if (m == NULL)
	{
		snprintf(reason, reasonlen, "no metrics");
		return false;
	}
	return metrics_http_ready(m->http, reason, reasonlen);
}

static void
text_reserve(Text *t, size_t more)
{
	size_t		cap = t->cap ? t->cap : 4096;
	char	   *data;

	if (t->failed || t->len + more < t->cap)
		return;
	while (t->len + more >= cap)
		cap *= 2;
	if ((data = realloc(t->data, cap)) == NULL)
	{
		t->failed = true;
		return;
	}
	t->data = data;
	t->cap = cap;
}

static void
text_append(Text *t, const char *s, size_t n)
{
	text_reserve(t, n);
	if (t->failed)
		return;
	memcpy(t->data + t->len, s, n);
	t->len += n;
	t->data[t->len] = '\0';
}

static void
text_printf(Text *t, const char *fmt,...)
{
	va_list		ap;
	int			n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
	{
		t->failed = true;
		return;
	}
	text_reserve(t, (size_t) n);
	if (t->failed)
		return;
	va_start(ap, fmt);
	vsnprintf(t->data + t->len, t->cap - t->len, fmt, ap);
	va_end(ap);
	t->len += (size_t) n;
}

/* A label value, escaped as the format wants: \\, \" and \n */
static void
text_label_value(Text *t, const char *v)
{
	const char *run = v;

	for (; *v; v++)
	{
		const char *esc = *v == '\\' ? "\\\\" : *v == '"' ? "\\\"" : *v == '\n' ? "\\n" : NULL;

		if (esc == NULL)
			continue;
		text_append(t, run, v - run);
		text_append(t, esc, 2);
		run = v + 1;
	}
	text_append(t, run, v - run);
}

/* A float the shortest way that reads back the same; +Inf, -Inf, NaN */
static void
text_double(Text *t, double v)
{
	char		buf[64];

	if (isnan(v))
		text_append(t, "NaN", 3);
	else if (isinf(v))
		text_append(t, v > 0 ? "+Inf" : "-Inf", 4);
	else
	{
		snprintf(buf, sizeof(buf), "%.15g", v);
		if (strtod(buf, NULL) != v)
			snprintf(buf, sizeof(buf), "%.17g", v);
		text_append(t, buf, strlen(buf));
	}
}

static void
family(Text *t, const char *name, const char *type, const char *help)
{
	text_printf(t, "# HELP " PREFIX "%s %s\n# TYPE " PREFIX "%s %s\n", name, help, name, type);
}

static void
sample_u64(Text *t, const char *name, uint64_t v)
{
	text_printf(t, PREFIX "%s %" PRIu64 "\n", name, v);
}

static void
sample_double(Text *t, const char *name, double v)
{
	text_printf(t, PREFIX "%s ", name);
	text_double(t, v);
	text_append(t, "\n", 1);
}

/* A family of one sample without labels */
static void
one_u64(Text *t, const char *name, const char *type, const char *help, uint64_t v)
{
	family(t, name, type, help);
	sample_u64(t, name, v);
}

static void
one_double(Text *t, const char *name, const char *type, const char *help, double v)
{
	family(t, name, type, help);
	sample_double(t, name, v);
}

/* name{schema="...",table="...",op="..."} value */
static void
sample_series(Text *t, const char *name, const Series *e, uint64_t v)
{
	text_printf(t, PREFIX "%s{schema=\"", name);
	text_label_value(t, e->schema);
	text_append(t, "\",table=\"", 9);
	text_label_value(t, e->table);
	if (e->op != '\0')
		text_printf(t, "\",op=\"%s%c", e->op == '\\' || e->op == '"' ? "\\" : "", e->op);
	text_printf(t, "\"} %" PRIu64 "\n", v);
}

/*
 * The exposition text of the loop's state now, into t (t->failed when out
 * of memory); "ready" set with its reason.
 */
static void
render(Metrics *m, Text *text, char *reason, size_t reasonlen, bool *ready)
{
	const MetricsSnapshot *snap = &m->snap;
	const SeriesSet *rec = &m->records;
	const SeriesSet *rows = &m->snapshot_rows;
	Text		t = *text;
	size_t		i;
	bool		any_estimate = false;
	uint64_t	cumulative = 0;
	double		lag_seconds = 0;

	*ready = evaluate_ready(m, reason, reasonlen);

	family(&t, "info", "gauge", "Build information of wal2avro-relay; always 1.");
	text_printf(&t, PREFIX "info{version=\"");
	text_label_value(&t, RELAY_VERSION);
	text_printf(&t, "\"} 1\n");
	one_double(&t, "start_time_seconds", "gauge", "When the relay started, in seconds since the Unix epoch.", (double) m->start_epoch_us / 1e6);

	one_u64(&t, "streaming", "gauge", "1 while the replication stream is open, else 0.", snap->streaming ? 1 : 0);
	one_u64(&t, "producer_connected", "gauge", "1 while at least one Kafka broker is up, else 0.", snap->producer_connected ? 1 : 0);
	one_u64(&t, "ready", "gauge", "1 when /readyz answers 200, else 0.", *ready ? 1 : 0);
	one_u64(&t, "reconnects_total", "counter", "Reconnects to PostgreSQL.", m->reconnects);

	family(&t, "records_produced_total", "counter", "Records (changes and tombstones) handed to Kafka, by table and op.");
	for (i = 0; i < rec->count; i++)
		sample_series(&t, "records_produced_total", series_at(rec, i), series_at(rec, i)->a);
	family(&t, "bytes_produced_total", "counter", "Key and value bytes of the records handed to Kafka, by table and op.");
	for (i = 0; i < rec->count; i++)
		sample_series(&t, "bytes_produced_total", series_at(rec, i), series_at(rec, i)->b);
	one_u64(&t, "records_acked_total", "counter", "Records Kafka acknowledged.", snap->records_acked);
	one_u64(&t, "delivery_errors_total", "counter", "Records Kafka failed to deliver or refused.", snap->delivery_errors);
	one_double(&t, "delivery_error_ratio", "gauge", "Failed deliveries over all delivery reports in the last 60 seconds.", m->error_ratio);
	one_u64(&t, "records_in_flight", "gauge", "Records handed to Kafka and not yet acknowledged.", snap->records_in_flight);
	one_u64(&t, "in_flight_bytes", "gauge", "Bytes of the records in flight.", snap->in_flight_bytes);
	one_u64(&t, "transactions_in_flight", "gauge", "Transactions read and not yet confirmed to PostgreSQL.", snap->transactions_in_flight);

	one_u64(&t, "confirmed_lsn", "gauge", "Position confirmed to PostgreSQL (flush), as a WAL byte number.", snap->confirmed_lsn);
	one_u64(&t, "server_wal_lsn", "gauge", "The server's WAL end as last reported, as a WAL byte number.", snap->server_wal_lsn);
	one_u64(&t, "slot_lag_bytes", "gauge", "WAL bytes between the server's WAL end and the confirmed position.", slot_lag(snap));

	/*
	 * Age of the oldest unacknowledged transaction: how far Kafka is behind
	 * the source, 0 when nothing is in flight.  Measured against the commit
	 * time the server stamped, so clock skew between the hosts shows.
	 */
	if (snap->transactions_in_flight > 0 && snap->oldest_pending_commit_time > 0 &&
		snap->now_epoch_us > snap->oldest_pending_commit_time)
		lag_seconds = (double) (snap->now_epoch_us - snap->oldest_pending_commit_time) / 1e6;
	one_double(&t, "replication_lag_seconds", "gauge", "Seconds since the commit of the oldest transaction not yet acknowledged by Kafka; 0 when none is in flight.", lag_seconds);

	family(&t, "commit_to_ack_latency_seconds", "histogram", "Seconds from a transaction's commit on the server to Kafka's acknowledgement of its last record.");
	for (i = 0; i < LATENCY_BUCKETS; i++)
	{
		cumulative += m->latency.buckets[i];
		text_printf(&t, PREFIX "commit_to_ack_latency_seconds_bucket{le=\"%s\"} %" PRIu64 "\n",
					latency_le[i], cumulative);
	}
	text_printf(&t, PREFIX "commit_to_ack_latency_seconds_bucket{le=\"+Inf\"} %" PRIu64 "\n",
				cumulative + m->latency.buckets[LATENCY_BUCKETS]);
	sample_double(&t, "commit_to_ack_latency_seconds_sum", m->latency.sum);
	sample_u64(&t, "commit_to_ack_latency_seconds_count", m->latency.count);

	one_u64(&t, "producer_queue_messages", "gauge", "Messages in the Kafka producer's queue, in flight included.", snap->producer_queue_messages);
	if (snap->producer_queue_capacity > 0)
	{
		family(&t, "producer_queue_fill_ratio", "gauge", "producer_queue_messages over queue.buffering.max.messages.");
		sample_double(&t, "producer_queue_fill_ratio",
					  (double) snap->producer_queue_messages / (double) snap->producer_queue_capacity);
	}

	/* the families are there before any snapshot, so dashboards find them */
	family(&t, "snapshot_rows_total", "counter", "Rows of the initial snapshot sent, by table.");
	for (i = 0; i < rows->count; i++)
	{
		sample_series(&t, "snapshot_rows_total", series_at(rows, i), series_at(rows, i)->a);
		any_estimate = any_estimate || series_at(rows, i)->b != UINT64_MAX;
	}
	family(&t, "snapshot_rows_estimated", "gauge", "Estimated rows of each table in the initial snapshot.");
	for (i = 0; any_estimate && i < rows->count; i++)
	{
		if (series_at(rows, i)->b != UINT64_MAX)
			sample_series(&t, "snapshot_rows_estimated", series_at(rows, i), series_at(rows, i)->b);
	}
	*text = t;
}

/* Render and hand the page to the HTTP side; out of memory, the old page stays */
static void
publish(Metrics *m)
{
	Text		t = {0};
	char		reason[256];
	bool		ready;

	render(m, &t, reason, sizeof(reason), &ready);
	if (t.failed)
	{
		free(t.data);
		return;
	}
	metrics_http_publish(m->http, t.data, t.len, ready, reason);
}

char *
metrics_text(Metrics *m, size_t *len)
{
	return m ? metrics_http_copy(m->http, len) : NULL;
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
