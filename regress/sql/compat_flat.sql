-- compat_flat: compat=debezium with envelope=flat is the value Debezium's
-- ExtractNewRecordState transformation makes (add-fields,
-- add-fields-prefix, delete-tombstone-handling-mode); bad values and
-- combinations are ERRORs naming the option before anything is decoded
SET client_min_messages = warning;
SELECT 'init' FROM pg_create_logical_replication_slot('regression_slot', 'wal2avro');
CREATE TABLE cf (id int PRIMARY KEY, qty int2 NOT NULL, note text);
INSERT INTO cf VALUES (1, 2, 'x');
UPDATE cf SET note = 'y' WHERE id = 1;
UPDATE cf SET id = 5 WHERE id = 1;
DELETE FROM cf WHERE id = 5;
TRUNCATE cf;
\set SHOW_CONTEXT never
-- bad values, and the options without compat=debezium and envelope=flat
SELECT count(*) FROM pg_logical_slot_peek_binary_changes('regression_slot', NULL, NULL, 'compat', 'debezium', 'envelope', 'flat', 'delete-tombstone-handling-mode', 'none');
SELECT count(*) FROM pg_logical_slot_peek_binary_changes('regression_slot', NULL, NULL, 'compat', 'debezium', 'envelope', 'flat', 'add-fields', 'op,,lsn');
SELECT count(*) FROM pg_logical_slot_peek_binary_changes('regression_slot', NULL, NULL, 'compat', 'debezium', 'envelope', 'flat', 'add-fields', 'op,source.nosuch');
SELECT count(*) FROM pg_logical_slot_peek_binary_changes('regression_slot', NULL, NULL, 'compat', 'debezium', 'envelope', 'flat', 'add-fields', 'op', 'add-fields-prefix', '9');
SELECT count(*) FROM pg_logical_slot_peek_binary_changes('regression_slot', NULL, NULL, 'compat', 'debezium', 'envelope', 'flat', 'add-fields', 'op,op');
SELECT count(*) FROM pg_logical_slot_peek_binary_changes('regression_slot', NULL, NULL, 'compat', 'debezium', 'add-fields', 'op');
SELECT count(*) FROM pg_logical_slot_peek_binary_changes('regression_slot', NULL, NULL, 'envelope', 'flat', 'delete-tombstone-handling-mode', 'rewrite');
-- the default (tombstone): the Value record alone; a delete is the old row
-- (the relay writes it as a null value)
CREATE TEMP TABLE frames AS
SELECT f
  FROM pg_logical_slot_peek_binary_changes('regression_slot', NULL, NULL, 'compat', 'debezium', 'envelope', 'flat', 'topic-prefix', 'dbz') c,
       wal2avro.frame_to_jsonb(c.data) f;
SELECT f->'value_schema' AS value_schema FROM frames WHERE f->>'kind' = 'schema';
-- the values: id, qty, note; a delete's are its old key, 0 for the NOT
-- NULL qty (Debezium's fallback), null
SELECT f->>'op' AS op, f->'value' AS value FROM frames WHERE f->>'kind' = 'change';
SELECT value_schema FROM wal2avro.avro_schemas('public.cf', ARRAY['compat', 'debezium', 'envelope', 'flat', 'add-fields', 'op,source.ts_ms,table:tbl', 'delete-tombstone-handling-mode', 'rewrite']);
-- rewrite with added fields: __deleted, then the fields in the order given
DROP TABLE frames;
CREATE TEMP TABLE frames AS
SELECT f
  FROM pg_logical_slot_peek_binary_changes('regression_slot', NULL, NULL, 'compat', 'debezium', 'envelope', 'flat',
       'add-fields', 'op,table,source.schema,transaction.id:tx', 'add-fields-prefix', '_x_',
       'delete-tombstone-handling-mode', 'rewrite') c,
       wal2avro.frame_to_jsonb(c.data) f;
SELECT (SELECT string_agg(x->>'name' || ' ' || (x->'type')::text, ', ') FROM jsonb_array_elements(f->'value_schema'->'fields') x) AS fields,
       f->'value_schema'->>'name' AS name
  FROM frames WHERE f->>'kind' = 'schema';
-- the values: the row (the old one for a delete), __deleted, "c"/"u"/"d",
-- "cf", "public", null (no transaction metadata)
SELECT f->>'op' AS op, f->'value' AS value FROM frames WHERE f->>'kind' = 'change';
DROP TABLE frames;
-- drop: the deletes are still sent (the relay drops them, counting them
-- among the transaction's events as Debezium does)
SELECT string_agg(f->>'op', ',') AS ops
  FROM pg_logical_slot_peek_binary_changes('regression_slot', NULL, NULL, 'compat', 'debezium', 'envelope', 'flat',
       'delete-tombstone-handling-mode', 'drop') c,
       wal2avro.frame_to_jsonb(c.data) f
 WHERE f->>'kind' = 'change';
-- a column named like an added field
ALTER TABLE cf ADD COLUMN __op text;
INSERT INTO cf VALUES (7, 1, 'z', 'mine');
SELECT count(*) FROM pg_logical_slot_get_binary_changes('regression_slot', NULL, NULL, 'compat', 'debezium', 'envelope', 'flat', 'add-fields', 'op');
SELECT 'stop' FROM pg_drop_replication_slot('regression_slot');
DROP TABLE cf;
