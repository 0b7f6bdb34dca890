-- generated_pg18: generated columns.  A stored one is in the WAL and is
-- published like any column; a virtual one (18+) is not in the WAL, so it
-- is left out of every record and schema, as pgoutput leaves it out
SET client_min_messages = warning;
SELECT 'init' FROM pg_create_logical_replication_slot('regression_slot', 'wal2avro');
CREATE TABLE gen_t (id int PRIMARY KEY, a int,
    s int GENERATED ALWAYS AS (a * 2) STORED,
    v int GENERATED ALWAYS AS (a * 3) VIRTUAL,
    note text);
ALTER TABLE gen_t REPLICA IDENTITY FULL;
INSERT INTO gen_t (id, a, note) VALUES (1, 10, 'x'), (2, NULL, 'y');
UPDATE gen_t SET a = 11 WHERE id = 1;
DELETE FROM gen_t WHERE id = 2;
SELECT * FROM gen_t;
-- inserts, the update's before and after, the delete's before: s, never v
SELECT regress_changes('regression_slot');

-- the schemas: the value record's columns, the key's
SELECT (SELECT string_agg(x->>'name', ',') FROM json_array_elements(value_schema #> '{fields,0,type,1,fields}') x) AS value_columns,
       (SELECT string_agg(x->>'name', ',') FROM json_array_elements(key_schema -> 'fields') x) AS key_columns
  FROM wal2avro.avro_schemas('gen_t');
-- compat=debezium: the Value record and the Key
INSERT INTO gen_t (id, a) VALUES (3, 1);
SELECT (SELECT string_agg(x->>'name', ',') FROM jsonb_array_elements(f #> '{value_schema,fields,0,type,1,fields}') x) AS value_columns,
       (SELECT string_agg(x->>'name', ',') FROM jsonb_array_elements(f #> '{key_schema,fields}') x) AS key_columns
  FROM pg_logical_slot_peek_binary_changes('regression_slot', NULL, NULL, 'compat', 'debezium') c,
       wal2avro.frame_to_jsonb(c.data) f
 WHERE f->>'kind' = 'schema';
-- envelope=flat: the columns, no v
SELECT (SELECT string_agg(x->>'name', ',') FROM jsonb_array_elements(f #> '{value_schema,fields}') x) AS value_columns
  FROM pg_logical_slot_peek_binary_changes('regression_slot', NULL, NULL, 'compat', 'debezium', 'envelope', 'flat') c,
       wal2avro.frame_to_jsonb(c.data) f
 WHERE f->>'kind' = 'schema';
SELECT regress_changes('regression_slot');

-- a snapshot publishes what the stream does
SELECT f->>'kind' AS kind,
       (SELECT string_agg(x->>'name', ',') FROM jsonb_array_elements(f #> '{value_schema,fields,0,type,1,fields}') x) AS value_columns
  FROM (SELECT wal2avro.snapshot_frames('gen_t') AS data) s, wal2avro.frame_to_jsonb(data) f
 WHERE f->>'kind' = 'schema';

-- key-columns: a stored generated column may be the key, a virtual one not
UPDATE gen_t SET a = 2 WHERE id = 3;
\set SHOW_CONTEXT never
SELECT count(*) FROM pg_logical_slot_peek_changes('regression_slot', NULL, NULL,
    'format', 'json', 'key-columns', 'public.gen_t:v');
\set SHOW_CONTEXT errors
SELECT count(*) FROM wal2avro.snapshot_frames('gen_t', array['key-columns', 'public.gen_t:v']);
SELECT regress_changes('regression_slot', 'key-columns', 'public.gen_t:s');

SELECT pg_drop_replication_slot('regression_slot');
DROP TABLE gen_t;
