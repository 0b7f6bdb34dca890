#!/usr/bin/env bash
# regress/e2e/0032-relay-kafka-recovery.sh -- every broker down, then back: how soon?
#
# Three brokers (RF 3, min ISR 2) and a relay on its own librdkafka defaults
# (not the short reconnect backoff the other tests give it).  While pgbench
# writes, every broker stops for 30 seconds; then all start again.  Once
# every broker is back in the metadata, the slot's confirmed position must
# move within RECOVERY_BOUND seconds (a bound, not a benchmark), and in the
# end Kafka must hold exactly the committed changes.
#
# Measured on a loaded two-core machine: restarted after SIGTERM or SIGKILL
# (W2A_OUTAGE_HOW=kill), the brokers took 31 to 85 s from their start to
# serving (KRaft quorum, registration, unfencing), 7 s after SIGSTOP and
# SIGCONT (W2A_OUTAGE_HOW=pause); the slot moved 0.5 to 1.5 s after they
# served, in every case.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
. "$W2A_ROOT/regress/lib/pg.sh"
. "$W2A_ROOT/regress/lib/kafka.sh"
. "$W2A_ROOT/regress/lib/relay.sh"
. "$W2A_ROOT/regress/lib/workload.sh"
. "$W2A_ROOT/regress/tools/venv.sh"

RECOVERY_BOUND=${W2A_RECOVERY_BOUND:-20}
OUTAGE=30

out=$(w2a_tmpdir relay-kafka-recovery)
RELAY_LOG=$out/relay.log
pg_start "$out/pg"
kafka_start_cluster "$out/kafka"

workload_counters "$out" 100

# Created beforehand: a topic auto-created while a fresh cluster settles can
# flap its partition count, which is not what this test is about.
kafka_create_topic _wal2avro_schemas 1 3 cleanup.policy=compact
kafka_create_topic wal2avro.public.counters 1 3
RELAY_KAFKA_ARGS='' relay_start recovery -v
pgbench -n -c 1 -R 200 -T 3600 -f "$out/workload.sql" >"$out/pgbench.log" 2>&1 &
bench_pid=$!
w2a_on_exit "kill $bench_pid 2>/dev/null || true"
relay_wait_confirmed "$(psql -XAtc "SELECT pg_current_wal_lsn()")" 60

kafka_outage ${W2A_OUTAGE_HOW:-}
down_at=$SECONDS
sleep $OUTAGE	# a fixed outage: its length is what the test is about
c1=$(slot_confirmed recovery)
w1=$(psql -XAtc "SELECT pg_current_wal_lsn()")
w2a_sql_true "SELECT '$w1'::pg_lsn > '$c1'::pg_lsn" || fail "the workload wrote nothing during the outage"
kill -0 "$RELAY_PID" || fail "the relay died while Kafka was down"
info "every broker down for $((SECONDS - down_at)) s: slot at $c1, WAL at $w1"

kafka_return
back_at=$(date +%s.%N)
leader_up()
{
	local l
	l=$(kafka_leader wal2avro.public.counters 0)
	echo "leader $l"
	[ "$l" -ge 1 ] 2>/dev/null
}
w2a_await 60 "the table topic to have a leader again" leader_up
leader_at=$(date +%s.%N)
w2a_wait_for 120 w2a_sql_true "SELECT confirmed_flush_lsn > '$c1' FROM pg_replication_slots WHERE slot_name = 'recovery'" ||
	fail "the slot did not move within 120 s of every broker's return (at $(slot_confirmed recovery))"
moved_at=$(date +%s.%N)
took=$(awk -v a="$back_at" -v b="$moved_at" 'BEGIN { printf "%.1f", b - a }')
leader=$(awk -v a="$back_at" -v b="$leader_at" 'BEGIN { printf "%.1f", b - a }')
info "the slot moved $took s after every broker was back (the topic's leader after $leader s)"
awk -v t="$took" -v b="$RECOVERY_BOUND" 'BEGIN { exit !(t < b) }' ||
	fail "the slot moved only $took s after every broker was back (bound $RECOVERY_BOUND s)"

kill "$bench_pid"
wait "$bench_pid" 2>/dev/null || true
end_lsn=$(psql -XAtc "SELECT pg_current_wal_lsn()")
relay_wait_confirmed "$end_lsn" 120
relay_stop

psql -XAtc "SELECT data FROM pg_logical_slot_get_changes('ref', NULL, NULL, 'format', 'json')" >"$out/ref.jsonl"
relay_tail_all "$out/kafka.jsonl"
"$W2A_PYTHON" "$W2A_ROOT/regress/tools/check_stream.py" "$out/ref.jsonl" "$out/kafka.jsonl" \
	--select "$out" || fail "Kafka does not hold exactly the committed changes"
echo "PASS: the relay confirmed again $took s after a ${OUTAGE} s outage of every broker and lost nothing"
