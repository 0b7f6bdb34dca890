-- types_pre14: the numbers of types_pg14.sql and the decimals of
-- types_pg15.sql that a server before 14 can store (numeric has no
-- infinities there, and no negative scale or scale above the precision)
SET client_min_messages = warning;
SELECT 'init' FROM pg_create_logical_replication_slot('regression_slot', 'wal2avro');

CREATE TABLE ty_num (id int PRIMARY KEY, b bool, s int2, i int4, l int8, o oid,
    r float4, d float8, n numeric(10,2), big numeric(40,10), u numeric);
INSERT INTO ty_num VALUES
    (1, true, 32767, 2147483647, 9223372036854775807, 4294967295,
     3.4e38, 1.7976931348623157e308, 99999999.99, 123456789012345678901234567890.0123456789, 1e-20),
    (2, false, -32768, -2147483648, -9223372036854775808, 0,
     '-Infinity', 'NaN', -0.01, -1, -1e-20),
    (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'NaN', NULL, 'NaN'),
    (4, true, 0, 0, 0, 1, '-0', 'Infinity', 0, 0, 123456789.000000000000000000001);
SELECT regress_changes('regression_slot');

-- the decimal bytes of the key record (types_pg15.sql says what they are)
SELECT 'init' FROM pg_create_logical_replication_slot('decimal_slot', 'wal2avro');
CREATE TABLE ty_dec (id int, a numeric(12,2), b numeric(40,5), u numeric,
    PRIMARY KEY (id, a, b, u));
INSERT INTO ty_dec VALUES
    (1, 0, 0, 0),
    (2, -0.01, -0.00001, -1e-20),
    (3, 9999999999.99, 99999999999999999999999999999999999.99999,
     99999999999999999999999999999999999999),
    (4, -9999999999.99, -99999999999999999999999999999999999.99999,
     -123456789012345678901234567890.0123456789),
    (5, 1, 1.5, 1.50),
    (6, 1000000.00, 1e30, 1e30),
    (7, 'NaN', 'NaN', 'NaN'),
    (8, 1.28, 127, 128),
    (9, -1.28, -128, -129),
    (10, 0.5, 9999999999999999999999999999999999.99999, 1.2345678901234567890123456789012345678),
    (11, -12345678.9, 0.00001, 0.000000000000000000000000000000000000001);
SELECT f->>'key' AS key
  FROM pg_logical_slot_get_binary_changes('decimal_slot', NULL, NULL) c,
       wal2avro.frame_to_jsonb(c.data) f
 WHERE f->>'kind' = 'change';
SELECT pg_drop_replication_slot('decimal_slot');
SELECT regress_changes('regression_slot');

SELECT pg_drop_replication_slot('regression_slot');
DROP TABLE ty_num, ty_dec;
