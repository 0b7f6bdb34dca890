-- json_text: the json format's text byte for byte (the other tests compare
-- it as jsonb, which hides key order, number spelling and the Source
-- record): every type kind, the Unchanged marker, a flat change without a
-- row.  LSNs and xids, which differ run to run, are masked, and the long
-- TOASTed value cut.
SET client_min_messages = warning;
\pset format unaligned
\pset tuples_only on
SELECT 'init' FROM pg_create_logical_replication_slot('text_slot', 'wal2avro');
CREATE FUNCTION text_changes(VARIADIC opts text[] DEFAULT '{}')
RETURNS SETOF text LANGUAGE sql AS $$
SELECT regexp_replace(regexp_replace(data, '"(lsn|__lsn|txId)":("[^"]*"|[0-9]+)', '"\1":_', 'g'),
                      'x{100,}', 'x...', 'g')
  FROM pg_logical_slot_get_changes('text_slot', NULL, NULL,
       VARIADIC array['format', 'json', 'include-timestamps', 'false'] || opts)
 WHERE data LIKE '{"kind":"change"%'
$$;
CREATE TYPE jt_inner AS (x int, label text);
CREATE TABLE jt (id int PRIMARY KEY, b bool, s int2, l int8, o oid, r float4, d float8,
    n numeric(12,3), u numeric, t text, nm name, by bytea, jb jsonb, uid uuid,
    dt date, ts timestamp, tz timestamptz, tm time, ttz timetz, iv interval,
    ia int[], ta text[], comp jt_inner, big text);
ALTER TABLE jt ALTER big SET STORAGE EXTERNAL;
INSERT INTO jt VALUES
    (1, true, -32768, 9223372036854775807, 4294967295, 3.4e38, 1.7976931348623157e308,
     -0.001, 1e-20, E'q " b \\ n \n t \t ü ☃', 'nm', '\x000aff', '{"b": [1, 2.50], "a": null}',
     'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '2020-02-29', '2020-02-29 23:59:59.999999',
     '294276-12-31 23:59:59.999999+00', '23:59:59.999999', '12:00:00+05:30',
     '1 year 2 mons 3 days 04:05:06.789', '{1,NULL,3}', '{{a,b},{c,d}}', ROW(1, 'one'),
     repeat('x', 10000)),
    (2, NULL, 0, 0, 0, 'NaN', '-Infinity', 'NaN', 123456789012345678901234567890.0123456789,
     '', '', '', 'null', NULL, 'infinity', '-infinity', 'infinity', '24:00:00', NULL,
     '-1 days -00:00:01', '{}', '[2:3]={x,y}', ROW(NULL, NULL), NULL);
UPDATE jt SET b = NOT b WHERE id = 1;
DELETE FROM jt WHERE id = 2;
SELECT text_changes();
-- the flat envelope; a delete under REPLICA IDENTITY NOTHING has no row
CREATE TABLE jt_nothing (id int, v text);
ALTER TABLE jt_nothing REPLICA IDENTITY NOTHING;
INSERT INTO jt_nothing VALUES (1, 'a');
DELETE FROM jt_nothing;
UPDATE jt SET s = 1 WHERE id = 1;
SELECT text_changes('envelope', 'flat');
SELECT 'stop' FROM pg_drop_replication_slot('text_slot');
DROP TABLE jt, jt_nothing;
DROP TYPE jt_inner;
DROP FUNCTION text_changes;
