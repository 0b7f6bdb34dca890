-- cache_inval: an invalidation rebuilds only the schemas that depend on
-- what changed.  A new schema or temporary table elsewhere in the database
-- rebuilds nothing; renaming the schema of a table, or of a type one of its
-- columns uses (a composite, a domain), rebuilds that table's schema and
-- gives its new SCHEMA frame.  wal2avro.schema_cache_builds() counts the
-- builds of decoding in this session: each table is built once at its
-- first change in a decoding call, and again only after an invalidation
-- that concerns it.
SET client_min_messages = warning;
SELECT 'init' FROM pg_create_logical_replication_slot('ci_slot', 'wal2avro');

-- The SCHEMA frames one decoding call gives (table, schema, topic), and
-- then how many table descriptions it built
CREATE FUNCTION ci_decode(slot name) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
    before bigint := wal2avro.schema_cache_builds();
    f jsonb;
BEGIN
    FOR f IN SELECT data::jsonb
               FROM pg_logical_slot_get_changes(slot, NULL, NULL, 'format', 'json')
    LOOP
        IF f->>'kind' = 'schema' THEN
            RETURN NEXT concat_ws(' ', 'schema', f->>'schema', f->>'table', f->>'topic');
        END IF;
    END LOOP;
    RETURN NEXT 'builds ' || (wal2avro.schema_cache_builds() - before);
END
$$;

-- A row into each table: only its id, so that it outlives type changes
CREATE FUNCTION ci_write(id int, VARIADIC tables regclass[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    t regclass;
BEGIN
    FOREACH t IN ARRAY tables LOOP
        EXECUTE format('INSERT INTO %s (id) VALUES (%s)', t, id);
    END LOOP;
END
$$;

CREATE TABLE ci_plain (id int PRIMARY KEY, v text);
CREATE SCHEMA ci_types;
CREATE TYPE ci_types.pair AS (a int, b text);
CREATE DOMAIN ci_types.posint AS int CHECK (VALUE > 0);
CREATE TABLE ci_comp (id int PRIMARY KEY, p ci_types.pair);
CREATE TABLE ci_dom (id int PRIMARY KEY, d ci_types.posint);
CREATE SCHEMA ci_home;
CREATE TABLE ci_home.t (id int PRIMARY KEY);
SELECT ci_decode('ci_slot');

-- unrelated namespaces and types: a new schema, a temporary table (its row
-- type, maybe its temporary schema), a schema renamed, a type created: one
-- build per table, no rebuild
SELECT ci_write(1, 'ci_plain', 'ci_comp', 'ci_dom', 'ci_home.t');
CREATE SCHEMA ci_other;
CREATE TEMP TABLE ci_temp (x int);
ALTER SCHEMA ci_other RENAME TO ci_other_renamed;
CREATE TYPE ci_other_renamed.unused AS (z int);
SELECT ci_write(2, 'ci_plain', 'ci_comp', 'ci_dom', 'ci_home.t');
SELECT ci_decode('ci_slot');

-- the schema of the composite and the domain: their tables are rebuilt,
-- with new SCHEMA frames (the record's name, the domain's pg.type); the
-- others are not
SELECT ci_write(3, 'ci_plain', 'ci_comp', 'ci_dom', 'ci_home.t');
ALTER SCHEMA ci_types RENAME TO ci_types_renamed;
SELECT ci_write(4, 'ci_plain', 'ci_comp', 'ci_dom', 'ci_home.t');
SELECT ci_decode('ci_slot');

-- the table's own schema: its new name and topic
SELECT ci_write(5, 'ci_plain', 'ci_home.t');
ALTER SCHEMA ci_home RENAME TO ci_home_renamed;
SELECT ci_write(6, 'ci_plain', 'ci_home_renamed.t');
SELECT ci_decode('ci_slot');

-- a composite's attributes changed: only its table is rebuilt
SELECT ci_write(7, 'ci_plain', 'ci_comp');
ALTER TYPE ci_types_renamed.pair ADD ATTRIBUTE c int;
SELECT ci_write(8, 'ci_plain', 'ci_comp');
SELECT ci_decode('ci_slot');

SELECT pg_drop_replication_slot('ci_slot');
DROP TABLE ci_plain, ci_comp, ci_dom, ci_home_renamed.t, ci_temp;
DROP SCHEMA ci_types_renamed, ci_home_renamed, ci_other_renamed CASCADE;
DROP FUNCTION ci_decode(name), ci_write(int, regclass[]);
