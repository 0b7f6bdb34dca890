-- types: every type mapping in the json format, with NULLs and extremes;
-- numbers are in types_pg14 (types_pre14 before 14), decimals in types_pg15
-- (types_pre14), dates and times in types_time
SET client_min_messages = warning;
SELECT 'init' FROM pg_create_logical_replication_slot('regression_slot', 'wal2avro');

-- jsonb as an Avro string: the value record holds jsonb_out's text (what
-- ::text gives) after its length, for escapes, control characters, nesting,
-- raw scalars, non-ASCII text and lengths of one, two and three bytes
SELECT 'init' FROM pg_create_logical_replication_slot('jsonb_slot', 'wal2avro');
CREATE TABLE ty_jsonb (id int PRIMARY KEY, j jsonb);
INSERT INTO ty_jsonb VALUES
    (1, E'{"a": "quote \\" backslash \\\\ slash / tab \\t nl \\n cr \\r bs \\b ff \\f", "b": [1, 2.50, -0, 1e100, true, false, null]}'),
    (2, '"control \u0001 \u001f \u007f"'),
    (3, '12.500'),
    (4, 'null'),
    (5, '{}'),
    (6, '[]'),
    (7, '[[], {}, [{"x": []}], [[1, [2]], {"y": {}}]]'),
    (8, '{"nested": {"deeper": {"k": "v"}}, "arr": [{"a": 1}, {"b": 2}], "": ""}'),
    (9, '"ünïcödé ☃ 😀"'),
    (10, (SELECT jsonb_agg(g) FROM generate_series(1, 100) g)),
    (11, jsonb_build_object('long', repeat('x', 20000), 'n', 1)),
    (12, '[0, 0.0001, -12345.678901, 1e-30, -1.5e-7, 123456789012345678901234567890, 10000,
          100000000, 0.1000, -0.5, 1.0e4, 9999.9999, 12345678.000000001]');
-- the zig-zag varint of a length
CREATE FUNCTION avro_len(n int) RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
    WITH RECURSIVE v(z, out) AS (
        SELECT (2 * n)::bigint, ''::bytea
        UNION ALL
        SELECT z >> 7, out || CASE WHEN z > 127
                                   THEN set_byte('\x00', 0, ((z & 127) | 128)::int)
                                   ELSE set_byte('\x00', 0, z::int) END
          FROM v WHERE z > 0 OR out = ''
    )
    SELECT out FROM v WHERE z = 0 AND out <> '' LIMIT 1
$$;
SELECT t.id, octet_length(t.j::text) AS text_bytes,
       position(avro_len(octet_length(t.j::text)) || convert_to(t.j::text, 'UTF8')
                in decode(substr(f->>'value', 3), 'hex')) > 0 AS value_holds_text
  FROM pg_logical_slot_get_binary_changes('jsonb_slot', NULL, NULL) c,
       wal2avro.frame_to_jsonb(c.data) f, ty_jsonb t
 WHERE f->>'kind' = 'change' AND f->>'key' = '\x' || lpad(to_hex(2 * t.id), 2, '0')
 ORDER BY t.id;
SELECT pg_drop_replication_slot('jsonb_slot');
DROP FUNCTION avro_len;
SELECT count(*) FROM regress_changes('regression_slot');

-- text and bytes
CREATE TABLE ty_text (id int PRIMARY KEY, t text, v varchar(5), c char(4), nm name,
    ch "char", by bytea, j json, jb jsonb, u uuid);
INSERT INTO ty_text VALUES
    (1, E'quote " backslash \\ newline \n tab \t', 'abc', 'ab', 'some_name', 'x',
     '\x000aff', '{"a": [1, 2.50]}', '{"b": null, "a": 1}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'),
    (2, '', '', '', '', '', '', 'null', '[]', '00000000-0000-0000-0000-000000000000'),
    (3, 'ünïcödé ☃', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
SELECT regress_changes('regression_slot');

-- arrays, enums, domains, composites, and types carried as their text
CREATE TYPE ty_mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN ty_posint AS int CHECK (VALUE > 0);
CREATE DOMAIN ty_code AS varchar(8);
CREATE TYPE ty_inner AS (x int, label text);
CREATE TYPE ty_outer AS (inner_part ty_inner, tags text[], amount numeric(6,2));
CREATE TABLE ty_misc (id int PRIMARY KEY, ia int[], ta text[], na numeric[], m ty_mood,
    p ty_posint, code ty_code, comp ty_outer, r int4range, inet_v inet, mac macaddr,
    money_v money, bits bit(8), ts tsvector, pt point);
INSERT INTO ty_misc VALUES
    (1, '{1,2,3}', '{"a",NULL,"c,d"}', '{1.5,NaN}', 'happy', 7, 'X-1',
     ROW(ROW(1, 'one'), '{x,y}', 12.34), '[1,10)', '192.168.0.1/24', '08:00:2b:01:02:03',
     '12.34', B'10101010', 'a fat cat', '(1,2)'),
    (2, '{}', '{{a,b},{c,d}}', '[0:1]={1,2}', 'sad', 1, '',
     ROW(NULL, NULL, NULL), 'empty', '::1', NULL, NULL, NULL, NULL, NULL),
    (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
SELECT regress_changes('regression_slot');

-- the schemas: logical types, the string fallback and Unchanged branches
SELECT f->>'name' AS name, f->>'pg.type' AS pg_type, f->'type' AS type
  FROM wal2avro.avro_schemas('ty_misc'),
       json_array_elements(value_schema #> '{fields,0,type,1,fields}') f;

SELECT pg_drop_replication_slot('regression_slot');
DROP TABLE ty_jsonb, ty_text, ty_misc;
DROP TYPE ty_outer, ty_inner, ty_mood;
DROP DOMAIN ty_posint, ty_code;
