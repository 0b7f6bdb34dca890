/*-------------------------------------------------------------------------
 *
 * topic_reader.c
 *		Read a (compacted) topic from its beginning to its end, one
 *		callback per record: the state topic (snapshot markers, the
 *		confirmed position) and the schema topic, for the relay and for
 *		its tail subcommand.
 *
 * A short-lived consumer with a group of its own, assigned every partition
 * at its beginning, read until each partition reports its end.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/topic_reader.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "config.h"
#include "topic_reader.h"

/*
 * A consumer configuration from the relay's brokers and kafka.* settings,
 * for topic_reader_read (which takes it over).  Never fails.
 */
rd_kafka_conf_t *
topic_reader_conf(const RelayConfig *cfg)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char		err[512];
	size_t		i;

	if (cfg->brokers)
		rd_kafka_conf_set(conf, "bootstrap.servers", cfg->brokers, err, sizeof(err));
	rd_kafka_conf_set(conf, "log_level", "3", err, sizeof(err));
	for (i = 0; i < cfg->kafka.count; i++)
	{
		/* producer-only properties are refused or ignored: harmless here */
		rd_kafka_conf_set(conf, cfg->kafka.items[i].name, cfg->kafka.items[i].value,
						  err, sizeof(err));
	}
	return conf;
}

/*
 * Read every partition of "topic" from its start to its current end, giving
 * each message to fn on this thread, with a short-lived consumer made from
 * conf (consumed; its group.id is set here).  A missing topic is an empty
 * one.  Gives up after 10 s without a message.  Returns 0, or -1 with a
 * message in err when the consumer cannot be made.  *complete (unless NULL)
 * tells whether the whole topic was read: false when the broker did not
 * answer, the topic had an error other than not existing, or the read gave
 * up before the end of every partition.
 */
int
topic_reader_read(rd_kafka_conf_t *conf, const char *topic, TopicRecordFn fn, void *ctx,
				  bool *complete, char *err, size_t errlen)
{
	char		group[96];
	rd_kafka_t *rk;
	rd_kafka_topic_partition_list_t *topics;
	int			idle = 0;
	const struct rd_kafka_metadata *md;
	rd_kafka_topic_t *rkt;
	int			partitions = 0,
				eofs = 0;
	bool		missing = false;

	if (complete)
		*complete = false;
	snprintf(group, sizeof(group), "wal2avro-read-%d", (int) getpid());
	rd_kafka_conf_set(conf, "group.id", group, err, errlen);
	rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, errlen);
	rd_kafka_conf_set(conf, "enable.partition.eof", "true", err, errlen);
	rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, errlen);
	if (rk == NULL)
	{
		rd_kafka_conf_destroy(conf);
		return -1;
	}
	rkt = rd_kafka_topic_new(rk, topic, NULL);
	if (rd_kafka_metadata(rk, 0, rkt, &md, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR)
	{
		if (md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR)
			partitions = md->topics[0].partition_cnt;
		missing = md->topic_cnt == 1 &&
			md->topics[0].err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
		rd_kafka_metadata_destroy(md);
	}
	rd_kafka_topic_destroy(rkt);
	if (partitions == 0)
	{
		if (complete)
			*complete = missing;
		rd_kafka_destroy(rk);
		return 0;
	}

	topics = rd_kafka_topic_partition_list_new(partitions);
	for (int i = 0; i < partitions; i++)
		rd_kafka_topic_partition_list_add(topics, topic, i)->offset = RD_KAFKA_OFFSET_BEGINNING;
	rd_kafka_assign(rk, topics);
	rd_kafka_topic_partition_list_destroy(topics);

	while (eofs < partitions && idle < 100)
	{
		rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);

		if (m == NULL)
		{
			idle++;
			continue;
		}
		idle = 0;
		if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
			eofs++;
		else if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR)
			fn(ctx, m);
		rd_kafka_message_destroy(m);
	}
	if (complete)
		*complete = eofs >= partitions;
	rd_kafka_consumer_close(rk);
	rd_kafka_destroy(rk);
	return 0;
}
