#!/usr/bin/env bash
# regress/e2e/0047-snapshot-on-demand-bounded.sh -- a blocked on-demand snapshot does not block the stream
#
# An on-demand snapshot is requested for a table another session holds in
# ACCESS EXCLUSIVE mode, so the relay's lookup and chunk queries wait for the
# lock.  Meanwhile the stream must go on: changes to another table reach
# Kafka, and with wal_sender_timeout at 3 s the replication connection is not
# dropped for want of status updates.  Then the lock goes, the snapshot
# finishes, and the state rebuilt from Kafka equals the table.  The chunk's
# size in blocks follows the server's block_size (logged).
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
. "$W2A_ROOT/regress/lib/pg.sh"
. "$W2A_ROOT/regress/lib/kafka.sh"
. "$W2A_ROOT/regress/lib/relay.sh"
. "$W2A_ROOT/regress/tools/venv.sh"

out=$(w2a_tmpdir snapshot-on-demand-bounded)
RELAY_LOG=$out/relay.log
pg_start "$out/pg"
kafka_start_single "$out/kafka"

psql -Xq -v ON_ERROR_STOP=1 <<'SQL'
CREATE EXTENSION wal2avro;
CREATE TABLE big (id bigint PRIMARY KEY, note text NOT NULL);
INSERT INTO big SELECT g, 'row ' || g FROM generate_series(1, 20000) g;
CREATE TABLE side (id bigint PRIMARY KEY);
ANALYZE;
ALTER SYSTEM SET wal_sender_timeout = '3s';
SELECT pg_reload_conf();
SQL
relay_start bounded --snapshot-mode=never --snapshot-chunk-size=64kB

side_count()
{
	local n
	n=$(kafka_high_watermarks wal2avro.public.side)
	n=${n#*=}
	echo "side topic: $n records"
	[ "${n:-0}" -ge "$1" ]
}
psql -XAtc "INSERT INTO side VALUES (0)" >/dev/null
w2a_await 60 "the first change of side in Kafka" side_count 1

# hold the table: the relay's queries on it wait
psql -XAtc "SET application_name = 'w2a-locker'; BEGIN; LOCK TABLE big IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(3600)" \
	>/dev/null 2>&1 &
locker=$!
w2a_on_exit "kill $locker 2>/dev/null || true"
w2a_await 30 "the lock on big" w2a_sql_true \
	"SELECT EXISTS (SELECT FROM pg_locks WHERE relation = 'big'::regclass AND mode = 'AccessExclusiveLock' AND granted)"
psql -XAtc "SELECT wal2avro.request_snapshot('big')" >/dev/null
w2a_await 60 "the relay's snapshot query waiting for the lock" w2a_sql_true \
	"SELECT EXISTS (SELECT FROM pg_stat_activity WHERE application_name = 'wal2avro-relay snapshot' AND wait_event_type = 'Lock')"

# while it waits, other changes stream on
for i in $(seq 1 20); do
	psql -XAtc "INSERT INTO side SELECT g FROM generate_series($((i * 100)), $((i * 100 + 99))) g" >/dev/null
done
w2a_await 60 "changes of side produced while the snapshot waits" side_count 2001
# a window longer than wal_sender_timeout in which the stream must not drop
w2a_wait_for 8 grep -q "reconnecting" "$RELAY_LOG" &&
	fail "the replication connection dropped while the snapshot waited"
w2a_sql_true "SELECT EXISTS (SELECT FROM pg_stat_activity WHERE application_name = 'wal2avro-relay snapshot' AND wait_event_type = 'Lock')" >/dev/null ||
	fail "the snapshot query stopped waiting for the lock before it was released"

psql -XAtc "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'w2a-locker'" >/dev/null
wait "$locker" 2>/dev/null || true
w2a_wait_for 120 grep -q "on-demand snapshot of public.big done" "$RELAY_LOG" || {
	psql -XAtc "SELECT application_name, state, wait_event_type, wait_event, query FROM pg_stat_activity WHERE backend_type = 'client backend'" >&2
	fail "the snapshot did not finish once the lock was released"
}
grep -q "on-demand snapshot of public.big: [0-9]* blocks of 8192 bytes, about [0-9-]* rows, in chunks of 8 blocks" "$RELAY_LOG" ||
	fail "the chunk size in blocks does not follow block_size (64kB / 8192)"
end_lsn=$(psql -XAtc "SELECT pg_current_wal_lsn()")
relay_wait_confirmed "$end_lsn" 120
relay_stop
if grep -q "reconnecting\|error:" "$RELAY_LOG"; then
	fail "the relay failed or reconnected during the snapshot"
fi
psql -XAtc "SELECT row_to_json(t) FROM big t" >"$out/public.big.jsonl"
relay_tail_all "$out/kafka.jsonl"
"$W2A_PYTHON" "$W2A_ROOT/regress/tools/check_snapshot.py" --rebuild "$out/kafka.jsonl" "$out" public.big ||
	fail "Kafka does not rebuild the table"
echo "PASS: the stream went on while an on-demand snapshot waited for a lock; the table was rebuilt"
