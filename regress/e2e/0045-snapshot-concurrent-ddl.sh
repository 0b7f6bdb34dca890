#!/usr/bin/env bash
# regress/e2e/0045-snapshot-concurrent-ddl.sh -- DDL between the slot's export and the reads
#
# DDL commits after the slot exported its snapshot and before the relay
# reads a table (a held xid and a paused Kafka make the window, see
# run_case).  Two runs, each over its own schema (include-tables):
#   a: ALTER COLUMN ... TYPE rewrites a.t2 and TRUNCATE empties a.t3 -- the
#      old snapshot would read a.t2 empty: the relay must see the new
#      relfilenode and take the snapshot again on a new slot;
#   b: DROP TABLE b.t3 and a rename of b.t4 -- b.t3 is gone (skipped, no
#      error: wal2avro.published() already leaves a table dropped before the
#      listing out), b.t4 is still read under its new name.
# Checks: the relay never failed, and the state rebuilt from Kafka equals
# every table.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
. "$W2A_ROOT/regress/lib/pg.sh"
. "$W2A_ROOT/regress/lib/kafka.sh"
. "$W2A_ROOT/regress/lib/relay.sh"
. "$W2A_ROOT/regress/tools/venv.sh"

out=$(w2a_tmpdir snapshot-concurrent-ddl)
RELAY_LOG=$out/relay.log
pg_start "$out/pg"
kafka_start_single "$out/kafka"

psql -Xq -v ON_ERROR_STOP=1 <<'SQL'
CREATE EXTENSION wal2avro;
CREATE SCHEMA a;
CREATE SCHEMA b;
CREATE TABLE a.t1 (id int PRIMARY KEY, v int);
CREATE TABLE a.t2 (id int PRIMARY KEY, v int);
CREATE TABLE a.t3 (id int PRIMARY KEY, v int);
CREATE TABLE b.t1 (id int PRIMARY KEY, v int);
CREATE TABLE b.t2 (id int PRIMARY KEY, v int);
CREATE TABLE b.t3 (id int PRIMARY KEY, v int);
CREATE TABLE b.t4 (id int PRIMARY KEY, v int);
INSERT INTO a.t1 SELECT g, g FROM generate_series(1, 1000) g;
INSERT INTO a.t2 SELECT g, g FROM generate_series(1, 1000) g;
INSERT INTO a.t3 SELECT g, g FROM generate_series(1, 1000) g;
INSERT INTO b.t1 SELECT g, g FROM generate_series(1, 1000) g;
INSERT INTO b.t2 SELECT g, g FROM generate_series(1, 1000) g;
INSERT INTO b.t3 SELECT g, g FROM generate_series(1, 1000) g;
INSERT INTO b.t4 SELECT g, g FROM generate_series(1, 1000) g;
SQL

# a session fed through a fifo, so it keeps its transaction open
session_open()
{
	rm -f "$out/session" "$out/session.log"
	mkfifo "$out/session"
	PGAPPNAME=w2a_ddl psql -X -v ON_ERROR_STOP=1 <"$out/session" >"$out/session.log" 2>&1 &
	session_pid=$!
	exec 3>"$out/session"
	w2a_on_exit "kill $session_pid 2>/dev/null || true"
}

kafka_pid=$(cat "$KAFKA_DIR/node1/pid")
w2a_on_exit "kill -CONT $kafka_pid 2>/dev/null || true"

# The window between the slot's export and the relay's first read is made
# wide on purpose: a transaction with an xid holds slot creation, Kafka is
# paused (SIGSTOP) before it ends, so the relay, its slot created, waits for
# the "started" marker's acknowledgement; the DDL commits then.
run_case()
{
	local schema=$1 ddl=$2 slot=snap_$1
	session_open
	echo "BEGIN; SELECT 'xid ' || pg_current_xact_id();" >&3
	w2a_wait_for 30 grep -q "xid " "$out/session.log" || fail "the session did not start"
	relay_launch "$slot" --snapshot-mode=initial -o "include-tables=$schema.*" 3>&-
	w2a_wait_for 60 w2a_sql_true "SELECT EXISTS (SELECT FROM pg_replication_slots WHERE slot_name = '$slot')" ||
		fail "the relay did not start creating slot $slot"
	kill -STOP "$kafka_pid"
	echo "COMMIT;" >&3
	exec 3>&-
	wait "$session_pid" || fail "the session failed: $(tail -n 3 "$out/session.log")"
	w2a_wait_for 60 w2a_sql_true "SELECT confirmed_flush_lsn IS NOT NULL FROM pg_replication_slots WHERE slot_name = '$slot'" ||
		fail "slot $slot was not created"
	info "slot $slot exported its snapshot, Kafka paused: $ddl"
	psql -Xq -v ON_ERROR_STOP=1 -c "$ddl"
	kill -CONT "$kafka_pid"
	w2a_wait_for 120 grep -q "snapshot done" "$RELAY_LOG" ||
		fail "the snapshot of schema $schema did not finish"
	w2a_wait_for 30 w2a_sql_true "SELECT active FROM pg_replication_slots WHERE slot_name = '$slot'" ||
		fail "the relay did not stream after the snapshot of schema $schema"
	relay_wait_confirmed "$(psql -XAtc "SELECT pg_current_wal_lsn()")" 60
	relay_stop
	grep "snapshot" "$RELAY_LOG" | sed 's/^/    /'
	grep "error:" "$RELAY_LOG" | grep -qv "error: kafka:" && fail "the relay logged an error"
	mv "$RELAY_LOG" "$out/relay.$schema.log"
}

# the state rebuilt from Kafka must equal each of the tables $@
check_kafka()
{
	local t
	for t in "$@"; do
		psql -XAtc "SELECT row_to_json(t) FROM $t t" >"$out/$t.jsonl"
	done
	relay_tail_all "$out/kafka.jsonl"
	"$W2A_PYTHON" "$W2A_ROOT/regress/tools/check_snapshot.py" "$out/kafka.jsonl" "$out" "$@" ||
		fail "Kafka does not rebuild the tables $*"
}

run_case a "ALTER TABLE a.t2 ALTER COLUMN v TYPE bigint; TRUNCATE a.t3;"
check_kafka a.t1 a.t2 a.t3
grep -q 'table "a.t[23]" was rewritten .*: dropping slot "snap_a" and taking a new snapshot' "$out/relay.a.log" ||
	fail "the relay did not say why it took a new snapshot"
run_case b "DROP TABLE b.t3; ALTER TABLE b.t4 RENAME TO t4r;"
check_kafka b.t1 b.t2 b.t4r
grep -q '"topic":"wal2avro.b.t3"' "$out/kafka.jsonl" && fail "dropped table b.t3 was read"
echo "PASS: a rewrite, a TRUNCATE, a DROP and a rename during the initial snapshot lost nothing"
