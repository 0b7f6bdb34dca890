-- regress/workloads/debezium_topics.sql -- tables whose names Kafka refuses as topic names
--
-- For regress/e2e/0055-topic-names.sh: run with `psql -v stream=false` (the
-- tables, one row each, before a snapshot) and then `-v stream=true` (one
-- more row each, streamed, and the sentinel row of dbz_done).  The names
-- hold a space, "#", "/", letters outside ASCII and a character outside the
-- Basic Multilingual Plane; a schema's name has a space too.
\if :stream
INSERT INTO "Order Items" VALUES (2);
INSERT INTO "order#1" VALUES (2);
INSERT INTO "ünïcödé" VALUES (2);
INSERT INTO "emoji😀" VALUES (2);
INSERT INTO "Sales Dept"."Q1 / 2026" VALUES (2);
INSERT INTO dbz_done VALUES (1);
\else
CREATE SCHEMA "Sales Dept";
CREATE TABLE "Order Items" (id int PRIMARY KEY);
CREATE TABLE "order#1" (id int PRIMARY KEY);
CREATE TABLE "ünïcödé" (id int PRIMARY KEY);
CREATE TABLE "emoji😀" (id int PRIMARY KEY);
CREATE TABLE "Sales Dept"."Q1 / 2026" (id int PRIMARY KEY);
CREATE TABLE dbz_done (id int4 PRIMARY KEY);
INSERT INTO "Order Items" VALUES (1);
INSERT INTO "order#1" VALUES (1);
INSERT INTO "ünïcödé" VALUES (1);
INSERT INTO "emoji😀" VALUES (1);
INSERT INTO "Sales Dept"."Q1 / 2026" VALUES (1);
\endif
