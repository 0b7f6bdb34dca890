/*-------------------------------------------------------------------------
 *
 * tail.c
 *		"wal2avro-relay tail TOPIC...": a consumer that prints every event
 *		as one JSON object, decoded with Apache Avro's C library.
 *
 * It is deliberately independent of the plugin's encoder: schemas come from
 * the schema topic (keyed by fingerprint), records are Avro single-object
 * encoded, and libavro parses both.  Users keep it for debugging; the demo
 * and the end-to-end tests read Kafka through it.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/tail/tail.c
 *
 *-------------------------------------------------------------------------
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <avro.h>
#include <librdkafka/rdkafka.h>

#include "avro_json.h"
#include "clock.h"
#include "log.h"
#include "program.h"
#include "tail.h"
#include "topic_reader.h"

/* A schema read from the schema topic */
typedef struct TailSchema
{
	uint64_t	fp;
	avro_schema_t schema;
	avro_value_iface_t *iface;
} TailSchema;

typedef struct Tail
{
	const char *brokers;
	const char *schema_topic;
	TailSchema *schemas;
	size_t		count;
	size_t		cap;
} Tail;

static void
tail_usage(FILE *out)
{
	fprintf(out,
			"%s tail prints the events of wal2avro topics as JSON, one object a line.\n\n"
			"Usage:\n"
			"  %s tail [OPTION]... TOPIC...\n\n"
			"A TOPIC starting with ^ is a regular expression (e.g. \"^wal2avro\\..*\").\n\n"
			"Options:\n"
			"  -b, --brokers=LIST        bootstrap servers (default: $WAL2AVRO_BROKERS)\n"
			"      --schema-topic=NAME   topic of the schemas (default: _wal2avro_schemas)\n"
			"  -n, --count=N             exit after N events\n"
			"  -t, --timeout=SECONDS     exit after SECONDS without an event, counted once\n"
			"                            the topics are assigned (default: wait forever)\n"
			"  -X, --kafka=NAME=VALUE    a librdkafka consumer property\n"
			"      --help                show this help, then exit\n\n"
			"Exit status: 0 when stopped, counted or timed out; 1 on a usage error;\n"
			"3 on a Kafka or decoding error.\n\n"
			"Report bugs to <%s>.\n", RELAY_PROGNAME, RELAY_PROGNAME, RELAY_BUGS_URL);
}

static TailSchema *
find_schema(Tail *t, uint64_t fp)
{
	size_t		i;

	for (i = 0; i < t->count; i++)
	{
		if (t->schemas[i].fp == fp)
			return &t->schemas[i];
	}
	return NULL;
}

static void
add_schema(Tail *t, const rd_kafka_message_t *m)
{
	char		hex[17];
	uint64_t	fp;
	avro_schema_t schema;
	TailSchema *s;

	if (m->key_len != 16 || m->payload == NULL)
		return;
	memcpy(hex, m->key, 16);
	hex[16] = '\0';
	fp = strtoull(hex, NULL, 16);
	if (find_schema(t, fp))
		return;
	if (avro_schema_from_json_length(m->payload, m->len, &schema) != 0)
	{
		relay_log(RELAY_LOG_WARNING, "tail: schema %s does not parse: %s", hex, avro_strerror());
		return;
	}
	if (t->count == t->cap)
	{
		size_t		cap = t->cap ? t->cap * 2 : 16;
		TailSchema *grown = realloc(t->schemas, cap * sizeof(TailSchema));

		if (grown == NULL)
		{
			avro_schema_decref(schema);
			return;
		}
		t->schemas = grown;
		t->cap = cap;
	}
	s = &t->schemas[t->count++];
	s->fp = fp;
	s->schema = schema;
	s->iface = avro_generic_class_from_schema(schema);
}

static rd_kafka_conf_t *
consumer_conf(const char *brokers, const char *group, int nkafka, char **kafka)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char		err[512];
	int			i;

	if (brokers)
		rd_kafka_conf_set(conf, "bootstrap.servers", brokers, err, sizeof(err));
	rd_kafka_conf_set(conf, "group.id", group, err, sizeof(err));
	rd_kafka_conf_set(conf, "auto.offset.reset", "earliest", err, sizeof(err));
	rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof(err));
	rd_kafka_conf_set(conf, "enable.partition.eof", "true", err, sizeof(err));
	rd_kafka_conf_set(conf, "topic.metadata.refresh.interval.ms", "2000", err, sizeof(err));
	for (i = 0; i < nkafka; i++)
	{
		char	   *eq = strchr(kafka[i], '=');

		if (eq == NULL)
			continue;
		*eq = '\0';
		if (rd_kafka_conf_set(conf, kafka[i], eq + 1, err, sizeof(err)) != RD_KAFKA_CONF_OK)
			relay_log(RELAY_LOG_WARNING, "tail: %s", err);
		*eq = '=';
	}
	return conf;
}

static void
add_schema_cb(void *ctx, const rd_kafka_message_t *m)
{
	add_schema((Tail *) ctx, m);
}

/*
 * Read the whole schema topic, from the start to its current end.  Returns
 * 0, or -1 when the topic cannot be read at all.
 */
static int
load_schemas(Tail *t, int nkafka, char **kafka)
{
	char		err[512];

	if (topic_reader_read(consumer_conf(t->brokers, "wal2avro-tail-schemas", nkafka, kafka),
						t->schema_topic, add_schema_cb, t, NULL, err, sizeof(err)) != 0)
	{
		relay_log(RELAY_LOG_ERROR, "tail: %s", err);
		return -1;
	}
	return 0;
}

static uint64_t
fingerprint_of(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint64_t	fp = 0;
	int			i;

	if (len < 10 || p[0] != 0xC3 || p[1] != 0x01)
		return 0;
	for (i = 0; i < 8; i++)
		fp |= (uint64_t) p[2 + i] << (8 * i);
	return fp;
}

/*
 * Decode a single-object encoded datum into *value (a new reference the
 * caller decrefs).  Returns 0, or -1 with a message logged.
 */
static int
decode(Tail *t, const void *buf, size_t len, int nkafka, char **kafka, avro_value_t *value)
{
	uint64_t	fp = fingerprint_of(buf, len);
	TailSchema *s;
	avro_reader_t reader;
	int			rc;

	if (fp == 0)
	{
		relay_log(RELAY_LOG_ERROR, "tail: record is not Avro single-object encoded");
		return -1;
	}
	s = find_schema(t, fp);
	if (s == NULL)
	{
		load_schemas(t, nkafka, kafka);
		s = find_schema(t, fp);
	}
	if (s == NULL)
	{
		relay_log(RELAY_LOG_ERROR, "tail: no schema with fingerprint %016" PRIx64 " in topic \"%s\"",
				  fp, t->schema_topic);
		return -1;
	}
	avro_generic_value_new(s->iface, value);
	reader = avro_reader_memory((const char *) buf + 10, (int64_t) len - 10);
	rc = avro_value_read(reader, value);
	avro_reader_free(reader);
	if (rc != 0)
	{
		relay_log(RELAY_LOG_ERROR, "tail: cannot decode record: %s", avro_strerror());
		avro_value_decref(value);
		return -1;
	}
	return 0;
}

/* Field "name" of a record, rendered; false when there is no such field */
static bool
render_field(JsonBuf *b, avro_value_t *record, const char *name, const char *as)
{
	avro_value_t field;

	if (avro_value_get_by_name(record, name, &field, NULL) != 0)
		return false;
	json_printf(b, ",\"%s\":", as);
	avro_json_render(b, &field);
	return true;
}

/*
 * One event as one line: topic, partition, offset, op, key, then for a
 * Debezium envelope its before, after and source position, otherwise the
 * whole value.
 */
static void
print_event(const rd_kafka_message_t *m, avro_value_t *key, avro_value_t *value)
{
	JsonBuf		b = {0};
	const void *hv;
	size_t		hlen;
	rd_kafka_headers_t *hdrs = NULL;

	json_printf(&b, "{\"topic\":");
	jsonbuf_string(&b, rd_kafka_topic_name(m->rkt), strlen(rd_kafka_topic_name(m->rkt)));
	json_printf(&b, ",\"partition\":%d,\"offset\":%" PRId64, (int) m->partition, m->offset);
	if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR &&
		rd_kafka_header_get_last(hdrs, "wal2avro.op", &hv, &hlen) == RD_KAFKA_RESP_ERR_NO_ERROR &&
		hlen == 1)
		json_printf(&b, ",\"op\":\"%c\"", *(const char *) hv);
	json_append(&b, ",\"key\":", 7);
	if (key)
		avro_json_render(&b, key);
	else
		json_append(&b, "null", 4);
	if (value == NULL)
		json_append(&b, ",\"value\":null", 13);
	else if (avro_value_get_type(value) == AVRO_RECORD &&
			 render_field(&b, value, "before", "before"))
	{
		avro_value_t source;

		render_field(&b, value, "after", "after");
		if (avro_value_get_by_name(value, "source", &source, NULL) == 0)
		{
			render_field(&b, &source, "txId", "txId");
			render_field(&b, &source, "lsn", "lsn");
			render_field(&b, &source, "ts_ms", "commit_ts_ms");
			render_field(&b, &source, "snapshot", "snapshot");
		}
	}
	else
	{
		json_append(&b, ",\"value\":", 9);
		avro_json_render(&b, value);
	}
	json_append(&b, "}\n", 2);
	if (!b.failed)
		fwrite(b.data, 1, b.len, stdout);
	fflush(stdout);
	free(b.data);
}

/*
 * The tail subcommand.  argv[0] is "tail".  Returns an exit code.
 */
int
tail_main(int argc, char **argv, volatile sig_atomic_t *stop)
{
	static const struct option long_options[] = {
		{"brokers", required_argument, NULL, 'b'},
		{"schema-topic", required_argument, NULL, 's'},
		{"count", required_argument, NULL, 'n'},
		{"timeout", required_argument, NULL, 't'},
		{"kafka", required_argument, NULL, 'X'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}
	};
	Tail		t = {0};
	long		count = -1,
				timeout = -1,
				seen = 0;
	char	  **kafka = calloc(argc, sizeof(char *));
	int			nkafka = 0;
	int			c;
	char		group[64];
	char		err[512];
	rd_kafka_t *rk;
	rd_kafka_topic_partition_list_t *topics;
	int64_t		last_event;
	bool		assigned = false;
	int			rc = RELAY_EXIT_OK;

	t.brokers = getenv("WAL2AVRO_BROKERS");
	t.schema_topic = "_wal2avro_schemas";
	optind = 1;
	while ((c = getopt_long(argc, argv, "b:n:t:X:", long_options, NULL)) != -1)
	{
		switch (c)
		{
			case 'b':
				t.brokers = optarg;
				break;
			case 's':
				t.schema_topic = optarg;
				break;
			case 'n':
				count = strtol(optarg, NULL, 10);
				break;
			case 't':
				timeout = strtol(optarg, NULL, 10);
				break;
			case 'X':
				kafka[nkafka++] = optarg;
				break;
			case 'h':
				tail_usage(stdout);
				free(kafka);
				return RELAY_EXIT_OK;
			default:
				tail_usage(stderr);
				free(kafka);
				return RELAY_EXIT_CONFIG;
		}
	}
	if (optind >= argc)
	{
		relay_log(RELAY_LOG_ERROR, "tail: no topic given");
		tail_usage(stderr);
		free(kafka);
		return RELAY_EXIT_CONFIG;
	}

	load_schemas(&t, nkafka, kafka);

	snprintf(group, sizeof(group), "wal2avro-tail-%d", (int) getpid());
	rk = rd_kafka_new(RD_KAFKA_CONSUMER, consumer_conf(t.brokers, group, nkafka, kafka),
					  err, sizeof(err));
	if (rk == NULL)
	{
		relay_log(RELAY_LOG_ERROR, "tail: %s", err);
		free(kafka);
		return RELAY_EXIT_KAFKA;
	}
	rd_kafka_poll_set_consumer(rk);
	topics = rd_kafka_topic_partition_list_new(argc - optind);
	for (c = optind; c < argc; c++)
		rd_kafka_topic_partition_list_add(topics, argv[c], RD_KAFKA_PARTITION_UA);
	if (rd_kafka_subscribe(rk, topics) != RD_KAFKA_RESP_ERR_NO_ERROR)
	{
		relay_log(RELAY_LOG_ERROR, "tail: cannot subscribe");
		rc = RELAY_EXIT_KAFKA;
	}
	rd_kafka_topic_partition_list_destroy(topics);

	last_event = relay_now_us();
	while (rc == RELAY_EXIT_OK && !*stop && (count < 0 || seen < count))
	{
		rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);

		/* the idle timer runs once partitions are assigned (first event or EOF) */
		if (timeout >= 0 && relay_now_us() - last_event >
			(assigned ? timeout : timeout + 60) * 1000000LL)
			break;
		if (m == NULL)
			continue;
		if (!assigned)
			last_event = relay_now_us();
		assigned = true;
		if (m->err)
		{
			if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF &&
				m->err != RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
				relay_log(RELAY_LOG_WARNING, "tail: %s", rd_kafka_message_errstr(m));
			rd_kafka_message_destroy(m);
			continue;
		}
		last_event = relay_now_us();
		{
			avro_value_t key,
						value;
			bool		has_key = false,
						has_value = false;

			if (m->key)
			{
				if (decode(&t, m->key, m->key_len, nkafka, kafka, &key) == 0)
					has_key = true;
				else
					rc = RELAY_EXIT_KAFKA;
			}
			if (m->payload && rc == RELAY_EXIT_OK)
			{
				if (decode(&t, m->payload, m->len, nkafka, kafka, &value) == 0)
					has_value = true;
				else
					rc = RELAY_EXIT_KAFKA;
			}
			if (rc == RELAY_EXIT_OK)
				print_event(m, has_key ? &key : NULL, has_value ? &value : NULL);
			if (has_key)
				avro_value_decref(&key);
			if (has_value)
				avro_value_decref(&value);
		}
		rd_kafka_message_destroy(m);
		seen++;
	}
	rd_kafka_consumer_close(rk);
	rd_kafka_destroy(rk);
	for (size_t i = 0; i < t.count; i++)
	{
		avro_value_iface_decref(t.schemas[i].iface);
		avro_schema_decref(t.schemas[i].schema);
	}
	free(t.schemas);
	free(kafka);
	return rc;
}
