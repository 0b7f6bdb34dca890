#!/usr/bin/env bash
# regress/e2e/0052-debezium-oracle.sh -- Debezium 3.6.1 captured twice, and judged
#
# What it is for: the Debezium drop-in (issue 14) is proven by comparing our
# records with Debezium's own on the same workload.  This checks the oracle
# and the judge before there is anything of ours to judge:
#   1. regress/tools/dbz-capture.sh runs Debezium's PostgreSQL connector on
#      regress/workloads/debezium_types.sql twice, each on a fresh cluster and
#      broker, with topic prefixes dbz and dbz2;
#   2. the records the first produced (topic, offset, op, key) are the list in
#      regress/workloads/debezium_types.records (transaction ids and LSNs in
#      the transaction topic's keys masked);
#   3. dbz_compare.py finds the two captures equal (prefix dbz2 read as dbz)
#      modulo the default allow-list and what differs from run to run: the
#      commit times (source.ts_*), the LSNs (source.lsn, sequence, the
#      transaction ids "txId:LSN": a WAL record PostgreSQL writes on its own
#      clock, such as the running-transactions record every 15 s, can land
#      inside one run's workload and not the other's), and two values
#      Debezium prints from Java object identities (a two-dimensional text
#      array, and the data collection of a logical message in transaction
#      metadata, whose order varies too);
#   4. a changed field in the second capture is reported, exit status 1.
# About 70 s (two brokers, two engines); the first run builds the engine.
set -uo pipefail
. "$(dirname "$0")/../lib/common.sh"
. "$W2A_ROOT/regress/tools/venv.sh" || fail "could not set up the Python venv"

out=$(w2a_tmpdir dbz-oracle)
compare=$W2A_ROOT/regress/tools/dbz_compare.py
DBZ_PREFIX=dbz bash "$W2A_ROOT/regress/tools/dbz-capture.sh" "$out/a.jsonl" ||
	fail "the first Debezium capture failed"
DBZ_PREFIX=dbz2 bash "$W2A_ROOT/regress/tools/dbz-capture.sh" "$out/b.jsonl" ||
	fail "the second Debezium capture failed"

"$W2A_PYTHON" "$compare" --list "$out/a.jsonl" |
	sed -E 's/"id": "[0-9]+:[0-9]+"/"id": "XID:LSN"/' >"$out/a.records"
diff -u "$W2A_ROOT/regress/workloads/debezium_types.records" "$out/a.records" ||
	fail "Debezium's records are not the expected list (above)"
info "Debezium produced the $(wc -l <"$out/a.records") expected records"

run_to_run=(--allow 'value.payload.source.ts_*' --allow 'value.payload.*.c_text_arr[]'
	--allow 'value.payload.data_collections[].*' --allow 'value.payload.source.lsn'
	--allow 'value.payload.source.sequence' --allow 'value.payload.transaction.id'
	--quirk 'dbz.transaction* key.payload.id' --quirk 'dbz.transaction* value.payload.id')
"$W2A_PYTHON" "$compare" --show-allowed --prefix dbz=dbz2 "${run_to_run[@]}" \
	"$out/a.jsonl" "$out/b.jsonl" || fail "two Debezium captures differ"

"$W2A_PYTHON" - "$out/b.jsonl" "$out/mutated.jsonl" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
n = 0
for r in recs:
    p = (r["value"] or {}).get("payload") or {}
    if r["topic"] == "dbz2.public.orders" and p.get("op") == "u" and p["after"]["id"] == 1:
        p["after"]["status"] = "PAID"
        n += 1
assert n == 1, n
with open(sys.argv[2], "w") as f:
    f.writelines(json.dumps(r) + "\n" for r in recs)
PY
[ $? -eq 0 ] || fail "could not mutate the capture"
report=$("$W2A_PYTHON" "$compare" --prefix dbz=dbz2 "${run_to_run[@]}" "$out/a.jsonl" "$out/mutated.jsonl")
rc=$?
printf '%s\n' "$report"
[ $rc -eq 1 ] || fail "dbz_compare exited $rc on a mutated capture, not 1"
grep -qxF 'dbz.public.orders[0]@3 value.payload.after.status: expected "paid", actual "PAID"' <<<"$report" ||
	fail "dbz_compare did not report the changed field"
grep -q ' 1 differences' <<<"$report" || fail "dbz_compare reported more than the changed field"
echo "PASS: Debezium oracle (two captures equal, a mutation reported)"
