-- replica_identity: what "before" and the key hold under each identity,
-- for updates that keep or change the key, and for deletes
SET client_min_messages = warning;
SELECT 'init' FROM pg_create_logical_replication_slot('regression_slot', 'wal2avro');

CREATE TABLE ri_default (id int PRIMARY KEY, code text NOT NULL, v text);
CREATE TABLE ri_full (id int PRIMARY KEY, code text NOT NULL, v text);
ALTER TABLE ri_full REPLICA IDENTITY FULL;
CREATE TABLE ri_index (id int PRIMARY KEY, code text NOT NULL, v text);
CREATE UNIQUE INDEX ri_index_code ON ri_index (code);
ALTER TABLE ri_index REPLICA IDENTITY USING INDEX ri_index_code;
CREATE TABLE ri_nothing (id int PRIMARY KEY, code text NOT NULL, v text);
ALTER TABLE ri_nothing REPLICA IDENTITY NOTHING;
CREATE TABLE ri_nokey (code text, v text);
ALTER TABLE ri_nokey REPLICA IDENTITY FULL;

-- DEFAULT: update without key change, update of the key, delete
INSERT INTO ri_default VALUES (1, 'a', 'x');
UPDATE ri_default SET v = 'y' WHERE id = 1;
UPDATE ri_default SET id = 2 WHERE id = 1;
DELETE FROM ri_default WHERE id = 2;
SELECT regress_changes('regression_slot');

-- FULL: every old column, always
INSERT INTO ri_full VALUES (1, 'a', 'x');
UPDATE ri_full SET v = 'y' WHERE id = 1;
UPDATE ri_full SET id = 2 WHERE id = 1;
DELETE FROM ri_full WHERE id = 2;
SELECT regress_changes('regression_slot');

-- INDEX: the key is the identity index's column
INSERT INTO ri_index VALUES (1, 'a', 'x');
UPDATE ri_index SET v = 'y' WHERE id = 1;
UPDATE ri_index SET code = 'b' WHERE id = 1;
DELETE FROM ri_index WHERE id = 1;
SELECT regress_changes('regression_slot');

-- NOTHING: no before image; the delete has neither before nor key
INSERT INTO ri_nothing VALUES (1, 'a', 'x');
UPDATE ri_nothing SET v = 'y' WHERE id = 1;
UPDATE ri_nothing SET id = 2 WHERE id = 1;
DELETE FROM ri_nothing WHERE id = 2;
SELECT regress_changes('regression_slot');

-- no key at all: changes carry no key
INSERT INTO ri_nokey VALUES ('a', 'x');
UPDATE ri_nokey SET v = 'y';
DELETE FROM ri_nokey;
SELECT regress_changes('regression_slot');

-- include-before=false leaves before out
INSERT INTO ri_full VALUES (3, 'c', 'x');
UPDATE ri_full SET v = 'z' WHERE id = 3;
SELECT regress_changes('regression_slot', 'include-before', 'false');

SELECT pg_drop_replication_slot('regression_slot');
DROP TABLE ri_default, ri_full, ri_index, ri_nothing, ri_nokey;
