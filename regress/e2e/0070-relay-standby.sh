#!/usr/bin/env bash
# regress/e2e/0070-relay-standby.sh -- the relay decodes on a physical standby
#
# PostgreSQL 16 and later decode on a standby.  A primary (wal_level =
# logical) and a physical standby of it (pg_basebackup -R, its own physical
# slot on the primary as primary_slot_name, hot_standby_feedback on); the
# relay creates its slot on the standby and streams from there while
# pgbench writes on the primary.  Mid-stream the standby is restarted
# (fast), then crashed (kill -9 of every server process) and started again:
# each time the relay reconnects and the slot on the standby goes on.  At
# the end check_stream.py compares Kafka with a reference slot on the
# primary: every committed change is there, in commit order per topic,
# duplicates only of what was not confirmed, the state rebuilt from Kafka
# equals SELECT.  Last, an initial snapshot taken on the standby
# (snapshot-mode initial_only, Debezium compatibility, which asks the
# snapshot's transaction id) has every row.  On an older server: SKIP.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
. "$W2A_ROOT/regress/lib/pg.sh"
. "$W2A_ROOT/regress/lib/standby.sh"
. "$W2A_ROOT/regress/lib/kafka.sh"
. "$W2A_ROOT/regress/lib/relay.sh"
. "$W2A_ROOT/regress/lib/workload.sh"
. "$W2A_ROOT/regress/tools/venv.sh"

out=$(w2a_tmpdir relay-standby)
RELAY_LOG=$out/relay.log
pg_start "$out/primary"
if [ "$(pg_server_version_num)" -lt 160000 ]; then
	echo "SKIP: needs PostgreSQL 16+ (decoding on a standby); this is $(psql -XAtc 'SHOW server_version')"
	exit 0
fi
primary=$out/primary
standby=$out/standby
kafka_start_single "$out/kafka"

workload_counters "$out" 200 --log --log-deletes
psql -Xq -v ON_ERROR_STOP=1 -c "CREATE EXTENSION wal2avro" # for the snapshot at the end
standby_start "$standby" standby1

# the slot is created on the standby: it waits for a running-xacts record
# (and is active meanwhile, so the log says when the stream started)
pg_use "$standby"
relay_launch sb --reconnect-max-backoff=2
primary_snapshot_await "$primary" 60 "the relay to create its slot on the standby and stream" \
	grep -q 'streaming slot "sb" from' "$RELAY_LOG"
grep -q 'created replication slot "sb"' "$RELAY_LOG" || fail "the relay did not say it created slot sb"

pg_use "$primary"
pgbench -n -c 2 -R 300 -T 600 -f "$out/workload.sql" >"$out/pgbench.log" 2>&1 &
bench_pid=$!
w2a_on_exit "kill $bench_pid 2>/dev/null || true"

: >"$out/kills"
for how in fast kill9; do
	pg_use "$primary"
	since=$(psql -XAtc "SELECT pg_current_wal_lsn()")
	pg_use "$standby"
	relay_wait_confirmed "$since" 60
	# and its state topic says so (right after the start it may hold nothing yet)
	w2a_wait_for 60 relay_stored_covers sb "$since" ||
		fail "the relay stored no position of slot sb at $since or later"
	seen=$(grep -c "reconnecting" "$RELAY_LOG" || true)
	if [ "$how" = fast ]; then
		pg_stop
	else
		pg_kill9
	fi
	# what the relay had confirmed: its last position record (the slot never gets more)
	confirmed=$(relay_stored_position sb)
	[ -n "$confirmed" ] || fail "no position of slot sb on the state topic"
	echo "$confirmed$(kafka_high_watermarks wal2avro.public.counters wal2avro.public.log)" >>"$out/kills"
	info "standby stopped ($how): $(tail -n 1 "$out/kills")"
	w2a_await 30 "the relay to notice the standby went away" \
		sh -c '[ "$(grep -c reconnecting "$1")" -gt "$2" ]' sh "$RELAY_LOG" "$seen"
	pg_start_again
	w2a_await 60 "the relay to stream again from the standby after its $how restart" \
		w2a_sql_true "SELECT EXISTS (SELECT FROM pg_replication_slots WHERE slot_name = 'sb' AND active)"
done

# the slot works after the restarts: it confirms what the primary wrote since
pg_use "$primary"
since=$(psql -XAtc "SELECT pg_current_wal_lsn()")
pg_use "$standby"
relay_wait_confirmed "$since" 60
kill "$bench_pid"
wait "$bench_pid" 2>/dev/null || true
pg_use "$primary"
end_lsn=$(psql -XAtc "SELECT pg_current_wal_lsn()")
w2a_await 60 "the standby to replay the workload" standby_caught_up "$primary" "$standby"
pg_use "$standby"
relay_wait_confirmed "$end_lsn" 60
relay_stop
grep -q "stopped at confirmed position" "$RELAY_LOG" || fail "no clean stop in the relay log"

pg_use "$primary"
for t in counters log; do
	psql -XAtc "SELECT row_to_json(t) FROM $t t" >"$out/$t.jsonl"
done
psql -XAtc "SELECT data FROM pg_logical_slot_get_changes('ref', NULL, NULL, 'format', 'json')" >"$out/ref.jsonl"
relay_tail_all "$out/kafka.jsonl"
"$W2A_PYTHON" "$W2A_ROOT/regress/tools/check_stream.py" "$out/ref.jsonl" "$out/kafka.jsonl" \
	--kills "$out/kills" --select "$out" ||
	fail "Kafka does not hold exactly the changes committed on the primary"

# a failover slot cannot be made on a standby: the server's refusal stops the relay
if [ "$(pg_server_version_num)" -ge 170000 ]; then
	pg_use "$standby"
	relay_launch sbfo --failover-slot
	w2a_await 30 "the relay to stop on --failover-slot against a standby" \
		sh -c '! kill -0 "$1" 2>/dev/null' sh "$RELAY_PID"
	rc=0
	wait "$RELAY_PID" || rc=$?
	RELAY_PID=
	[ "$rc" -eq 2 ] || fail "--failover-slot on a standby: exit status $rc, not 2"
	grep -q 'error: could not create replication slot: ERROR:  cannot enable failover for a replication slot created on the standby' "$RELAY_LOG" ||
		fail "the relay does not say why no failover slot was made on the standby"
fi

# an initial snapshot on the standby (the exported snapshot of a slot created there)
pg_use "$standby"
rows=$(psql -XAtc "SELECT count(*) FROM counters")
relay_launch snap --snapshot-mode=initial_only --compat=debezium --topic-prefix=snap \
	--value-format=json --key-format=json
primary_snapshot_await "$primary" 60 "the snapshot relay on the standby to finish" \
	sh -c '! kill -0 "$1" 2>/dev/null' sh "$RELAY_PID"
wait "$RELAY_PID" || fail "the initial_only relay on the standby exited with $?"
RELAY_PID=
n=$(kcat -b "$KAFKA_BOOTSTRAP" -C -t snap.public.counters -e -q -f '%s\n' 2>/dev/null |
	grep -c '"op":"r"' || true)
[ "$n" -eq "$rows" ] || fail "the snapshot on the standby produced $n of the $rows rows of counters"
grep -q '"txId":[0-9]' <(kcat -b "$KAFKA_BOOTSTRAP" -C -t snap.public.counters -e -q -f '%s\n' -c 1) ||
	fail "the snapshot's records carry no txId"
echo "PASS: the relay streams from a standby, across a fast and a kill -9 restart of it, losing nothing"
