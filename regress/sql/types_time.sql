-- types_time: dates, times and intervals in the json format (types.sql has
-- the other types); 17+ gives intervals a string branch for their
-- infinities (types_time_1.out; types_pg17.sql has the infinities)
SET client_min_messages = warning;
SELECT 'init' FROM pg_create_logical_replication_slot('regression_slot', 'wal2avro');

-- date and time
CREATE TABLE ty_time (id int PRIMARY KEY, d date, ts timestamp, tz timestamptz,
    t time, ttz timetz, iv interval);
SET TimeZone = 'America/New_York';
INSERT INTO ty_time VALUES
    (1, '2020-02-29', '2020-02-29 23:59:59.999999', '2020-02-29 23:59:59.999999-05',
     '23:59:59.999999', '12:00:00+05:30', '1 year 2 mons 3 days 04:05:06.789'),
    (2, 'infinity', 'infinity', 'infinity', '24:00:00', '00:00:00-12', '-1 days -00:00:01'),
    (3, '-infinity', '-infinity', '-infinity', '00:00:00', '23:59:59+14', '0'),
    (4, '4713-01-01 BC', '4713-01-01 00:00:00 BC', '1970-01-01 00:00:00+00', NULL, NULL, NULL),
    (5, '5874897-12-31', '294276-12-31 23:59:59.999999', '294276-12-31 23:59:59.999999+00', NULL, NULL, NULL),
    (6, NULL, NULL, NULL, NULL, NULL, NULL);
RESET TimeZone;
SELECT regress_changes('regression_slot');

-- the schemas: logical types, the string fallback and Unchanged branches
SELECT value_schema #> '{fields,0,type,1,fields}' AS fields
  FROM wal2avro.avro_schemas('ty_time');

SELECT pg_drop_replication_slot('regression_slot');
DROP TABLE ty_time;
