# regress/lib/debezium.sh -- Debezium 3.6.1 as the oracle of the drop-in tests
# shellcheck shell=bash
#
# Source after common.sh, pg.sh and kafka.sh (a cluster and a broker
# running).  Reuses the benchmarks' engine (regress/bench/debezium.sh:
# dbz_build, dbz_start, dbz_stop) with the settings a Kafka Connect user of
# the PostgreSQL connector has, not the benchmark's:
#
#   dbz_capture WORKLOAD OUT.jsonl
#       run WORKLOAD (psql -v stream=false: tables and the rows before the
#       snapshot), start Debezium (it creates slot dbz_oracle and the
#       publication dbz_publication FOR ALL TABLES itself, so its snapshot is
#       the slot's exported one), wait until its initial snapshot is done,
#       run WORKLOAD with -v stream=true, wait until the sentinel row of
#       public.dbz_done (and, with transaction metadata, the END of every
#       transaction) is on the broker, stop Debezium cleanly and dump every
#       record of the prefix's topics to OUT.jsonl (regress/tools/kafka_dump.py:
#       topic, partition, offset, key, value, headers; ordered; with
#       DBZ_DUMP_TEXT=1 key and value as their exact text, as the stored
#       captures under regress/workloads/ are).
#       Leaves DBZ_DIR (engine.properties, debezium.log, offsets.dat).
#
# Settings (environment):
#   DBZ_PREFIX        topic.prefix (default dbz)
#   DBZ_TXMETA        provide.transaction.metadata (default true)
#   DBZ_PROPS         more engine properties, "k=v" words, last one wins
# Fixed: plugin.name=pgoutput, snapshot.mode=initial, JsonConverter with
# schemas.enable=true for key and value (the engine's JsonByteArray format),
# tombstones.on.delete=true, skipped.operations=none (truncates are events),
# Debezium's defaults otherwise (decimal.handling.mode precise,
# time.precision.mode adaptive, interval.handling.mode numeric, ...).
#
# Needs the venv (regress/tools/venv.sh: W2A_PYTHON) for the dump; java and
# mvn for the engine (built once into the cache); kcat for polling.

if ! declare -F dbz_build >/dev/null; then
	# shellcheck source=regress/bench/debezium.sh
	. "$W2A_ROOT/regress/bench/debezium.sh"
fi

DBZ_SLOT=dbz_oracle

# records on a topic now (0 when it does not exist yet)
_dbz_count()
{
	kcat -b "$KAFKA_BOOTSTRAP" -C -t "$1" -o beginning -e -q -f '%o\n' 2>/dev/null | wc -l
}

# condition: the topic has at least N records
_dbz_has()
{
	local n
	n=$(_dbz_count "$1")
	echo "$1: $n records"
	[ "$n" -ge "$2" ]
}

# condition: every BEGIN on the transaction topic has its END
_dbz_tx_closed()
{
	local out b e
	out=$(kcat -b "$KAFKA_BOOTSTRAP" -C -t "$1" -o beginning -e -q -f '%s\n' 2>/dev/null)
	b=$(grep -c '"status":"BEGIN"' <<<"$out")
	e=$(grep -c '"status":"END"' <<<"$out")
	echo "$1: $b BEGIN, $e END"
	[ "$b" -gt 0 ] && [ "$b" -eq "$e" ]
}

# condition: the engine logged the end of its snapshot
_dbz_snapshot_done()
{
	grep -E 'Snapshot ended with SnapshotResult \[status=COMPLETED|Snapshot completed' "$DBZ_LOG" | tail -n 1
	grep -qE 'Snapshot ended with SnapshotResult \[status=COMPLETED|Snapshot completed' "$DBZ_LOG" &&
		w2a_sql_true "SELECT count(*) > 0 FROM pg_replication_slots WHERE slot_name = '$DBZ_SLOT' AND active"
}

dbz_capture()
{
	local workload=$1 out=$2 prefix=${DBZ_PREFIX:-dbz} txmeta=${DBZ_TXMETA:-true}
	[ -n "${W2A_PYTHON:-}" ] || fail "dbz_capture: source regress/tools/venv.sh first"
	command -v kcat >/dev/null || fail "\"kcat\" not found (Debian: kcat)"
	dbz_build
	DBZ_DIR=$(w2a_tmpdir debezium)

	psql -XqAt -v ON_ERROR_STOP=1 -v stream=false -f "$workload" >/dev/null ||
		fail "the snapshot part of $workload failed"
	local save=${DBZ_PROPS:-}
	DBZ_PROPS="snapshot.mode=initial topic.prefix=$prefix provide.transaction.metadata=$txmeta
		tombstones.on.delete=true skipped.operations=none name=wal2avro-dbz-oracle
		bench.headers=true header.converter.class=org.apache.kafka.connect.storage.SimpleHeaderConverter
		bench.producer.client.id=wal2avro-dbz-oracle $save"
	dbz_start "$DBZ_SLOT" "$DBZ_DIR"
	DBZ_PROPS=$save
	info "debezium started (log $DBZ_LOG); waiting for its initial snapshot"
	w2a_await 180 "the end of Debezium's snapshot" _dbz_snapshot_done

	psql -XqAt -v ON_ERROR_STOP=1 -v stream=true -f "$workload" >/dev/null ||
		fail "the streaming part of $workload failed"
	w2a_await 120 "the sentinel row on $prefix.public.dbz_done" _dbz_has "$prefix.public.dbz_done" 1
	if [ "$txmeta" = true ]; then
		w2a_await 60 "the END of every transaction" _dbz_tx_closed "$prefix.transaction"
	fi
	dbz_stop
	"$W2A_PYTHON" "$W2A_ROOT/regress/tools/kafka_dump.py" ${DBZ_DUMP_TEXT:+--text} \
		"$KAFKA_BOOTSTRAP" "$prefix." "$out" ||
		fail "could not dump the topics $prefix.*"
}
