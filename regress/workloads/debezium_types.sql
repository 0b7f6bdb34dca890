-- regress/workloads/debezium_types.sql -- the Debezium oracle's workload
--
-- Run twice by regress/lib/debezium.sh (dbz_capture): first with
-- `psql -v stream=false` (the tables and the rows that exist before the
-- connector's initial snapshot), then, once the snapshot is done, with
-- `-v stream=true` (the changes it streams).  Every type of doc/protocol.md
-- with NULLs and extremes; replica identities DEFAULT and FULL; unchanged
-- TOAST (an update that does not touch a large EXTERNAL text column); a
-- primary key change under each identity; deletes; a truncate; pg_logical_emit_message.
-- Each statement is its own transaction, so the records' order is the
-- statements' order.  Ends with the sentinel row dbz_done (id 1), which
-- the capture waits for.

\set ON_ERROR_STOP on
\if :stream
\else

CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN posint AS int4 CHECK (VALUE > 0);
CREATE TYPE pair AS (a int4, b text);

-- every scalar type, one column each; id is the key
CREATE TABLE types (
	id int4 PRIMARY KEY,
	c_bool bool, c_int2 int2, c_int4 int4, c_int8 int8, c_oid oid,
	c_float4 float4, c_float8 float8,
	c_num numeric(12,2), c_num_var numeric,
	c_text text, c_varchar varchar(20), c_bpchar char(5), c_name name, c_char "char",
	c_bytea bytea,
	c_date date, c_ts timestamp, c_tstz timestamptz, c_time time, c_timetz timetz,
	c_interval interval, c_uuid uuid, c_json json, c_jsonb jsonb,
	c_int_arr int4[], c_text_arr text[],
	c_enum mood, c_domain posint, c_pair pair,
	c_range int4range, c_inet inet, c_money money, c_bit bit(4), c_tsv tsvector, c_xml xml
);

INSERT INTO types (id) VALUES (1);	-- every column NULL
INSERT INTO types VALUES (2,
	true, 32767, 2147483647, 9223372036854775807, 4294967295,
	3.4e38, 1.7976931348623157e308,
	9999999999.99, 123456789012345678901234567890.123456789,
	'héllo ✓ "quoted"\n', 'varchar', 'abc', 'a_name', 'x',
	'\x00ff10'::bytea,
	'2024-02-29', '2024-02-29 12:34:56.123456', '2024-02-29 12:34:56.123456+05:30',
	'23:59:59.999999', '12:00:00+02', '1 year 2 mons 3 days 04:05:06.789',
	'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"a": [1, 2.5, null]}', '{"b": {"c": true}}',
	'{1,NULL,3}', '{"x",NULL,"z"}',
	'happy', 42, ROW(1, 'one'),
	'[1,10)', '192.168.0.1/24', 12.34, B'1010', 'a fat cat', '<a>1</a>');
INSERT INTO types VALUES (3,
	false, -32768, -2147483648, -9223372036854775808, 0,
	'-Infinity', 'NaN',
	-9999999999.99, -0.000000001,
	'', '', '', '', '',
	''::bytea,
	'4713-01-01 BC', '0001-01-01 00:00:00', '1970-01-01 00:00:00+00',
	'00:00:00', '00:00:00-14', '-178000000 years',
	'00000000-0000-0000-0000-000000000000', '[]', '{}',
	'{}', '{{"a","b"},{"c","d"}}',
	'sad', 1, ROW(NULL, NULL),
	'empty', '::1', -92233720368547758.08, B'0000', '', '<x/>');
INSERT INTO types (id, c_float4, c_float8, c_date, c_ts, c_tstz, c_num_var)
	VALUES (4, 'NaN', 'Infinity', 'infinity', '-infinity', 'infinity', 'NaN');

-- replica identity FULL, no primary key
CREATE TABLE full_ident (a int4, b text);
ALTER TABLE full_ident REPLICA IDENTITY FULL;
INSERT INTO full_ident VALUES (1, 'one'), (2, 'two');

-- a large EXTERNAL (uncompressed out of line) text column
CREATE TABLE toasty (id int4 PRIMARY KEY, n int4, big text);
ALTER TABLE toasty ALTER COLUMN big SET STORAGE EXTERNAL;
INSERT INTO toasty VALUES (1, 0, repeat('0123456789', 1000));

-- keys that change, rows that are deleted, a table that is truncated
CREATE TABLE orders (id int4 PRIMARY KEY, status text NOT NULL, total numeric(12,2));
INSERT INTO orders VALUES (1, 'new', 10.00), (2, 'new', 20.50), (3, 'new', 0.01);
CREATE TABLE scratch (id int4 PRIMARY KEY, v text);
INSERT INTO scratch VALUES (1, 'a'), (2, 'b');
-- a primary key under replica identity FULL
CREATE TABLE orders_full (id int4 PRIMARY KEY, status text NOT NULL);
ALTER TABLE orders_full REPLICA IDENTITY FULL;
INSERT INTO orders_full VALUES (1, 'new');

CREATE TABLE dbz_done (id int4 PRIMARY KEY);
\endif

\if :stream
INSERT INTO types SELECT 10, c_bool, c_int2, c_int4, c_int8, c_oid, c_float4, c_float8,
	c_num, c_num_var, c_text, c_varchar, c_bpchar, c_name, c_char, c_bytea, c_date, c_ts,
	c_tstz, c_time, c_timetz, c_interval, c_uuid, c_json, c_jsonb, c_int_arr, c_text_arr,
	c_enum, c_domain, c_pair, c_range, c_inet, c_money, c_bit, c_tsv, c_xml FROM types WHERE id = 2;
UPDATE types SET c_text = 'changed', c_int4 = NULL WHERE id = 10;
UPDATE types SET c_bool = NULL WHERE id = 3;
DELETE FROM types WHERE id = 10;

INSERT INTO full_ident VALUES (3, 'three');
UPDATE full_ident SET b = 'TWO' WHERE a = 2;
DELETE FROM full_ident WHERE a = 1;

UPDATE toasty SET n = n + 1 WHERE id = 1;	-- big unchanged, stored out of line
UPDATE toasty SET big = 'small now' WHERE id = 1;

UPDATE orders SET status = 'paid' WHERE id = 1;
UPDATE orders SET id = 20 WHERE id = 2;	-- a primary key change
DELETE FROM orders WHERE id = 3;
UPDATE orders_full SET id = 10, status = 'moved' WHERE id = 1;	-- under FULL
BEGIN;
INSERT INTO orders VALUES (4, 'new', 4.00);
UPDATE orders SET total = 5.00 WHERE id = 4;
SELECT pg_logical_emit_message(true, 'w2a-test', 'transactional message');
COMMIT;
SELECT pg_logical_emit_message(false, 'w2a-test', 'non-transactional message');

TRUNCATE scratch;
INSERT INTO scratch VALUES (3, 'c');

INSERT INTO dbz_done VALUES (1);
\endif
