#!/usr/bin/env bash
# regress/e2e/0026-relay-record-failure.sh -- a record Kafka refuses for good
#
# A topic accepts records up to 3000 bytes; a transaction writes a 20 kB
# row between two small ones.  With the default on-error=stop the relay must
# exit with status 3 and a clear error, having confirmed the transaction
# before and not the failed one.  Started again with on-error=dead-letter,
# with a dead-letter topic that refuses the record too, it must stop with
# status 3 again; with one that takes it, it must put the refused record on
# the dead-letter topic (with the error in a header), go on, and confirm
# everything; the other records are then on their topic.  Last, the JSON
# format with a record over the producer's message.max.bytes.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
. "$W2A_ROOT/regress/lib/pg.sh"
. "$W2A_ROOT/regress/lib/kafka.sh"
. "$W2A_ROOT/regress/lib/relay.sh"

out=$(w2a_tmpdir relay-failure)
RELAY_LOG=$out/relay.log
pg_start "$out/pg"
kafka_start_single "$out/kafka"
kafka_create_topic wal2avro.public.docs 1 1 max.message.bytes=3000

psql -Xq -v ON_ERROR_STOP=1 -c "CREATE TABLE docs (id int PRIMARY KEY, body text)"
relay_start fail
psql -Xq -c "INSERT INTO docs VALUES (1, 'small before')"
before_end=$(psql -XAtc "SELECT pg_current_wal_lsn()")
relay_wait_confirmed "$before_end" 60
psql -Xq -c "INSERT INTO docs SELECT 2, string_agg(md5(g::text), '') FROM generate_series(1, 640) g"
big_end=$(psql -XAtc "SELECT pg_current_wal_lsn()")
psql -Xq -c "INSERT INTO docs VALUES (3, 'small after')"
end_lsn=$(psql -XAtc "SELECT pg_current_wal_lsn()")

rc=0
wait "$RELAY_PID" || rc=$?
RELAY_PID=
[ $rc -eq 3 ] || fail "relay exited with $rc, not 3, on a refused record"
grep -q "error: delivery to topic \"wal2avro.public.docs\" failed" "$RELAY_LOG" ||
	fail "no clear error in the relay log"
w2a_sql_true "SELECT confirmed_flush_lsn < '$big_end' AND confirmed_flush_lsn >= '$before_end' FROM pg_replication_slots WHERE slot_name = 'fail'" ||
	fail "the slot was confirmed at $(slot_confirmed fail): past the failed record, or not up to the one before"
info "stopped with status 3 at $(slot_confirmed fail), before the refused record"

# a dead-letter topic that refuses it too: stop, rather than loop
kafka_create_topic wal2avro.small-dead-letter 1 1 max.message.bytes=3000
relay_launch fail --on-error=dead-letter --dead-letter-topic=wal2avro.small-dead-letter
rc=0
wait "$RELAY_PID" || rc=$?
RELAY_PID=
[ $rc -eq 3 ] || fail "relay exited with $rc, not 3, when the dead-letter topic refused the record too"
grep -q "error: delivery to topic \"wal2avro.small-dead-letter\" failed" "$RELAY_LOG" ||
	fail "no clear error when the dead-letter topic refused the record"
grep -q "hint: .*the dead-letter topic must take the record" "$RELAY_LOG" ||
	fail "no hint when the dead-letter topic refused the record"
w2a_sql_true "SELECT confirmed_flush_lsn < '$big_end' FROM pg_replication_slots WHERE slot_name = 'fail'" ||
	fail "the slot was confirmed past the record no topic took, at $(slot_confirmed fail)"
info "stopped with status 3 when the dead-letter topic refused the record too"

relay_start fail --on-error=dead-letter --dead-letter-topic=wal2avro.dead-letter
relay_wait_confirmed "$end_lsn" 60
relay_stop
dlq=$(kcat -b "$KAFKA_BOOTSTRAP" -C -t wal2avro.dead-letter -e -q -f '%h|%S\n' 2>/dev/null)
echo "$dlq" | grep -q "wal2avro.error=Broker: Message size too large.*|20573$" ||
	fail "the refused record is not on the dead-letter topic with its error: $dlq"
# Only the refused record is a dead letter; the small ones are on their
# topic (a record sent again after the refusal may be there twice).
n_dlq=$(echo "$dlq" | grep -c .)
n=$(kcat -b "$KAFKA_BOOTSTRAP" -C -t wal2avro.public.docs -e -q -f '.\n' 2>/dev/null | grep -c . || true)
[ "$n_dlq" -eq 1 ] && [ "$n" -ge 2 ] || fail "$n records on the topic and $n_dlq dead letters: expected 2 (or more) and 1"
info "$n records on the topic, $n_dlq on the dead-letter topic"

# The JSON format: a value over the producer's message.max.bytes (the
# inline schema makes a JSON record several times its Avro size) is refused
# by the client before it is sent, under the same policy: status 3, a clear
# error, nothing confirmed from it on.  Its Avro record would fit.
psql -Xq -v ON_ERROR_STOP=1 -c "CREATE TABLE notes (id int PRIMARY KEY, body text)"
RELAY_LOG=$out/relay-json.log
relay_start jfail --topic-prefix=jx --value-format=json --key-format=json -X message.max.bytes=8000
psql -Xq -c "INSERT INTO notes VALUES (1, 'small before')"
before_end=$(psql -XAtc "SELECT pg_current_wal_lsn()")
relay_wait_confirmed "$before_end" 60
psql -Xq -c "INSERT INTO notes SELECT 2, string_agg(md5(g::text), '') FROM generate_series(1, 200) g"
big_end=$(psql -XAtc "SELECT pg_current_wal_lsn()")
psql -Xq -c "INSERT INTO notes VALUES (3, 'small after')"
rc=0
w2a_wait_for 60 bash -c "! kill -0 $RELAY_PID 2>/dev/null" || fail "the relay did not stop on the JSON record over message.max.bytes"
wait "$RELAY_PID" || rc=$?
RELAY_PID=
[ $rc -eq 3 ] || fail "relay exited with $rc, not 3, on a JSON record over message.max.bytes"
grep -Eq 'error: could not produce to topic "jx.public.notes": .*too large \(a record of [0-9]+ bytes of key and value, over the producer.s message.max.bytes\)' "$RELAY_LOG" ||
	{ tail -n 5 "$RELAY_LOG" >&2; fail "no clear error for the JSON record over message.max.bytes"; }
w2a_sql_true "SELECT confirmed_flush_lsn < '$big_end' AND confirmed_flush_lsn >= '$before_end' FROM pg_replication_slots WHERE slot_name = 'jfail'" ||
	fail "slot jfail confirmed at $(slot_confirmed jfail): past the refused JSON record, or not up to the one before"
n=$(kcat -b "$KAFKA_BOOTSTRAP" -C -t jx.public.notes -e -q -f '.\n' 2>/dev/null | grep -c . || true)
[ "$n" -eq 1 ] || fail "$n records on jx.public.notes, not the 1 before the refused one"
info "JSON: stopped with status 3 at $(slot_confirmed jfail), before the record over message.max.bytes"
echo "PASS: a refused record stops the relay unconfirmed, or goes to the dead-letter topic"
