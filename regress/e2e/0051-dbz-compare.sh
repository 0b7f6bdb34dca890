#!/usr/bin/env bash
# regress/e2e/0051-dbz-compare.sh -- the unit tests of the Debezium capture checker
#
# What it is for: regress/tools/dbz_compare.py is the judge of the Debezium
# drop-in (issue 14): it compares a capture of Debezium's records with one of
# ours field by field.  This runs its pytest suite (regress/tools/tests/
# test_dbz_compare.py: real Debezium 3.6.1 records, mutated, must be reported
# with topic, offset, path, expected and actual; the allow-list lets only
# what it names differ), and that of the transaction topic's checker
# (test_dbz_txmeta.py: Debezium's own capture passes dbz_txmeta.py check,
# each mutation of a BEGIN/END record is reported).  No servers; about a
# second.
set -uo pipefail
. "$(dirname "$0")/../lib/common.sh"
. "$W2A_ROOT/regress/tools/venv.sh" || fail "could not set up the Python venv"
cd "$W2A_ROOT/regress/tools/tests" || fail "no regress/tools/tests"
"$W2A_PYTHON" -m pytest -q -p no:cacheprovider -rxXfE test_dbz_compare.py test_dbz_txmeta.py
