#!/usr/bin/env bash
# regress/e2e/0028-relay-dead-letter-batch.sh -- only the refused record is dead-lettered
#
# A topic accepts records up to 3000 bytes.  One transaction writes 300
# small rows, a 20 kB row, then updates the small rows and adds 300 more;
# with linger.ms=100 they share producer batches with the big one, which
# the broker refuses as a whole.  Under on-error=dead-letter the relay must
# find the one record the broker refuses: the dead-letter topic holds
# exactly it, with its error; the table topic holds every other change, the
# last copy of each key's changes in the order a reference slot decoded them
# (re-sent records may come twice before that); the state rebuilt from the
# topic equals SELECT without the refused row; and the relay goes on and
# confirms the transactions after it.  Then a row of a REPLICA IDENTITY FULL
# table grows too large and is deleted: its update and delete are refused,
# and the delete's tombstone follows the delete to the dead-letter topic.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
. "$W2A_ROOT/regress/lib/pg.sh"
. "$W2A_ROOT/regress/lib/kafka.sh"
. "$W2A_ROOT/regress/lib/relay.sh"
. "$W2A_ROOT/regress/tools/venv.sh"

out=$(w2a_tmpdir relay-dead-letter)
RELAY_LOG=$out/relay.log
pg_start "$out/pg"
kafka_start_single "$out/kafka"
kafka_create_topic wal2avro.public.docs 1 1 max.message.bytes=3000
kafka_create_topic wal2avro.public.notes 1 1 max.message.bytes=3000

psql -Xq -v ON_ERROR_STOP=1 <<'SQL'
CREATE TABLE docs (id int PRIMARY KEY, body text);
CREATE TABLE notes (id int PRIMARY KEY, body text);
ALTER TABLE notes REPLICA IDENTITY FULL;
SELECT 'ref' FROM pg_create_logical_replication_slot('ref', 'wal2avro');
SQL
relay_start dl --on-error=dead-letter --dead-letter-topic=wal2avro.dead-letter -X linger.ms=100

info "one transaction: small rows around a refused one"
psql -Xq -v ON_ERROR_STOP=1 <<'SQL'
BEGIN;
INSERT INTO docs SELECT g, 'small ' || g FROM generate_series(1, 300) g;
INSERT INTO docs SELECT 1000, string_agg(md5(g::text), '') FROM generate_series(1, 640) g;
UPDATE docs SET body = body || ' updated' WHERE id <= 300;
INSERT INTO docs SELECT g, 'small ' || g FROM generate_series(301, 600) g;
DELETE FROM docs WHERE id BETWEEN 590 AND 600;
COMMIT;
SQL
big_end=$(psql -XAtc "SELECT pg_current_wal_lsn()")
relay_wait_confirmed "$big_end" 120

info "the relay goes on after it; a refused delete takes its tombstone along"
psql -Xq -v ON_ERROR_STOP=1 -c "UPDATE docs SET body = 'later' WHERE id IN (1, 2, 3)" \
	-c "INSERT INTO docs VALUES (700, 'after')" \
	-c "INSERT INTO notes VALUES (1, 'small')" \
	-c "BEGIN" -c "UPDATE notes SET body = (SELECT string_agg(md5(g::text), '') FROM generate_series(1, 640) g)" \
	-c "INSERT INTO docs VALUES (701, 'with the refused delete')" \
	-c "DELETE FROM notes" -c "INSERT INTO docs VALUES (702, 'after the refused delete')" -c "COMMIT"
end_lsn=$(psql -XAtc "SELECT pg_current_wal_lsn()")
relay_wait_confirmed "$end_lsn" 60
kill -0 "$RELAY_PID" 2>/dev/null || fail "the relay is not running any more"
relay_stop
grep -q 'warning: a producer batch for topic "wal2avro.public.docs" was refused (Broker: Message size too large): sending the records since the last confirmed position again one at a time' "$RELAY_LOG" ||
	fail "the relay did not say it looks for the refused record"
grep -q "info: replayed one record at a time through .*: batching again" "$RELAY_LOG" ||
	fail "the relay did not say it batches again"

dlq=$(kcat -b "$KAFKA_BOOTSTRAP" -C -t wal2avro.dead-letter -e -q -f '%h|%S\n' 2>/dev/null | grep . || true)
notes=$(echo "$dlq" | grep "wal2avro.table=notes" | grep -o "wal2avro.op=.,.*|-\?[0-9]*$" | sed 's/^wal2avro.op=\(.\),.*|\(-\?[0-9]*\)$/\1:\2/' | tr '\n' ' ')
case "$notes" in
"u:"*" d:"*" d:-1 ") ;;
*) fail "dead letters of notes are \"$notes\", expected the refused update, delete and the delete's tombstone" ;;
esac
n_notes=$(kcat -b "$KAFKA_BOOTSTRAP" -C -t wal2avro.public.notes -e -q -f '%h|%S\n' 2>/dev/null | grep -c . || true)
[ "$n_notes" -eq 1 ] || fail "$n_notes records on the notes topic, expected the insert only"
dlq=$(echo "$dlq" | grep -v "wal2avro.table=notes" || true)
n_dlq=$(echo "$dlq" | grep -c . || true)
[ "$n_dlq" -eq 1 ] || fail "$n_dlq records of docs on the dead-letter topic, expected the refused one only"
echo "$dlq" | grep -q "wal2avro.error=Broker: Message size too large.*wal2avro.topic=wal2avro.public.docs|20574$" ||
	fail "the dead letter is not the refused record with its error: $dlq"

psql -XAtc "SELECT data FROM pg_logical_slot_get_changes('ref', NULL, NULL, 'format', 'json')" >"$out/ref.jsonl"
"$W2A_RELAY" tail -b "$KAFKA_BOOTSTRAP" -t 8 wal2avro.public.docs >"$out/kafka.jsonl" 2>"$out/tail.log" ||
	{ cat "$out/tail.log"; fail "tail failed"; }
psql -XAtc "SELECT row_to_json(t) FROM docs t WHERE id <> 1000" >"$out/select.jsonl"

"$W2A_PYTHON" - "$out" <<'EOF'
import json, sys, collections
out = sys.argv[1]
ref = collections.defaultdict(list)
for line in open(f"{out}/ref.jsonl"):
    j = json.loads(line)
    if j["kind"] == "change" and j["table"] == "docs" and j["key"] != {"id": 1000}:
        ref[json.dumps(j["key"], sort_keys=True)].append((j["op"], j["value"]["after"]))
got = collections.defaultdict(list)
failures = []
evs = [json.loads(l) for l in open(f"{out}/kafka.jsonl")]
for i, e in enumerate(evs):
    k = json.dumps(e["key"], sort_keys=True)
    if "before" not in e:
        if i == 0 or evs[i - 1].get("op") != "d" or evs[i - 1]["key"] != e["key"]:
            failures.append(f"tombstone not right after its delete: {e}")
        continue
    got[k].append((e["op"], e["after"]))
if '{"id": 1000}' in got:
    failures.append("the refused row is on the table topic")
for k, want in ref.items():
    have = got.get(k, [])
    if have[len(have) - len(want):] != want or any(x not in want for x in have):
        failures.append(f"key {k}: the topic has {have}, expected {want} last")
for k in got:
    if k not in ref and k != '{"id": 1000}':
        failures.append(f"key {k} on the topic was never decoded")
state = {}
for k, changes in got.items():
    for op, after in changes:
        if op == "d":
            state.pop(k, None)
        else:
            state[k] = after
want = {json.dumps({"id": r["id"]}): r for r in map(json.loads, open(f"{out}/select.jsonl"))}
if state != want:
    diff = [x for x in set(want) | set(state) if state.get(x) != want.get(x)][:3]
    failures.append(f"state rebuilt from the topic differs from SELECT ({len(state)} vs {len(want)} rows), e.g. {diff}")
n = sum(len(v) for v in ref.values())
if n < 900:
    failures.append(f"only {n} changes decoded: the workload did not run?")
for f in failures[:10]:
    print("FAIL:", f)
print(f"checked {n} changes on {len(ref)} keys; {len(evs)} records on the topic")
sys.exit(1 if failures else 0)
EOF
info "one dead letter; every other change on the table topic, in order per key"
echo "PASS: only the record the broker refuses goes to the dead-letter topic"
