-- identifiers: table and column names that are not Avro names are mapped
-- by the documented rule, the original kept in pg.name
SET client_min_messages = warning;
SELECT 'init' FROM pg_create_logical_replication_slot('regression_slot', 'wal2avro');
CREATE SCHEMA "Odd Schema";
CREATE TABLE "Odd Schema"."1st table" ("my id" int PRIMARY KEY, "my-id" int, "my_id" int,
    "ünï" text, "null" text, " " text, "int" int, "__op" text);
SELECT f->>'name' AS avro_name, f->>'pg.name' AS pg_name
  FROM wal2avro.avro_schemas('"Odd Schema"."1st table"'),
       json_array_elements(value_schema #> '{fields,0,type,1,fields}') f;
SELECT value_schema->>'name' AS envelope, key_schema->>'name' AS key, topic
  FROM wal2avro.avro_schemas('"Odd Schema"."1st table"');
-- the flat envelope keeps its own fields' names and renames the user's __op
SELECT json_agg(f->>'name') AS flat_fields
  FROM wal2avro.avro_schemas('"Odd Schema"."1st table"', '{envelope,flat}'),
       json_array_elements(value_schema->'fields') f;
INSERT INTO "Odd Schema"."1st table" VALUES (1, 2, 3, 'x', 'n', 'e', 4, 'o');
SELECT regress_changes('regression_slot');
-- flat: user columns named like every envelope field (and like a renamed
-- one); the envelope's fields keep their names, in both formats, and no
-- JSON key is written twice
CREATE TABLE flat_clash (id int PRIMARY KEY, __op text, __lsn text, __deleted text,
    __source_ts_ms text, __op_2 text);
SELECT json_agg(f->>'name') AS flat_fields, json_agg(f->>'pg.name') AS pg_names
  FROM wal2avro.avro_schemas('flat_clash', '{envelope,flat}'),
       json_array_elements(value_schema->'fields') f;
INSERT INTO flat_clash VALUES (1, 'o', 'l', 'd', 's', 'o2');
DELETE FROM flat_clash;
SELECT (SELECT count(*) FROM json_object_keys(data::json->'value')) AS keys,
       (SELECT count(DISTINCT k) FROM json_object_keys(data::json->'value') k) AS distinct_keys,
       data::json #>> '{value,__op}' AS envelope_op,
       data::json #>> '{value,__deleted}' AS envelope_deleted,
       data::json #>> '{value,__op_3}' AS user_op,
       data::json #>> '{value,__op_2}' AS user_op_2,
       data::json #>> '{value,__lsn_2}' AS user_lsn
  FROM pg_logical_slot_get_changes('regression_slot', NULL, NULL, 'format', 'json',
       'envelope', 'flat', 'include-tables', 'public.flat_clash')
 WHERE data::json->>'kind' = 'change';

-- named types that meet: a schema "composite" with a table "public" gives
-- the row records the names of composite types public."Value", "Key" and
-- "Envelope"; each composite gets a record of its own (the name with
-- _o<type OID>), never a reference to the row record
CREATE SCHEMA composite;
CREATE TYPE public."Value" AS (x int, y text);
CREATE TYPE public."Key" AS (k int);
CREATE TYPE public."Envelope" AS (e bool);
CREATE TABLE composite.public (id public."Key" PRIMARY KEY, v public."Value",
    e public."Envelope", vs public."Value"[]);
CREATE FUNCTION regress_named_types(schema json) RETURNS TABLE (name text, type text)
LANGUAGE sql AS $$
WITH RECURSIVE n(j) AS (SELECT schema
    UNION ALL
    SELECT c FROM n, LATERAL (
        SELECT e FROM json_array_elements(CASE json_typeof(n.j) WHEN 'array' THEN n.j END) e
        UNION ALL SELECT f->'type' FROM json_array_elements(
            CASE WHEN json_typeof(n.j) = 'object' AND n.j->>'type' = 'record' THEN n.j->'fields' END) f
        UNION ALL SELECT n.j->'items' WHERE json_typeof(n.j) = 'object' AND n.j->>'type' = 'array'
    ) s(c))
SELECT regexp_replace(j->>'name', '_o[0-9]+$', '_o<oid>'), j->>'type'
  FROM n WHERE json_typeof(j) = 'object' AND j->>'name' IS NOT NULL
$$;
SELECT 'value' AS schema, t.* FROM wal2avro.avro_schemas('composite.public') s,
       regress_named_types(s.value_schema) t
UNION ALL
SELECT 'key', t.* FROM wal2avro.avro_schemas('composite.public') s,
       regress_named_types(s.key_schema) t
UNION ALL
SELECT 'flat', t.* FROM wal2avro.avro_schemas('composite.public', '{envelope,flat}') s,
       regress_named_types(s.value_schema) t;
-- the column's type is its composite's record, not the row record
SELECT f->>'name' AS field,
       regexp_replace(coalesce(f #>> '{type,1,name}', f #>> '{type,1}'), '_o[0-9]+', '_o<oid>', 'g') AS type
  FROM wal2avro.avro_schemas('composite.public'),
       json_array_elements(value_schema #> '{fields,0,type,1,fields}') f;
DROP FUNCTION regress_named_types;
DROP TABLE flat_clash, composite.public;
DROP SCHEMA composite;
DROP TYPE public."Value", public."Key", public."Envelope";

SELECT pg_drop_replication_slot('regression_slot');
DROP SCHEMA "Odd Schema" CASCADE;
