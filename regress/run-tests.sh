#!/usr/bin/env bash
# regress/run-tests.sh -- every test suite of wal2avro, one after the other
#
# "make test" runs this.  Each suite starts the servers it needs (a throwaway
# PostgreSQL, a real Kafka broker or cluster) and stops them, pass or fail.
# Suites: the pg_regress and isolation suite, the relay's unit tests (ASan and
# UBSan), the include check (no cycle between modules, every header compiles
# alone), a short fuzz run of the frame parser, and every regress/e2e script.
# Prints one line per suite and a closing "N passed, N failed"; exits non-zero
# when anything failed.  W2A_ONLY=pattern runs only suites whose name matches.
set -uo pipefail
. "$(dirname "$0")/lib/common.sh"
cd "$W2A_ROOT"

export W2A_TEST_OUT=${W2A_TEST_OUT:-$(mktemp -d /tmp/wal2avro-tests.XXXXXX)}
chmod 755 "$W2A_TEST_OUT"
passed=0
failed=0
failed_names=()

run_suite()
{
	local name=$1
	shift
	if [ -n "${W2A_ONLY:-}" ] && [[ "$name" != *${W2A_ONLY}* ]]; then
		return
	fi
	local log="$W2A_TEST_OUT/$name.log" start=$SECONDS
	info "suite $name: starting"
	if "$@" >"$log" 2>&1; then
		passed=$((passed + 1))
		printf 'PASS %-36s %4ds\n' "$name" $((SECONDS - start))
	else
		failed=$((failed + 1))
		failed_names+=("$name")
		printf 'FAIL %-36s %4ds (log: %s)\n' "$name" $((SECONDS - start)) "$log"
		tail -n 60 "$log" | sed 's/^/    | /'
	fi
}

run_suite pg_regress regress/run-regress.sh
run_suite includes regress/tools/include_cycles.py
run_suite module-map python3 regress/tools/module_map.py
run_suite relay-unit make -s relay-unit
run_suite fuzz-frames regress/fuzz/run-fuzz.sh "${W2A_FUZZ_SECONDS:-30}"
for t in regress/e2e/[0-9]*.sh; do
	run_suite "$(basename "$t" .sh)" bash "$t"
done

echo
if [ $failed -gt 0 ]; then
	echo "failed: ${failed_names[*]}"
fi
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
