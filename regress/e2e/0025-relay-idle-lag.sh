#!/usr/bin/env bash
# regress/e2e/0025-relay-idle-lag.sh -- a quiet slot next to busy neighbours
#
# The relay captures one table nobody writes.  Meanwhile another table of
# the same database (left out with include-tables) and a table of another
# database take a heavy write load.  The slot must not pin WAL: its
# confirmed position follows the server's (lag bounded), since with nothing
# in flight the relay confirms the positions keepalives report.  Also: the
# relay's --log-file is reopened on SIGHUP (log rotation).
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
. "$W2A_ROOT/regress/lib/pg.sh"
. "$W2A_ROOT/regress/lib/kafka.sh"
. "$W2A_ROOT/regress/lib/relay.sh"

out=$(w2a_tmpdir relay-idle)
RELAY_LOG=$out/relay.log
pg_start "$out/pg"
kafka_start_single "$out/kafka"

psql -Xq -v ON_ERROR_STOP=1 <<'SQL'
CREATE TABLE captured (id int PRIMARY KEY);
CREATE TABLE busy (id serial PRIMARY KEY, pad text);
CREATE DATABASE neighbour;
SQL
psql -Xq -d neighbour -c "CREATE TABLE noise (id serial PRIMARY KEY, pad text)"

relay_start idle -o include-tables=public.captured --log-file="$out/relay-own.log"
psql -Xq -c "INSERT INTO captured VALUES (1)"
start=$(psql -XAtc "SELECT pg_current_wal_lsn()")
for i in $(seq 1 10); do
	psql -Xq -c "INSERT INTO busy (pad) SELECT repeat('x', 500) FROM generate_series(1, 5000)"
	psql -Xq -d neighbour -c "INSERT INTO noise (pad) SELECT repeat('y', 500) FROM generate_series(1, 5000)"
done
written=$(psql -XAtc "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '$start')::bigint")
info "the neighbours wrote $((written / 1048576)) MB of WAL"
[ "$written" -gt $((20 * 1048576)) ] || fail "the load wrote too little WAL to tell"
slot_follows()	# the idle slot lags the server's WAL end by under 1 MB
{
	lag=$(psql -XAtc "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint FROM pg_replication_slots WHERE slot_name = 'idle'")
	echo "slot lag $lag bytes"
	[ "$lag" -lt 1048576 ]
}
w2a_await 60 "the idle slot to follow the server (lag under 1 MB)" slot_follows
info "slot lag after the load: $lag bytes"
# log rotation: move the file away, SIGHUP, the relay writes a new one
mv "$out/relay-own.log" "$out/relay-own.log.1"
kill -HUP "$RELAY_PID"
w2a_wait_for 10 grep -q "log file reopened" "$out/relay-own.log" ||
	fail "no new log file after SIGHUP"
grep -q "streaming slot" "$out/relay-own.log.1" || fail "the first log file has no start line"
relay_stop
echo "PASS: an idle slot follows the server's position ($lag bytes behind after $((written / 1048576)) MB)"
