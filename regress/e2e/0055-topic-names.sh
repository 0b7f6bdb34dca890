#!/usr/bin/env bash
# regress/e2e/0055-topic-names.sh -- a table Kafka would refuse gets the topic Debezium gives it
#
# Tables named "Order Items", "order#1", "ünïcödé", "emoji😀" and
# "Sales Dept"."Q1 / 2026" (regress/workloads/debezium_topics.sql) have no
# valid Kafka topic name as they are.  Debezium 3.6.1 captures them (the
# oracle: it replaces each character outside [A-Za-z0-9._-] by "_"); then
# wal2avro-relay, with an initial snapshot and the stream, on the same
# cluster and broker with another topic prefix, then one more row per table
# is streamed.  Checks: the relay confirms that row (nothing refused,
# nothing stuck); its topics are Debezium's, name for name, with the prefix
# swapped; every one holds its rows (two from the snapshot and one
# streamed; the sentinel table one and one); the relay logged the adjusted names.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
. "$W2A_ROOT/regress/lib/pg.sh"
. "$W2A_ROOT/regress/lib/kafka.sh"
. "$W2A_ROOT/regress/lib/relay.sh"
. "$W2A_ROOT/regress/tools/venv.sh"
. "$W2A_ROOT/regress/lib/debezium.sh"

out=$(w2a_tmpdir topic-names)
workload=$W2A_ROOT/regress/workloads/debezium_topics.sql
pg_start "$out/pg"
kafka_start_single "$out/kafka"

DBZ_PREFIX=dbz dbz_capture "$workload" "$out/dbz.jsonl"
"$W2A_PYTHON" -c '
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["topic"].startswith("dbz.transaction"): continue
    print(r["topic"])' "$out/dbz.jsonl" | sort -u | sed 's/^dbz\./PREFIX./' >"$out/dbz.topics"
[ "$(wc -l <"$out/dbz.topics")" -eq 6 ] ||
	{ cat "$out/dbz.topics" >&2; fail "Debezium wrote $(wc -l <"$out/dbz.topics") table topics, not 6"; }

psql -Xq -v ON_ERROR_STOP=1 -c 'CREATE EXTENSION wal2avro'
RELAY_SNAPSHOT_MODE=initial relay_start names_slot --topic-prefix=w2a -v
psql -Xq -v ON_ERROR_STOP=1 <<'SQL'
INSERT INTO "Order Items" VALUES (3);
INSERT INTO "order#1" VALUES (3);
INSERT INTO "ünïcödé" VALUES (3);
INSERT INTO "emoji😀" VALUES (3);
INSERT INTO "Sales Dept"."Q1 / 2026" VALUES (3);
INSERT INTO dbz_done VALUES (3);
SQL
relay_wait_confirmed "$(psql -XAtc 'SELECT pg_current_wal_lsn()')" 90
"$W2A_PYTHON" "$W2A_ROOT/regress/tools/kafka_dump.py" "$KAFKA_BOOTSTRAP" "w2a." "$out/w2a.jsonl"
"$W2A_PYTHON" -c '
import collections, json, sys
n = collections.Counter(json.loads(l)["topic"] for l in open(sys.argv[1]))
for t, c in sorted(n.items()):
    print(t, c)' "$out/w2a.jsonl" >"$out/w2a.counts"
sed 's/^w2a\./PREFIX./; s/ .*//' "$out/w2a.counts" | sort -u >"$out/w2a.topics"
diff -u "$out/dbz.topics" "$out/w2a.topics" ||
	fail "the relay's topics (+) are not Debezium's (-)"
# dbz_done: the sentinel row (snapshot) and one streamed; the others 2 + 1
awk '$2 != ($1 ~ /dbz_done$/ ? 2 : 3) { print; bad = 1 } END { exit bad }' "$out/w2a.counts" ||
	fail "a topic above does not hold the table's rows (two from the snapshot and one streamed; dbz_done one and one)"
grep -q 'table "public.Order Items": its topic name has characters or a length Kafka does not accept; writing to "w2a.public.Order_Items"' "$RELAY_LOG" ||
	fail "the relay did not log the adjusted name"
info "all 6 tables on Debezium's topic names: $(tr '\n' ' ' <"$out/w2a.topics")"
relay_stop
