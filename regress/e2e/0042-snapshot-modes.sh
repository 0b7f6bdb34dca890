#!/usr/bin/env bash
# regress/e2e/0042-snapshot-modes.sh -- snapshot-mode initial_only and never,
# and the error for a database without the extension
#
# initial_only: the relay reads the table, waits for every acknowledgement,
# exits 0, and leaves the slot at its consistent point (nothing confirmed
# past it); a second run finds the snapshot done and exits 0 at once.
# never: the slot streams changes only, no read record.  Without the
# wal2avro extension an initial snapshot is refused (exit 2) before the slot
# is created.  With compat=debezium the read records carry what Debezium's
# do: lsn the slot's consistent point, sequence [null,"<lsn>"], one txId,
# and the last row read (the last table being empty) is "last".
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
. "$W2A_ROOT/regress/lib/pg.sh"
. "$W2A_ROOT/regress/lib/kafka.sh"
. "$W2A_ROOT/regress/lib/relay.sh"

out=$(w2a_tmpdir snapshot-modes)
RELAY_LOG=$out/relay.log
pg_start "$out/pg"
kafka_start_single "$out/kafka"
psql -Xq -v ON_ERROR_STOP=1 <<'SQL'
CREATE EXTENSION wal2avro;
CREATE TABLE items (id int PRIMARY KEY, name text);
INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 1000) g;
CREATE DATABASE noext;
CREATE DATABASE dbz;
SQL
psql -Xq -v ON_ERROR_STOP=1 -d dbz <<'SQL'
CREATE EXTENSION wal2avro;
CREATE TABLE a_items (id int PRIMARY KEY, name text);
INSERT INTO a_items SELECT g, 'item ' || g FROM generate_series(1, 3) g;
CREATE TABLE b_one (id int PRIMARY KEY);
INSERT INTO b_one VALUES (1);
CREATE TABLE c_empty (id int PRIMARY KEY);
SQL

run_relay()
{
	"$W2A_RELAY" -d "host=$PGHOST port=$PGPORT dbname=${2:-postgres} user=$PGUSER" -b "$KAFKA_BOOTSTRAP" \
		-S "$1" --metrics-listen=off "${@:3}" >>"$RELAY_LOG" 2>&1
}
tail_topic()
{
	"$W2A_RELAY" tail -b "$KAFKA_BOOTSTRAP" -t 5 "^$1\$" >"$2" 2>"$2.err" || { cat "$2.err" >&2; fail "tail failed"; }
}

# initial_only
rc=0
run_relay only postgres --snapshot-mode=initial_only --topic-prefix=only || rc=$?
[ $rc -eq 0 ] || fail "initial_only exited with $rc"
start=$(sed -n 's/.*created replication slot "only" at \([0-9A-F/]*\).*/\1/p' "$RELAY_LOG")
grep -q "snapshot-mode is initial_only: not streaming; slot \"only\" stays at $start" "$RELAY_LOG" ||
	fail "initial_only did not say it leaves the slot at $start"
[ "$(slot_confirmed only)" = "$start" ] || fail "initial_only moved the slot from $start to $(slot_confirmed only)"
tail_topic only.public.items "$out/only.jsonl"
[ "$(grep -c '"op":"r"' "$out/only.jsonl")" -eq 1000 ] || fail "initial_only sent $(grep -c '"op":"r"' "$out/only.jsonl") read records, not 1000"
run_relay only postgres --snapshot-mode=initial_only --topic-prefix=only || fail "a second initial_only run failed"
[ "$(grep -c "snapshot of 1 tables" "$RELAY_LOG")" -eq 1 ] || fail "the second initial_only run read the table again"
info "initial_only: 1000 read records, slot left at $start, second run did nothing"

# compat=debezium: what Debezium's snapshot rows carry in their Source
rc=0
run_relay dbz dbz --snapshot-mode=initial_only --topic-prefix=dbz -o compat=debezium || rc=$?
[ $rc -eq 0 ] || fail "initial_only with compat=debezium exited with $rc"
start=$(sed -n 's/.*created replication slot "dbz" at \([0-9A-F/]*\).*/\1/p' "$RELAY_LOG")
tail_topic 'dbz\.public\..*' "$out/dbz.jsonl"
python3 - "$out/dbz.jsonl" "$start" <<'PY' || fail "the read records' Source is not Debezium's (above)"
import json, sys
hi, lo = sys.argv[2].split("/")
lsn = (int(hi, 16) << 32) + int(lo, 16)
recs = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
marks = {}
for r in sorted(recs, key=lambda r: (r["topic"], r["offset"])):
    marks.setdefault(r["topic"], []).append(r["snapshot"])
want = {"dbz.public.a_items": ["first_in_data_collection", "true", "last_in_data_collection"],
        "dbz.public.b_one": ["last"]}
problems = []
if marks != want:
    problems.append(f"marks {marks}, want {want} (c_empty, the last table, is empty)")
if {r["op"] for r in recs} != {"r"}:
    problems.append(f"ops {sorted({r['op'] for r in recs})}")
if {r["lsn"] for r in recs} != {lsn}:
    problems.append(f"lsn {sorted({r['lsn'] for r in recs}, key=str)}, want the consistent point {lsn}")
txids = {r["txId"] for r in recs}
if len(txids) != 1 or None in txids:
    problems.append(f"txId {sorted(txids, key=str)}, want one, not null")
for p in problems:
    print("FAIL:", p)
sys.exit(1 if problems else 0)
PY
info "compat=debezium: lsn $start, one txId, the snapshot's last row \"last\""

# never
RELAY_SNAPSHOT_MODE=never relay_start never --topic-prefix=never
psql -XAqc "INSERT INTO items VALUES (1001, 'late')"
relay_wait_confirmed "$(psql -XAtc "SELECT pg_current_wal_lsn()")"
relay_stop
tail_topic never.public.items "$out/never.jsonl"
[ "$(wc -l <"$out/never.jsonl")" -eq 1 ] && grep -q '"op":"c"' "$out/never.jsonl" ||
	fail "snapshot-mode=never sent more than the one insert: $(head -c 300 "$out/never.jsonl")"
info "never: only the insert"

# no extension
rc=0
run_relay noext noext --snapshot-mode=initial --no-loop || rc=$?
[ $rc -eq 2 ] || fail "a missing extension exited with $rc, not 2"
grep -q 'the initial snapshot needs extension "wal2avro" in schema "wal2avro" of database "noext"' "$RELAY_LOG" ||
	fail "no clear error for the missing extension"
grep -q "hint: Run CREATE EXTENSION wal2avro in that database, or set snapshot-mode = never" "$RELAY_LOG" ||
	fail "no hint for the missing extension"
[ -z "$(psql -XAtc "SELECT slot_name FROM pg_replication_slots WHERE slot_name = 'noext'")" ] ||
	fail "the slot was created although the snapshot cannot run"
echo "PASS: initial_only, never and the missing extension behave as documented"
