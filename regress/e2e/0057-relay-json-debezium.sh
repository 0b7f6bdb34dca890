#!/usr/bin/env bash
# regress/e2e/0057-relay-json-debezium.sh -- the relay's JSON is Debezium's, record by record
#
# What it is for: --key-format=json --value-format=json (issue 14) must give
# a Debezium consumer the bytes Debezium gives it.  Debezium 3.6.1 captures
# regress/workloads/debezium_types.sql (JsonConverter, schemas.enable=true)
# on one cluster; then a fresh cluster runs the same workload under
# wal2avro-relay (initial snapshot, then the stream) into the same broker
# with topic prefix w2a.  dbz_compare.py pairs the records per topic and
# partition in offset order and compares key and value, schema and payload,
# field by field, and the headers __debezium.newkey/oldkey of a primary key
# change (delete, tombstone, create).  Allowed to differ: what differs between two clusters or
# two runs (commit and processing times, txId, lsn, sequence, version), and
# Debezium's own quirks listed in doc/debezium.md.  Everything else that
# differs is a failure.  Then the same with --no-json-schemas against
# Debezium's payloads (the envelope alone).  Both run with
# provide.transaction.metadata (--provide-transaction-metadata): the
# envelopes' transaction blocks and the topic <prefix>.transaction are
# compared too, after dbz_txmeta.py checked on each side that BEGIN and END
# pair up with Debezium's ids and counts, and masked the ids (run-dependent).
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
. "$W2A_ROOT/regress/lib/pg.sh"
. "$W2A_ROOT/regress/lib/kafka.sh"
. "$W2A_ROOT/regress/lib/relay.sh"
. "$W2A_ROOT/regress/tools/venv.sh"
. "$W2A_ROOT/regress/lib/debezium.sh"

out=$(w2a_tmpdir relay-json)
workload=$W2A_ROOT/regress/workloads/debezium_types.sql
compare=$W2A_ROOT/regress/tools/dbz_compare.py
txmeta=$W2A_ROOT/regress/tools/dbz_txmeta.py
kafka_start_single "$out/kafka"

pg_start "$out/pg-dbz"
DBZ_PREFIX=dbz DBZ_TXMETA=true dbz_capture "$workload" "$out/dbz.jsonl"
pg_stop

# the relay's turn, on a cluster of its own: the same rows before the
# snapshot, the same statements after it
run_relay()
{
	local prefix=$1
	shift
	pg_start "$out/pg-$prefix"
	psql -XqAt -v ON_ERROR_STOP=1 -v stream=false -f "$workload" >/dev/null
	psql -Xq -v ON_ERROR_STOP=1 -c 'CREATE EXTENSION wal2avro'
	RELAY_SNAPSHOT_MODE=initial relay_start "${prefix}_slot" --topic-prefix="$prefix" \
		--key-format=json --value-format=json --provide-transaction-metadata "$@"
	psql -XqAt -v ON_ERROR_STOP=1 -v stream=true -f "$workload" >/dev/null
	relay_wait_confirmed "$(psql -XAtc 'SELECT pg_current_wal_lsn()')" 90
	relay_stop
	"$W2A_PYTHON" "$W2A_ROOT/regress/tools/kafka_dump.py" "$KAFKA_BOOTSTRAP" "$prefix." "$out/$prefix.all.jsonl"
	# wal2avro's own topics (messages) are not Debezium's
	grep -v "\"topic\": \"$prefix.messages\"" "$out/$prefix.all.jsonl" >"$out/$prefix.jsonl" || true
	"$W2A_PYTHON" "$txmeta" check "$out/$prefix.jsonl" "$prefix" --min 10 ||
		fail "the relay's $prefix.transaction topic is not Debezium's BEGIN/END pairs (above)"
	pg_stop
}

# what differs between two clusters and two runs
run_to_run=(--allow 'value.payload.source.ts_*' --allow 'value.payload.source.txId'
	--allow 'value.payload.source.lsn' --allow 'value.payload.source.sequence'
	--allow 'value.payload.transaction.id')
# Debezium's own quirks (doc/debezium.md), each on the records it is on:
# a two-dimensional array printed by Java's toString (rows 3 and 4, read
# by the snapshot, and row 3's update); name columns null in streamed
# records; JDBC's dates for 4713 BC and infinity in snapshot rows
quirks=(--quirk 'dbz.public.types[0]@2 value.payload.after.c_text_arr*'
	--quirk 'dbz.public.types[0]@6 value.payload.after.c_text_arr*'
	--quirk 'dbz.public.types[0]@4 value.payload.after.c_name'
	--quirk 'dbz.public.types[0]@5 value.payload.after.c_name'
	--quirk 'dbz.public.types[0]@6 value.payload.after.c_name'
	--quirk 'dbz.public.types[0]@2 value.payload.after.c_date'
	--quirk 'dbz.public.types[0]@3 value.payload.after.c_date')

# the headers Debezium adds to a primary key change's delete, tombstone and
# create (the relay's own wal2avro.* headers are not Debezium's); the
# header converter (SimpleHeaderConverter) writes the same text with and
# without JSON schemas
dbz_headers=(--header __debezium.newkey --header __debezium.oldkey)
n=$(grep -c '"__debezium\.\(new\|old\)key"' "$out/dbz.jsonl" || true)
[ "$n" -ge 6 ] || fail "Debezium's capture has $n records with a key change header (the workload changes two keys)"

"$W2A_PYTHON" "$txmeta" check "$out/dbz.jsonl" dbz --min 10 ||
	fail "Debezium's own transaction topic does not pair up as dbz_txmeta.py expects (above)"

# NOT YET (issue 14, listed in doc/debezium.md "Not done yet"): Debezium's
# message topic and truncate events, left out of the expected capture (the
# truncates out of the END counts too: the relay counts what it writes).
"$W2A_PYTHON" "$txmeta" drop-truncates "$out/dbz.jsonl" "$out/dbz.cut.jsonl" dbz
"$W2A_PYTHON" - "$out/dbz.cut.jsonl" "$out/dbz.jsonl" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
keep = [r for r in recs if r["topic"] != "dbz.message"]
with open(sys.argv[2], "w") as f:
    f.writelines(json.dumps(r) + "\n" for r in keep)
PY

run_relay w2a
"$W2A_PYTHON" "$txmeta" mask "$out/dbz.jsonl" "$out/dbz.masked.jsonl" dbz
"$W2A_PYTHON" "$txmeta" mask "$out/w2a.jsonl" "$out/w2a.masked.jsonl" w2a
n=$(grep -c '"topic": "w2a.transaction"' "$out/w2a.masked.jsonl" || true)
[ "$n" -ge 20 ] || fail "the relay wrote $n records to w2a.transaction"
"$W2A_PYTHON" "$compare" --show-allowed "${dbz_headers[@]}" --prefix dbz=w2a "${run_to_run[@]}" "${quirks[@]}" \
	"$out/dbz.masked.jsonl" "$out/w2a.masked.jsonl" || fail "the relay's JSON differs from Debezium's (above)"

# Kafka Connect's own JsonConverter reads the topics: a standalone worker
# (Kafka's connect-runtime from the Debezium build) with the FileStream
# sink and errors.tolerance=none writes one line per record, or its task
# fails on the first record it cannot convert
connect_sink()
{
	local port n
	port=$(w2a_free_port)
	cat >"$out/worker.properties" <<EOF2
bootstrap.servers=$KAFKA_BOOTSTRAP
key.converter=org.apache.kafka.connect.json.JsonConverter
value.converter=org.apache.kafka.connect.json.JsonConverter
key.converter.schemas.enable=true
value.converter.schemas.enable=true
offset.storage.file.filename=$out/connect.offsets
listeners=http://127.0.0.1:$port
consumer.auto.offset.reset=earliest
offset.flush.interval.ms=1000
EOF2
	cat >"$out/sink.properties" <<'EOF2'
name=w2a-file-sink
connector.class=org.apache.kafka.connect.file.FileStreamSinkConnector
tasks.max=1
topics.regex=w2a\.public\..*
errors.tolerance=none
EOF2
	echo "file=$out/connect-sink.txt" >>"$out/sink.properties"
	java -cp "$DBZ_LIB/*" org.apache.kafka.connect.cli.ConnectStandalone \
		"$out/worker.properties" "$out/sink.properties" >"$out/connect.log" 2>&1 &
	local worker=$!
	w2a_on_exit "kill $worker 2>/dev/null || true"
	n=$(grep -c '"topic": "w2a\.public\.' "$out/w2a.jsonl")
	sink_file=$out/connect-sink.txt	# not $out: w2a_wait_for has a local of that name
	_sink_done()
	{
		local st lines
		st=$(curl -s "http://127.0.0.1:$port/connectors/w2a-file-sink/status" || true)
		lines=$(cat "$sink_file" 2>/dev/null | wc -l)
		echo "$lines of $n lines; status $st"
		! grep -q '"FAILED"' <<<"$st" || return 0
		[ "$lines" -ge "$n" ]
	}
	w2a_await 120 "the Connect sink to write $n records" _sink_done
	if grep -q '"FAILED"' <<<"$(curl -s "http://127.0.0.1:$port/connectors/w2a-file-sink/status")"; then
		grep -m 5 -A 5 'Exception' "$out/connect.log" >&2 || true
		fail "Kafka Connect's JsonConverter refused a record of the relay's topics"
	fi
	kill "$worker" 2>/dev/null || true
	info "Kafka Connect (JsonConverter, FileStream sink) read all $n records of the w2a.public topics"
}
connect_sink

# without schemas: Debezium's payloads alone
"$W2A_PYTHON" - "$out/dbz.jsonl" "$out/dbz.bare.jsonl" <<'PY'
import json, sys
with open(sys.argv[2], "w") as f:
    for line in open(sys.argv[1]):
        r = json.loads(line)
        for k in ("key", "value"):
            if isinstance(r[k], dict) and "payload" in r[k]:
                r[k] = {"payload": r[k]["payload"]}
        f.write(json.dumps(r) + "\n")
PY
run_relay w2b --no-json-schemas
"$W2A_PYTHON" - "$out/w2b.jsonl" "$out/w2b.wrapped.jsonl" <<'PY'
import json, sys
# the bare envelope, wrapped so that the paths are the same as above
with open(sys.argv[2], "w") as f:
    for line in open(sys.argv[1]):
        r = json.loads(line)
        for k in ("key", "value"):
            if r[k] is not None:
                assert not (isinstance(r[k], dict) and "schema" in r[k]), r
                r[k] = {"payload": r[k]}
        f.write(json.dumps(r) + "\n")
PY
"$W2A_PYTHON" "$txmeta" mask "$out/dbz.bare.jsonl" "$out/dbz.bare.masked.jsonl" dbz
"$W2A_PYTHON" "$txmeta" mask "$out/w2b.wrapped.jsonl" "$out/w2b.masked.jsonl" w2b
"$W2A_PYTHON" "$compare" "${dbz_headers[@]}" --prefix dbz=w2b "${run_to_run[@]}" "${quirks[@]}" \
	"$out/dbz.bare.masked.jsonl" "$out/w2b.masked.jsonl" ||
	fail "the relay's schemaless JSON differs from Debezium's payloads (above)"
echo "PASS: relay JSON equals Debezium's on $(wc -l <"$out/dbz.jsonl") records, with and without schemas"
