-- frames_binary: the binary frames, read back with wal2avro.frame_to_jsonb,
-- and what a truncated or garbage frame gets: an ERROR, never a crash
SET client_min_messages = warning;
SELECT 'init' FROM pg_create_logical_replication_slot('regression_slot', 'wal2avro');
CREATE TABLE fb (id int PRIMARY KEY, v text);
INSERT INTO fb VALUES (1, 'one');
SELECT 'msg' FROM pg_logical_emit_message(false, 'p', 'hello');
TRUNCATE fb;
CREATE TEMP TABLE frames AS
SELECT row_number() OVER () AS n, data
  FROM pg_logical_slot_get_binary_changes('regression_slot', NULL, NULL, 'include-timestamps', 'false');
-- (the value holds xids and LSNs: the independent Avro check reads it)
SELECT n, get_byte(data, 4)::"char" AS kind,
       (wal2avro.frame_to_jsonb(data) - '{xid,relid,lsn,commit_lsn,end_lsn,key_schema,value_schema,value}'::text[])
         #- '{relations,0,relid}' AS frame
  FROM frames ORDER BY n;
-- the schema frame's schemas and fingerprints are those avro_schemas() gives
SELECT f->>'value_fingerprint' = s.value_fingerprint AS value_fp,
       f->>'key_fingerprint' = s.key_fingerprint AS key_fp,
       (f->'value_schema')::text = (s.value_schema::jsonb)::text AS same_schema
  FROM frames, wal2avro.frame_to_jsonb(data) f, wal2avro.avro_schemas('fb') s
 WHERE f->>'kind' = 'schema';
-- the CHANGE frame's Avro key is the zigzag varint of 1 (0x02)
SELECT f->>'key' AS key FROM frames, wal2avro.frame_to_jsonb(data) f WHERE f->>'kind' = 'change';

-- bad frames
SELECT wal2avro.frame_to_jsonb('\x');
SELECT wal2avro.frame_to_jsonb('\x573241');
SELECT wal2avro.frame_to_jsonb('\x58324101420000000000');
SELECT wal2avro.frame_to_jsonb('\x57324102420000000000');
SELECT wal2avro.frame_to_jsonb('\x57324101420100000000');
SELECT wal2avro.frame_to_jsonb('\x57324101580000000000');
-- every frame cut short by one byte, and with one byte too many
SELECT n, wal2avro.frame_to_jsonb(substr(data, 1, length(data) - 1)) FROM frames WHERE n = 1;
SELECT n, wal2avro.frame_to_jsonb(data || '\x00'::bytea) FROM frames WHERE n = 1;
CREATE FUNCTION try_frame(f bytea) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    PERFORM wal2avro.frame_to_jsonb(f);
    RETURN 'ok';
EXCEPTION WHEN invalid_binary_representation THEN
    RETURN 'error';
END
$$;
SELECT n, try_frame(substr(data, 1, length(data) - 1)) AS cut,
       try_frame(data || '\x00'::bytea) AS extended,
       try_frame(overlay(data placing '\xffffffff'::bytea from 7)) AS huge_length
  FROM frames ORDER BY n;
-- a body length that matches but a string length inside that overruns it
SELECT try_frame('\x5732410153000000080000000000000000'::bytea);
DROP FUNCTION try_frame;

SELECT pg_drop_replication_slot('regression_slot');
DROP TABLE fb;
