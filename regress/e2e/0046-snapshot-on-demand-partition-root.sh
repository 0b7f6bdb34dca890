#!/usr/bin/env bash
# regress/e2e/0046-snapshot-on-demand-partition-root.sh -- on-demand snapshot of a partitioned table published as its root
#
# A relay streams with publish-via-partition-root=true, so the changes of
# the leaves of "orders" (four range partitions) come as changes of
# "orders", under its relid, and so do the chunks wal2avro.snapshot_frames()
# reads from a leaf.  The W2A_ONDEMAND_ROWS (default 200000) rows the table
# held before the slot existed are not in Kafka; wal2avro.request_snapshot
# ('orders') reads its leaves in small chunks while a workload updates,
# inserts and deletes rows.  The rows that matter are those changed between
# a chunk's read and its watermark: the stream carries the change under the
# root's relid, and the chunk's older row must be dropped.  One sweep per
# leaf updates each of its rows once, in id order, which is the leaf's
# physical order (fillfactor 50 keeps updated rows in their block), so the
# chunk that reaches a sweep meets updates of its own rows that nothing
# overwrites later.  A relay that matched the window's changes by the leaf's
# relid collects no key, drops nothing, and leaves those rows stale.
# Checks: each leaf is read, rows were dropped because a change overtook
# them, the relay never failed, and the state rebuilt from the root's topic
# (last record per key) equals the table.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
. "$W2A_ROOT/regress/lib/pg.sh"
. "$W2A_ROOT/regress/lib/kafka.sh"
. "$W2A_ROOT/regress/lib/relay.sh"
. "$W2A_ROOT/regress/tools/venv.sh"

rows=${W2A_ONDEMAND_ROWS:-200000}
leaf=$((rows / 4))
out=$(w2a_tmpdir snapshot-on-demand-partition-root)
RELAY_LOG=$out/relay.log
pg_start "$out/pg"
kafka_start_single "$out/kafka"

psql -Xq -v ON_ERROR_STOP=1 -v rows="$rows" -v leaf="$leaf" <<'SQL'
CREATE EXTENSION wal2avro;
CREATE TABLE orders (id bigint PRIMARY KEY, customer int NOT NULL, amount numeric(12,2), note text)
    PARTITION BY RANGE (id);
CREATE TABLE orders_1 PARTITION OF orders FOR VALUES FROM (1) TO (:leaf + 1) WITH (fillfactor = 50);
CREATE TABLE orders_2 PARTITION OF orders FOR VALUES FROM (:leaf + 1) TO (2 * :leaf + 1) WITH (fillfactor = 50);
CREATE TABLE orders_3 PARTITION OF orders FOR VALUES FROM (2 * :leaf + 1) TO (3 * :leaf + 1) WITH (fillfactor = 50);
CREATE TABLE orders_4 PARTITION OF orders FOR VALUES FROM (3 * :leaf + 1) TO (MAXVALUE) WITH (fillfactor = 50);
INSERT INTO orders SELECT g, g % 1000, g / 7.0, 'order ' || g FROM generate_series(1, :rows) g;
CREATE SEQUENCE orders_new START 100000000;
CREATE SEQUENCE sweep_1 START 1;
SELECT format('CREATE SEQUENCE sweep_%s START %s', i, (i - 1) * :leaf + 1) FROM generate_series(2, 4) i \gexec
ANALYZE;
SQL
cat >"$out/workload.sql" <<EOF2
\set id random(1, $rows)
BEGIN;
UPDATE orders SET amount = amount + 1, note = 'updated' WHERE id = :id;
INSERT INTO orders VALUES (nextval('orders_new'), :id % 1000, 1.5, 'new');
COMMIT;
DELETE FROM orders WHERE id = :id + 1;
UPDATE orders SET amount = amount - 1 WHERE id = :id + 2;
UPDATE orders SET note = 'swept' WHERE id = (SELECT nextval('sweep_1'));
UPDATE orders SET note = 'swept' WHERE id = (SELECT nextval('sweep_2'));
UPDATE orders SET note = 'swept' WHERE id = (SELECT nextval('sweep_3'));
UPDATE orders SET note = 'swept' WHERE id = (SELECT nextval('sweep_4'));
EOF2

relay_start partroot --snapshot-mode=never --snapshot-chunk-size=64kB --max-in-flight-bytes=1MB \
	--plugin-option=publish-via-partition-root=true
pgbench -n -c 2 -R 300 -T 3600 -f "$out/workload.sql" >"$out/pgbench.log" 2>&1 &
bench_pid=$!
w2a_on_exit "kill $bench_pid 2>/dev/null || true"
w2a_wait_for 30 w2a_sql_true "SELECT last_value > 100 FROM sweep_1" || fail "the workload did not start"

request=$(psql -XAtc "SELECT wal2avro.request_snapshot('orders')")
info "on-demand snapshot of orders (4 leaves) requested at $request"
leaves_done()
{
	[ "$(grep -c "on-demand snapshot of public.orders_[1-4] done" "$RELAY_LOG")" -eq 4 ]
}
w2a_wait_for 600 leaves_done || fail "the snapshot of the leaves did not finish"
grep -q "on-demand snapshot done: every requested table read" "$RELAY_LOG" || fail "the request did not end"
sleep 1
kill "$bench_pid"
wait "$bench_pid" 2>/dev/null || true
end_lsn=$(psql -XAtc "SELECT pg_current_wal_lsn()")
relay_wait_confirmed "$end_lsn" 120
relay_stop
grep "on-demand" "$RELAY_LOG" | grep -v "rows (about" | sed 's/^/    /'
if grep -q "reconnecting\|error:" "$RELAY_LOG"; then
	fail "the relay failed or reconnected during the snapshot"
fi
swept=$(psql -XAtc "SELECT count(*) FROM orders WHERE note = 'swept'")
info "$swept rows swept during the run"

psql -XAtc "SELECT row_to_json(t) FROM orders t" >"$out/public.orders.jsonl"
relay_tail_all "$out/kafka.jsonl"
if grep -q '"topic": *"wal2avro.public.orders_' "$out/kafka.jsonl"; then
	fail "a leaf has a topic of its own despite publish-via-partition-root"
fi
"$W2A_PYTHON" "$W2A_ROOT/regress/tools/check_snapshot.py" --rebuild "$out/kafka.jsonl" "$out" public.orders |
	tee "$out/check.log" || fail "Kafka does not rebuild the table (a stale chunk row after a newer change?)"
n=$(sed -n 's/^check_snapshot: public.orders: \([0-9]*\) incremental records.*/\1/p' "$out/check.log")
[ "${n:-0}" -gt $((rows / 2)) ] || fail "only ${n:-0} incremental records in Kafka for about $rows rows"
dropped=$(sed -n 's/.*on-demand snapshot of public.orders_[1-4] done: .*, \([0-9]*\) overtaken by changes.*/\1/p' "$RELAY_LOG" |
	awk '{ s += $1 } END { print s + 0 }')
[ "$dropped" -gt 0 ] || fail "no chunk row was dropped for a change in its window: the window saw none of the root's changes"
echo "PASS: on-demand snapshot of a partitioned table published as its root: $dropped rows overtaken, table rebuilt"
