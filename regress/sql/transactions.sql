-- transactions: savepoints, rollbacks, subtransactions, spilling to disk,
-- prepared transactions, empty transactions and the COMMIT frame's count
SET client_min_messages = warning;
SELECT 'init' FROM pg_create_logical_replication_slot('regression_slot', 'wal2avro');
CREATE TABLE tx (id int PRIMARY KEY, v text);

-- a rolled-back transaction leaves nothing
BEGIN;
INSERT INTO tx VALUES (100, 'never');
ROLLBACK;
-- savepoints: only what survives ROLLBACK TO arrives
BEGIN;
INSERT INTO tx VALUES (1, 'kept');
SAVEPOINT a;
INSERT INTO tx VALUES (2, 'rolled back');
ROLLBACK TO SAVEPOINT a;
SAVEPOINT b;
INSERT INTO tx VALUES (3, 'released');
RELEASE SAVEPOINT b;
COMMIT;
SELECT regress_changes('regression_slot');

-- a deep chain of subtransactions, each with a change
DO $$
BEGIN
    FOR i IN 1..40 LOOP
        BEGIN
            INSERT INTO tx VALUES (1000 + i, 'sub');
            IF i % 10 = 0 THEN
                RAISE EXCEPTION 'roll back %', i;
            END IF;
        EXCEPTION WHEN raise_exception THEN
            NULL;
        END;
    END LOOP;
END
$$;
SELECT count(*) FILTER (WHERE j->>'kind' = 'change') AS changes,
       max((j->>'changes')::int) AS commit_count
  FROM (SELECT r::jsonb AS j FROM regress_changes('regression_slot') r) s;

-- a transaction larger than logical_decoding_work_mem (64kB here) spills
-- to disk, with a subtransaction that aborts in the middle
BEGIN;
INSERT INTO tx SELECT g, repeat('s', 100) FROM generate_series(10000, 14999) g;
SAVEPOINT sp;
INSERT INTO tx SELECT g, 'aborted' FROM generate_series(15000, 15999) g;
ROLLBACK TO SAVEPOINT sp;
UPDATE tx SET v = 'updated' WHERE id BETWEEN 10000 AND 10999;
COMMIT;
SELECT j->>'op' AS op, count(*), min((j #>> '{key,id}')::int), max((j #>> '{key,id}')::int)
  FROM (SELECT r::jsonb AS j FROM regress_changes('regression_slot') r) s
 WHERE j->>'kind' = 'change'
 GROUP BY 1 ORDER BY 1;
SELECT spill_txns > 0 AS spilled FROM pg_stat_replication_slots
 WHERE slot_name = 'regression_slot';

-- a prepared transaction arrives at COMMIT PREPARED, one aborted never does
BEGIN;
INSERT INTO tx VALUES (20, 'prepared');
PREPARE TRANSACTION 'w2a_p1';
BEGIN;
INSERT INTO tx VALUES (21, 'prepared then rolled back');
PREPARE TRANSACTION 'w2a_p2';
SELECT regress_changes('regression_slot');
COMMIT PREPARED 'w2a_p1';
ROLLBACK PREPARED 'w2a_p2';
SELECT regress_changes('regression_slot');

-- empty transactions: skipped by default, sent with skip-empty-xacts=false
CREATE TABLE tx_other (id int);
INSERT INTO tx_other VALUES (1);
SELECT regress_changes('regression_slot', 'exclude-tables', 'public.tx_other');
INSERT INTO tx_other VALUES (2);
SELECT regress_changes('regression_slot', 'exclude-tables', 'public.tx_other', 'skip-empty-xacts', 'false');

-- a temporary slot decodes the same way and goes away with the session
SELECT 'init' FROM pg_create_logical_replication_slot('regression_temp', 'wal2avro', true);
INSERT INTO tx VALUES (30, 'temp');
SELECT regress_changes('regression_temp');

SELECT pg_drop_replication_slot('regression_slot');
DROP TABLE tx, tx_other;
