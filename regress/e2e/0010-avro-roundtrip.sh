#!/usr/bin/env bash
# regress/e2e/0010-avro-roundtrip.sh -- the pytest suites against a throwaway cluster
#
# What it is for: runs every test in regress/pytest (the frame reader's unit
# tests and the round-trip tests that decode wal2avro's binary output with
# fastavro and compare it with SELECT) against a fresh PostgreSQL cluster
# with the installed plugin.  Exits with pytest's status; the last line is
# PASS: or FAIL:.  Extra arguments go to pytest (e.g. -k numeric -x).
set -uo pipefail
. "$(dirname "$0")/../lib/common.sh"
. "$W2A_ROOT/regress/lib/pg.sh"

# registered first, so it runs last: the verdict follows the server log tail
_roundtrip_verdict()
{
	if [ "${W2A_EXIT_RC:-1}" -eq 0 ]; then
		echo "PASS: avro round trip (pytest regress/pytest)"
	else
		echo "FAIL: avro round trip (pytest regress/pytest, status ${W2A_EXIT_RC:-?})"
	fi
}
w2a_on_exit _roundtrip_verdict

[ -e "$(pg_config --pkglibdir)/wal2avro.so" ] ||
	fail "wal2avro is not installed: run make -C $W2A_ROOT install"

pg_start "$(w2a_tmpdir roundtrip)"
. "$W2A_ROOT/regress/tools/venv.sh" || fail "could not set up the Python venv"

cd "$W2A_ROOT" || fail "cannot cd to $W2A_ROOT"
info "pytest regress/pytest (PGHOST=$PGHOST PGPORT=$PGPORT)"
start=$SECONDS
"$W2A_PYTHON" -m pytest -q -p no:cacheprovider -rxXfE regress/pytest "$@"
rc=$?
info "pytest exited with $rc after $((SECONDS - start)) s"
exit $rc
