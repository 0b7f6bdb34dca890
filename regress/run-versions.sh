#!/usr/bin/env bash
# regress/run-versions.sh -- the plugin's suites on every PostgreSQL major built from source
#
# "make test-versions" runs this (issue 12; README's version table).  First
# regress/tools/pg-versions.sh builds what the cache lacks of its default
# majors (or waits for a run already building them), then for every major
# in the cache (regress/lib/pg_cache.sh: each CACHE/pg<N> with a
# bin/pg_config) it copies the source tree into a scratch directory (the
# tree's own build, for Debian's 15, stays as it is), builds the plugin and
# the relay there against that major, installs the plugin into the major's
# prefix, and runs the pg_regress suite and the isolation suite; on the
# newest major also the relay's streaming and kill -9 end-to-end tests
# and the standby and failover ones (regress/e2e/0020, 0021, 0070, 0071;
# the last two need 16+ and 17+ and say SKIP on older servers; the relay is
# built on Debian's libpq, which speaks to any server version).  Prints one PASS/FAIL line per (major,
# suite) and exits non-zero when any failed.
#
# W2A_PG_VERSIONS="PREFIX..." tests those prefixes instead of the cache's,
# and builds nothing.  W2A_VERSIONS_E2E (default: 0020-relay-stream
# 0021-relay-kill9 0070-relay-standby 0071-relay-failover; empty for none) names the end-to-end tests run on the
# newest major.
# Logs and scratch trees stay in the folder printed at the end.
set -uo pipefail
. "$(dirname "$0")/lib/common.sh"
. "$W2A_ROOT/regress/lib/pg_cache.sh"
cd "$W2A_ROOT"

work=$(mktemp -d /tmp/wal2avro-versions.XXXXXX)
chmod 755 "$work"
passed=0
failed=0
failed_names=()

# The installs to test: the override, or every pg<N> of the cache once
# pg-versions.sh has built the defaults there.
if [ -n "${W2A_PG_VERSIONS:-}" ]; then
	read -r -a prefixes <<<"$W2A_PG_VERSIONS"
else
	regress/tools/pg-versions.sh || { echo "FAIL building the PostgreSQL majors (regress/tools/pg-versions.sh)"; exit 1; }
	cache=$(w2a_pg_cache)
	prefixes=()
	for p in "$cache"/pg[0-9][0-9]; do
		[ -x "$p/bin/pg_config" ] && prefixes+=("$p")
	done
fi
[ ${#prefixes[@]} -gt 0 ] || { echo "FAIL no PostgreSQL major to test"; exit 1; }

major_of()
{
	"$1/bin/pg_config" --version | sed -n 's/^PostgreSQL \([0-9][0-9]*\).*/\1/p'
}

newest=
for p in "${prefixes[@]}"; do
	m=$(major_of "$p")
	[ -n "$m" ] || { echo "FAIL $p: no PostgreSQL major from its pg_config"; exit 1; }
	if [ -z "$newest" ] || [ "$m" -gt "$(major_of "$newest")" ]; then
		newest=$p
	fi
done

# Run one suite (a command, in the scratch tree, with the major's programs
# first in PATH) and print its line.
run_suite()
{
	local label=$1 tree=$2 prefix=$3 log
	shift 3
	log=$work/$(echo "$label" | tr ' /' '__').log
	local start=$SECONDS
	if (cd "$tree" && PATH=$prefix/bin:$PATH W2A_TEST_OUT=$work/out "$@") >"$log" 2>&1; then
		passed=$((passed + 1))
		printf 'PASS %-36s %4ds\n' "$label" $((SECONDS - start))
	else
		failed=$((failed + 1))
		failed_names+=("$label")
		printf 'FAIL %-36s %4ds (log: %s)\n' "$label" $((SECONDS - start)) "$log"
		tail -n 60 "$log" | sed 's/^/    | /'
		return 1
	fi
}

# A copy of the source tree without build output: git's files when this is
# a checkout (tracked, and new ones not ignored), else everything but the
# objects.
copy_tree()
{
	local dest=$1
	mkdir -p "$dest"
	if git -C "$W2A_ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		# (a tracked file deleted in the work tree is skipped)
		git -C "$W2A_ROOT" ls-files -z --cached --others --exclude-standard |
			tar -C "$W2A_ROOT" --null -T - --ignore-failed-read -cf - 2>/dev/null |
			tar -C "$dest" -xf -
	else
		tar -C "$W2A_ROOT" --exclude=./regress/out --exclude='*.o' --exclude='*.so' \
			--exclude=./relay/wal2avro-relay -cf - . | tar -C "$dest" -xf -
	fi
	chmod 755 "$dest"
}

mkdir -p "$work/out"
chmod 755 "$work/out"
for prefix in "${prefixes[@]}"; do
	m=$(major_of "$prefix")
	tree=$work/src-pg$m
	copy_tree "$tree"
	# the plugin into the major's prefix, the relay into the scratch folder
	run_suite "pg$m build" "$tree" "$prefix" bash -c \
		'make -s -j"$(nproc)" PG_CONFIG="$0/bin/pg_config" &&
		 make -s PG_CONFIG="$0/bin/pg_config" PREFIX="$1" install' "$prefix" "$work/relay-pg$m" ||
		continue
	run_suite "pg$m pg_regress" "$tree" "$prefix" regress/run-regress.sh ISOLATION=
	run_suite "pg$m isolation" "$tree" "$prefix" regress/run-regress.sh REGRESS=
	if [ "$prefix" = "$newest" ]; then
		for t in ${W2A_VERSIONS_E2E-0020-relay-stream 0021-relay-kill9 0070-relay-standby 0071-relay-failover}; do
			run_suite "pg$m $t" "$tree" "$prefix" bash "regress/e2e/$t.sh"
		done
	fi
done

echo
if [ $failed -gt 0 ]; then
	echo "failed: ${failed_names[*]}"
fi
echo "$passed passed, $failed failed (logs: $work)"
[ $failed -eq 0 ]
