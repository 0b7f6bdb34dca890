-- types_pg17: 17's infinite intervals.  The wal2avro.Interval record cannot
-- hold them (its months, days and micros would be the fields' extremes, a
-- finite-looking value): they take the string branch as "infinity" and
-- "-infinity", as late timestamps and numeric's infinities do.  Under
-- compat=debezium a MicroDuration is the long's max and min, an
-- io.debezium.time.Interval "infinity" and "-infinity".
SET client_min_messages = warning;
SELECT 'init' FROM pg_create_logical_replication_slot('regression_slot', 'wal2avro');
CREATE TABLE ty_iv (id int PRIMARY KEY, iv interval, ia interval[]);
INSERT INTO ty_iv VALUES
    (1, 'infinity', '{infinity,-infinity,"1 day"}'),
    (2, '-infinity', NULL),
    (3, '1 mon 2 days 00:00:03', '{}'),
    (4, NULL, NULL);

-- compat=debezium: the Value record's first bytes: no before (0), after (2),
-- id, iv's union index (2) and its value
SELECT f->'key' AS key, substr((f->>'value')::bytea, 1, 14) AS value_head
  FROM pg_logical_slot_peek_binary_changes('regression_slot', NULL, NULL,
       'compat', 'debezium', 'include-tables', 'public.ty_iv') c,
       wal2avro.frame_to_jsonb(c.data) f
 WHERE f->>'kind' = 'change' AND f->>'key' IN ('\x02', '\x04', '\x06');
SELECT f->'key' AS key, substr((f->>'value')::bytea, 1, 14) AS value_head
  FROM pg_logical_slot_peek_binary_changes('regression_slot', NULL, NULL,
       'compat', 'debezium', 'include-tables', 'public.ty_iv',
       'interval-handling-mode', 'string') c,
       wal2avro.frame_to_jsonb(c.data) f
 WHERE f->>'kind' = 'change' AND f->>'key' IN ('\x02', '\x04');

-- the wal2avro format, as json, and its schema
SELECT regress_changes('regression_slot');
SELECT f->>'name' AS name, f->'type' AS type
  FROM wal2avro.avro_schemas('ty_iv'),
       json_array_elements(value_schema #> '{fields,0,type,1,fields}') f;

SELECT pg_drop_replication_slot('regression_slot');
DROP TABLE ty_iv;
