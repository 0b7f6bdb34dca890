"""test_snapshot.py -- wal2avro.snapshot_frames(), decoded independently.

What it is for: the snapshot of a table must be what the stream would have
carried for its rows.  Its frames are decoded by regress/tools/w2a_frames.py
(fastavro, strict Avro checks, fingerprints) and compared with the streamed
inserts of the same rows and with SELECT, using test_roundtrip.py's type
cases and canonical forms.

The tests
---------
1. test_snapshot_every_type: a table with a column for every type case of
   test_roundtrip.py (values of every case, NULLs, out-of-line values);
   the SCHEMA frame is byte for byte the streamed one; each row's decoded
   after equals the streamed insert's after and SELECT; Source marks the
   rows first/true/last, has no txId nor lsn, and times from the read.
2. test_snapshot_flat: the same rows with envelope=flat: __op r, __lsn 0,
   __deleted false, the row fields as streamed.
3. test_exported_snapshot: the intended use.  A slot is created with
   EXPORT_SNAPSHOT on a replication connection; rows are inserted, updated
   and deleted after it; the snapshot read under the exported snapshot
   holds the rows as they were, the slot streams exactly what came after,
   and the two merged rebuild the table.

It needs a PostgreSQL 15 cluster with wal_level=logical and wal2avro
installed, given by the PG* environment variables (skipped without
PGHOST); regress/e2e/0010-avro-roundtrip.sh starts one and runs it.

Run:  . regress/tools/venv.sh && "$W2A_PYTHON" -m pytest -q regress/pytest
"""

import hashlib
import os
import sys

import pytest

if not os.environ.get("PGHOST"):
    pytest.skip("PGHOST is not set: test_snapshot.py needs a running "
                "PostgreSQL with wal2avro (regress/e2e/0010-avro-roundtrip.sh "
                "starts one)", allow_module_level=True)

import psycopg  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_roundtrip as rt  # noqa: E402

w = rt.w
SCHEMA = "snap_types"
SLOT = "snap_types"


def renamed(spec):
    """A test_roundtrip spec for its types created in SCHEMA, not rt_types."""
    if isinstance(spec, rt.Composite):
        return rt.Composite(spec.fullname.replace(".rt_types.", f".{SCHEMA}."),
                            [(a, renamed(s)) for a, s in spec.attrs])
    if isinstance(spec, rt.Array):
        return rt.Array(renamed(spec.elem))
    return spec


def md5(text):
    return hashlib.md5(text.encode()).hexdigest() if text is not None else None


def server_ms(conn):
    return rt.run(conn, "SELECT (extract(epoch FROM clock_timestamp()) "
                        "* 1000)::int8")[0][0]


def snapshot_frames(conn, table, opts=()):
    """The frames of snapshot_frames(), called in the select list."""
    rows = rt.run(conn, "SELECT wal2avro.snapshot_frames(%s::regclass, "
                        "%s::text[])", (table, [str(o) for o in opts]))
    return [bytes(r[0]) for r in rows]


def decode_snapshot(frames):
    """(SCHEMA frame dict, decoded CHANGE dicts) of a snapshot's frames.

    The frames come outside any transaction, so the Decoder's order check
    is off; everything else (fingerprints, strict Avro, the op in the
    value) is checked as for the stream.
    """
    dec = w.Decoder(check_order=False, strict_avro=True, named_types=True)
    out = [dec.feed(f) for f in frames]
    assert out and out[0]["kind"] == "schema", "the first frame is not SCHEMA"
    rt.check_schema_frame(out[0])
    changes = out[1:]
    assert all(c["kind"] == "change" for c in changes), \
        [c["kind"] for c in changes]
    for c, raw in zip(changes, frames[1:]):
        assert c["op"] == "r" and c["lsn"] == "0/0", (c["op"], c["lsn"])
        assert w.parse_frame(raw)["lsn"] == "0/0"
    return out[0], changes


def stream_frames(conn, table, opts=()):
    return rt.fetch_frames(conn, SLOT, ["include-tables", table] + list(opts))


@pytest.fixture(scope="module")
def conn():
    """A session, with the extension (created here if missing, and then
    dropped at the end)."""
    c = rt.connect()
    created = not rt.run(c, "SELECT 1 FROM pg_extension "
                            "WHERE extname = 'wal2avro'")
    if created:
        rt.run(c, "CREATE EXTENSION wal2avro")
    yield c
    if created:
        rt.run(c, "DROP EXTENSION wal2avro")
    c.close()


@pytest.fixture(scope="module")
def wide_env(conn):
    """snap_types.wide: a column per type case, a row per value, one all NULL.

    Row i holds the i-th value of every case that has one, so each value of
    test_roundtrip.py's cases is in some row, the large ones out of line.
    The slot exists before the rows, so it streams their inserts.
    """
    rt.run(conn, f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
    rt.run(conn, f"CREATE SCHEMA {SCHEMA}")
    rt.run(conn, rt.TYPE_SETUP.replace("rt_types", SCHEMA))
    cases = [c for c in rt.TYPE_CASES
             if rt.feature_available(conn, c[4])]
    cols = [f"c_{c[0]} {c[1].replace('rt_types', SCHEMA)}" for c in cases]
    rt.run(conn, f"CREATE TABLE {SCHEMA}.wide (id int PRIMARY KEY, "
                 f"{', '.join(cols)})")
    rt.create_slot(conn, SLOT)
    nrows = max(len(c[3]) for c in cases) + 1
    for i in range(nrows):
        vals = [c[3][i].replace("rt_types", SCHEMA) if i < len(c[3])
                else "NULL" for c in cases]
        rt.run(conn, f"INSERT INTO {SCHEMA}.wide VALUES ({i + 1}, "
                     f"{', '.join(vals)})")
    specs = {"id": rt.INT4}
    specs.update({f"c_{c[0]}": renamed(c[2]) for c in cases})
    out_of_line = rt.run(
        conn, f"SELECT count(*) FROM {SCHEMA}.wide "
              f"WHERE pg_column_size(c_text) > 50000")[0][0]
    assert out_of_line == 1, "the 100 kB text is not in the table"
    yield {"table": f"{SCHEMA}.wide", "rows": nrows, "specs": specs}
    rt.drop_slot(conn, SLOT)
    rt.run(conn, f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")


def by_key(changes):
    out = {}
    for c in changes:
        key = c["key"]["id"]
        assert key not in out, f"key {key} twice"
        out[key] = c
    return out


def test_snapshot_every_type(conn, wide_env):
    table, nrows, specs = wide_env["table"], wide_env["rows"], \
        wide_env["specs"]
    start = server_ms(conn)
    snap_raw = snapshot_frames(conn, table)
    end = server_ms(conn)
    schema, snap = decode_snapshot(snap_raw)
    stream_raw = stream_frames(conn, table)
    stream = rt.Stream(stream_raw)

    # the SCHEMA frame is the stream's, byte for byte
    streamed_schema = [f for f in stream_raw if f[4:5] == b"S"]
    assert len(streamed_schema) == 1
    assert snap_raw[0] == streamed_schema[0]

    assert len(snap) == nrows == len(stream.changes)
    assert [c["op"] for c in stream.changes] == ["c"] * nrows
    streamed = by_key(stream.changes)
    want = rt.select_canon(conn, table, specs, ["id"])
    errors = []
    for n, c in enumerate(snap):
        key = c["key"]["id"]
        where = f"{table} id={key}"
        v = c["value"]
        sv = streamed[key]["value"]
        if v["before"] is not None:
            errors.append(f"{where}: before is {rt.short(v['before'])}")
        if w.to_json(v["after"]) != w.to_json(sv["after"]):
            errors.append(f"{where}: after differs from the streamed insert")
        errors += rt.diff_row(where, specs, rt.row_of(v["after"], "wide"),
                              want[(key,)])
        # Source: as streamed but for snapshot, ts_ms, txId and lsn
        src, ssrc = v["source"], sv["source"]
        mark = "first" if n == 0 else "last" if n == nrows - 1 else "true"
        if src["snapshot"] != mark or ssrc["snapshot"] != "false":
            errors.append(f"{where}: snapshot {src['snapshot']!r}, "
                          f"expected {mark!r}")
        if src["txId"] is not None or src["lsn"] is not None or \
                src["xmin"] is not None:
            errors.append(f"{where}: txId/lsn/xmin {src['txId']!r}/"
                          f"{src['lsn']!r}/{src['xmin']!r}, not null")
        for k in ("version", "connector", "name", "db", "schema", "table"):
            if src[k] != ssrc[k]:
                errors.append(f"{where}: source {k} {src[k]!r} != "
                              f"streamed {ssrc[k]!r}")
        if not start <= src["ts_ms"] <= end or \
                not start <= v["ts_ms"] <= end:
            errors.append(f"{where}: ts_ms {src['ts_ms']}/{v['ts_ms']} not "
                          f"in the read's [{start}, {end}]")
        if v["op"] != "r":
            errors.append(f"{where}: op {v['op']!r}")
    rt.fail_on(errors)
    assert sorted(streamed) == sorted(c["key"]["id"] for c in snap)
    assert schema["value_fingerprint"] == stream.schemas[0]["value_fingerprint"]


def test_snapshot_flat(conn, wide_env):
    table, nrows = wide_env["table"], wide_env["rows"]
    opts = ["envelope", "flat", "include-timestamps", "false"]
    snap_raw = snapshot_frames(conn, table, opts)
    _, snap = decode_snapshot(snap_raw)
    stream_raw = stream_frames(conn, table, opts)
    stream = rt.Stream(stream_raw)
    assert snap_raw[0] == [f for f in stream_raw if f[4:5] == b"S"][0]
    streamed = by_key(stream.changes)
    assert len(snap) == nrows == len(streamed)
    meta = ("__op", "__lsn", "__source_ts_ms", "__deleted")
    errors = []
    for c in snap:
        key = c["key"]["id"]
        v, sv = c["value"], streamed[key]["value"]
        got = tuple(v[k] for k in meta)
        if got != ("r", 0, 0, False):
            errors.append(f"id={key}: flat metadata {got}")
        row = {k: x for k, x in v.items() if k not in meta}
        srow = {k: x for k, x in sv.items() if k not in meta}
        if w.to_json(row) != w.to_json(srow):
            errors.append(f"id={key}: row differs from the streamed insert")
    rt.fail_on(errors)


def test_exported_snapshot(conn):
    """Snapshot under the slot's exported snapshot, then stream: no gap,
    no overlap, and the merge is the table."""
    table = "snap_exp.t"
    rt.run(conn, "DROP SCHEMA IF EXISTS snap_exp CASCADE")
    rt.run(conn, "CREATE SCHEMA snap_exp")
    rt.run(conn, f"CREATE TABLE {table} (id int PRIMARY KEY, v text, "
                 f"big text)")
    rt.run(conn, f"INSERT INTO {table} SELECT i, 'v' || i, CASE WHEN i % 10 "
                 f"= 0 THEN {rt.BIG_TEXT} END FROM generate_series(1, 100) i")
    rt.drop_slot(conn, "snap_exp")
    repl = psycopg.connect("replication=database", autocommit=True)
    reader = rt.connect()
    try:
        cur = psycopg.ClientCursor(repl)
        cur.execute("CREATE_REPLICATION_SLOT snap_exp LOGICAL wal2avro "
                    "EXPORT_SNAPSHOT")
        exported = cur.fetchone()[2]
        reader.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        reader.execute(f"SET TRANSACTION SNAPSHOT '{exported}'")
        before = rt.run(reader, f"SELECT id, v, md5(big) FROM {table} "
                                f"ORDER BY id")

        # committed after the slot, before the snapshot is read
        rt.run(conn, f"UPDATE {table} SET v = 'changed' WHERE id <= 20")
        rt.run(conn, f"UPDATE {table} SET big = 'small' WHERE id = 10")
        rt.run(conn, f"DELETE FROM {table} WHERE id > 90")
        rt.run(conn, f"INSERT INTO {table} VALUES (1000, 'new', NULL)")

        rows = rt.run(reader, "SELECT wal2avro.snapshot_frames(%s::regclass)",
                      (table,))
        reader.execute("COMMIT")
        _, snap = decode_snapshot([bytes(r[0]) for r in rows])
    finally:
        reader.close()
        repl.close()

    got = {}
    for c in snap:
        after = rt.row_of(c["value"]["after"], "t")
        got[after["id"]] = after
    assert [(k, got[k]["v"], md5(got[k]["big"])) for k in sorted(got)] == \
        [tuple(r) for r in before]
    assert len(got) == 100 and "changed" not in {r["v"] for r in got.values()}

    try:
        stream = rt.Stream(rt.fetch_frames(conn, "snap_exp",
                                           ["include-tables", table],
                                           peek=False))
    finally:
        rt.drop_slot(conn, "snap_exp")
    ops = [c["op"] for c in stream.changes]
    assert ops == ["u"] * 21 + ["d"] * 10 + ["c"], ops

    # the snapshot, then the stream on top of it: the table
    state = {k: dict(r) for k, r in got.items()}
    for c in stream.changes:
        key = c["key"]["id"]
        if c["op"] == "d":
            del state[key]
            continue
        after = rt.row_of(c["value"]["after"], "t")
        merged = dict(after)
        for k, x in after.items():
            if x == rt.UNCHANGED:
                merged[k] = state[key][k]
        state[key] = merged
    final = rt.run(conn, f"SELECT id, v, md5(big) FROM {table} ORDER BY id")
    assert [(k, state[k]["v"], md5(state[k]["big"])) for k in sorted(state)] \
        == [tuple(r) for r in final]
    rt.run(conn, "DROP SCHEMA snap_exp CASCADE")
