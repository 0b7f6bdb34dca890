-- options: every option's errors, zero options, bare options
SET client_min_messages = warning;
CREATE TABLE opt_t (id int PRIMARY KEY, v text);
SELECT 'init' FROM pg_create_logical_replication_slot('regression_slot', 'wal2avro');
INSERT INTO opt_t VALUES (1, 'a');

-- zero options: binary frames through the binary function
SELECT count(*) > 0 AS has_frames
  FROM pg_logical_slot_peek_binary_changes('regression_slot', NULL, NULL);
-- the binary format is refused by the textual function
SELECT count(*) FROM pg_logical_slot_peek_changes('regression_slot', NULL, NULL);

-- unknown option
SELECT * FROM pg_logical_slot_peek_changes('regression_slot', NULL, NULL, 'format', 'json', 'include-xid', '1');
-- bad values
SELECT * FROM pg_logical_slot_peek_changes('regression_slot', NULL, NULL, 'format', 'jsn');
SELECT * FROM pg_logical_slot_peek_changes('regression_slot', NULL, NULL, 'format', 'json', 'envelope', 'debezum');
SELECT * FROM pg_logical_slot_peek_changes('regression_slot', NULL, NULL, 'format', 'json', 'skip-empty-xacts', 'maybe');
SELECT * FROM pg_logical_slot_peek_changes('regression_slot', NULL, NULL, 'format', 'json', 'include-before', '');
SELECT * FROM pg_logical_slot_peek_changes('regression_slot', NULL, NULL, 'format', 'json', 'max-record-size', '-1');
SELECT * FROM pg_logical_slot_peek_changes('regression_slot', NULL, NULL, 'format', 'json', 'max-record-size', '10x');
SELECT * FROM pg_logical_slot_peek_changes('regression_slot', NULL, NULL, 'format', 'json', 'protocol-version', '2');
SELECT * FROM pg_logical_slot_peek_changes('regression_slot', NULL, NULL, 'format', 'json', 'topic-prefix', NULL);
SELECT * FROM pg_logical_slot_peek_changes('regression_slot', NULL, NULL, 'format', 'json', 'include-tables', 'opt_t');
SELECT * FROM pg_logical_slot_peek_changes('regression_slot', NULL, NULL, 'format', 'json', 'include-tables', 'public.a,,public.b');
SELECT * FROM pg_logical_slot_peek_changes('regression_slot', NULL, NULL, 'format', 'json', 'exclude-columns', 'opt_t.v');
SELECT * FROM pg_logical_slot_peek_changes('regression_slot', NULL, NULL, 'format', 'json', 'include-tables', 'public."a,b');
SELECT * FROM pg_logical_slot_peek_changes('regression_slot', NULL, NULL, 'format', 'json', 'exclude-tables', 'public.');
SELECT * FROM pg_logical_slot_peek_changes('regression_slot', NULL, NULL, 'format', 'json', 'exclude-tables', '"public.a"');
SELECT * FROM pg_logical_slot_peek_changes('regression_slot', NULL, NULL, 'format', 'json', 'key-columns', 'public.opt_t');
SELECT * FROM pg_logical_slot_peek_changes('regression_slot', NULL, NULL, 'format', 'json', 'key-columns', 'opt_t:v');
-- the same option twice
SELECT * FROM pg_logical_slot_peek_changes('regression_slot', NULL, NULL, 'format', 'json', 'format', 'json');
-- a key column that does not exist is an ERROR naming it
-- (LSNs in messages depend on what ran before: shown as X/X)
CREATE FUNCTION regress_error(q text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
    msg text;
    detail text;
    hint text;
BEGIN
    EXECUTE q;
    RETURN NEXT 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
    RETURN NEXT 'ERROR:  ' || regexp_replace(msg, '[0-9A-F]+/[0-9A-F]+', 'X/X', 'g');
    IF detail <> '' THEN RETURN NEXT 'DETAIL:  ' || detail; END IF;
    IF hint <> '' THEN RETURN NEXT 'HINT:  ' || hint; END IF;
END
$$;
SELECT regress_error($$SELECT * FROM pg_logical_slot_peek_changes('regression_slot', NULL, NULL, 'format', 'json', 'key-columns', 'public.opt_t:cust_id')$$);
-- key-columns is checked against the catalog at start-up, before anything
-- is decoded (upto_lsn 0/1 decodes nothing): a table or column that does not
-- exist, a system column
SELECT * FROM pg_logical_slot_peek_changes('regression_slot', '0/1', NULL, 'format', 'json', 'key-columns', 'public.opt_t:cust_id');
SELECT * FROM pg_logical_slot_peek_changes('regression_slot', '0/1', NULL, 'format', 'json', 'key-columns', 'public.no_such_table:id');
SELECT * FROM pg_logical_slot_peek_changes('regression_slot', '0/1', NULL, 'format', 'json', 'key-columns', 'no_such_schema.opt_t:id');
SELECT * FROM pg_logical_slot_peek_changes('regression_slot', '0/1', NULL, 'format', 'json', 'key-columns', 'public.opt_t:id,ctid');
-- names are exact: "public.OPT_T" is another table
SELECT * FROM pg_logical_slot_peek_changes('regression_slot', '0/1', NULL, 'format', 'json', 'key-columns', 'public.OPT_T:id');
-- an existing table and column: accepted
SELECT count(*) FROM pg_logical_slot_peek_changes('regression_slot', '0/1', NULL, 'format', 'json', 'key-columns', 'public.opt_t:v,id');

-- valid values work (a bare option, meaning true, needs the replication
-- protocol: the e2e pg_recvlogical test passes one)
SELECT regress_changes('regression_slot', 'skip-empty-xacts', 'on', 'protocol-version', '1', 'max-record-size', '0');

-- max-record-size: a record over the limit stops decoding, naming table and size
INSERT INTO opt_t VALUES (2, repeat('x', 250));
SELECT regress_error($$SELECT * FROM pg_logical_slot_get_changes('regression_slot', NULL, NULL, 'format', 'json', 'max-record-size', '200')$$);
-- nothing was consumed: with a larger limit the change is still there
SELECT regress_changes('regression_slot', 'max-record-size', '100000');

SELECT pg_drop_replication_slot('regression_slot');
DROP TABLE opt_t;
DROP FUNCTION regress_error;
