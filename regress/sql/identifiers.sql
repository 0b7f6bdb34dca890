-- identifiers: table and column names that are not Avro names are mapped
-- by the documented rule, the original kept in pg.name
SET client_min_messages = warning;
SELECT 'init' FROM pg_create_logical_replication_slot('regression_slot', 'wal2avro');
CREATE SCHEMA "Odd Schema";
CREATE TABLE "Odd Schema"."1st table" ("my id" int PRIMARY KEY, "my-id" int, "my_id" int,
    "ünï" text, "null" text, " " text, "int" int, "__op" text);
SELECT f->>'name' AS avro_name, f->>'pg.name' AS pg_name
  FROM wal2avro.avro_schemas('"Odd Schema"."1st table"'),
       json_array_elements(value_schema #> '{fields,0,type,1,fields}') f;
SELECT value_schema->>'name' AS envelope, key_schema->>'name' AS key, topic
  FROM wal2avro.avro_schemas('"Odd Schema"."1st table"');
-- the flat envelope keeps the user's __op and renames its own field
SELECT json_agg(f->>'name') AS flat_fields
  FROM wal2avro.avro_schemas('"Odd Schema"."1st table"', '{envelope,flat}'),
       json_array_elements(value_schema->'fields') f;
INSERT INTO "Odd Schema"."1st table" VALUES (1, 2, 3, 'x', 'n', 'e', 4, 'o');
SELECT regress_changes('regression_slot');
SELECT pg_drop_replication_slot('regression_slot');
DROP SCHEMA "Odd Schema" CASCADE;
