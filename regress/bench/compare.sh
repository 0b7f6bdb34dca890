#!/usr/bin/env bash
# regress/bench/compare.sh -- the whole wal2avro comparison in one command
#
# What it is for: the numbers a user weighs when choosing a CDC system, in one
# report: what decoding costs the database (decode.sh: wal2avro, test_decoding,
# wal2json and pgoutput over the same WAL) and what arrives in Kafka how fast
# (e2e.sh: wal2avro-relay against Debezium's PostgreSQL connector, into the
# same broker).  Writes OUT/report.md with the tables and OUT/figures/*.svg
# (throughput bars with min/max whiskers, latency CDFs), and keeps the raw
# data in OUT/decode and OUT/e2e.  Run on demand, never in CI; nothing is
# asserted about timings, the runs fail only when something is wrong (a row
# missing in a capture or in Kafka, a server that did not start).
#
# Sizes (both halves use the same workload sizes; the defaults took 14
# minutes on 2 cores, most of it Debezium draining the 1M-row transaction
# three times; ROWS_BULK=200000 LAT_SECS=5 about 10):
# ROWS_BULK (1000000), ROWS_WIDE (50000), WIDE_TXN
# (1000), ROWS_TOAST (5000), TOAST_TXN (100), TXNS_OLTP (10000), CUSTOMERS
# (10000), TXNS_SMALL (50000, decode only), REPS (3), RATES ("500 2000
# 10000"), LAT_SECS (10), WARM_SECS (5), PGBENCH_CLIENTS (8).
# SKIP_DECODE=1 or SKIP_E2E=1 leaves a half out; DECODE_PARTS (decode.sh's
# PARTS: "a b c d e") and PARTS (e2e.sh's: "bulk wide toast oltp") choose
# workloads.  OUT (/tmp/wal2avro-bench/compare).  Everything else as decode.sh
# and e2e.sh say (PLUGINS, SYSTEMS, DBZ_JAVA_OPTS, DBZ_PROPS, W2A_RELAY).
#
# Quick run (about 3 minutes, a few seconds of measuring each):
#   ROWS_BULK=20000 ROWS_WIDE=5000 ROWS_TOAST=500 TXNS_OLTP=1000 TXNS_SMALL=2000 \
#   REPS=2 LAT_SECS=5 WARM_SECS=2 regress/bench/compare.sh
set -euo pipefail
export LC_ALL=C
. "$(dirname "$0")/../lib/common.sh"

export ROWS_BULK=${ROWS_BULK:-1000000}
export ROWS_WIDE=${ROWS_WIDE:-50000}
export WIDE_TXN=${WIDE_TXN:-1000}
export ROWS_TOAST=${ROWS_TOAST:-5000}
export TOAST_TXN=${TOAST_TXN:-100}
export TXNS_OLTP=${TXNS_OLTP:-10000}
export CUSTOMERS=${CUSTOMERS:-10000}
export TXNS_SMALL=${TXNS_SMALL:-50000}
export REPS=${REPS:-3}
export RATES=${RATES:-500 2000 10000}
export LAT_SECS=${LAT_SECS:-10}
export WARM_SECS=${WARM_SECS:-5}
export PGBENCH_CLIENTS=${PGBENCH_CLIENTS:-8}
OUT=${OUT:-/tmp/wal2avro-bench/compare}
bench=$W2A_ROOT/regress/bench

# the command that reproduces this report (from the repository's top
# directory): every size given, in order
repro=
for v in ROWS_BULK ROWS_WIDE WIDE_TXN ROWS_TOAST TOAST_TXN TXNS_OLTP CUSTOMERS TXNS_SMALL REPS \
	RATES LAT_SECS WARM_SECS PGBENCH_CLIENTS; do
	repro+="$v=\"${!v}\" "
done
for v in SKIP_DECODE SKIP_E2E DECODE_PARTS PARTS PLUGINS SYSTEMS COMPRESSION DBZ_JAVA_OPTS DBZ_PROPS; do
	[ -z "${!v:-}" ] || repro+="$v=\"${!v}\" "
done
repro+="regress/bench/compare.sh"

rm -rf "$OUT/decode" "$OUT/e2e" "$OUT/figures" "$OUT/report.md"
mkdir -p "$OUT"
start=$SECONDS
meta=$OUT/compare.meta
: >"$meta"
if [ "${SKIP_DECODE:-0}" != 1 ]; then
	info "== plugin level: regress/bench/decode.sh"
	PARTS=${DECODE_PARTS:-} OUT=$OUT/decode "$bench/decode.sh"
	echo "decode_load=$(sed -n 's/^load=//p' "$OUT/decode/decode.meta")" >>"$meta"
fi
if [ "${SKIP_E2E:-0}" != 1 ]; then
	info "== end to end: regress/bench/e2e.sh"
	OUT=$OUT/e2e "$bench/e2e.sh"
fi
elapsed=$((SECONDS - start))
{
	echo "command=$repro"
	echo "duration=$((elapsed / 60)) min $((elapsed % 60)) s"
} >>"$meta"

args=(--out "$OUT" --meta "$meta")
[ "${SKIP_DECODE:-0}" = 1 ] || args+=(--decode "$OUT/decode")
[ "${SKIP_E2E:-0}" = 1 ] || args+=(--e2e "$OUT/e2e")
python3 "$bench/report.py" "${args[@]}" || fail "report.py failed"
info "report in $OUT/report.md, figures in $OUT/figures ($((elapsed / 60)) min $((elapsed % 60)) s)"
