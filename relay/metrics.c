/*-------------------------------------------------------------------------
 *
 * metrics.c
 *		Counters and gauges of the relay, served over HTTP for Prometheus
 *		(/metrics) and for health checks (/healthz, /readyz).
 *
 * The relay loop is single-threaded and must not wait on a scrape, so the
 * two sides share only a "published" copy guarded by one mutex.  The loop
 * keeps its own working state without a lock: per-table counters in an
 * open-addressing hash, the latency histogram, the error-ratio samples.
 * metrics_update copies the loop's snapshot and whatever changed since the
 * last call into the published state; the HTTP thread copies the
 * published numbers out under the lock and formats them after releasing
 * it.  Per-record counting thus costs a hash probe and two additions, with
 * no lock or atomic operation per record, and the lock is held for a copy
 * proportional to the series that changed, not to every table.
 *
 * Series (one per schema, table and op) live in fixed blocks that never
 * move and are never freed before metrics_stop, and their names never
 * change once made, so the HTTP thread reads names without the lock: it
 * only looks at series the last metrics_update published.  Their number
 * is capped; beyond the cap, records count under table "other".
 *
 * HTTP is libmicrohttpd's, on its own internal thread, on a listening
 * socket we bind ourselves so that "address in use" reaches the user as
 * such.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/metrics.c
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "metrics.h"
#include "relay.h"

#define PREFIX					"wal2avro_relay_"
#define SERIES_BLOCK			256 /* series per allocation; they never move */
#define OVERFLOW_SLACK			256 /* room for the "other" series: one per op */
#define RATIO_SAMPLES			64	/* > METRICS_ERROR_WINDOW_SECONDS + 2 */
#define RATIO_SAMPLE_GAP_US		1000000LL
#define HTTP_CONNECTION_LIMIT	32
#define HTTP_TIMEOUT_SECONDS	10	/* drop idle or slow clients after this */
#define HTTP_BACKLOG			64
#define CONTENT_TYPE_METRICS	"text/plain; version=0.0.4; charset=utf-8"
#define CONTENT_TYPE_TEXT		"text/plain; charset=utf-8"
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
typedef struct Series
{
	char	   *schema;			/* "" for an "other" series */
	char	   *table;
	char		op;				/* '\0': no op label */
	bool		dirty;			/* changed since the last metrics_update */
	uint32_t	index;
	uint32_t	next_dirty;		/* index + 1 of the next changed series; 0 ends */
	uint64_t	hash;
	uint64_t	a;				/* loop thread: records, or rows */
	uint64_t	b;				/* loop thread: bytes, or estimate (UINT64_MAX: unknown) */
	uint64_t	pub_a;			/* a and b as last published, under the lock */
	uint64_t	pub_b;
} Series;

/* A set of series and the loop thread's hash over them */
typedef struct SeriesSet
{
	Series	  **blocks;			/* sized once at start: never reallocated */
	size_t		nblocks;
	size_t		count;			/* loop thread: series made */
	size_t		published;		/* under the lock: series the HTTP thread may read */
	size_t		max;			/* series before the "other" ones */
	bool		overflow;		/* beyond max: count as "other" (else drop) */
	bool		warned;			/* the overflow warning was logged */
	uint32_t   *slots;			/* open addressing: series index + 1, 0 empty */
	size_t		nslots;			/* a power of two, at least twice count */
	uint32_t	dirty_head;		/* index + 1 of the first changed series; 0: none */
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

/* What the HTTP thread renders from: written only under the lock */
typedef struct Published
{
	MetricsSnapshot snap;
	Histogram	latency;
	double		error_ratio;	/* over the last METRICS_ERROR_WINDOW_SECONDS */
	uint64_t	reconnects;
} Published;

struct Metrics
{
	MetricsConfig cfg;			/* listen_host points to our copy */
	struct MHD_Daemon *daemon;	/* NULL: no HTTP server */
	int			port;
	int64_t		start_epoch_us;

	/* loop thread only */
	SeriesSet	records;		/* a: records, b: bytes */
	SeriesSet	snapshot_rows;	/* a: rows sent, b: rows estimated */
	Histogram	latency;
	RatioSample samples[RATIO_SAMPLES]; /* a ring, oldest at sample_first */
	size_t		sample_first;
	size_t		nsamples;

	pthread_mutex_t lock;		/* guards what follows and SeriesSet.published, pub_* */
	Published	pub;
	bool		starting;		/* libmicrohttpd messages go to start_error */
	char		start_error[256];
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
static void series_publish(SeriesSet *s);
static void sample_ratio(Metrics *m, const MetricsSnapshot *snap);
static bool evaluate_ready(const MetricsConfig *cfg, const Published *p,
						   char *reason, size_t reasonlen);
static int	open_listener(const char *host, int port, int *bound_port, int *family,
						  char *err, size_t errlen);
static enum MHD_Result http_request_cb(void *cls, struct MHD_Connection *conn,
									   const char *url, const char *method,
									   const char *version, const char *upload_data,
									   size_t *upload_data_size, void **req_cls);
static void http_log_cb(void *cls, const char *fmt, va_list ap);
static void text_printf(Text *t, const char *fmt,...) RELAY_PRINTF(2, 3);


/* ------------------------------------------------------------------------
 * Configuration and start
 * ------------------------------------------------------------------------
 */

int
metrics_parse_listen(const char *text, char *host, size_t hostlen, int *port,
					 char *err, size_t errlen)
{
	const char *colon;
	const char *h = text;
	size_t		hlen;
	char	   *end;
	long		p;

	if (text[0] == '[')
	{
		const char *close = strchr(text, ']');

		if (close == NULL || close[1] != ':')
		{
			snprintf(err, errlen, "invalid listen address \"%s\": expected \"[address]:port\"", text);
			return -1;
		}
		h = text + 1;
		hlen = close - h;
		colon = close + 1;
	}
	else
	{
		colon = strrchr(text, ':');
		if (colon == NULL || memchr(text, ':', colon - text) != NULL)
		{
			snprintf(err, errlen, "invalid listen address \"%s\": expected \"host:port\"", text);
			return -1;
		}
		hlen = colon - text;
	}
	if (hlen == 0)
	{
		snprintf(err, errlen, "invalid listen address \"%s\": the host is empty (use 0.0.0.0 or [::] for every interface)",
				 text);
		return -1;
	}
	if (hlen >= hostlen)
	{
		snprintf(err, errlen, "invalid listen address \"%s\": the host is too long", text);
		return -1;
	}
	errno = 0;
	p = strtol(colon + 1, &end, 10);
	if (colon[1] < '0' || colon[1] > '9' || *end != '\0' || errno != 0 || p < 0 || p > 65535)
	{
		snprintf(err, errlen, "invalid listen address \"%s\": the port must be a number from 0 to 65535",
				 text);
		return -1;
	}
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	*port = (int) p;
	return 0;
}

static int64_t
wall_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}


/*
 * Bind and listen on host:port ourselves (libmicrohttpd would only say it
 * failed, not why).  Returns the socket, with the port it got in
 * *bound_port and its address family in *family, or -1 with a message.
 */
static int
open_listener(const char *host, int port, int *bound_port, int *family,
			  char *err, size_t errlen)
{
	struct addrinfo hints;
	struct addrinfo *res,
			   *ai;
	struct sockaddr_storage addr;
	socklen_t	addrlen = sizeof(addr);
	char		service[16];
	const char *lb = strchr(host, ':') ? "[" : "";	/* brackets for IPv6 */
	const char *rb = strchr(host, ':') ? "]" : "";
	int			fd = -1;
	int			saved = 0;
	int			rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	snprintf(service, sizeof(service), "%d", port);
	rc = getaddrinfo(host, service, &hints, &res);
	if (rc != 0)
	{
		snprintf(err, errlen, "could not resolve metrics listen address \"%s%s%s:%d\": %s",
				 lb, host, rb, port, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next)
	{
		int			on = 1;

		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
					ai->ai_protocol);
		if (fd < 0)
		{
			saved = errno;
			continue;
		}
		/* a restart must not wait for the old connections' TIME_WAIT */
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, HTTP_BACKLOG) == 0)
		{
			*family = ai->ai_family;
			break;
		}
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
	{
		snprintf(err, errlen, "could not listen on metrics address \"%s%s%s:%d\": %s",
				 lb, host, rb, port, strerror(saved));
		return -1;
	}
	if (getsockname(fd, (struct sockaddr *) &addr, &addrlen) != 0)
	{
		snprintf(err, errlen, "could not read the metrics listen address: %s", strerror(errno));
		close(fd);
		return -1;
	}
	*bound_port = addr.ss_family == AF_INET6 ?
		ntohs(((struct sockaddr_in6 *) &addr)->sin6_port) :
		ntohs(((struct sockaddr_in *) &addr)->sin_port);
	return fd;
}

/*
 * Close fd if it is still the socket "st" describes.  Whether
 * libmicrohttpd closes a socket given to it when it fails to start is not
 * documented; a socket's inode is unique, so a descriptor number reused
 * meanwhile by another thread is left alone.
 */
static void
close_if_same(int fd, const struct stat *st)
{
	struct stat now;

	if (fstat(fd, &now) == 0 && now.st_dev == st->st_dev && now.st_ino == st->st_ino)
		close(fd);
}

Metrics *
metrics_start(const MetricsConfig *cfg, char *err, size_t errlen)
{
	Metrics    *m = calloc(1, sizeof(Metrics));
	size_t		max = cfg->max_series ? cfg->max_series : METRICS_DEFAULT_MAX_SERIES;
	int			fd;
	int			family = AF_INET;
	unsigned int flags;
	sigset_t	block,
				old;
	struct stat listen_stat;

	if (m == NULL)
	{
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	m->cfg = *cfg;
	m->cfg.listen_host = NULL;
	m->cfg.max_series = max;
	m->start_epoch_us = wall_now_us();
	m->samples[0].at_us = relay_now_us();	/* counters start at 0 now */
	m->nsamples = 1;
	pthread_mutex_init(&m->lock, NULL);
	if (!series_set_init(&m->records, max, true) ||
		!series_set_init(&m->snapshot_rows, max, false) ||
		(cfg->listen_host && (m->cfg.listen_host = strdup(cfg->listen_host)) == NULL))
	{
		snprintf(err, errlen, "out of memory");
		metrics_stop(m);
		return NULL;
	}
	if (cfg->listen_host == NULL)
		return m;

	fd = open_listener(cfg->listen_host, cfg->port, &m->port, &family, err, errlen);
	if (fd < 0)
	{
		metrics_stop(m);
		return NULL;
	}
	fstat(fd, &listen_stat);

	/*
	 * The server's thread inherits our signal mask: block the asynchronous
	 * signals there, so SIGINT and SIGTERM always reach the relay's own
	 * thread and interrupt its waits.  Faults stay unblocked.
	 */
	sigfillset(&block);
	sigdelset(&block, SIGSEGV);
	sigdelset(&block, SIGBUS);
	sigdelset(&block, SIGFPE);
	sigdelset(&block, SIGILL);
	sigdelset(&block, SIGTRAP);
	sigdelset(&block, SIGABRT);
	sigdelset(&block, SIGSYS);
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ITC | MHD_USE_ERROR_LOG;
	if (family == AF_INET6)
		flags |= MHD_USE_IPv6;
	pthread_mutex_lock(&m->lock);
	m->starting = true;
	pthread_mutex_unlock(&m->lock);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	m->daemon = MHD_start_daemon(flags, 0, NULL, NULL, http_request_cb, m,
								 MHD_OPTION_EXTERNAL_LOGGER, http_log_cb, m,
								 MHD_OPTION_LISTEN_SOCKET, (MHD_socket) fd,
								 MHD_OPTION_CONNECTION_LIMIT, (unsigned int) HTTP_CONNECTION_LIMIT,
								 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) HTTP_TIMEOUT_SECONDS,
								 MHD_OPTION_END);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_mutex_lock(&m->lock);
	m->starting = false;
	pthread_mutex_unlock(&m->lock);
	if (m->daemon == NULL)
	{
		snprintf(err, errlen, "could not start the metrics HTTP server: %s",
				 m->start_error[0] ? m->start_error : "libmicrohttpd refused to start");
		close_if_same(fd, &listen_stat);
		metrics_stop(m);
		return NULL;
	}
	return m;
}

int
metrics_port(const Metrics *m)
{
	return m ? m->port : 0;
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

static void
series_touch(SeriesSet *s, Series *e)
{
	if (!e->dirty)
	{
		e->dirty = true;
		e->next_dirty = s->dirty_head;
		s->dirty_head = e->index + 1;
	}
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
	e->index = (uint32_t) i;
	for (j = hash & (s->nslots - 1); s->slots[j] != 0; j = (j + 1) & (s->nslots - 1))
		;
	s->slots[j] = (uint32_t) i + 1;
	s->count++;
	series_touch(s, e);			/* a new series is published even at zero */
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
metrics_count_record(Metrics *m, const char *schema, const char *table, char op,
					 size_t bytes)
{
	Series	   *e;

	if (m == NULL)
		return;
	if (op < 0x21 || op > 0x7E)
		op = '?';
	if ((e = series_get(&m->records, schema, table, op)) == NULL)
		return;
	e->a++;
	e->b += bytes;
	series_touch(&m->records, e);
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
	series_touch(&m->snapshot_rows, e);
}

void
metrics_inc_reconnects(Metrics *m)
{
	if (m == NULL)
		return;
	pthread_mutex_lock(&m->lock);
	m->pub.reconnects++;
	pthread_mutex_unlock(&m->lock);
}


/* ------------------------------------------------------------------------
 * Publishing
 * ------------------------------------------------------------------------
 */

/* Copy the changed series' values for the HTTP thread; under the lock */
static void
series_publish(SeriesSet *s)
{
	uint32_t	idx = s->dirty_head;

	while (idx != 0)
	{
		Series	   *e = series_at(s, idx - 1);

		e->pub_a = e->a;
		e->pub_b = e->b;
		e->dirty = false;
		idx = e->next_dirty;
		e->next_dirty = 0;
	}
	s->dirty_head = 0;
	s->published = s->count;
}

/*
 * Take a sample of delivery outcomes (at most one a second) and compute
 * the error ratio against the newest sample at least a window old, or the
 * oldest one when none is.  Errors / (errors + acks) since then; 0 when
 * nothing was reported.  Loop thread; sets m->pub.error_ratio, so under
 * the lock.
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
	m->pub.error_ratio = errors + acked > 0 ? (double) errors / (double) (errors + acked) : 0.0;
}

void
metrics_update(Metrics *m, const MetricsSnapshot *snap)
{
	if (m == NULL)
		return;
	pthread_mutex_lock(&m->lock);
	m->pub.snap = *snap;
	if (m->pub.snap.now_us == 0)
		m->pub.snap.now_us = relay_now_us();
	sample_ratio(m, &m->pub.snap);
	m->pub.latency = m->latency;
	series_publish(&m->records);
	series_publish(&m->snapshot_rows);
	pthread_mutex_unlock(&m->lock);
}


/* ------------------------------------------------------------------------
 * Readiness and rendering, on any thread
 * ------------------------------------------------------------------------
 */

static uint64_t
slot_lag(const MetricsSnapshot *snap)
{
	return snap->server_wal_lsn > snap->confirmed_lsn ?
		snap->server_wal_lsn - snap->confirmed_lsn : 0;
}

static bool
evaluate_ready(const MetricsConfig *cfg, const Published *p, char *reason, size_t reasonlen)
{
	uint64_t	lag = slot_lag(&p->snap);

	if (!p->snap.streaming)
		snprintf(reason, reasonlen, "not streaming");
	else if (!p->snap.producer_connected)
		snprintf(reason, reasonlen, "producer not connected to Kafka");
	else if (cfg->max_lag_bytes > 0 && lag > cfg->max_lag_bytes)
		snprintf(reason, reasonlen, "slot lag %" PRIu64 " bytes is over health-max-lag-bytes %" PRIu64,
				 lag, cfg->max_lag_bytes);
	else if (cfg->max_error_ratio > 0 && p->error_ratio > cfg->max_error_ratio)
		snprintf(reason, reasonlen, "delivery error ratio %.4g over the last %d s is over health-max-error-ratio %g",
				 p->error_ratio, METRICS_ERROR_WINDOW_SECONDS, cfg->max_error_ratio);
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
	Published	p;

	if (m == NULL)
	{
		snprintf(reason, reasonlen, "no metrics");
		return false;
	}
	pthread_mutex_lock(&m->lock);
	p = m->pub;
	pthread_mutex_unlock(&m->lock);
	return evaluate_ready(&m->cfg, &p, reason, reasonlen);
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
 * The published values of the first s->published series, a then b for
 * each, in *vals (malloc'd; NULL when there are none).  Under the lock.
 */
static bool
series_copy(const SeriesSet *s, uint64_t **vals, size_t *n)
{
	size_t		i;

	*n = s->published;
	*vals = NULL;
	if (*n == 0)
		return true;
	if ((*vals = malloc(*n * 2 * sizeof(uint64_t))) == NULL)
		return false;
	for (i = 0; i < *n; i++)
	{
		const Series *e = series_at(s, i);

		(*vals)[2 * i] = e->pub_a;
		(*vals)[2 * i + 1] = e->pub_b;
	}
	return true;
}

char *
metrics_render(Metrics *m, int64_t now_epoch_us, size_t *len)
{
	Published	p;
	uint64_t   *rec = NULL,
			   *snaprows = NULL;
	size_t		nrec = 0,
				nsnap = 0,
				i;
	bool		copied;
	bool		any_estimate = false;
	Text		t = {0};
	char		reason[256];
	uint64_t	cumulative = 0;
	double		lag_seconds = 0;

	if (m == NULL)
		return NULL;
	pthread_mutex_lock(&m->lock);
	p = m->pub;
	copied = series_copy(&m->records, &rec, &nrec) &&
		series_copy(&m->snapshot_rows, &snaprows, &nsnap);
	pthread_mutex_unlock(&m->lock);
	if (!copied)
		goto failed;

	family(&t, "info", "gauge", "Build information of wal2avro-relay; always 1.");
	text_printf(&t, PREFIX "info{version=\"");
	text_label_value(&t, RELAY_VERSION);
	text_printf(&t, "\"} 1\n");
	family(&t, "start_time_seconds", "gauge", "When the relay started, in seconds since the Unix epoch.");
	sample_double(&t, "start_time_seconds", (double) m->start_epoch_us / 1e6);

	family(&t, "streaming", "gauge", "1 while the replication stream is open, else 0.");
	sample_u64(&t, "streaming", p.snap.streaming ? 1 : 0);
	family(&t, "producer_connected", "gauge", "1 while at least one Kafka broker is up, else 0.");
	sample_u64(&t, "producer_connected", p.snap.producer_connected ? 1 : 0);
	family(&t, "ready", "gauge", "1 when /readyz answers 200, else 0.");
	sample_u64(&t, "ready", evaluate_ready(&m->cfg, &p, reason, sizeof(reason)) ? 1 : 0);
	family(&t, "reconnects_total", "counter", "Reconnects to PostgreSQL.");
	sample_u64(&t, "reconnects_total", p.reconnects);

	family(&t, "records_produced_total", "counter", "Records (changes and tombstones) handed to Kafka, by table and op.");
	for (i = 0; i < nrec; i++)
		sample_series(&t, "records_produced_total", series_at(&m->records, i), rec[2 * i]);
	family(&t, "bytes_produced_total", "counter", "Key and value bytes of the records handed to Kafka, by table and op.");
	for (i = 0; i < nrec; i++)
		sample_series(&t, "bytes_produced_total", series_at(&m->records, i), rec[2 * i + 1]);
	family(&t, "records_acked_total", "counter", "Records Kafka acknowledged.");
	sample_u64(&t, "records_acked_total", p.snap.records_acked);
	family(&t, "delivery_errors_total", "counter", "Records Kafka failed to deliver or refused.");
	sample_u64(&t, "delivery_errors_total", p.snap.delivery_errors);
	family(&t, "delivery_error_ratio", "gauge", "Failed deliveries over all delivery reports in the last 60 seconds.");
	sample_double(&t, "delivery_error_ratio", p.error_ratio);
	family(&t, "records_in_flight", "gauge", "Records handed to Kafka and not yet acknowledged.");
	sample_u64(&t, "records_in_flight", p.snap.records_in_flight);
	family(&t, "in_flight_bytes", "gauge", "Bytes of the records in flight.");
	sample_u64(&t, "in_flight_bytes", p.snap.in_flight_bytes);
	family(&t, "transactions_in_flight", "gauge", "Transactions read and not yet confirmed to PostgreSQL.");
	sample_u64(&t, "transactions_in_flight", p.snap.transactions_in_flight);

	family(&t, "confirmed_lsn", "gauge", "Position confirmed to PostgreSQL (flush), as a WAL byte number.");
	sample_u64(&t, "confirmed_lsn", p.snap.confirmed_lsn);
	family(&t, "server_wal_lsn", "gauge", "The server's WAL end as last reported, as a WAL byte number.");
	sample_u64(&t, "server_wal_lsn", p.snap.server_wal_lsn);
	family(&t, "slot_lag_bytes", "gauge", "WAL bytes between the server's WAL end and the confirmed position.");
	sample_u64(&t, "slot_lag_bytes", slot_lag(&p.snap));

	/*
	 * Age of the oldest unacknowledged transaction: how far Kafka is behind
	 * the source, 0 when nothing is in flight.  Measured against the commit
	 * time the server stamped, so clock skew between the hosts shows.
	 */
	if (p.snap.transactions_in_flight > 0 && p.snap.oldest_pending_commit_time > 0 &&
		now_epoch_us > p.snap.oldest_pending_commit_time)
		lag_seconds = (double) (now_epoch_us - p.snap.oldest_pending_commit_time) / 1e6;
	family(&t, "replication_lag_seconds", "gauge", "Seconds since the commit of the oldest transaction not yet acknowledged by Kafka; 0 when none is in flight.");
	sample_double(&t, "replication_lag_seconds", lag_seconds);

	family(&t, "commit_to_ack_latency_seconds", "histogram", "Seconds from a transaction's commit on the server to Kafka's acknowledgement of its last record.");
	for (i = 0; i < LATENCY_BUCKETS; i++)
	{
		cumulative += p.latency.buckets[i];
		text_printf(&t, PREFIX "commit_to_ack_latency_seconds_bucket{le=\"%s\"} %" PRIu64 "\n",
					latency_le[i], cumulative);
	}
	text_printf(&t, PREFIX "commit_to_ack_latency_seconds_bucket{le=\"+Inf\"} %" PRIu64 "\n",
				cumulative + p.latency.buckets[LATENCY_BUCKETS]);
	sample_double(&t, "commit_to_ack_latency_seconds_sum", p.latency.sum);
	sample_u64(&t, "commit_to_ack_latency_seconds_count", p.latency.count);

	family(&t, "producer_queue_messages", "gauge", "Messages in the Kafka producer's queue, in flight included.");
	sample_u64(&t, "producer_queue_messages", p.snap.producer_queue_messages);
	if (p.snap.producer_queue_capacity > 0)
	{
		family(&t, "producer_queue_fill_ratio", "gauge", "producer_queue_messages over queue.buffering.max.messages.");
		sample_double(&t, "producer_queue_fill_ratio",
					  (double) p.snap.producer_queue_messages / (double) p.snap.producer_queue_capacity);
	}

	/* the families are there before any snapshot, so dashboards find them */
	family(&t, "snapshot_rows_total", "counter", "Rows of the initial snapshot sent, by table.");
	for (i = 0; i < nsnap; i++)
	{
		sample_series(&t, "snapshot_rows_total", series_at(&m->snapshot_rows, i), snaprows[2 * i]);
		any_estimate = any_estimate || snaprows[2 * i + 1] != UINT64_MAX;
	}
	family(&t, "snapshot_rows_estimated", "gauge", "Estimated rows of each table in the initial snapshot.");
	if (any_estimate)
	{
		for (i = 0; i < nsnap; i++)
		{
			if (snaprows[2 * i + 1] != UINT64_MAX)
				sample_series(&t, "snapshot_rows_estimated", series_at(&m->snapshot_rows, i),
							  snaprows[2 * i + 1]);
		}
	}
	if (t.failed)
		goto failed;
	free(rec);
	free(snaprows);
	if (len)
		*len = t.len;
	return t.data;

failed:
	free(rec);
	free(snaprows);
	free(t.data);
	return NULL;
}


/* ------------------------------------------------------------------------
 * HTTP, on libmicrohttpd's thread
 * ------------------------------------------------------------------------
 */

static enum MHD_Result
respond(struct MHD_Connection *conn, unsigned int status, const char *content_type,
		char *body, size_t len, enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);
	enum MHD_Result rc;

	if (r == NULL)
	{
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	rc = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result
respond_text(struct MHD_Connection *conn, unsigned int status, const char *text)
{
	return respond(conn, status, CONTENT_TYPE_TEXT, (char *) text, strlen(text),
				   MHD_RESPMEM_PERSISTENT);
}

/* One request: answered at once, whatever body it may carry */
static enum MHD_Result
http_request_cb(void *cls, struct MHD_Connection *conn, const char *url,
				const char *method, const char *version, const char *upload_data,
				size_t *upload_data_size, void **req_cls)
{
	Metrics    *m = cls;

	(void) version;
	(void) upload_data;
	(void) upload_data_size;
	(void) req_cls;
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return respond_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");
	if (strcmp(url, "/metrics") == 0)
	{
		size_t		len;
		char	   *body = metrics_render(m, wall_now_us(), &len);

		if (body == NULL)
			return respond_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
		return respond(conn, MHD_HTTP_OK, CONTENT_TYPE_METRICS, body, len, MHD_RESPMEM_MUST_FREE);
	}
	if (strcmp(url, "/healthz") == 0)
		return respond_text(conn, MHD_HTTP_OK, "ok\n");
	if (strcmp(url, "/readyz") == 0)
	{
		char		reason[256];
		bool		ready = metrics_ready(m, reason, sizeof(reason));
		size_t		n = strlen(reason);

		if (n + 1 < sizeof(reason))
			reason[n++] = '\n';
		return respond(conn, ready ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE,
					   CONTENT_TYPE_TEXT, reason, n, MHD_RESPMEM_MUST_COPY);
	}
	return respond_text(conn, MHD_HTTP_NOT_FOUND, "not found\n");
}

/*
 * libmicrohttpd's messages: at debug level (a port scanner must not fill
 * the log), and kept while starting so metrics_start can say why it failed.
 */
static void
http_log_cb(void *cls, const char *fmt, va_list ap)
{
	Metrics    *m = cls;
	char		msg[256];
	size_t		n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '.'))
		msg[--n] = '\0';
	pthread_mutex_lock(&m->lock);
	if (m->starting && m->start_error[0] == '\0')
		snprintf(m->start_error, sizeof(m->start_error), "%s", msg);
	pthread_mutex_unlock(&m->lock);
	relay_log(RELAY_LOG_DEBUG, "metrics http: %s", msg);
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
	if (m->daemon)
	{
		/* quiesce hands the listening socket back to us, to close */
		MHD_socket fd = MHD_quiesce_daemon(m->daemon);

		MHD_stop_daemon(m->daemon);
		if (fd != MHD_INVALID_SOCKET)
			close(fd);
	}
	series_set_free(&m->records);
	series_set_free(&m->snapshot_rows);
	pthread_mutex_destroy(&m->lock);
	free((char *) m->cfg.listen_host);
	free(m);
}
