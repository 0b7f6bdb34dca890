#!/usr/bin/env bash
# regress/bench/decode-instr.sh -- instructions per row of decoding one fixed WAL
#
# What it is for: comparing the plugin's cost per row where CPU seconds are
# too noisy to (a shared, busy machine).  Instruction counts do not depend
# on the load; they count the whole decoding (WAL reading, the reorder
# buffer, the plugin), as the walsender's CPU does, but no socket.
#
# How: a throwaway cluster with decode.sh's workload (regress/bench/lib.sh)
# in small sizes, plus two parts under REPLICA IDENTITY FULL:
#   a bulk  b small  c wide  d oltp  e toast   (as in decode.sh)
#   f wide_full   the wide UPDATE on a copy of wide with REPLICA IDENTITY FULL
#   g toast_full  the TOAST UPDATE on a copy of toast_docs with REPLICA IDENTITY FULL
# For each part and plugin a slot is created just before the part is
# written.  Then the server stops, and for each part and plugin one
# single-user backend runs under valgrind's callgrind
#   SELECT ... FROM pg_logical_slot_peek_binary_changes(slot, part end, NULL, options)
# counting only the instructions inside that function (--toggle-collect).
# Peeking does not move the slot, so any run can be repeated.  Rows are the
# part's row changes; the per-row figure includes the part's share of slot
# start-up and of the SQL function's tuplestore (it grows with the output
# bytes, which a walsender sends over its socket instead).
#
# Environment: ROWS_BULK (20000), TXNS_SMALL (5000), ROWS_WIDE (5000),
# TXNS_OLTP (1000), CUSTOMERS (500), ROWS_TOAST (1000), PARTS ("a b c d e f
# g"), PLUGINS ("wal2avro pgoutput"; wal2avro_base: another build installed
# as wal2avro_base.so; wal2avro_debezium: wal2avro with -o compat=debezium), OUT (/tmp/wal2avro-bench; decode-instr.md and the
# callgrind files, for callgrind_annotate, go there), W2A_KEEP=1 (keep the
# cluster).
set -euo pipefail
export LC_ALL=C
. "$(dirname "$0")/../lib/common.sh"
. "$W2A_ROOT/regress/lib/pg.sh"
. "$W2A_ROOT/regress/bench/lib.sh"

ROWS_BULK=${ROWS_BULK:-20000}
TXNS_SMALL=${TXNS_SMALL:-5000}
ROWS_WIDE=${ROWS_WIDE:-5000}
TXNS_OLTP=${TXNS_OLTP:-1000}
CUSTOMERS=${CUSTOMERS:-500}
ROWS_TOAST=${ROWS_TOAST:-1000}
WIDE_TXN=1000
TOAST_TXN=100
PARTS=${PARTS:-a b c d e f g}
PLUGINS=${PLUGINS:-wal2avro pgoutput}
OUT=${OUT:-/tmp/wal2avro-bench}

bench_check_counts ROWS_BULK TXNS_SMALL ROWS_WIDE TXNS_OLTP CUSTOMERS ROWS_TOAST
for p in $PARTS; do
	case $p in a | b | c | d | e | f | g) ;; *) fail "unknown part \"$p\" (a to g)" ;; esac
done
# the output plugin a PLUGINS entry decodes with
plugin_name()
{
	case $1 in
		wal2avro_debezium) echo wal2avro ;;
		*) echo "$1" ;;
	esac
}
for p in $PLUGINS; do
	case $p in
		wal2avro | wal2avro_base | wal2avro_debezium | pgoutput)
			[ "$p" = pgoutput ] || [ -e "$(pg_config --pkglibdir)/$(plugin_name "$p").so" ] ||
				fail "$(plugin_name "$p").so is not installed" ;;
		*) fail "unknown plugin \"$p\" in PLUGINS (wal2avro, wal2avro_base, wal2avro_debezium, pgoutput)" ;;
	esac
done
command -v valgrind >/dev/null || fail "valgrind not found"
mkdir -p "$OUT"

work=$(w2a_tmpdir bench-decode-instr)
w2a_on_exit "[ \"\${W2A_KEEP:-0}\" = 1 ] && info 'kept $work' || rm -rf '$work'"
conf=$work/bench.conf
cat >"$conf" <<'EOF'
# regress/bench/decode-instr.sh
autovacuum = off
checkpoint_timeout = 1h
max_wal_size = 16GB
max_replication_slots = 40
EOF
if "$W2A_PGBIN/postgres" --describe-config 2>/dev/null | grep '^output_plugin_libraries' >/dev/null; then
	echo "output_plugin_libraries = 'pgoutput, test_decoding, wal2json, wal2avro, wal2avro_base'" >>"$conf"
fi
pg_start "$work/pg" "$conf"

info "schema and the rows the updates start from"
bench_workload_sql | sql
bench_fill_sql "$ROWS_WIDE" "$ROWS_TOAST" "$CUSTOMERS" | sql
{
	bench_decode_schema_sql
	cat <<'SQL'
CREATE TABLE wide_full (LIKE wide INCLUDING ALL);
INSERT INTO wide_full SELECT * FROM wide;
ALTER TABLE wide_full REPLICA IDENTITY FULL;
CREATE TABLE toast_full (LIKE toast_docs INCLUDING ALL);
ALTER TABLE toast_full ALTER body SET STORAGE EXTERNAL, ALTER notes SET STORAGE EXTERNAL;
INSERT INTO toast_full SELECT * FROM toast_docs;
ALTER TABLE toast_full REPLICA IDENTITY FULL;
VACUUM ANALYZE wide_full, toast_full;
CHECKPOINT;
SQL
} | sql

# The update of part c or e on its REPLICA IDENTITY FULL copy: N rows, BATCH a transaction
update_full_sql()
{
	local table=$1 set=$2 n=$3 batch=$4
	echo "DO \$\$ BEGIN FOR lo IN 1..$n BY $batch LOOP UPDATE $table SET $set" \
		"WHERE id BETWEEN lo AND lo + $batch - 1; COMMIT; END LOOP; END \$\$"
}

declare -A part_end part_rows part_name
part_name=([a]=bulk [b]=small [c]=wide [d]=oltp [e]=toast [f]=wide_full [g]=toast_full)
for part in $PARTS; do
	case $part in
		a) part_rows[$part]=$ROWS_BULK ;;
		b) part_rows[$part]=$TXNS_SMALL ;;
		c | f) part_rows[$part]=$ROWS_WIDE ;;
		d) part_rows[$part]=$((5 * TXNS_OLTP)) ;;
		e | g) part_rows[$part]=$ROWS_TOAST ;;
	esac
	case $part in
		f) stmt=$(update_full_sql wide_full "amount = amount + 1, ts = ts + interval '1 second'" \
			"$ROWS_WIDE" "$WIDE_TXN") ;;
		g) stmt=$(update_full_sql toast_full "rev = rev + 1, body = bench_toast_body(id, rev + 1, 8)" \
			"$ROWS_TOAST" "$TOAST_TXN") ;;
		*) stmt=$(bench_decode_part_sql "$part") ;;
	esac
	for p in $PLUGINS; do
		sql -c "SELECT 'created' FROM pg_create_logical_replication_slot('s_${part}_$p', '$(plugin_name "$p")')" >/dev/null
	done
	sql -c "$stmt" >/dev/null
	part_end[$part]=$(sql -c "SELECT pg_current_wal_lsn()")
	# the peek decodes up to the first commit past the end: the marker's
	sql -c "INSERT INTO marker (part) VALUES ('after $part')" >/dev/null
	info "part $part (${part_name[$part]}): ${part_rows[$part]} rows, ends at ${part_end[$part]}"
done
sql -c "CHECKPOINT" >/dev/null
pg_stop

plugin_opts()
{
	case $1 in
		pgoutput) echo ", 'proto_version', '1', 'publication_names', 'pub'" ;;
		wal2avro_debezium) echo ", 'compat', 'debezium'" ;;
		*) echo "" ;;
	esac
}

results=$work/results.tsv
: >"$results"
for part in $PARTS; do
	for p in $PLUGINS; do
		# written by the server's owner, into the cluster's directory
		cg=$W2A_PGDIR/callgrind.decode.$part.$p
		echo "SELECT count(*), sum(length(data)) FROM pg_logical_slot_peek_binary_changes('s_${part}_$p', '${part_end[$part]}', NULL$(plugin_opts "$p"));" |
			pg_as_owner valgrind --tool=callgrind --toggle-collect=pg_logical_slot_peek_binary_changes \
				--callgrind-out-file="$cg" "$W2A_PGBIN/postgres" --single -D "$W2A_PGDATA" -j postgres \
				>"$work/single.out" 2>"$work/single.err" ||
			{ tail -n 20 "$work/single.err" >&2; fail "single-user decoding of part $part with $p failed"; }
		ir=$(awk '/^(summary|totals):/ { print $2; exit }' "$cg")
		bytes=$(sed -n 's/.*2: sum = "\([0-9]*\)".*/\1/p' "$work/single.out" | head -n 1)
		[ -n "$ir" ] && [ -n "$bytes" ] || fail "no instruction count or output size for part $part, $p"
		cp "$cg" "$OUT/"
		printf '%s\t%s\t%s\t%s\t%s\n' "$part" "$p" "${part_rows[$part]}" "$ir" "$bytes" >>"$results"
		info "part $part $p: $ir instructions, $((ir / part_rows[$part])) a row, $bytes bytes"
	done
done

{
	echo "## decode instructions per row (regress/bench/decode-instr.sh)"
	echo
	echo "PostgreSQL $(pg_config --version | sed 's/^PostgreSQL //'), callgrind Ir inside pg_logical_slot_peek_binary_changes" \
		"of one single-user backend; $(date -u '+%Y-%m-%d %H:%M UTC')."
	echo
	echo "| part | plugin | rows | instructions/row | output bytes/row |"
	echo "|---|---|---:|---:|---:|"
	while IFS=$'\t' read -r part p rows ir bytes; do
		echo "| $part ${part_name[$part]} | $p | $rows | $((ir / rows)) | $((bytes / rows)) |"
	done <"$results"
} >"$OUT/decode-instr.md"
cat "$OUT/decode-instr.md"
info "report in $OUT/decode-instr.md"
