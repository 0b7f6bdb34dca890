#!/usr/bin/env bash
# regress/run-valgrind.sh -- the pg_regress suite with the server under valgrind
#
# "make valgrind-check" runs this.  The whole server runs under memcheck
# (AddressSanitizer cannot be preloaded into Debian's postgres), the
# pg_regress suite runs against it, and every error valgrind reports with a
# wal2avro function in its stack fails the run.  Errors inside PostgreSQL
# alone (Debian's build ships no valgrind suppressions) are counted, not
# failed.  Slow: minutes, not seconds.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
. "$W2A_ROOT/regress/lib/pg.sh"
command -v valgrind >/dev/null || fail "valgrind is not installed (apt-get install valgrind)"

export W2A_PG_VALGRIND=1
dir=$(w2a_tmpdir valgrind)
export W2A_VALGRIND_LOGS=$dir/logs
mkdir -p "$W2A_VALGRIND_LOGS"
chmod 777 "$W2A_VALGRIND_LOGS"
pg_start "$dir/pg" "$W2A_ROOT/regress/logical.conf"
cd "$W2A_ROOT"
rm -rf regress/out
mkdir -p regress/out
rc=0
make -s installcheck ISOLATION= "$@" || rc=$?
pg_stop
[ $rc -eq 0 ] || { head -n 100 regress/out/regression.diffs >&2 || true; }

# One error is a block of "==PID== " lines ending with an empty "==PID== ".
ours=0
theirs=0
: >"$dir/ours.txt"
for log in "$W2A_VALGRIND_LOGS"/valgrind.*.log; do
	[ -s "$log" ] || continue
	read -r o t < <(awk -v ours="$dir/ours.txt" '
		/^==[0-9]+== [A-Za-z]/ && !inblock { inblock = 1; block = "" }
		inblock { block = block $0 "\n" }
		/^==[0-9]+== *$/ && inblock {
			if (block ~ /wal2avro/) { printf "%s", block >> ours; o++ } else t++
			inblock = 0
		}
		END { print o + 0, t + 0 }' "$log")
	ours=$((ours + o))
	theirs=$((theirs + t))
done
info "valgrind: $ours errors in wal2avro code, $theirs elsewhere in PostgreSQL (logs in $W2A_VALGRIND_LOGS)"
if [ "$ours" -gt 0 ]; then
	head -n 200 "$dir/ours.txt" >&2
	fail "valgrind found errors in wal2avro code"
fi
[ $rc -eq 0 ] || fail "the regression suite failed under valgrind"
echo "PASS: regression suite under valgrind, no error in wal2avro code"
