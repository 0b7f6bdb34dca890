-- init: the extension and the helpers every other test reads changes with
SET client_min_messages = notice;
CREATE EXTENSION wal2avro;
SELECT e.extname, e.extversion, n.nspname AS schema,
       obj_description(e.oid, 'pg_extension') AS description
  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
 WHERE e.extname = 'wal2avro';

-- Changes of a slot in the json format, without what differs run to run
-- (LSNs, xids, OIDs, timestamps); schema frames without the schema text.
CREATE FUNCTION regress_strip(j jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
SELECT CASE j->>'kind'
    WHEN 'begin' THEN jsonb_build_object('kind', 'begin')
    WHEN 'commit' THEN jsonb_build_object('kind', 'commit', 'changes', j->'changes')
    WHEN 'schema' THEN j - '{relid,key_schema,value_schema}'::text[]
    WHEN 'change' THEN ((j - 'lsn') #- '{value,source}' #- '{value,__lsn}')
    ELSE j - 'lsn'
END
$$;

CREATE FUNCTION regress_changes(slot name, VARIADIC opts text[] DEFAULT '{}')
RETURNS SETOF text LANGUAGE sql AS $$
SELECT regress_strip(data::jsonb)::text
  FROM pg_logical_slot_get_changes(slot, NULL, NULL,
       VARIADIC array['format', 'json', 'include-timestamps', 'false'] || opts)
$$;

-- CREATE EXTENSION says when the server will refuse to decode with us
DROP EXTENSION wal2avro;
SET output_plugin_libraries = pgoutput, test_decoding;
CREATE EXTENSION wal2avro;
RESET output_plugin_libraries;

-- the monitoring view and function
SELECT 'init' FROM pg_create_logical_replication_slot('init_slot', 'wal2avro');
SELECT 'init' FROM pg_create_logical_replication_slot('init_other', 'test_decoding');
SELECT slot_name, active, lag_bytes >= 0 AS has_lag, retained_bytes >= 0 AS has_retained, wal_status
  FROM wal2avro.relay_slots;
CREATE TABLE init_t (id int);
INSERT INTO init_t SELECT generate_series(1, 1000);
SELECT wal2avro.slot_lag_exceeds('init_slot', 0) AS over_zero,
       wal2avro.slot_lag_exceeds('init_slot', 1024 * 1024 * 1024) AS over_1gb;
SELECT wal2avro.slot_lag_exceeds('no_such_slot', 0);
SELECT pg_drop_replication_slot('init_slot');
SELECT pg_drop_replication_slot('init_other');
DROP TABLE init_t;
