-- snapshot_pg14: numeric's infinities (14+) in wal2avro.snapshot_frames(),
-- the same bytes as the stream's, as snapshot.sql checks every other mapping
SET client_min_messages = warning;
SELECT 'init' FROM pg_create_logical_replication_slot('regression_slot', 'wal2avro');

-- snapshot.sql's helpers, cut to what this file needs: a table's snapshot
-- frames and stream frames, and the Source mark of a snapshot value whose
-- bytes are the streamed insert's but for the end of Source and op
CREATE FUNCTION snap_frames(t regclass)
RETURNS TABLE (n bigint, kind text, key bytea, value bytea, frame bytea)
LANGUAGE sql AS $$
SELECT row_number() OVER (), f->>'kind', (f->>'key')::bytea, (f->>'value')::bytea, data
  FROM (SELECT wal2avro.snapshot_frames(t, array['include-timestamps', 'false']) AS data) s,
       wal2avro.frame_to_jsonb(data) f
$$;
CREATE FUNCTION stream_frames(t text)
RETURNS TABLE (kind text, key bytea, value bytea, frame bytea)
LANGUAGE sql AS $$
SELECT f->>'kind', (f->>'key')::bytea, (f->>'value')::bytea, data
  FROM pg_logical_slot_peek_binary_changes('regression_slot', NULL, NULL,
       'include-timestamps', 'false', 'include-tables', t),
       wal2avro.frame_to_jsonb(data) f
 WHERE f->>'kind' IN ('schema', 'change')
$$;
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

-- infinities in the key and the value (a numeric with a typmod has none)
CREATE TABLE snap_inf (id int, k numeric, u numeric, PRIMARY KEY (id, k));
INSERT INTO snap_inf VALUES
    (1, 'Infinity', '-Infinity'),
    (2, '-Infinity', 'Infinity'),
    (3, 1.5, 'NaN');
SELECT s.n, s.kind, encode(s.key, 'hex') AS key,
       CASE WHEN s.kind = 'schema' THEN (s.frame = st.frame)::text
            ELSE snap_mark(s.value, st.value) END AS same
  FROM snap_frames('snap_inf') s
  FULL JOIN stream_frames('public.snap_inf') st
    ON st.kind = s.kind AND (s.kind = 'schema' OR st.key = s.key)
 ORDER BY s.n;

SELECT pg_drop_replication_slot('regression_slot');
DROP TABLE snap_inf;
DROP FUNCTION snap_frames, stream_frames, snap_mark;
