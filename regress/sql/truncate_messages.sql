-- truncate_messages: TRUNCATE with its flags, logical messages in and
-- out of transactions
SET client_min_messages = warning;
SELECT 'init' FROM pg_create_logical_replication_slot('regression_slot', 'wal2avro');
CREATE TABLE tm_parent (id int PRIMARY KEY);
CREATE TABLE tm_child (id serial PRIMARY KEY, parent int REFERENCES tm_parent);
CREATE TABLE tm_other (id int);
INSERT INTO tm_parent VALUES (1);
INSERT INTO tm_child (parent) VALUES (1);

TRUNCATE tm_other;
TRUNCATE tm_parent CASCADE;
TRUNCATE tm_child RESTART IDENTITY;
TRUNCATE tm_parent, tm_other RESTART IDENTITY CASCADE;
SELECT regress_changes('regression_slot');
-- filtered tables are left out of a TRUNCATE, and a TRUNCATE of only them is not sent
TRUNCATE tm_parent, tm_other CASCADE;
TRUNCATE tm_other;
SELECT regress_changes('regression_slot', 'exclude-tables', 'public.tm_other');

-- messages: transactional ones inside their transaction, others alone,
-- a transactional one from an aborted transaction never
SELECT 'msg1' FROM pg_logical_emit_message(false, 'w2a', 'non-transactional');
BEGIN;
INSERT INTO tm_other VALUES (1);
SELECT 'msg2' FROM pg_logical_emit_message(true, 'w2a', 'transactional');
SELECT 'msg3' FROM pg_logical_emit_message(false, 'w2a', 'non-transactional inside');
COMMIT;
BEGIN;
SELECT 'msg4' FROM pg_logical_emit_message(true, 'w2a', 'aborted');
ROLLBACK;
SELECT 'msg5' FROM pg_logical_emit_message(true, 'w2a-bin', '\x00ff0a'::bytea);
SELECT 'msg6' FROM pg_logical_emit_message(true, 'w2a', '');
SELECT regress_changes('regression_slot');

SELECT pg_drop_replication_slot('regression_slot');
DROP TABLE tm_child, tm_parent, tm_other;
