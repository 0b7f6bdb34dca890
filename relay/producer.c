/*-------------------------------------------------------------------------
 *
 * producer.c
 *		The librdkafka producer: safe defaults for CDC, produce, serve
 *		events, notice fatal errors, drain on stop.
 *
 * Defaults: idempotence (acks=all, retries without reordering), no message
 * timeout (a record is retried until it is delivered or fails permanently),
 * and a reconnect backoff that grows to PRODUCER_RECONNECT_MAX_MS, not
 * librdkafka's 10 s: after an outage a broker that is back is tried again
 * within a second, at the cost of one connection attempt a second per
 * broker while it is down.
 * Not enable.gapless.guarantee: it turns one refused record (too large) into
 * a fatal error for the whole producer, and the LSN tracker already keeps
 * anything after a failed record from being confirmed.  Any kafka.<property> from the
 * configuration overrides them; weakening durability is warned about.
 * Delivery reports go to the owner's callback on our thread, inside
 * producer_poll; so do librdkafka's logs and errors.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/producer.c
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "clock.h"
#include "config.h"
#include "key_set.h"
#include "log.h"
#include "producer.h"
#include "program.h"

/* record ids travel in the message opaque, a pointer */
_Static_assert(sizeof(void *) >= sizeof(uint64_t), "the relay needs 64-bit pointers");

#define RELAY_XSTR(x)	#x
#define RELAY_STR(x)	RELAY_XSTR(x)

/* A topic the lookup thread is to ask the brokers about */
typedef struct TopicToLookUp
{
	struct TopicToLookUp *next;
	char		name[];
} TopicToLookUp;

struct Producer
{
	rd_kafka_t *rk;
	rd_kafka_queue_t *main_queue;
	int			event_pipe[2];	/* librdkafka writes to [1] when events wait */
	ProducerDeliveryFn on_delivery;
	void	   *ctx;
	bool		fatal;			/* a fatal error: the producer must be recreated */
	char		fatal_msg[640];
	bool		all_brokers_down;
	bool		connected;		/* a broker was UP in the last statistics */
	bool		stats_seen;
	bool		unsent;			/* produced since the last producer_send_now */
	KeySet		topics_seen;	/* topics handed to the lookup thread */
	rd_kafka_topic_t **handles; /* what producer_topic gave out: ours */
	size_t		handle_count;
	size_t		handle_cap;

	/* the lookup thread (look_up_topics) and its queue of new topics */
	pthread_t	lookup_thread;
	bool		lookup_started;
	pthread_mutex_t lookup_lock;	/* guards what follows */
	pthread_cond_t lookup_cond;
	TopicToLookUp *lookup_head;
	TopicToLookUp **lookup_tail;
	bool		lookup_stop;
};

#define TOPIC_LOOKUP_US		1000000 /* at most, per new topic */
#define SEND_NOW_MS			1		/* producer_send_now's wait */

static void *look_up_topics(void *arg);

static void
dr_msg_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	Producer   *p = opaque;

	(void) rk;
	p->on_delivery(p->ctx, m);
}

/*
 * Note a fatal error (once): librdkafka raised it, from any thread, but we
 * learn of it first from producev, a delivery report or the error event.
 */
static void
note_fatal(Producer *p)
{
	char		buf[480];
	rd_kafka_resp_err_t orig;

	if (p->fatal)
		return;
	orig = rd_kafka_fatal_error(p->rk, buf, sizeof(buf));
	if (orig == RD_KAFKA_RESP_ERR_NO_ERROR)
		snprintf(buf, sizeof(buf), "%s", "fatal error without a reason");
	p->fatal = true;
	snprintf(p->fatal_msg, sizeof(p->fatal_msg), "%s: %s", rd_kafka_err2name(orig), buf);
	relay_log(RELAY_LOG_ERROR, "kafka: fatal error: %s", p->fatal_msg);
}

static void
error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	Producer   *p = opaque;

	(void) rk;
	if (err == RD_KAFKA_RESP_ERR__FATAL)
	{
		note_fatal(p);
		return;
	}
	if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
	{
		p->all_brokers_down = true;
		p->connected = false;
	}
	/* transient: librdkafka retries by itself */
	relay_log(RELAY_LOG_WARNING, "kafka: %s: %s", rd_kafka_err2name(err), reason);
}

/*
 * librdkafka's statistics, once a second: is any broker connection up?  The
 * JSON is only scanned for the broker state, not parsed.
 */
static int
stats_cb(rd_kafka_t *rk, char *json, size_t json_len, void *opaque)
{
	Producer   *p = opaque;

	(void) rk;
	(void) json_len;
	p->stats_seen = true;
	p->connected = strstr(json, "\"state\":\"UP\"") != NULL;
	if (p->connected)
		p->all_brokers_down = false;
	return 0;					/* librdkafka frees the JSON */
}

static void
log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	(void) rk;
	relay_log(relay_log_level_from_syslog(level), "kafka: %s: %s", fac, buf);
}

static int
set_prop(rd_kafka_conf_t *conf, const char *name, const char *value,
		 char *err, size_t errlen)
{
	char		kerr[512];

	if (rd_kafka_conf_set(conf, name, value, kerr, sizeof(kerr)) != RD_KAFKA_CONF_OK)
	{
		snprintf(err, errlen, "invalid Kafka property \"%s\": %s", name, kerr);
		return -1;
	}
	return 0;
}

static void
warn_weakened(const RelayConfig *cfg)
{
	size_t		i;

	for (i = 0; i < cfg->kafka.count; i++)
	{
		const RelaySetting *s = &cfg->kafka.items[i];

		if ((strcmp(s->name, "enable.idempotence") == 0 && strcmp(s->value, "false") == 0) ||
			((strcmp(s->name, "acks") == 0 || strcmp(s->name, "request.required.acks") == 0) &&
			 strcmp(s->value, "all") != 0 && strcmp(s->value, "-1") != 0))
		{
			relay_log(RELAY_LOG_WARNING, "kafka.%s = %s weakens delivery guarantees",
					  s->name, s->value);
			relay_log_hint(RELAY_LOG_WARNING,
						   "Records a broker acknowledged may then be lost when it fails.");
		}
	}
}

/* Did the configuration set this librdkafka property (or its alias)? */
static bool
user_set(const RelayConfig *cfg, const char *name, const char *alias)
{
	size_t		i;

	for (i = 0; i < cfg->kafka.count; i++)
		if (strcmp(cfg->kafka.items[i].name, name) == 0 ||
			(alias && strcmp(cfg->kafka.items[i].name, alias) == 0))
			return true;
	return false;
}

/*
 * librdkafka refuses a message.timeout.ms that is not above linger.ms.  A
 * configuration that sets a short message timeout and leaves linger.ms alone
 * gets half the timeout as its linger instead of an error about a setting it
 * never made.
 */
static int
fit_linger(rd_kafka_conf_t *conf, const RelayConfig *cfg, char *err, size_t errlen)
{
	char		value[32];
	size_t		len = sizeof(value);
	long		timeout_ms;
	char		linger[32];

	if (user_set(cfg, "linger.ms", "queue.buffering.max.ms") ||
		rd_kafka_conf_get(conf, "message.timeout.ms", value, &len) != RD_KAFKA_CONF_OK)
		return 0;
	timeout_ms = strtol(value, NULL, 10);
	if (timeout_ms <= 0 || timeout_ms > PRODUCER_LINGER_MS)
		return 0;
	snprintf(linger, sizeof(linger), "%ld", timeout_ms / 2);
	return set_prop(conf, "linger.ms", linger, err, errlen);
}

/*
 * Create the producer.  on_delivery is called with ctx for every delivery
 * report, from producer_poll.  Returns NULL with a message in err when a
 * property is invalid or librdkafka cannot start.  Free with
 * producer_destroy.
 */
Producer *
producer_create(const RelayConfig *cfg, ProducerDeliveryFn on_delivery, void *ctx,
				char *err, size_t errlen)
{
	Producer   *p = calloc(1, sizeof(Producer));
	rd_kafka_conf_t *conf;
	char		kerr[512];
	size_t		i;
	static const char *const defaults[][2] = {
		{"enable.idempotence", "true"},
		{"acks", "all"},
		{"message.timeout.ms", "0"},
		{"queue.buffering.max.messages", RELAY_STR(PRODUCER_QUEUE_MESSAGES)},
		/*
		 * linger.ms bounds the wait for a fuller batch only while records
		 * keep coming: whenever the relay waits (for data, for room),
		 * producer_send_now sends what it holds at once.  A short linger.ms
		 * costs a core: librdkafka 2.0's idempotent producer keeps one
		 * produce request in flight per partition, and while one is and a
		 * queued record is older than linger.ms its broker thread polls with
		 * a zero timeout in a loop (67,000 polls and 151 requests in 2 s).
		 */
		{"linger.ms", RELAY_STR(PRODUCER_LINGER_MS)},
		/*
		 * A key goes to the partition Kafka's Java producer would pick
		 * (murmur2 of the key bytes), so topics written by Kafka Connect or
		 * Java clients, and joins co-partitioned with them, line up;
		 * librdkafka's own default hashes with CRC32.  A record without a
		 * key goes to a random partition either way.
		 */
		{"partitioner", "murmur2_random"},
		{"client.id", RELAY_PROGNAME},
		{"statistics.interval.ms", "1000"},
		{"reconnect.backoff.max.ms", RELAY_STR(PRODUCER_RECONNECT_MAX_MS)},
	};

	if (p == NULL)
	{
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	p->event_pipe[0] = p->event_pipe[1] = -1;
	p->on_delivery = on_delivery;
	p->ctx = ctx;

	conf = rd_kafka_conf_new();
	for (i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
	{
		if (set_prop(conf, defaults[i][0], defaults[i][1], err, errlen) != 0)
			goto fail;
	}
	if (cfg->brokers &&
		set_prop(conf, "bootstrap.servers", cfg->brokers, err, errlen) != 0)
		goto fail;
	for (i = 0; i < cfg->kafka.count; i++)
	{
		if (set_prop(conf, cfg->kafka.items[i].name, cfg->kafka.items[i].value,
					 err, errlen) != 0)
			goto fail;
	}
	if (fit_linger(conf, cfg, err, errlen) != 0)
		goto fail;
	warn_weakened(cfg);

	rd_kafka_conf_set_opaque(conf, p);
	rd_kafka_conf_set_dr_msg_cb(conf, dr_msg_cb);
	rd_kafka_conf_set_error_cb(conf, error_cb);
	rd_kafka_conf_set_log_cb(conf, log_cb);
	rd_kafka_conf_set_stats_cb(conf, stats_cb);

	p->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, kerr, sizeof(kerr));
	if (p->rk == NULL)
	{
		snprintf(err, errlen, "could not create Kafka producer: %s", kerr);
		goto fail;				/* conf is still ours */
	}
	conf = NULL;				/* owned by rk now */

	if (pipe(p->event_pipe) != 0)
	{
		snprintf(err, errlen, "could not create pipe: %s", strerror(errno));
		producer_destroy(p, 0);
		return NULL;
	}
	fcntl(p->event_pipe[0], F_SETFL, O_NONBLOCK);
	fcntl(p->event_pipe[1], F_SETFL, O_NONBLOCK);
	p->main_queue = rd_kafka_queue_get_main(p->rk);
	rd_kafka_queue_io_event_enable(p->main_queue, p->event_pipe[1], "1", 1);
	pthread_mutex_init(&p->lookup_lock, NULL);
	pthread_cond_init(&p->lookup_cond, NULL);
	p->lookup_tail = &p->lookup_head;
	p->lookup_started = pthread_create(&p->lookup_thread, NULL, look_up_topics, p) == 0;
	if (!p->lookup_started)
	{
		pthread_mutex_destroy(&p->lookup_lock);
		pthread_cond_destroy(&p->lookup_cond);
		relay_log(RELAY_LOG_WARNING, "could not start the topic lookup thread: new topics are found at librdkafka's own pace");
	}
	return p;

fail:
	if (conf)
		rd_kafka_conf_destroy(conf);
	free(p);
	return NULL;
}

/* Does the metadata show every partition of the topic with a leader? */
static bool
topic_ready(const struct rd_kafka_metadata *md)
{
	int			i;

	if (md->topic_cnt != 1 || md->topics[0].err != RD_KAFKA_RESP_ERR_NO_ERROR ||
		md->topics[0].partition_cnt == 0)
		return false;
	for (i = 0; i < md->topics[0].partition_cnt; i++)
	{
		if (md->topics[0].partitions[i].leader < 0)
			return false;
	}
	return true;
}

/*
 * The first record to a topic: ask for its metadata now.  librdkafka 2.0.2
 * looks up a topic it does not know at its once-a-second scan, and after the
 * broker auto-creates it, at the next scan again, so the first record of
 * every new table would wait up to two seconds (and the first change of a
 * fresh relay twice that: the schema topic, then the table's).  Asking
 * until the topic has leaders takes a few milliseconds.  A thread of its
 * own asks (up to TOPIC_LOOKUP_US per topic), so the stream's loop never
 * waits for it: the record is queued in librdkafka at once and goes out as
 * soon as the metadata the thread asked for has come.
 */
static void
look_up_topic(Producer *p, const char *topic)
{
	int64_t		deadline = relay_now_us() + TOPIC_LOOKUP_US;
	rd_kafka_topic_t *rkt = rd_kafka_topic_new(p->rk, topic, NULL);

	if (rkt == NULL)
		return;
	for (;;)
	{
		const struct rd_kafka_metadata *md;
		bool		ready;
		int64_t		left = deadline - relay_now_us();

		if (left <= 0 ||
			rd_kafka_metadata(p->rk, 0, rkt, &md, (int) (left / 1000) + 1) != RD_KAFKA_RESP_ERR_NO_ERROR)
			break;
		ready = topic_ready(md);
		rd_kafka_metadata_destroy(md);
		if (ready || relay_now_us() + 20000 >= deadline)
			break;
		usleep(20000);			/* poll interval: the broker is creating it */
	}
	rd_kafka_topic_destroy(rkt);
}

static void *
look_up_topics(void *arg)
{
	Producer   *p = arg;

	pthread_mutex_lock(&p->lookup_lock);
	for (;;)
	{
		TopicToLookUp *t;

		while (p->lookup_head == NULL && !p->lookup_stop)
			pthread_cond_wait(&p->lookup_cond, &p->lookup_lock);
		if (p->lookup_stop)
			break;
		t = p->lookup_head;
		p->lookup_head = t->next;
		if (p->lookup_head == NULL)
			p->lookup_tail = &p->lookup_head;
		pthread_mutex_unlock(&p->lookup_lock);
		look_up_topic(p, t->name);
		free(t);
		pthread_mutex_lock(&p->lookup_lock);
	}
	pthread_mutex_unlock(&p->lookup_lock);
	return NULL;
}

/* Hand a topic not seen before to the lookup thread (once per topic). */
static void
queue_lookup(Producer *p, const char *topic)
{
	size_t		n = strlen(topic);
	TopicToLookUp *t;

	if (!p->lookup_started ||
		key_set_add(&p->topics_seen, (const uint8_t *) topic, n) != 0 ||
		(t = malloc(sizeof(TopicToLookUp) + n + 1)) == NULL)
		return;					/* only a lookup less: librdkafka finds it anyway */
	memcpy(t->name, topic, n + 1);
	t->next = NULL;
	pthread_mutex_lock(&p->lookup_lock);
	*p->lookup_tail = t;
	p->lookup_tail = &t->next;
	pthread_cond_signal(&p->lookup_cond);
	pthread_mutex_unlock(&p->lookup_lock);
}

static void
stop_lookups(Producer *p)
{
	TopicToLookUp *t;

	if (!p->lookup_started)
		return;
	pthread_mutex_lock(&p->lookup_lock);
	p->lookup_stop = true;
	pthread_cond_signal(&p->lookup_cond);
	pthread_mutex_unlock(&p->lookup_lock);
	pthread_join(p->lookup_thread, NULL);
	while ((t = p->lookup_head) != NULL)
	{
		p->lookup_head = t->next;
		free(t);
	}
	pthread_mutex_destroy(&p->lookup_lock);
	pthread_cond_destroy(&p->lookup_cond);
	p->lookup_started = false;
}

/* What producev returned, as a ProducerStatus (with a message in err). */
static ProducerStatus
send_status(Producer *p, rd_kafka_resp_err_t rc, const char *topic, size_t size,
			char *err, size_t errlen)
{
	if (rc == RD_KAFKA_RESP_ERR_NO_ERROR)
		return PRODUCER_OK;
	if (rc == RD_KAFKA_RESP_ERR__QUEUE_FULL)
		return PRODUCER_QUEUE_FULL;
	if (rc == RD_KAFKA_RESP_ERR__FATAL)
	{
		note_fatal(p);
		snprintf(err, errlen, "%s", p->fatal_msg);
		return PRODUCER_FATAL;
	}
	if (rc == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE)
		snprintf(err, errlen, "could not produce to topic \"%s\": %s (a record of %zu bytes of key "
				 "and value, over the producer's message.max.bytes)", topic,
				 rd_kafka_err2str(rc), size);
	else
		snprintf(err, errlen, "could not produce to topic \"%s\": %s", topic,
				 rd_kafka_err2str(rc));
	return PRODUCER_ERROR;
}

/*
 * Enqueue one record.  key may be NULL (no key); value NULL makes a
 * tombstone.  Both are copied.  hdrs (may be NULL) is owned by librdkafka on
 * PRODUCER_OK and still the caller's otherwise.  opaque comes back in the
 * delivery report.  PRODUCER_QUEUE_FULL means "serve events and try
 * again"; PRODUCER_FATAL that the producer is dead (a fatal error, in err):
 * nothing more can be produced with it, the record is not refused, and the
 * caller must recreate the producer; PRODUCER_ERROR that this record is
 * refused, with a message in err.
 */
ProducerStatus
producer_send(Producer *p, const char *topic, const void *key, size_t keylen,
			  const void *value, size_t valuelen, rd_kafka_headers_t *hdrs,
			  void *opaque, char *err, size_t errlen)
{
	rd_kafka_topic_t *rkt;
	ProducerStatus st;

	if (producer_fatal(p, err, errlen))
		return PRODUCER_FATAL;
	if (!key_set_contains(&p->topics_seen, (const uint8_t *) topic, strlen(topic)))
		queue_lookup(p, topic);
	/* as rd_kafka_producev does with a topic name */
	if ((rkt = rd_kafka_topic_new(p->rk, topic, NULL)) == NULL)
		return send_status(p, rd_kafka_last_error(), topic, 0, err, errlen);
	st = producer_send_to(p, rkt, key, keylen, value, valuelen, hdrs, opaque, err, errlen);
	rd_kafka_topic_destroy(rkt);
	return st;
}

/*
 * A handle for topic, for producer_send_to: the name is looked up once
 * here instead of at every record.  Owned by p (valid until
 * producer_destroy).  NULL when librdkafka cannot make one or out of
 * memory: produce by name then.
 */
rd_kafka_topic_t *
producer_topic(Producer *p, const char *topic)
{
	rd_kafka_topic_t *rkt;

	if (p->handle_count == p->handle_cap)
	{
		size_t		cap = p->handle_cap ? p->handle_cap * 2 : 16;
		rd_kafka_topic_t **h = realloc(p->handles, cap * sizeof(*h));

		if (h == NULL)
			return NULL;
		p->handles = h;
		p->handle_cap = cap;
	}
	if ((rkt = rd_kafka_topic_new(p->rk, topic, NULL)) == NULL)
		return NULL;
	if (!key_set_contains(&p->topics_seen, (const uint8_t *) topic, strlen(topic)))
		queue_lookup(p, topic);
	p->handles[p->handle_count++] = rkt;
	return rkt;
}

/* producer_send to a topic handle from producer_topic. */
ProducerStatus
producer_send_to(Producer *p, rd_kafka_topic_t *rkt, const void *key, size_t keylen,
				 const void *value, size_t valuelen, rd_kafka_headers_t *hdrs,
				 void *opaque, char *err, size_t errlen)
{
	rd_kafka_resp_err_t rc;

	if (producer_fatal(p, err, errlen))
		return PRODUCER_FATAL;
	p->unsent = true;
	rc = rd_kafka_producev(p->rk,
						   RD_KAFKA_V_RKT(rkt),
						   RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
						   RD_KAFKA_V_KEY(key, key ? keylen : 0),
						   RD_KAFKA_V_VALUE((void *) value, value ? valuelen : 0),
						   RD_KAFKA_V_HEADERS(hdrs),
						   RD_KAFKA_V_OPAQUE(opaque),
						   RD_KAFKA_V_END);
	return send_status(p, rc, rd_kafka_topic_name(rkt), (key ? keylen : 0) + (value ? valuelen : 0),
					   err, errlen);
}

/*
 * Serve delivery reports, errors and logs, waiting up to timeout_ms for the
 * first; a caller that waits has nothing more to produce for now, so what it
 * produced is sent first (producer_send_now).  Returns the number of events
 * served.
 */
int
producer_poll(Producer *p, int timeout_ms)
{
	char		drain[64];

	if (timeout_ms > 0)
		producer_send_now(p, true); /* the caller waits: nothing more comes */

	while (read(p->event_pipe[0], drain, sizeof(drain)) > 0)
		;
	return rd_kafka_poll(p->rk, timeout_ms);
}

/*
 * Send what is queued now, ignoring linger.ms, and serve delivery reports
 * until none is outstanding or timeout_ms passed.  Returns true when none
 * is outstanding.
 */
bool
producer_flush(Producer *p, int timeout_ms)
{
	return rd_kafka_flush(p->rk, timeout_ms) == RD_KAFKA_RESP_ERR_NO_ERROR;
}

/*
 * Send what was produced now instead of after linger.ms.  Called when the
 * caller has nothing more to hand over for the moment (it is about to wait
 * for data or for room), so waiting for a fuller batch would only add
 * latency.  rd_kafka_flush marks the producer as flushing (linger.ms counts
 * as passed) and wakes the broker threads for as long as it runs; with no
 * wait at all it often ends before a broker thread looked, so it gets up to
 * SEND_NOW_MS, serving delivery reports meanwhile, and returns as soon as
 * nothing is outstanding.  Records it could not send in that time (waiting
 * behind the request in flight, or for a new topic's metadata) would then
 * wait for linger.ms: with outstanding true it flushes whenever anything is
 * outstanding, not only after new records, so a caller that waits for
 * deliveries keeps them moving.  Without it (a caller blocked by its window,
 * where the next records fill the batch) only what is new is pushed once,
 * since flushing while a request is in flight makes the broker thread poll
 * in a loop for as long as the flush lasts.
 */
void
producer_send_now(Producer *p, bool outstanding)
{
	if (p->fatal)
		return;
	if (!p->unsent && !(outstanding && rd_kafka_outq_len(p->rk) > 0))
		return;
	p->unsent = false;
	(void) rd_kafka_flush(p->rk, SEND_NOW_MS);
}

/* A descriptor that becomes readable when events wait: poll it with the socket. */
int
producer_event_fd(const Producer *p)
{
	return p->event_pipe[0];
}

/*
 * Is the producer connected to a broker?  From librdkafka's statistics (a
 * second old at most); before the first, from the absence of an
 * all-brokers-down error.
 */
bool
producer_connected(const Producer *p)
{
	return p->stats_seen ? p->connected : !p->all_brokers_down;
}

/* Records produced and not yet reported delivered or failed. */
int
producer_outq_len(const Producer *p)
{
	return rd_kafka_outq_len(p->rk);
}

/*
 * Has a fatal error happened?  Then err (may be NULL) gets its message.
 * Asks librdkafka, so it is true from the moment the error is raised,
 * before its event is served: delivery reports served before it must not
 * be taken for refused records.
 */
bool
producer_fatal(Producer *p, char *err, size_t errlen)
{
	char		ignored[1];

	if (!p->fatal &&
		rd_kafka_fatal_error(p->rk, ignored, sizeof(ignored)) != RD_KAFKA_RESP_ERR_NO_ERROR)
		note_fatal(p);
	if (p->fatal && err)
		snprintf(err, errlen, "%s", p->fatal_msg);
	return p->fatal;
}

/* The librdkafka handle, for tests (fault injection) only.  Owned by p. */
rd_kafka_t *
producer_handle(const Producer *p)
{
	return p->rk;
}

/*
 * Destroy the producer after waiting up to flush_timeout_ms for what is in
 * flight (delivery reports are served meanwhile).  Records still undelivered
 * are dropped: the caller has not confirmed them, so they come again.
 */
void
producer_destroy(Producer *p, int flush_timeout_ms)
{
	if (p == NULL)
		return;
	stop_lookups(p);
	if (p->rk)
	{
		if (flush_timeout_ms > 0 && !producer_fatal(p, NULL, 0))
			rd_kafka_flush(p->rk, flush_timeout_ms);
		if (p->main_queue)
		{
			rd_kafka_queue_io_event_enable(p->main_queue, -1, NULL, 0);
			rd_kafka_queue_destroy(p->main_queue);
		}
		/* undelivered records: report them as purged, then drop */
		rd_kafka_purge(p->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
		rd_kafka_poll(p->rk, 0);
		while (p->handle_count > 0)
			rd_kafka_topic_destroy(p->handles[--p->handle_count]);
		rd_kafka_destroy(p->rk);
	}
	if (p->event_pipe[0] >= 0)
		close(p->event_pipe[0]);
	if (p->event_pipe[1] >= 0)
		close(p->event_pipe[1]);
	key_set_free(&p->topics_seen);
	free(p->handles);
	free(p);
}
