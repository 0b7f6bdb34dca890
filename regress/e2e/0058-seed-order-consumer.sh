#!/usr/bin/env bash
# regress/e2e/0058-seed-order-consumer.sh -- the seed article's kafkajs consumer reads the relay's topic unchanged
#
# What it is for: a Debezium user's consumer must keep working (issue 14).
# regress/tools/seed_order_consumer.js is the article's OrderCDCConsumer
# (kafkajs + pg, JSON.parse of the value, event.op / after / before /
# source.table / source.lsn, an LSN checkpoint per partition).  The relay
# streams public.orders to the article's topic orders-prod.public.orders
# as Debezium configured for that consumer would: JSON without schemas
# (schemas.enable=false), no tombstones (the article's code calls
# value.toString() on every record), decimals as text
# (decimal.handling.mode=string: its analytics table is numeric).  An
# initial snapshot row, then inserts, updates, deletes and a multi-row
# transaction; the consumer's analytics table must end equal to
# the source table, and the consumer must not have failed.
#
# One snapshot row only: the article's checkpoint skips an event whose LSN is
# not above the last one of its partition, and every row of a snapshot has
# the snapshot's LSN (Debezium's too), so it would apply only the first.
# No key change, for the same reason: its delete and create share the
# UPDATE's LSN (in Debezium's records too), so the article's consumer drops
# the create.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
. "$W2A_ROOT/regress/lib/pg.sh"
. "$W2A_ROOT/regress/lib/kafka.sh"
. "$W2A_ROOT/regress/lib/relay.sh"
. "$W2A_ROOT/regress/tools/node.sh" || fail "could not install the Node packages"

out=$(w2a_tmpdir seed-consumer)
pg_start "$out/pg"
kafka_start_single "$out/kafka"

psql -Xq -v ON_ERROR_STOP=1 <<'SQL'
CREATE EXTENSION wal2avro;
CREATE TABLE orders (id int PRIMARY KEY, customer_id int NOT NULL,
	total_amount numeric(10,2) NOT NULL, status text NOT NULL);
INSERT INTO orders VALUES (1, 10, 19.99, 'pending');
CREATE DATABASE analytics;
SQL
psql -Xq -v ON_ERROR_STOP=1 -d analytics <<'SQL'
CREATE TABLE orders_analytics (order_id int PRIMARY KEY, customer_id int,
	total_amount numeric(10,2), status text, updated_at timestamptz);
CREATE TABLE cdc_checkpoints (partition_key text PRIMARY KEY, lsn bigint,
	processed_at timestamptz);
SQL

RELAY_SNAPSHOT_MODE=initial relay_start seed_slot --topic-prefix=orders-prod \
	--key-format=json --value-format=json --no-json-schemas --no-tombstones \
	--decimal-handling-mode=string

SEED_BROKERS=$KAFKA_BOOTSTRAP SEED_TOPIC=orders-prod.public.orders SEED_GROUP=seed-$$ \
	node "$W2A_ROOT/regress/tools/seed_order_consumer.js" >"$out/consumer.log" 2>&1 &
consumer=$!
w2a_on_exit "kill $consumer 2>/dev/null || true"

psql -Xq -v ON_ERROR_STOP=1 <<'SQL'
INSERT INTO orders VALUES (2, 20, 5.00, 'pending');
INSERT INTO orders VALUES (3, 30, 1234567.89, 'pending');
UPDATE orders SET status = 'paid', total_amount = 21.50 WHERE id = 1;
BEGIN;
INSERT INTO orders SELECT g, g * 10, g + 0.25, 'pending' FROM generate_series(4, 40) g;
UPDATE orders SET status = 'shipped' WHERE id BETWEEN 10 AND 20;
COMMIT;
DELETE FROM orders WHERE id = 2;
DELETE FROM orders WHERE id BETWEEN 30 AND 35;
UPDATE orders SET total_amount = 0.01 WHERE id = 40;
SQL
relay_wait_confirmed "$(psql -XAtc 'SELECT pg_current_wal_lsn()')" 90

source_rows()
{
	psql -XAt -c "SELECT id, customer_id, total_amount, status FROM orders ORDER BY id"
}
analytics_rows()
{
	psql -XAt -d analytics -c "SELECT order_id, customer_id, total_amount, status FROM orders_analytics ORDER BY order_id"
}
# condition: the analytics table is the source table (and the consumer lives)
converged()
{
	kill -0 "$consumer" 2>/dev/null || { echo "the consumer exited"; return 0; }
	local a s
	a=$(analytics_rows)
	s=$(source_rows)
	echo "$(wc -l <<<"$a") analytics rows, $(wc -l <<<"$s") source rows"
	[ "$a" = "$s" ]
}
w2a_await 90 "the analytics table to equal the source" converged
if ! kill -0 "$consumer" 2>/dev/null || grep -q "seed consumer failed\|ERROR" "$out/consumer.log"; then
	tail -n 30 "$out/consumer.log" >&2
	fail "the seed consumer failed"
fi
[ "$(analytics_rows)" = "$(source_rows)" ] || fail "the analytics table is not the source table"
n=$(grep -c '^applied ' "$out/consumer.log")
info "the consumer applied $n events; analytics equals orders ($(source_rows | wc -l) rows)"
grep -q '^applied r ' "$out/consumer.log" || fail "the snapshot row was not applied"
grep -q '^applied d ' "$out/consumer.log" || fail "no delete was applied"
echo "PASS: the seed article's OrderCDCConsumer reads the relay's topic unchanged"
