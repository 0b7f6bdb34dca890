// regress/tools/JavaPartition.java -- the partition Kafka's Java producer picks for a key
//
//   java -cp "$KAFKA_LIB/*" regress/tools/JavaPartition.java PARTITIONS < keys
//
// Reads one base64 key per line and prints, per line, the partition Apache
// Kafka's Java producer chooses for a record with that serialized key on a
// topic of PARTITIONS partitions (BuiltInPartitioner.partitionForKey, what
// KafkaProducer uses when no partitioner is configured).  Run from the
// kafka-clients jar the test broker runs, so the answer is Kafka's own.
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.util.Base64;

import org.apache.kafka.clients.producer.internals.BuiltInPartitioner;

public class JavaPartition {
    public static void main(String[] args) throws Exception {
        int partitions = Integer.parseInt(args[0]);
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, "UTF-8"));
        StringBuilder out = new StringBuilder();
        for (String line; (line = in.readLine()) != null; ) {
            byte[] key = Base64.getDecoder().decode(line.trim());
            out.append(BuiltInPartitioner.partitionForKey(key, partitions)).append('\n');
        }
        System.out.print(out);
    }
}
