#!/usr/bin/env bash
# regress/e2e/0022-relay-broker-down.sh -- Kafka down for a while under load
#
# The only broker is stopped for 25 seconds while pgbench writes.  The
# relay must wait without confirming anything new (the slot's position
# stands still while the WAL grows), keep its replication connection alive
# although it stops reading once its in-flight cap is reached
# (wal_sender_timeout is 5 s here, the cap 256 kB), resume when the broker
# returns, and in the end Kafka must hold exactly the committed changes.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
. "$W2A_ROOT/regress/lib/pg.sh"
. "$W2A_ROOT/regress/lib/kafka.sh"
. "$W2A_ROOT/regress/lib/relay.sh"
. "$W2A_ROOT/regress/lib/workload.sh"
. "$W2A_ROOT/regress/tools/venv.sh"

out=$(w2a_tmpdir relay-broker-down)
RELAY_LOG=$out/relay.log
echo "wal_sender_timeout = 5s" >"$out/timeout.conf"
pg_start "$out/pg" "$out/timeout.conf"
kafka_start_single "$out/kafka"

workload_counters "$out" 100 --pad

relay_start down --max-in-flight-bytes=262144
pgbench -n -c 1 -R 200 -T 3600 -f "$out/workload.sql" >"$out/pgbench.log" 2>&1 &
bench_pid=$!
w2a_on_exit "kill $bench_pid 2>/dev/null || true"
w2a_await 60 "the workload to commit 200 updates" w2a_sql_at_least "SELECT sum(v) FROM counters" 200
relay_wait_confirmed "$(psql -XAtc "SELECT pg_current_wal_lsn()")" 60
walsender=$(psql -XAtc "SELECT active_pid FROM pg_replication_slots WHERE slot_name = 'down'")

info "stopping the broker"
kafka_stop 1
# With the broker gone no acknowledgement can come.  Once the relay noticed
# (/readyz 503) and the server holds the position the relay last confirmed,
# that position must stand.
url=$(relay_metrics_url)
confirm_settled()
{
	local ready mine
	ready=$(curl -s -o /dev/null -w '%{http_code}' "$url/readyz")
	mine=$(relay_metric wal2avro_relay_confirmed_lsn)
	c1=$(slot_confirmed down)
	echo "/readyz $ready, relay confirmed $mine, slot at $c1"
	[ "$ready" = 503 ] && w2a_sql_true "SELECT pg_wal_lsn_diff('$c1', '0/0') = $mine"
}
w2a_await 60 "the relay to see Kafka down and the slot to hold its last confirmation" confirm_settled
w1=$(psql -XAtc "SELECT pg_current_wal_lsn()")
sleep 22	# a fixed window: the slot must not move during it (and it outlasts wal_sender_timeout)
c2=$(slot_confirmed down)
w2=$(psql -XAtc "SELECT pg_current_wal_lsn()")
info "broker down: confirmed $c1 -> $c2 while the WAL went $w1 -> $w2"
[ "$c1" = "$c2" ] || fail "the slot advanced from $c1 to $c2 while Kafka was down"
w2a_sql_true "SELECT '$w2'::pg_lsn > '$w1'::pg_lsn" || fail "the workload did not write"
kill -0 "$RELAY_PID" || fail "the relay died while Kafka was down"
[ "$(psql -XAtc "SELECT active_pid FROM pg_replication_slots WHERE slot_name = 'down'")" = "$walsender" ] ||
	fail "the replication connection was lost (wal_sender_timeout?)"

info "starting the broker again"
kafka_restart 1
relay_wait_confirmed "$w2" 120	# the backlog drains while the workload goes on
kill "$bench_pid"
wait "$bench_pid" 2>/dev/null || true
end_lsn=$(psql -XAtc "SELECT pg_current_wal_lsn()")
relay_wait_confirmed "$end_lsn" 120
relay_stop
! grep -q "reconnecting" "$RELAY_LOG" || fail "the relay reconnected to PostgreSQL"

psql -XAtc "SELECT row_to_json(t) FROM counters t" >"$out/counters.jsonl"
psql -XAtc "SELECT data FROM pg_logical_slot_get_changes('ref', NULL, NULL, 'format', 'json')" >"$out/ref.jsonl"
relay_tail_all "$out/kafka.jsonl"
"$W2A_PYTHON" "$W2A_ROOT/regress/tools/check_stream.py" "$out/ref.jsonl" "$out/kafka.jsonl" \
	--select "$out" || fail "Kafka does not hold exactly the committed changes"
echo "PASS: the relay waited out a Kafka outage without confirming and lost nothing"
