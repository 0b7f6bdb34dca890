#!/usr/bin/env bash
# regress/bench/snapshot.sh -- the relay's initial snapshot against a COPY floor
#
# What it is for: how long wal2avro-relay --snapshot-mode=initial_only takes to
# put every row of a big table into Kafka (read under the slot's exported
# snapshot through wal2avro.snapshot_frames(), every record acknowledged), next
# to how long PostgreSQL takes just to dump the same table.  Run on demand,
# never in CI; nothing is asserted about timings.  One throwaway PostgreSQL
# (regress/lib/pg.sh), one Kafka broker (regress/lib/kafka.sh), one relay
# (regress/lib/relay.sh):
#
#  0) load: ROWS rows into bulk (id bigint PK, name text ~20 chars,
#     amount numeric(12,2), created timestamptz, flag bool; the shape of
#     relay.sh's bulk table), then VACUUM (FREEZE, ANALYZE) and CHECKPOINT so
#     that no reader sets hint bits or writes pages.
#  1) the floor, interleaved, each twice (median = mean of the two):
#     - COPY bulk TO '/dev/null' (the server writes the file, as superuser);
#     - psql -c "COPY (SELECT * FROM bulk) TO STDOUT" >/dev/null (the rows
#       cross the socket into psql).
#     Wall time of the psql command, connection included (a few ms).
#  2) the relay with --snapshot-mode=initial_only on a new slot: wall time from
#     its start to its exit 0 (it exits only once the snapshot is complete and
#     every record is acknowledged by the broker), polled every 0.2 s.  While
#     it runs, every 0.2 s: its VmRSS (max kept) and VmHWM (the last sample
#     before it exits), its CPU ticks (all threads; read once more from
#     /proc/PID/stat while it is a zombie, so the final value is exact), and
#     the CPU ticks of the snapshot reader backend (application_name
#     'wal2avro-relay snapshot' in pg_stat_activity; its last sample before it
#     exits, so up to 0.2 s short) and of the broker JVM.  Then the records in
#     Kafka: the sum of the table topic's high watermarks (kcat -Q), which must
#     equal ROWS.
#
# Environment: ROWS (10000000), RELAY_ARGS (more relay options, split at
# spaces, e.g. "--max-in-flight-bytes=16MB"), TIMEOUT (1800: seconds the relay may take
# before it is killed and the run fails), OUT (/tmp/wal2avro-bench;
# snapshot.md goes there).  W2A_KEEP=1 keeps the scratch directory.
set -euo pipefail
export LC_ALL=C
. "$(dirname "$0")/../lib/common.sh"
. "$W2A_ROOT/regress/lib/pg.sh"
. "$W2A_ROOT/regress/lib/kafka.sh"
. "$W2A_ROOT/regress/lib/relay.sh"
. "$W2A_ROOT/regress/bench/lib.sh"

ROWS=${ROWS:-10000000}
TIMEOUT=${TIMEOUT:-1800}
OUT=${OUT:-/tmp/wal2avro-bench}
SLOT=bench_snapshot
TOPIC=wal2avro.public.bulk

for v in ROWS TIMEOUT; do
	[[ "${!v}" =~ ^[1-9][0-9]*$ ]] || fail "$v must be a positive integer (is \"${!v}\")"
done
[ -x "$W2A_RELAY" ] || fail "wal2avro-relay is not built ($W2A_RELAY): run make"
mkdir -p "$OUT"

work=$(w2a_tmpdir bench-snapshot)
# registered first, so it runs last (after the servers stopped)
w2a_on_exit "[ \"\${W2A_KEEP:-0}\" = 1 ] && info 'kept $work' || rm -rf '$work'"
RELAY_LOG=$work/relay.log
conf=$work/bench.conf
cat >"$conf" <<'EOF'
# regress/bench/snapshot.sh: no autovacuum sharing the two cores, no checkpoint mid-run
autovacuum = off
checkpoint_timeout = 1h
max_wal_size = 16GB
EOF
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
relay_bin=$(relay_binary_desc)
pg_start "$work/pg" "$conf"
kafka_start_single "$work/kafka"

clk_tck=$(getconf CLK_TCK)
broker_pid=$(cat "$KAFKA_DIR/node1/pid")

# ------------------------------------------------------------ 0) load
info "0) loading $ROWS rows into bulk"
t0=$EPOCHREALTIME
sql <<SQL
CREATE EXTENSION wal2avro;
CREATE TABLE bulk (id bigint, name text, amount numeric(12,2),
                   created timestamptz, flag bool);
INSERT INTO bulk
SELECT g, 'customer-' || lpad(g::text, 11, '0'), (g * 7 % 1000000) / 100.0,
       timestamptz '2024-01-01 00:00:00+00' + g * interval '1 second', g % 2 = 0
FROM generate_series(1, $ROWS) g;
ALTER TABLE bulk ADD PRIMARY KEY (id);
VACUUM (FREEZE, ANALYZE) bulk;
CHECKPOINT;
SQL
load_s=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
table_size=$(sql -c "SELECT pg_size_pretty(pg_table_size('bulk'))")
info "0) loaded in $load_s s; table $table_size"

# ------------------------------------------------------------ 1) the floor
timed() # CMD... -> seconds it took
{
	local a=$EPOCHREALTIME
	"$@" >/dev/null || fail "$* failed"
	awk -v a="$a" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }'
}
copy_server=()
copy_stdout=()
for i in 1 2; do
	copy_server+=("$(timed sql -c "COPY bulk TO '/dev/null'")")
	copy_stdout+=("$(timed sql -c "COPY (SELECT * FROM bulk) TO STDOUT")")
	info "1) run $i: COPY TO '/dev/null' ${copy_server[-1]} s, COPY TO STDOUT | psql ${copy_stdout[-1]} s"
done
median2() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (a + b) / 2 }'; }
copy_server_s=$(median2 "${copy_server[@]}")
copy_stdout_s=$(median2 "${copy_stdout[@]}")

# ------------------------------------------------------------ 2) the relay
kafka_create_topic "$TOPIC" 1 1
info "2) relay --snapshot-mode=initial_only on new slot $SLOT (log $RELAY_LOG)"
broker_cpu0=$(cpu_ticks "$broker_pid")
# The relay runs under GNU time when it is installed: its exact CPU time and
# peak RSS at exit (bash reaps the process at once, so /proc has nothing left
# to read then).  Sampling works either way and gives VmRSS over time.
relay_real=$W2A_RELAY
time_file=$work/relay.time
if [ -x /usr/bin/time ]; then
	printf '#!/bin/sh\nexec /usr/bin/time -o %q -f "%%U %%S %%M" %q "$@"\n' \
		"$time_file" "$relay_real" >"$work/relay-timed"
	chmod 755 "$work/relay-timed"
	W2A_RELAY=$work/relay-timed
fi
# shellcheck disable=SC2034 # read by relay_launch
RELAY_SNAPSHOT_MODE=initial_only
t_start=$EPOCHREALTIME
read -r -a relay_args <<<"${RELAY_ARGS:-}"
relay_launch "$SLOT" "${relay_args[@]}"
W2A_RELAY=$relay_real
relay_pid=$RELAY_PID
if [ -e "$work/relay-timed" ]; then
	# the relay is the only child of time
	relay_pid=
	for _ in $(seq 50); do
		relay_pid=$(cat "/proc/$RELAY_PID/task/$RELAY_PID/children" 2>/dev/null || true)
		relay_pid=${relay_pid// /}
		[ -z "$relay_pid" ] || break
		sleep 0.1
	done
	[ -n "$relay_pid" ] || fail "no relay process under /usr/bin/time (pid $RELAY_PID)"
fi
relay_ticks=0 rss_max=0 hwm=0 backend_pid="" backend_ticks=0 n=0
while :; do
	v=$(cpu_ticks "$relay_pid" 2>/dev/null) || break
	relay_ticks=$v
	v=$(status_kb "$relay_pid" VmRSS 2>/dev/null) || break
	[ "$v" -le "$rss_max" ] || rss_max=$v
	v=$(status_kb "$relay_pid" VmHWM 2>/dev/null) || break
	[ "$v" -le "$hwm" ] || hwm=$v
	if [ -z "$backend_pid" ]; then
		backend_pid=$(sql -c "SELECT pid FROM pg_stat_activity
			WHERE backend_type = 'client backend' AND application_name LIKE 'wal2avro-relay%'
			  AND (application_name LIKE '%snapshot%' OR query LIKE '%snapshot_frames%')
			LIMIT 1" 2>/dev/null || true)
	fi
	if [ -n "$backend_pid" ]; then
		v=$(cpu_ticks "$backend_pid" 2>/dev/null) && backend_ticks=$v
	fi
	if (( ++n % 50 == 0 )); then
		info "2) $(awk -v a="$t_start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }') s:" \
			"$(grep -o 'snapshot public\.bulk: [^,]*' "$RELAY_LOG" | tail -n 1)"
		awk -v a="$t_start" -v b="$EPOCHREALTIME" -v t="$TIMEOUT" 'BEGIN { exit !(b - a > t) }' &&
			{ kill -9 "$relay_pid" 2>/dev/null; fail "the relay did not finish the snapshot within $TIMEOUT s"; }
	fi
	sleep 0.2
done
rc=0
wait "$RELAY_PID" || rc=$?
t_end=$EPOCHREALTIME
RELAY_PID=
relay_cpu_how="last 0.2 s sample"
if [ -s "$time_file" ]; then
	read -r u sy maxrss < <(tail -n 1 "$time_file")
	relay_ticks=$(awk -v u="$u" -v s="$sy" -v h="$clk_tck" 'BEGIN { printf "%.0f", (u + s) * h }')
	[ "$maxrss" -le "$hwm" ] || hwm=$maxrss
	relay_cpu_how="GNU time at exit"
fi
broker_cpu1=$(cpu_ticks "$broker_pid")
[ "$rc" -eq 0 ] || fail "the relay exited with $rc (log: $RELAY_LOG)"
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

parts=$(kafka_metadata "$TOPIC" | sed -n 's/^ *topic "[^"]*" with \([0-9]*\) partitions:$/\1/p')
kafka_rows=0
for ((p = 0; p < ${parts:-1}; p++)); do
	v=$(kcat -b "$KAFKA_BOOTSTRAP" -Q -t "$TOPIC:$p:-1" 2>/dev/null | awk '{ print $NF }')
	kafka_rows=$((kafka_rows + ${v:-0}))
done
relay_done=$(grep -o 'snapshot done: .*' "$RELAY_LOG" | tail -n 1 || true)
slot_state=$(sql -c "SELECT coalesce(active::text, '?') || ' ' || coalesce(confirmed_flush_lsn::text, '?')
	FROM pg_replication_slots WHERE slot_name = '$SLOT'")

# ------------------------------------------------------------ report
wall=$(awk -v a="$t_start" -v b="$t_end" 'BEGIN { printf "%.2f", b - a }')
f() # a number, rounded, with thousands separators
{
	awk -v x="$1" 'BEGIN { printf "%.0f\n", x }' | sed ':a; s/\B[0-9]\{3\}\>/,&/; ta'
}
rate=$(f "$(awk -v r="$ROWS" -v w="$wall" 'BEGIN { print r / w }')")
ratio() { awk -v a="$wall" -v b="$1" 'BEGIN { printf "%.1f", a / b }'; }
{
	echo "## wal2avro-relay initial snapshot benchmark (regress/bench/snapshot.sh)"
	echo
	echo "PostgreSQL $(sql -c 'SHOW server_version') (fsync = off, autovacuum = off), one Apache Kafka" \
		"$KAFKA_VERSION broker (KRaft, RF 1, 1 partition), $("$W2A_RELAY" --version 2>&1 | head -n 1)" \
		"with default settings${RELAY_ARGS:+ plus $RELAY_ARGS} and --snapshot-mode=initial_only, all on $(nproc) cores;" \
		"$(date -u '+%Y-%m-%d %H:%M UTC'). Relay binary: $relay_bin. Table bulk: $(f "$ROWS") rows," \
		"$table_size (loaded in $load_s s, then VACUUM FREEZE). One relay run; COPY runs twice each."
	echo
	echo "| measure | result |"
	echo "|---|---:|"
	echo "| floor: \`COPY bulk TO '/dev/null'\` (server side), median of 2 (runs) | **${copy_server_s} s** (${copy_server[0]}, ${copy_server[1]}) |"
	echo "| floor: \`COPY (SELECT * FROM bulk) TO STDOUT\` via psql to /dev/null, median of 2 (runs) | **${copy_stdout_s} s** (${copy_stdout[0]}, ${copy_stdout[1]}) |"
	echo "| relay --snapshot-mode=initial_only: start -> exit 0 (all records acked) | **${wall} s** |"
	echo "| snapshot rows/s (rows / that wall time) | **${rate} rows/s** |"
	echo "| snapshot time / COPY TO '/dev/null' time | **$(ratio "$copy_server_s")x** |"
	echo "| snapshot time / COPY TO STDOUT time | **$(ratio "$copy_stdout_s")x** |"
	echo "| relay peak RSS: VmHWM / maxrss at exit (max sampled VmRSS, every 0.2 s) | **$(awk -v k="$hwm" 'BEGIN { printf "%.1f", k / 1024 }') MB** ($(awk -v k="$rss_max" 'BEGIN { printf "%.1f", k / 1024 }') MB) |"
	echo "| relay CPU (user+sys, all threads; $relay_cpu_how) | $(ticks_s "$relay_ticks") s |"
	if [ -n "$backend_pid" ]; then
		echo "| snapshot reader backend CPU (pid $backend_pid, last sample) | $(ticks_s "$backend_ticks") s |"
	else
		echo "| snapshot reader backend CPU | not found in pg_stat_activity |"
	fi
	echo "| broker JVM CPU during the relay run | $(ticks_s $((broker_cpu1 - broker_cpu0))) s |"
	echo "| rows in Kafka (sum of high watermarks of $TOPIC) | $(f "$kafka_rows") of $(f "$ROWS") |"
	echo "| load average (1, 5, 15 min) before / after | $load_before / $load_after |"
	echo
	echo "- The relay's own summary: \`${relay_done:-none logged}\`."
	echo "- Slot $SLOT afterwards (active, confirmed_flush_lsn): ${slot_state:-missing}."
	echo "- The relay's wall time includes its start-up: connecting, creating the slot with an exported" \
		"snapshot, Kafka metadata, and the wait for the last acknowledgements. CPU seconds over" \
		"${wall} s of wall time on $(nproc) cores = $(awk -v w="$wall" -v c="$(nproc)" 'BEGIN { printf "%.1f", w * c }') CPU s available."
} >"$OUT/snapshot.md"
cat "$OUT/snapshot.md"
info "report in $OUT/snapshot.md"
[ "$kafka_rows" -eq "$ROWS" ] || fail "$TOPIC holds $kafka_rows records, expected $ROWS"
