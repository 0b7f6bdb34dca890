/*-------------------------------------------------------------------------
 *
 * main.c
 *		wal2avro-relay: argv -> config -> signal flags -> run/reconnect
 *		loop -> exit code.
 *
 * Only this file decides between stopping and retrying: the loop returns
 * why it ended, and main reconnects with backoff (doubling up to
 * reconnect-max-backoff, back to 1 s only once a run got further than the
 * last one failed), recreates the producer after a fatal Kafka error, or
 * exits with the code --help lists.  A PostgreSQL failure that is neither
 * transient nor permanent (pgerror.c) and comes again at the same stream
 * position PGERROR_MAX_REPEATS times in a row stops it: each retry would
 * produce the failing transaction's first records again.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/main.c
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "kafka_writer.h"
#include "log.h"
#include "lsn.h"
#include "lsn_tracker.h"
#include "metrics_http.h"
#include "pgerror.h"
#include "program.h"
#include "stream_loop.h"
#include "tail/tail.h"

/*
 * Fatal producer errors in a row, with the confirmed position not moving
 * between them, at which the relay gives up (exit 3) instead of making a
 * new producer once more: a cause that a new producer cannot fix (say, no
 * authorization for an idempotent producer) must not loop forever.
 */
#define FATAL_RESTARTS_MAX		5

static volatile sig_atomic_t stop_requested = 0;
static volatile sig_atomic_t hup_received = 0;

static void
on_stop_signal(int signo)
{
	(void) signo;
	stop_requested = 1;
}

static void
on_hup_signal(int signo)
{
	(void) signo;
	hup_received = 1;
}

static void
install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_stop_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = on_hup_signal;
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

/* Sleep up to secs, waking early when a stop is requested. */
static void
backoff_sleep(int secs)
{
	int64_t		until = relay_now_us() + (int64_t) secs * 1000000;

	while (!stop_requested && relay_now_us() < until)
	{
		struct timespec ts = {0, 100 * 1000 * 1000};

		nanosleep(&ts, NULL);
	}
}

static Producer *
new_producer(const RelayConfig *cfg, KafkaWriter *records)
{
	char		err[1024];
	Producer   *p = producer_create(cfg, writer_delivery_fn(), records, err, sizeof(err));

	if (p == NULL)
		relay_log(RELAY_LOG_ERROR, "%s", err);
	return p;
}

/* The producer's queue.buffering.max.messages: ours, unless -X set one. */
static uint64_t
queue_capacity(const RelayConfig *cfg)
{
	uint64_t	n = PRODUCER_QUEUE_MESSAGES;
	size_t		i;

	for (i = 0; i < cfg->kafka.count; i++)
	{
		if (strcmp(cfg->kafka.items[i].name, "queue.buffering.max.messages") == 0)
			n = strtoull(cfg->kafka.items[i].value, NULL, 10);
	}
	return n;
}

/*
 * Start the metrics endpoint unless metrics-listen is "off".  Returns 0
 * (with *m NULL when off), or -1 after logging why.
 */
static int
start_metrics(const RelayConfig *cfg, Metrics **m)
{
	MetricsConfig mc = {0};
	char		host[256];
	char		err[512];
	int			port;

	*m = NULL;
	if (cfg->metrics_listen == NULL || strcmp(cfg->metrics_listen, "off") == 0)
		return 0;
	if (metrics_http_parse_listen(cfg->metrics_listen, host, sizeof(host), &port, err, sizeof(err)) != 0)
	{
		relay_log(RELAY_LOG_ERROR, "invalid value for option \"metrics-listen\": %s", err);
		return -1;
	}
	mc.listen_host = host;
	mc.port = port;
	mc.max_lag_bytes = cfg->health_max_lag_bytes;
	mc.max_error_ratio = cfg->health_max_error_ratio;
	*m = metrics_start(&mc, err, sizeof(err));
	if (*m == NULL)
	{
		relay_log(RELAY_LOG_ERROR, "%s", err);
		relay_log_hint(RELAY_LOG_ERROR, "Choose another address with --metrics-listen, or turn the endpoint off with --metrics-listen=off.");
		return -1;
	}
	relay_log(RELAY_LOG_INFO, "metrics at http://%s:%d/metrics", host, metrics_port(*m));
	return 0;
}

static int
stream_main(RelayConfig *cfg)
{
	LsnTracker	tracker;
	KafkaWriter    *records;
	StreamLoop	state;
	int			backoff = 1;
	PgRetry		retry = {0};
	int			exit_code = RELAY_EXIT_OK;
	int			fatal_restarts = 0; /* in a row, see FATAL_RESTARTS_MAX */
	Lsn			fatal_confirmed = INVALID_LSN;	/* at the last one */

	lsn_tracker_init(&tracker, INVALID_LSN);
	records = writer_create(cfg, &tracker);
	if (records == NULL)
	{
		relay_log(RELAY_LOG_ERROR, "could not set up the Kafka writer");
		return RELAY_EXIT_CONFIG;
	}
	memset(&state, 0, sizeof(state));
	state.cfg = cfg;
	state.tracker = &tracker;
	state.records = records;
	state.stop_requested = &stop_requested;
	state.hup_requested = &hup_received;
	state.producer = new_producer(cfg, records);
	if (state.producer == NULL)
	{
		writer_free(records);
		return RELAY_EXIT_CONFIG;
	}
	writer_set_producer(records, state.producer);
	relay_log(RELAY_LOG_INFO, "%s %s: slot \"%s\", brokers %s", RELAY_PROGNAME, RELAY_VERSION,
			  cfg->slot, cfg->brokers ? cfg->brokers : "(librdkafka default)");
	if (start_metrics(cfg, &state.metrics) != 0)
	{
		producer_destroy(state.producer, 0);
		writer_free(records);
		lsn_tracker_free(&tracker);
		return RELAY_EXIT_CONFIG;
	}
	writer_set_metrics(records, state.metrics);
	state.queue_capacity = queue_capacity(cfg);
	state.heartbeat = heartbeat_create(cfg);
	state.ondemand = ondemand_create(cfg, state.metrics);
	state.position = position_create(cfg);
	if (state.ondemand == NULL || state.position == NULL)
	{
		relay_log(RELAY_LOG_ERROR, "out of memory");
		position_free(state.position);
		ondemand_free(state.ondemand);
		heartbeat_free(state.heartbeat);
		metrics_stop(state.metrics);
		producer_destroy(state.producer, 0);
		writer_free(records);
		lsn_tracker_free(&tracker);
		return RELAY_EXIT_CONFIG;
	}

	for (;;)
	{
		LoopResult	r;
		PgRetryAction action;

		loop_reopen_log(&state);
		r = loop_stream(&state);
		if (r == LOOP_STOPPED || r == LOOP_ENDPOS)
			break;
		if (r == LOOP_FATAL_PG)
		{
			if (state.pgerr.sqlstate[0] == '\0')
				relay_log(RELAY_LOG_ERROR, "%s", state.err);
			else
				relay_log(RELAY_LOG_ERROR, "%s (SQLSTATE %s, %s)", state.err,
						  state.pgerr.sqlstate, pgerror_class_name(state.pgerr.cls));
			exit_code = RELAY_EXIT_PG;
			break;
		}
		if (r == LOOP_FATAL_KAFKA)
		{
			relay_log(RELAY_LOG_ERROR, "%s", state.err);
			if (writer_failure_hint(records))
				relay_log_hint(RELAY_LOG_ERROR, "%s", writer_failure_hint(records));
			else if (cfg->on_error == RELAY_ON_ERROR_DEAD_LETTER)
				relay_log_hint(RELAY_LOG_ERROR,
							   "Nothing past the failed record was confirmed. Fix the cause (the dead-letter topic must take the record) and start again.");
			else
				relay_log_hint(RELAY_LOG_ERROR,
							   "Nothing past the failed record was confirmed. Fix the cause (or set on-error = dead-letter) and start again.");
			exit_code = RELAY_EXIT_KAFKA;
			break;
		}
		if (r == LOOP_ISOLATE)
		{
			/*
			 * Nothing past the refused batch was confirmed: drop what is in
			 * flight and replay from the confirmed position at once.
			 */
			relay_log(RELAY_LOG_WARNING, "%s: sending the records since the last confirmed position again one at a time, to find the refused one",
					  state.err);
			writer_discard_deliveries(records, true);
			producer_destroy(state.producer, 0);
			writer_discard_deliveries(records, false);
			writer_start_isolation(records);
			state.producer = new_producer(cfg, records);
			if (state.producer == NULL)
			{
				exit_code = RELAY_EXIT_KAFKA;
				break;
			}
			writer_set_producer(records, state.producer);
			if (stop_requested)
				break;
			continue;
		}
		if (r == LOOP_RESTART_PRODUCER)
		{
			Lsn			confirmed = lsn_tracker_safe_lsn(&tracker);

			if (fatal_restarts > 0 && confirmed > fatal_confirmed)
				fatal_restarts = 0;
			fatal_confirmed = confirmed;
			if (++fatal_restarts >= FATAL_RESTARTS_MAX)
			{
				relay_log(RELAY_LOG_ERROR, "%d Kafka producer failures in a row, the confirmed position staying at " LSN_FMT ": giving up: %s",
						  fatal_restarts, LSN_ARGS(confirmed), state.err);
				relay_log_hint(RELAY_LOG_ERROR,
							   "Nothing past the confirmed position was confirmed. A new producer did not help; fix the cause the error names and start again.");
				exit_code = RELAY_EXIT_KAFKA;
				break;
			}
			relay_log(RELAY_LOG_WARNING, "recreating the Kafka producer after %s (%d of %d in a row): %s; replaying from " LSN_FMT,
					  producer_fatal(state.producer, NULL, 0) ? "a fatal error" : "a failed delivery",
					  fatal_restarts, FATAL_RESTARTS_MAX, state.err, LSN_ARGS(confirmed));
			writer_discard_deliveries(records, true);
			producer_destroy(state.producer, 0);
			writer_discard_deliveries(records, false);
			state.producer = new_producer(cfg, records);
			if (state.producer == NULL)
			{
				exit_code = RELAY_EXIT_KAFKA;
				break;
			}
			writer_set_producer(records, state.producer);
		}
		else if (state.kafka_failed || state.pgerr.sqlstate[0] == '\0')
			relay_log(RELAY_LOG_WARNING, "%s", state.err);
		else
			relay_log(RELAY_LOG_WARNING, "%s (SQLSTATE %s, %s)", state.err,
					  state.pgerr.sqlstate, pgerror_class_name(state.pgerr.cls));

		action = pgerror_note_failure(&retry, state.stream_pos,
									  r == LOOP_RETRY && !state.kafka_failed ?
									  state.pgerr.cls : PGERROR_TRANSIENT);
		if (action == PGRETRY_AGAIN_AT_ONCE)
			backoff = 1;
		if (action == PGRETRY_STOP)
		{
			relay_log(RELAY_LOG_ERROR, "the same failure came %d times in a row at " LSN_FMT ": %s",
					  retry.repeats, LSN_ARGS(retry.failed_at), state.err);
			relay_log_hint(RELAY_LOG_ERROR,
						   "Nothing past the failing transaction was confirmed. Fix the cause and start again.");
			exit_code = RELAY_EXIT_PG;
			break;
		}

		loop_publish_metrics(&state, false);
		metrics_inc_reconnects(state.metrics);
		if (stop_requested)
			break;
		if (cfg->no_loop)
		{
			exit_code = r == LOOP_RESTART_PRODUCER || state.kafka_failed ?
				RELAY_EXIT_KAFKA : RELAY_EXIT_PG;
			break;
		}
		relay_log(RELAY_LOG_INFO, "reconnecting in %d s", backoff);
		backoff_sleep(backoff);
		if (stop_requested)
			break;
		backoff = backoff * 2 > cfg->reconnect_max_backoff ? cfg->reconnect_max_backoff : backoff * 2;
	}

	position_free(state.position);
	ondemand_free(state.ondemand);
	heartbeat_free(state.heartbeat);
	metrics_stop(state.metrics);
	producer_destroy(state.producer, 10000);
	writer_free(records);
	lsn_tracker_free(&tracker);
	return exit_code;
}

int
main(int argc, char **argv)
{
	RelayConfig cfg;
	char		err[1024];
	int			rc;

	if (argc > 1 && strcmp(argv[1], "tail") == 0)
	{
		install_signals();
		return tail_main(argc - 1, argv + 1, &stop_requested);
	}

	if (config_parse(&cfg, argc, argv, err, sizeof(err)) != 0)
	{
		relay_log(RELAY_LOG_ERROR, "%s", err);
		relay_log_hint(RELAY_LOG_ERROR, "Try \"%s --help\" for more information.", RELAY_PROGNAME);
		config_free(&cfg);
		return RELAY_EXIT_CONFIG;
	}
	switch (cfg.action)
	{
		case RELAY_ACTION_HELP:
			config_usage(stdout);
			config_free(&cfg);
			return RELAY_EXIT_OK;
		case RELAY_ACTION_VERSION:
			config_version(stdout);
			config_free(&cfg);
			return RELAY_EXIT_OK;
		case RELAY_ACTION_PRINT_CONFIG:
			config_print(&cfg, stdout);
			config_free(&cfg);
			return RELAY_EXIT_OK;
		case RELAY_ACTION_STREAM:
			break;
	}
	relay_log_set_level(cfg.log_level);
	if (cfg.log_file && relay_log_open(cfg.log_file) != 0)
	{
		relay_log(RELAY_LOG_ERROR, "could not open log file \"%s\": %s", cfg.log_file,
				  strerror(errno));
		config_free(&cfg);
		return RELAY_EXIT_CONFIG;
	}
	install_signals();
	rc = stream_main(&cfg);
	config_free(&cfg);
	return rc;
}
