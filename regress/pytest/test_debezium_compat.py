"""test_debezium_compat.py -- compat=debezium against Debezium 3.6.1's own records.

What it is for: with the plugin option compat=debezium, every CHANGE frame's
Avro schema and datum must be what Confluent's AvroData makes of the Connect
schema and value Debezium's PostgreSQL connector emits for the same change at
its defaults (doc/debezium.md, issue 14).  The reference is a capture of
Debezium 3.6.1 running regress/workloads/debezium_types.sql
(regress/workloads/debezium_types.capture.jsonl, or the file named by
W2A_DBZ_CAPTURE), turned into Avro by regress/tools/connect_avro.py.

The same workload runs here in a database of its own: its first part, then a
slot is created (as Debezium's slot is, after the tables exist), the snapshot
rows are read with wal2avro.snapshot_frames() (the same record builder) in
one transaction, told what the relay tells it: snapshot-lsn the slot's
consistent point, snapshot-txid the transaction's txid_current() (Debezium's
txId), snapshot-last-table for the last table with rows; the
second part runs, and pg_logical_slot_get_binary_changes(... 'compat',
'debezium', 'topic-prefix', 'dbz') gives the streamed changes.  Per topic the
records are compared in order: the schema after resolving names (every
property: connect.*, logicalType, precision, scale, defaults), the key and the
value.  Tombstones are not CHANGE frames (the relay writes them) and are
left out on Debezium's side.  Truncates (op t, skipped-operations=none as
the capture ran) and logical messages (op m, topic dbz.message: Debezium's
MessageKey and MessageValue) are CHANGE frames and are compared too.

Only values that must differ between two runs are masked (ALLOWED below),
and Debezium's own quirks, each with its reason (QUIRKS).

It needs a PostgreSQL 15 cluster with the plugin installed (PG* environment);
regress/e2e/0010-avro-roundtrip.sh starts one.  Without PGHOST it is skipped.
"""

import copy
import json
import os
import subprocess
import sys

import pytest

if not os.environ.get("PGHOST"):
    pytest.skip("PGHOST is not set: test_debezium_compat.py needs a running "
                "PostgreSQL with wal2avro (regress/e2e/0010-avro-roundtrip.sh "
                "starts one)", allow_module_level=True)

import psycopg  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
sys.path.insert(0, os.path.join(ROOT, "regress", "tools"))
import connect_avro as ca  # noqa: E402
import w2a_frames as w  # noqa: E402

WORKLOAD = os.path.join(ROOT, "regress", "workloads", "debezium_types.sql")
CAPTURE = os.environ.get("W2A_DBZ_CAPTURE") or os.path.join(
    ROOT, "regress", "workloads", "debezium_types.capture.jsonl")
DB = "dbz_compat"
SLOT = "dbz_compat"
PREFIX = "dbz"
# the capture ran with provide.transaction.metadata=true and
# skipped.operations=none (regress/lib/debezium.sh)
OPTIONS = ("compat", "debezium", "topic-prefix", PREFIX, "provide-transaction-metadata", "true",
           "skipped-operations", "none")

# Values that differ between two runs (masked on both sides), by path
ALLOWED = {
    ("source", "version"): "wal2avro writes its own version, not 3.6.1.Final",
    ("source", "ts_ms"): "commit time of another run",
    ("source", "ts_us"): "commit time of another run",
    ("source", "ts_ns"): "commit time of another run",
    ("source", "txId"): "transaction ids of another run",
    ("source", "lsn"): "LSNs of another run",
    ("source", "sequence"): "LSNs of another run",
    ("source", "db"): "the test's own database (Debezium's ran in postgres)",
    ("ts_ms",): "processing time",
    ("ts_us",): "processing time",
    ("ts_ns",): "processing time",
    ("transaction", "id"): "\"<txId>:<lsn>\" of another run",
}

# Debezium's values that are its own bugs, not PostgreSQL's data:
# (topic, op, key id, column) -> reason.  Compared as "either side" only here.
QUIRKS = {
    "c_name": "Debezium's streaming reads name columns as null (pgoutput "
              "sends them; its snapshot has the value)",
    "c_text_arr@3": "a 2-dimensional array: Debezium writes Java's "
                    "String[].toString() (\"[Ljava.lang.String;@...\"); "
                    "wal2avro its elements in storage order",
    "c_date@3r": "date '4713-01-01 BC' in Debezium's snapshot is 1001860 "
                 "(a JDBC Julian/Gregorian artefact); its stream has the "
                 "right -2440550, as wal2avro does",
    "c_date@4r": "date 'infinity' in Debezium's snapshot is an overflow "
                 "(-622191234); wal2avro writes the LocalDate Debezium's "
                 "converter maps infinity to",
}


def psql(*args):
    subprocess.run(["psql", "-XqAt", "-v", "ON_ERROR_STOP=1", "-d", DB] + list(args),
                   check=True, stdout=subprocess.DEVNULL)


MODES_WORKLOAD = os.path.join(ROOT, "regress", "workloads", "debezium_modes.sql")
# (workload, capture, extra plugin options): Debezium's defaults, then its
# handling modes (the capture ran with the connector properties of the same names)
CASES = [
    (WORKLOAD, CAPTURE, ()),
    (MODES_WORKLOAD, os.path.join(ROOT, "regress", "workloads",
                                  "debezium_modes.string-hex-connect.capture.jsonl"),
     ("decimal-handling-mode", "string", "binary-handling-mode", "hex",
      "time-precision-mode", "connect", "interval-handling-mode", "string",
      "hstore-handling-mode", "map")),
    (MODES_WORKLOAD, os.path.join(ROOT, "regress", "workloads",
                                  "debezium_modes.double-base64url-micros.capture.jsonl"),
     ("decimal-handling-mode", "double", "binary-handling-mode", "base64-url-safe",
      "time-precision-mode", "adaptive_time_microseconds")),
    (MODES_WORKLOAD, os.path.join(ROOT, "regress", "workloads",
                                  "debezium_modes.defaults-base64.capture.jsonl"),
     ("binary-handling-mode", "base64")),
]
# the modes workload's snapshot quirks (as c_date@3r, c_date@4r)
QUIRKS["d@3r"] = QUIRKS["c_date@3r"]
QUIRKS["d@4r"] = QUIRKS["c_date@4r"]


@pytest.fixture(scope="module", params=CASES, ids=["defaults", "string-hex-connect",
                                                   "double-base64url-micros", "defaults-base64"])
def frames(request):
    workload, capture, extra = request.param
    options = OPTIONS + tuple(extra)
    with psycopg.connect(autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {DB}")
    try:
        psql("-v", "stream=false", "-f", workload)
        with psycopg.connect(dbname=DB, autocommit=True) as conn:
            conn.execute("SET TimeZone = 'UTC'")
            conn.execute("CREATE EXTENSION wal2avro")
            (lsn,) = conn.execute("SELECT lsn::text FROM pg_create_logical_replication_slot(%s, 'wal2avro')",
                                  (SLOT,)).fetchone()
            snap = []
            tables = [t for (t,) in conn.execute(
                "SELECT c.oid::regclass::text FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY 1").fetchall()]
            with conn.transaction():
                (txid,) = conn.execute("SELECT txid_current()").fetchone()
                last = next(t for t in reversed(tables)
                            if conn.execute(f"SELECT EXISTS (SELECT FROM {t})").fetchone()[0])
                for t in tables:
                    opts = list(options) + ["snapshot-lsn", lsn, "snapshot-txid", str(txid)]
                    if t == last:
                        opts += ["snapshot-last-table", "true"]
                    snap += [bytes(r[0]) for r in conn.execute(
                        "SELECT wal2avro.snapshot_frames(%s::regclass, %s)", (t, opts)).fetchall()]
            psql("-v", "stream=true", "-f", workload)
            stream = [bytes(r[0]) for r in conn.execute(
                "SELECT data FROM pg_logical_slot_get_binary_changes(%s, NULL, NULL, "
                + ", ".join(["%s"] * len(options)) + ")", (SLOT,) + options).fetchall()]
            conn.execute("SELECT pg_drop_replication_slot(%s)", (SLOT,))
        yield snap, stream, {"lsn": w.parse_lsn(lsn), "txid": txid}, capture
    finally:
        with psycopg.connect(autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")


def decode_frames(raw):
    """The CHANGE frames as {topic, op, key: (schema, value), value: (schema, value)}"""
    schemas = {}
    out = []
    for data in raw:
        f = w.parse_frame(data)
        if f["kind"] == "schema":
            schemas[f["relid"]] = f
        elif f["kind"] == "change":
            s = schemas[f["relid"]]
            ks = json.loads(s["key_schema"]) if s["key_schema"] else None
            vs = json.loads(s["value_schema"])
            out.append({
                "topic": s["topic"], "op": f["op"], "frame_lsn": f["lsn"],
                "key": None if f["key"] is None else (ks, ca.raw_decode(ks, f["key"])),
                "value": (vs, ca.raw_decode(vs, f["value"])),
            })
    return out


def expected_records(capture):
    """Debezium's records, by topic: the same shape, through connect_avro.py"""
    out = []
    with open(capture, encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            key, value = r["key"], r["value"]
            key = json.loads(key) if isinstance(key, str) else key
            value = json.loads(value) if isinstance(value, str) else value
            if value is None or r["topic"] == f"{PREFIX}.transaction":
                continue
            if value["payload"].get("op") not in ("c", "u", "d", "r", "t", "m"):
                continue
            rec = {"topic": r["topic"], "op": value["payload"]["op"], "key": None}
            for part, cr in (("key", key), ("value", value)):
                if cr is None:
                    continue
                s, v = ca.connect_to_avro(cr["schema"], cr["payload"])
                parsed = json.loads(ca.avro_schema_text(s))
                rec[part] = (parsed, ca.raw_decode(parsed, ca.encode(parsed, v)))
            out.append(rec)
    return out


PRIMITIVES = {"null", "boolean", "int", "long", "float", "double", "bytes", "string"}


def resolve(s, ns=None):
    """A schema with every name made full and namespaces dropped, so two
    spellings of one schema compare equal; everything else is kept."""
    if isinstance(s, str):
        if s in PRIMITIVES or "." in s or ns is None:
            return s
        return f"{ns}.{s}"
    if isinstance(s, list):
        return [resolve(x, ns) for x in s]
    s = dict(s)
    if s.get("type") in ("record", "enum", "fixed"):
        name = s["name"]
        space = s.pop("namespace", None) or (name.rpartition(".")[0] if "." in name else ns)
        s["name"] = name if "." in name else (f"{space}.{name}" if space else name)
        if s["type"] == "record":
            s["fields"] = [dict(f, type=resolve(f["type"], space)) for f in s["fields"]]
        return s
    if s.get("type") == "array":
        s["items"] = resolve(s["items"], ns)
    elif isinstance(s.get("type"), (dict, list)):
        s["type"] = resolve(s["type"], ns)
    return s


def nan_free(v):
    """NaN as a string, so equal values compare equal"""
    if isinstance(v, float) and v != v:
        return "NaN"
    if isinstance(v, dict):
        return {k: nan_free(x) for k, x in v.items()}
    if isinstance(v, list):
        return [nan_free(x) for x in v]
    return v


def mask(value, other, where, problems):
    """value with the ALLOWED paths masked; a path null on one side only is a
    problem"""
    v = nan_free(copy.deepcopy(value))
    for path in ALLOWED:
        node, peer = v, other
        for p in path[:-1]:
            node = node.get(p) if isinstance(node, dict) else None
            peer = peer.get(p) if isinstance(peer, dict) else None
        if not isinstance(node, dict) or path[-1] not in node:
            continue
        mine = node[path[-1]]
        theirs = peer.get(path[-1]) if isinstance(peer, dict) else None
        if (mine is None) != (theirs is None):
            problems.append(f"{where} {'.'.join(path)}: {mine!r} on one side, "
                            f"{theirs!r} on the other")
        node[path[-1]] = "<masked>"
    return v


def check_snapshot_source(rec, where, problems, snap=None):
    """A snapshot row's Source: lsn the slot's consistent point, sequence
    [null, "<lsn>"], txId the snapshot transaction's, no transaction block;
    with snap ({lsn, txid}: what snapshot_frames() was told), those values"""
    src = rec["value"][1]["source"]
    if src["lsn"] is None or src["txId"] is None:
        problems.append(f"{where}: snapshot row with lsn {src['lsn']!r} txId {src['txId']!r}")
        return
    if src["sequence"] != json.dumps([None, str(src["lsn"])], separators=(",", ":")):
        problems.append(f"{where}: sequence {src['sequence']!r} with lsn {src['lsn']}")
    if snap is not None and (src["lsn"], src["txId"]) != (snap["lsn"], snap["txid"]):
        problems.append(f"{where}: lsn {src['lsn']} txId {src['txId']}, but snapshot_frames() "
                        f"was given snapshot-lsn {snap['lsn']} snapshot-txid {snap['txid']}")
    if rec["value"][1]["transaction"] is not None:
        problems.append(f"{where}: snapshot row with transaction {rec['value'][1]['transaction']!r}")


def check_source(rec, where, problems, snap=None):
    """A streamed change's Source: lsn is the change's, sequence
    ["<end of the previous transaction>" or null, "<lsn>"]"""
    src = rec["value"][1]["source"]
    if rec["op"] == "r":
        check_snapshot_source(rec, where, problems, snap)
        return
    seq = json.loads(src["sequence"])
    if not (isinstance(seq, list) and len(seq) == 2 and seq[1] == str(src["lsn"]) and
            (seq[0] is None or int(seq[0]) <= src["lsn"])):
        problems.append(f"{where}: sequence {src['sequence']!r} with lsn {src['lsn']}")
    tx = rec["value"][1]["transaction"]
    if rec["op"] == "m" and src["txId"] is None:
        # a non-transactional message: in no transaction, and counted as
        # committed before it is written (sequence [lsn, lsn])
        if tx is not None:
            problems.append(f"{where}: non-transactional message with transaction {tx!r}")
        if seq[0] != seq[1]:
            problems.append(f"{where}: non-transactional message with sequence {src['sequence']!r}")
    elif tx is None or tx["id"] != f"{src['txId']}:{src['lsn']}":
        problems.append(f"{where}: transaction {tx!r} with txId {src['txId']} lsn {src['lsn']}")
    if "frame_lsn" in rec and w.parse_lsn(rec["frame_lsn"]) != src["lsn"]:
        problems.append(f"{where}: source.lsn {src['lsn']} but the frame's LSN is {rec['frame_lsn']}")


def quirk(column, key, op):
    for k in (f"{column}@{key}{op}", f"{column}@{key}", column):
        if k in QUIRKS:
            return QUIRKS[k]
    return None


def row_differences(ours, theirs, key, op, where):
    """Columns that differ, minus the known quirks; returns the quirks met"""
    bad, met = [], []
    if ours is None or theirs is None:
        if ours != theirs:
            bad.append(f"{where}: {ours!r} != {theirs!r}")
        return bad, met
    for col in sorted(set(ours) | set(theirs)):
        if ours.get(col, "<absent>") != theirs.get(col, "<absent>"):
            reason = quirk(col, key, op)
            if reason:
                met.append(f"{where}.{col}: {reason}")
            else:
                bad.append(f"{where}.{col}: wal2avro {ours.get(col, '<absent>')!r} "
                           f"!= Debezium {theirs.get(col, '<absent>')!r}")
    return bad, met


def test_debezium_compat(frames):
    snap, stream, told, capture = frames
    ours = decode_frames(snap) + decode_frames(stream)
    theirs = expected_records(capture)
    problems, quirks_met = [], []
    topics = sorted({r["topic"] for r in theirs} | {r["topic"] for r in ours})
    for topic in topics:
        for kind in ("snapshot", "stream"):
            def pick(rs):
                return [r for r in rs if r["topic"] == topic and (r["op"] == "r") == (kind == "snapshot")]
            o, t = pick(ours), pick(theirs)
            if len(o) != len(t):
                problems.append(f"{topic} {kind}: {len(o)} records from wal2avro, {len(t)} from Debezium "
                                f"(ops {[r['op'] for r in o]} vs {[r['op'] for r in t]})")
                continue
            for i, (a, b) in enumerate(zip(o, t)):
                where = f"{topic} {kind} #{i} op {b['op']}"
                if a["op"] != b["op"]:
                    problems.append(f"{where}: op {a['op']!r}")
                    continue
                for part in ("key", "value"):
                    if (a[part] is None) != (b[part] is None):
                        problems.append(f"{where}: {part} {a[part]!r} vs {b[part]!r}")
                        continue
                    if a[part] is None:
                        continue
                    sa, sb = resolve(a[part][0]), resolve(b[part][0])
                    if sa != sb:
                        problems.append(f"{where}: {part} schema\n  wal2avro {json.dumps(sa)}\n"
                                        f"  Debezium {json.dumps(sb)}")
                key = (b["key"][1] or {}).get("id") if b["key"] else None
                check_source(a, where + " (wal2avro)", problems, told)
                check_source(b, where + " (Debezium)", problems)
                va = mask(a["value"][1], b["value"][1], where, problems)
                vb = mask(b["value"][1], a["value"][1], where, [])
                for row in ("before", "after"):
                    # a message has no rows
                    bad, met = row_differences(va.pop(row, None), vb.pop(row, None), key, b["op"][0] if b["op"] == "r" else "",
                                               f"{where} {row}")
                    problems += bad
                    quirks_met += met
                if va != vb:
                    problems.append(f"{where}: envelope\n  wal2avro {va!r}\n  Debezium {vb!r}")
                if a["key"] and a["key"][1] != b["key"][1]:
                    problems.append(f"{where}: key {a['key'][1]!r} != {b['key'][1]!r}")
    for q in quirks_met:
        print("allowed (Debezium quirk):", q)
    assert not problems, "\n".join(problems)
