#!/usr/bin/env bash
# regress/e2e/0030-relay-monitoring.sh -- metrics, health, heartbeats, lag alarms
#
# The relay runs with its metrics endpoint and heartbeats on.  Checks:
#   - /healthz answers; /readyz is 200 while streaming;
#   - per-table counters equal what the workload changed, once acknowledged;
#   - Kafka stopped: /readyz turns 503 (producer not connected), the slot lag
#     and replication lag grow while writes go on; Kafka back: ready again,
#     lag falls back;
#   - heartbeats reach their topic and keep the slot moving while the
#     captured table is quiet and another database is busy;
#   - every metric the shipped Grafana dashboard and alert rules use exists.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
. "$W2A_ROOT/regress/lib/pg.sh"
. "$W2A_ROOT/regress/lib/kafka.sh"
. "$W2A_ROOT/regress/lib/relay.sh"

out=$(w2a_tmpdir relay-monitoring)
RELAY_LOG=$out/relay.log
pg_start "$out/pg"
kafka_start_single "$out/kafka"
psql -Xq -v ON_ERROR_STOP=1 <<'SQL'
CREATE TABLE watched (id int PRIMARY KEY, v text);
CREATE DATABASE neighbour;
SQL
psql -Xq -d neighbour -c "CREATE TABLE noise (id serial PRIMARY KEY, pad text)"

relay_start mon --heartbeat-interval=1 -o include-tables=public.watched
url=$(relay_metrics_url)
http_code() { curl -s -o /dev/null -w '%{http_code}' "$url$1"; }
ready_is() { [ "$(http_code /readyz)" = "$1" ]; }
[ "$(http_code /healthz)" = 200 ] || fail "/healthz is not 200"
w2a_wait_for 15 ready_is 200 || fail "/readyz is not 200 while streaming: $(curl -s "$url/readyz")"
[ "$(http_code /nope)" = 404 ] || fail "an unknown path is not 404"

info "counters follow the workload"
psql -Xq -c "INSERT INTO watched SELECT g, 'v' FROM generate_series(1, 300) g"
psql -Xq -c "UPDATE watched SET v = 'w' WHERE id <= 120"
psql -Xq -c "DELETE FROM watched WHERE id <= 45"
end_lsn=$(psql -XAtc "SELECT pg_current_wal_lsn()")
relay_wait_confirmed "$end_lsn" 60
# The endpoint publishes about once a second, later on a loaded machine: poll.
# Deletes count twice (the delete and its tombstone); every statement above
# is a transaction whose commit-to-ack latency is observed.
produced_is()	# C U D: the per-table counters equal these, latency observed
{
	c=$(relay_metric wal2avro_relay_records_produced_total 'table="watched",op="c"')
	u=$(relay_metric wal2avro_relay_records_produced_total 'table="watched",op="u"')
	d=$(relay_metric wal2avro_relay_records_produced_total 'table="watched",op="d"')
	acks=$(relay_metric wal2avro_relay_commit_to_ack_latency_seconds_count)
	echo "c=$c u=$u d=$d, $acks commit-to-ack latencies"
	[ "$c" = "$1" ] && [ "$u" = "$2" ] && [ "$d" = "$3" ] && [ "$acks" -ge 3 ]
}
w2a_await 30 "counters c=300 u=120 d=90 and 3 commit-to-ack latencies" produced_is 300 120 90
info "produced: c=$c u=$u d=$d, $acks commit-to-ack latencies"

info "heartbeats keep the slot moving while another database is busy"
for i in 1 2 3; do
	psql -Xq -d neighbour -c "INSERT INTO noise (pad) SELECT repeat('y', 500) FROM generate_series(1, 5000)"
done
quiet_slot_follows()	# the slot lags under 1 MB (under 64 kB as published: the
{			# baseline for the outage below), 3 heartbeats in Kafka
	lag=$(psql -XAtc "SELECT lag_bytes FROM wal2avro.relay_slots WHERE slot_name = 'mon'" 2>/dev/null ||
		psql -XAtc "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint FROM pg_replication_slots WHERE slot_name = 'mon'")
	beats=$(kcat -b "$KAFKA_BOOTSTRAP" -C -t __wal2avro-heartbeat.wal2avro -e -q -f '.\n' 2>/dev/null | grep -c . || true)
	lag_before=$(relay_metric wal2avro_relay_slot_lag_bytes)
	echo "slot lag $lag bytes ($lag_before published), $beats heartbeats"
	[ "$lag" -lt 1048576 ] && [ "$lag_before" -lt 65536 ] && [ "$beats" -ge 3 ]
}
w2a_await 60 "the quiet slot to lag under 1 MB (64 kB published) with 3 heartbeats in Kafka" quiet_slot_follows
info "$beats heartbeats, slot lag $lag bytes"

info "Kafka down: not ready, lag grows"
kafka_stop 1
w2a_wait_for 30 ready_is 503 || fail "/readyz stayed $(http_code /readyz) with Kafka down"
reason=$(curl -s "$url/readyz")
info "/readyz: $reason"
for i in 1 2 3 4 5; do
	psql -Xq -c "INSERT INTO watched SELECT 1000 * $i + g, 'down' FROM generate_series(1, 200) g"
	sleep 1	# pacing: the oldest unacknowledged commit must age
done
lag_grew()	# slot lag above lag_before, replication lag above 1 s
{
	lag_down=$(relay_metric wal2avro_relay_slot_lag_bytes)
	rlag_down=$(relay_metric wal2avro_relay_replication_lag_seconds)
	echo "slot lag $lag_down bytes (before: $lag_before), replication lag $rlag_down s"
	[ "$lag_down" -gt "$lag_before" ] &&
		python3 -c "import sys; sys.exit(0 if float('$rlag_down') > 1 else 1)"
}
w2a_await 30 "slot lag and replication lag (> 1 s) to grow with Kafka down" lag_grew
info "slot lag $lag_before -> $lag_down bytes, replication lag $rlag_down s"

info "Kafka back: ready, lag falls"
kafka_restart 1
end_lsn=$(psql -XAtc "SELECT pg_current_wal_lsn()")
relay_wait_confirmed "$end_lsn" 90
w2a_wait_for 30 ready_is 200 || fail "/readyz did not return to 200"
lag_fell()	# the published slot lag is below lag_down
{
	lag_after=$(relay_metric wal2avro_relay_slot_lag_bytes)
	echo "slot lag $lag_after bytes (with Kafka down: $lag_down)"
	[ "$lag_after" -lt "$lag_down" ]
}
w2a_await 30 "the slot lag to fall below $lag_down bytes after Kafka came back" lag_fell
info "slot lag after recovery: $lag_after bytes"

info "metric names used by the dashboard and alert rules exist"
curl -s "$url/metrics" | awk '/^# TYPE/ {print $3}' | sort -u >"$out/families"
for f in "$W2A_ROOT"/doc/monitoring/grafana-dashboard.json "$W2A_ROOT"/doc/monitoring/alerts.yml; do
	[ -f "$f" ] || fail "missing $f"
	for name in $(grep -o 'wal2avro_relay_[a-z0-9_]*' "$f" | sort -u); do
		base=${name%_bucket}
		base=${base%_sum}
		base=${base%_count}
		grep -qx "$name" "$out/families" || grep -qx "$base" "$out/families" ||
			fail "$(basename "$f") uses $name, which the relay does not expose"
	done
done
relay_stop
echo "PASS: metrics, health, heartbeats and lag follow what happens"
