#!/usr/bin/env bash
# regress/e2e/0060-relay-transaction-topic-avro.sh -- BEGIN/END in Avro, across kill -9
#
# wal2avro-relay --compat=debezium --schema-registry --provide-transaction-metadata
# writes Debezium's BEGIN and END records to wal2avro.transaction in
# Confluent's wire format (subjects wal2avro.transaction-key/-value), while
# a workload commits transactions of three changes each (two tables) and
# the relay is killed with SIGKILL at random moments and started again.
# After each kill the slot's confirmed position and the transaction
# topic's high watermark are noted.  Then confluent-kafka's AvroDeserializer
# reads the topics, and:
#   - every committed transaction (the xids the workload stored) has a
#     BEGIN and an END, END counting public.items 1 and public.orders 2 in
#     java.util.HashMap order, ids "<xid>:<lsn>" as Debezium's;
#   - a transaction written more than once was unconfirmed at some kill;
#   - at each kill, every transaction the slot had confirmed had its END on
#     the topic already (nothing confirmed before the END's acknowledgement);
#   - without a registry the option is refused at start-up, exit 1.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
. "$W2A_ROOT/regress/lib/pg.sh"
. "$W2A_ROOT/regress/lib/kafka.sh"
. "$W2A_ROOT/regress/lib/relay.sh"
. "$W2A_ROOT/regress/tools/venv.sh"

kills=${W2A_KILLS:-5}
out=$(w2a_tmpdir txn-topic-avro)
RELAY_LOG=$out/relay.log
"$W2A_PYTHON" "$W2A_ROOT/regress/tools/test_registry.py" --port 0 --port-file "$out/port" \
	>"$out/registry.log" 2>&1 &
reg_pid=$!
w2a_on_exit "kill $reg_pid 2>/dev/null || true"
w2a_wait_for 20 test -s "$out/port" || fail "the test registry did not start"
reg=http://127.0.0.1:$(cat "$out/port")

pg_start "$out/pg"
kafka_start_single "$out/kafka"
psql -Xq -v ON_ERROR_STOP=1 <<'SQL'
CREATE TABLE orders (id bigserial PRIMARY KEY, xid bigint NOT NULL, n int NOT NULL);
CREATE TABLE items (id bigserial PRIMARY KEY, xid bigint NOT NULL);
SQL

info "refused without a schema registry"
rc=0
"$W2A_RELAY" -b "$KAFKA_BOOTSTRAP" --compat=debezium --provide-transaction-metadata \
	>"$out/refused.log" 2>&1 || rc=$?
[ "$rc" -eq 1 ] || fail "exit status $rc without a registry, not 1"
grep -q 'option "provide-transaction-metadata" with the avro key format needs "schema-registry"' \
	"$out/refused.log" || fail "no error naming the option: $(cat "$out/refused.log")"

args=(--compat=debezium --schema-registry="$reg" --provide-transaction-metadata)
relay_start txm "${args[@]}"
# each transaction: two orders and one item, its xid in each row
cat >"$out/workload.sql" <<'SQL'
BEGIN;
INSERT INTO orders (xid, n) VALUES (txid_current(), 1), (txid_current(), 2);
INSERT INTO items (xid) VALUES (txid_current());
COMMIT;
SQL
pgbench -n -c 2 -R 400 -T 3600 -f "$out/workload.sql" >"$out/pgbench.log" 2>&1 &
bench_pid=$!
w2a_on_exit "kill $bench_pid 2>/dev/null || true"

: >"$out/kills"
for i in $(seq 1 "$kills"); do
	sleep "$(python3 -c "import random; print(round(random.uniform(0.5, 2.0), 2))")"
	relay_kill9
	# the confirmed position first: the topic can only have grown since
	echo "$(slot_confirmed txm)$(kafka_high_watermarks wal2avro.transaction)" >>"$out/kills"
	info "kill $i: $(tail -n 1 "$out/kills")"
	relay_start txm "${args[@]}"
done
kill "$bench_pid"
wait "$bench_pid" 2>/dev/null || true
end_lsn=$(psql -XAtc "SELECT pg_current_wal_lsn()")
relay_wait_confirmed "$end_lsn" 120
relay_stop

psql -XAtc "SELECT DISTINCT xid FROM orders ORDER BY 1" >"$out/xids"
"$W2A_PYTHON" "$W2A_ROOT/regress/tools/registry_consume.py" "$KAFKA_BOOTSTRAP" "$reg" \
	wal2avro.transaction >"$out/txn.jsonl" 2>"$out/consume.err" ||
	{ cat "$out/consume.err" >&2; fail "confluent-kafka's AvroDeserializer did not decode every record"; }
"$W2A_PYTHON" - "$out/xids" "$out/txn.jsonl" "$out/kills" <<'PY' || fail "the transaction topic is wrong (above)"
import json, re, struct, sys

xids = [int(l) for l in open(sys.argv[1]) if l.strip()]
recs = [json.loads(l) for l in open(sys.argv[2])]
kills = []
for line in open(sys.argv[3]):
    lsn, hwm = line.split()
    hi, lo = lsn.split("/")
    kills.append(((int(hi, 16) << 32) | int(lo, 16), int(hwm.split("=")[1])))

def java_bucket(s, cap=16):
    h = 0
    b = s.encode("utf-16-be")
    for i in range(0, len(b), 2):
        h = (31 * h + struct.unpack(">H", b[i:i + 2])[0]) & 0xFFFFFFFF
    return (h ^ (h >> 16)) & (cap - 1)

want_cols = sorted([("public.orders", 2), ("public.items", 1)], key=lambda c: java_bucket(c[0]))
bad = []
begins, ends = {}, {}
for r in recs:
    k, v = r["key"], r["value"]
    if r["partition"] != 0:
        bad.append("record in partition %d" % r["partition"])
    m = re.fullmatch(r"(\d+):(\d+)", v["id"])
    if k["id"] != v["id"] or not m:
        bad.append("offset %d: key %s, value id %s" % (r["offset"], k, v["id"]))
        continue
    xid, lsn = int(m.group(1)), int(m.group(2))
    if v["status"] == "BEGIN":
        if v["event_count"] is not None or v["data_collections"] is not None:
            bad.append("offset %d: BEGIN with counts" % r["offset"])
        begins.setdefault(xid, []).append(r["offset"])
    else:
        cols = [(c["data_collection"], c["event_count"]) for c in v["data_collections"]]
        if v["event_count"] != 3 or cols != want_cols:
            bad.append("offset %d: END %s %s, want 3 %s" % (r["offset"], v["event_count"], cols, want_cols))
        ends.setdefault(xid, []).append((r["offset"], lsn))
for x in xids:
    if x not in begins or x not in ends:
        bad.append("committed transaction %d: %d BEGIN, %d END" %
                   (x, len(begins.get(x, [])), len(ends.get(x, []))))
dups = 0
for x, e in ends.items():
    if x not in xids:
        bad.append("END of transaction %d, which is not committed" % x)
    end_lsn = e[0][1]
    if len(e) > 1 or len(begins.get(x, [])) > 1:
        dups += 1
        if not any(conf < end_lsn for conf, _ in kills):
            bad.append("transaction %d written %d times, confirmed at every kill" % (x, len(e)))
    # the slot confirmed it at a kill: its END was on the topic by then
    for conf, hwm in kills:
        if end_lsn <= conf and e[0][0] >= hwm:
            bad.append("transaction %d confirmed at %X/%X before its END (offset %d, high watermark %d)" %
                       (x, conf >> 32, conf & 0xFFFFFFFF, e[0][0], hwm))
for line in bad[:20]:
    print("0060: " + line)
if len(xids) < 50:
    bad.append("only %d transactions committed" % len(xids))
    print("0060: only %d transactions committed" % len(xids))
print("0060: %d committed transactions, %d records, %d written again after a kill" % (len(xids), len(recs), dups))
sys.exit(1 if bad else 0)
PY
grep -q 'wal2avro.transaction-value' "$out/registry.log" || curl -sf "$reg/subjects" | grep -q 'wal2avro.transaction-value' ||
	fail "no subject wal2avro.transaction-value in the registry"
echo "PASS: every committed transaction has BEGIN and END in Avro across $kills kill -9, none confirmed before its END"
