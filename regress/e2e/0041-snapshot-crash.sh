#!/usr/bin/env bash
# regress/e2e/0041-snapshot-crash.sh -- kill -9 in the middle of the snapshot
#
# The relay is killed with SIGKILL while it reads a large table
# (W2A_SNAPSHOT_ROWS rows, default 500000; the in-flight cap is small so the
# read takes a while), with a light workload running.  The slot must still sit
# at its consistent point (nothing was confirmed), and a restarted relay must
# see the "started" marker, drop and recreate the slot, and take the snapshot
# again; the state rebuilt from Kafka then equals the table.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
. "$W2A_ROOT/regress/lib/pg.sh"
. "$W2A_ROOT/regress/lib/kafka.sh"
. "$W2A_ROOT/regress/lib/relay.sh"
. "$W2A_ROOT/regress/tools/venv.sh"

rows=${W2A_SNAPSHOT_ROWS:-500000}
out=$(w2a_tmpdir snapshot-crash)
RELAY_LOG=$out/relay.log
pg_start "$out/pg"
kafka_start_single "$out/kafka"

psql -Xq -v ON_ERROR_STOP=1 -v rows="$rows" <<'SQL'
CREATE EXTENSION wal2avro;
CREATE TABLE orders (id bigint PRIMARY KEY, customer int NOT NULL, amount numeric(12,2), note text);
INSERT INTO orders SELECT g, g % 1000, g / 7.0, 'order ' || g FROM generate_series(1, :rows) g;
CREATE SEQUENCE orders_new START 100000000;
ANALYZE;
SQL
cat >"$out/workload.sql" <<EOF2
\set id random(1, $rows)
BEGIN;
UPDATE orders SET amount = amount + 1 WHERE id = :id;
INSERT INTO orders VALUES (nextval('orders_new'), :id % 1000, 1.5, 'new');
COMMIT;
DELETE FROM orders WHERE id = :id + 1;
EOF2
pgbench -n -c 1 -R 100 -T 3600 -f "$out/workload.sql" >"$out/pgbench.log" 2>&1 &
bench_pid=$!
w2a_on_exit "kill $bench_pid 2>/dev/null || true"

relay_launch crash --snapshot-mode=initial --max-in-flight-bytes=1MB
w2a_wait_for 60 grep -q "snapshot of 1 tables" "$RELAY_LOG" || fail "the snapshot did not start"
start=$(sed -n 's/.*created replication slot "crash" at \([0-9A-F/]*\).*/\1/p' "$RELAY_LOG" | tail -n 1)
orders_in_kafka()
{
	local hw
	hw=$(kafka_high_watermarks wal2avro.public.orders)
	[ "${hw#*=}" -gt 20000 ]
}
w2a_wait_for 60 orders_in_kafka || fail "the snapshot sent nothing to Kafka"
grep -q "snapshot done" "$RELAY_LOG" && fail "the snapshot ended before the kill: raise W2A_SNAPSHOT_ROWS"
relay_kill9
sent=$(kafka_high_watermarks wal2avro.public.orders)
info "killed in the snapshot: slot at $(slot_confirmed crash), started at $start,$sent records in Kafka"
[ "$(slot_confirmed crash)" = "$start" ] || fail "the slot moved from $start before the snapshot was acknowledged"

relay_launch crash --snapshot-mode=initial --max-in-flight-bytes=1MB
w2a_wait_for 120 grep -q "snapshot done" "$RELAY_LOG" || fail "the snapshot was not redone"
grep -q "was interrupted (slot still at $start): dropping the slot" "$RELAY_LOG" ||
	fail "the relay did not say it redoes the snapshot"
w2a_wait_for 30 w2a_sql_true "SELECT active FROM pg_replication_slots WHERE slot_name = 'crash'" ||
	fail "the relay did not start streaming after the snapshot"
# the workload goes on into the stream: 200 more orders
seq=$(psql -XAtc "SELECT last_value FROM orders_new")
w2a_await 60 "the workload to insert 200 orders while streaming" \
	w2a_sql_at_least "SELECT last_value FROM orders_new" $((seq + 200))
kill "$bench_pid"
wait "$bench_pid" 2>/dev/null || true
end_lsn=$(psql -XAtc "SELECT pg_current_wal_lsn()")
relay_wait_confirmed "$end_lsn" 120
relay_stop
grep "snapshot\|interrupted" "$RELAY_LOG" | sed 's/^/    /'

psql -XAtc "SELECT row_to_json(t) FROM orders t" >"$out/public.orders.jsonl"
relay_tail_all "$out/kafka.jsonl"
"$W2A_PYTHON" "$W2A_ROOT/regress/tools/check_snapshot.py" "$out/kafka.jsonl" "$out" public.orders ||
	fail "Kafka does not rebuild the table"
echo "PASS: a snapshot killed half way was redone, nothing lost"
