#!/usr/bin/env bash
# regress/e2e/0027-relay-schema-conflict.sh -- one fingerprint, one schema
#
# The schema topic already holds, under the fingerprint the relay is about
# to use for a table, a different text: the table's schema with
# local-timestamp-micros where it has timestamp-micros (what a timestamp ->
# timestamptz retype left behind when the fingerprint ignored logical
# types).  The relay must stop with exit status 3 and an error naming the
# table and the fingerprint, confirm the transaction before and not the one
# using the schema, produce none of its records, and leave the topic's text
# alone.  Started again with a new schema topic it streams everything;
# restarted once more on that topic, it publishes none of the schemas the
# topic already holds with the same text, and the records still decode.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
. "$W2A_ROOT/regress/lib/pg.sh"
. "$W2A_ROOT/regress/lib/kafka.sh"
. "$W2A_ROOT/regress/lib/relay.sh"

out=$(w2a_tmpdir relay-schema-conflict)
RELAY_LOG=$out/relay.log
pg_start "$out/pg"
kafka_start_single "$out/kafka"
kafka_create_topic _wal2avro_schemas 1 1 cleanup.policy=compact

psql -Xq -v ON_ERROR_STOP=1 <<'SQL'
CREATE EXTENSION wal2avro;
CREATE TABLE notes (id int PRIMARY KEY, body text);
CREATE TABLE readings (id int PRIMARY KEY, taken timestamptz NOT NULL);
SQL

# the value schema the relay's stream gets for readings (its plugin options)
opts="ARRAY['protocol-version', '1', 'topic-prefix', 'wal2avro']"
fp=$(psql -XAtc "SELECT value_fingerprint FROM wal2avro.avro_schemas('readings', $opts)")
text=$(psql -XAtc "SELECT value_schema FROM wal2avro.avro_schemas('readings', $opts)")
planted=${text//\"timestamp-micros\"/\"local-timestamp-micros\"}
[ -n "$fp" ] && [ "$planted" != "$text" ] || fail "could not build the conflicting schema text"
printf '%s|%s\n' "$fp" "$planted" |
	kcat -P -b "$KAFKA_BOOTSTRAP" -t _wal2avro_schemas -K '|' -X topic.request.required.acks=all ||
	fail "could not write the conflicting schema"
schema_records()
{
	kcat -b "$KAFKA_BOOTSTRAP" -C -t "$1" -e -q -f '%k|%s\n' 2>/dev/null
}
[ "$(schema_records _wal2avro_schemas)" = "$fp|$planted" ] ||
	fail "the schema topic does not hold just the planted text"
info "schema topic holds another text under fingerprint $fp"

relay_start conflict
psql -Xq -c "INSERT INTO notes VALUES (1, 'before')"
before_end=$(psql -XAtc "SELECT pg_current_wal_lsn()")
relay_wait_confirmed "$before_end" 60
psql -Xq -c "INSERT INTO readings VALUES (1, '2026-06-01 12:00:00+02')"
readings_end=$(psql -XAtc "SELECT pg_current_wal_lsn()")
psql -Xq -c "INSERT INTO notes VALUES (2, 'after')"
end_lsn=$(psql -XAtc "SELECT pg_current_wal_lsn()")

w2a_wait_for 60 grep -q "error: " "$RELAY_LOG" ||
	fail "the relay did not stop on a fingerprint the schema topic holds with another text"
rc=0
wait "$RELAY_PID" || rc=$?
RELAY_PID=
[ $rc -eq 3 ] || fail "relay exited with $rc, not 3, on a schema conflict"
grep -q "error: value schema of table \"public.readings\" has fingerprint $fp, which schema topic \"_wal2avro_schemas\" holds with a different text: refusing to publish it" "$RELAY_LOG" ||
	fail "no clear error naming the table and the fingerprint in the relay log"
grep -q "hint: Nothing from this schema on was confirmed" "$RELAY_LOG" ||
	fail "no hint after the error"
w2a_sql_true "SELECT confirmed_flush_lsn < '$readings_end' AND confirmed_flush_lsn >= '$before_end' FROM pg_replication_slots WHERE slot_name = 'conflict'" ||
	fail "the slot was confirmed at $(slot_confirmed conflict): past the refused schema, or not up to the transaction before"
n=$(kcat -b "$KAFKA_BOOTSTRAP" -C -t wal2avro.public.readings -e -q -f '.\n' 2>/dev/null | grep -c . || true)
[ "$n" -eq 0 ] || fail "$n records of readings were produced under the refused schema"
[ "$(schema_records _wal2avro_schemas | grep -c "^$fp|")" -eq 1 ] &&
	[ "$(schema_records _wal2avro_schemas | grep "^$fp|")" = "$fp|$planted" ] ||
	fail "the relay relabelled fingerprint $fp in the schema topic"
info "stopped with status 3 at $(slot_confirmed conflict), before the refused schema"

# the way out the hint names: a schema topic of its own
relay_start conflict --schema-topic=_wal2avro_schemas_v2
relay_wait_confirmed "$end_lsn" 60
relay_stop
schema_records _wal2avro_schemas_v2 | grep -qxF "$fp|$text" ||
	fail "the new schema topic lacks readings' schema under $fp"
published=$(schema_records _wal2avro_schemas_v2 | grep -c .)

# a restart reads the topic and publishes nothing it already holds
relay_start conflict --schema-topic=_wal2avro_schemas_v2
psql -Xq -c "INSERT INTO readings VALUES (2, '2026-06-02 12:00:00+02')"
psql -Xq -c "INSERT INTO notes VALUES (3, 'later')"
end_lsn=$(psql -XAtc "SELECT pg_current_wal_lsn()")
relay_wait_confirmed "$end_lsn" 60
relay_stop
again=$(schema_records _wal2avro_schemas_v2 | grep -c .)
[ "$again" -eq "$published" ] ||
	fail "the restarted relay published $((again - published)) schemas the topic already held"

"$W2A_RELAY" tail -b "$KAFKA_BOOTSTRAP" --schema-topic=_wal2avro_schemas_v2 -n 2 -t 20 \
	wal2avro.public.readings >"$out/readings.json" 2>"$out/tail.err" ||
	{ cat "$out/tail.err" >&2; fail "tail failed"; }
grep -q '"after":{"id":1,"taken":1780308000000000}' "$out/readings.json" &&
	grep -q '"after":{"id":2,"taken":1780394400000000}' "$out/readings.json" ||
	fail "readings do not decode with their schema: $(cat "$out/readings.json")"
info "$published schemas on the new topic, none published again after a restart"
echo "PASS: a fingerprint the schema topic holds with another text stops the relay unconfirmed"
