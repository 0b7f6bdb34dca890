#!/usr/bin/env bash
# regress/e2e/0071-relay-failover.sh -- the relay's slot survives a primary failover
#
# PostgreSQL 17 and later synchronize failover slots to a standby.  (A) A
# primary whose synchronized_standby_slots names the standby's physical
# slot (and whose commits wait for that standby: synchronous_standby_names),
# a standby with sync_replication_slots on; the relay, on a multi-host
# connection string with target_session_attrs=read-write, creates its slot
# with --failover-slot.  Two clients commit under load and write down each
# commit the server acknowledged.  Once the standby shows the slot synced
# and caught up, the primary is killed (-9) and the standby promoted: the
# relay finds the new primary and goes on.  check_stream.py compares Kafka
# with a reference slot made on the standby before the workload (so it
# decoded exactly the new primary's history): every committed change, in
# commit order per topic, duplicates only of what was not confirmed at the
# failover; every acknowledged commit is in Kafka.  (B) Failing over to a
# standby that did not synchronize the slot: the relay stops with exit
# status 2 naming the slot, creates no slot, and creates one only when run
# with --recreate-slot; an existing slot is made a failover slot.  On an
# older server: --failover-slot is refused (exit status 2), then SKIP.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
. "$W2A_ROOT/regress/lib/pg.sh"
. "$W2A_ROOT/regress/lib/standby.sh"
. "$W2A_ROOT/regress/lib/kafka.sh"
. "$W2A_ROOT/regress/lib/relay.sh"
. "$W2A_ROOT/regress/lib/workload.sh"
. "$W2A_ROOT/regress/tools/venv.sh"

out=$(w2a_tmpdir relay-failover)
RELAY_LOG=$out/relay.log
pg_start "$out/primary"
if [ "$(pg_server_version_num)" -lt 170000 ]; then
	# refused at once, before Kafka is asked anything (no broker listens on port 9)
	rc=0
	timeout 60 "$W2A_RELAY" -d "host=$PGHOST port=$PGPORT dbname=postgres user=$PGUSER" -b 127.0.0.1:9 \
		-S fo --failover-slot --snapshot-mode=never >"$out/old.log" 2>&1 || rc=$?
	[ "$rc" -eq 2 ] || { cat "$out/old.log" >&2; fail "--failover-slot on $(psql -XAtc 'SHOW server_version'): exit status $rc, not 2"; }
	grep -q "error: failover-slot needs PostgreSQL 17 or later, and the server is $(psql -XAtc 'SHOW server_version' | cut -d' ' -f1)\$" "$out/old.log" ||
		{ cat "$out/old.log" >&2; fail "the relay does not say why --failover-slot is refused"; }
	echo "SKIP: needs PostgreSQL 17+ (failover slots); this is $(psql -XAtc 'SHOW server_version')"
	exit 0
fi
primary=$out/primary
standby=$out/standby
kafka_start_single "$out/kafka"

# the tables; the reference slot is made on the standby instead
workload_counters "$out" 100 --log
psql -Xq -v ON_ERROR_STOP=1 <<'SQL'
SELECT pg_drop_replication_slot('ref');
CREATE TABLE acks (id int PRIMARY KEY, client int NOT NULL);
SQL
echo "sync_replication_slots = on" >"$out/standby.conf"
standby_start "$standby" standby1 "$out/standby.conf"
psql -Xq -v ON_ERROR_STOP=1 <<'SQL'
ALTER SYSTEM SET synchronized_standby_slots = 'standby1';
ALTER SYSTEM SET synchronous_standby_names = 'standby1';
SELECT pg_reload_conf();
SQL
w2a_await 30 "the standby to be synchronous" \
	w2a_sql_true "SELECT sync_state = 'sync' FROM pg_stat_replication WHERE application_name = 'standby1'"

make_ref_on_standby()
{
	local pid
	PGHOST=$standby PGPORT=$(cat "$standby/port") \
		psql -XAtq -v ON_ERROR_STOP=1 -c "SELECT 'ref' FROM pg_create_logical_replication_slot('ref', 'wal2avro')" >/dev/null &
	pid=$!
	primary_snapshot_await "$primary" 60 "the reference slot on the standby" \
		sh -c '! kill -0 "$1" 2>/dev/null' sh "$pid"
	wait "$pid" || fail "could not create the reference slot on the standby"
}
make_ref_on_standby

conninfo()	# DIR...: a multi-host connection string, read-write only
{
	local hosts="" ports="" d
	for d in "$@"; do
		hosts=${hosts:+$hosts,}$d
		ports=${ports:+$ports,}$(cat "$d/port")
	done
	echo "host=$hosts port=$ports dbname=postgres user=postgres target_session_attrs=read-write"
}
RELAY_CONNINFO=$(conninfo "$primary" "$standby")
relay_launch fo --failover-slot --reconnect-max-backoff=1
w2a_await 30 "the relay to stream" grep -q 'streaming slot "fo" from' "$RELAY_LOG"
grep -q 'created replication slot "fo" at .* (a failover slot)' "$RELAY_LOG" ||
	fail "the relay did not create a failover slot"
w2a_sql_true "SELECT failover FROM pg_replication_slots WHERE slot_name = 'fo'" ||
	fail "slot fo is not a failover slot on the primary"

# A client: transactions N, N+1, ... each inserting its row into acks and
# bumping a counter; it writes N to acked.C once the COMMIT returned.  It
# ends when the server goes, or after the transaction in which stop.C shows.
client()
{
	local c=$1 from=$2
	for ((i = from; i < from + 100000; i++)); do
		[ ! -e "$out/stop.$c" ] || break
		echo "BEGIN;"
		echo "INSERT INTO acks VALUES ($i, $c);"
		echo "UPDATE counters SET v = v + 1 WHERE id = $((i % 100 + 1));"
		echo "INSERT INTO log (k, note) VALUES ($c, 'client $c row $i');"
		echo "COMMIT;"
		echo "\\echo $i"
	done | psql -XAtq -v ON_ERROR_STOP=1 >"$out/acked.$c" 2>"$out/client.$c.err" || true
}
client 1 1000000 &
c1=$!
client 2 2000000 &
c2=$!
w2a_on_exit "kill $c1 $c2 2>/dev/null || true"

# under load: the standby has the slot synchronized, and past what the relay confirmed a moment ago
w2a_await 30 "acknowledged commits" sh -c '[ "$(wc -l <"$1")" -ge 200 ]' sh "$out/acked.1"
since=$(psql -XAtc "SELECT pg_current_wal_lsn()")
relay_wait_confirmed "$since" 60
synced()
{
	PGHOST=$standby PGPORT=$(cat "$standby/port") psql -XAtc \
		"SELECT synced, temporary, confirmed_flush_lsn, confirmed_flush_lsn >= '$since' FROM pg_replication_slots WHERE slot_name = 'fo'" |
		tee /dev/stderr | grep -qx 't|f|[0-9A-F/]*|t'
}
w2a_await 60 "slot fo synchronized to the standby up to $since" synced
# The copy lags the primary's slot by the sync worker's nap (up to 30 s on a
# quiet server): stop the worker, so that the copy is well behind what the
# relay confirms until the failover, and the relay must bring its own
# position over to the new timeline not to send confirmed changes again.
PGHOST=$standby PGPORT=$(cat "$standby/port") psql -Xq -v ON_ERROR_STOP=1 \
	-c "ALTER SYSTEM SET sync_replication_slots = off" -c "SELECT pg_reload_conf()" >/dev/null
copy=$(PGHOST=$standby PGPORT=$(cat "$standby/port") psql -XAtc "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = 'fo'")
sync_stopped()
{
	PGHOST=$standby PGPORT=$(cat "$standby/port") psql -XAtc \
		"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'slotsync worker'" |
		tee /dev/stderr | grep -qx 0
}
w2a_await 30 "the slot sync worker to stop" sync_stopped
relay_wait_confirmed "$(psql -XAtc "SELECT pg_current_wal_lsn()")" 60
info "slot fo: copy on the standby at $copy, confirmed on the primary at $(slot_confirmed fo)"

: >"$out/kills"
seen=$(grep -c 'streaming slot "fo" from' "$RELAY_LOG")
pg_kill9
# what the relay had confirmed: its last position record (the slot never gets more)
confirmed=$(relay_stored_position fo)
[ -n "$confirmed" ] || fail "no position of slot fo on the state topic"
echo "$confirmed$(kafka_high_watermarks wal2avro.public.counters wal2avro.public.log wal2avro.public.acks)" >>"$out/kills"
info "primary killed: $(tail -n 1 "$out/kills")"
wait "$c1" "$c2" 2>/dev/null || true
acked_before=$(cat "$out/acked.1" "$out/acked.2" | wc -l)

pg_use "$standby"
pg_promote_current
w2a_await 60 "the relay to stream from the promoted standby" \
	sh -c '[ "$(grep -c "streaming slot \"fo\" from" "$1")" -gt "$2" ]' sh "$RELAY_LOG" "$seen"
grep -q "of timeline 1 is on this server's timeline 2 (a promoted standby)" "$RELAY_LOG" ||
	fail "the relay did not take its confirmed position over to the promoted standby"
# more commits on the new primary, acknowledged too
client 3 3000000 &
c3=$!
w2a_await 30 "acknowledged commits on the new primary" sh -c '[ "$(wc -l <"$1")" -ge 50 ]' sh "$out/acked.3"
touch "$out/stop.3"
wait "$c3" 2>/dev/null || true
end_lsn=$(psql -XAtc "SELECT pg_current_wal_lsn()")
relay_wait_confirmed "$end_lsn" 60
relay_stop

for t in counters log acks; do
	psql -XAtc "SELECT row_to_json(t) FROM $t t" >"$out/$t.jsonl"
done
psql -XAtc "SELECT data FROM pg_logical_slot_get_changes('ref', NULL, NULL, 'format', 'json')" >"$out/ref.jsonl"
relay_tail_all "$out/kafka.jsonl"
"$W2A_PYTHON" "$W2A_ROOT/regress/tools/check_stream.py" "$out/ref.jsonl" "$out/kafka.jsonl" \
	--kills "$out/kills" --select "$out" ||
	fail "after the failover Kafka does not hold exactly the changes committed on the new primary's history"
"$W2A_PYTHON" - "$out" <<'EOF' || fail "an acknowledged commit is not in Kafka"
import json, sys
out = sys.argv[1]
acked = set()
for c in (1, 2, 3):
    acked |= {int(l) for l in open(f"{out}/acked.{c}") if l.strip().isdigit()}
in_kafka = {e["key"]["id"] for e in map(json.loads, open(f"{out}/kafka.jsonl"))
            if e["topic"].endswith(".acks") and e.get("op") == "c"}
missing = sorted(acked - in_kafka)
print(f"{len(acked)} acknowledged commits, {len(in_kafka)} acks rows in Kafka, {len(missing)} missing {missing[:5]}")
sys.exit(1 if missing or len(acked) < 250 else 0)
EOF
info "(A) $acked_before commits acknowledged before the failover, all in Kafka"

# ---- (B) a standby that did not synchronize the slot ----
echo "sync_replication_slots = off" >"$out/standby2.conf"
standby2=$out/standby2
standby_start "$standby2" standby2 "$out/standby2.conf"
RELAY_CONNINFO=$(conninfo "$standby" "$standby2")
relay_start fo --failover-slot --reconnect-max-backoff=1
client 4 4000000 &
c4=$!
w2a_await 30 "acknowledged commits" sh -c '[ "$(wc -l <"$1")" -ge 20 ]' sh "$out/acked.4"
relay_wait_confirmed "$(psql -XAtc "SELECT pg_current_wal_lsn()")" 60
w2a_await 30 "the second standby to catch up" standby_caught_up "$standby" "$standby2"
pg_kill9
wait "$c4" 2>/dev/null || true
pg_use "$standby2"
pg_promote_current
relay_exited() { ! kill -0 "$RELAY_PID" 2>/dev/null; }
w2a_await 60 "the relay to stop on the promoted standby without the slot" relay_exited
rc=0
wait "$RELAY_PID" || rc=$?
RELAY_PID=
[ "$rc" -eq 2 ] || fail "the relay exited with $rc, not 2, finding no slot after the failover"
grep -q 'error: replication slot "fo" does not exist on this server, but the relay confirmed changes from it up to .*: it was not synchronized to this server before a failover' "$RELAY_LOG" ||
	fail "the relay's log does not say the slot was not synchronized"
grep -q 'hint: A new slot would start at the current end of the WAL' "$RELAY_LOG" ||
	fail "the relay's log gives no hint"
w2a_sql_true "SELECT NOT EXISTS (SELECT FROM pg_replication_slots WHERE slot_name = 'fo')" ||
	fail "the relay created slot fo after all"
# asked to, it makes a new one
relay_start fo --recreate-slot --reconnect-max-backoff=1
w2a_await 30 "the relay to stream from a new slot" grep -q 'streaming slot "fo" from .* asked for 0/0' "$RELAY_LOG"
relay_stop
# that slot is not a failover slot; --failover-slot makes it one
w2a_sql_true "SELECT NOT failover FROM pg_replication_slots WHERE slot_name = 'fo'" ||
	fail "the slot made by --recreate-slot without --failover-slot is a failover slot"
relay_start fo --failover-slot --reconnect-max-backoff=1
w2a_await 30 "the relay to make slot fo a failover slot" \
	grep -q 'replication slot "fo" is now a failover slot' "$RELAY_LOG"
w2a_sql_true "SELECT failover FROM pg_replication_slots WHERE slot_name = 'fo'" ||
	fail "slot fo is not a failover slot after the relay said so"
relay_stop
echo "PASS: the relay's failover slot came through a failover under load; a slot not synchronized is refused, not silently recreated"
