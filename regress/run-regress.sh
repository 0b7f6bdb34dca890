#!/usr/bin/env bash
# regress/run-regress.sh -- the pg_regress suite against a throwaway cluster
#
# Starts a cluster with regress/logical.conf, runs "make installcheck" on it
# (the installed plugin and extension), and prints the diffs on failure.
# Extra arguments go to make (e.g. REGRESS=types).
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
. "$W2A_ROOT/regress/lib/pg.sh"

pg_start "$(w2a_tmpdir regress)" "$W2A_ROOT/regress/logical.conf"
cd "$W2A_ROOT"
rm -rf regress/out
mkdir -p regress/out
if ! make -s installcheck "$@"; then
	[ -f regress/out/regression.diffs ] && head -n 300 regress/out/regression.diffs >&2
	exit 1
fi
