# regress/bench/debezium.sh -- build and run the Debezium peer of the benchmarks
# shellcheck shell=bash
#
# Source it after regress/lib/common.sh (and pg.sh and kafka.sh before
# dbz_start: it reads PGPORT, PGUSER, PGDATABASE and KAFKA_BOOTSTRAP).
#
#   dbz_build                     build regress/bench/debezium/ once into a cache
#                                 ($W2A_CACHE/debezium-<version>: the jar and its
#                                 runtime closure from Maven Central), rebuilt
#                                 only when the pom or the Java source changes;
#                                 sets DBZ_LIB and DBZ_VERSION
#   dbz_java ARGS...              run DebeziumBench on that classpath
#   dbz_create_topics PARTITIONS CONFIG NAME...
#                                 create topics in one admin call (CONFIG:
#                                 "k=v,k=v" or "-"); replication factor 1
#   dbz_delete_records NAME...    delete every record of the topics (partition
#                                 0; offsets go on), freeing the broker's disk
#   dbz_properties SLOT DIR       print the engine's properties file (every
#                                 setting the benchmark gives Debezium)
#   dbz_start SLOT DIR            write DIR/engine.properties and start the
#                                 engine in the background: DBZ_PID, DBZ_LOG
#                                 (DIR/debezium.log, appended)
#   dbz_stop                      SIGTERM, wait; fail unless it stopped cleanly
#
# Settings: the PostgreSQL connector with plugin.name=pgoutput, the given
# slot (it must exist; the connector never creates or drops it) and the
# publication dbz_publication (the connector's default name; the caller
# creates it FOR ALL TABLES), snapshot.mode=no_data (stream from the slot's
# position, no data snapshot), offsets in DIR/offsets.dat flushed every
# second (the slot advances at offset flush), topic prefix "dbz", Debezium's
# defaults for everything else (max.batch.size 2048, max.queue.size 8192,
# poll.interval.ms 500, decimal.handling.mode precise, JSON with schemas).
# The producer: acks=all, enable.idempotence=true, Kafka's defaults
# otherwise.  DBZ_PROPS adds or overrides engine properties ("k=v" words;
# "bench.producer.k=v" for the producer); DBZ_JAVA_OPTS are JVM options (none
# by default: the JVM's own heap sizing).

DBZ_POM=$W2A_ROOT/regress/bench/debezium/pom.xml
DBZ_VERSION=$(sed -n 's:.*<debezium.version>\(.*\)</debezium.version>.*:\1:p' "$DBZ_POM")
DBZ_MAIN=org.wal2avro.bench.DebeziumBench

dbz_build()
{
	command -v java >/dev/null 2>&1 || fail "\"java\" not found: install a Java 17 runtime (Debian: openjdk-17-jre-headless)"
	command -v mvn >/dev/null 2>&1 || fail "\"mvn\" not found: install Maven (Debian: maven)"
	[ -n "$DBZ_VERSION" ] || fail "no <debezium.version> in $DBZ_POM"

	local src=$W2A_ROOT/regress/bench/debezium cache want tmp out
	cache=${W2A_CACHE:-$HOME/.cache/wal2avro}/debezium-$DBZ_VERSION
	want=$(cd "$src" && find pom.xml src -type f | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -d' ' -f1)
	DBZ_LIB=$cache/lib
	if [ -f "$cache/stamp" ] && [ "$(cat "$cache/stamp")" = "$want" ]; then
		return 0
	fi

	info "building the Debezium $DBZ_VERSION peer into $cache (once; Maven fetches its jars)"
	mkdir -p "$cache"
	tmp=$(mktemp -d "$cache/build.XXXXXX")
	if ! out=$(mvn -q -B -Dstyle.color=never -f "$DBZ_POM" -Dbench.build="$tmp/build" \
			-DskipTests package dependency:copy-dependencies -DincludeScope=runtime \
			-DoutputDirectory="$tmp/lib" 2>&1); then
		rm -rf "$tmp"
		printf '%s\n' "$out" >&2
		fail "could not build regress/bench/debezium with Maven (see above)"
	fi
	cp "$tmp/build/debezium-bench-0.jar" "$tmp/lib/" ||
		{ rm -rf "$tmp"; fail "Maven ran but built no debezium-bench-0.jar"; }
	ls "$tmp/lib/debezium-connector-postgres-$DBZ_VERSION.jar" >/dev/null 2>&1 ||
		{ rm -rf "$tmp"; fail "Maven ran but debezium-connector-postgres-$DBZ_VERSION.jar is missing"; }
	rm -rf "${cache:?}/lib" "$cache/stamp"
	mv "$tmp/lib" "$cache/lib"
	rm -rf "$tmp"
	echo "$want" >"$cache/stamp"
}

dbz_java()
{
	java -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$DBZ_LIB/*" "$DBZ_MAIN" "$@"
}

dbz_create_topics()
{
	[ $# -ge 3 ] || fail "usage: dbz_create_topics PARTITIONS CONFIG NAME..."
	dbz_java topics "$KAFKA_BOOTSTRAP" "$@" || fail "could not create topics $*"
}

dbz_delete_records()
{
	[ $# -ge 1 ] || fail "usage: dbz_delete_records NAME..."
	dbz_java delete-records "$KAFKA_BOOTSTRAP" "$@" || fail "could not delete the records of $*"
}

dbz_properties()
{
	local slot=$1 dir=$2 p
	cat <<EOF
# written by regress/bench/debezium.sh
name=wal2avro-bench-debezium
connector.class=io.debezium.connector.postgresql.PostgresConnector
plugin.name=pgoutput
database.hostname=127.0.0.1
database.port=$PGPORT
database.user=$PGUSER
database.dbname=$PGDATABASE
slot.name=$slot
publication.name=dbz_publication
snapshot.mode=no_data
topic.prefix=dbz
offset.storage=org.apache.kafka.connect.storage.FileOffsetBackingStore
offset.storage.file.filename=$dir/offsets.dat
offset.flush.interval.ms=1000
bench.producer.bootstrap.servers=$KAFKA_BOOTSTRAP
bench.producer.client.id=wal2avro-bench-debezium
bench.producer.acks=all
bench.producer.enable.idempotence=true
EOF
	for p in ${DBZ_PROPS:-}; do
		echo "$p"
	done
}

dbz_start()
{
	local slot=$1 dir=$2
	[ -n "${DBZ_LIB:-}" ] || fail "dbz_start before dbz_build"
	mkdir -p "$dir"
	dbz_properties "$slot" "$dir" >"$dir/engine.properties"
	DBZ_LOG=$dir/debezium.log
	# shellcheck disable=SC2086 # options are words
	java ${DBZ_JAVA_OPTS:-} -Dorg.slf4j.simpleLogger.showDateTime=true \
		-Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS \
		-cp "$DBZ_LIB/*" "$DBZ_MAIN" engine "$dir/engine.properties" \
		</dev/null >>"$DBZ_LOG" 2>&1 &
	DBZ_PID=$!
	if [ -z "${_dbz_trap:-}" ]; then
		_dbz_trap=1
		# shellcheck disable=SC2016 # expanded when the hook runs
		w2a_on_exit '[ -n "${DBZ_PID:-}" ] && kill -9 $DBZ_PID 2>/dev/null; [ "${W2A_EXIT_RC:-0}" -eq 0 ] || [ -z "${DBZ_LOG:-}" ] || { echo "---- tail of $DBZ_LOG ----" >&2; tail -n 40 "$DBZ_LOG" >&2; }'
	fi
}

# The JVM exits 143 after SIGTERM once its shutdown hook has stopped the
# engine (offsets committed) and closed the producer; 1 when the engine failed.
dbz_stop()
{
	local rc=0
	[ -n "${DBZ_PID:-}" ] || return 0
	kill -TERM "$DBZ_PID" 2>/dev/null || true
	wait "$DBZ_PID" || rc=$?
	DBZ_PID=
	[ $rc -eq 0 ] || [ $rc -eq 143 ] ||
		{ tail -n 40 "$DBZ_LOG" >&2; fail "Debezium exited with $rc on SIGTERM (log: $DBZ_LOG)"; }
}
