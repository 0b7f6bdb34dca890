/*-------------------------------------------------------------------------
 *
 * test_kafka_writer_mock.c
 *		Unit tests for relay/kafka_writer.c and relay/producer.c against
 *		librdkafka's mock cluster: a fatal idempotent-producer error, under
 *		load and idle, under on-error=stop and on-error=dead-letter; and how
 *		soon records are delivered once every broker is back after an
 *		outage.
 *
 * The mock cluster runs inside this process (no network beyond loopback,
 * no broker to start).  rd_kafka_test_fatal_error raises a fatal error on
 * the relay's producer as librdkafka would after a broken sequence.  What
 * must hold: the dead producer refuses no record (no failure under
 * on-error=stop, nothing to the dead-letter topic, no isolation), the frame
 * being produced waits and producer_fatal asks for a new producer, no LSN
 * at or past a record that was not delivered is ever safe, and after the
 * producer is recreated the replay from the safe LSN delivers everything.
 * Under load the brokers answer slowly (a round-trip time), so records are
 * in flight when the error strikes.
 *
 * The outage: every broker refuses connections for OUTAGE_S seconds, long
 * enough for librdkafka's reconnect backoff to grow to its maximum; once
 * they are up, what waited must be acknowledged within RECOVERY_BOUND_US
 * (a bound, generous for a loaded machine; measured: under 1.5 s, with
 * librdkafka's default reconnect.backoff.max.ms of 10 s as with the
 * producer's 1 s, which the test also checks is in effect).
 *
 * --provide-transaction-metadata: the END record of a transaction is on a
 * slow broker; its changes are acknowledged long before it, and no LSN of
 * the transaction is safe until the END is.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * regress/relay/test_kafka_writer_mock.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "clock.h"
#include "config.h"
#include "frames.h"
#include "kafka_writer.h"
#include "log.h"
#include "lsn.h"
#include "lsn_tracker.h"
#include "producer.h"
#include "unit.h"
#include "wal2avro_protocol.h"

#define BROKERS			3
#define RELID			16384
#define KEY_FP			UINT64_C(0x1111222233334444)
#define VALUE_FP		UINT64_C(0x5555666677778888)
#define START_LSN		UINT64_C(0x1000000)
#define PER_TXN			250		/* records in one transaction */
#define STRIDE			(PER_TXN + 2)	/* LSNs one transaction spans */
#define TXNS			40
#define LOAD_FATAL_AT	10		/* under load: after this many transactions */
#define IDLE_TXNS		5
#define SLOW_RTT_MS		300		/* under load: records stay in flight */
#define WAIT_US			(30 * 1000000LL)
#define OUTAGE_S		15		/* librdkafka's backoff reaches 10 s in ~13 s */
#define RECOVERY_BOUND_US	(4 * 1000000LL)

static const char key_schema[] = "{\"type\":\"record\",\"name\":\"k\",\"fields\":[{\"name\":\"id\",\"type\":\"long\"}]}";
static const char value_schema[] = "{\"type\":\"record\",\"name\":\"v\",\"fields\":[{\"name\":\"id\",\"type\":\"long\"}]}";
static const uint8_t datum[] = {0x02};	/* Avro long 1 */

/* One run: the module under test and what its delivery reports said */
typedef struct Fixture
{
	RelayConfig cfg;
	LsnTracker	tracker;
	KafkaWriter    *records;
	Producer   *producer;
	char		table_topic[256];
	uint64_t	delivered;		/* change records reported delivered */
	uint64_t	min_lost;		/* lowest LSN of a change record not delivered */
	uint64_t	dead_lettered;	/* records reported for the dead-letter topic */
	uint64_t	messages;		/* records delivered to wal2avro.message */
	uint64_t	txmeta_delivered;	/* BEGIN/END records reported delivered */
} Fixture;

static const char *const *extra_args;	/* more options for it, NULL-terminated */
static rd_kafka_t *mock_rk;		/* owns the mock cluster */
static rd_kafka_mock_cluster_t *mock;

static uint64_t
txn_end(int i)
{
	return START_LSN + (uint64_t) i * STRIDE + PER_TXN + 1;
}

/* Every report goes through here to the module's own callback. */
static void
watch_delivery(void *ctx, const rd_kafka_message_t *m)
{
	Fixture    *fx = ctx;
	const char *topic = rd_kafka_topic_name(m->rkt);

	if (fx->cfg.dead_letter_topic && strcmp(topic, fx->cfg.dead_letter_topic) == 0)
		fx->dead_lettered++;
	else if (strcmp(topic, "wal2avro.message") == 0 && m->err == RD_KAFKA_RESP_ERR_NO_ERROR)
		fx->messages++;
	else if (strcmp(topic, "wal2avro.transaction") == 0)
		fx->txmeta_delivered += m->err == RD_KAFKA_RESP_ERR_NO_ERROR;
	else if (strcmp(topic, fx->table_topic) == 0)
	{
		rd_kafka_headers_t *hdrs;
		const void *v;
		size_t		len;
		char		buf[32];
		unsigned	hi,
					lo;

		if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR)
			fx->delivered++;
		else if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR &&
				 rd_kafka_header_get_last(hdrs, "wal2avro.lsn", &v, &len) == RD_KAFKA_RESP_ERR_NO_ERROR &&
				 len < sizeof(buf))
		{
			memcpy(buf, v, len);
			buf[len] = '\0';
			if (sscanf(buf, "%X/%X", &hi, &lo) == 2 &&
				(((uint64_t) hi << 32) | lo) < fx->min_lost)
				fx->min_lost = ((uint64_t) hi << 32) | lo;
		}
		else
			fx->min_lost = 0;	/* cannot tell: fails the check below */
	}
	writer_delivery_fn() (fx->records, m);
}

static bool
new_producer(Fixture *fx)
{
	char		err[512];

	fx->producer = producer_create(&fx->cfg, watch_delivery, fx, err, sizeof(err));
	if (fx->producer == NULL)
	{
		fprintf(stderr, "producer_create: %s\n", err);
		return false;
	}
	writer_set_producer(fx->records, fx->producer);
	return true;
}

/* setup with one -X option (property may be NULL). */
static bool
setup_with(Fixture *fx, bool dead_letter, const char *property)
{
	char	   *argv[16];
	int			argc = 0;
	char		brokers[512];
	char		err[512];

	memset(fx, 0, sizeof(*fx));
	fx->min_lost = UINT64_MAX;
	snprintf(brokers, sizeof(brokers), "%s", rd_kafka_mock_cluster_bootstraps(mock));
	argv[argc++] = "wal2avro-relay";
	argv[argc++] = "-b";
	argv[argc++] = brokers;
	if (property)
	{
		argv[argc++] = "-X";
		argv[argc++] = (char *) property;
	}
	for (int i = 0; extra_args && extra_args[i]; i++)
		argv[argc++] = (char *) extra_args[i];
	if (dead_letter)
	{
		argv[argc++] = "--on-error=dead-letter";
		argv[argc++] = "--dead-letter-topic=dlq";
	}
	argv[argc] = NULL;
	if (config_parse(&fx->cfg, argc, argv, err, sizeof(err)) != 0)
	{
		fprintf(stderr, "config_parse: %s\n", err);
		return false;
	}
	config_expand_topic(&fx->cfg, "public", "t", NULL, fx->table_topic, sizeof(fx->table_topic), NULL);
	lsn_tracker_init(&fx->tracker, START_LSN);
	fx->records = writer_create(&fx->cfg, &fx->tracker);
	return fx->records != NULL && new_producer(fx);
}

static bool
setup(Fixture *fx, bool dead_letter)
{
	return setup_with(fx, dead_letter, NULL);
}

static void
teardown(Fixture *fx)
{
	writer_discard_deliveries(fx->records, true);
	producer_destroy(fx->producer, 0);
	writer_free(fx->records);
	lsn_tracker_free(&fx->tracker);
	config_free(&fx->cfg);
}

/*
 * As main does after a fatal error or a failed delivery: drop the producer
 * with what it holds, a new one, and the replay starts from the safe LSN.
 * False (and the fixture torn down) when no producer could be made.
 */
static bool
restart_producer(Fixture *fx)
{
	writer_discard_deliveries(fx->records, true);
	producer_destroy(fx->producer, 0);
	writer_discard_deliveries(fx->records, false);
	if (!new_producer(fx))
	{
		CHECK(!"new producer");
		teardown(fx);
		return false;
	}
	lsn_tracker_reset(&fx->tracker);
	writer_reset(fx->records);
	return true;
}

/*
 * Give one frame to the module as the loop does, serving events while it
 * waits.  Returns what writer_handle_frame returned last; WRITER_WAIT only
 * when the producer is dead.
 */
static WriterResult
feed(Fixture *fx, const Frame *f)
{
	WriterStage stage = WRITER_STAGE_NONE;
	int64_t		deadline = relay_now_us() + WAIT_US;
	char		err[512];
	WriterResult rc;

	while ((rc = writer_handle_frame(fx->records, f, &stage, err, sizeof(err))) == WRITER_WAIT)
	{
		if (producer_fatal(fx->producer, NULL, 0) || relay_now_us() > deadline)
			break;
		producer_poll(fx->producer, 10);
	}
	if (rc == WRITER_ERROR || rc == WRITER_FAILED)
		fprintf(stderr, "writer_handle_frame: %s\n", err);
	return rc;
}

static WriterResult
feed_schema_of(Fixture *fx, uint32_t relid)
{
	Frame		f;

	memset(&f, 0, sizeof(f));
	f.kind = W2A_FRAME_SCHEMA;
	f.schema.relid = relid;
	f.schema.key_fingerprint = KEY_FP;
	f.schema.value_fingerprint = VALUE_FP;
	f.schema.schema_name = (FrameBytes) {(const uint8_t *) "public", 6};
	f.schema.table_name = (FrameBytes) {(const uint8_t *) "t", 1};
	f.schema.key_schema = (FrameBytes) {(const uint8_t *) key_schema, sizeof(key_schema) - 1};
	f.schema.value_schema = (FrameBytes) {(const uint8_t *) value_schema, sizeof(value_schema) - 1};
	return feed(fx, &f);
}

static WriterResult
feed_schema(Fixture *fx)
{
	return feed_schema_of(fx, RELID);
}

/* Transaction i, from BEGIN to COMMIT; stops at the first frame not OK. */
static WriterResult
feed_txn(Fixture *fx, int i)
{
	Frame		f;
	WriterResult rc;
	int			j;

	memset(&f, 0, sizeof(f));
	f.kind = W2A_FRAME_BEGIN;
	f.begin.xid = 1000 + i;
	f.begin.commit_lsn = txn_end(i) - 1;
	if ((rc = feed(fx, &f)) != WRITER_OK)
		return rc;
	for (j = 0; j < PER_TXN; j++)
	{
		memset(&f, 0, sizeof(f));
		f.kind = W2A_FRAME_CHANGE;
		f.change.op = W2A_OP_CREATE;
		f.change.relid = RELID;
		f.change.lsn = START_LSN + (uint64_t) i * STRIDE + 1 + j;
		f.change.key_fingerprint = KEY_FP;
		f.change.value_fingerprint = VALUE_FP;
		f.change.has_key = true;
		f.change.key = (FrameBytes) {datum, sizeof(datum)};
		f.change.value = (FrameBytes) {datum, sizeof(datum)};
		if ((rc = feed(fx, &f)) != WRITER_OK)
			return rc;
	}
	memset(&f, 0, sizeof(f));
	f.kind = W2A_FRAME_COMMIT;
	f.commit.commit_lsn = txn_end(i) - 1;
	f.commit.end_lsn = txn_end(i);
	f.commit.change_count = PER_TXN;
	return feed(fx, &f);
}

/* Serve events until the safe LSN reaches lsn (or the wait ends). */
static Lsn
wait_safe(Fixture *fx, Lsn lsn)
{
	int64_t		deadline = relay_now_us() + WAIT_US;

	while (lsn_tracker_safe_lsn(&fx->tracker) < lsn && relay_now_us() < deadline)
		producer_poll(fx->producer, 50);
	return lsn_tracker_safe_lsn(&fx->tracker);
}

/* Serve events for ms milliseconds. */
static void
serve(Fixture *fx, int ms)
{
	int64_t		until = relay_now_us() + (int64_t) ms * 1000;

	while (relay_now_us() < until)
		producer_poll(fx->producer, 20);
}

static void
set_rtt(int ms)
{
	int			b;

	for (b = 1; b <= BROKERS; b++)
		rd_kafka_mock_broker_set_rtt(mock, b, ms);
}

/* Nothing the dead producer reported may count as a refused record. */
static void
check_nothing_refused(Fixture *fx)
{
	char		err[512];

	CHECK(!writer_failed(fx->records, err, sizeof(err)));
	CHECK(!writer_isolation_needed(fx->records, err, sizeof(err)));
	CHECK_INT(writer_stats(fx->records)->delivery_errors, 0);
	CHECK_INT(fx->dead_lettered, 0);
}

/*
 * Load: TXNS transactions, the fatal error after LOAD_FATAL_AT of them
 * while their records are still in flight (slow brokers); then the loop's
 * recovery: drop the producer, a new one, replay from the safe LSN.
 */
static void
test_fatal_under_load(bool dead_letter)
{
	Fixture		fx;
	char		err[512];
	int			i;
	int			first_replayed;
	Lsn			safe;
	WriterResult rc = WRITER_OK;

	if (!setup(&fx, dead_letter))
	{
		CHECK(!"setup");
		return;
	}
	CHECK_INT(feed_schema(&fx), WRITER_OK);
	CHECK_INT(feed_txn(&fx, 0), WRITER_OK);
	CHECK_U64(wait_safe(&fx, txn_end(0)), txn_end(0));

	set_rtt(SLOW_RTT_MS);
	for (i = 1; i < LOAD_FATAL_AT; i++)
		CHECK_INT(feed_txn(&fx, i), WRITER_OK);
	CHECK(lsn_tracker_safe_lsn(&fx.tracker) < txn_end(LOAD_FATAL_AT - 1));	/* in flight */
	CHECK_INT(rd_kafka_test_fatal_error(producer_handle(fx.producer),
										RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER,
										"injected by test_records_fatal"),
			  RD_KAFKA_RESP_ERR_NO_ERROR);

	/* the next record finds the producer dead: it waits, it is not refused */
	for (; i < TXNS && rc == WRITER_OK; i++)
		rc = feed_txn(&fx, i);
	CHECK_INT(rc, WRITER_WAIT);
	CHECK(producer_fatal(fx.producer, err, sizeof(err)));
	CHECK_CONTAINS(err, "injected by test_records_fatal");
	check_nothing_refused(&fx);

	/* the reports of what was in flight still refuse nothing */
	serve(&fx, 3 * SLOW_RTT_MS);
	check_nothing_refused(&fx);
	CHECK(producer_fatal(fx.producer, NULL, 0));

	/* as main does: drop the producer with what it holds, a new one */
	writer_discard_deliveries(fx.records, true);
	producer_destroy(fx.producer, 0);
	writer_discard_deliveries(fx.records, false);
	safe = lsn_tracker_safe_lsn(&fx.tracker);
	CHECK(fx.min_lost != UINT64_MAX);	/* records were in flight */
	CHECK(safe < fx.min_lost);	/* nothing at or past a lost record */
	CHECK(safe < txn_end(LOAD_FATAL_AT - 1));

	set_rtt(0);
	if (!new_producer(&fx))
	{
		CHECK(!"new producer");
		teardown(&fx);
		return;
	}
	lsn_tracker_reset(&fx.tracker);
	writer_reset(fx.records);
	fx.delivered = 0;
	for (first_replayed = 0; txn_end(first_replayed) <= safe; first_replayed++)
		;
	CHECK_INT(feed_schema(&fx), WRITER_OK);
	for (i = first_replayed; i < TXNS; i++)
		CHECK_INT(feed_txn(&fx, i), WRITER_OK);
	CHECK_U64(wait_safe(&fx, txn_end(TXNS - 1)), txn_end(TXNS - 1));
	CHECK_INT(fx.delivered, (uint64_t) (TXNS - first_replayed) * PER_TXN);
	CHECK(!producer_fatal(fx.producer, NULL, 0));
	check_nothing_refused(&fx);
	teardown(&fx);
}

/* Idle: everything acknowledged, then the fatal error, then more data. */
static void
test_fatal_idle(bool dead_letter)
{
	Fixture		fx;
	char		err[512];
	int			i;

	if (!setup(&fx, dead_letter))
	{
		CHECK(!"setup");
		return;
	}
	CHECK_INT(feed_schema(&fx), WRITER_OK);
	for (i = 0; i < IDLE_TXNS; i++)
		CHECK_INT(feed_txn(&fx, i), WRITER_OK);
	CHECK_U64(wait_safe(&fx, txn_end(IDLE_TXNS - 1)), txn_end(IDLE_TXNS - 1));

	CHECK_INT(rd_kafka_test_fatal_error(producer_handle(fx.producer),
										RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER,
										"injected while idle"),
			  RD_KAFKA_RESP_ERR_NO_ERROR);
	serve(&fx, 200);
	CHECK(producer_fatal(fx.producer, err, sizeof(err)));
	CHECK_CONTAINS(err, "injected while idle");
	check_nothing_refused(&fx);
	CHECK_U64(lsn_tracker_safe_lsn(&fx.tracker), txn_end(IDLE_TXNS - 1));
	/* a produce now waits; it does not refuse the record */
	CHECK_INT(feed_txn(&fx, IDLE_TXNS), WRITER_WAIT);
	check_nothing_refused(&fx);

	if (!restart_producer(&fx))
		return;
	fx.delivered = 0;
	CHECK_INT(feed_schema(&fx), WRITER_OK);
	for (i = IDLE_TXNS; i < 2 * IDLE_TXNS; i++)
		CHECK_INT(feed_txn(&fx, i), WRITER_OK);
	CHECK_U64(wait_safe(&fx, txn_end(2 * IDLE_TXNS - 1)), txn_end(2 * IDLE_TXNS - 1));
	CHECK_INT(fx.delivered, (uint64_t) IDLE_TXNS * PER_TXN);
	check_nothing_refused(&fx);
	teardown(&fx);
}

/*
 * Every broker down for OUTAGE_S seconds with records waiting, then up: the
 * records must be acknowledged within RECOVERY_BOUND_US.
 */
static void
test_recovery_after_outage(void)
{
	Fixture		fx;
	int			b;
	int			i;
	int64_t		up_at;
	int64_t		took;
	char		value[32];
	size_t		len;

	if (!setup(&fx, false))
	{
		CHECK(!"setup");
		return;
	}
	/* a broker that is back is tried again within a second */
	len = sizeof(value);
	CHECK_INT(rd_kafka_conf_get(rd_kafka_conf(producer_handle(fx.producer)),
								"reconnect.backoff.max.ms", value, &len), RD_KAFKA_CONF_OK);
	CHECK(atoi(value) <= 1000);

	CHECK_INT(feed_schema(&fx), WRITER_OK);
	CHECK_INT(feed_txn(&fx, 0), WRITER_OK);
	CHECK_U64(wait_safe(&fx, txn_end(0)), txn_end(0));

	for (b = 1; b <= BROKERS; b++)
		rd_kafka_mock_broker_set_down(mock, b);
	for (i = 1; i <= 3; i++)
		CHECK_INT(feed_txn(&fx, i), WRITER_OK);
	serve(&fx, OUTAGE_S * 1000);
	CHECK_U64(lsn_tracker_safe_lsn(&fx.tracker), txn_end(0));	/* nothing acknowledged */
	CHECK(!producer_connected(fx.producer));

	for (b = 1; b <= BROKERS; b++)
		rd_kafka_mock_broker_set_up(mock, b);
	up_at = relay_now_us();
	CHECK_U64(wait_safe(&fx, txn_end(3)), txn_end(3));
	took = relay_now_us() - up_at;
	printf("test_kafka_writer_mock: acknowledged %.1f s after every broker was up again\n", took / 1e6);
	CHECK(took < RECOVERY_BOUND_US);
	check_nothing_refused(&fx);
	teardown(&fx);
}

/*
 * A record librdkafka drops for a local, passing cause (here its message
 * timeout while every broker is down) is not refused: no failure, nothing
 * dead-lettered or isolated, nothing past it confirmed, and the module asks
 * for a replay, after which everything is delivered.
 */
static void
test_local_failure_replays(bool dead_letter)
{
	Fixture		fx;
	char		err[512];
	int			b;
	int64_t		deadline;

	if (!setup_with(&fx, dead_letter, "message.timeout.ms=1000"))
	{
		CHECK(!"setup");
		return;
	}
	CHECK_INT(feed_schema(&fx), WRITER_OK);
	CHECK_INT(feed_txn(&fx, 0), WRITER_OK);
	CHECK_U64(wait_safe(&fx, txn_end(0)), txn_end(0));

	for (b = 1; b <= BROKERS; b++)
		rd_kafka_mock_broker_set_down(mock, b);
	CHECK_INT(feed_txn(&fx, 1), WRITER_OK);
	deadline = relay_now_us() + WAIT_US;
	while (!writer_replay_needed(fx.records, err, sizeof(err)) && relay_now_us() < deadline)
		producer_poll(fx.producer, 50);
	CHECK(writer_replay_needed(fx.records, err, sizeof(err)));
	CHECK_CONTAINS(err, "failed for a passing cause");
	check_nothing_refused(&fx);
	CHECK_U64(lsn_tracker_safe_lsn(&fx.tracker), txn_end(0));

	/* the loop's answer: a new producer, the replay from the safe LSN */
	for (b = 1; b <= BROKERS; b++)
		rd_kafka_mock_broker_set_up(mock, b);
	if (!restart_producer(&fx))
		return;
	CHECK(!writer_replay_needed(fx.records, err, sizeof(err)));
	fx.delivered = 0;
	CHECK_INT(feed_schema(&fx), WRITER_OK);
	CHECK_INT(feed_txn(&fx, 1), WRITER_OK);
	CHECK_U64(wait_safe(&fx, txn_end(1)), txn_end(1));
	CHECK_INT(fx.delivered, (uint64_t) PER_TXN);
	check_nothing_refused(&fx);
	CHECK(!writer_replay_needed(fx.records, err, sizeof(err)));
	teardown(&fx);
}

/*
 * --provide-transaction-metadata: BEGIN and END go to a partition led by a
 * slow broker, the changes to a fast one.  The changes are acknowledged,
 * the END is not yet: nothing of the transaction is safe until it is.
 */
static void
test_transaction_topic_tracked(void)
{
	static const char *const args[] = {
		"--key-format=json", "--value-format=json", "--provide-transaction-metadata", NULL
	};
	Fixture		fx;
	int64_t		deadline;

	extra_args = args;
	if (!setup(&fx, false))
	{
		extra_args = NULL;
		CHECK(!"setup");
		return;
	}
	extra_args = NULL;
	rd_kafka_mock_partition_set_leader(mock, "_wal2avro_schemas", 0, 1);
	rd_kafka_mock_partition_set_leader(mock, "wal2avro.public.t", 0, 1);
	rd_kafka_mock_partition_set_leader(mock, "wal2avro.transaction", 0, 2);
	rd_kafka_mock_broker_set_rtt(mock, 2, 2000);
	CHECK_INT(feed_schema(&fx), WRITER_OK);
	CHECK_INT(feed_txn(&fx, 0), WRITER_OK);
	deadline = relay_now_us() + WAIT_US;
	while (fx.delivered < PER_TXN && relay_now_us() < deadline)
		producer_poll(fx.producer, 20);
	CHECK_INT(fx.delivered, (uint64_t) PER_TXN);
	if (fx.txmeta_delivered < 2)
		CHECK(lsn_tracker_safe_lsn(&fx.tracker) < txn_end(0));
	else
		CHECK(!"the slow broker acknowledged BEGIN and END as soon as the changes");
	CHECK_U64(wait_safe(&fx, txn_end(0)), txn_end(0));
	CHECK_INT(fx.txmeta_delivered, 2);
	rd_kafka_mock_broker_set_rtt(mock, 2, 0);
	check_nothing_refused(&fx);
	teardown(&fx);
}

/* Which local errors are passing ones, and that a broker's refusal is not */
/*
 * compat=debezium's non-transactional message: a CHANGE with op m on the
 * message pseudo relation outside BEGIN/COMMIT is a transaction of one
 * record on <prefix>.message, not confirmed while it is in flight (slow
 * brokers), confirmed once acknowledged.  Any other change outside a
 * transaction is an error.
 */
static void
test_lone_message(void)
{
	Fixture		fx;
	Frame		f;
	WriterStage stage = WRITER_STAGE_NONE;
	char		err[512];
	Lsn			lsn = START_LSN + 10;

	if (!setup(&fx, false))
	{
		CHECK(!"setup");
		return;
	}
	CHECK_INT(feed_schema_of(&fx, W2A_MESSAGE_RELID), WRITER_OK);
	set_rtt(SLOW_RTT_MS);
	memset(&f, 0, sizeof(f));
	f.kind = W2A_FRAME_CHANGE;
	f.change.op = W2A_OP_MESSAGE;
	f.change.relid = W2A_MESSAGE_RELID;
	f.change.non_transactional = true;
	f.change.lsn = lsn;
	f.change.key_fingerprint = KEY_FP;
	f.change.value_fingerprint = VALUE_FP;
	f.change.has_key = true;
	f.change.key = (FrameBytes) {datum, sizeof(datum)};
	f.change.value = (FrameBytes) {datum, sizeof(datum)};
	CHECK_INT(feed(&fx, &f), WRITER_OK);
	CHECK(lsn_tracker_safe_lsn(&fx.tracker) < lsn);
	CHECK_INT(wait_safe(&fx, lsn), lsn);
	CHECK_INT(fx.messages, 1);
	set_rtt(0);

	f.change.op = W2A_OP_CREATE;
	f.change.non_transactional = false;
	f.change.lsn = lsn + 1;
	CHECK_INT(writer_handle_frame(fx.records, &f, &stage, err, sizeof(err)), WRITER_ERROR);
	CHECK_CONTAINS(err, "change (op c) outside a transaction");
	CHECK_INT(lsn_tracker_safe_lsn(&fx.tracker), lsn);
	teardown(&fx);
}

/*
 * A caller that waits (producer_poll with a timeout) gets what it produced
 * sent at once, not after linger.ms: with a linger of ten minutes the
 * transaction is still acknowledged within the usual wait.  The same
 * producer with polls that do not wait must not have sent it: the wait is
 * what sends.
 */
static void
test_send_when_waiting(void)
{
	Fixture		fx;
	int64_t		until;

	if (!setup_with(&fx, false, "linger.ms=600000"))
	{
		CHECK(!"setup");
		return;
	}
	CHECK_INT(feed_schema(&fx), WRITER_OK);
	CHECK_INT(wait_safe(&fx, START_LSN), START_LSN);
	CHECK_INT(feed_txn(&fx, 0), WRITER_OK);
	until = relay_now_us() + 300 * 1000;
	while (relay_now_us() < until)
		producer_poll(fx.producer, 0);
	CHECK(lsn_tracker_safe_lsn(&fx.tracker) < txn_end(0));
	CHECK_U64(wait_safe(&fx, txn_end(0)), txn_end(0));
	CHECK_INT(fx.delivered, PER_TXN);
	teardown(&fx);
}

static void
test_replay_errors(void)
{
	CHECK(writer_replay_error(RD_KAFKA_RESP_ERR__DESTROY));
	CHECK(writer_replay_error(RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION));
	CHECK(writer_replay_error(RD_KAFKA_RESP_ERR__MSG_TIMED_OUT));
	CHECK(writer_replay_error(RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART));
	CHECK(!writer_replay_error(RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE));
	CHECK(!writer_replay_error(RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED));
	CHECK(!writer_replay_error(RD_KAFKA_RESP_ERR__INVALID_ARG));
	CHECK(!writer_replay_error(RD_KAFKA_RESP_ERR__FATAL));
}

int
main(void)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char		err[512];

	relay_log_set_level(RELAY_LOG_WARNING);
	rd_kafka_conf_set(conf, "log_level", "3", err, sizeof(err));	/* no "no bootstrap.servers" */
	mock_rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
	if (mock_rk == NULL || (mock = rd_kafka_mock_cluster_new(mock_rk, BROKERS)) == NULL)
	{
		fprintf(stderr, "could not start a mock cluster: %s\n", err);
		return unit_finish("test_kafka_writer_mock");
	}
	rd_kafka_mock_topic_create(mock, "_wal2avro_schemas", 1, BROKERS);
	rd_kafka_mock_topic_create(mock, "wal2avro.public.t", 1, BROKERS);
	rd_kafka_mock_topic_create(mock, "dlq", 1, BROKERS);
	rd_kafka_mock_topic_create(mock, "wal2avro.message", 1, BROKERS);
	rd_kafka_mock_topic_create(mock, "wal2avro.transaction", 1, BROKERS);

	test_fatal_idle(false);
	test_fatal_idle(true);
	test_fatal_under_load(false);
	test_fatal_under_load(true);
	test_recovery_after_outage();
	test_replay_errors();
	test_lone_message();
	test_local_failure_replays(false);
	test_local_failure_replays(true);
	test_transaction_topic_tracked();
	test_send_when_waiting();

	rd_kafka_mock_cluster_destroy(mock);
	rd_kafka_destroy(mock_rk);
	return unit_finish("test_kafka_writer_mock");
}
