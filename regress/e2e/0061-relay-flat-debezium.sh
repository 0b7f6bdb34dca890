#!/usr/bin/env bash
# regress/e2e/0061-relay-flat-debezium.sh -- --envelope=flat is Debezium's unwrap SMT, record by record
#
# What it is for: a Kafka Connect user of Debezium 3.6.1 who configures
# io.debezium.transforms.ExtractNewRecordState ("unwrap") must get the same
# records from wal2avro-relay --envelope=flat (issue 14).  Debezium runs
# regress/workloads/debezium_types.sql with the SMT (JsonConverter,
# schemas.enable=true) on one cluster; a fresh cluster runs the same
# workload under the relay into the same broker; dbz_compare.py pairs the
# records per topic and partition in offset order and compares key, value
# (schema and payload) and the key change headers.  Two rounds:
#   1. the SMT's defaults (delete.tombstone.handling.mode=tombstone: a
#      delete is a null value with the Value schema, its tombstone dropped)
#   2. add.fields=op,table,lsn,source.ts_ms with mode rewrite (the old row
#      plus __deleted "true", no tombstone); then the modes drop,
#      rewrite-with-tombstone and delete-to-tombstone, and the defaults
#      without JSON schemas (a delete is the text null), as exact texts,
#      and drop with transaction metadata (add.fields=total_order,...: a
#      dropped delete still counts among its transaction's events)
# then round 2 again with --value-format=avro through the test schema
# registry, read by confluent-kafka's AvroDeserializer: the decoded values
# must be round 2's JSON payloads.  Allowed to differ: what differs between
# two clusters or runs (__lsn, __source_ts_ms) and Debezium's own quirks
# listed in doc/debezium.md.  Debezium's message topic passes the SMT
# unchanged, and so does the relay's (compared too); truncates the SMT
# drops, and so does the relay with envelope=flat.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
. "$W2A_ROOT/regress/lib/pg.sh"
. "$W2A_ROOT/regress/lib/kafka.sh"
. "$W2A_ROOT/regress/lib/relay.sh"
. "$W2A_ROOT/regress/tools/venv.sh"
. "$W2A_ROOT/regress/lib/debezium.sh"

out=$(w2a_tmpdir relay-flat)
workload=$W2A_ROOT/regress/workloads/debezium_types.sql
compare=$W2A_ROOT/regress/tools/dbz_compare.py
unwrap="transforms=unwrap transforms.unwrap.type=io.debezium.transforms.ExtractNewRecordState"
kafka_start_single "$out/kafka"

# Debezium's capture with the SMT
capture()
{
	local prefix=$1 props=$2
	pg_start "$out/pg-$prefix"
	DBZ_PREFIX=$prefix DBZ_TXMETA=${TXMETA:-false} DBZ_PROPS="$unwrap $props" dbz_capture "$workload" "$out/$prefix.all.jsonl"
	pg_stop
	cp "$out/$prefix.all.jsonl" "$out/$prefix.jsonl"
}

# the relay's turn, on a cluster of its own: the same rows before the
# snapshot, the same statements after it
run_relay()
{
	local prefix=$1
	shift
	pg_start "$out/pg-$prefix"
	psql -XqAt -v ON_ERROR_STOP=1 -v stream=false -f "$workload" >/dev/null
	psql -Xq -v ON_ERROR_STOP=1 -c 'CREATE EXTENSION wal2avro'
	RELAY_LOG=$(w2a_tmpdir "relay-$prefix")/relay.log	# a log per run, for the wait below
	RELAY_SNAPSHOT_MODE=initial relay_start "${prefix}_slot" --topic-prefix="$prefix" "$@"
	# the workload truncates a table: a snapshot still reading would start over
	w2a_await 60 "the relay's initial snapshot" grep -q 'snapshot done:' "$RELAY_LOG"
	psql -XqAt -v ON_ERROR_STOP=1 -v stream=true -f "$workload" >/dev/null
	relay_wait_confirmed "$(psql -XAtc 'SELECT pg_current_wal_lsn()')" 90
	relay_stop
	"$W2A_PYTHON" "$W2A_ROOT/regress/tools/kafka_dump.py" ${DUMP_TEXT:+--text} "$KAFKA_BOOTSTRAP" "$prefix." "$out/$prefix.all.jsonl"
	cp "$out/$prefix.all.jsonl" "$out/$prefix.jsonl"
	pg_stop
}

# Debezium's own quirks (doc/debezium.md), each on the records it is on
# (the offsets of the flat topics: the SMT drops the tombstones)
quirks=(--quirk 'dbz*.public.types[0]@2 value.payload.c_text_arr*'
	--quirk 'dbz*.public.types[0]@6 value.payload.c_text_arr*'
	--quirk 'dbz*.public.types[0]@4 value.payload.c_name'
	--quirk 'dbz*.public.types[0]@5 value.payload.c_name'
	--quirk 'dbz*.public.types[0]@6 value.payload.c_name'
	--quirk 'dbz*.public.types[0]@2 value.payload.c_date'
	--quirk 'dbz*.public.types[0]@3 value.payload.c_date')
# the message records keep Debezium's envelope: their source differs
# between two clusters and runs as in 0057 (flat values have no source)
quirks+=(--allow 'value.payload.source.ts_*' --allow 'value.payload.source.txId'
	--allow 'value.payload.source.lsn' --allow 'value.payload.source.sequence'
	--allow 'value.payload.transaction.id')
dbz_headers=(--header __debezium.newkey --header __debezium.oldkey)

info "1. the SMT's defaults"
capture dbza ""
# the oracle shows what the round is about: null-valued deletes with a
# schema, and no Kafka tombstone at all
"$W2A_PYTHON" - "$out/dbza.jsonl" <<'PY' || fail "Debezium's capture is not what round 1 is about"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
nulls = [r for r in recs if isinstance(r["value"], dict) and r["value"].get("payload", 1) is None]
assert len(nulls) >= 4, "%d deletes as null payloads" % len(nulls)
assert all(r["value"]["schema"]["optional"] for r in nulls)
assert not [r for r in recs if r["value"] is None], "a tombstone"
assert not [r for r in recs if isinstance(r["value"], dict) and "after" in (r["value"].get("payload") or {})]
PY
run_relay w2a --key-format=json --value-format=json --envelope=flat
"$W2A_PYTHON" "$compare" --show-allowed "${dbz_headers[@]}" --prefix dbza=w2a "${quirks[@]}" \
	"$out/dbza.jsonl" "$out/w2a.jsonl" || fail "round 1: the relay's flat JSON differs from Debezium's unwrap (above)"

info "2. add.fields=op,table,lsn,source.ts_ms, delete.tombstone.handling.mode=rewrite"
capture dbzb "transforms.unwrap.add.fields=op,table,lsn,source.ts_ms transforms.unwrap.delete.tombstone.handling.mode=rewrite"
grep -q '"__deleted": "true"' "$out/dbzb.jsonl" || fail "Debezium's capture has no rewritten delete"
flat2=(--envelope=flat --add-fields=op,table,lsn,source.ts_ms --delete-tombstone-handling-mode=rewrite)
run_relay w2b --key-format=json --value-format=json "${flat2[@]}"
"$W2A_PYTHON" "$compare" --show-allowed "${dbz_headers[@]}" --prefix dbzb=w2b "${quirks[@]}" \
	--allow 'value.payload.__lsn' --allow 'value.payload.__source_ts_ms' \
	"$out/dbzb.jsonl" "$out/w2b.jsonl" || fail "round 2: the relay's flat JSON differs from Debezium's unwrap (above)"

# the other modes, in JSON: what becomes of deletes and tombstones
n=0
for mode in drop rewrite-with-tombstone delete-to-tombstone; do
	n=$((n + 1))
	info "2.$n. delete.tombstone.handling.mode=$mode"
	capture "dbzm$n" "transforms.unwrap.delete.tombstone.handling.mode=$mode"
	run_relay "w2m$n" --key-format=json --value-format=json --envelope=flat \
		--delete-tombstone-handling-mode="$mode"
	"$W2A_PYTHON" "$compare" "${dbz_headers[@]}" --prefix "dbzm$n=w2m$n" "${quirks[@]}" \
		"$out/dbzm$n.jsonl" "$out/w2m$n.jsonl" ||
		fail "mode $mode: the relay's flat JSON differs from Debezium's unwrap (above)"
done

info "2.4. the defaults without JSON schemas: a delete is the text null, not a Kafka null"
DBZ_DUMP_TEXT=1 capture dbzn "converter.schemas.enable=false"
DUMP_TEXT=1 run_relay w2n --key-format=json --value-format=json --no-json-schemas --envelope=flat
# the exact texts parsed, wrapped so that the paths are those of round 1;
# a Kafka null stays null, the text null becomes {"payload": null}
for f in dbzn w2n; do
	"$W2A_PYTHON" - "$out/$f.jsonl" "$out/$f.wrapped.jsonl" <<'PY'
import json, sys
n = 0
with open(sys.argv[2], "w") as out:
    for line in open(sys.argv[1]):
        r = json.loads(line)
        for k in ("key", "value"):
            if r[k] is not None:
                n += r[k] == "null"
                r[k] = {"payload": json.loads(r[k])}
        out.write(json.dumps(r) + "\n")
assert n >= 4, "%s: %d values are the text null" % (sys.argv[1], n)
PY
done
"$W2A_PYTHON" "$compare" "${dbz_headers[@]}" --prefix dbzn=w2n "${quirks[@]}" \
	"$out/dbzn.wrapped.jsonl" "$out/w2n.wrapped.jsonl" ||
	fail "without schemas: the relay's flat JSON differs from Debezium's unwrap (above)"

info "2.5. drop with transaction metadata: a dropped delete is still an event of its transaction"
TXMETA=true capture dbzt "transforms.unwrap.delete.tombstone.handling.mode=drop
	transforms.unwrap.add.fields=total_order,data_collection_order,transaction.id"
run_relay w2t --key-format=json --value-format=json --provide-transaction-metadata --envelope=flat \
	--delete-tombstone-handling-mode=drop --add-fields=total_order,data_collection_order,transaction.id
# the table topics (0057 compares the transaction topic itself)
for f in dbzt w2t; do
	grep -v "\"topic\": \"${f}.transaction\"" "$out/$f.jsonl" >"$out/$f.tables.jsonl" || true
done
grep -q '"__total_order": [0-9]' "$out/dbzt.tables.jsonl" || fail "Debezium's capture has no __total_order"
"$W2A_PYTHON" "$compare" "${dbz_headers[@]}" --prefix dbzt=w2t "${quirks[@]}" \
	--allow 'value.payload.__transaction_id' \
	"$out/dbzt.tables.jsonl" "$out/w2t.tables.jsonl" ||
	fail "drop with transaction metadata: the relay's flat JSON differs from Debezium's unwrap (above)"

info "3. round 2 in Avro through the schema registry"
"$W2A_PYTHON" "$W2A_ROOT/regress/tools/test_registry.py" --port 0 --port-file "$out/port" >"$out/registry.log" 2>&1 &
reg_pid=$!
w2a_on_exit "kill $reg_pid 2>/dev/null || true"
w2a_wait_for 20 test -s "$out/port" || fail "the test registry did not start"
reg=http://127.0.0.1:$(cat "$out/port")
run_relay w2c --compat=debezium --key-format=avro --value-format=avro --schema-registry="$reg" "${flat2[@]}"
# the tables' flat values (the message records, Debezium's envelope, are
# decoded through the registry in 0056)
topics=$(grep -o '"topic": "w2c\.public\.[a-z_]*"' "$out/w2c.jsonl" | sort -u | sed 's/.*: "//; s/"$//')
# shellcheck disable=SC2086
"$W2A_PYTHON" "$W2A_ROOT/regress/tools/registry_consume.py" "$KAFKA_BOOTSTRAP" "$reg" $topics \
	>"$out/w2c.decoded.jsonl" 2>"$out/consume.err" ||
	{ cat "$out/consume.err" >&2; fail "confluent-kafka's AvroDeserializer did not decode every record"; }
"$W2A_PYTHON" - "$out/w2b.jsonl" "$out/w2c.decoded.jsonl" <<'PY' || fail "the decoded Avro values differ from round 2's JSON payloads (above)"
import base64, decimal, json, struct, sys
def records(path, prefix):
    got = {}
    for line in open(path):
        r = json.loads(line)
        got.setdefault(r["topic"].replace(prefix, "", 1), []).append(r)
    return got
want, got = records(sys.argv[1], "w2b."), records(sys.argv[2], "w2c.")
want = {t: r for t, r in want.items() if t.startswith("public.")}
def from_json(schema, v):
    # the Connect JSON of a field as AvroDeserializer gives the value
    # (registry_consume.py: bytes as hex, Decimal as its text)
    if v is None:
        return None
    name = schema.get("name")
    if name == "org.apache.kafka.connect.data.Decimal":
        raw = base64.b64decode(v)
        return str(decimal.Decimal(int.from_bytes(raw, "big", signed=True)).scaleb(-int(schema["parameters"]["scale"])))
    if schema["type"] == "bytes":
        return base64.b64decode(v).hex()
    if schema["type"] in ("float", "double"):
        # Jackson's "NaN"/"Infinity"; a float32 as the double it widens to
        x = float(v)
        return struct.unpack("f", struct.pack("f", x))[0] if schema["type"] == "float" else x
    if schema["type"] == "struct":
        return {f["field"]: from_json(f, v.get(f["field"])) for f in schema["fields"]}
    if schema["type"] == "array":
        return [from_json(schema["items"], x) for x in v]
    if schema["type"] == "map":
        return {k: from_json(schema["values"], x) for k, x in v.items()}
    return v
bad = 0
n = 0
assert sorted(want) == sorted(got), (sorted(want), sorted(got))
for topic in want:
    assert len(want[topic]) == len(got[topic]), (topic, len(want[topic]), len(got[topic]))
    for w, g in zip(want[topic], got[topic]):
        n += 1
        exp = None if w["value"] is None else from_json(w["value"]["schema"], w["value"]["payload"])
        act = g["value"]
        if act is not None:
            # run to run (two clusters)
            act = {k: v for k, v in act.items() if k not in ("__lsn", "__source_ts_ms")}
            exp = {k: v for k, v in exp.items() if k not in ("__lsn", "__source_ts_ms")}
        if json.dumps(exp, sort_keys=True, default=str) != json.dumps(act, sort_keys=True, default=str):
            bad += 1
            print("%s@%s: JSON %s, Avro %s" % (topic, w["offset"], json.dumps(exp, default=str)[:400], json.dumps(act, default=str)[:400]))
print("%d records, %d differ" % (n, bad))
sys.exit(1 if bad else 0)
PY
echo "PASS: the relay's flat value equals Debezium's unwrap in JSON (defaults, add.fields + rewrite, and the modes drop, rewrite-with-tombstone, delete-to-tombstone; without schemas) and in Avro through the registry"
