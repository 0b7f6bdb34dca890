#!/usr/bin/env bash
# regress/bench/relay.sh -- wal2avro-relay end to end into one real Kafka broker
#
# What it is for: what the relay delivers with its default settings, from a
# PostgreSQL commit to records acknowledged by (and appended in) Kafka.  Run
# on demand, never in CI; the targets are printed beside the numbers, never
# asserted.  One throwaway PostgreSQL (regress/lib/pg.sh), one Kafka broker
# (regress/lib/kafka.sh), one relay (regress/lib/relay.sh), in one run:
#
#  a) throughput: a ROWS_BULK-row INSERT in one transaction, committed while
#     the relay streams.  Measured inside PostgreSQL: clock_timestamp() right
#     after COMMIT returns, then a server-side loop polls the slot's
#     confirmed_flush_lsn every 50 ms until it reaches the flush LSN taken
#     right after the commit; rows/s = ROWS_BULK / that time.  The relay
#     confirms only what the broker acknowledged, so this is commit -> last
#     broker ack (+ the relay's status-update delay).  The relay's RSS is
#     sampled every 100 ms meanwhile; VmHWM is read after; the topic's
#     high watermark every 5 s (progress).  If the slot is not confirmed
#     within DRAIN_TIMEOUT seconds, the report says so with the rows the
#     broker holds by then, and the relay is killed, the slot dropped and a
#     fresh relay (new slot) started for part b.
#  b) latency: pgbench -R RATE -T LAT_SECS of one-row INSERT transactions into
#     a small table whose topic was created with
#     message.timestamp.type=LogAppendTime, so a record's Kafka timestamp is
#     the broker's append time.  Every record carries the header
#     wal2avro.commit_ts_ms (the commit time PostgreSQL logged, in ms); read
#     back with kcat -f '%T %h', latency = append time - commit time.
#  b') SPLIT_SECS more seconds of the same load into a table whose topic keeps
#     CreateTime: librdkafka stamps a record when the relay hands it over, so
#     that run shows how much of the latency is before the producer.
#
# Environment: ROWS_BULK (1000000), DRAIN_TIMEOUT (300), RATE (1000),
# RELAY_ARGS (more relay options, split at spaces),
# LAT_SECS (30), SPLIT_SECS (10; 0 skips b'), PGBENCH_CLIENTS (4), PERF (1
# when perf is installed: sample the relay with perf -g for 3 s, 2 s into
# the drain, and list its hottest functions when the drain outlasted that;
# 0: no perf), OUT (/tmp/wal2avro-bench; relay.md goes there).
# W2A_KEEP=1 keeps the scratch directory (logs, records read back).
set -euo pipefail
export LC_ALL=C
. "$(dirname "$0")/../lib/common.sh"
. "$W2A_ROOT/regress/lib/pg.sh"
. "$W2A_ROOT/regress/lib/kafka.sh"
. "$W2A_ROOT/regress/lib/relay.sh"
. "$W2A_ROOT/regress/bench/lib.sh"

ROWS_BULK=${ROWS_BULK:-1000000}
DRAIN_TIMEOUT=${DRAIN_TIMEOUT:-300}
PERF=${PERF:-1}
RATE=${RATE:-1000}
LAT_SECS=${LAT_SECS:-30}
SPLIT_SECS=${SPLIT_SECS:-10}
PGBENCH_CLIENTS=${PGBENCH_CLIENTS:-4}
OUT=${OUT:-/tmp/wal2avro-bench}
SLOT=bench

for v in ROWS_BULK DRAIN_TIMEOUT RATE LAT_SECS PGBENCH_CLIENTS; do
	[[ "${!v}" =~ ^[1-9][0-9]*$ ]] || fail "$v must be a positive integer (is \"${!v}\")"
done
[[ "$SPLIT_SECS" =~ ^[0-9]+$ ]] || fail "SPLIT_SECS must be an integer"
command -v pgbench >/dev/null || fail "pgbench not found (postgresql-client-15)"
[ -x "$W2A_RELAY" ] || fail "wal2avro-relay is not built ($W2A_RELAY): run make"
mkdir -p "$OUT"

work=$(w2a_tmpdir bench-relay)
# registered first, so it runs last (after the servers stopped)
w2a_on_exit "[ \"\${W2A_KEEP:-0}\" = 1 ] && info 'kept $work' || rm -rf '$work'"
RELAY_LOG=$work/relay.log
conf=$work/bench.conf
cat >"$conf" <<'EOF'
# regress/bench/relay.sh: no autovacuum sharing the two cores during the runs
autovacuum = off
max_wal_size = 4GB
EOF
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
# Which relay binary ran, and from which tree: the numbers belong to it.
relay_bin=$(relay_binary_desc)
pg_start "$work/pg" "$conf"
kafka_start_single "$work/kafka"

sql <<'SQL'
CREATE TABLE bulk (id bigint PRIMARY KEY, name text, amount numeric(12,2),
                   created timestamptz, flag bool);
CREATE TABLE ticks (id bigserial PRIMARY KEY, client int, created timestamptz DEFAULT now());
CREATE TABLE ticks_ct (id bigserial PRIMARY KEY, client int, created timestamptz DEFAULT now());

-- Poll the slot every 50 ms until it confirmed TARGET; the time it did
-- (NULL after TIMEOUT_S seconds).
CREATE FUNCTION bench_wait_confirmed(slot name, target pg_lsn, timeout_s float8)
RETURNS timestamptz LANGUAGE plpgsql AS $$
DECLARE
    deadline timestamptz := clock_timestamp() + timeout_s * interval '1 second';
BEGIN
    LOOP
        IF (SELECT confirmed_flush_lsn FROM pg_replication_slots
             WHERE slot_name = slot) >= target THEN
            RETURN clock_timestamp();
        END IF;
        IF clock_timestamp() > deadline THEN
            RETURN NULL;
        END IF;
        PERFORM pg_sleep(0.05);
    END LOOP;
END
$$;
SQL

kafka_create_topic wal2avro.public.bulk 1 1
kafka_create_topic wal2avro.public.ticks 1 1 message.timestamp.type=LogAppendTime
kafka_create_topic wal2avro.public.ticks_ct 1 1

# Start the relay (it creates the slot) and warm it up: the first record of
# each table sends its schema and fetches the topic's metadata; keep that out
# of the measurements.
start_relay_warm()
{
	local relay_args
	read -r -a relay_args <<<"${RELAY_ARGS:-}"
	relay_start "$SLOT" "${relay_args[@]}"
	info "relay pid $RELAY_PID streaming slot $SLOT (log $RELAY_LOG)"
	sql <<'SQL'
INSERT INTO bulk VALUES (0, 'warm-up', 0, now(), false) ON CONFLICT (id) DO NOTHING;
INSERT INTO ticks (client) VALUES (0);
INSERT INTO ticks_ct (client) VALUES (0);
SQL
	relay_wait_confirmed "$(sql -c 'SELECT pg_current_wal_flush_lsn()')" 60
	walsender_pid=$(sql -c "SELECT active_pid FROM pg_replication_slots WHERE slot_name = '$SLOT'")
}

clk_tck=$(getconf CLK_TCK)
broker_pid=$(cat "$KAFKA_DIR/node1/pid")
start_relay_warm
bulk_hw0=$(high_watermark wal2avro.public.bulk)

# ------------------------------------------------------------ a) throughput
info "a) $ROWS_BULK-row transaction"
rss_file=$work/rss.max
stop_file=$work/rss.stop
(
	max=0
	while [ ! -e "$stop_file" ] && [ -r "/proc/$RELAY_PID/status" ]; do
		v=$(status_kb "$RELAY_PID" VmRSS)
		if [ "$v" -gt "$max" ]; then
			max=$v
			echo "$max" >"$rss_file"
		fi
		sleep 0.1
	done
) &
sampler=$!
w2a_on_exit "touch '$stop_file'; kill $sampler 2>/dev/null || true"

relay_cpu0=$(cpu_ticks "$RELAY_PID")
ws_cpu0=$(cpu_ticks "$walsender_pid")
broker_cpu0=$(cpu_ticks "$broker_pid")
read -r t_begin t_commit end_lsn < <(sql <<SQL
SELECT extract(epoch FROM clock_timestamp()) AS t_begin \gset
BEGIN;
INSERT INTO bulk
SELECT g, 'customer-' || lpad(g::text, 11, '0'), (g * 7 % 1000000) / 100.0,
       timestamptz '2024-01-01 00:00:00+00' + g * interval '1 second', g % 2 = 0
FROM generate_series(1, $ROWS_BULK) g;
COMMIT;
SELECT extract(epoch FROM clock_timestamp()) AS t_commit,
       pg_current_wal_flush_lsn() AS end_lsn \gset
\echo :t_begin :t_commit :end_lsn
SQL
)
[ -n "${end_lsn:-}" ] || fail "the $ROWS_BULK-row transaction failed"

# records in the topic every 5 s: "seconds-since-commit records"
progress_file=$work/progress
(
	while [ ! -e "$stop_file" ]; do
		n=$(high_watermark wal2avro.public.bulk)
		awk -v t="$EPOCHREALTIME" -v c="$t_commit" -v n="${n:-0}" -v h="$bulk_hw0" \
			'BEGIN { printf "%.1f %d\n", t - c, n - h }' >>"$progress_file"
		sleep 5
	done
) &
progress=$!
w2a_on_exit "kill $progress 2>/dev/null || true"
if [ "$PERF" = 1 ] && command -v perf >/dev/null; then
	(
		sleep 2
		perf record -q -g -o "$work/relay.perf" -p "$RELAY_PID" -- sleep 3 >/dev/null 2>&1 &&
			perf report -q -i "$work/relay.perf" --children --sort dso,symbol -g none --stdio 2>/dev/null |
			awk '$1 ~ /%$/ && $3 !~ /^\[/ { print $5 " (" $3 ") " $1 " incl., " $2 " self" }' |
			head -n 6 >"$work/perf.top"
	) &
	perf_job=$!
fi

t_confirmed=$(sql -c "SELECT extract(epoch FROM bench_wait_confirmed('$SLOT', '$end_lsn', $DRAIN_TIMEOUT))")
t_stop=$EPOCHREALTIME
relay_cpu1=$(cpu_ticks "$RELAY_PID")
ws_cpu1=$(cpu_ticks "$walsender_pid" 2>/dev/null || echo 0)
broker_cpu1=$(cpu_ticks "$broker_pid")
hwm_kb=$(status_kb "$RELAY_PID" VmHWM)
touch "$stop_file"
wait "$sampler" || true
wait "$progress" || true
[ -z "${perf_job:-}" ] || wait "$perf_job" || true
rss_max_kb=$(cat "$rss_file" 2>/dev/null || echo 0)
bulk_records=$(( $(high_watermark wal2avro.public.bulk) - bulk_hw0 ))
awk -v t="$t_stop" -v c="$t_commit" -v n="$bulk_records" 'BEGIN { printf "%.1f %d\n", t - c, n }' >>"$progress_file"
if [ -n "$t_confirmed" ]; then
	drained=1
	info "a) committed in $(awk -v a="$t_begin" -v b="$t_commit" 'BEGIN { printf "%.2f", b - a }') s," \
		"confirmed $(awk -v a="$t_commit" -v b="$t_confirmed" 'BEGIN { printf "%.2f", b - a }') s later;" \
		"VmHWM $hwm_kb kB"
	[ "$bulk_records" -eq "$ROWS_BULK" ] ||
		fail "wal2avro.public.bulk received $bulk_records records, expected $ROWS_BULK"
else
	drained=0
	t_confirmed=$t_stop
	info "a) NOT confirmed within $DRAIN_TIMEOUT s: $bulk_records of $ROWS_BULK rows in Kafka; VmHWM $hwm_kb kB"
	info "a) killing the relay, dropping slot $SLOT and starting afresh for the latency runs"
	ws_gone=$walsender_pid
	relay_kill9
	w2a_wait_for 60 w2a_sql_true "SELECT NOT EXISTS (SELECT FROM pg_stat_replication WHERE pid = $ws_gone)" ||
		fail "the walsender $ws_gone did not exit"
	sql -c "SELECT pg_drop_replication_slot('$SLOT')" >/dev/null
	# made here: the relay would refuse to replace a slot it has a position of
	sql -c "SELECT 1 FROM pg_create_logical_replication_slot('$SLOT', 'wal2avro')" >/dev/null
	start_relay_warm
fi

# ------------------------------------------------------------ b) latency
# One pgbench run of one-row INSERTs into TABLE at RATE tx/s for SECS, then
# wait for the relay and read the records' timestamp and headers.
latency_run()
{
	local table=$1 secs=$2 name=$3 hw0 hw1 end
	echo "INSERT INTO $table (client) VALUES (:client_id);" >"$work/$name.sql"
	hw0=$(high_watermark "wal2avro.public.$table")
	pgbench -n -f "$work/$name.sql" -R "$RATE" -T "$secs" -c "$PGBENCH_CLIENTS" \
		-j "$(( PGBENCH_CLIENTS < 2 ? PGBENCH_CLIENTS : 2 ))" >"$work/$name.pgbench" 2>&1 ||
		{ cat "$work/$name.pgbench" >&2; fail "pgbench failed"; }
	end=$(sql -c "SELECT pg_current_wal_flush_lsn()")
	relay_wait_confirmed "$end" 120
	hw1=$(high_watermark "wal2avro.public.$table")
	kcat -b "$KAFKA_BOOTSTRAP" -C -q -e -t "wal2avro.public.$table" -p 0 -o "$hw0" \
		-c $((hw1 - hw0)) -f '%T %h\n' >"$work/$name.records" ||
		fail "kcat could not read wal2avro.public.$table"
	echo "$((hw1 - hw0))" >"$work/$name.count"
}

info "b) pgbench -R $RATE -T $LAT_SECS into ticks (LogAppendTime topic)"
relay_cpu2=$(cpu_ticks "$RELAY_PID")
ws_cpu2=$(cpu_ticks "$walsender_pid")
broker_cpu2=$(cpu_ticks "$broker_pid")
latency_run ticks "$LAT_SECS" append
relay_cpu3=$(cpu_ticks "$RELAY_PID")
ws_cpu3=$(cpu_ticks "$walsender_pid")
broker_cpu3=$(cpu_ticks "$broker_pid")
if [ "$SPLIT_SECS" -gt 0 ]; then
	info "b') pgbench -R $RATE -T $SPLIT_SECS into ticks_ct (CreateTime topic)"
	latency_run ticks_ct "$SPLIT_SECS" create
fi
rss_end_kb=$(status_kb "$RELAY_PID" VmRSS)
hwm_end_kb=$(status_kb "$RELAY_PID" VmHWM)
relay_stop

# ------------------------------------------------------------ report
{
	echo "rows=$ROWS_BULK"
	echo "drained=$drained"
	echo "drain_timeout=$DRAIN_TIMEOUT"
	echo "bulk_records=$bulk_records"
	echo "t_begin=$t_begin"
	echo "t_commit=$t_commit"
	echo "t_confirmed=$t_confirmed"
	echo "hwm_kb=$hwm_kb"
	echo "rss_max_kb=$rss_max_kb"
	echo "rss_end_kb=$rss_end_kb"
	echo "hwm_end_kb=$hwm_end_kb"
	echo "relay_cpu_a=$(awk -v a="$relay_cpu0" -v b="$relay_cpu1" -v h="$clk_tck" 'BEGIN { printf "%.2f", (b - a) / h }')"
	echo "ws_cpu_a=$(awk -v a="$ws_cpu0" -v b="$ws_cpu1" -v h="$clk_tck" 'BEGIN { printf "%.2f", (b - a) / h }')"
	echo "relay_cpu_b=$(awk -v a="$relay_cpu2" -v b="$relay_cpu3" -v h="$clk_tck" 'BEGIN { printf "%.2f", (b - a) / h }')"
	echo "ws_cpu_b=$(awk -v a="$ws_cpu2" -v b="$ws_cpu3" -v h="$clk_tck" 'BEGIN { printf "%.2f", (b - a) / h }')"
	echo "broker_cpu_a=$(awk -v a="$broker_cpu0" -v b="$broker_cpu1" -v h="$clk_tck" 'BEGIN { printf "%.2f", (b - a) / h }')"
	echo "broker_cpu_b=$(awk -v a="$broker_cpu2" -v b="$broker_cpu3" -v h="$clk_tck" 'BEGIN { printf "%.2f", (b - a) / h }')"
	echo "rate=$RATE"
	echo "lat_secs=$LAT_SECS"
	echo "split_secs=$SPLIT_SECS"
	echo "clients=$PGBENCH_CLIENTS"
	echo "server=$(sql -c 'SHOW server_version')"
	echo "ldwm=$(sql -c 'SHOW logical_decoding_work_mem')"
	echo "kafka=$KAFKA_VERSION"
	echo "relay=$("$W2A_RELAY" --version 2>&1 | head -n 1)"
	echo "relay_bin=$relay_bin"
	# the relay's built-in librdkafka defaults are not in --print-config
	echo "linger=$(sed -n 's/^#define PRODUCER_LINGER_MS[[:space:]]*\([0-9]*\).*/\1/p' "$W2A_ROOT/relay/producer.h")"
	# shellcheck disable=SC2086 # RELAY_ARGS splits at spaces
	echo "inflight=$("$W2A_RELAY" -b x ${RELAY_ARGS:-} --print-config 2>/dev/null | sed -n 's/^max-in-flight-bytes = //p')"
	# shellcheck disable=SC2086
	echo "status_interval=$("$W2A_RELAY" -b x ${RELAY_ARGS:-} --print-config 2>/dev/null | sed -n 's/^status-interval = //p')"
	echo "relay_args=${RELAY_ARGS:-}"
	echo "cores=$(nproc)"
	echo "load=$load_before at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end"
	echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
	sed -n 's/^number of transactions actually processed: \([0-9]*\).*/pgbench_tx=\1/p' "$work/append.pgbench"
	sed -n 's/^latency average = \([0-9.]*\) ms/pgbench_lat=\1/p' "$work/append.pgbench"
	sed -n 's/^rate limit schedule lag: avg \([0-9.]*\) (max \([0-9.]*\)) ms/pgbench_lag=\1 (max \2)/p' "$work/append.pgbench"
	sed -n 's/^tps = \([0-9.]*\) .*/pgbench_tps=\1/p' "$work/append.pgbench" | head -n 1
} >"$work/meta"

python3 - "$work" >"$OUT/relay.md" <<'EOF'
import os, sys

work = sys.argv[1]
meta = {}
for line in open(os.path.join(work, "meta")):
    if "=" in line:
        k, v = line.rstrip("\n").split("=", 1)
        meta[k] = v

def latencies(name):
    """Append (or create) time minus the commit_ts_ms header, per record."""
    path = os.path.join(work, name + ".records")
    if not os.path.exists(path):
        return None
    out = []
    for line in open(path):
        line = line.strip()
        if not line:
            continue
        ts, _, headers = line.partition(" ")
        commit = None
        for h in headers.split(","):
            k, _, v = h.partition("=")
            if k == "wal2avro.commit_ts_ms":
                commit = int(v)
        if commit is None:
            raise SystemExit(f"record without wal2avro.commit_ts_ms: {line}")
        out.append(int(ts) - commit)
    want = int(open(os.path.join(work, name + ".count")).read())
    if len(out) != want:
        raise SystemExit(f"{name}: read {len(out)} records, the topic grew by {want}")
    return sorted(out)

def pct(xs, p):
    # nearest rank
    k = max(1, -(-len(xs) * p // 100))
    return xs[int(k) - 1]

rows = int(meta["rows"])
drained = meta["drained"] == "1"
done = rows if drained else int(meta["bulk_records"])
commit_s = float(meta["t_commit"]) - float(meta["t_begin"])
drain_s = float(meta["t_confirmed"]) - float(meta["t_commit"])
rate = done / drain_s
progress = [l.split() for l in open(os.path.join(work, "progress")) if l.strip()]
perf_path = os.path.join(work, "perf.top")
perf_top = [l.strip() for l in open(perf_path)] if os.path.exists(perf_path) and drain_s >= 5 else []
mb = lambda kb: int(kb) / 1024
hwm, rssmax = mb(meta["hwm_kb"]), mb(meta["rss_max_kb"])
app = latencies("append")
cre = latencies("create")

def verdict(ok):
    return "meets" if ok else "misses"

o = []
o.append("## wal2avro-relay end-to-end benchmark (regress/bench/relay.sh)")
o.append("")
o.append(f"PostgreSQL {meta['server']} (logical_decoding_work_mem = {meta['ldwm']}), one Apache Kafka "
         f"{meta['kafka']} broker (KRaft, RF 1, 1 partition per topic), {meta['relay']}, default relay "
         f"settings{(' plus ' + meta['relay_args']) if meta.get('relay_args') else ''} (linger.ms = {meta['linger'] or '?'}, acks=all, idempotence, status-interval = "
         f"{meta['status_interval'] or '?'} s, max-in-flight-bytes = {int(meta['inflight'] or 0) // 1048576} MB), all on {meta['cores']} cores; {meta['date']}. Relay binary: {meta['relay_bin']}. One run, no repetitions. "
         f"Load average (1, 5, 15 min): {meta['load']}.")
o.append("")
o.append("| measure | result | target |")
o.append("|---|---:|---|")
if drained:
    o.append(f"| throughput: {rows:,}-row transaction, COMMIT returned -> slot confirmed (broker acked all) | "
             f"**{rate:,.0f} rows/s** ({drain_s:.2f} s) | >= 100,000 rows/s: {verdict(rate >= 100000)} |")
else:
    o.append(f"| throughput: {rows:,}-row transaction, COMMIT returned -> slot confirmed (broker acked all) | "
             f"**did not finish in {meta['drain_timeout']} s**: {done:,} rows in Kafka by then "
             f"(**{rate:,.0f} rows/s**) | >= 100,000 rows/s: misses |")
o.append(f"| relay peak RSS during it: VmHWM (max sampled VmRSS) | **{hwm:.1f} MB** ({rssmax:.1f} MB) | "
         f"< 64 MB: {verdict(hwm < 64)} |")
if app:
    p50, p99, mx = pct(app, 50), pct(app, 99), app[-1]
    o.append(f"| latency at {meta['rate']} tx/s, commit -> Kafka append, p50 | **{p50} ms** | |")
    o.append(f"| latency p99 | **{p99} ms** | < 50 ms: {verdict(p99 < 50)} |")
    o.append(f"| latency max | **{mx} ms** | |")
    o.append(f"| records measured ({meta['lat_secs']} s of pgbench) | {len(app):,} "
             f"(pgbench: {int(meta.get('pgbench_tx', 0)):,} tx) | |")
o.append("")
o.append("Details:")
cpu = {"the relay": float(meta["relay_cpu_a"]), "the walsender": float(meta["ws_cpu_a"]),
       "the Kafka broker": float(meta["broker_cpu_a"])}
o.append(f"- a) the INSERT + COMMIT itself took {commit_s:.2f} s. CPU seconds during the {drain_s:.2f} s from "
         f"commit to confirmed: relay {cpu['the relay']:.2f} (all threads), walsender {cpu['the walsender']:.2f}, "
         f"broker JVM {cpu['the Kafka broker']:.2f}; {meta['cores']} cores = {drain_s * int(meta['cores']):.2f} CPU s "
         f"available. The walsender decodes a transaction only after its commit (a transaction bigger than "
         f"logical_decoding_work_mem is replayed from spill files).")
if progress:
    if len(progress) <= 6:
        marks = progress
    else:                               # the first, one a minute, the last
        marks, minute = [], None
        for t, n in progress:
            if int(float(t) // 60) != minute:
                marks.append((t, n))
                minute = int(float(t) // 60)
        if marks[-1] != tuple(progress[-1]):
            marks.append(tuple(progress[-1]))
    o.append("- a) records in Kafka after the commit (s: rows): "
             + ", ".join(f"{float(t):.0f}: {int(n):,}" for t, n in marks)
             + ("" if drained else "; then the relay was killed and the slot dropped, and a new relay on a new "
                "slot served part b."))
top = max(cpu, key=cpu.get)
total, avail = sum(cpu.values()), drain_s * int(meta["cores"])
if cpu[top] / drain_s >= 0.8:
    o.append(f"- What dominates the throughput: {top}, busy {100 * cpu[top] / drain_s:.0f}% of one core "
             f"for the whole drain ({cpu[top] / max(done, 1) * 1e6:.1f} CPU us per row).")
elif total / avail >= 0.7:
    o.append(f"- What dominates the throughput: the CPUs. Relay, walsender and broker together used "
             f"{total:.1f} of the {avail:.1f} CPU s the {meta['cores']} cores had during the drain "
             f"({100 * total / avail:.0f}%), none of them a whole core; the load average "
             f"({meta['load']}) says what else ran.")
else:
    o.append(f"- No process was CPU-bound during the drain (busiest: {top} at "
             f"{100 * cpu[top] / drain_s:.0f}% of one core): waits dominate (acks, status updates every "
             f">= 200 ms, polling).")
if app:
    o.append(f"- b) pgbench: {float(meta.get('pgbench_tps', 0)):,.0f} tx/s achieved, latency avg "
             f"{meta.get('pgbench_lat', '?')} ms, schedule lag avg {meta.get('pgbench_lag', '?')} ms; "
             f"CPU over the {meta['lat_secs']} s: relay {meta['relay_cpu_b']} s, walsender {meta['ws_cpu_b']} s, "
             f"broker {meta['broker_cpu_b']} s; commit -> append "
             f"mean {sum(app) / len(app):.1f} ms, p90 {pct(app, 90)} ms, p99.9 {pct(app, 99.9)} ms.")
if cre:
    o.append(f"- b') same load for {meta['split_secs']} s into a CreateTime topic: commit -> record handed to "
             f"librdkafka (producer timestamp) p50 {pct(cre, 50)} ms, p99 {pct(cre, 99)} ms, max {cre[-1]} ms "
             f"({len(cre):,} records).")
    if app:
        o.append(f"- What dominates the latency: PostgreSQL -> walsender -> relay -> librdkafka takes p50 "
                 f"{pct(cre, 50)} / p99 {pct(cre, 99)} ms (run b'); the producer and the broker take the rest of "
                 f"the {pct(app, 50)} / {pct(app, 99)} ms (run b): linger.ms = {meta['linger'] or '?'} "
                 f"batching, then an acks=all produce request.  The two runs are different windows, so the "
                 f"split is approximate.")
if perf_top:
    o.append("- perf -g on the relay for 3 s, 2 s into the drain, hottest functions (inclusive, self): "
             + "; ".join(perf_top))
o.append(f"- relay RSS at the end {mb(meta['rss_end_kb']):.1f} MB, VmHWM {mb(meta['hwm_end_kb']):.1f} MB.")
o.append("- Timestamps are milliseconds (PostgreSQL's commit time truncated to ms, the broker's append time), "
         "so every latency is +-1 ms.")
print("\n".join(o))
EOF
cat "$OUT/relay.md"
info "report in $OUT/relay.md"
