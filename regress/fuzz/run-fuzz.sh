#!/bin/bash
#-------------------------------------------------------------------------
#
# run-fuzz.sh
#	Build the libFuzzer target for relay/frames.c and run it for a fixed
#	time; fail on any crash, sanitizer report, timeout or leak.
#
# Usage: regress/fuzz/run-fuzz.sh SECONDS
#
# Builds regress/fuzz/fuzz_frames.c with clang (CLANG, default clang, else
# clang-14) and -fsanitize=fuzzer,address,undefined, then runs it on the
# seed corpus regress/fuzz/corpus/ (made by make-corpus.py) for SECONDS.
# New inputs go to a working corpus and crash inputs to artifacts, both
# under W2A_FUZZ_OUT (default ${TMPDIR:-/tmp}/wal2avro-fuzz), which is kept
# so a crash can be replayed: "$W2A_FUZZ_OUT/fuzz_frames CRASH-FILE".
# Prints libFuzzer's final stats and a last line
# "fuzz_frames: N runs in S s (R exec/s), ok|FAILED".
#
# Copyright (c) 2026, the wal2avro authors
#
# regress/fuzz/run-fuzz.sh
#
#-------------------------------------------------------------------------
set -u

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
seconds=${1:-}

if ! [[ "$seconds" =~ ^[1-9][0-9]*$ ]]; then
	echo "usage: $0 SECONDS" >&2
	exit 2
fi

clang=${CLANG:-}
if [ -z "$clang" ]; then
	for c in clang clang-14; do
		if command -v "$c" >/dev/null; then
			clang=$c
			break
		fi
	done
fi
if [ -z "$clang" ]; then
	echo "run-fuzz.sh: clang not found (set CLANG)" >&2
	exit 2
fi

out=${W2A_FUZZ_OUT:-${TMPDIR:-/tmp}/wal2avro-fuzz}
mkdir -p "$out/corpus" "$out/artifacts" || exit 2
bin=$out/fuzz_frames

cd "$root" || exit 2
if ! "$clang" -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -g -O1 \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-Iplugin -Irelay -o "$bin" regress/fuzz/fuzz_frames.c relay/frames.c relay/log.c; then
	echo "fuzz_frames: build failed" >&2
	exit 2
fi

log=$out/fuzz.log
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
"$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
	-print_final_stats=1 -dict=regress/fuzz/frames.dict \
	-artifact_prefix="$out/artifacts/" \
	"$out/corpus" regress/fuzz/corpus >"$log" 2>&1
rc=$?

grep -E '^(INFO: seed corpus|#[0-9]+ +DONE|stat::|==[0-9]+==|SUMMARY|artifact_prefix|Test unit written)' "$log"
runs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+)/\1/p' "$log")
rate=$(sed -nE 's/^stat::average_exec_per_sec: *([0-9]+)/\1/p' "$log")
if [ "$rc" -ne 0 ]; then
	tail -n 40 "$log" >&2
	echo "fuzz_frames: ${runs:-?} runs in $seconds s (${rate:-?} exec/s), FAILED (exit $rc; log $log, artifacts in $out/artifacts)"
	exit 1
fi
echo "fuzz_frames: ${runs:-?} runs in $seconds s (${rate:-?} exec/s), ok"
