-- schema_change: SCHEMA frames exactly when the Avro schema changes
SET client_min_messages = warning;
SELECT 'init' FROM pg_create_logical_replication_slot('regression_slot', 'wal2avro');
CREATE TABLE sc (id int PRIMARY KEY, a text);

-- first change sends the schema; a harmless invalidation (an index) does not
INSERT INTO sc VALUES (1, 'x');
CREATE INDEX sc_a ON sc (a);
INSERT INTO sc VALUES (2, 'y');
-- ADD COLUMN between transactions, with a default
ALTER TABLE sc ADD COLUMN b int DEFAULT 7;
INSERT INTO sc VALUES (3, 'z');
UPDATE sc SET a = 'w' WHERE id = 1;
-- RENAME, ALTER TYPE, DROP COLUMN
ALTER TABLE sc RENAME COLUMN a TO a_renamed;
INSERT INTO sc VALUES (4, 'r');
ALTER TABLE sc ALTER COLUMN b TYPE numeric(5,1);
INSERT INTO sc VALUES (5, 's', 1.5);
ALTER TABLE sc DROP COLUMN a_renamed;
INSERT INTO sc VALUES (6, 2.5);
SELECT regress_changes('regression_slot');

-- DDL inside a transaction, between its changes
BEGIN;
INSERT INTO sc VALUES (7, 1);
ALTER TABLE sc ADD COLUMN c text;
INSERT INTO sc VALUES (8, 2, 'c');
ALTER TABLE sc DROP COLUMN c;
INSERT INTO sc VALUES (9, 3);
COMMIT;
SELECT regress_changes('regression_slot');

-- table rewrites keep the stream: VACUUM FULL, CLUSTER, a rewriting ALTER
VACUUM FULL sc;
INSERT INTO sc VALUES (10, 4);
CLUSTER sc USING sc_pkey;
UPDATE sc SET b = 5 WHERE id = 10;
ALTER TABLE sc ALTER COLUMN b TYPE numeric(7,2);
DELETE FROM sc WHERE id = 10;
SELECT regress_changes('regression_slot');

-- fingerprints in the frames match wal2avro.avro_schemas()
INSERT INTO sc VALUES (11, 6);
SELECT s.value_fingerprint = j->>'value_fingerprint' AS value_fp_matches,
       s.key_fingerprint = j->>'key_fingerprint' AS key_fp_matches
  FROM wal2avro.avro_schemas('sc') s,
       (SELECT data::jsonb AS j
          FROM pg_logical_slot_get_changes('regression_slot', NULL, NULL, 'format', 'json') ) c
 WHERE j->>'kind' = 'schema';

-- retypes that only logical types or pg.type tell apart (timestamp to
-- timestamptz, int4 to date, text to jsonb) each give a new fingerprint,
-- in wal2avro.avro_schemas() and in the stream
CREATE TABLE sc_meaning (id int PRIMARY KEY, t timestamp, d int4, j text);
CREATE TEMP TABLE sc_fps AS
  SELECT 'first' AS step, value_fingerprint FROM wal2avro.avro_schemas('sc_meaning');
INSERT INTO sc_meaning VALUES (1, '2026-01-02 03:04:05', 10, '{}');
ALTER TABLE sc_meaning ALTER COLUMN t TYPE timestamptz;
INSERT INTO sc_fps SELECT 'timestamptz', value_fingerprint FROM wal2avro.avro_schemas('sc_meaning');
INSERT INTO sc_meaning VALUES (2, '2026-01-02 03:04:05', 10, '{}');
ALTER TABLE sc_meaning ALTER COLUMN d TYPE date USING DATE '2000-01-01' + d;
INSERT INTO sc_fps SELECT 'date', value_fingerprint FROM wal2avro.avro_schemas('sc_meaning');
INSERT INTO sc_meaning VALUES (3, '2026-01-02 03:04:05', '2026-01-02', '{}');
ALTER TABLE sc_meaning ALTER COLUMN j TYPE jsonb USING j::jsonb;
INSERT INTO sc_fps SELECT 'jsonb', value_fingerprint FROM wal2avro.avro_schemas('sc_meaning');
INSERT INTO sc_meaning VALUES (4, '2026-01-02 03:04:05', '2026-01-02', '{}');
SELECT count(*) AS schemas, count(DISTINCT value_fingerprint) AS fingerprints FROM sc_fps;
SELECT count(*) AS schema_frames, count(DISTINCT j->>'value_fingerprint') AS fingerprints,
       count(*) FILTER (WHERE j->>'value_fingerprint' IN (SELECT value_fingerprint FROM sc_fps))
         AS as_avro_schemas
  FROM (SELECT data::jsonb AS j
          FROM pg_logical_slot_get_changes('regression_slot', NULL, NULL, 'format', 'json')) c
 WHERE j->>'kind' = 'schema' AND j->>'table' = 'sc_meaning';

SELECT pg_drop_replication_slot('regression_slot');
DROP TABLE sc, sc_meaning;
