-- toast_unchanged: unlogged TOASTed values carry the Unchanged marker, never NULL
SET client_min_messages = warning;
SELECT 'init' FROM pg_create_logical_replication_slot('regression_slot', 'wal2avro');

-- incompressible text, large enough to be stored out of line
CREATE FUNCTION toast_text(seed int, len int) RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(md5((seed * 100000 + i)::text), '') FROM generate_series(1, len / 32) i
$$;
CREATE TABLE tu (id int PRIMARY KEY, big text, other int, small text);

INSERT INTO tu VALUES (1, toast_text(1, 20000), 1, 's');
-- another column changes: big is unchanged
UPDATE tu SET other = 2 WHERE id = 1;
-- big itself changes: the new value is there in full
UPDATE tu SET big = toast_text(2, 20000) WHERE id = 1;
SELECT j->>'kind' AS kind, j->>'op' AS op,
       j #> '{value,after,big}' = '{"__unchanged": true}' AS big_unchanged,
       length(j #>> '{value,after,big}') AS big_length,
       j #> '{value,after,other}' AS other
  FROM (SELECT r::jsonb AS j FROM regress_changes('regression_slot') r) s
 WHERE j->>'kind' = 'change';

-- upsert and COPY-style multi-insert
INSERT INTO tu VALUES (1, NULL, 3, 'u') ON CONFLICT (id) DO UPDATE SET other = 3;
INSERT INTO tu SELECT i, toast_text(i, 10000), i, NULL FROM generate_series(10, 12) i;
SELECT j->>'op' AS op, j #> '{key,id}' AS id,
       j #> '{value,after,big}' = '{"__unchanged": true}' AS big_unchanged,
       length(j #>> '{value,after,big}') AS big_length
  FROM (SELECT r::jsonb AS j FROM regress_changes('regression_slot') r) s
 WHERE j->>'kind' = 'change';

-- a TOASTed key: PostgreSQL logs the old key, which gives the key and the
-- unchanged value in "after"
CREATE TABLE tu_key (k text PRIMARY KEY, v int);
ALTER TABLE tu_key ALTER COLUMN k SET STORAGE EXTERNAL;
INSERT INTO tu_key VALUES (toast_text(3, 2200), 1);
UPDATE tu_key SET v = 2;
SELECT j->>'op' AS op, length(j #>> '{key,k}') AS key_length,
       j #> '{value,after,k}' = '{"__unchanged": true}' AS k_unchanged,
       j #> '{value,after,v}' AS v
  FROM (SELECT r::jsonb AS j FROM regress_changes('regression_slot') r) s
 WHERE j->>'kind' = 'change';

-- a key change of a two-column key whose TOASTed column stays: the create
-- takes that column from the old key PostgreSQL logged, for its key and after
CREATE TABLE tu_key2 (a text, b int, v int, PRIMARY KEY (a, b));
ALTER TABLE tu_key2 ALTER COLUMN a SET STORAGE EXTERNAL;
INSERT INTO tu_key2 VALUES (toast_text(4, 2200), 1, 1);
UPDATE tu_key2 SET b = 2;
SELECT j->>'op' AS op, length(j #>> '{key,a}') AS key_a_length, j #> '{key,b}' AS key_b,
       length(j #>> '{value,before,a}') AS before_a_length,
       length(j #>> '{value,after,a}') AS after_a_length,
       j #> '{value,after,b}' AS after_b
  FROM (SELECT r::jsonb AS j FROM regress_changes('regression_slot') r) s
 WHERE j->>'kind' = 'change';
-- the same in the flat envelope and in Avro binary (decodes, one frame each)
UPDATE tu_key2 SET b = 3;
SELECT j->>'op' AS op, length(j #>> '{key,a}') AS key_a_length, j #> '{key,b}' AS key_b,
       length(j #>> '{value,a}') AS a_length, j #> '{value,__op}' AS flat_op
  FROM (SELECT r::jsonb AS j FROM regress_changes('regression_slot', 'envelope', 'flat') r) s
 WHERE j->>'kind' = 'change';
UPDATE tu_key2 SET b = 4;
SELECT count(*) AS binary_frames
  FROM pg_logical_slot_get_binary_changes('regression_slot', NULL, NULL);

-- REPLICA IDENTITY NOTHING and a TOASTed key: PostgreSQL logs no old key, so
-- an update leaving the key alone cannot give it: the change arrives with no
-- key (as a NOTHING delete does), the column Unchanged in after, and one
-- WARNING per table
CREATE TABLE tu_nokey (k text PRIMARY KEY, v int);
ALTER TABLE tu_nokey ALTER COLUMN k SET STORAGE EXTERNAL;
ALTER TABLE tu_nokey REPLICA IDENTITY NOTHING;
INSERT INTO tu_nokey VALUES (toast_text(5, 2200), 1);
UPDATE tu_nokey SET v = 2;
UPDATE tu_nokey SET v = 3;
SELECT j->>'op' AS op, j->'key' = 'null' AS no_key, length(j #>> '{key,k}') AS key_length,
       j #> '{value,after,k}' = '{"__unchanged": true}' AS k_unchanged,
       j #> '{value,after,v}' AS v
  FROM (SELECT r::jsonb AS j FROM regress_changes('regression_slot') r) s
 WHERE j->>'kind' = 'change';
UPDATE tu_nokey SET v = 4;
SELECT count(*) AS binary_frames
  FROM pg_logical_slot_get_binary_changes('regression_slot', NULL, NULL);

SELECT pg_drop_replication_slot('regression_slot');
DROP TABLE tu, tu_key, tu_key2, tu_nokey;
DROP FUNCTION toast_text;
