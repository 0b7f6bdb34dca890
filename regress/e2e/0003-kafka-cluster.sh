#!/bin/bash
# regress/e2e/0003-kafka-cluster.sh -- the three-broker harness loses nothing when a broker dies
#
# Starts three KRaft nodes (RF 3, min.insync.replicas 2), creates a 3-partition
# topic, and produces three batches with acks=all and idempotence: before the
# leader of partition 0 is killed with SIGKILL, while it is down (min ISR 2
# still holds, so acks=all must keep succeeding), and after it has restarted
# and caught up.  Then every message must come back exactly once, and in each
# partition in the order produced.  This proves the harness the relay's
# failover tests stand on, and the guarantee they rely on.
set -euo pipefail
# shellcheck source=regress/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
# shellcheck source=regress/lib/kafka.sh
. "$W2A_ROOT/regress/lib/kafka.sh"

name=0003-kafka-cluster
# Last words on failure, after the exit trap has stopped Kafka and printed its
# logs ("rc" is the exit status common.sh's exit trap holds while hooks run).
report_failure()
{
	[ "${W2A_EXIT_RC:-0}" -eq 0 ] || echo "FAIL: $name" >&2
}
w2a_on_exit report_failure
start=$SECONDS
out=$(w2a_tmpdir "$name")
topic=cluster_rf3
batch=1000

# Produce messages FIRST..LAST of batch LABEL; the value carries a global
# sequence number, the key picks one of 40 keys (so the partition).
produce_batch()
{
	local label=$1 first=$2 last=$3 i
	for ((i = first; i <= last; i++)); do
		printf 'key-%02d:%06d batch %s\n' $((i % 40)) "$i" "$label"
	done >"$out/batch$label.txt"
	info "producing batch $label (messages $first..$last, acks=all, idempotent)"
	kcat -P -b "$KAFKA_BOOTSTRAP" -t "$topic" -K : \
		-X acks=all -X enable.idempotence=true -X message.timeout.ms=120000 \
		-X reconnect.backoff.max.ms=500 \
		<"$out/batch$label.txt" 2>"$out/produce$label.err" ||
		{ cat "$out/produce$label.err" >&2; fail "batch $label: kcat could not deliver every message"; }
	! grep -q 'Delivery failed' "$out/produce$label.err" ||
		{ cat "$out/produce$label.err" >&2; fail "batch $label: delivery failed"; }
}

kafka_start_cluster "$out/kafka"
kafka_create_topic "$topic" 3 3

produce_batch 1 1 $batch

victim=$(kafka_leader "$topic" 0)
[ "$victim" -ge 1 ] || fail "partition 0 of $topic has no leader"
kafka_kill9 "$victim"

produce_batch 2 $((batch + 1)) $((2 * batch))
# Batch 2 was acknowledged by two in-sync replicas: the dead broker has left
# every ISR, and min.insync.replicas=2 still held.
isr_of_two()
{
	[ "$(kafka_metadata "$topic" | grep -c 'isrs: [0-9]*,[0-9]*$')" -eq 3 ]
}
w2a_wait_for 15 isr_of_two ||
	{ kafka_metadata "$topic" >&2; fail "after batch 2, not every partition has an ISR of 2"; }

kafka_restart "$victim"
kafka_wait_isr "$topic" 3 90

produce_batch 3 $((2 * batch + 1)) $((3 * batch))

info "consuming $topic from the beginning"
timeout 120 kcat -C -b "$KAFKA_BOOTSTRAP" -t "$topic" -o beginning -e -q \
	-f '%p %k %s\n' >"$out/received.txt" 2>"$out/consume.err" ||
	{ cat "$out/consume.err" >&2; fail "kcat could not consume $topic"; }

total=$((3 * batch))
got=$(wc -l <"$out/received.txt")
[ "$got" -eq "$total" ] || fail "sent $total messages, received $got"

# Exactly the messages sent, each once.
cat "$out"/batch[123].txt | sed 's/:/ /' | sort >"$out/sent.sorted"
cut -d' ' -f2- "$out/received.txt" | sort >"$out/received.sorted"
cmp -s "$out/sent.sorted" "$out/received.sorted" ||
	{ diff "$out/sent.sorted" "$out/received.sorted" | head -20 >&2; fail "received messages differ from those sent"; }

# Within a partition, sequence numbers only grow; a key lives in one partition.
awk '
	{ seq = $3 + 0 }
	$1 in last && seq <= last[$1] { printf "partition %s: %d after %d\n", $1, seq, last[$1]; bad = 1 }
	{ last[$1] = seq }
	$2 in part && part[$2] != $1 { printf "key %s in partitions %s and %s\n", $2, part[$2], $1; bad = 1 }
	{ part[$2] = $1 }
	END { exit bad }' "$out/received.txt" >&2 ||
	fail "messages out of order within a partition"

kafka_stop_all
echo "PASS: $name ($total messages, broker $victim killed and restarted, in $((SECONDS - start)) s)"
