-- cache_inval_types: a change to a type rebuilds the schemas of the tables
-- that use it and no other.  A temporary table, a new type or a new domain
-- elsewhere rebuild nothing; an enum's new label (ALTER TYPE ... ADD VALUE,
-- a pg_enum row, not a pg_type one) rebuilds the tables that use an enum,
-- and with compat=debezium its Enum schema lists the label; a domain
-- renamed rebuilds its table with the new pg.type.  The values written after
-- the change decode.  wal2avro.schema_cache_builds() counts the builds of
-- decoding in this session (see cache_inval): each table once at its first
-- change in a decoding call, and again only after an invalidation that
-- concerns it.
SET client_min_messages = warning;
SELECT 'init' FROM pg_create_logical_replication_slot('cit_slot', 'wal2avro');
SELECT 'init' FROM pg_create_logical_replication_slot('cit_dbz', 'wal2avro');

CREATE SCHEMA cit;
CREATE TYPE cit.mood AS ENUM ('sad', 'ok');
CREATE DOMAIN cit.small AS int CHECK (VALUE < 100);
CREATE TABLE cit_enum (id int PRIMARY KEY, m cit.mood, ms cit.mood[]);
CREATE TABLE cit_dom (id int PRIMARY KEY, d cit.small);
CREATE TABLE cit_plain (id int PRIMARY KEY, v text);

-- A row into each table
CREATE FUNCTION cit_write(id int, m cit.mood, ms cit.mood[]) RETURNS void LANGUAGE sql AS $$
    INSERT INTO cit_enum VALUES (id, m, ms);
    INSERT INTO cit_dom VALUES (id, id);
    INSERT INTO cit_plain VALUES (id, chr(96 + id));
$$;

-- One decoding call in the json format: each SCHEMA frame (with the
-- pg.type of its enum or domain column), each change's new row, and then
-- how many table descriptions it built
CREATE FUNCTION cit_decode() RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
    before bigint := wal2avro.schema_cache_builds();
    f jsonb;
BEGIN
    FOR f IN SELECT data::jsonb
               FROM pg_logical_slot_get_changes('cit_slot', NULL, NULL, 'format', 'json')
    LOOP
        IF f->>'kind' = 'schema' THEN
            RETURN NEXT concat_ws(' ', 'schema', f->>'table',
                jsonb_path_query_first(f->'value_schema',
                    'strict $.**."pg.type" ? (@ like_regex "^cit\\.")') #>> '{}');
        ELSIF f->>'kind' = 'change' THEN
            RETURN NEXT concat_ws(' ', 'change', f->>'table', f->'value'->'after');
        END IF;
    END LOOP;
    RETURN NEXT 'builds ' || (wal2avro.schema_cache_builds() - before);
END
$$;

-- The same with compat=debezium: each SCHEMA frame with the labels its
-- enum column allows (io.debezium.data.Enum), each change, the builds
CREATE FUNCTION cit_decode_dbz() RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
    before bigint := wal2avro.schema_cache_builds();
    f jsonb;
BEGIN
    FOR f IN SELECT wal2avro.frame_to_jsonb(data)
               FROM pg_logical_slot_get_binary_changes('cit_dbz', NULL, NULL, 'compat', 'debezium')
    LOOP
        IF f->>'kind' = 'schema' THEN
            RETURN NEXT concat_ws(' ', 'schema', f->>'table',
                jsonb_path_query_first(f->'value_schema',
                    'strict $.** ? (@.name == "m").type.**."connect.parameters".allowed') #>> '{}');
        ELSIF f->>'kind' = 'change' THEN
            RETURN NEXT concat_ws(' ', 'change', f->>'op');
        END IF;
    END LOOP;
    RETURN NEXT 'builds ' || (wal2avro.schema_cache_builds() - before);
END
$$;

SELECT cit_write(1, 'sad', '{ok}');
SELECT cit_decode();
SELECT cit_decode_dbz();

-- unrelated types: a temporary table (its row type), a new type and a new
-- domain, in the tables' own schema too: one build per table, no rebuild
SELECT cit_write(2, 'ok', '{}');
CREATE TEMP TABLE cit_temp (x int);
CREATE TYPE cit.unused AS (z int);
CREATE DOMAIN cit.unused_dom AS text;
CREATE TYPE public.cit_unused_enum AS ENUM ('x');
SELECT cit_write(3, 'ok', '{sad}');
SELECT cit_decode();
SELECT cit_decode_dbz();

-- a new label of the enum: its table is rebuilt (with compat=debezium a
-- SCHEMA frame allowing it), the row with the label decodes
SELECT cit_write(4, 'ok', '{ok}');
ALTER TYPE cit.mood ADD VALUE 'happy';
SELECT cit_write(5, 'happy', '{happy,sad}');
SELECT cit_decode();
SELECT cit_decode_dbz();

-- the domain renamed: its table is rebuilt with the new pg.type
SELECT cit_write(6, 'happy', '{}');
ALTER DOMAIN cit.small RENAME TO little;
SELECT cit_write(7, 'sad', '{}');
SELECT cit_decode();
SELECT cit_decode_dbz();

SELECT pg_drop_replication_slot('cit_slot');
SELECT pg_drop_replication_slot('cit_dbz');
DROP FUNCTION cit_write(int, cit.mood, cit.mood[]), cit_decode(), cit_decode_dbz();
DROP TABLE cit_enum, cit_dom, cit_plain, cit_temp;
DROP SCHEMA cit CASCADE;
DROP TYPE public.cit_unused_enum;
