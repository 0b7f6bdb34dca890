-- types_pg14: numbers in the json format, numeric's infinities among them
-- (14+; types_pre14.sql has the same numbers without them for 13)
SET client_min_messages = warning;
SELECT 'init' FROM pg_create_logical_replication_slot('regression_slot', 'wal2avro');

-- numbers
CREATE TABLE ty_num (id int PRIMARY KEY, b bool, s int2, i int4, l int8, o oid,
    r float4, d float8, n numeric(10,2), big numeric(40,10), u numeric);
INSERT INTO ty_num VALUES
    (1, true, 32767, 2147483647, 9223372036854775807, 4294967295,
     3.4e38, 1.7976931348623157e308, 99999999.99, 123456789012345678901234567890.0123456789, 1e-20),
    (2, false, -32768, -2147483648, -9223372036854775808, 0,
     '-Infinity', 'NaN', -0.01, -1, '-Infinity'),
    (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'NaN', NULL, 'NaN'),
    (4, true, 0, 0, 0, 1, '-0', 'Infinity', 0, 0, 123456789.000000000000000000001);
SELECT regress_changes('regression_slot');

SELECT pg_drop_replication_slot('regression_slot');
DROP TABLE ty_num;
