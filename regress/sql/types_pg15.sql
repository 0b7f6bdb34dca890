-- types_pg15: numerics as Avro decimals, with negative scales and scales
-- above the precision (15+) and numeric's infinities (14+); types_pre14.sql
-- has the decimals 13 can store
SET client_min_messages = warning;
SELECT 'init' FROM pg_create_logical_replication_slot('regression_slot', 'wal2avro');

-- numerics as Avro decimals: the key record holds every column, so its
-- bytes are the decimal encodings (union index 0, then the fixed of the
-- column's precision at its scale, or scale and minimal bytes for numeric
-- without typmod); NaN and Infinity take the string branch (index 1).  Zero,
-- negatives, the largest values (past 38 digits too), padding to the scale,
-- trailing zeros, a cut at the 128-bit boundary, and values whose sign bit
-- needs a byte of its own.
SELECT 'init' FROM pg_create_logical_replication_slot('decimal_slot', 'wal2avro');
CREATE TABLE ty_dec (id int, a numeric(12,2), b numeric(40,5), u numeric,
    n numeric(5,-2), w numeric(3,5), PRIMARY KEY (id, a, b, u, n, w));
INSERT INTO ty_dec VALUES
    (1, 0, 0, 0, 0, 0),
    (2, -0.01, -0.00001, -1e-20, -100, -0.00001),
    (3, 9999999999.99, 99999999999999999999999999999999999.99999,
     99999999999999999999999999999999999999, 9999900, 0.00999),
    (4, -9999999999.99, -99999999999999999999999999999999999.99999,
     -123456789012345678901234567890.0123456789, -9999900, -0.00999),
    (5, 1, 1.5, 1.50, 100, 0.001),
    (6, 1000000.00, 1e30, 1e30, 1e6, 0.00100),
    (7, 'NaN', 'NaN', 'NaN', 'NaN', 'NaN'),
    (8, 1.28, 127, 'Infinity', 12800, 0.00128),
    (9, -1.28, -128, '-Infinity', -12800, -0.00128),
    (10, 0.5, 9999999999999999999999999999999999.99999, 1.2345678901234567890123456789012345678,
     25600, 0.00256),
    (11, -12345678.9, 0.00001, 0.000000000000000000000000000000000000001, 200, 0.00255);
SELECT f->>'key' AS key
  FROM pg_logical_slot_get_binary_changes('decimal_slot', NULL, NULL) c,
       wal2avro.frame_to_jsonb(c.data) f
 WHERE f->>'kind' = 'change';
SELECT pg_drop_replication_slot('decimal_slot');
SELECT regress_changes('regression_slot');

SELECT pg_drop_replication_slot('regression_slot');
DROP TABLE ty_dec;
