-- compat_debezium: compat=debezium names the records, the Source and the
-- column types as Debezium's PostgreSQL connector does (AvroData's form);
-- a bad value or combination is an ERROR before anything is decoded
SET client_min_messages = warning;
SELECT 'init' FROM pg_create_logical_replication_slot('regression_slot', 'wal2avro');
CREATE TABLE cd (id int PRIMARY KEY, qty int2 NOT NULL, price numeric(5,2), at timestamptz, note text);
INSERT INTO cd VALUES (1, 2, 3.50, '2024-01-02 03:04:05.5+00', 'x');
-- unknown value, and combinations Debezium's records cannot take
SELECT count(*) FROM pg_logical_slot_peek_binary_changes('regression_slot', NULL, NULL, 'compat', 'debezum');
SELECT count(*) FROM pg_logical_slot_peek_changes('regression_slot', NULL, NULL, 'compat', 'debezium', 'format', 'json');
-- the handling modes: a bad value, and a mode without compat=debezium
SELECT count(*) FROM pg_logical_slot_peek_binary_changes('regression_slot', NULL, NULL, 'compat', 'debezium', 'decimal-handling-mode', 'exact');
SELECT count(*) FROM pg_logical_slot_peek_binary_changes('regression_slot', NULL, NULL, 'compat', 'debezium', 'binary-handling-mode', 'base32');
SELECT count(*) FROM pg_logical_slot_peek_binary_changes('regression_slot', NULL, NULL, 'compat', 'debezium', 'time-precision-mode', '');
SELECT count(*) FROM pg_logical_slot_peek_binary_changes('regression_slot', NULL, NULL, 'decimal-handling-mode', 'string');
SELECT count(*) FROM pg_logical_slot_peek_binary_changes('regression_slot', NULL, NULL, 'compat', 'wal2avro', 'hstore-handling-mode', 'map');
CREATE TEMP TABLE schemas AS
SELECT f->'key_schema' AS k, f->'value_schema' AS v
  FROM pg_logical_slot_peek_binary_changes('regression_slot', NULL, NULL, 'compat', 'debezium', 'topic-prefix', 'dbz') c,
       wal2avro.frame_to_jsonb(c.data) f
 WHERE f->>'kind' = 'schema';
-- the Key and the Envelope: names, connect.name, connect.version
SELECT k->>'name' AS key_name, k->'fields' AS key_fields, k->>'connect.name' AS key_connect_name FROM schemas;
SELECT v->>'name' AS name, v->'connect.version' AS version,
       (SELECT string_agg(x->>'name', ',') FROM jsonb_array_elements(v->'fields') x) AS fields
  FROM schemas;
-- the Value record: NOT NULL columns are not optional; Debezium's types
SELECT x->>'name' AS column, x->'type' AS type, x->'default' AS default
  FROM schemas, jsonb_array_elements(v->'fields'->0->'type'->1->'fields') x;
-- the Source record
SELECT v->'fields'->2->'type'->>'name' AS source_name,
       (SELECT string_agg(x->>'name', ',') FROM jsonb_array_elements(v->'fields'->2->'type'->'fields') x) AS source_fields
  FROM schemas;
-- a composite column is left out, as Debezium leaves it out
CREATE TYPE cdpair AS (a int, b int);
ALTER TABLE cd ADD COLUMN pair cdpair;
INSERT INTO cd VALUES (2, 1, NULL, NULL, NULL, ROW(1, 2));
SELECT (SELECT string_agg(x->>'name', ',') FROM jsonb_array_elements(f->'value_schema'->'fields'->0->'type'->1->'fields') x) AS columns
  FROM pg_logical_slot_peek_binary_changes('regression_slot', NULL, NULL, 'compat', 'debezium') c,
       wal2avro.frame_to_jsonb(c.data) f
 WHERE f->>'kind' = 'schema';
SELECT 'stop' FROM pg_drop_replication_slot('regression_slot');
-- but a key cannot leave out its column
SELECT 'init' FROM pg_create_logical_replication_slot('regression_slot', 'wal2avro');
CREATE TABLE cdk (k cdpair PRIMARY KEY, v int);
INSERT INTO cdk VALUES (ROW(1, 2), 3);
\set SHOW_CONTEXT never
SELECT count(*) FROM pg_logical_slot_peek_binary_changes('regression_slot', NULL, NULL, 'compat', 'debezium');
SELECT 'stop' FROM pg_drop_replication_slot('regression_slot');
DROP TABLE cd, cdk;
DROP TYPE cdpair;
