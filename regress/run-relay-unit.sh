#!/bin/bash
#-------------------------------------------------------------------------
#
# run-relay-unit.sh
#	Run the relay's unit test programs and add up their results.
#
# Usage: regress/run-relay-unit.sh regress/relay/test_frames ...
#
# Each argument is a test binary, built by the Makefile with ASan and UBSan
# (LeakSanitizer included).  Each program prints one last line
# "test_x: N passed, M failed"; this script prints every program's output,
# then "relay-unit: N passed, M failed", and exits 1 if anything failed, a
# program exited non-zero, or a program died before its summary line (a
# sanitizer report ends the program with an error exit).
#
# W2A_VALGRIND=1 also runs each test under valgrind.  Valgrind cannot run a
# binary built with AddressSanitizer, so for that pass the script compiles a
# plain copy of each test (its .c next to the binary, linked with every
# relay/*.c but main.c, as the Makefile does) into a temporary directory,
# with RELAY_CC (default cc) and the library flags RELAY_DEPS_CFLAGS and
# RELAY_DEPS_LIBS (default: asked from the Makefile).  Its output lines start
# with "valgrind: " and its counts join the total; any valgrind error or
# definite leak fails the run.
#
# Copyright (c) 2026, the wal2avro authors
#
# regress/run-relay-unit.sh
#
#-------------------------------------------------------------------------
set -u

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

if [ $# -eq 0 ]; then
	echo "usage: $0 TEST_BINARY..." >&2
	exit 2
fi

total_passed=0
total_failed=0
tmpdir=

cleanup()
{
	[ -n "$tmpdir" ] && rm -rf "$tmpdir"
}
trap cleanup EXIT

# run_one NAME COMMAND...: run a test, print its output, add up its counts.
run_one()
{
	local name=$1 out rc summary passed failed
	shift
	out=$("$@" 2>&1)
	rc=$?
	case $name in
		valgrind:*) [ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/valgrind: /' ;;
		*) [ -n "$out" ] && printf '%s\n' "$out" ;;
	esac
	summary=$(printf '%s\n' "$out" | grep -E "^test_[A-Za-z0-9_]+: [0-9]+ passed, [0-9]+ failed$" | tail -n 1)
	if [ -z "$summary" ]; then
		echo "$name: no summary line (exit status $rc): the program died" >&2
		total_failed=$((total_failed + 1))
		return
	fi
	passed=$(printf '%s\n' "$summary" | sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed$/\1/')
	failed=$(printf '%s\n' "$summary" | sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed$/\2/')
	total_passed=$((total_passed + passed))
	total_failed=$((total_failed + failed))
	if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
		echo "$name: exit status $rc after its summary (a sanitizer or valgrind report?)" >&2
		total_failed=$((total_failed + 1))
	fi
}

# Absolute paths, since the valgrind build runs from the repository root.
tests=()
for t in "$@"; do
	case $t in
		/*) tests+=("$t") ;;
		*) tests+=("$PWD/$t") ;;
	esac
done

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:exitcode=86}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

for t in "${tests[@]}"; do
	if [ ! -x "$t" ]; then
		echo "$(basename "$t"): not an executable (was it built?)" >&2
		total_failed=$((total_failed + 1))
		continue
	fi
	run_one "$(basename "$t")" "$t"
done

if [ "${W2A_VALGRIND:-0}" = 1 ]; then
	if ! command -v valgrind >/dev/null; then
		echo "W2A_VALGRIND=1 but valgrind is not installed" >&2
		total_failed=$((total_failed + 1))
	else
		tmpdir=$(mktemp -d "${TMPDIR:-/tmp}/relay-unit.XXXXXX")
		cd "$root" || exit 2
		if [ -z "${RELAY_DEPS_LIBS:-}" ]; then
			# shellcheck disable=SC2016 # make expands these, not the shell
			deps=$(printf 'print-relay-deps:\n\t@echo "$(RELAY_DEPS_CFLAGS)"; echo "$(RELAY_DEPS_LIBS)"\n' |
				make -s --no-print-directory -f Makefile -f - print-relay-deps)
			RELAY_DEPS_CFLAGS=$(printf '%s\n' "$deps" | sed -n 1p)
			RELAY_DEPS_LIBS=$(printf '%s\n' "$deps" | sed -n 2p)
		fi
		lib_srcs=()
		for src in relay/*.c; do
			[ "$src" = relay/main.c ] || lib_srcs+=("$src")
		done
		for t in "${tests[@]}"; do
			name=$(basename "$t")
			# shellcheck disable=SC2086
			if ! ${RELAY_CC:-cc} -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O1 -g \
				${RELAY_DEPS_CFLAGS:-} -Iplugin -Irelay \
				-o "$tmpdir/$name" "$t.c" "${lib_srcs[@]}" \
				${RELAY_DEPS_LIBS:-}; then
				echo "valgrind:$name: could not build a plain copy" >&2
				total_failed=$((total_failed + 1))
				continue
			fi
			run_one "valgrind:$name" valgrind --quiet --error-exitcode=97 \
				--leak-check=full --errors-for-leak-kinds=definite,indirect \
				"$tmpdir/$name"
		done
	fi
fi

echo "relay-unit: $total_passed passed, $total_failed failed"
[ "$total_failed" -eq 0 ]
