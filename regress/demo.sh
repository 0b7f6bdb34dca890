#!/usr/bin/env bash
# regress/demo.sh -- wal2avro end to end, for a newcomer to watch
#
# Starts a throwaway PostgreSQL 15 and a real Apache Kafka broker, creates
# the demo tables orders, order_items and customers, starts wal2avro-relay
# on them, runs a workload of inserts, updates and deletes, and shows every
# event as "wal2avro-relay tail" decodes it from Kafka (with Apache Avro's C
# library, against the schemas the relay published).  Then stops it all.
#
# Needs "make install" first (the plugin and the relay).  DEMO_SECONDS sets
# how long the workload runs (default 15).
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"
. "$W2A_ROOT/regress/lib/pg.sh"
. "$W2A_ROOT/regress/lib/kafka.sh"

relay=$(command -v wal2avro-relay || echo "$W2A_ROOT/relay/wal2avro-relay")
[ -x "$relay" ] || fail "wal2avro-relay is not built: run make && sudo make install"

out=$(w2a_tmpdir wal2avro-demo)
info "demo files in $out"
pg_start "$out/pg"
kafka_start_single "$out/kafka"

psql -Xq -v ON_ERROR_STOP=1 <<'SQL'
CREATE EXTENSION wal2avro;
CREATE TABLE customers (id serial PRIMARY KEY, name text NOT NULL, email text, since date DEFAULT current_date);
CREATE TABLE orders (id serial PRIMARY KEY, customer_id int REFERENCES customers,
    status text NOT NULL DEFAULT 'new', total numeric(10,2), created_at timestamptz DEFAULT now());
CREATE TABLE order_items (order_id int REFERENCES orders ON DELETE CASCADE, line int,
    sku text, qty int, price numeric(8,2), PRIMARY KEY (order_id, line));
SQL

info "starting wal2avro-relay"
"$relay" -d "host=$PGHOST port=$PGPORT dbname=$PGDATABASE user=$PGUSER" -b "$KAFKA_BOOTSTRAP" \
	-S demo >"$out/relay.log" 2>&1 &
relay_pid=$!
w2a_on_exit "kill -TERM $relay_pid 2>/dev/null; wait $relay_pid 2>/dev/null"

info "events as wal2avro-relay tail decodes them from Kafka:"
"$relay" tail -b "$KAFKA_BOOTSTRAP" '^wal2avro\.public\..*' 2>"$out/tail.log" &
tail_pid=$!
w2a_on_exit "kill -TERM $tail_pid 2>/dev/null; wait $tail_pid 2>/dev/null"

# The workload: customers sign up, order, change and cancel orders.
end=$((SECONDS + ${DEMO_SECONDS:-15}))
n=0
while [ $SECONDS -lt $end ]; do
	n=$((n + 1))
	psql -Xq -v ON_ERROR_STOP=1 -v n=$n <<'SQL'
BEGIN;
INSERT INTO customers (name, email) VALUES ('customer ' || :n, 'c' || :n || '@example.com');
INSERT INTO orders (customer_id, total) VALUES (currval('customers_id_seq'), 10 * :n + 0.99);
INSERT INTO order_items VALUES (currval('orders_id_seq'), 1, 'SKU-' || :n, 1, 10 * :n),
                               (currval('orders_id_seq'), 2, 'GIFT', 1, 0.99);
COMMIT;
UPDATE orders SET status = 'paid' WHERE id = (SELECT max(id) FROM orders);
UPDATE customers SET email = NULL WHERE id % 3 = 0 AND id = (SELECT max(id) FROM customers);
DELETE FROM orders WHERE id % 4 = 0 AND id = (SELECT max(id) FROM orders);
SQL
	sleep 1	# pacing of the workload
done
end_lsn=$(psql -XAtc "SELECT pg_current_wal_lsn()")
w2a_await 60 "the relay to confirm the end of the workload ($end_lsn)" \
	w2a_sql_true "SELECT confirmed_flush_lsn >= '$end_lsn' FROM pg_replication_slots WHERE slot_name = 'demo'"

kill -TERM "$relay_pid"
wait "$relay_pid" || true
psql -XAt -c "SELECT 'slot ' || slot_name || ' confirmed at ' || confirmed_flush_lsn || ', lag ' || pg_size_pretty(pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)) FROM pg_replication_slots" >&2
info "relay log: $out/relay.log; stopping everything"
