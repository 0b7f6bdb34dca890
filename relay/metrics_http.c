/*-------------------------------------------------------------------------
 *
 * metrics_http.c
 *		Serve the metrics page over HTTP for Prometheus (/metrics) and for
 *		health checks (/healthz, /readyz).
 *
 * The page is rendered elsewhere (metrics_render.c, on the relay loop) and handed
 * over whole.  A page is reference-counted: the current one holds a
 * reference, and so does every response still sending it, so the swap in
 * metrics_http_publish only exchanges a pointer under the lock and a slow
 * client keeps reading the page it started with.
 *
 * HTTP is libmicrohttpd's, on its own internal thread, on a listening
 * socket we bind ourselves so that "address in use" reaches the user as
 * such.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/metrics_http.c
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <microhttpd.h>

#include "log.h"
#include "metrics_http.h"

#define HTTP_CONNECTION_LIMIT	32
#define HTTP_TIMEOUT_SECONDS	10	/* drop idle or slow clients after this */
#define HTTP_BACKLOG			64
#define CONTENT_TYPE_METRICS	"text/plain; version=0.0.4; charset=utf-8"
#define CONTENT_TYPE_TEXT		"text/plain; charset=utf-8"
#define PAGE_REASON_MAX			255

/* One rendered page and the readiness rendered with it; never changed once published */
typedef struct Page
{
	atomic_uint refs;			/* the current-page slot plus responses sending it */
	bool		ready;
	char		reason[PAGE_REASON_MAX + 1];
	size_t		len;
	char	   *text;
} Page;

struct MetricsHttp
{
	struct MHD_Daemon *daemon;	/* NULL: no HTTP server */
	int			port;
	pthread_mutex_t lock;		/* guards what follows */
	Page	   *page;			/* the current page; NULL before the first */
	bool		starting;		/* libmicrohttpd messages go to start_error */
	char		start_error[256];
};

static enum MHD_Result queue(struct MHD_Connection *conn, unsigned int status,
							 const char *content_type, struct MHD_Response *r);
static enum MHD_Result http_request_cb(void *cls, struct MHD_Connection *conn,
									   const char *url, const char *method,
									   const char *version, const char *upload_data,
									   size_t *upload_data_size, void **req_cls);
static void http_log_cb(void *cls, const char *fmt, va_list ap);


/* ------------------------------------------------------------------------
 * Start
 * ------------------------------------------------------------------------
 */

int
metrics_http_parse_listen(const char *text, char *host, size_t hostlen, int *port,
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

MetricsHttp *
metrics_http_start(const char *host, int port, char *err, size_t errlen)
{
	MetricsHttp *h = calloc(1, sizeof(MetricsHttp));
	int			fd;
	int			family = AF_INET;
	unsigned int flags;
	sigset_t	block,
				old;
	struct stat listen_stat;

	if (h == NULL)
	{
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&h->lock, NULL);
	if (host == NULL)
		return h;

	fd = open_listener(host, port, &h->port, &family, err, errlen);
	if (fd < 0)
	{
		metrics_http_stop(h);
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
	pthread_mutex_lock(&h->lock);
	h->starting = true;
	pthread_mutex_unlock(&h->lock);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	h->daemon = MHD_start_daemon(flags, 0, NULL, NULL, http_request_cb, h,
								 MHD_OPTION_EXTERNAL_LOGGER, http_log_cb, h,
								 MHD_OPTION_LISTEN_SOCKET, (MHD_socket) fd,
								 MHD_OPTION_CONNECTION_LIMIT, (unsigned int) HTTP_CONNECTION_LIMIT,
								 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) HTTP_TIMEOUT_SECONDS,
								 MHD_OPTION_END);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_mutex_lock(&h->lock);
	h->starting = false;
	pthread_mutex_unlock(&h->lock);
	if (h->daemon == NULL)
	{
		snprintf(err, errlen, "could not start the metrics HTTP server: %s",
				 h->start_error[0] ? h->start_error : "libmicrohttpd refused to start");
		close_if_same(fd, &listen_stat);
		metrics_http_stop(h);
		return NULL;
	}
	return h;
}

int
metrics_http_port(const MetricsHttp *h)
{
	return h ? h->port : 0;
}


/* ------------------------------------------------------------------------
 * The page, swapped by the loop and read by the HTTP thread
 * ------------------------------------------------------------------------
 */

static void
page_release(Page *p)
{
	if (p != NULL && atomic_fetch_sub(&p->refs, 1) == 1)
	{
		free(p->text);
		free(p);
	}
}

/* The current page with a reference taken, or NULL */
static Page *
page_acquire(MetricsHttp *h)
{
	Page	   *p;

	pthread_mutex_lock(&h->lock);
	p = h->page;
	if (p != NULL)
		atomic_fetch_add(&p->refs, 1);
	pthread_mutex_unlock(&h->lock);
	return p;
}

void
metrics_http_publish(MetricsHttp *h, char *text, size_t len, bool ready, const char *reason)
{
	Page	   *p = malloc(sizeof(Page));
	Page	   *old;

	if (p == NULL)
	{
		free(text);
		return;
	}
	atomic_init(&p->refs, 1);
	p->ready = ready;
	snprintf(p->reason, sizeof(p->reason), "%s", reason);
	p->len = len;
	p->text = text;
	pthread_mutex_lock(&h->lock);
	old = h->page;
	h->page = p;
	pthread_mutex_unlock(&h->lock);
	page_release(old);
}

char *
metrics_http_copy(MetricsHttp *h, size_t *len)
{
	Page	   *p = page_acquire(h);
	char	   *copy = p ? malloc(p->len + 1) : NULL;

	if (copy != NULL)
	{
		memcpy(copy, p->text, p->len);
		copy[p->len] = '\0';
		if (len)
			*len = p->len;
	}
	page_release(p);
	return copy;
}

bool
metrics_http_ready(MetricsHttp *h, char *reason, size_t reasonlen)
{
	Page	   *p = page_acquire(h);
	bool		ready = p != NULL && p->ready;

	snprintf(reason, reasonlen, "%s", p ? p->reason : "starting");
	page_release(p);
	return ready;
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

	if (r == NULL)
		return MHD_NO;
	return queue(conn, status, content_type, r);
}

/* Add the headers every answer has and queue it; r is released */
static enum MHD_Result
queue(struct MHD_Connection *conn, unsigned int status, const char *content_type,
	  struct MHD_Response *r)
{
	enum MHD_Result rc;

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

static void
page_response_done_cb(void *cls)
{
	page_release(cls);
}

/* The current page, sent from the page itself; its reference goes with the response */
static enum MHD_Result
respond_page(struct MHD_Connection *conn, MetricsHttp *h)
{
	Page	   *p = page_acquire(h);
	struct MHD_Response *r;

	if (p == NULL)
		return respond_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "starting\n");
	r = MHD_create_response_from_buffer_with_free_callback_cls(p->len, p->text,
															   page_response_done_cb, p);
	if (r == NULL)
	{
		page_release(p);
		return MHD_NO;
	}
	return queue(conn, MHD_HTTP_OK, CONTENT_TYPE_METRICS, r);
}

/* One request: answered at once, whatever body it may carry */
static enum MHD_Result
http_request_cb(void *cls, struct MHD_Connection *conn, const char *url,
				const char *method, const char *version, const char *upload_data,
				size_t *upload_data_size, void **req_cls)
{
	MetricsHttp *h = cls;

	(void) version;
	(void) upload_data;
	(void) upload_data_size;
	(void) req_cls;
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return respond_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");
	if (strcmp(url, "/metrics") == 0)
		return respond_page(conn, h);
	if (strcmp(url, "/healthz") == 0)
		return respond_text(conn, MHD_HTTP_OK, "ok\n");
	if (strcmp(url, "/readyz") == 0)
	{
		char		reason[PAGE_REASON_MAX + 1];
		bool		ready = metrics_http_ready(h, reason, sizeof(reason) - 1);
		size_t		n = strlen(reason);

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
	MetricsHttp *h = cls;
	char		msg[256];
	size_t		n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '.'))
		msg[--n] = '\0';
	pthread_mutex_lock(&h->lock);
	if (h->starting && h->start_error[0] == '\0')
		snprintf(h->start_error, sizeof(h->start_error), "%s", msg);
	pthread_mutex_unlock(&h->lock);
	relay_log(RELAY_LOG_DEBUG, "metrics http: %s", msg);
}


/* ------------------------------------------------------------------------
 * Stop
 * ------------------------------------------------------------------------
 */

void
metrics_http_stop(MetricsHttp *h)
{
	if (h == NULL)
		return;
	if (h->daemon)
	{
		/* quiesce hands the listening socket back to us, to close */
		MHD_socket fd = MHD_quiesce_daemon(h->daemon);

		MHD_stop_daemon(h->daemon);
		if (fd != MHD_INVALID_SOCKET)
			close(fd);
	}
	page_release(h->page);
	pthread_mutex_destroy(&h->lock);
	free(h);
}
