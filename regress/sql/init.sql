-- init: the extension and the helpers every other test reads changes with
SET client_min_messages = notice;
CREATE EXTENSION wal2avro;
\dx wal2avro

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
