#!/bin/bash
# regress/e2e/0002-kafka-single.sh -- the single-broker Kafka harness works
#
# Starts one KRaft broker from regress/lib/kafka.sh, produces 1,000 distinct
# keyed messages with acks=all and idempotence to a topic the broker creates on
# first use, reads them back from the beginning and requires the exact same
# messages in the same order.  Every other end-to-end test that needs Kafka
# stands on this one.
set -euo pipefail
# shellcheck source=regress/lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
# shellcheck source=regress/lib/kafka.sh
. "$W2A_ROOT/regress/lib/kafka.sh"

name=0002-kafka-single
# Last words on failure, after the exit trap has stopped Kafka and printed its
# logs ("rc" is the exit status common.sh's exit trap holds while hooks run).
report_failure()
{
	[ "${W2A_EXIT_RC:-0}" -eq 0 ] || echo "FAIL: $name" >&2
}
w2a_on_exit report_failure
start=$SECONDS
out=$(w2a_tmpdir "$name")
topic=single_auto
count=1000

kafka_start_single "$out/kafka"

for ((i = 1; i <= count; i++)); do
	printf 'key-%04d:value %04d of %d, %s\n' "$i" "$i" "$count" "$RANDOM$RANDOM"
done >"$out/sent.txt"

info "producing $count messages to $topic (acks=all, idempotent)"
kcat -P -b "$KAFKA_BOOTSTRAP" -t "$topic" -K : \
	-X acks=all -X enable.idempotence=true -X message.timeout.ms=60000 \
	<"$out/sent.txt" 2>"$out/produce.err" ||
	{ cat "$out/produce.err" >&2; fail "kcat could not produce to $topic"; }

info "consuming $topic from the beginning"
timeout 120 kcat -C -b "$KAFKA_BOOTSTRAP" -t "$topic" -o beginning -e -q \
	-f '%k:%s\n' >"$out/received.txt" 2>"$out/consume.err" ||
	{ cat "$out/consume.err" >&2; fail "kcat could not consume $topic"; }

got=$(wc -l <"$out/received.txt")
[ "$got" -eq "$count" ] || fail "sent $count messages, received $got"
cmp -s "$out/sent.txt" "$out/received.txt" ||
	{ diff "$out/sent.txt" "$out/received.txt" | head -20 >&2; fail "received messages differ from those sent"; }

kafka_stop_all
echo "PASS: $name ($count messages round-tripped in $((SECONDS - start)) s)"
