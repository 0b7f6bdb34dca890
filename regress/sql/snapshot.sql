-- snapshot: wal2avro.snapshot_frames() returns a table's rows, under the
-- caller's snapshot, as the frames the stream carries for them (op 'r')
SET client_min_messages = warning;
SELECT 'init' FROM pg_create_logical_replication_slot('regression_slot', 'wal2avro');

-- incompressible text, large enough to be stored out of line
CREATE FUNCTION snap_text(seed int, len int) RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(md5((seed * 100000 + i)::text), '') FROM generate_series(1, len / 32) i
$$;
CREATE FUNCTION snap_toast_chunks(t regclass) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    EXECUTE format('SELECT count(*) FROM %s',
                   (SELECT reltoastrelid::regclass FROM pg_class WHERE oid = t)) INTO n;
    RETURN n;
END
$$;

-- A table's frames, read back: the snapshot's (called in the select list,
-- as a client does) and the stream's, both with include-timestamps=false
CREATE FUNCTION snap_frames(t regclass, VARIADIC opts text[] DEFAULT '{}')
RETURNS TABLE (n bigint, kind text, key bytea, value bytea, frame bytea, f jsonb)
LANGUAGE sql AS $$
SELECT row_number() OVER (), f->>'kind', (f->>'key')::bytea, (f->>'value')::bytea, data, f
  FROM (SELECT wal2avro.snapshot_frames(t, array['include-timestamps', 'false'] || opts) AS data) s,
       wal2avro.frame_to_jsonb(data) f
$$;
CREATE FUNCTION stream_frames(t text, VARIADIC opts text[] DEFAULT '{}')
RETURNS TABLE (kind text, key bytea, value bytea, frame bytea)
LANGUAGE sql AS $$
SELECT f->>'kind', (f->>'key')::bytea, (f->>'value')::bytea, data
  FROM pg_logical_slot_peek_binary_changes('regression_slot', NULL, NULL,
       VARIADIC array['include-timestamps', 'false', 'include-tables', t] || opts),
       wal2avro.frame_to_jsonb(data) f
 WHERE f->>'kind' IN ('schema', 'change')
$$;

-- The Source mark of a snapshot value whose bytes are the streamed insert's
-- but for the end of Source and op; 'differs' otherwise.  The tails:
--   snapshot: snapshot=<mark> ts_ms=0 txId=null lsn=null xmin=null op="r" ts_ms=null
--   stream:   snapshot="false" ts_ms=0 txId=<xid> lsn=<lsn> xmin=null op="c" ts_ms=null
CREATE FUNCTION snap_mark(snap bytea, stream bytea) RETURNS text LANGUAGE sql AS $$
SELECT coalesce((
    SELECT m
      FROM unnest(array['first', 'true', 'last']) m,
           LATERAL (SELECT set_byte('\x00'::bytea, 0, 2 * length(m)) || convert_to(m, 'UTF8')
                           || '\x000000000272'::bytea || '\x00'::bytea AS tail) t,
           LATERAL (SELECT length(snap) - length(tail) AS head) h
     WHERE substr(snap, head + 1) = tail
       AND substr(stream, 1, head) = substr(snap, 1, head)
       AND substr(stream, head + 1, 8) = '\x0a66616c73650002'::bytea
       AND substr(stream, length(stream) - 3) = '\x00026300'::bytea), 'differs')
$$;
-- The same for envelope=flat: snapshot __op="r" __lsn=0 __source_ts_ms=0
-- __deleted=false; stream __op="c" __lsn=<lsn> __source_ts_ms=0 __deleted=false
CREATE FUNCTION snap_flat_same(snap bytea, stream bytea) RETURNS bool LANGUAGE sql AS $$
SELECT substr(snap, length(snap) - 4) = '\x0272000000'::bytea
   AND substr(stream, 1, length(snap) - 5) = substr(snap, 1, length(snap) - 5)
   AND substr(stream, length(snap) - 4, 2) = '\x0263'::bytea
   AND substr(stream, length(stream) - 1) = '\x0000'::bytea
$$;

-- Compare a table's snapshot with its stream: the SCHEMA frames byte for
-- byte, and every row's key (the join) and value
CREATE FUNCTION snap_compare(t text, VARIADIC opts text[] DEFAULT '{}')
RETURNS TABLE (n bigint, kind text, key text, same text)
LANGUAGE sql AS $$
SELECT s.n, s.kind, encode(s.key, 'hex'),
       CASE WHEN s.kind = 'schema' THEN (s.frame = st.frame)::text
            WHEN 'flat' = ANY (opts) THEN snap_flat_same(s.value, st.value)::text
            ELSE snap_mark(s.value, st.value) END
  FROM snap_frames(t::regclass, VARIADIC opts) s
  FULL JOIN stream_frames(t, VARIADIC opts) st
    ON st.kind = s.kind AND (s.kind = 'schema' OR st.key = s.key)
 ORDER BY s.n
$$;

-- every mapping of types.sql, NULLs, and an out-of-line value (numeric's
-- infinities, 14+, are in snapshot_pg14.sql)
CREATE TYPE snap_mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN snap_posint AS int CHECK (VALUE > 0);
CREATE TYPE snap_inner AS (x int, label text);
CREATE TABLE snap_t (id int PRIMARY KEY, code text NOT NULL, b bool, s int2, l int8, o oid,
    r float4, d float8, n numeric(10,2), u numeric, t text, v varchar(5), c char(4),
    by bytea, j json, jb jsonb, uid uuid, dt date, ts timestamp, tz timestamptz, tm time,
    ttz timetz, iv interval, ia int[], ta text[], m snap_mood, p snap_posint,
    comp snap_inner, rng int4range, ip inet, big text);
INSERT INTO snap_t VALUES
    (1, 'a', true, 32767, 9223372036854775807, 4294967295, 3.4e38, 1.7976931348623157e308,
     99999999.99, 1e-20, E'quote " newline \n', 'abc', 'ab', '\x000aff', '{"a": [1, 2.50]}',
     '{"b": null}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '2020-02-29',
     '2020-02-29 23:59:59.999999', '2020-02-29 23:59:59.999999-05', '24:00:00',
     '12:00:00+05:30', '1 year 2 mons 3 days 04:05:06.789', '{1,NULL,3}', '{{a,b},{c,d}}',
     'happy', 7, ROW(1, 'one'), '[1,10)', '192.168.0.1/24', 'small'),
    (2, 'b', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
     NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    (3, 'c', false, -32768, -9223372036854775808, 0, '-Infinity', 'NaN', 'NaN', 'NaN',
     '', '', '', '', 'null', '[]', '00000000-0000-0000-0000-000000000000', 'infinity',
     '-infinity', 'infinity', '00:00:00', '23:59:59+14', '-1 days -00:00:01', '{}', '[0:1]={x,y}',
     'sad', 1, ROW(NULL, NULL), 'empty', '::1', ''),
    (4, 'd', true, 0, 0, 1, '-0', 'Infinity', 0, 123456789.000000000000000000001, 'ünïcödé ☃',
     NULL, NULL, NULL, NULL, NULL, NULL, '5874897-12-31', '294276-12-31 23:59:59.999999',
     '294276-12-31 23:59:59.999999+00', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
     NULL, snap_text(1, 20000));
SELECT snap_toast_chunks('snap_t') > 0 AS big_is_out_of_line;

-- the SCHEMA frame, then one CHANGE frame per row: op r, LSN 0, the
-- schema's fingerprints; the row with the out-of-line value in full
SELECT n, kind, f->>'op' AS op, f->>'lsn' AS lsn,
       f->>'key_fingerprint' = first_value(f->>'key_fingerprint') OVER w AS key_fp,
       f->>'value_fingerprint' = first_value(f->>'value_fingerprint') OVER w AS value_fp,
       length(value) > 20000 AS big
  FROM snap_frames('snap_t') WINDOW w AS (ORDER BY n) ORDER BY n;
-- the same bytes as the stream: SCHEMA frame, keys, values but for op and Source
SELECT * FROM snap_compare('public.snap_t');
-- a key chosen with key-columns, an excluded column
SELECT * FROM snap_compare('public.snap_t', 'key-columns', 'public.snap_t:code',
                           'exclude-columns', 'public.snap_t.big');
SELECT f->'key_columns' AS key_columns, f #> '{value_schema,fields,0,type,1,fields}' @> '[{"name": "big"}]' AS has_big
  FROM snap_frames('snap_t', 'key-columns', 'public.snap_t:code',
                   'exclude-columns', 'public.snap_t.big')
 WHERE kind = 'schema';
-- the flat envelope
SELECT * FROM snap_compare('public.snap_t', 'envelope', 'flat', 'topic-prefix', 'flat');

-- a table without a key: absent key blocks
CREATE TABLE snap_nokey (a int, b text);
INSERT INTO snap_nokey VALUES (1, 'x'), (2, 'y');
SELECT n, kind, f->'key' AS key, f->'key_fingerprint' AS key_fp
  FROM snap_frames('snap_nokey') ORDER BY n;

-- an empty table: the SCHEMA frame alone, as avro_schemas() describes it
CREATE TABLE snap_empty (id int PRIMARY KEY, v text);
SELECT n, kind, f->>'value_fingerprint' = a.value_fingerprint AS value_fp,
       f->>'key_fingerprint' = a.key_fingerprint AS key_fp
  FROM snap_frames('snap_empty') s, wal2avro.avro_schemas('snap_empty') a;
-- a one-row table: the row is the last
CREATE TABLE snap_one (id int PRIMARY KEY);
INSERT INTO snap_one VALUES (1);
SELECT * FROM snap_compare('public.snap_one');

-- the caller's snapshot: a cursor does not see rows written after it opened,
-- and a query can stop early (LIMIT, a closed cursor) without leaking
BEGIN;
DECLARE c CURSOR FOR SELECT f->>'kind' AS kind, f->>'key' AS key
  FROM (SELECT wal2avro.snapshot_frames('snap_one') AS data) s, wal2avro.frame_to_jsonb(data) f;
INSERT INTO snap_one VALUES (2);
FETCH ALL FROM c;
CLOSE c;
DECLARE c2 CURSOR FOR SELECT f->>'kind' AS kind, f->>'key' AS key
  FROM (SELECT wal2avro.snapshot_frames('snap_t') AS data) s, wal2avro.frame_to_jsonb(data) f;
FETCH 2 FROM c2;
ROLLBACK;
SELECT count(*) FROM (SELECT wal2avro.snapshot_frames('snap_t') LIMIT 2) s;
SELECT count(*) FROM wal2avro.snapshot_frames(NULL);

-- a partition published as its root: the root's SCHEMA frame and keys
CREATE TABLE snap_parted (id int, region text, v text, PRIMARY KEY (id, region)) PARTITION BY LIST (region);
CREATE TABLE snap_parted_us (v text, region text, id int, PRIMARY KEY (id, region));
ALTER TABLE snap_parted ATTACH PARTITION snap_parted_us FOR VALUES IN ('us');
CREATE TABLE snap_parted_eu PARTITION OF snap_parted FOR VALUES IN ('eu');
INSERT INTO snap_parted VALUES (1, 'us', 'one'), (2, 'eu', 'two'), (3, 'us', 'three');
SELECT s.n, s.kind, s.f->>'table' AS table,
       CASE s.kind WHEN 'schema' THEN (s.frame = st.frame)::text
                   ELSE snap_mark(s.value, st.value) END AS same
  FROM snap_frames('snap_parted_us', 'publish-via-partition-root', 'true') s
  LEFT JOIN stream_frames('public.snap_parted', 'publish-via-partition-root', 'true') st
    ON st.kind = s.kind AND (s.kind = 'schema' OR st.key = s.key)
 ORDER BY s.n;
-- and as itself
SELECT n, kind, f->>'table' AS table FROM snap_frames('snap_parted_us') ORDER BY n;

-- row estimates, for progress: unknown until the first VACUUM or ANALYZE
SELECT wal2avro.snapshot_row_estimate('snap_t') AS before_analyze;
ANALYZE snap_t, snap_empty;
SELECT wal2avro.snapshot_row_estimate('snap_t') AS snap_t, wal2avro.snapshot_row_estimate('snap_empty') AS snap_empty;

-- what cannot be snapshot
SELECT wal2avro.snapshot_frames('snap_t', array['include-tables', 'public.other']);
SELECT wal2avro.snapshot_frames('snap_t', array['exclude-tables', 'public.snap_*']);
SELECT wal2avro.snapshot_frames('snap_parted');
SELECT wal2avro.snapshot_row_estimate('snap_parted');
SELECT wal2avro.snapshot_frames('snap_parted_eu', array['publish-via-partition-root', 'true',
                                                        'exclude-tables', 'public.snap_parted']);
CREATE VIEW snap_view AS SELECT 1 AS one;
SELECT wal2avro.snapshot_frames('snap_view');
CREATE UNLOGGED TABLE snap_unlogged (id int);
SELECT wal2avro.snapshot_frames('snap_unlogged');
SELECT wal2avro.snapshot_frames('pg_class');
SELECT wal2avro.snapshot_frames('snap_t', array['format', 'json']);
SELECT wal2avro.snapshot_frames('snap_t', array['envelope', 'debezum']);
SELECT wal2avro.snapshot_frames('snap_t', array['envelope']);
SELECT length(wal2avro.snapshot_frames('snap_t', array['max-record-size', '10000',
                                                       'include-timestamps', 'false']));
-- a role that may not read every row
CREATE ROLE regress_snap_reader;
GRANT USAGE ON SCHEMA wal2avro TO regress_snap_reader;
SET ROLE regress_snap_reader;
SELECT wal2avro.snapshot_frames('snap_one');
RESET ROLE;
GRANT SELECT ON snap_one TO regress_snap_reader;
ALTER TABLE snap_one ENABLE ROW LEVEL SECURITY;
CREATE POLICY snap_one_odd ON snap_one USING (id % 2 = 1);
SET ROLE regress_snap_reader;
SELECT wal2avro.snapshot_frames('snap_one');
RESET ROLE;
ALTER TABLE snap_one DISABLE ROW LEVEL SECURITY;
SET ROLE regress_snap_reader;
SELECT count(*) FROM (SELECT wal2avro.snapshot_frames('snap_one')) s;
RESET ROLE;

-- chunks of an on-demand snapshot: first_block and blocks pick a block range
CREATE TABLE snap_chunk (id int PRIMARY KEY, pad text) WITH (fillfactor = 10);
INSERT INTO snap_chunk SELECT g, repeat('x', 200) FROM generate_series(1, 300) g;
CREATE FUNCTION snap_chunk_rows(first bigint, n bigint)
RETURNS TABLE (kind text, key bytea, incremental bool) LANGUAGE sql AS $$
SELECT f->>'kind', (f->>'key')::bytea,
       position(convert_to('incremental', 'UTF8') IN (f->>'value')::bytea) > 0
  FROM (SELECT wal2avro.snapshot_frames('snap_chunk', '{}', first, n) AS data) s,
       wal2avro.frame_to_jsonb(data) f
$$;
-- every chunk starts with the schema; chunks of 3 blocks cover each row once
SELECT count(*) FILTER (WHERE kind = 'schema') = max(ceil(b / 3.0)) AS one_schema_per_chunk,
       count(*) FILTER (WHERE kind = 'change') AS rows,
       count(DISTINCT key) AS keys,
       bool_and(incremental) FILTER (WHERE kind = 'change') AS all_incremental
  FROM (SELECT pg_relation_size('snap_chunk') / current_setting('block_size')::int AS b) n,
       LATERAL generate_series(0, b - 1, 3) g,
       LATERAL snap_chunk_rows(g, 3);
-- a chunk holds the rows of its blocks
SELECT (SELECT count(*) FROM snap_chunk_rows(2, 3) WHERE kind = 'change') =
       (SELECT count(*) FROM snap_chunk WHERE (ctid::text::point)[0] BETWEEN 2 AND 4) AS blocks_2_to_4,
       (SELECT count(*) FROM snap_chunk_rows(2, NULL) WHERE kind = 'change') =
       (SELECT count(*) FROM snap_chunk WHERE (ctid::text::point)[0] >= 2) AS from_block_2_on,
       (SELECT count(*) FROM snap_chunk WHERE (ctid::text::point)[0] BETWEEN 2 AND 4) > 0 AS not_empty;
-- a whole-table read is not "incremental"
SELECT bool_or(position(convert_to('incremental', 'UTF8') IN (f->>'value')::bytea) > 0) AS any_incremental
  FROM (SELECT wal2avro.snapshot_frames('snap_chunk') AS data) s, wal2avro.frame_to_jsonb(data) f;
SELECT kind, count(*) FROM snap_chunk_rows(100000, 10) GROUP BY kind;
SELECT kind, count(*) FROM snap_chunk_rows(0, 0) GROUP BY kind;
SELECT wal2avro.snapshot_frames('snap_chunk', '{}', -1, 3);
SELECT wal2avro.snapshot_frames('snap_chunk', '{}', 0, -3);

-- request_snapshot(): one transactional message, the tables' OIDs in order
SELECT 'init' FROM pg_create_logical_replication_slot('snap_requests', 'test_decoding');
SELECT wal2avro.request_snapshot('snap_chunk', 'snap_t', 'snap_chunk') IS NOT NULL AS requested;
SELECT wal2avro.request_snapshot('snap_parted') IS NOT NULL AS requested;
SELECT replace(replace(replace(replace(data,
           'snap_chunk'::regclass::oid::text, 'snap_chunk'),
           'snap_t'::regclass::oid::text, 'snap_t'),
           'snap_parted_us'::regclass::oid::text, 'snap_parted_us'),
           'snap_parted_eu'::regclass::oid::text, 'snap_parted_eu') AS data
  FROM pg_logical_slot_get_changes('snap_requests', NULL, NULL, 'include-xids', '0')
 WHERE data LIKE 'message:%';
SELECT pg_drop_replication_slot('snap_requests');
SELECT wal2avro.request_snapshot();
SELECT wal2avro.request_snapshot(VARIADIC '{}'::regclass[]);
SELECT wal2avro.request_snapshot(NULL);
SELECT wal2avro.request_snapshot('snap_t', NULL);
SELECT wal2avro.request_snapshot('snap_view');
SET ROLE regress_snap_reader;
SELECT wal2avro.request_snapshot('snap_t');
RESET ROLE;

-- published(): which tables an initial snapshot reads, by the plugin options alone
SELECT t, wal2avro.published(t::regclass) AS by_default,
       wal2avro.published(t::regclass, array['include-tables', 'public.snap_t,public.snap_parted*']) AS included,
       wal2avro.published(t::regclass, array['exclude-tables', 'public.snap_t']) AS excluded
  FROM unnest(array['snap_t', 'snap_nokey', 'snap_parted', 'snap_parted_us', 'snap_unlogged',
                    'snap_view', 'pg_class']) t;

SELECT pg_drop_replication_slot('regression_slot');
DROP TABLE snap_t, snap_nokey, snap_empty, snap_one, snap_parted, snap_unlogged, snap_chunk;
DROP VIEW snap_view;
DROP TYPE snap_inner, snap_mood;
DROP DOMAIN snap_posint;
DROP FUNCTION snap_compare, snap_frames, stream_frames, snap_mark, snap_flat_same,
    snap_text, snap_toast_chunks, snap_chunk_rows;
REVOKE USAGE ON SCHEMA wal2avro FROM regress_snap_reader;
DROP ROLE regress_snap_reader;
