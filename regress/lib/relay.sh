# regress/lib/relay.sh -- run wal2avro-relay in end-to-end tests
#
# Source after common.sh, pg.sh and kafka.sh (a cluster and brokers running).
#   relay_start SLOT [ARGS...]    start the relay in the background on the
#                                 current cluster and brokers; RELAY_PID, log
#                                 in $RELAY_LOG (appended across restarts)
#   relay_launch SLOT [ARGS...]   the same without waiting for the stream (an
#                                 initial snapshot runs before it starts)
#   RELAY_SNAPSHOT_MODE           --snapshot-mode given to both (default never:
#                                 the tests that compare with a reference slot
#                                 want changes only); ARGS may override it
#   RELAY_CONNINFO                the connection string given to both (default:
#                                 the current cluster); a multi-host one for a
#                                 failover
#   RELAY_KAFKA_ARGS              librdkafka settings given to both (default
#                                 "-X reconnect.backoff.max.ms=500"; set it empty
#                                 to run on the relay's own defaults)
#   relay_kill9                   kill -9 it and wait until the slot is free
#   relay_stop                    SIGTERM, wait, fail if it did not exit 0
#   relay_wait_confirmed LSN [S]  wait until the slot confirmed LSN
#   relay_tail_all OUT [SECS]     every wal2avro topic, decoded, into OUT
#   kafka_high_watermarks TOPIC...
#                                 "topic=next offset" for partition 0 of each
#   slot_confirmed SLOT           its confirmed_flush_lsn
#   relay_stored_position SLOT    the last position the relay stored for SLOT
#                                 on the state topic _wal2avro_state (nothing if
#                                 none): what it had confirmed when its server
#                                 went away
#   relay_stored_covers SLOT LSN  has it stored LSN or later (for w2a_wait_for)
#   relay_metrics_url             the running relay's metrics endpoint (it
#                                 listens on a free loopback port)
#   relay_metric NAME [LABELS]    one sample's value from /metrics (0 if absent)

W2A_RELAY=${W2A_RELAY:-$W2A_ROOT/relay/wal2avro-relay}

relay_start()
{
	relay_launch "$@"
	w2a_wait_for 30 w2a_sql_true "SELECT EXISTS (SELECT FROM pg_replication_slots WHERE slot_name = '$1' AND active)" ||
		fail "relay did not start streaming slot $1"
}

relay_launch()
{
	local slot=$1
	shift
	[ -x "$W2A_RELAY" ] || fail "wal2avro-relay is not built ($W2A_RELAY)"
	RELAY_SLOT=$slot
	RELAY_LOG=${RELAY_LOG:-$(w2a_tmpdir relay)/relay.log}
	# shellcheck disable=SC2086 # RELAY_KAFKA_ARGS is words on purpose
	"$W2A_RELAY" -d "${RELAY_CONNINFO:-host=$PGHOST port=$PGPORT dbname=${PGDATABASE:-postgres} user=$PGUSER}" \
		-b "$KAFKA_BOOTSTRAP" -S "$slot" ${RELAY_KAFKA_ARGS--X reconnect.backoff.max.ms=500} \
		--metrics-listen=127.0.0.1:0 --snapshot-mode="${RELAY_SNAPSHOT_MODE:-never}" "$@" \
		>>"$RELAY_LOG" 2>&1 &
	RELAY_PID=$!
	if [ -z "${_relay_trap:-}" ]; then
		_relay_trap=1
		w2a_on_exit '[ -n "${RELAY_PID:-}" ] && kill -9 $RELAY_PID 2>/dev/null; [ "${W2A_EXIT_RC:-0}" -eq 0 ] || { echo "---- tail of $RELAY_LOG ----" >&2; tail -n 40 "$RELAY_LOG" >&2; }'
	fi
}

relay_kill9()
{
	kill -9 "$RELAY_PID" 2>/dev/null || true
	wait "$RELAY_PID" 2>/dev/null || true
	RELAY_PID=
	w2a_wait_for 30 w2a_sql_true "SELECT NOT active FROM pg_replication_slots WHERE slot_name = '$RELAY_SLOT'" ||
		fail "slot $RELAY_SLOT still active after the relay died"
}

relay_stop()
{
	local rc=0
	kill -TERM "$RELAY_PID"
	wait "$RELAY_PID" || rc=$?
	RELAY_PID=
	[ $rc -eq 0 ] || fail "relay exited with $rc on SIGTERM"
}

slot_confirmed()
{
	psql -XAtc "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = '$1'"
}

relay_stored_position()
{
	# empty, not a failure, before the relay's first position record (the
	# state topic does not exist yet, and kcat fails on it)
	{ kcat -b "$KAFKA_BOOTSTRAP" -C -t _wal2avro_state -e -q -f '%k %s\n' 2>/dev/null || true; } |
		awk -v k="position.$1" '$1 == k && $2 == "confirmed" { v = $3 } END { print v }'
}

# Has the relay stored a position of SLOT at LSN or later?  For w2a_wait_for.
relay_stored_covers()
{
	local pos
	pos=$(relay_stored_position "$1")
	[ -n "$pos" ] && w2a_sql_true "SELECT '$pos'::pg_lsn >= '$2'"
}

relay_wait_confirmed()
{
	w2a_wait_for "${2:-60}" w2a_sql_true \
		"SELECT confirmed_flush_lsn >= '$1' FROM pg_replication_slots WHERE slot_name = '$RELAY_SLOT'" ||
		fail "slot $RELAY_SLOT did not confirm $1 (at $(slot_confirmed "$RELAY_SLOT"))"
}

kafka_high_watermarks()
{
	local t out
	for t in "$@"; do
		out=$(kcat -b "$KAFKA_BOOTSTRAP" -Q -t "$t:0:-1" 2>/dev/null | awk '{print $NF}')
		printf ' %s=%s' "$t" "${out:-0}"
	done
}

relay_tail_all()
{
	"$W2A_RELAY" tail -b "$KAFKA_BOOTSTRAP" -t "${2:-8}" '^wal2avro\..*' >"$1" 2>"$1.err" ||
		{ cat "$1.err" >&2; fail "tail failed"; }
}

relay_metrics_url()
{
	local url=
	w2a_wait_for 10 grep -q "metrics at http://" "$RELAY_LOG" || fail "the relay logged no metrics address"
	url=$(grep -o "metrics at http://[^ ]*" "$RELAY_LOG" | tail -n 1 | cut -d' ' -f3)
	echo "${url%/metrics}"
}

relay_metric()
{
	local name=$1 labels=${2:-}
	curl -sf "$(relay_metrics_url)/metrics" |
		awk -v n="$name" -v l="$labels" '
			$1 == n || (l != "" && index($1, n "{") == 1 && index($1, l) > 0) { v = $2 }
			END { print (v == "" ? 0 : v) }'
}
