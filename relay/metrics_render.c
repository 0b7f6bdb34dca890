/*-------------------------------------------------------------------------
 *
 * metrics_render.c
 *		The Prometheus exposition text of the relay's metrics, rendered
 *		from the counters (metrics.c) once a second, and readiness.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/metrics_render.c
 *
 *-------------------------------------------------------------------------
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "metrics.h"
#include "metrics_http.h"
#include "metrics_internal.h"
#include "program.h"

#define PREFIX					"wal2avro_relay_"

/* The same bounds as the "le" label prints them */
static const char *const latency_le[LATENCY_BUCKETS] = {
	"0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5",
	"1", "2.5", "5", "10"
};

/* Growing output text; "failed" sticks once memory ran out */
typedef struct Text
{
	char	   *data;
	size_t		len;
	size_t		cap;
	bool		failed;
} Text;

static void text_printf(Text *t, const char *fmt,...) RELAY_PRINTF(2, 3);

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
void
metrics_publish(Metrics *m)
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
