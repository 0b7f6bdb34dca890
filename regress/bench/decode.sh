#!/usr/bin/env bash
# regress/bench/decode.sh -- plugin-level decode throughput on one fixed WAL
#
# What it is for: how fast the walsender turns WAL into output with wal2avro,
# next to test_decoding, wal2json (format-version 2) and pgoutput (proto 1),
# all reading the very same WAL.  Run on demand, never in CI; it asserts no
# timing, only that every plugin decoded every row of the workload.
#
# How: a throwaway cluster (regress/lib/pg.sh), one "pristine" slot per
# plugin created before anything is written, then one deterministic workload
# in five parts (regress/bench/lib.sh writes them), each ended by a
# CHECKPOINT (for a running-xacts record) and its LSN recorded:
#   a  bulk   ROWS_BULK-row INSERT in one transaction
#   b  small  TXNS_SMALL single-row INSERT transactions (procedure, COMMIT in the loop)
#   c  wide   ROWS_WIDE wide rows (text ~200, numeric, timestamptz, jsonb ~10 keys)
#             updated in transactions of WIDE_TXN rows
#   d  oltp   TXNS_OLTP shop transactions (order + 3 items + customer update:
#             5 row changes each) over CUSTOMERS customers
#   e  toast  ROWS_TOAST rows given a new 8 kB out-of-line body (a 4 kB
#             out-of-line column unchanged) in transactions of TOAST_TXN rows
# A run = copy the plugin's pristine slot (pg_copy_logical_replication_slot),
# move the copy to the part's start with pg_replication_slot_advance (fast
# forward: nothing is decoded into the reorder buffer), then time
#   pg_recvlogical --start --endpos=<part end> -F 0 -f FILE
# Runs are interleaved (for each repetition, for each part: every plugin in
# turn).  The walsender's CPU is the growth of the postmaster's cutime+cstime
# over the run (the walsender is the only child that exits meanwhile:
# autovacuum is off).  Output bytes are the file's size, which includes the
# one '\n' pg_recvlogical appends to every message.
#
# Environment: ROWS_BULK (1000000), TXNS_SMALL (100000), ROWS_WIDE (100000),
# WIDE_TXN (1000), TXNS_OLTP (20000), CUSTOMERS (10000), ROWS_TOAST (10000),
# TOAST_TXN (100), REPS (3), PARTS ("a b c d e"), PLUGINS ("wal2avro
# test_decoding wal2json pgoutput"; may also name wal2avro_debezium, the
# plugin with -o compat=debezium, and wal2avro_base, another
# build of the plugin installed as wal2avro_base.so, to compare two builds
# in one interleaved run), OUT (/tmp/wal2avro-bench; decode.md, the
# raw runs.tsv and decode.meta go there), CAPTURE_DIR (where pg_recvlogical
# writes; /dev/shm when writable), W2A_KEEP=1 (keep the scratch directory and
# cluster).
set -euo pipefail
export LC_ALL=C
. "$(dirname "$0")/../lib/common.sh"
. "$W2A_ROOT/regress/lib/pg.sh"
. "$W2A_ROOT/regress/bench/lib.sh"

ROWS_BULK=${ROWS_BULK:-1000000}
TXNS_SMALL=${TXNS_SMALL:-100000}
ROWS_WIDE=${ROWS_WIDE:-100000}
WIDE_TXN=${WIDE_TXN:-1000}
TXNS_OLTP=${TXNS_OLTP:-20000}
CUSTOMERS=${CUSTOMERS:-10000}
ROWS_TOAST=${ROWS_TOAST:-10000}
TOAST_TXN=${TOAST_TXN:-100}
REPS=${REPS:-3}
PLUGINS=${PLUGINS:-wal2avro test_decoding wal2json pgoutput}
OUT=${OUT:-/tmp/wal2avro-bench}
PARTS=${PARTS:-a b c d e}

bench_check_counts ROWS_BULK TXNS_SMALL ROWS_WIDE WIDE_TXN TXNS_OLTP CUSTOMERS ROWS_TOAST TOAST_TXN REPS
for p in $PARTS; do
	case $p in
		a | b | c | d | e) ;;
		*) fail "unknown part \"$p\" in PARTS (a b c d e)" ;;
	esac
done
for p in $PLUGINS; do
	case $p in
		wal2avro | wal2avro_base | wal2avro_debezium | test_decoding | wal2json | pgoutput) ;;
		*) fail "unknown plugin \"$p\" in PLUGINS" ;;
	esac
done
command -v pg_recvlogical >/dev/null || fail "pg_recvlogical not found"
[ -e "$(pg_config --pkglibdir)/wal2avro.so" ] || fail "wal2avro is not installed (make && make install)"
[ -e "$(pg_config --pkglibdir)/wal2json.so" ] || fail "wal2json is not installed (postgresql-15-wal2json)"
case " $PLUGINS " in
	*" wal2avro_base "*)
		[ -e "$(pg_config --pkglibdir)/wal2avro_base.so" ] ||
			fail "PLUGINS names wal2avro_base but no wal2avro_base.so is installed" ;;
esac
mkdir -p "$OUT"

work=$(w2a_tmpdir bench-decode)
# registered first, so it runs last (after the server stopped)
w2a_on_exit "[ \"\${W2A_KEEP:-0}\" = 1 ] && info 'kept $work' || rm -rf '$work'"
conf=$work/bench.conf
cat >"$conf" <<'EOF'
# regress/bench/decode.sh: no background work that would share the two cores
# or exit (and be counted) during a run; no timed checkpoints
autovacuum = off
checkpoint_timeout = 1h
max_wal_size = 16GB
EOF
# a second build decodes only when allow-listed too (servers with the setting)
case " $PLUGINS " in
	*" wal2avro_base "*)
		if "$W2A_PGBIN/postgres" --describe-config 2>/dev/null | grep '^output_plugin_libraries' >/dev/null; then
			echo "output_plugin_libraries = 'pgoutput, test_decoding, wal2json, wal2avro, wal2avro_base'" >>"$conf"
		fi ;;
esac
pg_start "$work/pg" "$conf"

if [ -z "${CAPTURE_DIR:-}" ]; then
	if [ -d /dev/shm ] && [ -w /dev/shm ]; then
		CAPTURE_DIR=$(mktemp -d /dev/shm/w2a-bench-decode.XXXXXX)
		w2a_on_exit "rm -rf '$CAPTURE_DIR'"
	else
		CAPTURE_DIR=$work/capture
	fi
fi
mkdir -p "$CAPTURE_DIR"

# ---------------------------------------------------------------- schema
info "schema, $ROWS_WIDE wide rows, $ROWS_TOAST TOAST rows and $CUSTOMERS customers to update later, publication"
bench_workload_sql | sql
bench_fill_sql "$ROWS_WIDE" "$ROWS_TOAST" "$CUSTOMERS" | sql
{
	bench_decode_schema_sql
	echo "CHECKPOINT;"
} | sql

# ---------------------------------------------------------------- slots
for p in $PLUGINS; do
	# wal2avro_debezium: the wal2avro build with -o compat=debezium
	sql -c "SELECT 'created' FROM pg_create_logical_replication_slot('pristine_$p', '${p%_debezium}')" >/dev/null
done

declare -A part_start part_end part_commit_end part_rows part_wal part_name part_tables
part_name=([a]=bulk [b]=small [c]=wide [d]=oltp [e]=toast)
part_tables=([a]=bulk [b]=small [c]=wide [d]="orders order_items customers" [e]=toast_docs)
part_rows=([a]=$ROWS_BULK [b]=$TXNS_SMALL [c]=$ROWS_WIDE [d]=$((5 * TXNS_OLTP)) [e]=$ROWS_TOAST)

lsn()
{
	sql -c "SELECT pg_current_wal_lsn()"
}

# Run one workload part; record where its WAL starts and ends.  The
# CHECKPOINT writes a running-xacts record after the part's last commit, so a
# slot advanced past it can restart decoding beyond the part.  A one-row
# "marker" transaction follows every part, so that each capture ends the same
# way for every plugin: pg_recvlogical stops at the first message past
# --endpos, which is the marker's BEGIN for the others but its COMMIT for
# wal2avro (its BEGIN, SCHEMA and CHANGE frames carry no LSN in the
# walsender's message header; only COMMIT does).  The marker's row is not
# counted: rows are counted per table.
workload_part()
{
	local part=$1 stmt=$2 t0
	part_start[$part]=$(lsn)
	t0=$SECONDS
	sql -c "$stmt" >/dev/null
	part_commit_end[$part]=$(lsn)
	sql -c "CHECKPOINT"
	part_end[$part]=$(lsn)
	sql -c "INSERT INTO marker (part) VALUES ('after $part')"
	part_wal[$part]=$(sql -c "SELECT pg_wal_lsn_diff('${part_end[$part]}', '${part_start[$part]}')::bigint")
	info "part $part (${part_name[$part]}): ${part_start[$part]} .. ${part_end[$part]}," \
		"$((part_wal[$part] / 1048576)) MB of WAL, written in $((SECONDS - t0)) s"
}

info "workload: parts $PARTS"
declare -A prev_part	# the part written before each one (none for the first)
last=
for part in $PARTS; do
	prev_part[$part]=$last
	workload_part "$part" "$(bench_decode_part_sql "$part")"
	last=$part
done

# ---------------------------------------------------------------- measuring
pm_pid=$(head -n 1 "$W2A_PGDATA/postmaster.pid")

pm_children()
{
	local c
	c=$(cat "/proc/$pm_pid/task/$pm_pid/children" 2>/dev/null) || true
	echo "$c"
}

# CPU ticks of the postmaster's reaped children (cutime + cstime)
pm_child_ticks()
{
	local s
	s=$(<"/proc/$pm_pid/stat")
	s=${s##*) }
	# shellcheck disable=SC2086 # split into fields on purpose
	set -- $s
	echo $((${14} + ${15}))
}

# Wait (up to 30 s) until the postmaster's children are the long-lived set
# again, i.e. every backend and walsender of ours has exited and been reaped.
wait_children_settled()
{
	local deadline=$((SECONDS + 30))
	while [ "$(pm_children)" != "$baseline_children" ]; do
		[ $SECONDS -lt $deadline ] || return 1
		sleep 0.02
	done
}

sleep 1
baseline_children=$(pm_children)
clk_tck=$(getconf CLK_TCK)

plugin_opts()
{
	case $1 in
		wal2json) echo "-o format-version=2" ;;
		pgoutput) echo "-o proto_version=1 -o publication_names=pub" ;;
		wal2avro_debezium) echo "-o compat=debezium" ;;
		*) echo "" ;;
	esac
}

# Count the row changes (inserts + updates) of the TABLES (space-separated) in
# a capture, the plugin's own way.
count_changes()
{
	local plugin=$1 file=$2 tables=$3 alt
	alt=${tables// /|}
	case $plugin in
		test_decoding)
			grep -c -E "^table public\.($alt): (INSERT|UPDATE):" "$file" || true ;;
		wal2json)
			grep -c -E "^\{\"action\":\"[IU]\",\"schema\":\"public\",\"table\":\"($alt)\"" "$file" || true ;;
		wal2avro | wal2avro_base | wal2avro_debezium | pgoutput)
			python3 - "$plugin" "$file" "$tables" <<'EOF'
# Split a pg_recvlogical capture (each message followed by one '\n') into
# messages and count inserts and updates.  wal2avro frames carry their length
# (doc/protocol.md); pgoutput protocol 1 messages are walked field by field.
import struct, sys

plugin, path = sys.argv[1], sys.argv[2]
tables = set(t.encode() for t in sys.argv[3].split())
buf = open(path, "rb").read()
n = len(buf)
pos = 0
changes = 0
names = {}                                  # relid -> table name

def cstring(p):
    return buf.index(b"\0", p) + 1

def tuple_end(p):
    natts, = struct.unpack_from(">H", buf, p)
    p += 2
    for _ in range(natts):
        kind = buf[p]
        p += 1
        if kind in (0x74, 0x62):            # 't' text, 'b' binary
            ln, = struct.unpack_from(">I", buf, p)
            p += 4 + ln
        elif kind not in (0x6E, 0x75):      # 'n' null, 'u' unchanged toast
            raise SystemExit(f"bad tuple column kind {kind:#x} at {p - 1}")
    return p

while pos < n:
    if plugin.startswith("wal2avro"):
        if buf[pos:pos + 3] != b"W2A":
            raise SystemExit(f"no frame magic at offset {pos}")
        kind = buf[pos + 4]
        blen, = struct.unpack_from(">I", buf, pos + 6)
        b = pos + 10
        if kind == 0x53:                    # 'S' schema: relid, 2 fingerprints, schema, table
            relid, = struct.unpack_from(">I", buf, b)
            p = b + 20
            ln, = struct.unpack_from(">I", buf, p)
            p += 4 + ln
            ln, = struct.unpack_from(">I", buf, p)
            names[relid] = buf[p + 4:p + 4 + ln]
        elif kind == 0x44:                  # 'D' change: op, relid
            relid, = struct.unpack_from(">I", buf, b + 1)
            if buf[b] in (0x63, 0x75) and names.get(relid) in tables:  # 'c', 'u'
                changes += 1
        pos = b + blen
    else:
        kind = buf[pos]
        p = pos + 1
        if kind == 0x42:                    # B
            p += 20
        elif kind == 0x43:                  # C
            p += 25
        elif kind == 0x4F:                  # O
            p = cstring(p + 8)
        elif kind == 0x52:                  # R
            relid, = struct.unpack_from(">I", buf, p)
            e = cstring(p + 4)
            names[relid] = buf[e:cstring(e) - 1]
            p = cstring(e) + 1
            natts, = struct.unpack_from(">H", buf, p)
            p += 2
            for _ in range(natts):
                p = cstring(p + 1) + 8
        elif kind == 0x59:                  # Y
            p = cstring(cstring(p + 4))
        elif kind == 0x49:                  # I
            relid, = struct.unpack_from(">I", buf, p)
            p = tuple_end(p + 5)
            changes += names.get(relid) in tables
        elif kind == 0x55:                  # U
            relid, = struct.unpack_from(">I", buf, p)
            p += 4
            if buf[p] in (0x4B, 0x4F):
                p = tuple_end(p + 1)
            p = tuple_end(p + 1)
            changes += names.get(relid) in tables
        elif kind == 0x44:                  # D
            p = tuple_end(p + 5)
        elif kind == 0x54:                  # T
            nrel, = struct.unpack_from(">I", buf, p)
            p += 5 + 4 * nrel
        else:
            raise SystemExit(f"unexpected pgoutput message {kind:#x} at {pos}")
        pos = p
    if pos >= n or buf[pos] != 0x0A:
        raise SystemExit(f"no message separator at offset {pos}")
    pos += 1
print(changes)
EOF
			;;
	esac
}

runs=$OUT/runs.tsv
printf 'part\tplugin\trep\trows\twall_s\tcpu_s\tbytes\n' >"$runs"

run_one()
{
	local part=$1 plugin=$2 rep=$3 file t0 t1 c0 c1 wall cpu bytes opts prev
	file=$CAPTURE_DIR/$plugin.$part
	rm -f "$file"
	sql >/dev/null <<SQL
SELECT pg_drop_replication_slot('run') FROM pg_replication_slots WHERE slot_name = 'run';
SELECT pg_copy_logical_replication_slot('pristine_$plugin', 'run');
SQL
	prev=${prev_part[$part]}
	if [ -n "$prev" ]; then
		# Two steps: an advance moves restart_lsn to at most one new
		# running-xacts record past the old confirmed position (the slot
		# takes a new restart candidate only once the pending one is
		# applied, at the end of the call), so the second step is what
		# reaches the CHECKPOINT's record after the previous part.
		sql >/dev/null <<SQL
SELECT pg_replication_slot_advance('run', '${part_commit_end[$prev]}');
SELECT pg_replication_slot_advance('run', '${part_start[$part]}');
SQL
		# The copy must restart decoding after the previous part, or the run
		# would queue (and spill) that part's changes again before skipping them.
		[ "$(sql -c "SELECT restart_lsn >= '${part_commit_end[$prev]}' AND confirmed_flush_lsn >= '${part_start[$part]}'
		             FROM pg_replication_slots WHERE slot_name = 'run'")" = t ] ||
			fail "slot copy for part $part restarts at $(sql -c "SELECT restart_lsn FROM pg_replication_slots WHERE slot_name = 'run'"), before part $prev ended"
	fi
	opts=$(plugin_opts "$plugin")
	wait_children_settled || fail "a backend did not exit before the run"
	c0=$(pm_child_ticks)
	t0=$EPOCHREALTIME
	# shellcheck disable=SC2086 # options are words
	pg_recvlogical -d "$PGDATABASE" --slot run --start --endpos="${part_end[$part]}" \
		--no-loop -F 0 -f "$file" $opts 2>"$work/recvlogical.err" ||
		{ cat "$work/recvlogical.err" >&2; fail "pg_recvlogical ($plugin, part $part) failed"; }
	t1=$EPOCHREALTIME
	if wait_children_settled; then
		c1=$(pm_child_ticks)
		cpu=$(awk -v a="$c0" -v b="$c1" -v h="$clk_tck" 'BEGIN { printf "%.2f", (b - a) / h }')
	else
		cpu=NA
	fi
	wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }')
	bytes=$(stat -c %s "$file")
	if [ "$rep" -eq 1 ]; then
		local got
		got=$(count_changes "$plugin" "$file" "${part_tables[$part]}") || fail "could not read the $plugin capture of part $part"
		[ "$got" = "${part_rows[$part]}" ] ||
			fail "$plugin decoded $got row changes in part $part, the workload made ${part_rows[$part]}"
	fi
	rm -f "$file"
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$part" "$plugin" "$rep" "${part_rows[$part]}" \
		"$wall" "$cpu" "$bytes" >>"$runs"
	info "rep $rep part $part $plugin: ${wall} s, walsender ${cpu} s CPU, $bytes bytes"
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for ((rep = 1; rep <= REPS; rep++)); do
	for part in $PARTS; do
		for plugin in $PLUGINS; do
			run_one "$part" "$plugin" "$rep"
		done
	done
done
sql -c "SELECT pg_drop_replication_slot('run')" >/dev/null

# ---------------------------------------------------------------- report
meta=$work/meta
{
	echo "server=$(sql -c 'SHOW server_version')"
	echo "ldwm=$(sql -c 'SHOW logical_decoding_work_mem')"
	echo "cores=$(nproc)"
	echo "mem=$(awk '/MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo)"
	echo "reps=$REPS"
	echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "capture=$CAPTURE_DIR"
	so=$(pg_config --pkglibdir)/wal2avro.so
	base=$(pg_config --pkglibdir)/wal2avro_base.so
	desc="sha256 $(sha256sum "$so" | cut -c1-12), installed $(date -u -r "$so" '+%Y-%m-%d %H:%M:%S UTC')"
	case " $PLUGINS " in
		*" wal2avro_base "*)
			desc+="; wal2avro_base.so: sha256 $(sha256sum "$base" | cut -c1-12), installed $(date -u -r "$base" '+%Y-%m-%d %H:%M:%S UTC')" ;;
	esac
	echo "plugin=$desc"
	echo "load=$load_before before the runs, $(cut -d' ' -f1-3 /proc/loadavg) after"
	for part in $PARTS; do
		echo "wal_$part=${part_wal[$part]}"
	done
	echo "parts=$PARTS"
	echo "desc_a=a: $ROWS_BULK-row INSERT, one transaction"
	echo "desc_b=b: $TXNS_SMALL one-row INSERT transactions"
	echo "desc_c=c: $ROWS_WIDE wide-row UPDATEs (text ~200 chars, numeric, timestamptz, jsonb 10 keys), $WIDE_TXN per transaction"
	echo "desc_d=d: $TXNS_OLTP OLTP transactions (INSERT order + 3 items, UPDATE customer: 5 row changes each) over $CUSTOMERS customers"
	echo "desc_e=e: $ROWS_TOAST UPDATEs giving a new 8 kB out-of-line body (a 4 kB out-of-line column unchanged), $TOAST_TXN per transaction"
} >"$meta"
cp "$meta" "$OUT/decode.meta"

python3 - "$runs" "$meta" "$PLUGINS" >"$OUT/decode.md" <<'EOF'
import csv, statistics, sys

runs_path, meta_path, plugins = sys.argv[1], sys.argv[2], sys.argv[3].split()
meta = dict(l.rstrip("\n").split("=", 1) for l in open(meta_path))
rows = list(csv.DictReader(open(runs_path), delimiter="\t"))

def fmt_int(x):
    return f"{x:,.0f}".replace(",", " ")

out = []
out.append("## wal2avro decode benchmark (regress/bench/decode.sh)")
out.append("")
out.append(f"PostgreSQL {meta['server']}, {meta['cores']} cores, {meta['mem']}, {meta['date']}; "
           f"logical_decoding_work_mem = {meta['ldwm']} (server default); "
           f"{meta['reps']} interleaved repetitions; medians, [min - max] over repetitions.")
out.append("Each run: pg_recvlogical --start --endpos (-F 0, output to "
           f"{meta['capture']}) on a fresh copy of a slot created before the workload, "
           "advanced to the part's start. rows/s = the part's rows / wall time of pg_recvlogical "
           "(connection and start-up included). bytes/row = output file size / rows "
           "(includes pg_recvlogical's '\\n' after each message). CPU = walsender user+system seconds; "
           "rows/CPU-s = rows / walsender CPU seconds, which waiting for a busy CPU does not inflate "
           "(wall time well above CPU time means the walsender waited: other load on the machine).")
out.append("")
out.append(f"Load average (1, 5, 15 min): {meta['load']}. wal2avro.so: {meta['plugin']}.")
out.append("")
parts = meta["parts"].split()
for part in parts:
    if f"wal_{part}" in meta:
        out.append(f"- {meta['desc_' + part]}: {int(meta['wal_' + part]) / 1048576:.0f} MB of WAL")
out.append("")
out.append("| part | plugin | rows | rows/s (median) | rows/s [min - max] | wall s (median) | walsender CPU s (median) | rows/CPU-s (median) | output bytes/row |")
out.append("|---|---|---:|---:|---:|---:|---:|---:|---:|")
for part in parts:
    for plugin in plugins:
        rs = [r for r in rows if r["part"] == part and r["plugin"] == plugin]
        if not rs:
            continue
        n = int(rs[0]["rows"])
        rates = [n / float(r["wall_s"]) for r in rs]
        walls = [float(r["wall_s"]) for r in rs]
        cpus = [float(r["cpu_s"]) for r in rs if r["cpu_s"] != "NA"]
        bpr = statistics.median(int(r["bytes"]) / n for r in rs)
        cpu_cols = (f"{statistics.median(cpus):.2f} | {fmt_int(statistics.median(n / c for c in cpus if c > 0))}"
                    if cpus and all(c > 0 for c in cpus) else "n/a | n/a")
        out.append(f"| {part} | {plugin} | {fmt_int(n)} | {fmt_int(statistics.median(rates))} | "
                   f"{fmt_int(min(rates))} - {fmt_int(max(rates))} | {statistics.median(walls):.2f} | "
                   f"{cpu_cols} | {bpr:.1f} |")
print("\n".join(out))
EOF
cat "$OUT/decode.md"
info "report in $OUT/decode.md, raw runs in $runs"
