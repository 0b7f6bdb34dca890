-- two_phase_pg14: a slot created with two_phase (14 and later).  wal2avro
-- registers no two-phase callbacks, so such a slot decodes as any other: a
-- prepared transaction arrives whole at COMMIT PREPARED, one rolled back
-- never does, and nothing arrives at PREPARE.
SET client_min_messages = warning;
SELECT 'init' FROM pg_create_logical_replication_slot('two_phase_slot', 'wal2avro',
                                                      twophase => true);
SELECT two_phase FROM pg_replication_slots WHERE slot_name = 'two_phase_slot';
CREATE TABLE tp (id int PRIMARY KEY, v text);
SELECT count(*) AS ddl_only FROM regress_changes('two_phase_slot');

BEGIN;
INSERT INTO tp VALUES (1, 'prepared, committed');
INSERT INTO tp VALUES (2, 'prepared, committed');
PREPARE TRANSACTION 'w2a_tp1';
BEGIN;
INSERT INTO tp VALUES (3, 'prepared, rolled back');
PREPARE TRANSACTION 'w2a_tp2';
-- nothing at PREPARE
SELECT count(*) AS at_prepare FROM regress_changes('two_phase_slot');
COMMIT PREPARED 'w2a_tp1';
ROLLBACK PREPARED 'w2a_tp2';
SELECT r::jsonb->>'kind' AS kind, r::jsonb->>'op' AS op, r::jsonb #>> '{key,id}' AS id,
       r::jsonb->>'changes' AS changes
  FROM regress_changes('two_phase_slot') r;

SELECT pg_drop_replication_slot('two_phase_slot');
DROP TABLE tp;
