/*-------------------------------------------------------------------------
 *
 * metrics_http.h
 *		The HTTP endpoint of the metrics (/metrics, /healthz, /readyz) and
 *		the page it serves (metrics_http.c).
 *
 * The relay loop renders the whole exposition text now and then and hands
 * it over with metrics_http_publish; the HTTP thread (libmicrohttpd's)
 * serves whichever page is current.  The swap is a pointer exchange under
 * a mutex, so a scrape gets a whole page, old or new, never a mix, and the
 * loop never waits for a slow client.  This module knows nothing of what
 * the page says.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/metrics_http.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RELAY_METRICS_HTTP_H
#define RELAY_METRICS_HTTP_H

#include <stdbool.h>
#include <stddef.h>

typedef struct MetricsHttp MetricsHttp;

/*
 * Split a listen address "host:port" or "[ipv6-address]:port" into host
 * (copied into host, of size hostlen) and port (0 to 65535; 0 asks for any
 * free port).  Returns 0, or -1 with a message in err (host and *port then
 * unspecified).  Resolves nothing: a host name is checked by metrics_http_start.
 */
extern int	metrics_http_parse_listen(const char *text, char *host, size_t hostlen,
									  int *port, char *err, size_t errlen);

/*
 * Start serving on host:port (port 0: any free port) on libmicrohttpd's
 * own thread, which blocks every asynchronous signal.  host NULL: no
 * server, only the page exchange (metrics_http_copy still works).  Until
 * the first metrics_http_publish, /metrics and /readyz answer 503.
 * Returns NULL with a one-line message in err when host does not resolve
 * or cannot be bound, or out of memory.  Free with metrics_http_stop.
 */
extern MetricsHttp *metrics_http_start(const char *host, int port, char *err, size_t errlen);

/* The port the server listens on (the one picked for port 0); 0 without a server. */
extern int	metrics_http_port(const MetricsHttp *h);

/*
 * Make text (malloc'd, len bytes; ownership passes here) the page /metrics
 * serves, and ready/reason what /readyz answers.  The old page is freed
 * once the last response sending it is done.  Any thread; holds the lock
 * only to swap two pointers.  Out of memory the old page stays.
 */
extern void metrics_http_publish(MetricsHttp *h, char *text, size_t len, bool ready,
								 const char *reason);

/*
 * A malloc'd NUL-terminated copy of the current page (its length in *len
 * when len is not NULL), as a scrape gets it.  NULL before the first
 * publish, or out of memory.  Any thread.
 */
extern char *metrics_http_copy(MetricsHttp *h, size_t *len);

/* The readiness last published, with its reason; false before any.  Any thread. */
extern bool metrics_http_ready(MetricsHttp *h, char *reason, size_t reasonlen);

/*
 * Stop the server (a request being served finishes first), close its
 * socket and free the page.  NULL is allowed.
 */
extern void metrics_http_stop(MetricsHttp *h);

#endif							/* RELAY_METRICS_HTTP_H */
