#!/usr/bin/env bash
# regress/e2e/0029-relay-pg-crash-position.sh -- a PostgreSQL crash must not
# make the relay send again what it had confirmed
#
# PostgreSQL writes a slot's confirmed_flush_lsn to disk only now and then
# (at checkpoints, and when the slot's restart_lsn moves); a crash takes the
# slot back to what was last on disk.  Under load, three times: wait until
# the slot was just saved (its restart_lsn moved), then until the relay
# confirmed past the WAL written since, note the confirmed position and
# Kafka's high watermarks, and crash the server (pg_ctl stop -m immediate,
# no checkpoint).  The last time the relay is killed (-9) too, as when the
# host is lost: the new one has only the state topic to go by.
# check_stream.py --kills then proves that no change of a
# transaction confirmed before a crash came to Kafka again, and that
# nothing was lost; the relay's log must show that the slot did roll back
# at least once (else the test proved nothing).
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
. "$W2A_ROOT/regress/lib/pg.sh"
. "$W2A_ROOT/regress/lib/kafka.sh"
. "$W2A_ROOT/regress/lib/relay.sh"
. "$W2A_ROOT/regress/lib/workload.sh"
. "$W2A_ROOT/regress/tools/venv.sh"

crashes=${W2A_CRASHES:-3}
out=$(w2a_tmpdir relay-pg-crash-position)
RELAY_LOG=$out/relay.log
pg_start "$out/pg"
kafka_start_single "$out/kafka"

workload_counters "$out" 200 --log

restart_lsn()
{
	psql -XAtc "SELECT restart_lsn FROM pg_replication_slots WHERE slot_name = 'crash'"
}
restart_moved()	# FROM: the slot's restart_lsn is no longer FROM (it was saved)
{
	local now
	now=$(restart_lsn)
	echo "restart_lsn $now, was $1"
	[ -n "$now" ] && [ "$now" != "$1" ]
}

relay_start crash --reconnect-max-backoff=2
: >"$out/kills"
for i in $(seq 1 "$crashes"); do
	pgbench -n -c 2 -R 400 -T 600 -f "$out/workload.sql" >>"$out/pgbench.log" 2>&1 &
	bench_pid=$!
	# the relay must confirm something first, then the bgwriter's next
	# running_xacts (every 15 s) lets the slot's restart_lsn move: saved
	w2a_wait_for 30 w2a_sql_true "SELECT confirmed_flush_lsn > '$(psql -XAtc "SELECT pg_current_wal_lsn()")' FROM pg_replication_slots WHERE slot_name = 'crash'" ||
		fail "crash $i: the relay confirmed nothing"
	saved=$(restart_lsn)
	w2a_await 60 "the slot to be saved (restart_lsn past $saved)" restart_moved "$saved"
	since=$(psql -XAtc "SELECT pg_current_wal_lsn()")
	relay_wait_confirmed "$since" 60
	echo "$(slot_confirmed crash)$(kafka_high_watermarks wal2avro.public.counters wal2avro.public.log)" >>"$out/kills"
	info "crash $i: $(tail -n 1 "$out/kills")"
	seen=$(grep -c "reconnecting" "$RELAY_LOG" || true)
	host_lost=$([ "$i" -eq "$crashes" ] && echo 1 || echo 0)
	[ "$host_lost" = 0 ] || relay_kill9
	pg_ctl_as -m immediate -w stop >/dev/null
	kill "$bench_pid" 2>/dev/null || true
	wait "$bench_pid" 2>/dev/null || true
	[ "$host_lost" = 1 ] || w2a_await 30 "the relay to notice the crash" \
		sh -c '[ "$(grep -c reconnecting "$1")" -gt "$2" ]' sh "$RELAY_LOG" "$seen"
	pg_ctl_as -l "$W2A_PGDIR/server.log" -w -t 60 start >/dev/null
	[ "$host_lost" = 0 ] || relay_launch crash --reconnect-max-backoff=2
	w2a_wait_for 60 w2a_sql_true "SELECT EXISTS (SELECT FROM pg_replication_slots WHERE slot_name = 'crash' AND active)" ||
		fail "the relay did not reconnect after crash $i"
done
pgbench -n -c 2 -R 400 -T 2 -f "$out/workload.sql" >>"$out/pgbench.log" 2>&1 || true
end_lsn=$(psql -XAtc "SELECT pg_current_wal_lsn()")
relay_wait_confirmed "$end_lsn" 120
relay_stop

for t in counters log; do
	psql -XAtc "SELECT row_to_json(t) FROM $t t" >"$out/$t.jsonl"
done
psql -XAtc "SELECT data FROM pg_logical_slot_get_changes('ref', NULL, NULL, 'format', 'json')" >"$out/ref.jsonl"
relay_tail_all "$out/kafka.jsonl"
"$W2A_PYTHON" "$W2A_ROOT/regress/tools/check_stream.py" "$out/ref.jsonl" "$out/kafka.jsonl" \
	--kills "$out/kills" --select "$out" ||
	fail "after a PostgreSQL crash Kafka got again what the relay had confirmed (or lost something)"

# the server streams from where it says; the slot did lose confirmations
grep "streaming slot \"crash\" from" "$RELAY_LOG" >&2 || fail "no start line in the relay's log"
rollbacks=$(grep -c "behind the relay's confirmed position" "$RELAY_LOG" || true)
info "the slot was behind the relay's position after $rollbacks of $crashes crashes"
[ "$rollbacks" -ge 1 ] || fail "no crash took the slot back: the test proved nothing"
echo "PASS: $crashes PostgreSQL crashes under load sent nothing confirmed again and lost nothing"
