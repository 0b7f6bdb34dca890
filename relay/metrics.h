/*-------------------------------------------------------------------------
 *
 * metrics.h
 *		Counters and gauges of the relay and their Prometheus exposition
 *		text (metrics.c, metrics_render.c); metrics_http.c serves it.
 *
 * Everything here is for the relay loop's thread only, unless it says
 * otherwise, and takes no lock.  The loop counts records and latencies,
 * and calls metrics_update about once a second: that renders the whole
 * exposition text, which the HTTP thread then serves until the next
 * update.  Nothing the loop counts is seen by a scrape before the next
 * metrics_update.
 *
 * Every function accepts a NULL Metrics (metrics_count_record a table set
 * up with one) and then does nothing, so the loop can call them
 * unconditionally when metrics are turned off.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/metrics.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RELAY_METRICS_H
#define RELAY_METRICS_H

#include <stddef.h>

#include "lsn.h"

#define METRICS_DEFAULT_HOST		"127.0.0.1"
#define METRICS_DEFAULT_PORT		8794
#define METRICS_DEFAULT_MAX_SERIES	10000
#define METRICS_ERROR_WINDOW_SECONDS	60	/* delivery error ratio looks back this far */

/* Labels of the series that take the records of tables beyond the cap */
#define METRICS_OTHER_SCHEMA		""
#define METRICS_OTHER_TABLE			"other"

typedef struct Metrics Metrics;
typedef struct MetricsSeries MetricsSeries;

/* Ops a MetricsTable remembers the series of; further ones are looked up each time */
#define METRICS_TABLE_OPS			6

/*
 * The caller's handle on the record counters of one table, kept with the
 * caller's state of that relation (metrics_table_init).  It remembers the
 * series of each op once looked up, so counting hashes nothing.  Plain
 * data, no destructor; it may be copied or moved.
 */
typedef struct MetricsTable
{
	Metrics    *m;				/* NULL: metrics off, counting does nothing */
	const char *schema;			/* the caller's strings; see metrics_table_init */
	const char *table;
	char		ops[METRICS_TABLE_OPS]; /* '\0': a free slot */
	MetricsSeries *series[METRICS_TABLE_OPS];
} MetricsTable;

/* How to serve, and when /readyz says no. */
typedef struct MetricsConfig
{
	const char *listen_host;	/* address or host name to bind; NULL: no HTTP
								 * server, only collect and render */
	int			port;			/* 0: any free port (see metrics_port) */
	uint64_t	max_lag_bytes;	/* not ready above this slot lag; 0: no limit */
	double		max_error_ratio;	/* not ready above this delivery error
									 * ratio (0..1); 0: no limit */
	size_t		max_series;		/* distinct (schema, table, op) series; 0:
								 * METRICS_DEFAULT_MAX_SERIES */
} MetricsConfig;

/*
 * The loop's state as of one moment, copied whole by metrics_update.  The
 * counters are those of WriterStats (since the relay started, never
 * reset); the gauges are current values.
 */
typedef struct MetricsSnapshot
{
	int64_t		now_us;			/* relay_now_us() when taken; 0: metrics_update
								 * reads the clock */
	int64_t		now_epoch_us;	/* wall clock, us since the Unix epoch, that
								 * replication lag is measured at; 0:
								 * metrics_update reads the clock */
	bool		streaming;		/* the replication stream is open */
	bool		producer_connected; /* at least one broker is up */
	Lsn			confirmed_lsn;	/* flush position last sent to the server */
	Lsn			server_wal_lsn; /* the server's WAL end, last seen */
	uint64_t	records_in_flight;
	uint64_t	transactions_in_flight;
	uint64_t	in_flight_bytes;
	uint64_t	records_acked;
	uint64_t	delivery_errors;
	int64_t		oldest_pending_commit_time; /* us since the epoch: commit time
											 * of the oldest transaction not
											 * yet acknowledged; 0: none */
	uint64_t	producer_queue_messages;	/* producer_outq_len() */
	uint64_t	producer_queue_capacity;	/* queue.buffering.max.messages; 0:
											 * unknown, no fill ratio */
} MetricsSnapshot;

/*
 * Create the metrics, render the first page (all zero, not streaming) and,
 * unless cfg->listen_host is NULL, start the HTTP server on its own thread
 * (metrics_http_start), listening on cfg->listen_host:cfg->port.  Returns NULL with a one-line message in err when the address does not
 * resolve or cannot be bound (in use, not local), or out of memory.  cfg is
 * copied; the caller frees the result with metrics_stop.
 */
extern Metrics *metrics_start(const MetricsConfig *cfg, char *err, size_t errlen);

/* The port the server listens on (the one picked for port 0); 0 without a server.  Any thread. */
extern int	metrics_port(const Metrics *m);

/*
 * Set up *t for the records of schema.table, counted in m (NULL: metrics
 * off).  Looks nothing up yet: each op's series is found on its first
 * record.  schema and table are not copied: they must stay as they are
 * for as long as *t is used (set it up again when they change).  Cannot
 * fail.
 */
extern void metrics_table_init(MetricsTable *t, Metrics *m, const char *schema,
							   const char *table);

/*
 * Count one record produced to Kafka (a change record or a tombstone) for
 * table t: "bytes" is its key plus value.  op is the one-letter op ('c',
 * 'u', 'd', 'r', ...); a byte that is not printable ASCII counts as '?'.
 * Hashes and allocates only for an op not seen before on t.  Beyond
 * cfg->max_series distinct series, records count under schema "" and
 * table "other" (one warning is logged); out of memory, the record is not
 * counted.  t NULL is allowed.
 */
extern void metrics_count_record(MetricsTable *t, char op, size_t bytes);

/*
 * Observe one commit-to-acknowledgement latency, in seconds: from a
 * transaction's commit time on the server to the delivery report of its
 * last record.  Negative values (clock skew) count as 0.  Loop thread only.
 */
extern void metrics_observe_latency(Metrics *m, double seconds);

/*
 * Set the progress of a snapshot (initial or on-demand) of one table: rows sent so far
 * and the estimated total (negative: unknown).  Loop thread only; series
 * beyond cfg->max_series are dropped.  Tables given here are rendered from
 * the next metrics_update on; none given, the two metrics are left out.
 */
extern void metrics_set_snapshot_rows(Metrics *m, const char *schema, const char *table,
									  uint64_t rows, int64_t estimated);

/*
 * Count one reconnect to PostgreSQL.  Also between runs, with no
 * metrics_update to follow: the page is rendered again at once.
 */
extern void metrics_inc_reconnects(Metrics *m);

/*
 * Take *snap as the loop's state, sample the delivery error ratio (at most
 * once a second), and render the exposition text of everything counted so
 * far, which the HTTP thread serves from then on; the swap takes its lock
 * only to exchange a pointer.  Call it about once a second, and with
 * streaming false whenever the stream closes.  Out of memory, the old
 * page stays.
 */
extern void metrics_update(Metrics *m, const MetricsSnapshot *snap);

/*
 * A malloc'd NUL-terminated copy of the text /metrics serves now (the
 * Prometheus text exposition format 0.0.4, as the last metrics_update
 * rendered it), its length in *len when len is not NULL; NULL when out of
 * memory or m is NULL.  Any thread.
 */
extern char *metrics_text(Metrics *m, size_t *len);

/*
 * Readiness as /readyz reports it, as of the last metrics_update: true
 * when streaming, the producer is connected, and the slot lag and delivery
 * error ratio are within their limits.  Otherwise false with a one-line
 * reason in reason (lower-case, no newline), e.g. "not streaming".  Any
 * thread.
 */
extern bool metrics_ready(Metrics *m, char *reason, size_t reasonlen);

/*
 * Stop the HTTP server (waits for its thread: a request being served
 * finishes first), close its socket and free everything.  NULL is allowed.
 */
extern void metrics_stop(Metrics *m);

#endif							/* RELAY_METRICS_H */
