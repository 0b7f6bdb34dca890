#!/usr/bin/env bash
# regress/e2e/0021-relay-kill9.sh -- kill -9 the relay 20 times under load
#
# A continuous pgbench workload (updates of counters, inserts and deletes of
# log rows) runs while wal2avro-relay is killed with SIGKILL at random
# moments and started again, 20 times.  After each kill the slot's
# confirmed position and Kafka's high watermarks are noted.  At the end
# check_stream.py proves: every committed change is in Kafka, in commit
# order per topic, nothing else; the slot never confirmed a change Kafka did
# not have; duplicates only re-send unconfirmed transactions (counted).
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
. "$W2A_ROOT/regress/lib/pg.sh"
. "$W2A_ROOT/regress/lib/kafka.sh"
. "$W2A_ROOT/regress/lib/relay.sh"
. "$W2A_ROOT/regress/lib/workload.sh"
. "$W2A_ROOT/regress/tools/venv.sh"

kills=${W2A_KILLS:-20}
out=$(w2a_tmpdir relay-kill9)
RELAY_LOG=$out/relay.log
pg_start "$out/pg"
kafka_start_single "$out/kafka"

workload_counters "$out" 200 --log --log-deletes

relay_start kill9
pgbench -n -c 2 -T 3600 -f "$out/workload.sql" >"$out/pgbench.log" 2>&1 &
bench_pid=$!
w2a_on_exit "kill $bench_pid 2>/dev/null || true"

: >"$out/kills"
for i in $(seq 1 "$kills"); do
	# pacing: the kill comes at a random moment of the workload
	sleep "$(python3 -c "import random; print(round(random.uniform(0.3, 2.5), 2))")"
	relay_kill9
	echo "$(slot_confirmed kill9)$(kafka_high_watermarks wal2avro.public.counters wal2avro.public.log)" >>"$out/kills"
	info "kill $i: $(tail -n 1 "$out/kills")"
	relay_start kill9
done

kill "$bench_pid"
wait "$bench_pid" 2>/dev/null || true
end_lsn=$(psql -XAtc "SELECT pg_current_wal_lsn()")
relay_wait_confirmed "$end_lsn" 120
relay_stop

for t in counters log; do
	psql -XAtc "SELECT row_to_json(t) FROM $t t" >"$out/$t.jsonl"
done
psql -XAtc "SELECT data FROM pg_logical_slot_get_changes('ref', NULL, NULL, 'format', 'json')" >"$out/ref.jsonl"
relay_tail_all "$out/kafka.jsonl"
"$W2A_PYTHON" "$W2A_ROOT/regress/tools/check_stream.py" "$out/ref.jsonl" "$out/kafka.jsonl" \
	--kills "$out/kills" --select "$out" || fail "Kafka does not hold exactly the committed changes"
echo "PASS: $kills kill -9 of the relay under load lost nothing"
