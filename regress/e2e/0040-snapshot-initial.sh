#!/usr/bin/env bash
# regress/e2e/0040-snapshot-initial.sh -- tables that hold data arrive whole
#
# A large table (W2A_SNAPSHOT_ROWS rows, default 1000000), a table with a
# TOASTed column, a table without a key, a table with an excluded column and
# an excluded table exist before the relay starts.  The relay creates its slot
# and takes the initial snapshot while a pgbench workload inserts, updates and
# deletes rows of the large table throughout.  Once the workload stops and the
# slot confirmed the end of the WAL, check_snapshot.py proves from Kafka: per
# topic the snapshot records come first, marked first..last, each key once; the
# state rebuilt from the snapshot plus the stream equals SELECT of every table
# (so no row was missed or duplicated at the seam); filters and column
# exclusion applied.  wal_sender_timeout is 5 s, shorter than the snapshot:
# the idle replication connection must survive it.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
. "$W2A_ROOT/regress/lib/pg.sh"
. "$W2A_ROOT/regress/lib/kafka.sh"
. "$W2A_ROOT/regress/lib/relay.sh"
. "$W2A_ROOT/regress/tools/venv.sh"

rows=${W2A_SNAPSHOT_ROWS:-1000000}
out=$(w2a_tmpdir snapshot-initial)
RELAY_LOG=$out/relay.log
echo "wal_sender_timeout = 5s" >"$out/pg.conf"
pg_start "$out/pg" "$out/pg.conf"
kafka_start_single "$out/kafka"

psql -Xq -v ON_ERROR_STOP=1 -v rows="$rows" <<'SQL'
CREATE EXTENSION wal2avro;
CREATE TABLE orders (id bigint PRIMARY KEY, customer int NOT NULL, amount numeric(12,2), note text);
INSERT INTO orders SELECT g, g % 1000, g / 7.0, 'order ' || g FROM generate_series(1, :rows) g;
CREATE SEQUENCE orders_new START 100000000;
CREATE TABLE docs (id int PRIMARY KEY, body text);
INSERT INTO docs SELECT g, (SELECT string_agg(md5(random()::text || g || h), '') FROM generate_series(1, 300) h)
  FROM generate_series(1, 20) g;
CREATE TABLE nokey (ts int, what text);
INSERT INTO nokey SELECT g, 'event ' || g FROM generate_series(1, 50) g;
CREATE TABLE secrets (id int PRIMARY KEY, v text, hidden text);
INSERT INTO secrets SELECT g, 'v' || g, 'pw' || g FROM generate_series(1, 10) g;
CREATE TABLE skipme (id int PRIMARY KEY);
INSERT INTO skipme SELECT generate_series(1, 10);
ANALYZE;
SQL
info "$(psql -XAtc "SELECT count(*) FROM orders") rows in orders, $(psql -XAtc "SELECT pg_size_pretty(pg_total_relation_size('docs'))") in docs"

cat >"$out/workload.sql" <<EOF2
\set id random(1, $rows)
\set del random(1, $rows)
BEGIN;
UPDATE orders SET amount = amount + 1, note = 'updated' WHERE id = :id;
INSERT INTO orders VALUES (nextval('orders_new'), :id % 1000, 1.5, 'new');
COMMIT;
DELETE FROM orders WHERE id = :del;
EOF2
pgbench -n -c 2 -R 300 -T 3600 -f "$out/workload.sql" >"$out/pgbench.log" 2>&1 &
bench_pid=$!
w2a_on_exit "kill $bench_pid 2>/dev/null || true"
w2a_await 60 "the workload to insert orders" w2a_sql_at_least "SELECT last_value FROM orders_new" 100000010

relay_launch snap --snapshot-mode=initial -o exclude-tables=public.skipme \
	-o exclude-columns=public.secrets.hidden
hwm=0
w2a_wait_for 600 grep -q "snapshot done" "$RELAY_LOG" || fail "the snapshot did not finish"
hwm=$(awk '/VmHWM/ {print $2}' /proc/$RELAY_PID/status)
w2a_wait_for 30 w2a_sql_true "SELECT active FROM pg_replication_slots WHERE slot_name = 'snap'" ||
	fail "the relay did not start streaming after the snapshot"
info "snapshot done, streaming"
# the workload goes on into the stream: 600 more orders
seq=$(psql -XAtc "SELECT last_value FROM orders_new")
w2a_await 60 "the workload to insert 600 orders while streaming" \
	w2a_sql_at_least "SELECT last_value FROM orders_new" $((seq + 600))
kill "$bench_pid"
wait "$bench_pid" 2>/dev/null || true
end_lsn=$(psql -XAtc "SELECT pg_current_wal_lsn()")
info "workload stopped at $end_lsn"
relay_wait_confirmed "$end_lsn" 120
hwm2=$(awk '/VmHWM/ {print $2}' /proc/$RELAY_PID/status)
relay_stop

grep "snapshot " "$RELAY_LOG" | sed 's/^/    /'
grep -q "snapshot public.orders: [0-9]* rows done" "$RELAY_LOG" || fail "no end-of-table progress line for public.orders"
grep -q "replication timeout" "$out/pg/server.log" &&
	fail "wal_sender_timeout ended the replication connection during the snapshot"
grep -q "reconnecting" "$RELAY_LOG" && fail "the relay reconnected"
secs=$(sed -n 's/.*snapshot done: .* rows in \([0-9]*\)\..*/\1/p' "$RELAY_LOG")
[ "${secs:-0}" -ge 5 ] ||
	info "the snapshot took less than wal_sender_timeout (5 s): raise W2A_SNAPSHOT_ROWS to test the idle connection"
info "relay peak RSS: ${hwm} kB at the end of the snapshot, ${hwm2} kB at the end"

for t in orders docs nokey; do
	psql -XAtc "SELECT row_to_json(t) FROM $t t" >"$out/public.$t.jsonl"
done
psql -XAtc "SELECT row_to_json(t) FROM (SELECT id, v FROM secrets) t" >"$out/public.secrets.jsonl"
relay_tail_all "$out/kafka.jsonl"
grep -q '"topic":"wal2avro.public.skipme"' "$out/kafka.jsonl" && fail "excluded table public.skipme was read"
grep -q '"hidden"' "$out/kafka.jsonl" && fail "excluded column public.secrets.hidden was sent"
"$W2A_PYTHON" "$W2A_ROOT/regress/tools/check_snapshot.py" "$out/kafka.jsonl" "$out" \
	public.orders public.docs public.nokey public.secrets || fail "Kafka does not rebuild the tables"
echo "PASS: snapshot of $rows rows under concurrent writes, then the stream, rebuilt every table"
