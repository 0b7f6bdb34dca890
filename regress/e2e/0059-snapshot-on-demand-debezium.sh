#!/usr/bin/env bash
# regress/e2e/0059-snapshot-on-demand-debezium.sh -- an on-demand snapshot's rows carry a stream position
#
# What it is for: with compat=debezium (here --value-format=json), the rows
# of an on-demand snapshot must carry source.lsn, source.txId and
# source.sequence as Debezium's incremental snapshot rows do (the stream's
# position where they are sent), so that a consumer that orders or
# deduplicates on source.lsn does not take them for rows of nowhere
# (issue 14).  wal2avro places a chunk's rows at its watermark: they carry
# the watermark's LSN and its transaction's txid_current().
# The oracle is PostgreSQL: a test_decoding slot created before the request
# sees every watermark message (pg_logical_slot_get_changes gives each its
# LSN and, with include-xids, its transaction's xid and commit LSN).
# Checks, while a workload updates the table:
#   * every row read by the snapshot (source.snapshot "incremental") has a
#     non-null lsn and txId, and sequence's second element is that lsn;
#   * its txId is the xid of a transaction that wrote a watermark, and its
#     lsn is the LSN decoding gives that watermark message;
#   * the rows come in chunks: as many distinct txIds as chunks produced,
#     and the lsn grows from chunk to chunk in topic order;
#   * the snapshot produced a row for every row of the table that no change
#     overtook (the table's row count, minus the dropped, at least).
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
. "$W2A_ROOT/regress/lib/pg.sh"
. "$W2A_ROOT/regress/lib/kafka.sh"
. "$W2A_ROOT/regress/lib/relay.sh"
. "$W2A_ROOT/regress/tools/venv.sh"

rows=${W2A_ONDEMAND_ROWS:-20000}
out=$(w2a_tmpdir snapshot-on-demand-debezium)
RELAY_LOG=$out/relay.log
pg_start "$out/pg"
kafka_start_single "$out/kafka"

psql -Xq -v ON_ERROR_STOP=1 -v rows="$rows" <<'SQL'
CREATE EXTENSION wal2avro;
CREATE TABLE orders (id bigint PRIMARY KEY, amount int NOT NULL, note text) WITH (fillfactor = 50);
INSERT INTO orders SELECT g, g % 100, 'order ' || g FROM generate_series(1, :rows) g;
ANALYZE;
SQL
psql -XAtq -c "SELECT 1 FROM pg_create_logical_replication_slot('watermarks', 'test_decoding')" >/dev/null
cat >"$out/workload.sql" <<EOF2
\set id random(1, $rows)
UPDATE orders SET amount = amount + 1 WHERE id = :id;
EOF2

relay_start odz --snapshot-mode=never --snapshot-chunk-size=64kB --topic-prefix=odz \
	--key-format=json --value-format=json
pgbench -n -c 2 -R 200 -T 3600 -f "$out/workload.sql" >"$out/pgbench.log" 2>&1 &
bench_pid=$!
w2a_on_exit "kill $bench_pid 2>/dev/null || true"

request=$(psql -XAtc "SELECT wal2avro.request_snapshot('orders')")
info "on-demand snapshot of orders requested at $request"
w2a_wait_for 300 grep -q "on-demand snapshot done: every requested table read" "$RELAY_LOG" ||
	fail "the on-demand snapshot did not finish"
kill "$bench_pid"
wait "$bench_pid" 2>/dev/null || true
end_lsn=$(psql -XAtc "SELECT pg_current_wal_lsn()")
relay_wait_confirmed "$end_lsn" 120
relay_stop
grep "on-demand snapshot of public.orders done" "$RELAY_LOG" | sed 's/^/    /'

# every watermark: xid, message LSN, commit LSN (test_decoding prints
# "BEGIN xid", "message: transactional: 1 prefix: wal2avro.watermark, ...",
# "COMMIT xid")
psql -XAt -F ' ' -c "SELECT lsn, data FROM pg_logical_slot_get_changes('watermarks', NULL, NULL, 'include-xids', '1', 'skip-empty-xacts', '0')" \
	>"$out/test_decoding.txt"
awk '$2 == "BEGIN" { xid = $3; msg = "" }
	     $2 == "message:" && $6 == "wal2avro.watermark," { msg = $1 }
	     $2 == "COMMIT" && msg != "" { print xid, msg, $1; msg = "" }' "$out/test_decoding.txt" >"$out/watermarks.txt"
info "$(wc -l <"$out/watermarks.txt") watermarks committed"
"$W2A_PYTHON" "$W2A_ROOT/regress/tools/kafka_dump.py" "$KAFKA_BOOTSTRAP" "odz.public.orders" "$out/orders.jsonl"
dropped=$(sed -n 's/.*on-demand snapshot of public.orders done: .*, \([0-9]*\) overtaken by changes.*/\1/p' "$RELAY_LOG")
chunks=$(wc -l <"$out/watermarks.txt")

"$W2A_PYTHON" - "$out/orders.jsonl" "$out/watermarks.txt" "$rows" "${dropped:-0}" <<'PY'
import json, sys

def lsn(text):
    hi, lo = text.split("/")
    return (int(hi, 16) << 32) | int(lo, 16)

marks = {}
for line in open(sys.argv[2]):
    xid, msg, commit = line.split()
    marks[int(xid)] = (lsn(msg), lsn(commit))
rows, dropped = int(sys.argv[3]), int(sys.argv[4])
problems, order, n = [], [], 0
for line in open(sys.argv[1]):
    r = json.loads(line)
    v = r["value"]
    v = v.get("payload", v) if isinstance(v, dict) and "schema" in v else v
    if v is None or v["source"]["snapshot"] != "incremental":
        continue
    n += 1
    s = v["source"]
    if s["lsn"] is None or s["txId"] is None or s["sequence"] is None:
        problems.append("offset %d: lsn %r, txId %r, sequence %r" % (r["offset"], s["lsn"], s["txId"], s["sequence"]))
        continue
    if json.loads(s["sequence"])[1] != str(s["lsn"]):
        problems.append("offset %d: sequence %s does not end with lsn %d" % (r["offset"], s["sequence"], s["lsn"]))
    # txid_current() is epoch-qualified; the epoch is 0 on a new cluster
    m = marks.get(s["txId"])
    if m is None:
        problems.append("offset %d: txId %d wrote no watermark" % (r["offset"], s["txId"]))
    elif s["lsn"] != m[0]:
        problems.append("offset %d: lsn %d is not its watermark's %d (commit %d)" % (r["offset"], s["lsn"], m[0], m[1]))
    if not order or order[-1] != (s["txId"], s["lsn"]):
        order.append((s["txId"], s["lsn"]))
txids = [t for t, _ in order]
if len(set(txids)) != len(txids):
    problems.append("a chunk's rows are not together: %d runs of %d txIds" % (len(txids), len(set(txids))))
if any(b[1] <= a[1] for a, b in zip(order, order[1:])):
    problems.append("the lsn does not grow from chunk to chunk")
if n < rows - dropped:
    problems.append("%d incremental rows for %d rows, %d dropped" % (n, rows, dropped))
for p in problems[:20]:
    print("    " + p)
if problems:
    sys.exit("%d problems in %d incremental rows" % (len(problems), n))
print("    %d incremental rows in %d chunks, each at its watermark" % (n, len(order)))
PY
[ "$chunks" -gt 1 ] || fail "only $chunks watermark: the table was not read in chunks"
echo "PASS: on-demand snapshot rows carry their watermark's lsn, txId and sequence"
