#!/usr/bin/env bash
# regress/e2e/0056-relay-schema-registry.sh -- the relay with a Schema Registry
#
# wal2avro-relay --schema-registry writes keys and values in Confluent's wire
# format, registering each schema under "<topic>-key" / "<topic>-value"
# (regress/tools/test_registry.py answers the REST calls).  Checks, against
# a real PostgreSQL and a real Kafka broker:
#   1. the registry down (every call 503): the relay retries with a backoff
#      (several attempts, not one per frame) and confirms nothing of the
#      workload, which is not on the topic either;
#   2. the registry back: the relay registers once per subject and schema and
#      confirms the workload; confluent-kafka's DeserializingConsumer with
#      AvroDeserializer and SchemaRegistryClient decodes every key and value,
#      and the table rebuilt from the topic (last value per key, tombstones
#      removing it) equals SELECT;
#      the registry requires basic auth, so a 200 means the relay sent the
#      configured user and the password from its environment variable;
#      @kafkajs/confluent-schema-registry's registry.decode (the seed's
#      schema-aware consumer) decodes every record too;
#   3. a schema the registry refuses (409, after an ALTER TABLE): the relay
#      stops with an error naming the table and the subject, exit status not
#      0, and confirms nothing from that change on;
#   4. a wrong password (401) and 5. a schema over the registry's request
#      size limit (413): the relay stops with an error naming the user or
#      the size and a hint saying what to fix, and confirms nothing;
#   6. with --compat=debezium: a primary key change (delete and tombstone
#      with Debezium's __debezium.newkey header, create with
#      __debezium.oldkey), a truncate and two logical messages decoded by
#      AvroDeserializer as Debezium's records.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
. "$W2A_ROOT/regress/lib/pg.sh"
. "$W2A_ROOT/regress/lib/kafka.sh"
. "$W2A_ROOT/regress/lib/relay.sh"
. "$W2A_ROOT/regress/tools/venv.sh"

out=$(w2a_tmpdir schema-registry)
"$W2A_PYTHON" "$W2A_ROOT/regress/tools/test_registry.py" --port 0 --port-file "$out/port" \
	--basic-auth cdc:s3cret >"$out/registry.log" 2>&1 &
reg_pid=$!
w2a_on_exit "kill $reg_pid 2>/dev/null || true"
w2a_wait_for 20 test -s "$out/port" || fail "the test registry did not start"
reg=http://127.0.0.1:$(cat "$out/port")
admin() { curl -sf -X POST -H 'Content-Type: application/json' -d "$2" "$reg/_admin/$1" >/dev/null; }
reg_log() { curl -sf "$reg/_admin/log"; }
count_calls() # STATUS: registrations answered with it
{
	reg_log | "$W2A_PYTHON" -c '
import json, sys
print(sum(1 for r in json.load(sys.stdin) if r["method"] == "POST" and r["path"].endswith("/versions") and r["status"] == int(sys.argv[1])))' "$1"
}
calls_at_least() { [ "$(count_calls "$1")" -ge "$2" ]; }

pg_start "$out/pg"
kafka_start_single "$out/kafka"
psql -Xq -v ON_ERROR_STOP=1 <<'SQL'
CREATE TABLE orders (id int PRIMARY KEY, status text NOT NULL, total numeric(12,2), note text);
SQL

export WAL2AVRO_SCHEMA_REGISTRY_PASSWORD=s3cret
relay_start reg_slot --schema-registry="$reg" --schema-registry-user=cdc
start_lsn=$(slot_confirmed reg_slot)

info "1. the registry down"
admin fail '{"count": 1000000, "status": 503}'
psql -Xq -v ON_ERROR_STOP=1 <<'SQL'
INSERT INTO orders SELECT g, 'new', g * 1.5, CASE WHEN g % 3 = 0 THEN 'n' || g END FROM generate_series(1, 200) g;
UPDATE orders SET status = 'paid' WHERE id % 2 = 0;
DELETE FROM orders WHERE id % 10 = 0;
UPDATE orders SET id = id + 1000 WHERE id = 7;
SQL
end_lsn=$(psql -XAtc 'SELECT pg_current_wal_lsn()')
w2a_wait_for 30 calls_at_least 503 3 || fail "the relay did not try the registry again ($(count_calls 503) attempts)"
attempts=$(count_calls 503)
w2a_wait_for 30 calls_at_least 503 $((attempts + 1)) || fail "the relay stopped trying the registry"
[ "$(count_calls 503)" -le 12 ] || fail "$(count_calls 503) attempts: no backoff"
confirmed=$(slot_confirmed reg_slot)
w2a_sql_true "SELECT '$confirmed'::pg_lsn < '$end_lsn'::pg_lsn" ||
	fail "the slot confirmed $confirmed, past the workload's end $end_lsn, with the registry down"
n=$(kcat -b "$KAFKA_BOOTSTRAP" -C -t wal2avro.public.orders -o beginning -e -q -f '%o\n' 2>/dev/null | wc -l)
[ "$n" -eq 0 ] || fail "$n records on the topic while their schema is not registered"
grep -q 'schema registry .*HTTP 503' "$RELAY_LOG" || fail "no warning about the registry in the log"
info "  $(count_calls 503) attempts, nothing confirmed past $confirmed"

info "2. the registry back"
admin fail '{"count": 0}'
relay_wait_confirmed "$end_lsn" 60
[ "$(count_calls 200)" -eq 2 ] || fail "$(count_calls 200) registrations, not 2 (key and value, once each)"
# the registry answers 401 to a call without user cdc and password s3cret
[ "$(count_calls 401)" -eq 0 ] || fail "$(count_calls 401) registrations refused for their credentials"
REGISTRY_USER_INFO=cdc:s3cret "$W2A_PYTHON" "$W2A_ROOT/regress/tools/registry_consume.py" "$KAFKA_BOOTSTRAP" "$reg" \
	wal2avro.public.orders >"$out/records.jsonl" 2>"$out/consume.err" ||
	{ cat "$out/consume.err" >&2; fail "confluent-kafka's AvroDeserializer did not decode every record"; }
psql -XAt -c "SELECT json_build_object('id', id, 'status', status, 'total', total::text, 'note', note) FROM orders ORDER BY id" >"$out/want"
"$W2A_PYTHON" - "$out/records.jsonl" >"$out/got" <<'PY'
import json, sys
rows = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    key = r["key"]["id"]
    v = r["value"]
    if v is None or v["op"] == "d":
        rows.pop(key, None)
    else:
        a = v["after"]
        rows[key] = {"id": a["id"], "status": a["status"], "total": a["total"], "note": a["note"]}
for k in sorted(rows):
    print(json.dumps(rows[k], separators=(",", ":")))
PY
sed 's/\.\([0-9]\)"/.\1"/' "$out/want" | "$W2A_PYTHON" -c '
import json, sys
for l in sys.stdin:
    print(json.dumps(json.loads(l), separators=(",", ":")))' >"$out/want.norm"
diff -u "$out/want.norm" "$out/got" || fail "the table rebuilt from the decoded topic (+) differs from SELECT (-)"
info "  $(wc -l <"$out/records.jsonl") records decoded by confluent-kafka; the table rebuilt from them equals SELECT"

# the seed's schema-aware consumer: @kafkajs/confluent-schema-registry
. "$W2A_ROOT/regress/tools/node.sh" || fail "could not install the Node packages"
"$W2A_PYTHON" "$W2A_ROOT/regress/tools/kafka_dump.py" "$KAFKA_BOOTSTRAP" wal2avro.public.orders "$out/dump.jsonl"
node "$W2A_ROOT/regress/tools/registry_decode.js" "$reg" cdc:s3cret <"$out/dump.jsonl" >"$out/node.jsonl" ||
	fail "@kafkajs/confluent-schema-registry did not decode every record"
[ "$(wc -l <"$out/node.jsonl")" -eq "$(wc -l <"$out/records.jsonl")" ] ||
	fail "Node decoded $(wc -l <"$out/node.jsonl") of $(wc -l <"$out/records.jsonl") records"
grep -q '"value":null' "$out/node.jsonl" || fail "no tombstone among the records Node decoded"
info "  and @kafkajs/confluent-schema-registry decoded all $(wc -l <"$out/node.jsonl") too"

info "3. a schema the registry refuses"
admin conflict '{"subject": "wal2avro.public.orders-value"}'
psql -Xq -v ON_ERROR_STOP=1 -c 'ALTER TABLE orders ADD COLUMN region text' \
	-c "INSERT INTO orders VALUES (5000, 'new', 1, NULL, 'eu')"
insert_end=$(psql -XAtc 'SELECT pg_current_wal_lsn()')
rc=0
w2a_wait_for 60 bash -c "! kill -0 $RELAY_PID 2>/dev/null" || fail "the relay did not stop on the 409"
wait "$RELAY_PID" || rc=$?
RELAY_PID=
[ "$rc" -ne 0 ] || fail "the relay exited 0 after the registry refused a schema"
grep -q 'value schema of table "public.orders" (subject "wal2avro.public.orders-value"): schema registry .* refused the schema of subject "wal2avro.public.orders-value": HTTP 409' "$RELAY_LOG" ||
	{ tail -n 5 "$RELAY_LOG" >&2; fail "no error naming the table, the subject and the 409"; }
w2a_sql_true "SELECT '$(slot_confirmed reg_slot)'::pg_lsn < '$insert_end'::pg_lsn" ||
	fail "the slot confirmed $(slot_confirmed reg_slot), past the insert of the refused schema (ends $insert_end)"
n=$(kcat -b "$KAFKA_BOOTSTRAP" -C -t wal2avro.public.orders -o beginning -e -q -f '%o\n' 2>/dev/null | wc -l)
[ "$n" -eq "$(wc -l <"$out/records.jsonl")" ] || fail "records were written after the refusal ($n on the topic)"
info "  stopped with exit status $rc, slot still at $(slot_confirmed reg_slot)"

# Rounds 4 and 5: a refusal that waiting does not cure stops the relay with
# an error saying what to fix, and confirms nothing of the change that
# needed the schema.  Each round streams a new slot (the one above keeps the
# refused change) and one INSERT into its own table.
expect_refusal() # SLOT TABLE ERROR-REGEX HINT-REGEX, the relay running
{
	local slot=$1 table=$2 rc=0 end
	psql -Xq -v ON_ERROR_STOP=1 -c "INSERT INTO $table (id) VALUES (1)"
	end=$(psql -XAtc 'SELECT pg_current_wal_lsn()')
	w2a_wait_for 60 bash -c "! kill -0 $RELAY_PID 2>/dev/null" || fail "the relay did not stop"
	wait "$RELAY_PID" || rc=$?
	RELAY_PID=
	[ "$rc" -ne 0 ] || fail "the relay exited 0 after the registry refused"
	grep -Eq "$3" "$RELAY_LOG" || { tail -n 5 "$RELAY_LOG" >&2; fail "no error matching: $3"; }
	grep -Eq "$4" "$RELAY_LOG" || { tail -n 5 "$RELAY_LOG" >&2; fail "no hint matching: $4"; }
	w2a_sql_true "SELECT '$(slot_confirmed "$slot")'::pg_lsn < '$end'::pg_lsn" ||
		fail "the slot confirmed $(slot_confirmed "$slot"), past the refused insert (ends $end)"
	n=$(kcat -b "$KAFKA_BOOTSTRAP" -C -t "wal2avro.public.$table" -o beginning -e -q -f '%o\n' 2>/dev/null | wc -l)
	[ "$n" -eq 0 ] || fail "$n records on wal2avro.public.$table after the refusal"
	info "  stopped with exit status $rc, slot $slot at $(slot_confirmed "$slot")"
}

info "4. wrong credentials"
psql -Xq -v ON_ERROR_STOP=1 -c 'CREATE TABLE customers (id int PRIMARY KEY, name text)'
RELAY_LOG=$out/relay-4.log
WAL2AVRO_SCHEMA_REGISTRY_PASSWORD=wrong relay_start reg_auth --schema-registry="$reg" --schema-registry-user=cdc
expect_refusal reg_auth customers \
	'schema registry http://[^ ]+ refused the credentials of user "cdc" for subject "wal2avro.public.customers-key": HTTP 401' \
	'Check schema-registry-user and the password'
[ "$(count_calls 200)" -eq 2 ] || fail "a registration with the wrong password succeeded"

info "5. a schema over the registry's size limit"
psql -Xq -v ON_ERROR_STOP=1 <<'SQL'
SELECT format('CREATE TABLE wide (id int PRIMARY KEY, %s)',
	string_agg(format('column_with_a_long_name_%s text', g), ', ')) FROM generate_series(1, 300) g \gexec
SQL
admin limit '{"max_body": 8192}'
RELAY_LOG=$out/relay-5.log
relay_start reg_size --schema-registry="$reg" --schema-registry-user=cdc
expect_refusal reg_size wide \
	'refused the schema of subject "wal2avro.public.wide-value" as too large \([0-9]+ bytes of schema, HTTP 413\)' \
	"Raise the registry's \(or its proxy's\) request size limit"

info "6. compat=debezium: a key change, a truncate and two messages, as Debezium's records"
# skipped-operations=none: Debezium's default (t) would leave the truncate out
admin reset '{}'
psql -Xq -v ON_ERROR_STOP=1 -c 'CREATE TABLE dbzt (id int PRIMARY KEY, v text)'
RELAY_LOG=$out/relay-6.log
relay_start reg_dbz --schema-registry="$reg" --schema-registry-user=cdc --compat=debezium \
	--skipped-operations=none --topic-prefix=dbzreg
psql -Xq -v ON_ERROR_STOP=1 <<'SQL'
INSERT INTO dbzt VALUES (1, 'a');
BEGIN;
INSERT INTO dbzt VALUES (2, 'b');
SELECT pg_logical_emit_message(true, 'w2a-test', 'transactional message');
COMMIT;
SELECT pg_logical_emit_message(false, 'w2a-test', 'non-transactional message');
UPDATE dbzt SET id = 20 WHERE id = 1;
TRUNCATE dbzt;
SQL
end=$(psql -XAtc 'SELECT pg_current_wal_lsn()')
relay_wait_confirmed "$end" 60
REGISTRY_USER_INFO=cdc:s3cret "$W2A_PYTHON" "$W2A_ROOT/regress/tools/registry_consume.py" "$KAFKA_BOOTSTRAP" "$reg" \
	dbzreg.public.dbzt dbzreg.message >"$out/dbz.jsonl" 2>"$out/consume-6.err" ||
	{ cat "$out/consume-6.err" >&2; fail "confluent-kafka's AvroDeserializer did not decode the compat=debezium records"; }
"$W2A_PYTHON" - "$out/dbz.jsonl" <<'PY' || fail "the decoded truncate and message records are not Debezium's (above)"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
msgs = [r for r in recs if r["topic"] == "dbzreg.message"]
tab = [r for r in recs if r["topic"] == "dbzreg.public.dbzt"]
ok = True
def check(cond, what):
    global ok
    if not cond:
        print("registry round 6: " + what, file=sys.stderr)
        ok = False
check(len(msgs) == 2, "%d records on dbzreg.message, not 2" % len(msgs))
check(len(tab) == 6, "%d records on dbzreg.public.dbzt, not 6 (two creates, a key change's delete, "
      "tombstone and create, a truncate)" % len(tab))
for r, text, tx in zip(msgs, ("transactional message", "non-transactional message"), (True, False)):
    v = r["value"]
    check(r["key"] == {"prefix": "w2a-test"}, "message key %r" % r["key"])
    check(v["op"] == "m", "message op %r" % v["op"])
    check(v["message"] == {"prefix": "w2a-test", "content": text.encode().hex()}, "message %r" % v["message"])
    s = v["source"]
    check(s["connector"] == "postgresql" and s["name"] == "dbzreg" and s["schema"] == "" and s["table"] == "",
          "message source %r" % s)
    check((s["txId"] is not None) == tx, "message txId %r (transactional: %s)" % (s["txId"], tx))
    check(isinstance(s["lsn"], int) and s["lsn"] > 0, "message lsn %r" % s["lsn"])
def header(r, name):
    return [v for k, v in r["headers"] if k == name]
if len(tab) == 6:
    # the key change: delete and tombstone name the new key, the create the old
    d, tomb, c = tab[2], tab[3], tab[4]
    check(d["value"] is not None and d["value"]["op"] == "d" and d["key"] == {"id": 1}, "key change delete %r" % d)
    check(tomb["value"] is None and tomb["key"] == {"id": 1}, "key change tombstone %r" % tomb)
    check(c["value"] is not None and c["value"]["op"] == "c" and c["key"] == {"id": 20}, "key change create %r" % c)
    for r in (d, tomb):
        check(header(r, "__debezium.newkey") == ['{"id":20}'] and not header(r, "__debezium.oldkey"),
              "headers of the key change's delete/tombstone %r" % r["headers"])
    check(header(c, "__debezium.oldkey") == ['{"id":1}'] and not header(c, "__debezium.newkey"),
          "headers of the key change's create %r" % c["headers"])
    t = tab[5]
    v = t["value"]
    check(t["key"] is None, "truncate key %r, not null" % t["key"])
    check(v["op"] == "t" and v["before"] is None and v["after"] is None, "truncate value %r" % v)
    check(v["source"]["table"] == "dbzt" and v["source"]["txId"] is not None, "truncate source %r" % v["source"])
    check([r["value"]["op"] for r in tab[:2]] == ["c", "c"], "ops %r" % [(r["value"] or {}).get("op") for r in tab])
sys.exit(0 if ok else 1)
PY
info "  a key change (delete, tombstone, create with Debezium's headers), a truncate (null key, op t) and two messages (dbzreg.message) decoded by confluent-kafka's AvroDeserializer"
relay_stop
