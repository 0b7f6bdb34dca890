# regress/lib/kafka.sh -- real Apache Kafka brokers (KRaft) for the end-to-end tests
# shellcheck shell=bash
#
# Source it after common.sh.  The broker is Apache Kafka from Maven jars run with
# plain java: no tarball, no docker, no ZooKeeper.  Every node is a combined
# broker+controller on loopback ports; the controller quorum is static
# (controller.quorum.voters), so formatting needs no --standalone.
#
#   kafka_fetch_jars              copy Kafka and its runtime closure into a cache
#                                 reused between runs; sets KAFKA_LIB
#   kafka_start_single DIR        one node (broker 1), internal topics RF 1
#   kafka_start_cluster DIR       three nodes (brokers 1..3), RF 3, min ISR 2
#   kafka_stop N                  SIGTERM broker N and wait until it has exited
#   kafka_kill9 N                 SIGKILL broker N (no clean shutdown)
#   kafka_restart N               start broker N again on its config and data;
#                                 returns when it is back in the metadata
#   kafka_stop_all                stop every broker that runs (the exit trap does it)
#   kafka_outage [kill|pause]     SIGTERM every broker together (SIGKILL what is
#                                 left after 20 s), or with "kill" SIGKILL them at
#                                 once, and wait until all have exited; or with
#                                 "pause" SIGSTOP them (connections stay open,
#                                 nothing answers); the cluster stays defined
#   kafka_return                  start every stopped broker again on its config
#                                 and data, SIGCONT every paused one; returns when
#                                 each is back in the metadata
#   kafka_dump_logs [LINES]       tail of every broker's log, on stderr
#   kafka_create_topic NAME PARTITIONS RF [CONFIG=VALUE...]
#                                 create a topic (with topic configs), wait until
#                                 every partition has a leader and a full ISR
#   kafka_metadata [TOPIC]        print kcat's metadata listing (all topics or one)
#   kafka_leader TOPIC PARTITION  print the partition's leader id (-1 when none)
#   kafka_wait_isr TOPIC SIZE [SECS]
#                                 wait until every partition's ISR has SIZE members
#
# A start exports KAFKA_BOOTSTRAP (host:port list for clients) and KAFKA_DIR
# (DIR: node<N>/server.log, node<N>/server.properties, node<N>/data, tools.log).
# Failures call fail(), so a test never goes on against a broker that is not
# there, and never silently skips: a missing java, mvn or kcat is an error that
# says what to install.  When the script exits non-zero the exit trap prints the
# tail of every broker's log before stopping them.
#
# Environment: W2A_CACHE (cache root, default ~/.cache/wal2avro),
# W2A_KAFKA_START_TIMEOUT (seconds to wait for a broker, default 90),
# W2A_KAFKA_JAVA_OPTS (JVM options for each broker, default a 512 MB heap).

if ! declare -F info >/dev/null; then
	# shellcheck source=regress/lib/common.sh
	. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
fi

KAFKA_POM=$W2A_ROOT/regress/kafka/pom.xml
KAFKA_LOG4J=$W2A_ROOT/regress/kafka/log4j2.properties
KAFKA_VERSION=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$KAFKA_POM")

_kafka_nodes=0			# nodes in the running set: 0, 1 or 3
_kafka_port=()			# PLAINTEXT port per node id
_kafka_cport=()			# CONTROLLER port per node id
_kafka_trap_set=false	# stop registered with w2a_on_exit

# The JVM options of every broker: modest, since CI has two cores and runs
# PostgreSQL and the relay beside three brokers.
_kafka_java_opts()
{
	echo "${W2A_KAFKA_JAVA_OPTS:--Xms128m -Xmx512m -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true}"
}

_kafka_need()
{
	local cmd=$1 what=$2
	command -v "$cmd" >/dev/null 2>&1 ||
		fail "\"$cmd\" not found: the Kafka tests need it; install $what"
}

# Copy the jars once per Kafka version and pom content.  The copy goes to a
# scratch directory first and is renamed into place, so an interrupted fetch or
# a concurrent run never leaves a half-filled cache that looks complete.
kafka_fetch_jars()
{
	_kafka_need java "a Java 17 runtime (Debian: apt-get install openjdk-17-jre-headless)"
	_kafka_need mvn "Maven (Debian: apt-get install maven)"
	[ -n "$KAFKA_VERSION" ] || fail "no <kafka.version> in $KAFKA_POM"

	local cache=${W2A_CACHE:-$HOME/.cache/wal2avro}/kafka-$KAFKA_VERSION
	local want tmp out
	want=$(sha256sum "$KAFKA_POM" | cut -d' ' -f1)
	KAFKA_LIB=$cache/lib
	export KAFKA_LIB
	if [ -f "$cache/stamp" ] && [ "$(cat "$cache/stamp")" = "$want" ]; then
		return 0
	fi

	info "fetching Apache Kafka $KAFKA_VERSION jars into $cache (once)"
	mkdir -p "$cache"
	tmp=$(mktemp -d "$cache/fetch.XXXXXX")
	if ! out=$(mvn -q -B -Dstyle.color=never -f "$KAFKA_POM" \
			dependency:copy-dependencies -DincludeScope=runtime \
			-DoutputDirectory="$tmp/lib" 2>&1); then
		rm -rf "$tmp"
		printf '%s\n' "$out" >&2
		fail "could not fetch the Kafka jars with Maven (see above)"
	fi
	[ -f "$tmp/lib/kafka_2.13-$KAFKA_VERSION.jar" ] ||
		{ rm -rf "$tmp"; fail "Maven ran but kafka_2.13-$KAFKA_VERSION.jar is missing"; }
	rm -rf "${cache:?}/lib" "$cache/stamp"
	mv "$tmp/lib" "$cache/lib"
	rmdir "$tmp"
	echo "$want" >"$cache/stamp"
}

# Run a Kafka command-line class on the broker classpath; its log4j output goes
# to tools.log in KAFKA_DIR (or /dev/null before a start).
_kafka_java_tool()
{
	local logfile=/dev/null
	[ -n "${KAFKA_DIR:-}" ] && logfile=$KAFKA_DIR/tools.log
	java -Xmx256m -Dlog4j2.configurationFile="$KAFKA_LOG4J" \
		-Dw2a.kafka.logfile="$logfile" -cp "$KAFKA_LIB/*" "$@"
}

_kafka_pid()
{
	cat "$KAFKA_DIR/node$1/pid" 2>/dev/null || true
}

# True while PID runs.  kill -0 alone is not enough: an exited child that bash
# has not reaped yet is a zombie, and kill -0 still succeeds on it.
_kafka_alive()
{
	local pid=$1 stat
	[ -n "$pid" ] || return 1
	stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[ "${stat%% *}" != Z ]
}

# True once PID has exited (for w2a_await).
_kafka_dead()
{
	! _kafka_alive "$1"
}

_kafka_check_node()
{
	if ! [[ "$1" =~ ^[0-9]+$ ]] || [ "$1" -lt 1 ] || [ "$1" -gt "$_kafka_nodes" ]; then
		fail "no Kafka broker \"$1\" (brokers are 1..$_kafka_nodes)"
	fi
}

# Pick 2 ports per node, all distinct (w2a_free_port releases each port at once,
# so two calls could in principle hand out the same one).
_kafka_pick_ports()
{
	local n=$1 i p kind used=" "
	for ((i = 1; i <= n; i++)); do
		for kind in port cport; do
			p=$(w2a_free_port)
			while [[ "$used" == *" $p "* ]]; do
				p=$(w2a_free_port)
			done
			used+="$p "
			printf -v "_kafka_${kind}[$i]" %s "$p"
		done
	done
}

# Write node N's server.properties.  RF is the replication factor of internal
# topics and the default for new ones; MINISR the matching min.insync.replicas.
_kafka_write_config()
{
	local n=$1 rf=$2 minisr=$3 voters="" i dir=$KAFKA_DIR/node$1
	for ((i = 1; i <= _kafka_nodes; i++)); do
		voters+="${voters:+,}$i@127.0.0.1:${_kafka_cport[$i]}"
	done
	mkdir -p "$dir/data"
	cat >"$dir/server.properties" <<EOF
# written by regress/lib/kafka.sh for a test; thrown away with it
process.roles=broker,controller
node.id=$n
controller.quorum.voters=$voters
listeners=PLAINTEXT://127.0.0.1:${_kafka_port[$n]},CONTROLLER://127.0.0.1:${_kafka_cport[$n]}
advertised.listeners=PLAINTEXT://127.0.0.1:${_kafka_port[$n]},CONTROLLER://127.0.0.1:${_kafka_cport[$n]}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$dir/data

auto.create.topics.enable=true
num.partitions=1
default.replication.factor=$rf
min.insync.replicas=$minisr
unclean.leader.election.enable=false
group.initial.rebalance.delay.ms=0

offsets.topic.replication.factor=$rf
offsets.topic.num.partitions=5
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$minisr
transaction.state.log.num.partitions=5
share.coordinator.state.topic.replication.factor=$rf
share.coordinator.state.topic.min.isr=$minisr
share.coordinator.state.topic.num.partitions=5

# a dead broker is fenced (and leaves every ISR) after 5 s instead of 9 s
broker.heartbeat.interval.ms=1000
broker.session.timeout.ms=5000

# small and few: two cores, several JVMs
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
log.segment.bytes=16777216
EOF
}

_kafka_launch()
{
	local n=$1 dir=$KAFKA_DIR/node$1
	# shellcheck disable=SC2046 # the options are words on purpose
	java $(_kafka_java_opts) -Dlog4j2.configurationFile="$KAFKA_LOG4J" \
		-Dw2a.kafka.logfile="$dir/server.log" -cp "$KAFKA_LIB/*" \
		kafka.Kafka "$dir/server.properties" </dev/null >>"$dir/stdout.log" 2>&1 &
	echo $! >"$dir/pid"
	# out of the job table: no "Killed" line from bash after kafka_kill9
	disown $!
}

# Metadata as BOOTSTRAP serves it (empty when no broker answers); kcat -L
# arguments may follow.
_kafka_metadata()
{
	local bootstrap=$1
	shift
	kcat -b "$bootstrap" -m 3 -L "$@" 2>/dev/null || true
}

_kafka_broker_count()
{
	_kafka_metadata "$1" | sed -n 's/^ *\([0-9]*\) brokers:$/\1/p'
}

# Wait until broker N answers on its own listener and lists itself, which a
# KRaft broker only does once the controller has unfenced it; then, in a
# cluster, until the bootstrap list shows every broker.  On failure the exit
# hook prints the logs.
_kafka_wait_ready()
{
	local n=$1 pid deadline md
	pid=$(_kafka_pid "$n")
	deadline=$((SECONDS + ${W2A_KAFKA_START_TIMEOUT:-90}))
	while :; do
		if ! _kafka_alive "$pid"; then
			fail "Kafka broker $n (pid $pid) exited during startup"
		fi
		md=$(_kafka_metadata "127.0.0.1:${_kafka_port[$n]}")
		if [[ "$md" == *"broker $n at 127.0.0.1:${_kafka_port[$n]}"* ]] &&
			[ "$(_kafka_broker_count "$KAFKA_BOOTSTRAP")" = "$_kafka_nodes" ]; then
			return 0
		fi
		if [ $SECONDS -ge $deadline ]; then
			fail "Kafka broker $n not ready after ${W2A_KAFKA_START_TIMEOUT:-90} s"
		fi
		sleep 0.5	# the poll interval
	done
}

# Exit hook: on a failing exit, show the logs first.  "rc" is the exit status
# that common.sh's _w2a_run_exit holds while it runs the hooks.
_kafka_at_exit()
{
	if [ "${1:-0}" -ne 0 ] && [ "$_kafka_nodes" -gt 0 ]; then
		kafka_dump_logs 60
	fi
	kafka_stop_all
}

_kafka_start()
{
	local dir=$1 nodes=$2 rf=$3 minisr=$4 i id pids=() start=$SECONDS
	[ "$_kafka_nodes" -eq 0 ] || fail "Kafka is already running in $KAFKA_DIR"
	_kafka_need kcat "kcat (Debian: apt-get install kcat)"
	kafka_fetch_jars
	mkdir -p "$dir"
	KAFKA_DIR=$(cd "$dir" && pwd)
	export KAFKA_DIR
	_kafka_nodes=$nodes
	_kafka_pick_ports "$nodes"
	KAFKA_BOOTSTRAP=
	for ((i = 1; i <= nodes; i++)); do
		KAFKA_BOOTSTRAP+="${KAFKA_BOOTSTRAP:+,}127.0.0.1:${_kafka_port[$i]}"
	done
	export KAFKA_BOOTSTRAP

	if ! $_kafka_trap_set; then
		# shellcheck disable=SC2016 # expanded when the hook runs
		w2a_on_exit '_kafka_at_exit "${W2A_EXIT_RC:-0}"'
		_kafka_trap_set=true
	fi

	id=$(_kafka_java_tool kafka.tools.StorageTool random-uuid) ||
		fail "kafka.tools.StorageTool random-uuid failed"
	# One JVM per node to format, started together: JVM start-up is most of it.
	for ((i = 1; i <= nodes; i++)); do
		_kafka_write_config "$i" "$rf" "$minisr"
		_kafka_java_tool kafka.tools.StorageTool format -t "$id" \
			-c "$KAFKA_DIR/node$i/server.properties" >"$KAFKA_DIR/node$i/format.log" 2>&1 &
		pids+=($!)
	done
	for ((i = 1; i <= nodes; i++)); do
		wait "${pids[$((i - 1))]}" ||
			{ cat "$KAFKA_DIR/node$i/format.log" >&2; fail "could not format Kafka storage of broker $i"; }
	done
	for ((i = 1; i <= nodes; i++)); do
		_kafka_launch "$i"
	done
	for ((i = 1; i <= nodes; i++)); do
		_kafka_wait_ready "$i"
	done
	info "Kafka $KAFKA_VERSION: $nodes broker(s) at $KAFKA_BOOTSTRAP after $((SECONDS - start)) s (logs in $KAFKA_DIR)"
}

kafka_start_single()
{
	[ $# -eq 1 ] || fail "usage: kafka_start_single DIR"
	_kafka_start "$1" 1 1 1
}

kafka_start_cluster()
{
	[ $# -eq 1 ] || fail "usage: kafka_start_cluster DIR"
	_kafka_start "$1" 3 3 2
}

kafka_kill9()
{
	local n=$1 pid
	_kafka_check_node "$n"
	pid=$(_kafka_pid "$n")
	_kafka_alive "$pid" || fail "Kafka broker $n is not running"
	info "kill -9 Kafka broker $n (pid $pid)"
	kill -KILL "$pid"
	w2a_await 30 "Kafka broker $n (pid $pid) to exit after SIGKILL" _kafka_dead "$pid"
}

# Send SIGTERM to each running broker named, then wait up to SECS for them all;
# SIGKILL whatever is left then.  A broker first asks the active controller to
# approve its controlled shutdown, so when a whole cluster stops together the
# last node can wait for a quorum that has already gone: kafka_stop_all gives
# it a short time, a single stop in a live cluster a long one.
_kafka_term()
{
	local secs=$1 n pid pids=() left deadline killed=false
	shift
	for n in "$@"; do
		pid=$(_kafka_pid "$n")
		if _kafka_alive "$pid"; then
			kill -TERM "$pid" 2>/dev/null || true
			pids+=("$pid")
		fi
	done
	deadline=$((SECONDS + secs))
	while :; do
		left=()
		for pid in "${pids[@]}"; do
			_kafka_alive "$pid" && left+=("$pid")
		done
		[ ${#left[@]} -eq 0 ] && break
		if ! $killed && [ $SECONDS -ge $deadline ]; then
			info "Kafka pid(s) ${left[*]} still running $secs s after SIGTERM: SIGKILL"
			kill -KILL "${left[@]}" 2>/dev/null || true
			killed=true
		fi
		sleep 0.2	# the poll interval
	done
}

kafka_stop()
{
	local n=$1
	_kafka_check_node "$n"
	_kafka_alive "$(_kafka_pid "$n")" || fail "Kafka broker $n is not running"
	info "stopping Kafka broker $n"
	_kafka_term 60 "$n"
}

kafka_restart()
{
	local n=$1 start=$SECONDS
	_kafka_check_node "$n"
	if _kafka_alive "$(_kafka_pid "$n")"; then
		_kafka_term 60 "$n"
	fi
	info "restarting Kafka broker $n"
	_kafka_launch "$n"
	_kafka_wait_ready "$n"
	info "Kafka broker $n back after $((SECONDS - start)) s"
}

kafka_outage()
{
	local i nodes=() start=$SECONDS
	for ((i = 1; i <= _kafka_nodes; i++)); do
		nodes+=("$i")
	done
	if [ "${1:-}" = pause ]; then
		info "SIGSTOP every Kafka broker (${nodes[*]})"
		for i in "${nodes[@]}"; do
			kill -STOP "$(_kafka_pid "$i")"
		done
	elif [ "${1:-}" = kill ]; then
		info "kill -9 every Kafka broker (${nodes[*]})"
		for i in "${nodes[@]}"; do
			kill -KILL "$(_kafka_pid "$i")" 2>/dev/null || true
		done
		for i in "${nodes[@]}"; do
			w2a_await 30 "Kafka broker $i to exit after SIGKILL" _kafka_dead "$(_kafka_pid "$i")"
		done
	else
		info "stopping every Kafka broker (${nodes[*]})"
		_kafka_term 20 "${nodes[@]}"
	fi
	info "every Kafka broker stopped in $((SECONDS - start)) s"
}

# Launch every node first: a KRaft node is not ready before a quorum of
# controllers is up, so waiting for each in turn would wait for nothing.
kafka_return()
{
	local i start=$SECONDS
	for ((i = 1; i <= _kafka_nodes; i++)); do
		if _kafka_alive "$(_kafka_pid "$i")"; then
			info "SIGCONT Kafka broker $i"
			kill -CONT "$(_kafka_pid "$i")"
		else
			info "restarting Kafka broker $i"
			_kafka_launch "$i"
		fi
	done
	for ((i = 1; i <= _kafka_nodes; i++)); do
		_kafka_wait_ready "$i"
	done
	info "every Kafka broker back after $((SECONDS - start)) s"
}

kafka_stop_all()
{
	local i nodes=() start=$SECONDS
	[ "$_kafka_nodes" -gt 0 ] || return 0
	for ((i = 1; i <= _kafka_nodes; i++)); do
		nodes+=("$i")
	done
	_kafka_term 20 "${nodes[@]}"
	info "Kafka stopped in $((SECONDS - start)) s"
	_kafka_nodes=0
}

kafka_dump_logs()
{
	local lines=${1:-60} i f
	[ -n "${KAFKA_DIR:-}" ] || return 0
	for ((i = 1; i <= _kafka_nodes; i++)); do
		for f in server.log stdout.log; do
			[ -s "$KAFKA_DIR/node$i/$f" ] || continue
			printf '==== Kafka broker %d: %s (last %d lines) ====\n' "$i" "$KAFKA_DIR/node$i/$f" "$lines" >&2
			tail -n "$lines" "$KAFKA_DIR/node$i/$f" >&2
		done
	done
	if [ -s "$KAFKA_DIR/tools.log" ]; then
		printf '==== Kafka tools: %s (last %d lines) ====\n' "$KAFKA_DIR/tools.log" "$lines" >&2
		tail -n "$lines" "$KAFKA_DIR/tools.log" >&2
	fi
}

# Print "partition leader isr-size" for each partition of TOPIC, from the
# metadata (nothing when the topic is unknown).
_kafka_partitions()
{
	_kafka_metadata "$KAFKA_BOOTSTRAP" -t "$1" | awk '
		$1 == "partition" {
			p = $2; sub(",", "", p)
			l = $4; sub(",", "", l)
			isr = ""
			for (i = 1; i <= NF; i++)
				if ($i == "isrs:") { isr = $(i + 1); sub(",$", "", isr) }
			print p, l, (isr == "" ? 0 : split(isr, a, ","))
		}'
}

kafka_metadata()
{
	[ -n "${KAFKA_BOOTSTRAP:-}" ] || fail "kafka_metadata: no Kafka started"
	if [ $# -gt 0 ]; then
		_kafka_metadata "$KAFKA_BOOTSTRAP" -t "$1"
	else
		_kafka_metadata "$KAFKA_BOOTSTRAP"
	fi
}

kafka_leader()
{
	[ $# -eq 2 ] || fail "usage: kafka_leader TOPIC PARTITION"
	local leader
	leader=$(_kafka_partitions "$1" | awk -v p="$2" '$1 == p { print $2 }')
	echo "${leader:--1}"
}

_kafka_isr_full()
{
	local topic=$1 size=$2 want=${3:-} parts
	parts=$(_kafka_partitions "$topic")
	[ -n "$parts" ] || return 1
	[ -z "$want" ] || [ "$(printf '%s\n' "$parts" | wc -l)" -eq "$want" ] || return 1
	printf '%s\n' "$parts" | awk -v s="$size" '$2 < 0 || $3 < s { bad = 1 } END { exit bad }'
}

kafka_wait_isr()
{
	[ $# -ge 2 ] || fail "usage: kafka_wait_isr TOPIC SIZE [SECS]"
	w2a_wait_for "${3:-60}" _kafka_isr_full "$1" "$2" ||
		{ _kafka_metadata "$KAFKA_BOOTSTRAP" -t "$1" >&2; fail "topic \"$1\": ISR not back to $2 in ${3:-60} s"; }
}

kafka_create_topic()
{
	[ $# -ge 3 ] || fail "usage: kafka_create_topic NAME PARTITIONS RF [CONFIG=VALUE...]"
	local name=$1 parts=$2 rf=$3 out c
	local configs=()
	shift 3
	for c in "$@"; do
		configs+=(--config "$c")
	done
	[ -n "${KAFKA_BOOTSTRAP:-}" ] || fail "kafka_create_topic: no Kafka started"
	out=$(_kafka_java_tool org.apache.kafka.tools.TopicCommand \
			--bootstrap-server "$KAFKA_BOOTSTRAP" --create --topic "$name" \
			--partitions "$parts" --replication-factor "$rf" "${configs[@]}" 2>&1) ||
		{ printf '%s\n' "$out" >&2; fail "could not create topic \"$name\""; }
	w2a_wait_for 60 _kafka_isr_full "$name" "$rf" "$parts" ||
		{ _kafka_metadata "$KAFKA_BOOTSTRAP" -t "$name" >&2; fail "topic \"$name\" has no leaders or full ISR after 60 s"; }
}
