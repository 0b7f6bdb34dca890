#!/usr/bin/env bash
# regress/e2e/0020-relay-stream.sh -- the relay moves exactly the committed changes
#
# A real PostgreSQL and a real Kafka broker; wal2avro-relay streams a mixed
# workload (inserts, updates, key changes, deletes, a rolled-back
# transaction, a rolled-back savepoint, a table without a key) over several
# tables.  Kafka is read back with "wal2avro-relay tail" (Apache Avro's C
# library, schemas from the schema topic).  Checks, per table: the events
# equal, in order, what a second wal2avro slot decoded (so nothing is lost,
# duplicated or reordered); every delete is followed by a tombstone; nothing
# of a rolled-back transaction is there; the state rebuilt from Kafka (last
# record per key, deletes removing the key) equals SELECT; the slot was
# confirmed up to the workload's end and no further than the stream.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
. "$W2A_ROOT/regress/lib/pg.sh"
. "$W2A_ROOT/regress/lib/kafka.sh"
. "$W2A_ROOT/regress/tools/venv.sh"

relay=$W2A_ROOT/relay/wal2avro-relay
[ -x "$relay" ] || fail "relay not built"
# the example configuration shipped in the repository parses
"$relay" -c "$W2A_ROOT/relay/wal2avro-relay.conf.example" --print-config >/dev/null ||
	fail "relay/wal2avro-relay.conf.example does not parse"
out=$(w2a_tmpdir relay-stream)
pg_start "$out/pg"
kafka_start_single "$out/kafka"

psql -Xq -v ON_ERROR_STOP=1 <<'SQL'
CREATE TABLE accounts (id int PRIMARY KEY, owner text NOT NULL, balance numeric(12,2));
CREATE TABLE lines (acct int, n int, memo text, PRIMARY KEY (acct, n));
CREATE TABLE events (payload text);
ALTER TABLE events REPLICA IDENTITY FULL;
SELECT 'ref' FROM pg_create_logical_replication_slot('ref', 'wal2avro');
SQL

"$relay" -d "host=$PGHOST port=$PGPORT dbname=postgres user=postgres" -b "$KAFKA_BOOTSTRAP" \
	-S relay_slot -v --metrics-listen=127.0.0.1:0 --snapshot-mode=never >"$out/relay.log" 2>&1 &
relay_pid=$!
w2a_on_exit "kill -9 $relay_pid 2>/dev/null || true"
w2a_wait_for 30 w2a_sql_true "SELECT EXISTS (SELECT FROM pg_replication_slots WHERE slot_name = 'relay_slot' AND active)" ||
	{ cat "$out/relay.log"; fail "relay did not start streaming"; }

info "workload"
psql -Xq -v ON_ERROR_STOP=1 <<'SQL'
INSERT INTO accounts SELECT g, 'owner ' || g, g * 10.5 FROM generate_series(1, 300) g;
INSERT INTO lines SELECT a, n, 'memo ' || a || '/' || n FROM generate_series(1, 50) a, generate_series(1, 4) n;
INSERT INTO events SELECT 'event ' || g FROM generate_series(1, 20) g;
DO $$
BEGIN
    FOR i IN 1..200 LOOP
        UPDATE accounts SET balance = balance + i WHERE id = 1 + (i * 7) % 300;
        IF i % 10 = 0 THEN
            DELETE FROM lines WHERE acct = i / 10 AND n = 1;
        END IF;
        IF i % 25 = 0 THEN
            UPDATE accounts SET id = 1000 + i WHERE id = i;   -- a key change
        END IF;
        COMMIT;
    END LOOP;
END
$$;
BEGIN;
INSERT INTO accounts VALUES (9999, 'ROLLBACK-ME', 0);
ROLLBACK;
BEGIN;
INSERT INTO accounts VALUES (5000, 'kept', 1);
SAVEPOINT s;
INSERT INTO accounts VALUES (5001, 'ROLLBACK-ME', 2);
ROLLBACK TO SAVEPOINT s;
COMMIT;
UPDATE events SET payload = payload || '!' WHERE payload LIKE 'event 1%';
DELETE FROM events WHERE payload = 'event 2';
DELETE FROM accounts WHERE id BETWEEN 100 AND 120;
SQL
end_lsn=$(psql -XAtc "SELECT pg_current_wal_lsn()")

info "waiting for the relay to confirm $end_lsn"
w2a_wait_for 60 w2a_sql_true "SELECT confirmed_flush_lsn >= '$end_lsn' FROM pg_replication_slots WHERE slot_name = 'relay_slot'" ||
	{ tail -n 30 "$out/relay.log"; fail "relay did not confirm the workload"; }
kill -TERM "$relay_pid"
wait "$relay_pid" || fail "relay exited with $? on SIGTERM"
grep -q "stopped at confirmed position" "$out/relay.log" || fail "no clean stop in the relay log"

psql -XAtc "SELECT data FROM pg_logical_slot_get_changes('ref', NULL, NULL, 'format', 'json')" >"$out/ref.jsonl"
"$relay" tail -b "$KAFKA_BOOTSTRAP" -t 8 wal2avro.public.accounts wal2avro.public.lines wal2avro.public.events \
	>"$out/kafka.jsonl" 2>"$out/tail.log" || { cat "$out/tail.log"; fail "tail failed"; }
for t in accounts lines events; do
	psql -XAtc "SELECT row_to_json(t) FROM $t t" >"$out/select.$t.jsonl"
done

"$W2A_PYTHON" - "$out" <<'EOF'
import json, sys, collections
from decimal import Decimal
out = sys.argv[1]
def norm(row):
    # tail renders numerics as exact strings, JSON as numbers: compare as Decimal
    return None if row is None else {k: (Decimal(str(v)) if k == 'balance' and v is not None else v) for k, v in row.items()}
ref = collections.defaultdict(list)
for line in open(f"{out}/ref.jsonl"):
    j = json.loads(line, parse_float=Decimal)
    if j["kind"] == "change":
        ref[j["table"]].append((j["op"], j["key"], norm(j["value"]["after"])))
kafka = collections.defaultdict(list)
events = [json.loads(l) for l in open(f"{out}/kafka.jsonl")]
per_topic = collections.defaultdict(list)
for e in events:                     # order holds within a topic, not across
    per_topic[e["topic"].split(".")[-1]].append(e)
failures = []
for table, evs in per_topic.items():
    for i, e in enumerate(evs):
        if "before" not in e:          # a tombstone
            prev = evs[i - 1] if i else None
            if not prev or prev.get("op") != "d" or prev["key"] != e["key"] or e["value"] is not None:
                failures.append(f"tombstone not right after its delete: {e}")
            continue
        kafka[table].append((e["op"], e["key"], norm(e["after"])))
        if e["op"] == "d" and e["key"] is not None and (i + 1 >= len(evs) or "before" in evs[i + 1]):
            failures.append(f"delete without tombstone: {e}")
for table in ("accounts", "lines", "events"):
    r, k = ref[table], kafka[table]
    if r != k:
        for n, (a, b) in enumerate(zip(r, k)):
            if a != b:
                failures.append(f"{table}: event {n} differs: ref {a} kafka {b}")
                break
        failures.append(f"{table}: {len(r)} events decoded, {len(k)} in Kafka")
    # rebuild the final state from Kafka
    state = {}
    for op, key, after in k:
        kk = json.dumps(key, sort_keys=True)
        if op == "d":
            state.pop(kk, None)
        elif key is not None:
            state[kk] = after
    if table != "events":
        rows = [norm(json.loads(l)) for l in open(f"{out}/select.{table}.jsonl")]
        want = {json.dumps({c: r[c] for c in (["id"] if table == "accounts" else ["acct", "n"])}, sort_keys=True): r for r in rows}
        state = {k: norm(v) for k, v in state.items()}
        if state != want:
            diff = [x for x in set(want) | set(state) if state.get(x) != want.get(x)][:3]
            failures.append(f"{table}: state rebuilt from Kafka differs from SELECT ({len(state)} vs {len(want)} rows), e.g. {diff}")
if any("ROLLBACK-ME" in json.dumps(e) for e in events):
    failures.append("a rolled-back change reached Kafka")
total = sum(len(v) for v in kafka.values())
if total < 700:
    failures.append(f"only {total} events: the workload did not run?")
for f in failures:
    print("FAIL:", f)
print(f"checked {total} events in {len(kafka)} topics")
sys.exit(1 if failures else 0)
EOF
echo "PASS: relay streams exactly the committed changes"
