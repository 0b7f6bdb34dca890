-- messages_pg17: pg_logical_emit_message()'s flush argument (17 and
-- later) only makes the server flush its WAL at once: the messages decode
-- exactly as without it, transactional or not.
SET client_min_messages = warning;
SELECT 'init' FROM pg_create_logical_replication_slot('messages_slot', 'wal2avro');
SELECT 'm1' FROM pg_logical_emit_message(false, 'w2a', 'non-transactional, flushed', true);
BEGIN;
SELECT 'm2' FROM pg_logical_emit_message(true, 'w2a', 'transactional, flushed', true);
SELECT 'm3' FROM pg_logical_emit_message(true, 'w2a', 'transactional, not flushed', false);
COMMIT;
BEGIN;
SELECT 'm4' FROM pg_logical_emit_message(true, 'w2a', 'flushed, then aborted', true);
ROLLBACK;
SELECT regress_changes('messages_slot');
SELECT pg_drop_replication_slot('messages_slot');
