#!/usr/bin/env bash
# regress/e2e/0054-relay-java-partitioner.sh -- keys land where Kafka's Java producer puts them
#
# Co-partitioned joins and topics written by Debezium (Kafka Connect's Java
# producer) need a key to land on the partition the Java client would choose:
# murmur2 of the serialized key, positive, modulo the partition count.
# librdkafka's own default (consistent_random, a CRC32) puts most keys
# elsewhere.  The relay streams 600 rows with single and composite keys into
# topics of 6 and 7 partitions created beforehand; every record's partition
# must be the one Apache Kafka's BuiltInPartitioner.partitionForKey (run from
# the broker's own kafka-clients jar) gives for the record's key bytes, and
# the keys must spread over every partition (so the check means something).
# A tombstone carries its key and must land beside its delete.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
. "$W2A_ROOT/regress/lib/pg.sh"
. "$W2A_ROOT/regress/lib/kafka.sh"
. "$W2A_ROOT/regress/lib/relay.sh"
. "$W2A_ROOT/regress/tools/venv.sh"

out=$(w2a_tmpdir java-partitioner)
pg_start "$out/pg"
kafka_start_single "$out/kafka"
kafka_create_topic wal2avro.public.one_key 6 1
kafka_create_topic wal2avro.public.two_keys 7 1

psql -Xq -v ON_ERROR_STOP=1 <<'SQL'
CREATE TABLE one_key (id bigint PRIMARY KEY, v text);
CREATE TABLE two_keys (a int, b text, v int, PRIMARY KEY (a, b));
SQL
relay_start p_slot
psql -Xq -v ON_ERROR_STOP=1 <<'SQL'
INSERT INTO one_key SELECT g * 7919, 'v' || g FROM generate_series(1, 300) g;
INSERT INTO two_keys SELECT g % 17, 'k' || g, g FROM generate_series(1, 300) g;
DELETE FROM one_key WHERE id % 5 = 0;
SQL
relay_wait_confirmed "$(psql -XAtc 'SELECT pg_current_wal_lsn()')"

check_topic()
{
	local topic=$1 parts=$2 n
	"$W2A_PYTHON" "$W2A_ROOT/regress/tools/kafka_dump.py" "$KAFKA_BOOTSTRAP" "$topic" "$out/$topic.jsonl"
	"$W2A_PYTHON" - "$out/$topic.jsonl" >"$out/$topic.keys" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    print(r["partition"], r["key"]["$bytes"])
PY
	n=$(wc -l <"$out/$topic.keys")
	[ "$n" -ge 300 ] || fail "$topic: only $n records"
	cut -d' ' -f2 "$out/$topic.keys" |
		java -cp "$KAFKA_LIB/*" "$W2A_ROOT/regress/tools/JavaPartition.java" "$parts" >"$out/$topic.java" ||
		fail "JavaPartition failed"
	[ "$(wc -l <"$out/$topic.java")" -eq "$n" ] || fail "$topic: Java answered for $(wc -l <"$out/$topic.java") of $n keys"
	paste -d' ' <(cut -d' ' -f1 "$out/$topic.keys") "$out/$topic.java" >"$out/$topic.pairs"
	if awk '$1 != $2 { bad++ } END { exit bad > 0 ? 0 : 1 }' "$out/$topic.pairs"; then
		awk '$1 != $2' "$out/$topic.pairs" | sort | uniq -c | head -n 10 >&2
		fail "$topic: $(awk '$1 != $2' "$out/$topic.pairs" | wc -l) of $n records are not on the partition Kafka's Java producer picks (counts of relay partition / Java partition above)"
	fi
	used=$(cut -d' ' -f1 "$out/$topic.pairs" | sort -u | wc -l)
	[ "$used" -eq "$parts" ] || fail "$topic: keys used $used of $parts partitions"
	info "$topic: all $n records on the Java producer's partition, over all $parts partitions"
}
check_topic wal2avro.public.one_key 6
check_topic wal2avro.public.two_keys 7
grep -q '^{"topic": "wal2avro.public.one_key".*"value": null' "$out/wal2avro.public.one_key.jsonl" ||
	fail "no tombstone among the checked records"
relay_stop
