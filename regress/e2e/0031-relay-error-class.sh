#!/usr/bin/env bash
# regress/e2e/0031-relay-error-class.sh -- which failures the relay retries
#
# The relay decides by SQLSTATE, never by message text (relay/pgerror.c):
#  (a) a plugin ERROR mid-stream that comes again on every replay (a record
#      over max-record-size, 54000, after five good rows of the same
#      transaction) stops it with exit status 2 after a bounded number of
#      tries, the failing transaction's rows produced a bounded number of
#      times, the slot confirmed before that transaction and not past it;
#  (a2) a key-columns entry naming a missing column stops it at start-up
#      (22023 from START_REPLICATION), before any change to that table;
#  (a3) a failure that is neither transient nor permanent (a topic name over
#      the relay's limit) at the same position stops it with exit status 2
#      after 3 tries;
#  (b) the default slot held by another client ("replication slot
#      \"wal2avro\" is active for PID n", 55006, as after a kill -9) is
#      retried with backoff until it is free, then streamed;
#  (c) --no-loop with Kafka down exits 3 (a Kafka failure), not 2;
#  (d) with the server's messages in German (lc_messages C.UTF-8 and
#      LANGUAGE=de, when the translations are found), a wrong password
#      (28P01) stops it with exit status 2, as in English.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
. "$W2A_ROOT/regress/lib/pg.sh"
. "$W2A_ROOT/regress/lib/kafka.sh"
. "$W2A_ROOT/regress/lib/relay.sh"

MAX_REPEATS=3	# PGERROR_MAX_REPEATS in relay/pgerror.h

out=$(w2a_tmpdir relay-error-class)
RELAY_LOG=$out/relay.log
pg_start "$out/pg"
kafka_start_single "$out/kafka"

relay_exited()
{
	! kill -0 "$RELAY_PID" 2>/dev/null
}

# Wait (bounded) for the relay to exit; its status in $relay_rc.
relay_await_exit()
{
	local secs=$1 what=$2
	if ! w2a_wait_for "$secs" relay_exited; then
		fail "the relay still runs after $secs s: $what; last lines: $(tail -n 5 "$RELAY_LOG")"
	fi
	relay_rc=0
	wait "$RELAY_PID" || relay_rc=$?
	RELAY_PID=
}

topic_count()
{
	kcat -b "$KAFKA_BOOTSTRAP" -C -t "$1" -e -q -f '.\n' 2>/dev/null | grep -c . || true
}

psql -Xq -v ON_ERROR_STOP=1 -c "CREATE TABLE docs (id int PRIMARY KEY, body text)"

# ---- (a) a repeatable plugin ERROR mid-stream ----
relay_start big -o max-record-size=3000
psql -Xq -c "INSERT INTO docs VALUES (1, 'small before')"
before_end=$(psql -XAtc "SELECT pg_current_wal_lsn()")
relay_wait_confirmed "$before_end" 60
psql -Xq -v ON_ERROR_STOP=1 <<'SQL'
BEGIN;
INSERT INTO docs SELECT g, 'good row ' || g FROM generate_series(10, 14) g;
INSERT INTO docs SELECT 2, string_agg(md5(g::text), '') FROM generate_series(1, 640) g;
COMMIT;
SQL
big_end=$(psql -XAtc "SELECT pg_current_wal_lsn()")
w2a_wait_for 120 relay_exited ||
	fail "the relay still runs after 120 s, $(($(topic_count wal2avro.public.docs) - 1)) records of the failing transaction produced so far ($(grep -c 'reconnecting in' "$RELAY_LOG") reconnects)"
relay_await_exit 1 "a record over max-record-size"
n=$(topic_count wal2avro.public.docs)
info "relay exited with $relay_rc; $n records on the topic (1 before the failing transaction)"
[ "$relay_rc" -eq 2 ] || fail "relay exited with $relay_rc, not 2, on a record over max-record-size"
grep -q 'exceeds "max-record-size" of 3000 bytes' "$RELAY_LOG" ||
	fail "the relay log does not say what failed"
[ "$n" -ge 1 ] && [ $((n - 1)) -le $((5 * MAX_REPEATS)) ] ||
	fail "$((n - 1)) records of the failing transaction on the topic: more than $MAX_REPEATS tries of 5"
w2a_sql_true "SELECT confirmed_flush_lsn >= '$before_end' AND confirmed_flush_lsn < '$big_end' FROM pg_replication_slots WHERE slot_name = 'big'" ||
	fail "slot confirmed at $(slot_confirmed big): not at the transaction before ($before_end) or past the failing one ($big_end)"
info "(a) stopped with status 2, $((n - 1)) records of the failing transaction, slot at $(slot_confirmed big)"
psql -Xq -c "SELECT pg_drop_replication_slot('big')" >/dev/null

# ---- (a2) a bad key-columns is refused at start-up ----
relay_launch badkey -o key-columns=public.docs:no_such_column
relay_await_exit 60 "a key-columns entry naming a missing column is not refused at start-up"
[ "$relay_rc" -eq 2 ] || fail "relay exited with $relay_rc, not 2, on a bad key-columns"
grep -q 'column "no_such_column" named in "key-columns" does not exist in table "public.docs"' "$RELAY_LOG" ||
	fail "the relay log does not name the bad key-columns entry"
info "(a2) a bad key-columns stopped the relay at start-up with status 2"
psql -Xq -c "SELECT pg_drop_replication_slot('badkey')" >/dev/null

# ---- (a3) a repeatable failure mid-transaction: bounded retries ----
# A topic name over the relay's limit (a template naming the table 8 times,
# a 63-byte table name) fails the same way at the table's schema frame on
# every replay, after the transaction's first five rows were produced.
long=$(printf 't%.0s' $(seq 63))
psql -Xq -v ON_ERROR_STOP=1 -c "CREATE TABLE $long (id int PRIMARY KEY)"
few=$(topic_count "wal2avro.public.docs.docs.docs.docs.docs.docs.docs.docs")
relay_start again --reconnect-max-backoff=2 \
	--topic-template='{prefix}.{schema}.{table}.{table}.{table}.{table}.{table}.{table}.{table}.{table}'
psql -Xq -v ON_ERROR_STOP=1 <<SQL
BEGIN;
INSERT INTO docs SELECT g, 'again ' || g FROM generate_series(30, 34) g;
INSERT INTO $long VALUES (1);
COMMIT;
SQL
again_end=$(psql -XAtc "SELECT pg_current_wal_lsn()")
w2a_wait_for 120 relay_exited ||
	fail "the relay still runs after 120 s, $(($(topic_count "wal2avro.public.docs.docs.docs.docs.docs.docs.docs.docs") - few)) records of the failing transaction produced so far ($(grep -c 'reconnecting in' "$RELAY_LOG") reconnects)"
relay_await_exit 1 "a repeatable failure"
n=$(($(topic_count "wal2avro.public.docs.docs.docs.docs.docs.docs.docs.docs") - few))
info "relay exited with $relay_rc; $n records of the failing transaction on the topic"
[ "$relay_rc" -eq 2 ] || fail "relay exited with $relay_rc, not 2, on a failure repeated at one position"
grep -q "error: the same failure came $MAX_REPEATS times in a row at .*: topic name for table \"public.$long\" is too long" "$RELAY_LOG" ||
	fail "the relay log does not say which failure repeated"
[ "$n" -le $((5 * MAX_REPEATS)) ] || fail "$n records of the failing transaction: more than $MAX_REPEATS tries of 5"
w2a_sql_true "SELECT confirmed_flush_lsn < '$again_end' FROM pg_replication_slots WHERE slot_name = 'again'" ||
	fail "slot confirmed at $(slot_confirmed again), past the failing transaction ($again_end)"
info "(a3) stopped with status 2 after $MAX_REPEATS tries, $n records of the failing transaction"
psql -Xq -c "SELECT pg_drop_replication_slot('again')" >/dev/null

# ---- (b) the default slot busy: retried until it is free ----
psql -XAtq -c "SELECT 'made' FROM pg_create_logical_replication_slot('wal2avro', 'wal2avro')" >/dev/null
"$W2A_PGBIN/pg_recvlogical" -d postgres -S wal2avro --start -f /dev/null 2>"$out/recvlogical.err" &
holder=$!
w2a_on_exit "kill $holder 2>/dev/null || true"
w2a_await 30 "pg_recvlogical to hold slot wal2avro" \
	w2a_sql_true "SELECT active FROM pg_replication_slots WHERE slot_name = 'wal2avro'"
busy_before=$(grep -c 'is active for PID' "$RELAY_LOG" || true)
# the default slot name: no -S
RELAY_SLOT=wal2avro
"$W2A_RELAY" -d "host=$PGHOST port=$PGPORT dbname=postgres user=$PGUSER" -b "$KAFKA_BOOTSTRAP" \
	-X reconnect.backoff.max.ms=500 --metrics-listen=127.0.0.1:0 --snapshot-mode=never \
	--reconnect-max-backoff=2 >>"$RELAY_LOG" 2>&1 &
RELAY_PID=$!
retried_or_exited()
{
	local n
	n=$(grep -c 'is active for PID' "$RELAY_LOG" || true)
	echo "$((n - busy_before)) busy-slot failures logged"
	[ $((n - busy_before)) -ge 2 ] || relay_exited
}
w2a_wait_for 60 retried_or_exited || fail "the relay did not retry the busy slot: $W2A_WAIT_LAST"
if relay_exited; then
	relay_await_exit 1 "slot busy"
	fail "the relay exited with $relay_rc while the slot was busy: $(grep 'is active for PID' "$RELAY_LOG" | tail -n 1)"
fi
grep -q 'reconnecting in' "$RELAY_LOG" || fail "no reconnect line in the relay log"
info "(b) slot busy: $W2A_WAIT_LAST, still running; freeing it"
kill "$holder"
wait "$holder" 2>/dev/null || true
psql -Xq -c "INSERT INTO docs VALUES (20, 'after the slot was freed')"
relay_wait_confirmed "$(psql -XAtc "SELECT pg_current_wal_lsn()")" 60
relay_stop
info "(b) streamed once the slot was free, stopped with status 0"

# ---- (c) --no-loop with Kafka down: exit 3 ----
dead=$(w2a_free_port)
"$W2A_RELAY" -d "host=$PGHOST port=$PGPORT dbname=postgres user=$PGUSER" -b "127.0.0.1:$dead" \
	-X reconnect.backoff.max.ms=500 --metrics-listen=127.0.0.1:0 --snapshot-mode=never \
	--no-loop >>"$RELAY_LOG" 2>&1 &
RELAY_PID=$!
relay_await_exit 120 "--no-loop with Kafka down"
[ "$relay_rc" -eq 3 ] || fail "--no-loop with Kafka down exited with $relay_rc, not 3"
info "(c) --no-loop with Kafka down exited with status 3"

# ---- (d) the server's messages in another language ----
psql -Xq -v ON_ERROR_STOP=1 -c "CREATE ROLE cdc LOGIN REPLICATION PASSWORD 'right'"
{
	echo "host all cdc 127.0.0.1/32 scram-sha-256"
	cat "$W2A_PGDATA/pg_hba.conf"
} >"$out/pg_hba.conf"
pg_as_owner cp "$out/pg_hba.conf" "$W2A_PGDATA/pg_hba.conf"
echo "lc_messages = 'C.UTF-8'" | pg_as_owner tee -a "$W2A_PGDATA/postgresql.conf" >/dev/null
LANGUAGE=de pg_restart
german=$(psql -XAtc "SELECT 1/0" 2>&1 || true)
if ! echo "$german" | grep -qi "division durch null"; then
	echo "SKIP (d): the server finds no German translations here ($german); test_pgerror covers the codes"
else
	info "server messages now read: $german"
	"$W2A_RELAY" -d "host=127.0.0.1 port=$PGPORT dbname=postgres user=cdc password=wrong" \
		-b "$KAFKA_BOOTSTRAP" --metrics-listen=127.0.0.1:0 --snapshot-mode=never \
		--reconnect-max-backoff=1 >>"$RELAY_LOG" 2>&1 &
	RELAY_PID=$!
	relay_await_exit 60 "a wrong password, reported in German, is retried"
	[ "$relay_rc" -eq 2 ] || fail "a wrong password (German server) exited with $relay_rc, not 2"
	grep -q '28P01: Passwort-Authentifizierung' "$RELAY_LOG" ||
		fail "the relay log does not show the server's German message with its SQLSTATE"
	info "relay: $(grep -m 1 '28P01' "$RELAY_LOG")"
	info "(d) a wrong password, in German, stopped the relay with status 2"
fi
echo "PASS: failures are classified by SQLSTATE; a repeatable one stops, a busy slot is retried"
