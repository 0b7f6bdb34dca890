/*
 * DebeziumBench.java -- the Debezium peer of regress/bench/compare.sh
 *
 * wal2avro, regress/bench/debezium/src/main/java/org/wal2avro/bench/DebeziumBench.java
 *
 * Three commands:
 *
 *   engine FILE        run the Debezium embedded engine with the properties in
 *                      FILE and produce every change event to Kafka.  Keys
 *                      starting with "bench.producer." (prefix removed) go to
 *                      the KafkaProducer; every other key goes to the engine.
 *                      Runs until SIGTERM, then stops the engine (which
 *                      commits its offsets) and closes the producer: exit
 *                      status 143.  When the engine stops by itself (a
 *                      connector or delivery failure): exit status 1.
 *   topics BOOTSTRAP PARTITIONS CONFIG NAME...
 *                      create the topics (replication factor 1) in one admin
 *                      call; CONFIG is "k=v,k=v" topic configs or "-".
 *   delete-records BOOTSTRAP NAME...
 *                      delete every record of partition 0 of each topic (the
 *                      offsets go on from where they were), so the broker can
 *                      drop the segments of runs already counted.
 *
 * The engine uses Debezium's own JSON conversion (JsonByteArray: Kafka's
 * JsonConverter with its defaults, schemas.enable=true, as a Kafka Connect
 * worker applies it), done in the engine's record processing threads.
 * Headers are dropped (the engine converts none) unless the property
 * bench.headers=true asks for them: then the engine converts them with its
 * header.converter.class (regress/lib/debezium.sh gives Kafka Connect's
 * default, SimpleHeaderConverter) and they go to Kafka with the record.  The
 * batch handler hands every record of a batch to the producer, flushes,
 * checks every send, and only then marks the records processed: an offset
 * (and so the slot's confirmed position, at the next offset flush) never
 * passes a record the broker has not acknowledged.
 */
package org.wal2avro.bench;

import io.debezium.engine.ChangeEvent;
import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.format.JsonByteArray;
import io.debezium.engine.format.KeyValueHeaderChangeEventFormat;

import java.io.FileReader;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.ByteArraySerializer;

public final class DebeziumBench
{
	private static final String PRODUCER_PREFIX = "bench.producer.";
	private static final String HEADERS_KEY = "bench.headers";

	private DebeziumBench()
	{
	}

	public static void main(String[] args) throws Exception
	{
		if (args.length == 2 && args[0].equals("engine"))
			System.exit(runEngine(args[1]));
		if (args.length >= 5 && args[0].equals("topics"))
			System.exit(createTopics(args[1], Integer.parseInt(args[2]), args[3],
									 Arrays.asList(args).subList(4, args.length)));
		if (args.length >= 3 && args[0].equals("delete-records"))
			System.exit(deleteRecords(args[1], Arrays.asList(args).subList(2, args.length)));
		System.err.println("usage: DebeziumBench engine FILE | topics BOOTSTRAP PARTITIONS CONFIG NAME... | "
						   + "delete-records BOOTSTRAP NAME...");
		System.exit(1);
	}

	private static void log(String msg)
	{
		System.err.println("debezium-bench: " + msg);
		System.err.flush();
	}

	/*
	 * Produces one batch and waits for its acknowledgements; marks the records
	 * processed only when every one of them was acknowledged.  Any failure is
	 * thrown, which stops the engine without committing the batch.
	 */
	private static final class KafkaHandler
		implements DebeziumEngine.ChangeConsumer<ChangeEvent<byte[], byte[]>>
	{
		private final KafkaProducer<byte[], byte[]> producer;
		final AtomicLong records = new AtomicLong();	/* acknowledged */
		final AtomicLong batches = new AtomicLong();

		KafkaHandler(KafkaProducer<byte[], byte[]> producer)
		{
			this.producer = producer;
		}

		@Override
		public void handleBatch(List<ChangeEvent<byte[], byte[]>> events,
								DebeziumEngine.RecordCommitter<ChangeEvent<byte[], byte[]>> committer)
			throws InterruptedException
		{
			List<Future<RecordMetadata>> sent = new ArrayList<>(events.size());

			for (ChangeEvent<byte[], byte[]> e : events)
			{
				ProducerRecord<byte[], byte[]> r =
					new ProducerRecord<>(e.destination(), e.partition(), e.key(), e.value());

				for (io.debezium.engine.Header<Object> h : e.<Object>headers())
					r.headers().add(new RecordHeader(h.getKey(), headerBytes(h.getValue())));
				sent.add(producer.send(r));
			}
			producer.flush();
			for (Future<RecordMetadata> f : sent)
			{
				try
				{
					f.get();
				}
				catch (ExecutionException ex)
				{
					throw new IllegalStateException("delivery failed: " + ex.getCause(), ex.getCause());
				}
			}
			for (ChangeEvent<byte[], byte[]> e : events)
				committer.markProcessed(e);
			committer.markBatchFinished();
			records.addAndGet(events.size());
			batches.incrementAndGet();
		}
	}

	private static byte[] headerBytes(Object v)
	{
		if (v == null || v instanceof byte[])
			return (byte[]) v;
		return String.valueOf(v).getBytes(StandardCharsets.UTF_8);
	}

	private static int runEngine(String path) throws IOException, InterruptedException
	{
		Properties all = new Properties();
		Properties engineProps = new Properties();
		Map<String, Object> producerProps = new HashMap<>();

		try (Reader in = new FileReader(path))
		{
			all.load(in);
		}
		for (String k : all.stringPropertyNames())
		{
			if (k.startsWith(PRODUCER_PREFIX))
				producerProps.put(k.substring(PRODUCER_PREFIX.length()), all.getProperty(k));
			else if (k.equals(HEADERS_KEY))
				continue;
			else
				engineProps.setProperty(k, all.getProperty(k));
		}
		producerProps.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
		producerProps.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());

		KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(producerProps);
		KafkaHandler handler = new KafkaHandler(producer);
		CountDownLatch done = new CountDownLatch(1);
		AtomicBoolean stopping = new AtomicBoolean();
		AtomicReference<String> failure = new AtomicReference<>();

		DebeziumEngine.Builder<ChangeEvent<byte[], byte[]>> builder =
			Boolean.parseBoolean(all.getProperty(HEADERS_KEY, "false"))
			? DebeziumEngine.create(KeyValueHeaderChangeEventFormat.of(JsonByteArray.class,
																	   JsonByteArray.class,
																	   JsonByteArray.class))
			: DebeziumEngine.create(JsonByteArray.class);
		DebeziumEngine<ChangeEvent<byte[], byte[]>> engine =
			builder
				.using(engineProps)
				.notifying(handler)
				.using(new DebeziumEngine.ConnectorCallback()
				{
					@Override
					public void pollingStarted()
					{
						log("polling started");
					}
				})
				.using((success, message, error) -> {
					if (!success)
						failure.set(message + (error != null ? ": " + error : ""));
					done.countDown();
				})
				.build();

		/*
		 * SIGTERM: stop the engine (it commits the offsets of what was marked
		 * processed), then close the producer.  The JVM then exits with 143.
		 */
		Runtime.getRuntime().addShutdownHook(new Thread(() -> {
			stopping.set(true);
			try
			{
				engine.close();
				if (!done.await(60, TimeUnit.SECONDS))
					log("the engine did not stop within 60 s");
			}
			catch (Exception ex)
			{
				log("error while stopping: " + ex);
			}
			producer.close();
			log("stopped: " + handler.records.get() + " records acknowledged in "
				+ handler.batches.get() + " batches");
		}, "debezium-bench-stop"));

		log("starting engine, producer " + producerProps);
		new Thread(engine, "debezium-engine").start();
		done.await();
		if (stopping.get())
			return 0;			/* exit waits for the shutdown hook */
		log("engine stopped by itself" + (failure.get() != null ? ": " + failure.get() : ""));
		producer.close();
		/* halt: the shutdown hook would close the engine and producer again */
		Runtime.getRuntime().halt(1);
		return 1;
	}

	private static Admin admin(String bootstrap)
	{
		Map<String, Object> props = new HashMap<>();

		props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
		return Admin.create(props);
	}

	private static int deleteRecords(String bootstrap, List<String> names) throws InterruptedException
	{
		Map<TopicPartition, OffsetSpec> latest = new HashMap<>();

		for (String n : names)
			latest.put(new TopicPartition(n, 0), OffsetSpec.latest());
		try (Admin a = admin(bootstrap))
		{
			Map<TopicPartition, RecordsToDelete> del = new HashMap<>();

			for (Map.Entry<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> e :
				 a.listOffsets(latest).all().get().entrySet())
				del.put(e.getKey(), RecordsToDelete.beforeOffset(e.getValue().offset()));
			a.deleteRecords(del).all().get();
		}
		catch (ExecutionException ex)
		{
			log("could not delete records: " + ex.getCause());
			return 1;
		}
		return 0;
	}

	private static int createTopics(String bootstrap, int partitions, String config, List<String> names)
		throws InterruptedException
	{
		Map<String, String> configs = new HashMap<>();

		if (!config.equals("-"))
		{
			for (String kv : config.split(","))
			{
				String[] p = kv.split("=", 2);

				if (p.length != 2)
				{
					log("bad topic config \"" + kv + "\"");
					return 1;
				}
				configs.put(p[0], p[1]);
			}
		}

		List<NewTopic> topics = new ArrayList<>();

		for (String n : names)
			topics.add(new NewTopic(n, Optional.of(partitions), Optional.of((short) 1)).configs(configs));

		try (Admin a = admin(bootstrap))
		{
			a.createTopics(topics).all().get();
		}
		catch (ExecutionException ex)
		{
			log("could not create topics: " + ex.getCause());
			return 1;
		}
		return 0;
	}
}
