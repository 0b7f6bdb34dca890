#!/usr/bin/env bash
# regress/e2e/0023-relay-cluster-failover.sh -- a broker of three dies under load
#
# Three brokers, topics replicated three times with min.insync.replicas=2.
# While pgbench writes, the leader of the busiest topic is killed with
# SIGKILL: production must go on (the slot keeps advancing while the broker
# is gone), the broker comes back, and Kafka must hold exactly the
# committed changes.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
. "$W2A_ROOT/regress/lib/pg.sh"
. "$W2A_ROOT/regress/lib/kafka.sh"
. "$W2A_ROOT/regress/lib/relay.sh"
. "$W2A_ROOT/regress/lib/workload.sh"
. "$W2A_ROOT/regress/tools/venv.sh"

out=$(w2a_tmpdir relay-failover)
RELAY_LOG=$out/relay.log
pg_start "$out/pg"
kafka_start_cluster "$out/kafka"

workload_counters "$out" 100

relay_start failover
pgbench -n -c 1 -R 300 -T 3600 -f "$out/workload.sql" >"$out/pgbench.log" 2>&1 &
bench_pid=$!
w2a_on_exit "kill $bench_pid 2>/dev/null || true"
kafka_wait_isr wal2avro.public.counters 3 60	# the relay creates the topic on its first record
relay_wait_confirmed "$(psql -XAtc "SELECT pg_current_wal_lsn()")" 60

victim=$(kafka_leader wal2avro.public.counters 0)
[ "$victim" -ge 1 ] || fail "no leader for wal2avro.public.counters"
info "killing broker $victim, the partition's leader"
kafka_kill9 "$victim"
c1=$(slot_confirmed failover)
w1=$(psql -XAtc "SELECT pg_current_wal_lsn()")
# changes written after the kill must be produced and confirmed
w2a_wait_for 60 w2a_sql_true "SELECT confirmed_flush_lsn > '$w1' FROM pg_replication_slots WHERE slot_name = 'failover'" ||
	fail "production stalled with one broker of three dead: slot at $(slot_confirmed failover), WAL at $w1 at the kill"
c2=$(slot_confirmed failover)
info "with broker $victim dead: confirmed $c1 -> $c2 (WAL at $w1 at the kill)"

kafka_restart "$victim"
kafka_wait_isr wal2avro.public.counters 3 90	# it catches up while the workload goes on
kill "$bench_pid"
wait "$bench_pid" 2>/dev/null || true
end_lsn=$(psql -XAtc "SELECT pg_current_wal_lsn()")
relay_wait_confirmed "$end_lsn" 120
relay_stop

psql -XAtc "SELECT row_to_json(t) FROM counters t" >"$out/counters.jsonl"
psql -XAtc "SELECT data FROM pg_logical_slot_get_changes('ref', NULL, NULL, 'format', 'json')" >"$out/ref.jsonl"
relay_tail_all "$out/kafka.jsonl"
"$W2A_PYTHON" "$W2A_ROOT/regress/tools/check_stream.py" "$out/ref.jsonl" "$out/kafka.jsonl" \
	--select "$out" || fail "Kafka does not hold exactly the committed changes"
echo "PASS: production went on through the loss of a broker and lost nothing"
