#!/usr/bin/env bash
# regress/e2e/0024-relay-pg-restart.sh -- PostgreSQL restarts under the relay
#
# The server is restarted twice (fast, then immediate: a crash) while a
# workload runs; the relay must reconnect by itself and resume from the
# slot, and Kafka must hold exactly the committed changes.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
. "$W2A_ROOT/regress/lib/pg.sh"
. "$W2A_ROOT/regress/lib/kafka.sh"
. "$W2A_ROOT/regress/lib/relay.sh"
. "$W2A_ROOT/regress/lib/workload.sh"
. "$W2A_ROOT/regress/tools/venv.sh"

out=$(w2a_tmpdir relay-pg-restart)
RELAY_LOG=$out/relay.log
pg_start "$out/pg"
kafka_start_single "$out/kafka"

workload_counters "$out" 100

relay_start restart --reconnect-max-backoff=2
reconnects_above()	# N: the relay's log has more than N "reconnecting" lines
{
	local n
	n=$(grep -c "reconnecting" "$RELAY_LOG" || true)
	echo "$n \"reconnecting\" lines, $1 before the stop"
	[ "$n" -gt "$1" ]
}
for mode in fast immediate; do
	pgbench -n -c 1 -R 300 -T 4 -f "$out/workload.sql" >>"$out/pgbench.log" 2>&1 || true
	info "restarting PostgreSQL ($mode)"
	seen=$(grep -c "reconnecting" "$RELAY_LOG" || true)
	pg_ctl_as -m "$mode" -w stop >/dev/null
	w2a_await 30 "the relay to notice the $mode stop" reconnects_above "$seen"
	pg_ctl_as -l "$W2A_PGDIR/server.log" -w -t 60 start >/dev/null
	w2a_wait_for 60 w2a_sql_true "SELECT EXISTS (SELECT FROM pg_replication_slots WHERE slot_name = 'restart' AND active)" ||
		fail "the relay did not reconnect after the $mode restart"
done
pgbench -n -c 1 -R 300 -T 3 -f "$out/workload.sql" >>"$out/pgbench.log" 2>&1 || true
end_lsn=$(psql -XAtc "SELECT pg_current_wal_lsn()")
relay_wait_confirmed "$end_lsn" 120
relay_stop
[ "$(grep -c "reconnecting" "$RELAY_LOG")" -ge 2 ] || fail "the relay log shows no reconnects"

psql -XAtc "SELECT row_to_json(t) FROM counters t" >"$out/counters.jsonl"
psql -XAtc "SELECT data FROM pg_logical_slot_get_changes('ref', NULL, NULL, 'format', 'json')" >"$out/ref.jsonl"
relay_tail_all "$out/kafka.jsonl"
"$W2A_PYTHON" "$W2A_ROOT/regress/tools/check_stream.py" "$out/ref.jsonl" "$out/kafka.jsonl" \
	--select "$out" || fail "Kafka does not hold exactly the committed changes"
echo "PASS: the relay reconnected after PostgreSQL restarts and lost nothing"
