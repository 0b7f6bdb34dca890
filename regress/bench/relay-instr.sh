#!/usr/bin/env bash
# regress/bench/relay-instr.sh -- relay instructions per row on one fixed frame stream
#
# What it is for: comparing the relay's cost per row where CPU seconds are
# too noisy to (a shared, busy machine), for two builds side by side: the
# relay of BASE (a git revision) and the relay of this tree.  Instruction
# counts do not depend on the load.
#
# How: a throwaway cluster writes relay.sh's two workloads (regress/bench/
# lib.sh) in small sizes, each into its own slot, captured once with
#   pg_recvlogical -P wal2avro -o protocol-version=1 -o topic-prefix=wal2avro
# (the options the relay sends):
#   bulk  ROWS_BULK rows inserted in one transaction
#   oltp  TXNS_OLTP shop transactions over CUSTOMERS customers (5 rows each)
# Then regress/bench/relay_feed.c is built against each tree's relay/ and
# fed each capture: frames_parse and writer_handle_frame per frame, as the
# stream loop does, into librdkafka's mock cluster (in process), until every
# record is acknowledged.  Counted under valgrind's callgrind: the main
# thread inside relay_feed_frames (--toggle-collect, --separate-threads), so
# the parsing, the records path, librdkafka's produce calls and delivery
# reports, not librdkafka's broker threads nor the mock brokers (their work
# depends on timing).  Metrics are off and libpq's read is not in it.  Rows
# are the captured CHANGE frames.
#
# Identity: each build also runs each capture outside valgrind and writes
# every acknowledged record (topic, partition, offset, key, value, headers;
# not the partition and offset of a record without a key, which librdkafka
# picks at random); the two builds' records must be equal, or the script
# fails.  A third
# capture, mixed, is checked so too (not counted): updates, deletes (and so
# tombstones), key changes, a table without a key, logical messages in and
# outside a transaction, a heartbeat message.
#
# Environment: BASE (the revision to compare with; default: the merge base
# with main, else HEAD), ROWS_BULK (20000), TXNS_OLTP (2000), CUSTOMERS
# (500), REPS (1: callgrind runs per build and workload; the table shows the
# lowest), OUT (/tmp/wal2avro-bench; relay-instr.md and the callgrind files
# go there), W2A_KEEP=1 (keep the scratch directory).
set -euo pipefail
export LC_ALL=C
. "$(dirname "$0")/../lib/common.sh"
. "$W2A_ROOT/regress/lib/pg.sh"
. "$W2A_ROOT/regress/bench/lib.sh"

: "${ROWS_BULK:=20000}" "${TXNS_OLTP:=2000}" "${CUSTOMERS:=500}" "${REPS:=1}" "${OUT:=/tmp/wal2avro-bench}"
if [ -z "${BASE:-}" ]; then
	BASE=$(git -C "$W2A_ROOT" merge-base HEAD main 2>/dev/null || git -C "$W2A_ROOT" rev-parse HEAD)
fi

bench_check_counts ROWS_BULK TXNS_OLTP CUSTOMERS REPS
command -v valgrind >/dev/null || fail "valgrind not found"
command -v pg_recvlogical >/dev/null || fail "pg_recvlogical not found"
[ -e "$(pg_config --pkglibdir)/wal2avro.so" ] || fail "wal2avro is not installed: run make install"
base_rev=$(git -C "$W2A_ROOT" rev-parse --short "$BASE") || fail "BASE \"$BASE\" is not a revision"
mkdir -p "$OUT"

work=$(w2a_tmpdir bench-relay-instr)
w2a_on_exit "[ \"\${W2A_KEEP:-0}\" = 1 ] && info 'kept $work' || rm -rf '$work'"

# ------------------------------------------------------------ the two builds
# relay_feed.c from this tree, against each tree's relay/ (as the Makefile
# builds the relay: RELAY_CFLAGS -O2 -g)
deps_cflags=$(pkg-config --cflags libpq rdkafka avro-c libmicrohttpd libcurl jansson)
deps_libs=$(pkg-config --libs libpq rdkafka avro-c libmicrohttpd libcurl jansson)
build_feed()
{
	local tree=$1 out=$2 srcs
	srcs=$(ls "$tree"/relay/*.c | grep -v '/main\.c$')
	# shellcheck disable=SC2086 # flag lists split at spaces
	cc -std=c11 -D_GNU_SOURCE -O2 -g $deps_cflags -I"$tree/plugin" -I"$tree/relay" \
		-o "$out" "$W2A_ROOT/regress/bench/relay_feed.c" $srcs $deps_libs ||
		fail "could not build relay_feed against $tree"
}
mkdir -p "$work/base"
git -C "$W2A_ROOT" archive "$BASE" relay plugin/wal2avro_protocol.h | tar -x -C "$work/base"
build_feed "$work/base" "$work/feed.base"
build_feed "$W2A_ROOT" "$work/feed.new"
tree_desc="$(git -C "$W2A_ROOT" rev-parse --short HEAD)"
git -C "$W2A_ROOT" diff --quiet HEAD -- relay || tree_desc="$tree_desc + uncommitted relay/ changes"
info "builds: base $base_rev, new $tree_desc"

# ------------------------------------------------------------ the captures
conf=$work/bench.conf
cat >"$conf" <<'EOF'
# regress/bench/relay-instr.sh
autovacuum = off
max_wal_size = 4GB
EOF
pg_start "$work/pg" "$conf"
bench_workload_sql | sql
bench_fill_sql 1 1 "$CUSTOMERS" | sql
sql -c "CREATE TABLE mixed (id int PRIMARY KEY, v text); CREATE TABLE mixed_nokey (v text)" >/dev/null

declare -A rows
for w in bulk oltp mixed; do
	pg_recvlogical -d "$PGDATABASE" --slot "s_$w" --create-slot -P wal2avro ||
		fail "pg_recvlogical --create-slot failed"
	case $w in
		bulk) ROWS_BULK=$ROWS_BULK sql -c "$(bench_decode_part_sql a)" >/dev/null
			rows[$w]=$ROWS_BULK ;;
		oltp) sql -c "$(TXNS_OLTP=$TXNS_OLTP CUSTOMERS=$CUSTOMERS bench_decode_part_sql d)" >/dev/null
			rows[$w]=$((5 * TXNS_OLTP)) ;;
		mixed) sql >/dev/null <<'SQL'
INSERT INTO mixed SELECT g, 'v' || g FROM generate_series(1, 300) g;
UPDATE mixed SET v = v || '!' WHERE id % 3 = 0;
UPDATE mixed SET id = id + 1000 WHERE id % 7 = 0;
DELETE FROM mixed WHERE id % 5 = 0;
INSERT INTO mixed_nokey SELECT 'n' || g FROM generate_series(1, 50) g;
BEGIN;
INSERT INTO mixed VALUES (5000, 'in a transaction with a message');
SELECT pg_logical_emit_message(true, 'app.prefix', 'transactional content');
COMMIT;
SELECT pg_logical_emit_message(false, 'app.other', 'outside');
SELECT pg_logical_emit_message(false, 'wal2avro.heartbeat', '');
SQL
			rows[$w]="a few hundred" ;;
	esac
	end=$(sql -c "SELECT pg_current_wal_lsn()")
	pg_recvlogical -d "$PGDATABASE" --slot "s_$w" --start --no-loop --endpos "$end" \
		-o protocol-version=1 -o topic-prefix=wal2avro -f "$work/$w.bin" ||
		fail "pg_recvlogical could not capture $w"
	info "$w: ${rows[$w]} rows, $(stat -c %s "$work/$w.bin") bytes of frames"
done
pg_stop

# ------------------------------------------------------------ identity
identical=()
for w in bulk oltp mixed; do
	for b in base new; do
		"$work/feed.$b" "$work/$w.bin" "$work/$w.$b.dump" >"$work/$w.$b.out" ||
			fail "relay_feed ($b) failed on $w"
		sort -o "$work/$w.$b.dump" "$work/$w.$b.dump"
	done
	n=$(wc -l <"$work/$w.new.dump")
	cmp -s "$work/$w.base.dump" "$work/$w.new.dump" ||
		fail "$w: the records differ between base and new ($(diff "$work/$w.base.dump" "$work/$w.new.dump" | head -c 600))"
	info "$w: $n records (topic, partition, offset, key, value, headers) identical in both builds"
	identical[${#identical[@]}]="$w $n"
done

# ------------------------------------------------------------ callgrind
results=$work/results.tsv
: >"$results"
for w in bulk oltp; do
	for rep in $(seq "$REPS"); do
		for b in base new; do
			cg=$work/callgrind.$w.$b.$rep
			valgrind --tool=callgrind --toggle-collect=relay_feed_frames --separate-threads=yes \
				--callgrind-out-file="$cg" "$work/feed.$b" "$work/$w.bin" >"$work/cg.out" 2>"$work/cg.err" ||
				{ tail -n 20 "$work/cg.err" >&2; fail "relay_feed ($b) under callgrind failed on $w"; }
			# the main thread's file is the one with the most instructions
			# collected: only it enters relay_feed_frames
			ir=0
			for f in "$cg"-*; do
				v=$(awk '/^(summary|totals):/ { print $2; exit }' "$f")
				[ "${v:-0}" -le "$ir" ] || { ir=$v; main=$f; }
			done
			[ "$ir" -gt 0 ] || fail "no instruction count for $w ($b)"
			cp "$main" "$OUT/callgrind.relay.$w.$b"
			printf '%s\t%s\t%s\t%s\n' "$w" "$b" "$rep" "$ir" >>"$results"
			info "$w $b run $rep: $ir instructions, $((ir / rows[$w])) a row"
		done
	done
done

{
	echo "## relay instructions per row (regress/bench/relay-instr.sh)"
	echo
	echo "callgrind Ir of the main thread inside relay_feed_frames (regress/bench/relay_feed.c: frames_parse," \
		"writer_handle_frame, produce calls and delivery reports into librdkafka's mock cluster; metrics off," \
		"librdkafka's threads not counted), librdkafka $(pkg-config --modversion rdkafka);" \
		"base $base_rev, new $tree_desc; lowest of $REPS run(s); $(date -u '+%Y-%m-%d %H:%M UTC')."
	echo
	echo "| workload | rows | base instructions/row | new instructions/row | new/base |"
	echo "|---|---:|---:|---:|---:|"
	for w in bulk oltp; do
		b=$(awk -F'\t' -v w="$w" '$1 == w && $2 == "base" { if (m == "" || $4 < m) m = $4 } END { print m }' "$results")
		n=$(awk -F'\t' -v w="$w" '$1 == w && $2 == "new" { if (m == "" || $4 < m) m = $4 } END { print m }' "$results")
		awk -v w="$w" -v r="${rows[$w]}" -v b="$b" -v n="$n" \
			'BEGIN { printf "| %s | %d | %d | %d | %.2f |\n", w, r, b / r, n / r, n / b }'
	done
	echo
	echo "Records identical in both builds (topic, partition, offset, key, value, headers):" \
		"${identical[*]/%/ records}."
} >"$OUT/relay-instr.md"
cat "$OUT/relay-instr.md"
info "report in $OUT/relay-instr.md"
