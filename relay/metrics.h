/*-------------------------------------------------------------------------
 *
 * metrics.h
 *		Counters, gauges and the HTTP endpoint for Prometheus and health
 *		checks (metrics.c).
 *
 * Two threads meet here.  The relay loop (one thread) counts records and
 * latencies into state only it touches, and publishes from time to time
 * with metrics_update; the HTTP server (libmicrohttpd's internal thread)
 * renders from what was last published.  Nothing the loop counts is seen
 * by a scrape before the next metrics_update.
 *
 * Every function accepts a NULL Metrics and then does nothing, so the loop
 * can call them unconditionally when metrics are turned off.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/metrics.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RELAY_METRICS_H
#define RELAY_METRICS_H

#include "relay.h"

#define METRICS_DEFAULT_HOST		"127.0.0.1"
#define METRICS_DEFAULT_PORT		8794
#define METRICS_DEFAULT_MAX_SERIES	10000
#define METRICS_ERROR_WINDOW_SECONDS	60	/* delivery error ratio looks back this far */

/* Labels of the series that take the records of tables beyond the cap */
#define METRICS_OTHER_SCHEMA		""
#define METRICS_OTHER_TABLE			"other"

typedef struct Metrics Metrics;

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
 * counters are those of RecordsStats (since the relay started, never
 * reset); the gauges are current values.
 */
typedef struct MetricsSnapshot
{
	int64_t		now_us;			/* relay_now_us() when taken; 0: metrics_update
								 * reads the clock */
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
 * Split a listen address "host:port" or "[ipv6-address]:port" into host
 * (copied into host, of size hostlen) and port (0 to 65535; 0 asks for any
 * free port).  Returns 0, or -1 with a message in err (host and *port then
 * unspecified).  Resolves nothing: a host name is checked by metrics_start.
 */
extern int	metrics_parse_listen(const char *text, char *host, size_t hostlen,
								 int *port, char *err, size_t errlen);

/*
 * Create the metrics and, unless cfg->listen_host is NULL, start the HTTP
 * server on its own thread, listening on cfg->listen_host:cfg->port.  The
 * server's thread blocks every signal, so signals reach the relay's thread.
 * Returns NULL with a one-line message in err when the address does not
 * resolve or cannot be bound (in use, not local), or out of memory.  cfg is
 * copied; the caller frees the result with metrics_stop.
 */
extern Metrics *metrics_start(const MetricsConfig *cfg, char *err, size_t errlen);

/* The port the server listens on (the one picked for port 0); 0 without a server. */
extern int	metrics_port(const Metrics *m);

/*
 * Count one record produced to Kafka (a change record or a tombstone):
 * "bytes" is its key plus value.  op is the one-letter op ('c', 'u', 'd',
 * 'r', ...); a byte that is not printable ASCII counts as '?'.  Loop thread
 * only; takes no lock and allocates only for a series not seen before.
 * Beyond cfg->max_series distinct series, records count under schema ""
 * and table "other" (one warning is logged); out of memory, the record is
 * not counted.
 */
extern void metrics_count_record(Metrics *m, const char *schema, const char *table,
								 char op, size_t bytes);

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
 * Count one reconnect to PostgreSQL.  Any thread, any time (also between
 * runs, with no metrics_update to follow): takes the lock briefly.
 */
extern void metrics_inc_reconnects(Metrics *m);

/*
 * Publish: copy *snap and what metrics_count_record,
 * metrics_observe_latency and metrics_set_snapshot_rows gathered since the
 * last call, for the HTTP thread to render.  Also samples the delivery
 * error ratio, at most once a second.  Loop thread only.  The lock is held
 * for the copy of the snapshot plus the series changed since the last call.
 * Call it once per loop pass or less often (once a second is plenty), and
 * with streaming false whenever the stream closes.
 */
extern void metrics_update(Metrics *m, const MetricsSnapshot *snap);

/*
 * The published state in the Prometheus text exposition format 0.0.4,
 * "now_epoch_us" (wall clock, us since the Unix epoch) being the time the
 * replication lag is measured at.  Returns a malloc'd NUL-terminated
 * string (its length in *len when len is not NULL) the caller frees, or
 * NULL when out of memory.  Any thread.
 */
extern char *metrics_render(Metrics *m, int64_t now_epoch_us, size_t *len);

/*
 * Readiness as /readyz reports it: true when streaming, the producer is
 * connected, and the slot lag and delivery error ratio are within their
 * limits.  Otherwise false with a one-line reason in reason (lower-case,
 * no newline), e.g. "not streaming".  Any thread.
 */
extern bool metrics_ready(Metrics *m, char *reason, size_t reasonlen);

/*
 * Stop the HTTP server (waits for its thread: a request being served
 * finishes first), close its socket and free everything.  NULL is allowed.
 */
extern void metrics_stop(Metrics *m);

#endif							/* RELAY_METRICS_H */
