#!/usr/bin/env bash
# regress/e2e/0033-relay-fatal-producer.sh -- a fatal producer error under load
#
# librdkafka can give an idempotent producer up (a fatal error).  Under
# load, with on-error=dead-letter, the relay must not take that for a
# refused record: no exit, nothing in the dead-letter topic; it recreates
# the producer, replays from the last confirmed position, and in the end
# Kafka holds exactly the committed changes.  Then a fatal error that every
# new producer gets at once (a cause a new producer cannot fix) must stop
# the relay with exit status 3 after five in a row, not loop.  The error is
# raised inside the relay by an LD_PRELOAD shim (regress/tools/inject_fatal.c)
# through librdkafka's own rd_kafka_test_fatal_error.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
. "$W2A_ROOT/regress/lib/pg.sh"
. "$W2A_ROOT/regress/lib/kafka.sh"
. "$W2A_ROOT/regress/lib/relay.sh"
. "$W2A_ROOT/regress/lib/workload.sh"
. "$W2A_ROOT/regress/tools/venv.sh"

out=$(w2a_tmpdir relay-fatal-producer)
RELAY_LOG=$out/relay.log
# shellcheck disable=SC2046 # pkg-config prints words
cc -std=c11 -Wall -Wextra -Werror -shared -fPIC -o "$out/inject_fatal.so" \
	"$W2A_ROOT/regress/tools/inject_fatal.c" $(pkg-config --cflags --libs rdkafka) -ldl ||
	fail "could not build the fault injection shim"
pg_start "$out/pg"
kafka_start_single "$out/kafka"

workload_counters "$out" 100

trigger=$out/fatal
export W2A_INJECT_FATAL=$trigger
LD_PRELOAD=$out/inject_fatal.so relay_start fatal --on-error=dead-letter --dead-letter-topic=wal2avro.dlq
pgbench -n -c 1 -R 300 -T 3600 -f "$out/workload.sql" >"$out/pgbench.log" 2>&1 &
bench_pid=$!
w2a_on_exit "kill $bench_pid 2>/dev/null || true"
relay_wait_confirmed "$(psql -XAtc "SELECT pg_current_wal_lsn()")" 60

for n in 1 2 3; do
	w2a_await 60 "the workload to go on" w2a_sql_at_least "SELECT sum(v) FROM counters" $((n * 500))
	info "fatal producer error $n under load"
	: >"$trigger"
	w2a_await 30 "the relay to take the injected error" test ! -e "$trigger"
	recreated()
	{
		[ "$(grep -c "recreating the Kafka producer after a fatal error (1 of 5 in a row)" "$RELAY_LOG")" -ge "$n" ]
	}
	w2a_await 30 "the relay to recreate its producer" recreated
	w1=$(psql -XAtc "SELECT pg_current_wal_lsn()")
	relay_wait_confirmed "$w1" 60	# a new producer delivers again
	kill -0 "$RELAY_PID" || fail "the relay exited after fatal error $n"
	info "after fatal error $n: confirmed past $w1"
done
grep -q "kafka: fatal error: .*injected by regress/tools/inject_fatal.c" "$RELAY_LOG" ||
	fail "the injected error was not logged"
! grep -q "dead-letter topic" "$RELAY_LOG" || fail "a record went to the dead-letter topic for a fatal error"
! grep -q "looking for the refused record" "$RELAY_LOG" || fail "a fatal error was taken for a refused batch"

kill "$bench_pid"
wait "$bench_pid" 2>/dev/null || true
end_lsn=$(psql -XAtc "SELECT pg_current_wal_lsn()")
relay_wait_confirmed "$end_lsn" 120
[ "$(kafka_high_watermarks wal2avro.dlq)" = " wal2avro.dlq=0" ] ||
	fail "the dead-letter topic holds records:$(kafka_high_watermarks wal2avro.dlq)"

psql -XAtc "SELECT row_to_json(t) FROM counters t" >"$out/counters.jsonl"
psql -XAtc "SELECT data FROM pg_logical_slot_get_changes('ref', NULL, NULL, 'format', 'json')" >"$out/ref.jsonl"
relay_tail_all "$out/kafka.jsonl"
"$W2A_PYTHON" "$W2A_ROOT/regress/tools/check_stream.py" "$out/ref.jsonl" "$out/kafka.jsonl" \
	--select "$out" || fail "Kafka does not hold exactly the committed changes"

# every new producer fails at once: five in a row, then exit 3
info "a fatal error that every new producer gets"
psql -Xq -c "UPDATE counters SET v = v + 1 WHERE id = 1"	# something to produce
before=$(wc -l <"$RELAY_LOG")
echo always >"$trigger"
w2a_await 120 "the relay to give up" grep -q "5 Kafka producer failures in a row" "$RELAY_LOG"
rc=0
wait "$RELAY_PID" || rc=$?
RELAY_PID=
rm -f "$trigger"
[ "$rc" -eq 3 ] || fail "the relay exited with $rc after fatal errors in a row, not 3"
[ "$(tail -n +$((before + 1)) "$RELAY_LOG" | grep -c "recreating the Kafka producer after a fatal error")" -eq 4 ] ||
	fail "the relay did not recreate its producer four times before giving up"
echo "PASS: fatal producer errors under load recreated the producer and lost nothing; five in a row exit 3"
