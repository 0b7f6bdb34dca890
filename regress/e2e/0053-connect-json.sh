#!/usr/bin/env bash
# regress/e2e/0053-connect-json.sh -- the relay's JSON walker against Debezium's own bytes
#
# What it is for: with --value-format=json the relay must write exactly what
# Kafka Connect's JsonConverter writes for Debezium (issue 14).  Every key and
# value of a Debezium 3.6.1 capture (regress/workloads/debezium_types.capture.jsonl,
# the records' exact JSON text) goes through regress/tools/connect_avro.py (Connect ->
# the Avro schema and datum AvroData makes), then through relay/connect_json.c
# (regress/relay/connect_json_check, under ASan/UBSan), with and without the
# schema; the output must equal the record's bytes and its payload's bytes,
# and, parsed, the parsed originals.  Then every truncation and bit flip of
# every datum is rendered: nothing may crash.  W2A_DBZ_CAPTURE_RAW names
# another capture in the fixture's form.  No servers; a few seconds.
set -uo pipefail
. "$(dirname "$0")/../lib/common.sh"
. "$W2A_ROOT/regress/tools/venv.sh" || fail "could not set up the Python venv"
cd "$W2A_ROOT" || fail "no $W2A_ROOT"

# the mapping's own tests first: connect_avro.py is what the cases come from
"$W2A_PYTHON" -m pytest -q -p no:cacheprovider regress/pytest/test_connect_avro.py ||
	fail "regress/pytest/test_connect_avro.py failed"

fixture=${W2A_DBZ_CAPTURE_RAW:-$W2A_ROOT/regress/workloads/debezium_types.capture.jsonl}
out=$(w2a_tmpdir connect-json)
make -s regress/relay/connect_json_check || fail "could not build regress/relay/connect_json_check"

# and hand-written JsonConverter records of what the capture lacks (maps, int8,
# Connect's Date and Timestamp, defaults, a struct with doc and version)
cat "$fixture" regress/workloads/connect_json_extra.jsonl |
	"$W2A_PYTHON" regress/tools/connect_avro.py cases >"$out/cases.tsv" ||
	fail "connect_avro.py cases failed on $fixture"
n=$(wc -l <"$out/cases.tsv")
[ "$n" -gt 50 ] || fail "only $n cases from $fixture"
info "$n keys and values from $fixture"

regress/relay/connect_json_check --out "$out/rendered.tsv" <"$out/cases.tsv" ||
	fail "the walker's bytes differ from Debezium's (above)"

# the same, parsed: catches a byte-equal comparison that compared the wrong things
"$W2A_PYTHON" - "$out/cases.tsv" "$out/rendered.tsv" <<'PY' || fail "parsed JSON differs"
import json, sys
cases = [l.rstrip("\n").split("\t") for l in open(sys.argv[1], encoding="utf-8")]
got = [l.rstrip("\n").split("\t") for l in open(sys.argv[2], encoding="utf-8")]
assert len(cases) == len(got), (len(cases), len(got))
for c, g in zip(cases, got):
    assert c[0] == g[0], (c[0], g[0])
    assert json.loads(g[1]) == json.loads(c[3]), c[0]
    assert json.loads(g[2]) == json.loads(c[4]), c[0]
print("parsed: %d records equal with and without the schema" % len(cases))
PY

regress/relay/connect_json_check --fuzz <"$out/cases.tsv" || fail "the robustness run failed"
info "PASS"
