/* sql/wal2avro--0.1.0.sql -- SQL helpers of the wal2avro output plugin */

\echo Use "CREATE EXTENSION wal2avro" to load this file. \quit

-- The key and value Avro schemas a table gets in the stream, for the given
-- plugin options (the same name/value array pg_logical_slot_get_changes takes).
CREATE FUNCTION avro_schemas(
    rel regclass,
    options text[] DEFAULT '{}',
    OUT topic text,
    OUT key_columns text[],
    OUT key_schema json,
    OUT value_schema json,
    OUT key_fingerprint text,
    OUT value_fingerprint text)
RETURNS record
AS 'MODULE_PATHNAME', 'wal2avro_avro_schemas'
LANGUAGE C STABLE PARALLEL SAFE;

-- One frame (a row of pg_logical_slot_get_binary_changes) as jsonb.
CREATE FUNCTION frame_to_jsonb(frame bytea)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'wal2avro_frame_to_jsonb'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- A table's rows under the caller's snapshot, as the frames the stream would
-- carry for them with these plugin options: its SCHEMA frame, then one
-- CHANGE frame (op 'r') per row.  Call it in the select list, as in
-- DECLARE c CURSOR FOR SELECT wal2avro.snapshot_frames('public.orders'), so
-- rows stream one by one; in FROM the whole set is collected first.
-- With first_block, only the rows stored in the table's blocks
-- [first_block, first_block + blocks) (all from first_block on when blocks
-- is NULL), marked source.snapshot = 'incremental': one chunk of an
-- on-demand snapshot.
CREATE FUNCTION snapshot_frames(
    rel regclass,
    options text[] DEFAULT '{}',
    first_block bigint DEFAULT NULL,
    blocks bigint DEFAULT NULL)
RETURNS SETOF bytea
AS 'MODULE_PATHNAME', 'wal2avro_snapshot_frames'
LANGUAGE C VOLATILE;

-- Ask every wal2avro-relay streaming this database to read these tables
-- again while it goes on streaming: an on-demand snapshot.  The request is a
-- transactional logical message (prefix 'wal2avro.snapshot', the tables'
-- OIDs), so it takes effect if and when the caller's transaction commits,
-- at its place in commit order.  A partitioned table stands for its leaf
-- partitions; each table counts once, in the order named.  The caller must
-- be able to read every table.  Returns the message's LSN.
CREATE FUNCTION request_snapshot(VARIADIC tables regclass[])
RETURNS pg_lsn
LANGUAGE plpgsql VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t regclass;
    relids oid[];
BEGIN
    IF coalesce(cardinality(tables), 0) = 0 THEN
        RAISE EXCEPTION 'request_snapshot needs at least one table'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOREACH t IN ARRAY tables LOOP
        IF t IS NULL THEN
            RAISE EXCEPTION 'request_snapshot got a NULL table'
                USING ERRCODE = 'null_value_not_allowed';
        END IF;
        IF (SELECT relkind FROM pg_class WHERE oid = t) NOT IN ('r', 'p') THEN
            RAISE EXCEPTION '"%" is not a table', t
                USING ERRCODE = 'wrong_object_type';
        END IF;
        IF NOT has_table_privilege(t, 'SELECT') THEN
            RAISE EXCEPTION 'permission denied for table %', t
                USING ERRCODE = 'insufficient_privilege';
        END IF;
    END LOOP;
    SELECT array_agg(x.relid ORDER BY x.ord, x.relid) INTO relids
    FROM (SELECT l.relid, min(n.ord) AS ord
          FROM unnest(tables) WITH ORDINALITY AS n(rel, ord),
               LATERAL (SELECT n.rel::oid AS relid
                        WHERE (SELECT relkind FROM pg_class WHERE oid = n.rel) = 'r'
                        UNION ALL
                        SELECT p.relid FROM pg_partition_tree(n.rel) AS p
                        WHERE p.isleaf AND p.relid <> n.rel) AS l
          GROUP BY l.relid) AS x;
    IF relids IS NULL THEN
        RAISE EXCEPTION 'no table to snapshot: the partitioned tables named have no partitions'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN pg_logical_emit_message(true, 'wal2avro.snapshot', array_to_string(relids, ' '));
END
$$;

-- About how many CHANGE frames snapshot_frames() returns for a table, from
-- the statistics of its last VACUUM or ANALYZE; -1 when unknown.
CREATE FUNCTION schema_cache_builds()
RETURNS bigint
AS 'MODULE_PATHNAME', 'wal2avro_schema_cache_builds'
LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED;

CREATE FUNCTION snapshot_row_estimate(rel regclass)
RETURNS bigint
AS 'MODULE_PATHNAME', 'wal2avro_snapshot_row_estimate'
LANGUAGE C VOLATILE STRICT PARALLEL SAFE;

-- Would the stream carry this table's changes under these plugin options?
-- False for what it never carries (views, temporary, unlogged and system
-- tables, partitioned parents) and for tables the filters leave out.
CREATE FUNCTION published(rel regclass, options text[] DEFAULT '{}')
RETURNS boolean
AS 'MODULE_PATHNAME', 'wal2avro_published'
LANGUAGE C STABLE;

-- Logical slots and how far behind the server's WAL position each one is.
CREATE VIEW slots AS
SELECT s.slot_name,
       s.plugin,
       s.database,
       s.active,
       s.active_pid,
       s.confirmed_flush_lsn,
       s.restart_lsn,
       w.lsn AS current_lsn,
       pg_wal_lsn_diff(w.lsn, s.confirmed_flush_lsn)::bigint AS lag_bytes,
       pg_size_pretty(pg_wal_lsn_diff(w.lsn, s.confirmed_flush_lsn)) AS lag,
       pg_wal_lsn_diff(w.lsn, s.restart_lsn)::bigint AS retained_bytes,
       s.wal_status
  FROM pg_replication_slots s,
       LATERAL (SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()
                            ELSE pg_current_wal_lsn() END AS lsn) w
 WHERE s.slot_type = 'logical';

GRANT SELECT ON slots TO PUBLIC;

-- The slots of wal2avro, for the operators of wal2avro-relay: lag, retained
-- WAL in bytes and words, who holds the slot, and whether the server still
-- keeps its WAL (wal_status "lost" means max_slot_wal_keep_size removed it).
CREATE VIEW relay_slots AS
SELECT slot_name,
       database,
       active,
       active_pid,
       confirmed_flush_lsn,
       current_lsn,
       lag_bytes,
       lag,
       retained_bytes,
       pg_size_pretty(retained_bytes) AS retained,
       wal_status
  FROM slots
 WHERE plugin = 'wal2avro';

GRANT SELECT ON relay_slots TO PUBLIC;

-- Is this slot more than max_bytes behind the server?  For SQL-based
-- monitors: SELECT wal2avro.slot_lag_exceeds('shop_cdc', 1024^3).  A slot
-- that does not exist is an error, never a quiet false.
CREATE FUNCTION slot_lag_exceeds(slot name, max_bytes bigint)
RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
DECLARE
    lag bigint;
BEGIN
    SELECT s.lag_bytes INTO lag FROM wal2avro.slots s WHERE s.slot_name = slot;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'replication slot "%" does not exist', slot
            USING ERRCODE = 'undefined_object';
    END IF;
    -- a slot that never confirmed anything lags by everything
    RETURN coalesce(lag, max_bytes + 1) > max_bytes;
END
$$;

-- Since 15.19 a server decodes only with the output plugins its
-- output_plugin_libraries setting names.  Say so now rather than at the
-- first decode.  A WARNING, because CREATE EXTENSION runs its script with
-- client_min_messages raised to WARNING: a NOTICE would never be seen.
DO $$
DECLARE
    libs text := current_setting('output_plugin_libraries', true);
BEGIN
    IF libs IS NOT NULL AND
       NOT ('wal2avro' = ANY (string_to_array(replace(libs, ' ', ''), ','))) THEN
        RAISE WARNING 'this server will not decode with wal2avro: it is not in output_plugin_libraries'
            USING HINT = format('Add this line to postgresql.conf and reload: output_plugin_libraries = ''%s, wal2avro''', libs);
    END IF;
END
$$;
