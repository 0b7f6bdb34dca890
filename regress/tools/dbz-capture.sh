#!/usr/bin/env bash
# regress/tools/dbz-capture.sh -- capture Debezium 3.6.1's records of a workload
#
#   regress/tools/dbz-capture.sh OUT.jsonl [WORKLOAD]
#
# Starts a throwaway PostgreSQL (regress/lib/pg.sh) and a single Kafka broker
# (regress/lib/kafka.sh), runs dbz_capture (regress/lib/debezium.sh) with
# WORKLOAD (default regress/workloads/debezium_types.sql) and writes every
# record of the topics to OUT.jsonl; stops everything.  DBZ_PREFIX,
# DBZ_TXMETA and DBZ_PROPS as dbz_capture reads them.  W2A_KEEP=1 keeps the
# cluster; the engine's log is in the debezium.* folder it prints.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
. "$W2A_ROOT/regress/lib/pg.sh"
. "$W2A_ROOT/regress/lib/kafka.sh"
. "$W2A_ROOT/regress/lib/debezium.sh"

[ $# -ge 1 ] || fail "usage: $0 OUT.jsonl [WORKLOAD]"
out=$1
workload=${2:-$W2A_ROOT/regress/workloads/debezium_types.sql}
. "$W2A_ROOT/regress/tools/venv.sh" || fail "could not set up the Python venv"

start=$SECONDS
pg_start "$(w2a_tmpdir dbz-pg)"
kafka_start_single "$(w2a_tmpdir dbz-kafka)"
dbz_capture "$workload" "$out"
info "captured $(wc -l <"$out") records into $out in $((SECONDS - start)) s (engine dir $DBZ_DIR)"
