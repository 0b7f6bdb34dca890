/*-------------------------------------------------------------------------
 *
 * relay_feed.c
 *		Feed a captured frame stream through the relay's records path into
 *		librdkafka's mock cluster, for regress/bench/relay-instr.sh.
 *
 *   relay_feed CAPTURE [DUMP]
 *
 * CAPTURE is a `pg_recvlogical -P wal2avro -f FILE` capture (one '\n'
 * after each frame).  Its frames are split first; then relay_feed_frames
 * does what the relay's stream loop (stream_loop.c) does per frame and nothing
 * else: frames_parse, writer_handle_frame (serving events while it waits),
 * a producer_poll every READ_BATCH frames, a wait while more than
 * max-in-flight-bytes are unacknowledged, and at the end the events until
 * every record is acknowledged.  relay-instr.sh counts the instructions of
 * the main thread inside relay_feed_frames (callgrind --toggle-collect), so
 * librdkafka's own threads and the mock brokers stay out of the count.
 * Metrics are off (no Metrics handle), as is the libpq read.
 *
 * With DUMP, every record acknowledged is written there, one line each:
 * topic, partition, offset, key, value and headers in hex; sorted, two
 * builds' dumps of one capture are equal exactly when the records are.  A
 * record without a key has "* *" for its partition and offset: librdkafka
 * puts it in a partition at random.
 *
 * Built against the relay's sources of any tree (relay-instr.sh builds it
 * for the base and the work tree), so it uses only interfaces that both
 * have.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * regress/bench/relay_feed.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

/*
 * XXX relay-instr.sh builds this file against an older tree too (BASE);
 * one from before relay.h was split into a header per module has relay.h.
 */
#if __has_include("lsn_tracker.h")
#include "config.h"
#include "frames.h"
#include "kafka_writer.h"
#include "lsn.h"
#include "lsn_tracker.h"
#include "producer.h"
#include "wal2avro_protocol.h"
#else
#include "kafka_writer.h"
#include "producer.h"
#include "relay.h"
typedef int WriterStage;		/* before WriterStage had a name */
#define WRITER_STAGE_NONE	0
#endif

#define READ_BATCH	256			/* as stream_loop.c: frames between two polls */

/* What the run needs in the delivery callback */
typedef struct Feed
{
	KafkaWriter    *records;
	FILE	   *dump;
} Feed;

/* One frame of the capture: where it starts and how long it is */
typedef struct Span
{
	const uint8_t *data;
	size_t		len;
} Span;

static void
put_hex(FILE *out, const void *p, size_t len)
{
	const uint8_t *b = p;
	size_t		i;

	if (p == NULL)
	{
		fputs("-", out);
		return;
	}
	for (i = 0; i < len; i++)
		fprintf(out, "%02x", b[i]);
	if (len == 0)
		fputs("''", out);
}

static void
on_delivery(void *ctx, const rd_kafka_message_t *m)
{
	Feed	   *fd = ctx;

	if (fd->dump && m->err == RD_KAFKA_RESP_ERR_NO_ERROR)
	{
		rd_kafka_headers_t *hdrs;
		const char *name;
		const void *v;
		size_t		len,
					i;

		/* without a key, librdkafka picks the partition at random */
		if (m->key == NULL)
			fprintf(fd->dump, "%s * * ", rd_kafka_topic_name(m->rkt));
		else
			fprintf(fd->dump, "%s %d %020lld ", rd_kafka_topic_name(m->rkt), (int) m->partition,
					(long long) m->offset);
		put_hex(fd->dump, m->key, m->key_len);
		fputc(' ', fd->dump);
		put_hex(fd->dump, m->payload, m->len);
		if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR)
		{
			for (i = 0; rd_kafka_header_get_all(hdrs, i, &name, &v, &len) == RD_KAFKA_RESP_ERR_NO_ERROR; i++)
			{
				fprintf(fd->dump, " %s=", name);
				put_hex(fd->dump, v, len);
			}
		}
		fputc('\n', fd->dump);
	}
	writer_delivery_fn() (fd->records, m);
}

/*
 * The measured part: every frame as the stream loop handles it, then the
 * events until the last commit is safe.  Returns 0, or -1 after printing
 * why.
 */
int			relay_feed_frames(const RelayConfig *cfg, LsnTracker *tracker, KafkaWriter *records,
							  Producer *producer, const Span *spans, size_t nspans, Lsn last_end);

int
relay_feed_frames(const RelayConfig *cfg, LsnTracker *tracker, KafkaWriter *records,
				  Producer *producer, const Span *spans, size_t nspans, Lsn last_end)
{
	char		err[512];
	size_t		i;

	for (i = 0; i < nspans; i++)
	{
		Frame		f;
		WriterStage stage = WRITER_STAGE_NONE;
		WriterResult rc;

		for (;;)
		{
			if (frames_parse(spans[i].data, spans[i].len, &f, err, sizeof(err)) != 0)
			{
				fprintf(stderr, "relay_feed: frame %zu: %s\n", i, err);
				return -1;
			}
			rc = writer_handle_frame(records, &f, &stage, err, sizeof(err));
			if (rc != WRITER_WAIT)
				break;
			if (producer_fatal(producer, err, sizeof(err)))
			{
				fprintf(stderr, "relay_feed: %s\n", err);
				return -1;
			}
			producer_poll(producer, 10);
		}
		if (rc != WRITER_OK)
		{
			fprintf(stderr, "relay_feed: frame %zu: %s\n", i, err);
			return -1;
		}
		if ((i + 1) % READ_BATCH == 0)
			producer_poll(producer, 0);
		while (writer_stats(records)->in_flight_bytes > cfg->max_in_flight_bytes)
			producer_poll(producer, 100);
	}
	while (lsn_tracker_safe_lsn(tracker) < last_end)
	{
		if (writer_failed(records, err, sizeof(err)))
		{
			fprintf(stderr, "relay_feed: %s\n", err);
			return -1;
		}
		producer_poll(producer, 100);
	}
	return 0;
}

static uint8_t *
read_file(const char *path, size_t *len)
{
	FILE	   *f = fopen(path, "rb");
	uint8_t    *buf = NULL;
	size_t		cap = 0,
				n = 0,
				got;

	if (f == NULL)
		return NULL;
	do
	{
		if (n == cap)
		{
			uint8_t    *b;

			cap = cap ? cap * 2 : 1 << 20;
			if ((b = realloc(buf, cap)) == NULL)
			{
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = b;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
	} while (got > 0);
	fclose(f);
	*len = n;
	return buf;
}

int
main(int argc, char **argv)
{
	char		err[512];
	char		errstr[512];
	uint8_t    *data;
	size_t		len,
				pos = 0,
				nspans = 0,
				rows = 0;
	Span	   *spans = NULL;
	size_t		cap = 0;
	Lsn			last_end = INVALID_LSN;
	rd_kafka_conf_t *mconf;
	rd_kafka_t *mock_rk;
	rd_kafka_mock_cluster_t *mock;
	RelayConfig cfg;
	LsnTracker	tracker;
	Feed		fd = {0};
	Producer   *producer;
	char		brokers[512];
	char	   *cargv[4];
	int			rc;

	if (argc < 2 || argc > 3)
	{
		fprintf(stderr, "usage: relay_feed CAPTURE [DUMP]\n");
		return 2;
	}
	if ((data = read_file(argv[1], &len)) == NULL)
	{
		perror(argv[1]);
		return 1;
	}
	while (pos < len)
	{
		Frame		f;
		size_t		used;

		if (nspans == cap)
		{
			cap = cap ? cap * 2 : 4096;
			if ((spans = realloc(spans, cap * sizeof(Span))) == NULL)
				return 1;
		}

		if (frames_next(data + pos, len - pos, FRAMES_NEWLINE, &used, &f, err, sizeof(err)) != 1)
		{
			fprintf(stderr, "relay_feed: %s at byte %zu: %s\n", argv[1], pos, err);
			return 1;
		}
		spans[nspans++] = (Span) {data + pos, used - 1};
		if (f.kind == W2A_FRAME_COMMIT)
			last_end = f.commit.end_lsn;
		else if (f.kind == W2A_FRAME_MESSAGE && !f.message.transactional &&
				 f.message.lsn > last_end)
			last_end = f.message.lsn;	/* a transaction of its own */
		else if (f.kind == W2A_FRAME_CHANGE)
			rows++;
		pos += used;
	}

	mconf = rd_kafka_conf_new();
	rd_kafka_conf_set(mconf, "log_level", "3", NULL, 0);
	if ((mock_rk = rd_kafka_new(RD_KAFKA_PRODUCER, mconf, errstr, sizeof(errstr))) == NULL ||
		(mock = rd_kafka_mock_cluster_new(mock_rk, 1)) == NULL)
	{
		fprintf(stderr, "relay_feed: no mock cluster: %s\n", errstr);
		return 1;
	}
	snprintf(brokers, sizeof(brokers), "%s", rd_kafka_mock_cluster_bootstraps(mock));
	cargv[0] = "wal2avro-relay";
	cargv[1] = "-b";
	cargv[2] = brokers;
	cargv[3] = NULL;
	if (config_parse(&cfg, 3, cargv, err, sizeof(err)) != 0)
	{
		fprintf(stderr, "relay_feed: config_parse: %s\n", err);
		return 1;
	}
	if (argc == 3 && (fd.dump = fopen(argv[2], "w")) == NULL)
	{
		perror(argv[2]);
		return 1;
	}
	lsn_tracker_init(&tracker, INVALID_LSN);
	if ((fd.records = writer_create(&cfg, &tracker)) == NULL ||
		(producer = producer_create(&cfg, on_delivery, &fd, err, sizeof(err))) == NULL)
	{
		fprintf(stderr, "relay_feed: %s\n", err);
		return 1;
	}
	writer_set_producer(fd.records, producer);

	rc = relay_feed_frames(&cfg, &tracker, fd.records, producer, spans, nspans, last_end);
	if (rc == 0)
		printf("frames=%zu rows=%zu records=%llu\n", nspans, rows,
			   (unsigned long long) writer_stats(fd.records)->records_acked);

	writer_discard_deliveries(fd.records, true);
	producer_destroy(producer, 0);
	writer_free(fd.records);
	lsn_tracker_free(&tracker);
	config_free(&cfg);
	if (fd.dump)
		fclose(fd.dump);
	rd_kafka_mock_cluster_destroy(mock);
	rd_kafka_destroy(mock_rk);
	free(spans);
	free(data);
	return rc == 0 ? 0 : 1;
}
