-- filters: include/exclude tables with wildcards, excluded columns,
-- chosen key columns, the flat envelope, topics, partitions, origins
SET client_min_messages = warning;
SELECT 'init' FROM pg_create_logical_replication_slot('regression_slot', 'wal2avro');
CREATE SCHEMA shop;
CREATE TABLE shop.orders (id int PRIMARY KEY, customer_id int, secret text, total numeric(8,2));
CREATE TABLE shop.order_items (order_id int, line int, sku text, PRIMARY KEY (order_id, line));
CREATE TABLE shop.audit (id int);
CREATE TABLE public.orders (id int PRIMARY KEY);
INSERT INTO shop.orders VALUES (1, 42, 'pw', 9.99);
INSERT INTO shop.order_items VALUES (1, 1, 'A-1');
INSERT INTO shop.audit VALUES (1);
INSERT INTO public.orders VALUES (1);

-- include with a wildcard, then exclude one of them
SELECT j->>'schema' AS schema, j->>'table' AS table
  FROM (SELECT r::jsonb AS j FROM regress_changes('regression_slot',
        'include-tables', 'shop.*', 'exclude-tables', 'shop.aud?t') r) s
 WHERE j->>'kind' = 'change';

INSERT INTO shop.orders VALUES (2, 43, 'pw2', 19.99);
INSERT INTO shop.order_items VALUES (2, 1, 'B-1');
-- excluded column, key chosen for partitioning, topic prefix
SELECT regress_changes('regression_slot', 'include-tables', 'shop.order*',
       'exclude-columns', 'shop.orders.secret',
       'key-columns', 'shop.orders:customer_id;shop.order_items:order_id',
       'topic-prefix', 'orders-prod');

-- a chosen key outside the replica identity: a primary-key change is an
-- update under that key; a delete logs only the identity, so its key is null
CREATE TABLE shop.kx (id int PRIMARY KEY, code text NOT NULL);
INSERT INTO shop.kx VALUES (1, 'a');
UPDATE shop.kx SET id = 2;
DELETE FROM shop.kx;
SELECT j->>'op' AS op, j->'key' AS key, j #> '{value,before}' AS before
  FROM (SELECT r::jsonb AS j FROM regress_changes('regression_slot',
        'include-tables', 'shop.kx', 'key-columns', 'shop.kx:code') r) s
 WHERE j->>'kind' = 'change';

-- the flat envelope, and one topic for everything
UPDATE shop.orders SET total = 29.99 WHERE id = 2;
DELETE FROM shop.orders WHERE id = 1;
SELECT regress_changes('regression_slot', 'include-tables', 'shop.orders',
       'envelope', 'flat', 'topic', 'all-changes');

-- partitions: as themselves, or under the root's name
CREATE TABLE shop.events (id int, region text, PRIMARY KEY (id, region)) PARTITION BY LIST (region);
CREATE TABLE shop.events_eu PARTITION OF shop.events FOR VALUES IN ('eu');
CREATE TABLE shop.events_us (region text, id int, extra_us int, PRIMARY KEY (id, region));
ALTER TABLE shop.events_us DROP COLUMN extra_us;
ALTER TABLE shop.events ATTACH PARTITION shop.events_us FOR VALUES IN ('us');
INSERT INTO shop.events VALUES (1, 'eu'), (2, 'us');
UPDATE shop.events SET region = 'us' WHERE id = 1;
SELECT regress_changes('regression_slot', 'include-tables', 'shop.events*');
INSERT INTO shop.events VALUES (3, 'eu'), (4, 'us');
TRUNCATE shop.events;
SELECT regress_changes('regression_slot', 'include-tables', 'shop.events',
       'publish-via-partition-root', 'true');

-- origins: only-local leaves out changes replayed from another node
SELECT 'origin' FROM pg_replication_origin_create('w2a_origin');
SELECT 'session' FROM pg_replication_origin_session_setup('w2a_origin');
INSERT INTO public.orders VALUES (2);
SELECT pg_replication_origin_session_reset();
INSERT INTO public.orders VALUES (3);
SELECT j #> '{key,id}' AS id
  FROM (SELECT r::jsonb AS j FROM regress_changes('regression_slot',
        'include-tables', 'public.orders', 'only-local', 'true') r) s
 WHERE j->>'kind' = 'change';
SELECT pg_replication_origin_drop('w2a_origin');

-- names with commas, dots, quotes and wildcard characters: double-quoted
-- parts stand for themselves ("" is one quote), unquoted * and ? are wildcards
CREATE SCHEMA "odd.schema";
CREATE TABLE public."a,b" (id int PRIMARY KEY, "x,y" int, "q""c" int);
CREATE TABLE public."a*" (id int PRIMARY KEY);
CREATE TABLE public.ab (id int PRIMARY KEY);
CREATE TABLE "odd.schema"."t.1" (id int PRIMARY KEY);
CREATE TABLE public."say ""hi""" (id int PRIMARY KEY);
INSERT INTO public."a,b" VALUES (1, 2, 3);
INSERT INTO public."a*" VALUES (1);
INSERT INTO public.ab VALUES (1);
INSERT INTO "odd.schema"."t.1" VALUES (1);
INSERT INTO public."say ""hi""" VALUES (1);
SELECT j->>'schema' AS schema, j->>'table' AS table, j #> '{value,after}' AS after
  FROM (SELECT r::jsonb AS j FROM regress_changes('regression_slot',
        'include-tables', ' public."a,b" , "public"."a*","odd.schema"."t.1", public."say ""hi"""',
        'exclude-columns', 'public."a,b"."x,y"') r) s
 WHERE j->>'kind' = 'change';
INSERT INTO public."a,b" VALUES (2, 2, 3);
INSERT INTO public."a*" VALUES (2);
INSERT INTO public.ab VALUES (2);
INSERT INTO "odd.schema"."t.1" VALUES (2);
-- unquoted, a* is a wildcard; exclusion by a quoted name with a comma
SELECT j->>'schema' AS schema, j->>'table' AS table
  FROM (SELECT r::jsonb AS j FROM regress_changes('regression_slot',
        'include-tables', 'public.a*,"odd.schema".*', 'exclude-tables', 'public."a,b"') r) s
 WHERE j->>'kind' = 'change';
DROP TABLE public."a,b", public."a*", public.ab, public."say ""hi""";
DROP SCHEMA "odd.schema" CASCADE;

SELECT pg_drop_replication_slot('regression_slot');
DROP SCHEMA shop CASCADE;
DROP TABLE public.orders;
