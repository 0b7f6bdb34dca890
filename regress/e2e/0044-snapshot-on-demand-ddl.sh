#!/usr/bin/env bash
# regress/e2e/0044-snapshot-on-demand-ddl.sh -- schema changes during an on-demand snapshot
#
# While the relay reads a table on demand in small chunks, the table's
# schema changes again and again (ALTER TABLE ADD COLUMN, which waits for
# each chunk's ACCESS SHARE lock) and its rows are updated, so the stream
# carries new SCHEMA frames for it while chunks of either schema are in the
# air.  A chunk whose window sees the schema change is read again (how
# often depends on timing: the count is printed, not checked).  Checks: the
# relay never reconnected or failed, every chunk's records decode with their
# schema, and the state rebuilt from Kafka equals the table on its original
# columns (rows read before a later ADD COLUMN lack it, as a streamed row
# would).
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
. "$W2A_ROOT/regress/lib/pg.sh"
. "$W2A_ROOT/regress/lib/kafka.sh"
. "$W2A_ROOT/regress/lib/relay.sh"
. "$W2A_ROOT/regress/tools/venv.sh"

rows=${W2A_ONDEMAND_ROWS:-200000}
out=$(w2a_tmpdir snapshot-on-demand-ddl)
RELAY_LOG=$out/relay.log
pg_start "$out/pg"
kafka_start_single "$out/kafka"

psql -Xq -v ON_ERROR_STOP=1 -v rows="$rows" <<'SQL'
CREATE EXTENSION wal2avro;
CREATE TABLE items (id bigint PRIMARY KEY, a int NOT NULL, note text) WITH (fillfactor = 50);
INSERT INTO items SELECT g, g % 1000, 'item ' || g FROM generate_series(1, :rows) g;
ANALYZE;
SQL
relay_start ddl --snapshot-mode=never --snapshot-chunk-size=64kB --max-in-flight-bytes=1MB

# updates all along, and a new column every 0.1 s
cat >"$out/updates.sql" <<EOF2
\set id random(1, $rows)
UPDATE items SET a = a + 1 WHERE id = :id;
EOF2
pgbench -n -c 2 -R 500 -T 3600 -f "$out/updates.sql" >"$out/pgbench.log" 2>&1 &
bench_pid=$!
w2a_on_exit "kill $bench_pid 2>/dev/null || true"
(
	for i in $(seq 1 40); do
		psql -XAtc "ALTER TABLE items ADD COLUMN c$i int DEFAULT $i" >/dev/null 2>&1 || exit 0
		sleep 0.1	# pacing of the schema changes
	done
) &
ddl_pid=$!
w2a_on_exit "kill $ddl_pid 2>/dev/null || true"

psql -XAtc "SELECT wal2avro.request_snapshot('items')" >/dev/null
w2a_wait_for 300 grep -q "on-demand snapshot of public.items done" "$RELAY_LOG" ||
	fail "the snapshot did not finish"
kill "$ddl_pid" 2>/dev/null || true
wait "$ddl_pid" 2>/dev/null || true
# the updates go on past the last schema change: 500 more
sum=$(psql -XAtc "SELECT sum(a) FROM items")
w2a_await 60 "the workload to commit 500 updates after the last ALTER" \
	w2a_sql_at_least "SELECT sum(a) FROM items" $((sum + 500))
kill "$bench_pid"
wait "$bench_pid" 2>/dev/null || true
end_lsn=$(psql -XAtc "SELECT pg_current_wal_lsn()")
relay_wait_confirmed "$end_lsn" 120
relay_stop
grep "on-demand" "$RELAY_LOG" | grep -v "rows (about" | sed 's/^/    /'
columns=$(psql -XAtc "SELECT count(*) FROM pg_attribute WHERE attrelid = 'items'::regclass AND attnum > 0")
info "items has $columns columns after the run"

again=$(sed -n 's/.*on-demand snapshot of public.items done: .*, \([0-9]*\) chunks read again.*/\1/p' "$RELAY_LOG")
[ -n "$again" ] || fail "no end line for the snapshot of items"
[ "$columns" -gt 4 ] || fail "the schema did not change during the snapshot ($columns columns)"
if grep -q "reconnecting\|error:" "$RELAY_LOG"; then
	fail "the relay failed or reconnected during the snapshot"
fi
psql -XAtc "SELECT row_to_json(t) FROM (SELECT id, a, note FROM items) t" >"$out/public.items.jsonl"
relay_tail_all "$out/kafka.jsonl"
"$W2A_PYTHON" "$W2A_ROOT/regress/tools/check_snapshot.py" --rebuild "$out/kafka.jsonl" "$out" public.items ||
	fail "Kafka does not rebuild the table"
echo "PASS: schema changes during an on-demand snapshot: $again chunks read again, table rebuilt"
