-- composite_change: a composite type changed mid-stream (ALTER TYPE ... ADD,
-- DROP, RENAME ATTRIBUTE; ALTER TABLE on a table whose row type a column
-- uses) never stops decoding, gives a new SCHEMA frame with the type's
-- attributes of the moment, and each value is read as PostgreSQL holds it;
-- in the binary format (the frames' schemas) and in the json one (values).
SET client_min_messages = warning;
SELECT 'init' FROM pg_create_logical_replication_slot('regression_slot', 'wal2avro');

-- The binary frames of the slot, peeked: kind, table and, for a SCHEMA
-- frame, the fields of every composite record of its value schema
CREATE FUNCTION cc_binary(slot name) RETURNS SETOF text LANGUAGE sql AS $$
SELECT concat_ws(' ', f->>'kind', f->>'table',
       (SELECT string_agg(r->>'name' || '(' ||
                          (SELECT string_agg(x->>'name', ',') FROM jsonb_array_elements(r->'fields') x)
                          || ')', ' ' ORDER BY r->>'name')
          FROM jsonb_path_query(f->'value_schema',
                                'strict $.**?(@.type == "record" && @.name starts with "wal2avro.composite")') r))
  FROM pg_logical_slot_peek_binary_changes(slot, NULL, NULL, 'include-timestamps', 'false') c,
       wal2avro.frame_to_jsonb(c.data) f
 WHERE f->>'kind' IN ('schema', 'change')
$$;

CREATE TYPE cc_pair AS (a int, b text);
CREATE TABLE cc_t (id int PRIMARY KEY, p cc_pair);
INSERT INTO cc_t VALUES (1, ROW(1, 'x'));

-- ADD ATTRIBUTE: new rows carry it, an old value copied into a new row
-- version (id changes, p does not) has it null
ALTER TYPE cc_pair ADD ATTRIBUTE c int;
INSERT INTO cc_t VALUES (2, ROW(2, 'y', 2));
UPDATE cc_t SET id = 11 WHERE id = 1;
SELECT cc_binary('regression_slot');
SELECT regress_changes('regression_slot');

-- DROP ATTRIBUTE: gone from the schema and from old values copied forward
ALTER TYPE cc_pair DROP ATTRIBUTE b;
INSERT INTO cc_t VALUES (3, ROW(3, 3));
UPDATE cc_t SET id = 12 WHERE id = 2;
SELECT id, p FROM cc_t ORDER BY id;
SELECT cc_binary('regression_slot');
SELECT regress_changes('regression_slot');

-- RENAME ATTRIBUTE: the next rows have the new name
ALTER TYPE cc_pair RENAME ATTRIBUTE c TO c_renamed;
INSERT INTO cc_t VALUES (4, ROW(4, 4));
SELECT cc_binary('regression_slot');
SELECT regress_changes('regression_slot');

-- earlier rows share the ALTER's transaction: each row with its own type
BEGIN;
INSERT INTO cc_t VALUES (5, ROW(5, 5));
ALTER TYPE cc_pair ADD ATTRIBUTE d text;
INSERT INTO cc_t VALUES (6, ROW(6, 6, 'six'));
UPDATE cc_t SET id = 15 WHERE id = 5;
ALTER TYPE cc_pair RENAME ATTRIBUTE d TO d_renamed;
INSERT INTO cc_t VALUES (7, ROW(7, 7, 'seven'));
ALTER TYPE cc_pair DROP ATTRIBUTE a;
INSERT INTO cc_t VALUES (8, ROW(8, 'eight'));
COMMIT;
SELECT cc_binary('regression_slot');
SELECT regress_changes('regression_slot');

-- a composite nested in another and in an array: the inner type changes
CREATE TYPE cc_inner AS (x int);
CREATE TYPE cc_outer AS (i cc_inner, n int);
CREATE TABLE cc_nest (id int PRIMARY KEY, o cc_outer, arr cc_inner[]);
INSERT INTO cc_nest VALUES (1, ROW(ROW(1), 1), ARRAY[ROW(1)]::cc_inner[]);
ALTER TYPE cc_inner ADD ATTRIBUTE y text;
INSERT INTO cc_nest VALUES (2, ROW(ROW(2, 'two'), 2), ARRAY[ROW(2, 'two'), NULL]::cc_inner[]);
-- an array holding an old value and a new one
UPDATE cc_nest SET arr = arr || (SELECT arr FROM cc_nest WHERE id = 2) WHERE id = 1;
BEGIN;
INSERT INTO cc_nest VALUES (3, ROW(ROW(3, 'three'), 3), ARRAY[ROW(3, 'three')]::cc_inner[]);
ALTER TYPE cc_inner ADD ATTRIBUTE z int;
INSERT INTO cc_nest VALUES (4, ROW(ROW(4, 'four', 4), 4), ARRAY[ROW(4, 'four', 4)]::cc_inner[]);
ALTER TYPE cc_inner RENAME ATTRIBUTE x TO x_renamed;
ALTER TYPE cc_inner DROP ATTRIBUTE y;
INSERT INTO cc_nest VALUES (5, ROW(ROW(5, 5), 5), ARRAY[ROW(5, 5)]::cc_inner[]);
COMMIT;
SELECT cc_binary('regression_slot');
SELECT regress_changes('regression_slot');

-- a table's row type as a column type, after ALTER TABLE ... ADD COLUMN
CREATE TABLE cc_row (a int, b text);
CREATE TABLE cc_holder (id int PRIMARY KEY, r cc_row);
ALTER TABLE cc_holder REPLICA IDENTITY FULL;
INSERT INTO cc_holder VALUES (1, ROW(1, 'one'));
ALTER TABLE cc_row ADD COLUMN c int;
INSERT INTO cc_holder VALUES (2, ROW(2, 'two', 2));
BEGIN;
INSERT INTO cc_holder VALUES (3, ROW(3, 'three', 3));
ALTER TABLE cc_row ADD COLUMN d int;
INSERT INTO cc_holder VALUES (4, ROW(4, 'four', 4, 4));
ALTER TABLE cc_row DROP COLUMN b;
INSERT INTO cc_holder VALUES (5, ROW(5, 5, 5));
-- the old row PostgreSQL logs (REPLICA IDENTITY FULL) holds an old value
UPDATE cc_holder SET id = 6 WHERE id = 1;
COMMIT;
SELECT cc_binary('regression_slot');
SELECT regress_changes('regression_slot');

-- in one decoding: a harmless change of the type (its owner, a comment)
-- sends no new SCHEMA frame; renaming it, or a domain a column uses, does
CREATE DOMAIN cc_dom AS int;
ALTER TABLE cc_t ADD COLUMN dm cc_dom;
INSERT INTO cc_t VALUES (20, ROW(20, 'twenty'), 20);
ALTER TYPE cc_pair OWNER TO CURRENT_USER;
COMMENT ON TYPE cc_pair IS 'a pair';
INSERT INTO cc_t VALUES (21, ROW(21, 'twenty-one'), 21);
ALTER TYPE cc_pair RENAME TO cc_pair_renamed;
INSERT INTO cc_t VALUES (22, ROW(22, 'twenty-two'), 22);
ALTER DOMAIN cc_dom RENAME TO cc_dom_renamed;
INSERT INTO cc_t VALUES (23, ROW(23, 'twenty-three'), 23);
SELECT cc_binary('regression_slot');
SELECT regress_changes('regression_slot');

-- a value PostgreSQL cannot read (made with an attribute that a rolled-back
-- subtransaction added, stored after another took its place: SELECT refuses
-- it too) does not stop decoding: its attributes are null, with a WARNING
CREATE TYPE cc_undone AS (a int, b text);
CREATE TABLE cc_bad (id int PRIMARY KEY, v cc_undone);
DO $$
DECLARE
    kept cc_undone[];
BEGIN
    BEGIN
        ALTER TYPE cc_undone ADD ATTRIBUTE x text;
        EXECUTE 'SELECT ARRAY[ROW(1, ''one'', ''undone'')::cc_undone]' INTO kept;
        RAISE EXCEPTION 'roll back';
    EXCEPTION WHEN raise_exception THEN
        NULL;
    END;
    ALTER TYPE cc_undone ADD ATTRIBUTE x int;
    INSERT INTO cc_bad VALUES (1, kept[1]);
END
$$;
INSERT INTO cc_bad VALUES (2, ROW(2, 'two', 2));
SELECT v FROM cc_bad WHERE id = 1;
SELECT v FROM cc_bad WHERE id = 2;
SELECT cc_binary('regression_slot');
SELECT regress_changes('regression_slot');

SELECT pg_drop_replication_slot('regression_slot');
DROP FUNCTION cc_binary;
DROP TABLE cc_t, cc_nest, cc_holder, cc_row, cc_bad;
DROP TYPE cc_pair_renamed, cc_outer, cc_inner, cc_undone;
DROP DOMAIN cc_dom_renamed;
