-- snapshot_debezium: with compat=debezium, snapshot_frames() writes into the
-- Source of its rows what Debezium's snapshot rows carry and only the reader
-- of the snapshot knows: snapshot-lsn (lsn, sequence [null,"<lsn>"]),
-- snapshot-txid (txId) and snapshot-last-table (its last row is "last");
-- a bad value, or the options where they mean nothing, is an ERROR
SET client_min_messages = warning;
SELECT 'init' FROM pg_create_logical_replication_slot('regression_slot', 'wal2avro');

-- Avro's long (zigzag varint) and string, to spell the bytes expected
CREATE FUNCTION sd_long(v bigint) RETURNS bytea LANGUAGE plpgsql AS $$
DECLARE
    z numeric := CASE WHEN v >= 0 THEN 2 * v::numeric ELSE -2 * v::numeric - 1 END;
    out bytea := '';
BEGIN
    LOOP
        IF z < 128 THEN
            RETURN out || set_byte('\x00'::bytea, 0, z::int);
        END IF;
        out := out || set_byte('\x00'::bytea, 0, (z % 128)::int + 128);
        z := div(z, 128);
    END LOOP;
END
$$;
CREATE FUNCTION sd_string(s text) RETURNS bytea LANGUAGE sql AS $$
SELECT sd_long(octet_length(convert_to(s, 'UTF8'))) || convert_to(s, 'UTF8')
$$;
CREATE FUNCTION sd_optional(v bigint) RETURNS bytea LANGUAGE sql AS $$
SELECT CASE WHEN v IS NULL THEN '\x00'::bytea ELSE '\x02'::bytea || sd_long(v) END
$$;

-- The Source mark of a snapshot row whose Envelope ends as Debezium's does
-- for this lsn and txId (NULL: null), 'differs' otherwise.  The tail, with
-- include-timestamps=false: ts_ms=0 snapshot=<mark> db sequence ts_us=null
-- ts_ns=null schema table txId lsn xmin=null origin=null origin_lsn=null
-- transaction=null op="r" ts_ms=null ts_us=null ts_ns=null
CREATE FUNCTION sd_mark(value bytea, t regclass, lsn pg_lsn, txid bigint) RETURNS text LANGUAGE sql AS $$
SELECT coalesce((
    SELECT m
      FROM unnest(array['first_in_data_collection', 'true', 'last_in_data_collection', 'last']) m,
           LATERAL (SELECT '\x0000'::bytea || sd_string(m) || sd_string(current_database())
                           || CASE WHEN lsn IS NULL THEN '\x00'::bytea
                                   ELSE '\x02'::bytea || sd_string(format('[null,"%s"]', (lsn - '0/0')::bigint)) END
                           || '\x0000'::bytea || sd_string(n.nspname) || sd_string(c.relname)
                           || sd_optional(txid) || sd_optional((lsn - '0/0')::bigint)
                           || '\x00000000'::bytea || sd_string('r') || '\x000000'::bytea AS tail
                      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                     WHERE c.oid = t) x
     WHERE substr(value, length(value) - length(tail) + 1) = tail), 'differs')
$$;
CREATE FUNCTION sd_marks(t regclass, lsn pg_lsn, txid bigint, VARIADIC opts text[] DEFAULT '{}')
RETURNS TABLE (n bigint, op text, frame_lsn text, mark text)
LANGUAGE sql AS $$
SELECT row_number() OVER (), f->>'op', f->>'lsn', sd_mark((f->>'value')::bytea, t, lsn, txid)
  FROM (SELECT wal2avro.snapshot_frames(t, array['compat', 'debezium', 'include-timestamps', 'false'] || opts) AS data) s,
       wal2avro.frame_to_jsonb(data) f
 WHERE f->>'kind' = 'change'
$$;

CREATE TABLE sd_t (id int PRIMARY KEY, v text);
INSERT INTO sd_t SELECT i, 'v' || i FROM generate_series(1, 3) i;
CREATE TABLE sd_one (id int PRIMARY KEY);
INSERT INTO sd_one VALUES (1);
CREATE TABLE sd_empty (id int PRIMARY KEY);

-- without the options: per-table marks, txId, lsn and sequence null
SELECT * FROM sd_marks('sd_t', NULL, NULL);
-- the slot's consistent point and the snapshot's transaction, in every row;
-- the frames keep LSN 0 (the snapshot is not a decoded transaction)
SELECT * FROM sd_marks('sd_t', '0/16B3748', 744, 'snapshot-lsn', '0/16B3748', 'snapshot-txid', '744');
-- each alone
SELECT * FROM sd_marks('sd_t', '0/16B3748', NULL, 'snapshot-lsn', '0/16B3748');
SELECT * FROM sd_marks('sd_t', NULL, 744, 'snapshot-txid', '744');
-- large values: a txId with an epoch, an LSN past 4 GB
SELECT * FROM sd_marks('sd_one', 'A/0', 9223372036854775807,
                       'snapshot-lsn', 'A/0', 'snapshot-txid', '9223372036854775807');
-- the snapshot's last table: its last row is "last", also when it is its only row
SELECT * FROM sd_marks('sd_t', '1/2', 5, 'snapshot-lsn', '1/2', 'snapshot-txid', '5',
                       'snapshot-last-table', 'true');
SELECT * FROM sd_marks('sd_one', '1/2', 5, 'snapshot-lsn', '1/2', 'snapshot-txid', '5',
                       'snapshot-last-table', 'true');
SELECT * FROM sd_marks('sd_t', NULL, NULL, 'snapshot-last-table', 'false');
-- an empty table: the SCHEMA frame alone, whatever the options
SELECT count(*) AS frames FROM wal2avro.snapshot_frames('sd_empty',
    array['compat', 'debezium', 'snapshot-lsn', '1/2', 'snapshot-last-table', 'true']);
-- snapshot rows get no transaction block, even with provide-transaction-metadata
SELECT * FROM sd_marks('sd_t', '1/2', 5, 'snapshot-lsn', '1/2', 'snapshot-txid', '5',
                       'provide-transaction-metadata', 'true');
-- a chunk of an on-demand snapshot: "incremental", with the options given
SELECT f->>'op' AS op,
       position(sd_string('incremental') in (f->>'value')::bytea) > 0 AS incremental,
       position(sd_string('[null,"4294967298"]') in (f->>'value')::bytea) > 0 AS sequence
  FROM (SELECT wal2avro.snapshot_frames('sd_t', array['compat', 'debezium', 'snapshot-lsn', '1/2'], 0, NULL) AS data) s,
       wal2avro.frame_to_jsonb(data) f
 WHERE f->>'kind' = 'change';

\set SHOW_CONTEXT never
-- bad values
SELECT wal2avro.snapshot_frames('sd_t', array['compat', 'debezium', 'snapshot-lsn', 'foo']);
SELECT wal2avro.snapshot_frames('sd_t', array['compat', 'debezium', 'snapshot-lsn', '0/16B3748x']);
SELECT wal2avro.snapshot_frames('sd_t', array['compat', 'debezium', 'snapshot-lsn', '0/0']);
SELECT wal2avro.snapshot_frames('sd_t', array['compat', 'debezium', 'snapshot-lsn', '']);
SELECT wal2avro.snapshot_frames('sd_t', array['compat', 'debezium', 'snapshot-txid', 'x']);
SELECT wal2avro.snapshot_frames('sd_t', array['compat', 'debezium', 'snapshot-txid', '0']);
SELECT wal2avro.snapshot_frames('sd_t', array['compat', 'debezium', 'snapshot-txid', '-7']);
SELECT wal2avro.snapshot_frames('sd_t', array['compat', 'debezium', 'snapshot-txid', '9223372036854775808']);
SELECT wal2avro.snapshot_frames('sd_t', array['compat', 'debezium', 'snapshot-txid', '12 ']);
SELECT wal2avro.snapshot_frames('sd_t', array['compat', 'debezium', 'snapshot-last-table', 'maybe']);
SELECT wal2avro.snapshot_frames('sd_t', array['compat', 'debezium', 'snapshot-lsn', '1/2', 'snapshot-lsn', '1/3']);
-- wal2avro's own snapshot rows carry none of it
SELECT wal2avro.snapshot_frames('sd_t', array['snapshot-lsn', '1/2']);
SELECT wal2avro.snapshot_frames('sd_t', array['compat', 'wal2avro', 'snapshot-txid', '5']);
SELECT wal2avro.snapshot_frames('sd_t', array['snapshot-last-table', 'false']);
-- a block range is never the snapshot's last table
SELECT wal2avro.snapshot_frames('sd_t', array['compat', 'debezium', 'snapshot-last-table', 'true'], 0, NULL);
-- a stream is no snapshot
SELECT count(*) FROM pg_logical_slot_peek_binary_changes('regression_slot', NULL, NULL,
    'compat', 'debezium', 'snapshot-lsn', '1/2');
SELECT count(*) FROM pg_logical_slot_peek_binary_changes('regression_slot', NULL, NULL,
    'compat', 'debezium', 'snapshot-last-table', 'true');
\set SHOW_CONTEXT errors

SELECT 'stop' FROM pg_drop_replication_slot('regression_slot');
DROP TABLE sd_t, sd_one, sd_empty;
DROP FUNCTION sd_marks, sd_mark, sd_optional, sd_string, sd_long;
