-- dbz_events: with compat=debezium a TRUNCATE is a CHANGE frame with op 't'
-- per table (no key, before and after null), left out by default as
-- Debezium's skipped.operations=t does; skipped-operations also leaves out
-- c, u, d; a logical message is a CHANGE frame with op 'm' on the message
-- pseudo relation 0, whose SCHEMA frame names the topic <prefix>.message
-- (a non-transactional one outside BEGIN/COMMIT, flagged NON_TRANSACTIONAL);
-- a bad skipped-operations value is an ERROR naming the option
SET client_min_messages = warning;
SELECT 'init' FROM pg_create_logical_replication_slot('regression_slot', 'wal2avro');
CREATE TABLE de1 (id int PRIMARY KEY, v text);
CREATE TABLE de2 (id int PRIMARY KEY);
INSERT INTO de1 VALUES (1, 'a');
INSERT INTO de2 VALUES (1);
TRUNCATE de1, de2;
UPDATE de1 SET v = 'b' WHERE id = 1;	-- nothing left to update
INSERT INTO de1 VALUES (2, 'b');
UPDATE de1 SET v = 'c' WHERE id = 2;
DELETE FROM de1 WHERE id = 2;
BEGIN;
INSERT INTO de2 VALUES (2);
SELECT 'msg' FROM pg_logical_emit_message(true, 'w2a-test', 'transactional');
COMMIT;
SELECT 'msg' FROM pg_logical_emit_message(false, 'w2a-test', 'non-transactional');
SELECT 'msg' FROM pg_logical_emit_message(false, 'wal2avro.heartbeat', '1');	-- the relay's own
SELECT 'msg' FROM pg_logical_emit_message(true, 'wal2avro.watermark', 'w');
-- bad values name the option; the option needs compat=debezium
SELECT count(*) FROM pg_logical_slot_peek_binary_changes('regression_slot', NULL, NULL, 'compat', 'debezium', 'skipped-operations', 'x');
SELECT count(*) FROM pg_logical_slot_peek_binary_changes('regression_slot', NULL, NULL, 'compat', 'debezium', 'skipped-operations', 'c,,d');
SELECT count(*) FROM pg_logical_slot_peek_binary_changes('regression_slot', NULL, NULL, 'compat', 'debezium', 'skipped-operations', '');
SELECT count(*) FROM pg_logical_slot_peek_binary_changes('regression_slot', NULL, NULL, 'skipped-operations', 't');
-- the default: no truncate record (a TRUNCATE frame, which the relay does
-- not write, as without compat=debezium); messages as 'm' records
-- (alone: the header flag NON_TRANSACTIONAL of a message outside any transaction)
CREATE FUNCTION de_frames(VARIADIC opts text[]) RETURNS TABLE (kind text, op text, relid text, rel text, key jsonb, alone bool)
LANGUAGE sql AS $$
SELECT f->>'kind', f->>'op',
       CASE WHEN f->>'relid' = '0' THEN '0' WHEN f ? 'relid' THEN 'rel' END,
       coalesce(f->>'table', f->>'prefix'),
       CASE WHEN f->>'kind' = 'change' THEN to_jsonb(f->>'key' IS NOT NULL) END,
       CASE WHEN f->>'kind' = 'change' THEN coalesce(f->>'transactional' = 'false', false) END
  FROM pg_logical_slot_peek_binary_changes('regression_slot', NULL, NULL, VARIADIC opts) c,
       wal2avro.frame_to_jsonb(c.data) f
$$;
SELECT * FROM de_frames('compat', 'debezium');
-- none: a truncate record per table, after the table's schema
SELECT * FROM de_frames('compat', 'debezium', 'skipped-operations', 'none');
-- c, u and d left out, truncates kept
SELECT * FROM de_frames('compat', 'debezium', 'skipped-operations', ' c, u ,d');
-- the message pseudo relation's schema: topic and Debezium's records
SELECT f->>'topic' AS topic, f->'schema' AS schema, f->'table' AS "table", f->'key_columns' AS key_columns,
       f->'key_schema'->>'name' AS key_name, f->'key_schema'->'fields' AS key_fields,
       f->'value_schema'->>'name' AS value_name,
       (SELECT string_agg(x->>'name', ',') FROM jsonb_array_elements(f->'value_schema'->'fields') x) AS value_fields,
       f->'value_schema'->'fields'->4->'type' AS message_type
  FROM pg_logical_slot_peek_binary_changes('regression_slot', NULL, NULL, 'compat', 'debezium', 'topic-prefix', 'dbz') c,
       wal2avro.frame_to_jsonb(c.data) f
 WHERE f->>'kind' = 'schema' AND f->>'relid' = '0';
-- the wal2avro format keeps its TRUNCATE and MESSAGE frames
SELECT f->>'kind' AS kind, f->>'op' AS op FROM pg_logical_slot_peek_binary_changes('regression_slot', NULL, NULL) c,
       wal2avro.frame_to_jsonb(c.data) f
 WHERE f->>'kind' IN ('truncate', 'message');
SELECT 'stop' FROM pg_drop_replication_slot('regression_slot');
DROP FUNCTION de_frames(text[]);
DROP TABLE de1, de2;
