#!/usr/bin/env bash
# regress/e2e/0043-snapshot-on-demand.sh -- re-snapshot one table while others stream
#
# A relay streams a slot created with snapshot-mode=never, so the
# W2A_ONDEMAND_ROWS (default 200000) rows "orders" held before the slot
# existed are not in Kafka, while a workload updates, inserts and deletes
# orders and inserts into "events".  wal2avro.request_snapshot('orders') asks
# for an on-demand snapshot (in small chunks, so it takes a while).  The
# dangerous changes are those committed while a chunk is read: its rows are
# older than the stream's and must be dropped.  A sweep updates each row
# once, in id order, which is the table's physical order (fillfactor 50
# keeps updated rows in their block), so the chunk that reaches the sweep
# meets updates of its own rows that nothing overwrites later: a relay that
# failed to drop them would leave stale rows (checked by mutation: with the
# drop disabled this test fails).  Checks:
#   * a request for a table the relay does not capture is skipped, said so;
#   * a malformed request is logged word by word and ignored;
#   * while the table is read, the slot is not confirmed past the request;
#   * the relay, killed with SIGKILL in the middle, reads the table again
#     after a restart (the stream replays the request);
#   * "events" streamed all along (its rows arrive during the snapshot);
#   * in the end, the state rebuilt from Kafka (last record per key) equals
#     each table, and the snapshot's records are marked "incremental".
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
. "$W2A_ROOT/regress/lib/pg.sh"
. "$W2A_ROOT/regress/lib/kafka.sh"
. "$W2A_ROOT/regress/lib/relay.sh"
. "$W2A_ROOT/regress/tools/venv.sh"

rows=${W2A_ONDEMAND_ROWS:-200000}
out=$(w2a_tmpdir snapshot-on-demand)
RELAY_LOG=$out/relay.log
pg_start "$out/pg"
kafka_start_single "$out/kafka"

psql -Xq -v ON_ERROR_STOP=1 -v rows="$rows" <<'SQL'
CREATE EXTENSION wal2avro;
CREATE TABLE orders (id bigint PRIMARY KEY, customer int NOT NULL, amount numeric(12,2), note text)
    WITH (fillfactor = 50);
INSERT INTO orders SELECT g, g % 1000, g / 7.0, 'order ' || g FROM generate_series(1, :rows) g;
CREATE SEQUENCE orders_new START 100000000;
CREATE SEQUENCE sweep;
CREATE TABLE events (id bigserial PRIMARY KEY, note text NOT NULL DEFAULT 'event');
CREATE TABLE secrets (id int PRIMARY KEY);
INSERT INTO secrets SELECT generate_series(1, 10);
ANALYZE;
SQL
cat >"$out/workload.sql" <<EOF2
\set id random(1, $rows)
BEGIN;
UPDATE orders SET amount = amount + 1, note = 'updated' WHERE id = :id;
INSERT INTO orders VALUES (nextval('orders_new'), :id % 1000, 1.5, 'new');
INSERT INTO events DEFAULT VALUES;
COMMIT;
DELETE FROM orders WHERE id = :id + 1;
UPDATE orders SET amount = amount - 1 WHERE id = :id + 2;
UPDATE orders SET note = 'swept' WHERE id = (SELECT nextval('sweep'));
EOF2

relay_start ondemand --snapshot-mode=never --snapshot-chunk-size=1MB --max-in-flight-bytes=1MB \
	--plugin-option=exclude-tables=public.secrets
pgbench -n -c 2 -R 300 -T 3600 -f "$out/workload.sql" >"$out/pgbench.log" 2>&1 &
bench_pid=$!
w2a_on_exit "kill $bench_pid 2>/dev/null || true"
w2a_await 60 "the workload to commit 100 events" w2a_sql_at_least "SELECT count(*) FROM events" 100

# a table the relay does not capture is skipped
psql -XAtc "SELECT wal2avro.request_snapshot('secrets')" >/dev/null
w2a_wait_for 30 grep -q "on-demand snapshot of public.secrets skipped: this relay does not capture it" "$RELAY_LOG" ||
	fail "the request for an excluded table was not skipped"

# a malformed request is logged and ignored, words one by one
psql -XAtc "SELECT pg_logical_emit_message(true, 'wal2avro.snapshot', 'x1 0 99999999999')" >/dev/null
w2a_wait_for 30 grep -q '"99999999999" is not a table OID: ignored' "$RELAY_LOG" ||
	fail "a malformed request was not reported"
grep -q '"x1" is not a table OID: ignored' "$RELAY_LOG" || fail "\"x1\" was not reported"
grep -q '"0" is not a table OID: ignored' "$RELAY_LOG" || fail "\"0\" was not reported"

request=$(psql -XAtc "SELECT wal2avro.request_snapshot('orders')")
after_request=$(psql -XAtc "SELECT pg_current_wal_insert_lsn()")
info "on-demand snapshot of orders requested at $request"
w2a_wait_for 30 grep -q "on-demand snapshot of public.orders: " "$RELAY_LOG" || fail "the snapshot did not start"
incremental_in_kafka()
{
	local hw
	hw=$(kafka_high_watermarks wal2avro.public.orders)
	[ "${hw#*=}" -gt 20000 ]
}
w2a_wait_for 120 incremental_in_kafka || fail "the snapshot sent too little to Kafka"
grep -q "on-demand snapshot of public.orders done" "$RELAY_LOG" && fail "the snapshot ended before the kill: raise W2A_ONDEMAND_ROWS"
events_before=$(kafka_high_watermarks wal2avro.public.events)
[ "${events_before#*=}" -gt 0 ] || fail "events did not stream while orders was read"
confirmed=$(slot_confirmed ondemand)
w2a_sql_true "SELECT '$confirmed'::pg_lsn < '$after_request'::pg_lsn" ||
	fail "the slot was confirmed at $confirmed, past the request (committed before $after_request), before the snapshot ended"
relay_kill9
info "killed in the snapshot: slot at $confirmed, request at $request, $(kafka_high_watermarks wal2avro.public.orders)"

relay_start ondemand --snapshot-mode=never --snapshot-chunk-size=1MB --max-in-flight-bytes=1MB \
	--plugin-option=exclude-tables=public.secrets
w2a_wait_for 300 grep -q "on-demand snapshot of public.orders done" "$RELAY_LOG" || fail "the snapshot was not done again"
[ "$(grep -c "on-demand snapshot of 1 table(s) requested at $request" "$RELAY_LOG")" -eq 2 ] ||
	fail "the restarted relay did not see the request at $request again"
done_rows=$(sed -n 's/.*on-demand snapshot of public.orders done: \([0-9]*\) rows.*/\1/p' "$RELAY_LOG" | tail -n 1)
[ "${done_rows:-0}" -gt $((rows / 2)) ] || fail "the redone snapshot read ${done_rows:-no} rows of about $rows"
# the workload goes on after the snapshot: 300 more events
events=$(psql -XAtc "SELECT count(*) FROM events")
w2a_await 60 "the workload to commit 300 events after the snapshot" \
	w2a_sql_at_least "SELECT count(*) FROM events" $((events + 300))
kill "$bench_pid"
wait "$bench_pid" 2>/dev/null || true
end_lsn=$(psql -XAtc "SELECT pg_current_wal_lsn()")
relay_wait_confirmed "$end_lsn" 120
relay_stop
grep "on-demand\|interrupted" "$RELAY_LOG" | grep -v "rows (about" | sed 's/^/    /'

psql -XAtc "SELECT row_to_json(t) FROM orders t" >"$out/public.orders.jsonl"
psql -XAtc "SELECT row_to_json(t) FROM events t" >"$out/public.events.jsonl"
relay_tail_all "$out/kafka.jsonl"
"$W2A_PYTHON" "$W2A_ROOT/regress/tools/check_snapshot.py" --rebuild "$out/kafka.jsonl" "$out" \
	public.orders public.events | tee "$out/check.log" || fail "Kafka does not rebuild the tables"
n=$(sed -n 's/^check_snapshot: public.orders: \([0-9]*\) incremental records.*/\1/p' "$out/check.log")
[ "${n:-0}" -ge "$done_rows" ] || fail "only ${n:-0} incremental records in Kafka, the relay read $done_rows"
if grep -q '"topic": *"wal2avro.messages"' "$out/kafka.jsonl"; then
	fail "requests or watermarks reached the messages topic"
fi
echo "PASS: on-demand snapshot under load, killed and redone, rebuilds the table; events streamed meanwhile"
