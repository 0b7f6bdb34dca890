#!/usr/bin/env bash
# regress/bench/e2e.sh -- wal2avro-relay against Debezium, end to end into one Kafka broker
#
# What it is for: what a user's database and a user's Kafka see from each CDC
# system, measured the same way on the same machine: wal2avro-relay (the
# wal2avro plugin, Avro into Kafka through librdkafka) and Debezium's
# PostgreSQL connector (embedded engine, plugin pgoutput, JSON into Kafka
# through the Java producer; regress/bench/debezium.sh says every setting).
# Run on demand, never in CI; nothing is asserted about timings, only that
# every row of every workload arrived in Kafka for each system.  One
# throwaway PostgreSQL (regress/lib/pg.sh), one Kafka broker (KRaft, from
# regress/lib/kafka.sh), one consumer process at a time.  Every data topic is
# created up front with one partition and message.timestamp.type=
# LogAppendTime, so a record's timestamp is the broker's append time; a run
# counts as delivered when the topics' high watermarks grew by exactly the
# rows the workload changed (more or fewer fails the run).
#
# For each of REPS repetitions, each system in turn (A B A B ...) gets one
# consumer process on its own slot, advanced to the current WAL position
# first, so both start every repetition from the same slot state (caught up,
# nothing pending).  That process serves, in order:
#
#  0) warm-up: one transaction touching every table (the consumer learns
#     every topic) and WARM_SECS of the OLTP load at 1,000 tx/s (Debezium's
#     JIT compiles), all delivered before anything is measured.
#  1) throughput, one run per workload part (bulk, wide, toast, oltp; their
#     SQL is in regress/bench/lib.sh): the slot's walsender is stopped
#     (SIGSTOP) while the part is written, so the part waits as a backlog of
#     identical shape for both systems (bulk rows get new ids each run), then
#     continued (SIGCONT) at t0; t1 = the append time of the last record.
#     rows/s = rows / (t1 - t0): all the decoding, conversion and producing,
#     with warm processes.  "steady" rows/s leaves out the first 20% of the
#     records of the part's main table (the time the first transaction takes
#     to decode, e.g. the bulk transaction's spill files).  CPU seconds
#     (user+system, all threads, /proc) of the consumer, the walsender and the
#     broker over t0..delivered; the consumer's VmHWM after the part (a
#     high-water mark: it only grows over the process's life); the bytes the
#     part's topics grew on the broker's disk (*.log files).
#  2) latency at fixed offered loads, for each rate in RATES: pgbench -R RATE
#     -T LAT_SECS of the OLTP transaction (5 row changes), wait until every
#     record arrived, read them back with kcat: latency = the broker's append
#     time - the commit time the record carries (wal2avro: header
#     wal2avro.commit_ts_ms; Debezium: payload.source.ts_ms of the JSON value;
#     both PostgreSQL's commit timestamp in ms).  Every record counts.
#
# Outputs in OUT: throughput.tsv, latency.tsv, lifetimes.tsv, lat/ (one file
# of latencies per run, ms), e2e.meta, debezium.properties, relay.config.
#
# Environment: ROWS_BULK (1000000), ROWS_WIDE (50000), WIDE_TXN (1000),
# ROWS_TOAST (5000), TOAST_TXN (100), TXNS_OLTP (10000), CUSTOMERS (10000),
# PARTS ("bulk wide toast oltp"; empty: no throughput runs), RATES ("500
# 2000 10000"; empty: no latency runs), LAT_SECS (10), WARM_SECS (5),
# PGBENCH_CLIENTS (8), REPS (3), SYSTEMS ("wal2avro debezium"; also
# wal2avro-json: the relay writing Debezium's JSON, --key-format=json
# --value-format=json, JSON with schemas as Debezium's peer writes it; and
# wal2avro-registry: --compat=debezium --schema-registry against the test
# registry regress/tools/test_registry.py, started here; and
# wal2avro-confluent: the relay's own records through that registry,
# --schema-registry alone, so that beside wal2avro it shows what the
# registry's wire format costs by itself),
# COMPRESSION (none; gzip, snappy, lz4 or zstd: the producers of both systems
# compress their batches alike, the relay by -X compression.codec, Debezium's
# KafkaProducer by compression.type), DRAIN_TIMEOUT (600: seconds a run may
# take to deliver everything before the run fails), OUT (/tmp/wal2avro-bench/e2e), DBZ_JAVA_OPTS, DBZ_PROPS (see
# debezium.sh), W2A_RELAY (the relay binary), W2A_KEEP=1 (keep the scratch
# directory), RELAY_ARGS (more relay options for every wal2avro system,
# split at spaces, e.g. "-X linger.ms=20").
set -euo pipefail
export LC_ALL=C
. "$(dirname "$0")/../lib/common.sh"
. "$W2A_ROOT/regress/lib/pg.sh"
. "$W2A_ROOT/regress/lib/kafka.sh"
. "$W2A_ROOT/regress/lib/relay.sh"
. "$W2A_ROOT/regress/bench/lib.sh"
. "$W2A_ROOT/regress/bench/debezium.sh"

ROWS_BULK=${ROWS_BULK:-1000000}
ROWS_WIDE=${ROWS_WIDE:-50000}
WIDE_TXN=${WIDE_TXN:-1000}
ROWS_TOAST=${ROWS_TOAST:-5000}
TOAST_TXN=${TOAST_TXN:-100}
TXNS_OLTP=${TXNS_OLTP:-10000}
CUSTOMERS=${CUSTOMERS:-10000}
PARTS=${PARTS-bulk wide toast oltp}
RATES=${RATES-500 2000 10000}
LAT_SECS=${LAT_SECS:-10}
WARM_SECS=${WARM_SECS:-5}
PGBENCH_CLIENTS=${PGBENCH_CLIENTS:-8}
REPS=${REPS:-3}
SYSTEMS=${SYSTEMS:-wal2avro debezium}
DRAIN_TIMEOUT=${DRAIN_TIMEOUT:-600}
COMPRESSION=${COMPRESSION:-none}
OUT=${OUT:-/tmp/wal2avro-bench/e2e}

for v in ROWS_BULK ROWS_WIDE WIDE_TXN ROWS_TOAST TOAST_TXN TXNS_OLTP CUSTOMERS LAT_SECS \
	PGBENCH_CLIENTS REPS DRAIN_TIMEOUT; do
	[[ "${!v}" =~ ^[1-9][0-9]*$ ]] || fail "$v must be a positive integer (is \"${!v}\")"
done
[[ "$WARM_SECS" =~ ^[0-9]+$ ]] || fail "WARM_SECS must be an integer"
for r in $RATES; do
	[[ "$r" =~ ^[1-9][0-9]*$ ]] || fail "RATES must be positive integers (has \"$r\")"
done
for p in $PARTS; do
	case $p in
		bulk | wide | toast | oltp) ;;
		*) fail "unknown part \"$p\" in PARTS (bulk wide toast oltp)" ;;
	esac
done
for s in $SYSTEMS; do
	case $s in
		wal2avro | wal2avro-json | wal2avro-registry | wal2avro-confluent | debezium) ;;
		*) fail "unknown system \"$s\" in SYSTEMS (wal2avro wal2avro-json wal2avro-registry wal2avro-confluent debezium)" ;;
	esac
done
case $COMPRESSION in
	none | gzip | snappy | lz4 | zstd) ;;
	*) fail "COMPRESSION must be none, gzip, snappy, lz4 or zstd (is \"$COMPRESSION\")" ;;
esac
# the same codec for both producers
relay_compression=(-X "compression.codec=$COMPRESSION")
# more relay options for one run, split at spaces (e.g. "-X linger.ms=20")
# shellcheck disable=SC2206
relay_compression+=(${RELAY_ARGS:-})
DBZ_PROPS="${DBZ_PROPS:+$DBZ_PROPS }bench.producer.compression.type=$COMPRESSION"
command -v pgbench >/dev/null || fail "pgbench not found (postgresql-client-15)"
command -v kcat >/dev/null || fail "kcat not found (Debian: kcat)"
[ -x "$W2A_RELAY" ] || fail "wal2avro-relay is not built ($W2A_RELAY): run make"
[ -e "$(pg_config --pkglibdir)/wal2avro.so" ] || fail "wal2avro is not installed (make && make install)"
mkdir -p "$OUT/lat"
rm -f "$OUT"/lat/*.txt

work=$(w2a_tmpdir bench-e2e)
# registered first, so it runs last (after the servers stopped)
w2a_on_exit "[ \"\${W2A_KEEP:-0}\" = 1 ] && info 'kept $work' || rm -rf '$work'"
RELAY_LOG=$work/relay.log
conf=$work/bench.conf
cat >"$conf" <<'EOF'
# regress/bench/e2e.sh: no autovacuum sharing the two cores during the runs,
# no timed checkpoints
autovacuum = off
checkpoint_timeout = 1h
max_wal_size = 16GB
EOF
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
dbz_build
pg_start "$work/pg" "$conf"
kafka_start_single "$work/kafka"
broker_pid=$(cat "$KAFKA_DIR/node1/pid")
registry=
if [[ " $SYSTEMS " == *" wal2avro-registry "* || " $SYSTEMS " == *" wal2avro-confluent "* ]]; then
	. "$W2A_ROOT/regress/tools/venv.sh" || fail "could not set up the Python venv (the test registry)"
	"$W2A_PYTHON" "$W2A_ROOT/regress/tools/test_registry.py" --port 0 --port-file "$work/registry.port" \
		>"$work/registry.log" 2>&1 &
	w2a_on_exit "kill $! 2>/dev/null || true"
	w2a_wait_for 20 test -s "$work/registry.port" || fail "the test registry did not start"
	registry=http://127.0.0.1:$(cat "$work/registry.port")
fi

# ---------------------------------------------------------------- setup
info "schema, $ROWS_WIDE wide rows, $ROWS_TOAST TOAST rows, $CUSTOMERS customers; publication; topics"
bench_workload_sql | sql
bench_fill_sql "$ROWS_WIDE" "$ROWS_TOAST" "$CUSTOMERS" | sql
sql <<'SQL'
-- Debezium's default publication name; every table, like wal2avro's default
CREATE PUBLICATION dbz_publication FOR ALL TABLES;
CHECKPOINT;
SQL

TABLES="bulk wide toast_docs customers orders order_items"
declare -A prefix plugin
prefix=([wal2avro]=wal2avro [wal2avro-json]=w2ajson [wal2avro-registry]=w2areg [wal2avro-confluent]=w2acfl
	[debezium]=dbz)
plugin=([wal2avro]=wal2avro [wal2avro-json]=wal2avro [wal2avro-registry]=wal2avro [wal2avro-confluent]=wal2avro
	[debezium]=pgoutput)

sys_topics()
{
	local t out=()
	for t in $2; do
		out+=("${prefix[$1]}.public.$t")
	done
	echo "${out[@]}"
}

topics=()
for s in $SYSTEMS; do
	read -r -a tl <<<"$(sys_topics "$s" "$TABLES")"
	topics+=("${tl[@]}")
	sql -c "SELECT 'created' FROM pg_create_logical_replication_slot('bench_${s//-/_}', '${plugin[$s]}')" >/dev/null
done
dbz_create_topics 1 message.timestamp.type=LogAppendTime "${topics[@]}"

# the part's tables (main table first), its rows, its rows in the main table
declare -A part_tables part_rows part_main_rows part_desc
part_tables=([bulk]=bulk [wide]=wide [toast]=toast_docs [oltp]="orders order_items customers")
part_rows=([bulk]=$ROWS_BULK [wide]=$ROWS_WIDE [toast]=$ROWS_TOAST [oltp]=$((5 * TXNS_OLTP)))
part_main_rows=([bulk]=$ROWS_BULK [wide]=$ROWS_WIDE [toast]=$ROWS_TOAST [oltp]=$TXNS_OLTP)
part_desc=(
	[bulk]="$ROWS_BULK-row INSERT in one transaction (bigint PK, text ~20 chars, numeric(12,2), timestamptz, bool)"
	[wide]="$ROWS_WIDE wide-row UPDATEs (text ~200 chars, numeric, timestamptz, jsonb with 10 keys), $WIDE_TXN per transaction"
	[toast]="$ROWS_TOAST UPDATEs each writing a new 8 kB out-of-line text (a 4 kB out-of-line column unchanged), $TOAST_TXN per transaction"
	[oltp]="$TXNS_OLTP OLTP transactions (INSERT order, INSERT 3 items, UPDATE customer: 5 row changes) over $CUSTOMERS customers"
)

# The SQL that writes PART for the RUN-th time (1, 2, ...): the same shape
# every time; bulk rows get ids of their own.
part_sql()
{
	local base=$(($2 * ROWS_BULK))
	case $1 in
		bulk) echo "INSERT INTO bulk
SELECT $base + g, 'customer-' || lpad(g::text, 11, '0'), (g * 7 % 1000000) / 100.0,
       timestamptz '2024-01-01 00:00:00+00' + g * interval '1 second', g % 2 = 0
FROM generate_series(1, $ROWS_BULK) g" ;;
		wide) echo "CALL bench_wide($ROWS_WIDE, $WIDE_TXN)" ;;
		toast) echo "CALL bench_toast($ROWS_TOAST, $TOAST_TXN)" ;;
		oltp) echo "CALL bench_oltp($TXNS_OLTP, $CUSTOMERS)" ;;
	esac
}

# ---------------------------------------------------------------- helpers
# Start SYSTEM on SLOT in the background: CONSUMER_PID.  Both connect over TCP
# to 127.0.0.1 (Debezium's JDBC cannot use the unix socket).
consumer_start()
{
	local sys=$1 slot=$2 dir=$3
	case $sys in
		wal2avro)
			PGHOST=127.0.0.1 relay_launch "$slot" "${relay_compression[@]}"
			CONSUMER_PID=$RELAY_PID ;;
		wal2avro-json)
			PGHOST=127.0.0.1 relay_launch "$slot" --topic-prefix="${prefix[$sys]}" "${relay_compression[@]}" \
				--key-format=json --value-format=json --json-schemas
			CONSUMER_PID=$RELAY_PID ;;
		wal2avro-registry)
			PGHOST=127.0.0.1 relay_launch "$slot" --topic-prefix="${prefix[$sys]}" "${relay_compression[@]}" \
				--compat=debezium --schema-registry="$registry"
			CONSUMER_PID=$RELAY_PID ;;
		wal2avro-confluent)
			PGHOST=127.0.0.1 relay_launch "$slot" --topic-prefix="${prefix[$sys]}" "${relay_compression[@]}" \
				--schema-registry="$registry"
			CONSUMER_PID=$RELAY_PID ;;
		debezium)
			rm -f "$dir/offsets.dat"
			dbz_start "$slot" "$dir"
			CONSUMER_PID=$DBZ_PID ;;
	esac
}

consumer_stop()
{
	case $1 in
		wal2avro*) relay_stop ;;
		debezium) dbz_stop ;;
	esac
	CONSUMER_PID=
	w2a_wait_for 60 w2a_sql_true "SELECT NOT active FROM pg_replication_slots WHERE slot_name = '$2'" ||
		fail "slot $2 still active after its consumer stopped"
}

consumer_alive()
{
	[ -n "${CONSUMER_PID:-}" ] && kill -0 "$CONSUMER_PID" 2>/dev/null &&
		[ "$(awk '{ print $3 }' "/proc/$CONSUMER_PID/stat" 2>/dev/null)" != Z ]
}

consumer_log()
{
	case $1 in
		wal2avro*) echo "$RELAY_LOG" ;;
		debezium) echo "$DBZ_LOG" ;;
	esac
}

# "topic=high watermark" lines for TOPICS, in one kcat call
watermarks()
{
	local args=() t
	for t in "$@"; do
		args+=(-t "$t:0:-1")
	done
	kcat -b "$KAFKA_BOOTSTRAP" -Q "${args[@]}" 2>/dev/null | awk '{ sub(":0:.*", "", $1); print $1 "=" $NF }'
}

# Fill the associative array named $1 with the high watermarks of TOPICS
# (retried for up to 10 s: a broker busy creating topics may not answer).
watermarks_into()
{
	local -n into=$1
	local t n try
	shift
	for ((try = 0; try < 100; try++)); do
		into=()
		while IFS='=' read -r t n; do
			[[ "$n" =~ ^[0-9]+$ ]] || continue
			# shellcheck disable=SC2004 # the key of an associative array
			into[$t]=$n
		done < <(watermarks "$@")
		[ "${#into[@]}" -ne $# ] || return 0
		sleep 0.1
	done
	fail "no high watermarks for $*"
}

# Sum over TOPICS of (high watermark - the base in the array named $1)
delivered()
{
	local -n base=$1
	shift
	local line t n sum=0
	while read -r line; do
		t=${line%%=*}
		n=${line#*=}
		[[ "$n" =~ ^[0-9]+$ ]] || { echo -1; return; }
		sum=$((sum + n - ${base[$t]}))
	done < <(watermarks "$@")
	echo "$sum"
}

# Wait until WANT records arrived in TOPICS (beyond the base in array $2);
# fail when the consumer dies, on a timeout, or when more arrived than wanted.
wait_delivered()
{
	local sys=$1 basename=$2 want=$3 secs=$4 got deadline
	shift 4
	deadline=$((SECONDS + secs))
	while :; do
		got=$(delivered "$basename" "$@")
		[ "$got" -lt "$want" ] || break
		consumer_alive || { tail -n 30 "$(consumer_log "$sys")" >&2; fail "$sys exited with $got of $want records in Kafka"; }
		[ $SECONDS -lt $deadline ] ||
			fail "$sys delivered only $got of $want records to $* within $secs s"
		sleep 0.1
	done
	[ "$got" -eq "$want" ] || fail "$sys: $got records arrived in $*, the workload made $want"
}

# Append time (ms) of the record at OFFSET of TOPIC
append_ms()
{
	local v
	v=$(kcat -b "$KAFKA_BOOTSTRAP" -C -q -e -t "$1" -p 0 -o "$2" -c 1 -f '%T\n' 2>/dev/null) || true
	[[ "$v" =~ ^[0-9]+$ ]] || fail "could not read the record at offset $2 of $1"
	echo "$v"
}

# Bytes of the *.log segment files of TOPICS on the broker's disk
log_bytes()
{
	local t sum=0 f
	for t in "$@"; do
		for f in "$KAFKA_DIR/node1/data/$t-0"/*.log; do
			[ -e "$f" ] || continue
			sum=$((sum + $(stat -c %s "$f")))
		done
	done
	echo "$sum"
}

# One pgbench run of the OLTP transaction; sets PGB_TX, PGB_TPS, PGB_LAG.
pgscript=$work/oltp.pgbench
bench_oltp_pgbench "$pgscript"
pgbench_run()
{
	local rate=$1 secs=$2 seed=$3 log=$work/pgbench.out
	pgbench -n -f "$pgscript" -D ncust="$CUSTOMERS" -R "$rate" -T "$secs" \
		-c "$PGBENCH_CLIENTS" -j 2 --random-seed="$seed" >"$log" 2>&1 ||
		{ cat "$log" >&2; fail "pgbench -R $rate failed"; }
	PGB_TX=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$log")
	PGB_TPS=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$log" | head -n 1)
	PGB_LAG=$(sed -n 's/^rate limit schedule lag: avg \([0-9.]*\) .*/\1/p' "$log")
	if ! [[ "${PGB_TX:-}" =~ ^[1-9][0-9]*$ ]]; then
		cat "$log" >&2
		fail "pgbench -R $rate processed no transaction"
	fi
}

# Read the records beyond the base in the array named $2 of the OLTP topics
# of SYSTEM and write their latencies (append time - commit time, ms) to
# FILE; print how many.
read_latencies()
{
	local sys=$1 file=$3 t fmt n
	local -n lbase=$2
	local -a tl
	read -r -a tl <<<"$(sys_topics "$sys" "orders order_items customers")"
	case $sys in
		wal2avro*) fmt='%T\t%h\n' ;;
		debezium) fmt='%T\t%s\n' ;;
	esac
	for t in "${tl[@]}"; do
		# shellcheck disable=SC2004 # the key of an associative array
		n=$(($(high_watermark "$t") - lbase[$t]))
		[ "$n" -gt 0 ] || continue
		kcat -b "$KAFKA_BOOTSTRAP" -C -q -e -t "$t" -p 0 -o "${lbase[$t]}" -c "$n" -f "$fmt" ||
			fail "kcat could not read $t"
	done | python3 -c '
import sys
sys_name, out = sys.argv[1], sys.argv[2]
lat = []
for line in sys.stdin.buffer:
    ts, _, rest = line.rstrip(b"\n").partition(b"\t")
    if sys_name.startswith("wal2avro"):
        commit = None
        for h in rest.split(b","):
            k, _, v = h.partition(b"=")
            if k == b"wal2avro.commit_ts_ms":
                commit = int(v)
        if commit is None:
            raise SystemExit("a wal2avro record without the header wal2avro.commit_ts_ms")
    else:
        # the source block follows before/after in the payload: its last
        # occurrence is the real one, whatever the row data holds
        i = rest.rfind(b"\"source\":{")
        j = rest.find(b"\"ts_ms\":", i) if i >= 0 else -1
        if j < 0:
            raise SystemExit("a Debezium record without payload.source.ts_ms")
        j += 8
        e = j
        while rest[e:e + 1].isdigit():
            e += 1
        commit = int(rest[j:e])
    lat.append(int(ts) - commit)
with open(out, "w") as f:
    f.write("\n".join(map(str, lat)) + ("\n" if lat else ""))
print(len(lat))
' "$sys" "$file"
}

# ---------------------------------------------------------------- runs
tp=$OUT/throughput.tsv
lat=$OUT/latency.tsv
life=$OUT/lifetimes.tsv
printf 'part\tsystem\trep\trows\twrite_s\tt0\tt_first_ms\tt_k_ms\tk_frac\tt_last_ms\tcpu_consumer_s\tcpu_walsender_s\tcpu_broker_s\thwm_kb\tkafka_bytes\n' >"$tp"
printf 'system\trep\trate\tsecs\ttx\ttps\tlag_ms\trecords\tcpu_consumer_s\tcpu_walsender_s\tcpu_broker_s\n' >"$lat"
printf 'system\trep\tstartup_s\thwm_kb\tcpu_total_s\n' >"$life"
run_no=0	# parts written so far, for fresh bulk ids
lives=0		# consumer processes started so far, for fresh warm-up ids

# Throughput of PART through the running consumer of SYSTEM (walsender WS).
tp_run()
{
	local part=$1 sys=$2 rep=$3 ws=$4 rows=${part_rows[$1]} t v
	local -a tl
	local -A hw0
	read -r -a tl <<<"$(sys_topics "$sys" "${part_tables[$part]}")"
	local main=${tl[0]} nmain=${part_main_rows[$part]} k=$((part_main_rows[$part] / 5))
	local bytes0 t_w c0 w0 b0 t0 c1 w1 b1 hwm write_s
	watermarks_into hw0 "${tl[@]}"
	bytes0=$(log_bytes "${tl[@]}")

	run_no=$((run_no + 1))
	kill -STOP "$ws"
	t_w=$EPOCHREALTIME
	sql -c "$(part_sql "$part" "$run_no")" >/dev/null ||
		{ kill -CONT "$ws"; fail "writing part $part failed"; }
	write_s=$(awk -v a="$t_w" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }')
	c0=$(cpu_ticks "$CONSUMER_PID")
	w0=$(cpu_ticks "$ws")
	b0=$(cpu_ticks "$broker_pid")
	t0=$EPOCHREALTIME
	kill -CONT "$ws"

	wait_delivered "$sys" hw0 "$rows" "$DRAIN_TIMEOUT" "${tl[@]}"
	c1=$(cpu_ticks "$CONSUMER_PID")
	w1=$(cpu_ticks "$ws" 2>/dev/null) || fail "the walsender of $sys ($ws) is gone"
	b1=$(cpu_ticks "$broker_pid")
	hwm=$(status_kb "$CONSUMER_PID" VmHWM)

	local t_first t_k t_last=0
	t_first=$(append_ms "$main" "${hw0[$main]}")
	t_k=$(append_ms "$main" $((hw0[$main] + k)))
	for t in "${tl[@]}"; do
		v=$(append_ms "$t" $(($(high_watermark "$t") - 1)))
		[ "$v" -le "$t_last" ] || t_last=$v
	done
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
		"$part" "$sys" "$rep" "$rows" "$write_s" "$t0" "$t_first" "$t_k" \
		"$(awk -v k="$k" -v n="$nmain" 'BEGIN { printf "%.4f", k / n }')" "$t_last" \
		"$(ticks_s $((c1 - c0)))" "$(ticks_s $((w1 - w0)))" "$(ticks_s $((b1 - b0)))" "$hwm" \
		$(($(log_bytes "${tl[@]}") - bytes0)) >>"$tp"
	info "rep $rep $part $sys: $rows rows in $(awk -v a="$t0" -v b="$t_last" 'BEGIN { printf "%.2f", b / 1000 - a }') s" \
		"(written in $write_s s), consumer $(ticks_s $((c1 - c0))) CPU s," \
		"walsender $(ticks_s $((w1 - w0))), VmHWM $((hwm / 1024)) MB"
}

# Latency at RATE tx/s through the running consumer of SYSTEM (walsender WS).
lat_run()
{
	local sys=$1 rep=$2 ws=$3 rate=$4 seed=$5 c0 w0 b0 c1 w1 b1 got file
	local -a tl
	local -A hw0
	read -r -a tl <<<"$(sys_topics "$sys" "orders order_items customers")"
	watermarks_into hw0 "${tl[@]}"
	c0=$(cpu_ticks "$CONSUMER_PID")
	w0=$(cpu_ticks "$ws")
	b0=$(cpu_ticks "$broker_pid")
	pgbench_run "$rate" "$LAT_SECS" "$seed"
	wait_delivered "$sys" hw0 $((5 * PGB_TX)) "$DRAIN_TIMEOUT" "${tl[@]}"
	c1=$(cpu_ticks "$CONSUMER_PID")
	w1=$(cpu_ticks "$ws" 2>/dev/null) || fail "the walsender of $sys ($ws) is gone"
	b1=$(cpu_ticks "$broker_pid")
	file=$OUT/lat/$sys.$rate.$rep.txt
	got=$(read_latencies "$sys" hw0 "$file")
	[ "$got" -eq $((5 * PGB_TX)) ] || fail "$sys: read $got records back at $rate tx/s, expected $((5 * PGB_TX))"
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$sys" "$rep" "$rate" "$LAT_SECS" \
		"$PGB_TX" "$PGB_TPS" "${PGB_LAG:-NA}" "$got" "$(ticks_s $((c1 - c0)))" \
		"$(ticks_s $((w1 - w0)))" "$(ticks_s $((b1 - b0)))" >>"$lat"
	info "rep $rep latency $sys at $rate tx/s: $PGB_TPS tx/s achieved, $got records," \
		"p50/p99/max $(sort -n "$file" | awk '{ a[NR] = $1 }
			END { printf "%d/%d/%d ms", a[int((NR + 1) / 2)], a[int(NR * 0.99 + 0.999)], a[NR] }')"
}

# One consumer process of SYSTEM for repetition REP: warm-up, every part,
# every rate.
lifetime()
{
	local sys=$1 rep=$2 slot=bench_${1//-/_} t_launch t_active ws part rate i=0
	local -a all
	local -A hw0
	read -r -a all <<<"$(sys_topics "$sys" "$TABLES")"
	sql -c "SELECT 'advanced' FROM pg_replication_slot_advance('$slot', pg_current_wal_flush_lsn())" >/dev/null
	t_launch=$EPOCHREALTIME
	consumer_start "$sys" "$slot" "$work/$sys"
	local deadline=$((SECONDS + 120))
	until w2a_sql_true "SELECT active FROM pg_replication_slots WHERE slot_name = '$slot'"; do
		consumer_alive || { tail -n 30 "$(consumer_log "$sys")" >&2; fail "$sys exited before streaming slot $slot"; }
		[ $SECONDS -lt $deadline ] || fail "$sys did not start streaming slot $slot within 120 s"
		sleep 0.1
	done
	t_active=$EPOCHREALTIME
	ws=$(sql -c "SELECT active_pid FROM pg_replication_slots WHERE slot_name = '$slot'")
	info "rep $rep: $sys streaming slot $slot (walsender $ws) after" \
		"$(awk -v a="$t_launch" -v b="$t_active" 'BEGIN { printf "%.1f", b - a }') s"

	# warm-up: every table once (8 records), then the OLTP load
	lives=$((lives + 1))
	watermarks_into hw0 "${all[@]}"
	sql >/dev/null <<SQL
INSERT INTO bulk VALUES (-$lives, 'warm-up', 0, now(), false);
UPDATE wide SET amount = amount + 1 WHERE id = 1;
UPDATE toast_docs SET rev = rev + 1 WHERE id = 1;
CALL bench_oltp(1, $CUSTOMERS);
SQL
	local warm=8
	if [ "$WARM_SECS" -gt 0 ]; then
		pgbench_run 1000 "$WARM_SECS" "$rep"
		warm=$((warm + 5 * PGB_TX))
	fi
	wait_delivered "$sys" hw0 "$warm" "$DRAIN_TIMEOUT" "${all[@]}"

	for part in $PARTS; do
		tp_run "$part" "$sys" "$rep" "$ws"
	done
	for rate in $RATES; do
		i=$((i + 1))
		lat_run "$sys" "$rep" "$ws" "$rate" $((1000 * rep + i))
	done
	[ "$(sql -c "SELECT active_pid FROM pg_replication_slots WHERE slot_name = '$slot'")" = "$ws" ] ||
		fail "the walsender of $sys changed during the runs (it reconnected?): see $(consumer_log "$sys")"
	printf '%s\t%s\t%s\t%s\t%s\n' "$sys" "$rep" \
		"$(awk -v a="$t_launch" -v b="$t_active" 'BEGIN { printf "%.2f", b - a }')" \
		"$(status_kb "$CONSUMER_PID" VmHWM)" "$(ticks_s "$(cpu_ticks "$CONSUMER_PID")")" >>"$life"
	consumer_stop "$sys" "$slot"
	# counted and measured: let the broker drop the segments (Debezium's JSON
	# takes about 3.5 kB a row)
	dbz_delete_records "${all[@]}"
}

for ((rep = 1; rep <= REPS; rep++)); do
	for s in $SYSTEMS; do
		lifetime "$s" "$rep"
	done
done

# ---------------------------------------------------------------- settings
dbz_properties bench_debezium "$work/debezium" |
	sed -e "s/^database.port=.*/database.port=(the cluster's port)/" \
		-e "s/^bench.producer.bootstrap.servers=.*/bench.producer.bootstrap.servers=(the broker)/" \
		-e "s|^offset.storage.file.filename=.*|offset.storage.file.filename=(a new file per consumer process)|" \
		>"$OUT/debezium.properties"
"$W2A_RELAY" -d "host=127.0.0.1 port=$PGPORT dbname=$PGDATABASE user=$PGUSER" -b "$KAFKA_BOOTSTRAP" \
	-S bench_wal2avro -X reconnect.backoff.max.ms=500 --metrics-listen=127.0.0.1:0 --snapshot-mode=never \
	--print-config 2>&1 | sed -e "s/$KAFKA_BOOTSTRAP/(the broker)/g" -e "s/port=$PGPORT/port=(the cluster's port)/g" \
	>"$OUT/relay.config"
grep -q '^slot = ' "$OUT/relay.config" || { cat "$OUT/relay.config" >&2; fail "wal2avro-relay --print-config failed"; }
{
	bench_machine
	echo "load=$load_before at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end"
	echo "kafka=$KAFKA_VERSION"
	echo "debezium=$DBZ_VERSION"
	echo "kafka_clients=$(basename "$(ls "$DBZ_LIB"/kafka-clients-*.jar)" .jar | sed 's/kafka-clients-//')"
	echo "pgjdbc=$(basename "$(ls "$DBZ_LIB"/postgresql-*.jar)" .jar | sed 's/postgresql-//')"
	# shellcheck disable=SC2086 # options are words
	echo "java_heap_max=$(java ${DBZ_JAVA_OPTS:-} -XX:+PrintFlagsFinal -version 2>/dev/null |
		awk '$2 == "MaxHeapSize" { printf "%.0f MB", $4 / 1048576 }')"
	# shellcheck disable=SC2086 # options are words
	echo "java_gc=$(java ${DBZ_JAVA_OPTS:-} -XX:+PrintFlagsFinal -version 2>/dev/null |
		awk '$4 == "true" && $2 ~ /^Use.*GC$/ { print $2 }' | head -n 1)"
	echo "dbz_java_opts=${DBZ_JAVA_OPTS:-}"
	echo "dbz_props=${DBZ_PROPS:-}"
	echo "compression=$COMPRESSION"
	echo "relay=$("$W2A_RELAY" --version 2>&1 | head -n 1)"
	echo "relay_bin=$(relay_binary_desc)"
	echo "relay_path=$W2A_RELAY"
	echo "relay_linger=$(sed -n 's/^#define PRODUCER_LINGER_MS[[:space:]]*\([0-9]*\).*/\1/p' "$W2A_ROOT/relay/producer.h")"
	echo "pgbench=$(pgbench --version | sed 's/^pgbench (PostgreSQL) //')"
	echo "ldwm=$(sql -c 'SHOW logical_decoding_work_mem')"
	echo "reps=$REPS"
	echo "parts=$PARTS"
	echo "systems=$SYSTEMS"
	echo "rates=$RATES"
	echo "lat_secs=$LAT_SECS"
	echo "warm_secs=$WARM_SECS"
	echo "clients=$PGBENCH_CLIENTS"
	echo "customers=$CUSTOMERS"
	for p in $PARTS; do
		echo "desc_$p=${part_desc[$p]}"
	done
} >"$OUT/e2e.meta"
info "end to end results in $OUT"
