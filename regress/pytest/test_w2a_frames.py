"""Unit tests of regress/tools/w2a_frames.py, the tests' frame reader.

They need no PostgreSQL: frames are packed by hand here with struct, from
doc/protocol.md, and their Avro payloads are written by fastavro.  The
fingerprint tests check fastavro against the CRC-64-AVRO values that Avro's
own conformance data (share/test/data/schema-tests.txt) publishes, and
against a small Rabin implementation written here from the spec, which pins
down the byte order our frames use.

Run:  . regress/tools/venv.sh && "$W2A_PYTHON" -m pytest -q regress/pytest
"""

import datetime
import decimal
import io
import json
import math
import os
import struct
import subprocess
import sys
import uuid

import fastavro
import pytest

TOOLS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools")
sys.path.insert(0, TOOLS)

import w2a_frames as w  # noqa: E402

MASK64 = (1 << 64) - 1


# ---------------------------------------------------------------------------
# Building frames by hand
# ---------------------------------------------------------------------------

def frame(kind, body, version=1, flags=0, magic=b"W2A", length=None):
    if length is None:
        length = len(body)
    return magic + struct.pack(">BcBI", version, kind, flags, length) + body


def s(text):
    raw = text.encode("utf-8")
    return struct.pack(">I", len(raw)) + raw


def blk(data):
    if data is None:
        return struct.pack(">I", 0xFFFFFFFF)
    return struct.pack(">I", len(data)) + data


def begin(xid=700, commit_lsn=0x16B3748, ts=1_700_000_000_000_000):
    return frame(b"B", struct.pack(">IQq", xid, commit_lsn, ts))


def commit(count, commit_lsn=0x16B3748, end_lsn=0x16B3778,
           ts=1_700_000_000_000_000):
    return frame(b"C", struct.pack(">QQqQ", commit_lsn, end_lsn, ts, count))


def schema_frame(relid, key_schema, value_schema, key_columns=(),
                 key_fp=None, value_fp=None, nspname="public",
                 relname="items", topic="wal2avro.public.items"):
    key_text = json.dumps(key_schema) if key_schema is not None else ""
    value_text = json.dumps(value_schema)
    if key_fp is None:
        key_fp = rabin(key_text) if key_text else 0
    if value_fp is None:
        value_fp = rabin(value_text)
    body = struct.pack(">IQQ", relid, key_fp, value_fp)
    body += s(nspname) + s(relname) + s(topic)
    body += struct.pack(">H", len(key_columns))
    body += b"".join(s(c) for c in key_columns)
    body += s(key_text) + s(value_text)
    return frame(b"S", body)


def change_frame(op, relid, key_fp, value_fp, key, value, lsn=0x16B3700):
    body = op.encode() + struct.pack(">IQQQ", relid, lsn, key_fp, value_fp)
    body += blk(key) + blk(value)
    return frame(b"D", body)


def avro(schema, datum):
    bio = io.BytesIO()
    fastavro.schemaless_writer(bio, fastavro.parse_schema(schema), datum)
    return bio.getvalue()


def canonical(text):
    return fastavro.schema.to_parsing_canonical_form(json.loads(text))


# ---------------------------------------------------------------------------
# An independent CRC-64-AVRO, from the algorithm in the Avro specification
# ("Schema Fingerprints"): a Rabin fingerprint with the polynomial EMPTY,
# table-driven, one byte at a time, least significant bit first.
# ---------------------------------------------------------------------------

EMPTY = 0xC15D213AA4D7A795


def _table():
    out = []
    for i in range(256):
        fp = i
        for _ in range(8):
            fp = (fp >> 1) ^ (EMPTY & (-(fp & 1) & MASK64))
        out.append(fp)
    return out


TABLE = _table()


def rabin(text):
    fp = EMPTY
    for byte in text.encode("utf-8"):
        fp = (fp >> 8) ^ TABLE[(fp ^ byte) & 0xFF]
    return fp


def fp_of(schema):
    """The fingerprint of the text schema_frame() puts in the frame."""
    return rabin(json.dumps(schema))


# (input schema, canonical form, fingerprint as the Avro project publishes
# it: a signed 64-bit integer), from Avro's share/test/data/schema-tests.txt.
AVRO_VECTORS = [
    ('"null"', '"null"', 7195948357588979594),
    ('{"type":"null"}', '"null"', 7195948357588979594),
    ('"boolean"', '"boolean"', -6970731678124411036),
    ('"int"', '"int"', 8247732601305521295),
    ('{"type":"int"}', '"int"', 8247732601305521295),
    ('"long"', '"long"', -3434872931120570953),
    ('"string"', '"string"', -8142146995180207161),
    ('[ "int" , {"type":"boolean"} ]', '["int","boolean"]',
     5392556393470105090),
    ('{"fields":[], "type":"record", "name":"foo", "namespace":"x.y"}',
     '{"name":"x.y.foo","type":"record","fields":[]}', 5916914534497305771),
    ('{"fields":[{"type":{"type":"boolean"}, "name":"f1"}], "type":"record",'
     ' "name":"foo"}',
     '{"name":"foo","type":"record","fields":'
     '[{"name":"f1","type":"boolean"}]}',
     7843277075252814651),
    ('{"namespace":"x.y.z", "type":"enum", "name":"foo", "doc":"foo bar",'
     ' "symbols":["A1", "A2"]}',
     '{"name":"x.y.z.foo","type":"enum","symbols":["A1","A2"]}',
     -4448647247586288245),
    ('{"name":"foo","type":"fixed","size":15}',
     '{"name":"foo","type":"fixed","size":15}', 1756455273707447556),
    ('{ "items":{"type":"null"}, "type":"array"}',
     '{"type":"array","items":"null"}', -589620603366471059),
    ('{"name":"PigValue","type":"record","fields":[{"name":"value",'
     '"type":["null", "int", "long", "PigValue"]}]}',
     '{"name":"PigValue","type":"record","fields":[{"name":"value",'
     '"type":["null","int","long","PigValue"]}]}', -1759257747318642341),
]


@pytest.mark.parametrize("text,canon,signed", AVRO_VECTORS)
def test_fingerprint_matches_avro_vectors(text, canon, signed):
    # The vectors fingerprint the canonical text; our identity is the same
    # CRC-64-AVRO over whatever text the frame carries, so it agrees on it.
    assert canonical(text) == canon
    assert rabin(canon) == signed & MASK64
    assert w.avro_fingerprint(canon) == signed & MASK64


def test_int_fingerprint_byte_order():
    # The spec's fingerprint64("int") is the long 8247732601305521295.
    value = 8247732601305521295
    assert value == 0x7275D51A3F395C8F
    # fastavro's hex string is that long's little-endian bytes (the order
    # of Avro's single-object encoding) ...
    hexed = fastavro.schema.fingerprint('"int"', "CRC-64-AVRO")
    assert hexed == "8f5c393f1ad57572"
    assert bytes.fromhex(hexed) == struct.pack("<Q", value)
    # ... and a frame stores the long big-endian: the reverse bytes.
    assert struct.pack(">Q", w.avro_fingerprint('"int"')) == \
        bytes.fromhex("7275d51a3f395c8f")


def test_fingerprint_of_test_schemas_agrees():
    for schema in (KEY_SCHEMA, VALUE_SCHEMA, ENVELOPE_SCHEMA, NOKEY_SCHEMA):
        text = json.dumps(schema)
        assert w.avro_fingerprint(text) == rabin(text)


@pytest.mark.parametrize("old,new", [
    ({"type": "long", "logicalType": "local-timestamp-micros"},
     {"type": "long", "logicalType": "timestamp-micros"}),
    ("int", {"type": "int", "logicalType": "date"}),
    ({"type": "string", "pg.type": "text"},
     {"type": "string", "pg.type": "jsonb"}),
])
def test_fingerprint_covers_logical_types_and_properties(old, new):
    # One Parsing Canonical Form, so the PCF fingerprint cannot tell them
    # apart; the wire identity (the text's) must.
    a, b = json.dumps(old), json.dumps(new)
    assert canonical(a) == canonical(b)
    assert w.avro_fingerprint(a) != w.avro_fingerprint(b)


# ---------------------------------------------------------------------------
# Schemas and data for the round trips
# ---------------------------------------------------------------------------

UNCHANGED = {"type": "enum", "name": "Unchanged", "namespace": "wal2avro",
             "symbols": ["UNCHANGED"]}

KEY_SCHEMA = {
    "type": "record", "name": "Key", "namespace": "wal2avro.public.items",
    "fields": [
        {"name": "id", "type": "long", "pg.name": "id", "pg.type": "int8"},
        {"name": "Code_x", "type": "string", "pg.name": "Code-x",
         "pg.type": "text"},
    ],
}

VALUE_SCHEMA = {
    "type": "record", "name": "Value", "namespace": "wal2avro.public.items",
    "fields": [
        {"name": "id", "type": ["null", "long"], "default": None,
         "pg.name": "id"},
        {"name": "price", "default": None, "pg.type": "numeric(10,2)",
         "type": ["null",
                  {"type": "fixed", "name": "decimal_10_2",
                   "namespace": "wal2avro", "size": 5,
                   "logicalType": "decimal", "precision": 10, "scale": 2},
                  "string"]},
        {"name": "note", "default": None,
         "type": ["null", "string", UNCHANGED]},
        {"name": "tags", "default": None,
         "type": ["null", {"type": "array", "items": ["null", "string"]}]},
        {"name": "dims", "default": None,
         "type": ["null", {"type": "record", "name": "Dims",
                           "namespace": "wal2avro",
                           "fields": [{"name": "w", "type": "int"},
                                      {"name": "h", "type": "double"}]}]},
        {"name": "color", "default": None,
         "type": ["null", {"type": "enum", "name": "Color",
                           "symbols": ["RED", "GREEN", "BLUE"]}]},
        {"name": "blob", "default": None, "type": ["null", "bytes",
                                                   "wal2avro.Unchanged"]},
        {"name": "ratio", "default": None, "type": ["null", "float"]},
        {"name": "at", "default": None,
         "type": ["null", {"type": "long",
                           "logicalType": "timestamp-micros"}]},
        {"name": "local", "default": None,
         "type": ["null", {"type": "long",
                           "logicalType": "local-timestamp-micros"}]},
        {"name": "day", "default": None,
         "type": ["null", {"type": "int", "logicalType": "date"}]},
        {"name": "tod", "default": None,
         "type": ["null", {"type": "long", "logicalType": "time-micros"}]},
        {"name": "uid", "default": None,
         "type": ["null", {"type": "string", "logicalType": "uuid"}]},
        {"name": "attrs", "default": None,
         "type": ["null", {"type": "map", "values": "long"}]},
    ],
}

NULL_ROW = {f["name"]: None for f in VALUE_SCHEMA["fields"]}

KEY_FP = fp_of(KEY_SCHEMA)
VALUE_FP = fp_of(VALUE_SCHEMA)
RELID = 16384


def row(**kw):
    out = dict(NULL_ROW)
    out.update(kw)
    return out


FULL_ROW = row(
    id=1,
    price=decimal.Decimal("-12345678.90"),
    note="line one\nline two",
    tags=["a", None, "c\n"],
    dims={"w": 10, "h": 2.5},
    color="GREEN",
    blob=b"\n\x00\xff\n",
    ratio=1.5,
    at=datetime.datetime(2024, 2, 29, 12, 30, 0, 5,
                         tzinfo=datetime.timezone.utc),
    local=datetime.datetime(1999, 12, 31, 23, 59, 59),
    day=datetime.date(2000, 1, 1),
    tod=datetime.time(13, 14, 15, 161718),
    uid="a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
    attrs={"x": 1, "y": -2},
)


def one_change_stream(value_datum, key_datum=None, op="c", value_fp=VALUE_FP,
                      value_bytes=None, key_bytes=None):
    if key_datum is None:
        key_datum = {"id": 1, "Code_x": "k"}
    if value_bytes is None:
        value_bytes = avro(VALUE_SCHEMA, value_datum)
    if key_bytes is None:
        key_bytes = avro(KEY_SCHEMA, key_datum)
    return [
        begin(),
        schema_frame(RELID, KEY_SCHEMA, VALUE_SCHEMA, ("id", "Code-x")),
        change_frame(op, RELID, KEY_FP, value_fp, key_bytes, value_bytes),
        commit(1),
    ]


def decode_all(frames, **kw):
    d = w.Decoder(**kw)
    out = [d.feed(f) for f in frames]
    d.finish()
    return out


# ---------------------------------------------------------------------------
# Round trips
# ---------------------------------------------------------------------------

def test_round_trip_all_kinds_of_fields():
    out = decode_all(one_change_stream(FULL_ROW))
    assert [f["kind"] for f in out] == ["begin", "schema", "change", "commit"]
    b, sch, ch, c = out
    assert b == {"kind": "begin", "xid": 700, "commit_lsn": "0/16B3748",
                 "commit_time": 1_700_000_000_000_000}
    assert sch["relid"] == RELID and sch["key_columns"] == ["id", "Code-x"]
    assert sch["key_fingerprint"] == KEY_FP
    assert sch["topic"] == "wal2avro.public.items"
    assert ch["op"] == "c" and ch["relid"] == RELID
    assert ch["lsn"] == "0/16B3700"
    assert (ch["schema"], ch["table"]) == ("public", "items")
    assert ch["key"] == {"id": 1, "Code_x": "k"}
    v = ch["value"]
    assert list(v) == [f["name"] for f in VALUE_SCHEMA["fields"]]
    assert v["price"] == decimal.Decimal("-12345678.90")
    assert v["note"] == "line one\nline two"
    assert v["tags"] == ["a", None, "c\n"]
    assert v["dims"] == {"w": 10, "h": 2.5}
    assert v["color"] == "GREEN"
    assert v["blob"] == b"\n\x00\xff\n"
    assert v["at"] == FULL_ROW["at"]
    assert v["local"] == FULL_ROW["local"]
    assert v["day"] == FULL_ROW["day"]
    assert v["tod"] == FULL_ROW["tod"]
    assert v["uid"] == uuid.UUID(FULL_ROW["uid"])
    assert v["attrs"] == {"x": 1, "y": -2}
    assert c == {"kind": "commit", "commit_lsn": "0/16B3748",
                 "end_lsn": "0/16B3778",
                 "commit_time": 1_700_000_000_000_000, "change_count": 1}


def test_json_forms():
    ch = decode_all(one_change_stream(FULL_ROW))[2]
    j = w.to_json(ch)
    assert j["value"]["price"] == "-12345678.90"
    assert j["value"]["blob"] == "\\x0a00ff0a"
    assert j["value"]["at"] == "2024-02-29T12:30:00.000005+00:00"
    assert j["value"]["local"] == "1999-12-31T23:59:59"
    assert j["value"]["day"] == "2000-01-01"
    assert j["value"]["tod"] == "13:14:15.161718"
    assert j["value"]["uid"] == "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"
    text = json.dumps(j, allow_nan=False)
    assert json.loads(text) == j
    # Decimals keep their scale and never use an exponent.
    assert w.to_json(decimal.Decimal("0E-10")) == "0.0000000000"
    assert w.to_json(decimal.Decimal("1.2E+5")) == "120000"
    assert w.to_json(float("nan")) == "NaN"
    assert w.to_json(float("inf")) == "Infinity"
    assert w.to_json(float("-inf")) == "-Infinity"
    assert w.to_json(("wal2avro.Unchanged", "UNCHANGED")) == \
        ["wal2avro.Unchanged", "UNCHANGED"]


def test_special_values():
    v = row(id=2, price="NaN", ratio=float("-inf"), note="UNCHANGED")
    got = decode_all(one_change_stream(v))[2]["value"]
    assert got["price"] == "NaN"
    assert got["ratio"] == float("-inf")
    assert got["note"] == "UNCHANGED"
    # Positive zero, a NaN float
    got = decode_all(one_change_stream(
        row(price=decimal.Decimal("0.00"), ratio=float("nan"))))[2]["value"]
    assert w.to_json(got["price"]) == "0.00"
    assert math.isnan(got["ratio"]) and w.to_json(got["ratio"]) == "NaN"


def test_infinities_and_wide_dates():
    # fastavro turns ints into these types' raw encoding unchanged
    v = row(at=2**63 - 1, local=-2**63, day=2**31 - 1, tod=86400 * 10**6)
    got = decode_all(one_change_stream(v))[2]["value"]
    assert (got["at"], got["local"], got["day"], got["tod"]) == \
        ("infinity", "-infinity", "infinity", "24:00:00")
    got = decode_all(one_change_stream(row(day=-2**31)))[2]["value"]
    assert got["day"] == "-infinity"
    # PostgreSQL's last date, 5874897-12-31 (Julian day 2147483493), and
    # its first, 4714-11-24 BC (Julian day 0, astronomical year -4713);
    # 0001-12-31 BC is year 0, the day before Python's date.min.
    unix_jd = 2440588
    before_min = (datetime.date.min - datetime.date(1970, 1, 1)).days - 1
    days = {"+5874897-12-31": 2147483493 - unix_jd,
            "-4713-11-24": -unix_jd,
            "0000-12-31": before_min,
            "0001-01-01": before_min + 1}
    for text, n in days.items():
        got = decode_all(one_change_stream(row(day=n)))[2]["value"]
        assert w.to_json(got["day"]) == text
    day_us = 86400 * 10**6
    y10k = (datetime.date(9999, 12, 31) - datetime.date(1970, 1, 1)).days + 1
    got = decode_all(one_change_stream(
        row(at=y10k * day_us + 1, local=-unix_jd * day_us - 1)))[2]["value"]
    assert got["at"] == "+10000-01-01T00:00:00.000001+00:00"
    assert got["local"] == "-4713-11-23T23:59:59.999999"


def test_named_types_show_the_union_branch():
    unchanged = avro(VALUE_SCHEMA, row(note=("wal2avro.Unchanged",
                                             "UNCHANGED")))
    text = avro(VALUE_SCHEMA, row(note="UNCHANGED"))
    assert unchanged != text
    plain = [decode_all(one_change_stream(None, value_bytes=b))[2]["value"]
             for b in (unchanged, text)]
    assert plain[0]["note"] == plain[1]["note"] == "UNCHANGED"
    named = [decode_all(one_change_stream(None, value_bytes=b),
                        named_types=True)[2]["value"]
             for b in (unchanged, text)]
    assert named[0]["note"] == ("wal2avro.Unchanged", "UNCHANGED")
    assert named[1]["note"] == "UNCHANGED"


def test_relation_without_key():
    frames = [
        begin(),
        schema_frame(RELID + 1, None, NOKEY_SCHEMA, relname="log"),
        change_frame("d", RELID + 1, 0, fp_of(NOKEY_SCHEMA), None,
                     avro(NOKEY_SCHEMA, {"msg": "x"})),
        commit(1),
    ]
    out = decode_all(frames)
    assert out[1]["key_schema"] == "" and out[1]["key_fingerprint"] == 0
    assert out[2]["key"] is None and out[2]["value"] == {"msg": "x"}
    # A key block for a keyless relation is refused, and the reverse for a
    # create (an update may lack it: a TOASTed key under REPLICA IDENTITY
    # NOTHING, doc/protocol.md) ...
    frames[2] = change_frame("d", RELID + 1, 0, fp_of(NOKEY_SCHEMA), b"",
                             avro(NOKEY_SCHEMA, {"msg": "x"}))
    with pytest.raises(w.FrameError, match="no key"):
        decode_all(frames)
    s_ = one_change_stream(FULL_ROW, op="c")
    s_[2] = change_frame("c", RELID, KEY_FP, VALUE_FP, None,
                         avro(VALUE_SCHEMA, FULL_ROW))
    with pytest.raises(w.FrameError, match="no key block"):
        decode_all(s_)
    s_ = one_change_stream(FULL_ROW, op="u")
    s_[2] = change_frame("u", RELID, KEY_FP, VALUE_FP, None,
                         avro(VALUE_SCHEMA, FULL_ROW))
    assert decode_all(s_)[2]["key"] is None


def test_delete_without_key_block():
    """A delete may lack the key block although the relation has a key.

    doc/protocol.md: under REPLICA IDENTITY NOTHING a DELETE logs no old
    row, so it arrives with an absent key block; its key fingerprint is
    still the relation's.  It decodes with key None.
    """
    s_ = one_change_stream(FULL_ROW, op="d")
    s_[2] = change_frame("d", RELID, KEY_FP, VALUE_FP, None,
                         avro(VALUE_SCHEMA, FULL_ROW))
    out = decode_all(s_)
    assert out[2]["op"] == "d" and out[2]["key"] is None
    assert out[2]["value"]["id"] == 1
    assert out[2]["value"]["note"] == FULL_ROW["note"]
    # the fingerprints are still checked: the key one is the relation's
    s_[2] = change_frame("d", RELID, 0, VALUE_FP, None,
                         avro(VALUE_SCHEMA, FULL_ROW))
    with pytest.raises(w.FrameError, match="fingerprints"):
        decode_all(s_)
    # and a key block that is there must still be valid
    s_[2] = change_frame("d", RELID, KEY_FP, VALUE_FP, b"\x01",
                         avro(VALUE_SCHEMA, FULL_ROW))
    with pytest.raises(w.FrameError):
        decode_all(s_)


NOKEY_SCHEMA = {"type": "record", "name": "Value",
                "namespace": "wal2avro.public.log",
                "fields": [{"name": "msg", "type": "string"}]}

ENVELOPE_SCHEMA = {
    "type": "record", "name": "Envelope", "namespace": "wal2avro.public.e",
    "fields": [
        {"name": "after", "type": ["null", NOKEY_SCHEMA], "default": None},
        {"name": "source", "type": {"type": "record", "name": "Source",
                                    "namespace": "wal2avro",
                                    "fields": [{"name": "lsn",
                                                "type": "long"}]}},
        {"name": "op", "type": "string"},
    ],
}


def test_envelope_op_must_match_frame():
    env_fp = fp_of(ENVELOPE_SCHEMA)
    datum = {"after": {"msg": "m"}, "source": {"lsn": 5}, "op": "c"}

    def stream(op):
        return [begin(),
                schema_frame(9, None, ENVELOPE_SCHEMA, relname="e"),
                change_frame(op, 9, 0, env_fp, None,
                             avro(ENVELOPE_SCHEMA, datum)),
                commit(1)]
    assert decode_all(stream("c"))[2]["value"]["op"] == "c"
    with pytest.raises(w.FrameError, match="value says 'c'"):
        decode_all(stream("u"))


def test_other_frame_kinds():
    t = frame(b"T", b"\x03" + struct.pack(">QH", (1 << 32) | 0xA, 2)
              + struct.pack(">I", 10) + s("public") + s("a")
              + struct.pack(">I", 11) + s("Odd Schema") + s("b\u00e9"))
    assert w.parse_frame(t) == {
        "kind": "truncate", "cascade": True, "restart_identity": True,
        "lsn": "1/A",
        "relations": [{"relid": 10, "schema": "public", "table": "a"},
                      {"relid": 11, "schema": "Odd Schema",
                       "table": "b\u00e9"}]}
    m = frame(b"M", b"\x00" + struct.pack(">Q", 0xFFFFFFFF00000000)
              + s("pfx") + blk(b"hi\n"))
    assert w.parse_frame(m) == {"kind": "message", "transactional": False,
                                "lsn": "FFFFFFFF/0", "prefix": "pfx",
                                "content": b"hi\n"}
    with pytest.raises(w.FrameError, match="unknown flags"):
        w.parse_frame(frame(b"T", b"\x04" + struct.pack(">QH", 1, 0)))
    with pytest.raises(w.FrameError, match="transactional flag"):
        w.parse_frame(frame(b"M", b"\x02" + struct.pack(">Q", 1) + s("p")
                            + blk(b"")))
    with pytest.raises(w.FrameError, match="unknown op"):
        w.parse_frame(change_frame("x", 1, 0, 0, None, b""))
    with pytest.raises(w.FrameError, match="value block is absent"):
        w.parse_frame(change_frame("c", 1, 0, 0, None, None))
    with pytest.raises(w.FrameError, match="not valid UTF-8"):
        w.parse_frame(frame(b"M", b"\x01" + struct.pack(">Q", 1)
                            + struct.pack(">I", 1) + b"\xff" + blk(b"")))


def test_format_lsn():
    assert w.format_lsn(0) == "0/0"
    assert w.format_lsn(0x16B3748) == "0/16B3748"
    assert w.format_lsn((0xAB << 32) | 0xCD) == "AB/CD"
    assert w.parse_lsn("AB/CD") == (0xAB << 32) | 0xCD


# ---------------------------------------------------------------------------
# Fingerprint and schema checks
# ---------------------------------------------------------------------------

def test_wrong_value_fingerprint_is_refused():
    frames = one_change_stream(FULL_ROW)
    frames[1] = schema_frame(RELID, KEY_SCHEMA, VALUE_SCHEMA, ("id", "Code-x"),
                             value_fp=VALUE_FP ^ 1)
    with pytest.raises(w.FrameError, match="fingerprint"):
        decode_all(frames)


def test_byte_swapped_fingerprint_is_refused():
    # What a plugin writing the long little-endian would send.
    swapped = int.from_bytes(struct.pack("<Q", KEY_FP), "big")
    assert swapped != KEY_FP
    frames = one_change_stream(FULL_ROW)
    frames[1] = schema_frame(RELID, KEY_SCHEMA, VALUE_SCHEMA, ("id", "Code-x"),
                             key_fp=swapped)
    with pytest.raises(w.FrameError, match="key schema .* fingerprint"):
        decode_all(frames)


def test_key_columns_must_match_key_record():
    frames = one_change_stream(FULL_ROW)
    frames[1] = schema_frame(RELID, KEY_SCHEMA, VALUE_SCHEMA, ("id",))
    with pytest.raises(w.FrameError, match="key columns"):
        decode_all(frames)


def test_change_must_use_latest_schema():
    frames = one_change_stream(FULL_ROW)
    frames[2] = change_frame("c", RELID, KEY_FP, VALUE_FP ^ 2,
                             avro(KEY_SCHEMA, {"id": 1, "Code_x": "k"}),
                             avro(VALUE_SCHEMA, FULL_ROW))
    with pytest.raises(w.FrameError, match="last SCHEMA"):
        decode_all(frames)
    with pytest.raises(w.FrameError, match="before any SCHEMA"):
        decode_all([frames[0], frames[2], frames[3]])


def test_invalid_schema_json_is_refused():
    body = struct.pack(">IQQ", 1, 0, 0) + s("p") + s("t") + s("x")
    body += struct.pack(">H", 0) + s("") + s('{"type": "record"')
    with pytest.raises(w.FrameError, match="not valid JSON"):
        w.Decoder(check_order=False).feed(frame(b"S", body))


# ---------------------------------------------------------------------------
# Splitting streams
# ---------------------------------------------------------------------------

def test_newline_separated_split_with_newlines_in_payloads():
    frames = one_change_stream(FULL_ROW)
    # A 10-byte body: its length field itself holds a 0x0A byte.
    # A transactional message at LSN 0/A whose content has 10 bytes: the
    # LSN and both length fields hold 0x0A bytes.
    frames.insert(3, frame(b"M", b"\x01" + struct.pack(">Q", 10)
                           + s("") + blk(b"0123456789")))
    assert w.parse_frame(frames[3])["lsn"] == "0/A"
    assert any(b"\n" in f for f in frames)
    capture = b"".join(f + b"\n" for f in frames)
    assert w.split_stream(capture, newline_separated=True) == frames
    assert w.split_stream(b"".join(frames)) == frames
    assert w.split_stream(b"") == []
    # Without the newline flag the capture is refused at the first newline.
    with pytest.raises(w.FrameError, match="bad magic") as e:
        w.split_stream(capture)
    assert e.value.offset == len(frames[0])


def test_missing_or_wrong_newline():
    frames = one_change_stream(FULL_ROW)
    capture = b"".join(f + b"\n" for f in frames)
    with pytest.raises(w.FrameError, match="missing newline"):
        w.split_stream(capture[:-1], newline_separated=True)
    bad = frames[0] + b"\r" + frames[1] + b"\n"
    with pytest.raises(w.FrameError, match="expected a newline") as e:
        w.split_stream(bad, newline_separated=True)
    assert e.value.offset == len(frames[0])
    with pytest.raises(w.FrameError, match="bad magic"):
        w.split_stream(frames[0] + b"\n\n" + frames[1] + b"\n",
                       newline_separated=True)


def test_every_truncation_is_an_error():
    frames = one_change_stream(FULL_ROW)
    raw = b"".join(frames)
    bounds = {0}
    pos = 0
    for f in frames:
        pos += len(f)
        bounds.add(pos)
    for cut in range(len(raw)):
        if cut in bounds:
            assert len(w.split_stream(raw[:cut])) == \
                sorted(bounds).index(cut)
        else:
            with pytest.raises(w.FrameError, match="truncated"):
                w.split_stream(raw[:cut])
    capture = b"".join(f + b"\n" for f in frames)
    good = {0}
    pos = 0
    for f in frames:
        pos += len(f) + 1
        good.add(pos)
    for cut in range(len(capture)):
        if cut not in good:
            with pytest.raises(w.FrameError, match="truncated|missing"):
                w.split_stream(capture[:cut], newline_separated=True)
    # parse_frame on a cut frame, and a body cut short inside its length
    f = frames[2]
    for cut in range(len(f)):
        with pytest.raises(w.FrameError):
            w.parse_frame(f[:cut])
    short = f[:6] + struct.pack(">I", len(f) - 11) + f[10:-1]
    with pytest.raises(w.FrameError, match="truncated change frame"):
        w.parse_frame(short)


@pytest.mark.parametrize("bad,match", [
    (frame(b"B", b"\0" * 20, magic=b"W2B"), "bad magic"),
    (frame(b"B", b"\0" * 20, version=2), "unknown protocol version 2"),
    (frame(b"B", b"\0" * 20, flags=1), "unknown header flags 0x01"),
    (frame(b"X", b"\0" * 20), "unknown frame kind"),
    (frame(b"B", b"", length=0x40000000), "exceeds the maximum"),
])
def test_bad_headers(bad, match):
    good = begin()
    with pytest.raises(w.FrameError, match=match) as e:
        w.split_stream(good + bad)
    assert e.value.offset == len(good)
    with pytest.raises(w.FrameError, match=match):
        w.parse_frame(bad)


def test_trailing_bytes_in_frame_body():
    with pytest.raises(w.FrameError, match="1 trailing bytes after the body"):
        w.parse_frame(frame(b"B", struct.pack(">IQq", 1, 2, 3) + b"\0"))
    with pytest.raises(w.FrameError, match="header says"):
        w.parse_frame(begin() + b"\0")


# ---------------------------------------------------------------------------
# Bad Avro in a block
# ---------------------------------------------------------------------------

def bad_value(value_bytes, **kw):
    return decode_all(one_change_stream(None, value_bytes=value_bytes), **kw)


def test_trailing_bytes_in_avro_block():
    good = avro(VALUE_SCHEMA, FULL_ROW)
    with pytest.raises(w.FrameError, match="1 trailing bytes after the datum"):
        bad_value(good + b"\0")
    # fastavro's own end check too, without the structural pass
    with pytest.raises(w.FrameError, match="2 trailing bytes"):
        bad_value(good + b"\0\0", strict_avro=False)
    with pytest.raises(w.FrameError, match="trailing bytes"):
        decode_all(one_change_stream(
            FULL_ROW, key_bytes=avro(KEY_SCHEMA, {"id": 1, "Code_x": "k"})
            + b"\n"))


def test_truncated_avro_block():
    good = avro(VALUE_SCHEMA, FULL_ROW)
    for cut in range(len(good)):
        with pytest.raises(w.FrameError):
            bad_value(good[:cut])


def test_lenient_fastavro_cases_are_caught():
    # The union index of the first field zigzag-encoded as -1: fastavro
    # alone would take the last branch.
    nulls = avro(VALUE_SCHEMA, NULL_ROW)
    assert nulls == b"\0" * len(VALUE_SCHEMA["fields"])
    with pytest.raises(w.FrameError, match=r"\$\.id: union index -1"):
        bad_value(b"\x01" + nulls[1:])
    with pytest.raises(w.FrameError, match=r"\$\.id: union index 2"):
        bad_value(b"\x04" + nulls[1:])
    # color: enum index 3 of 3 symbols
    i = [f["name"] for f in VALUE_SCHEMA["fields"]].index("color")
    with pytest.raises(w.FrameError, match=r"\$\.color: enum index 3"):
        bad_value(nulls[:i] + b"\x02\x06" + nulls[i + 1:])
    # a non-minimal varint: 0 written as 0x80 0x00
    with pytest.raises(w.FrameError, match="not minimally encoded"):
        bad_value(b"\x80\x00" + nulls[1:])
    # dims.w: an int beyond 32 bits
    i = [f["name"] for f in VALUE_SCHEMA["fields"]].index("dims")
    big = b"\xfe\xff\xff\xff\x1f"   # zigzag of 2**32 - 1
    with pytest.raises(w.FrameError, match=r"\$\.dims\.w: int value"):
        bad_value(nulls[:i] + b"\x02" + big + struct.pack("<d", 1.0)
                  + nulls[i + 1:])
    # a decimal(10,2) with 11 digits
    i = [f["name"] for f in VALUE_SCHEMA["fields"]].index("price")
    with pytest.raises(w.FrameError, match="more than its precision 10"):
        bad_value(nulls[:i] + b"\x02" + (10**10).to_bytes(5, "big")
                  + nulls[i + 1:])
    # invalid UTF-8 in a string
    i = [f["name"] for f in VALUE_SCHEMA["fields"]].index("note")
    with pytest.raises(w.FrameError, match=r"\$\.note: string is not valid"):
        bad_value(nulls[:i] + b"\x02\x02\xff" + nulls[i + 1:])


def test_boolean_byte_must_be_0_or_1():
    schema = {"type": "record", "name": "B", "fields": [
        {"name": "flag", "type": "boolean"}]}
    a = w.AvroSchema(json.dumps(schema), "test")
    assert a.decode(b"\x01") == {"flag": True}
    with pytest.raises(w.AvroDataError, match="boolean byte is 2"):
        a.decode(b"\x02")
    assert a.decode(b"\x02", strict=False) == {"flag": True}


def test_array_blocks_with_byte_sizes():
    schema = {"type": "array", "items": "long"}
    a = w.AvroSchema(json.dumps(schema), "test")
    # two blocks, the second in the negative-count form with its byte size
    data = b"\x02\x02" + b"\x03\x04\x04\x06" + b"\x00"
    assert a.decode(data) == [1, 2, 3]
    with pytest.raises(w.AvroDataError, match="block says 3 bytes"):
        a.decode(b"\x03\x06\x04\x06\x00")


def test_time_out_of_range():
    with pytest.raises(w.FrameError, match="outside a day"):
        decode_all(one_change_stream(row(tod=-1)))


# ---------------------------------------------------------------------------
# Transaction structure
# ---------------------------------------------------------------------------

def test_order_checks():
    frames = one_change_stream(FULL_ROW)
    with pytest.raises(w.FrameError, match="COMMIT counts 2"):
        decode_all(frames[:3] + [commit(2)])
    with pytest.raises(w.FrameError, match="differs from BEGIN"):
        decode_all(frames[:3] + [commit(1, commit_lsn=5)])
    with pytest.raises(w.FrameError, match="end LSN"):
        decode_all(frames[:3] + [commit(1, end_lsn=0x16B3748)])
    with pytest.raises(w.FrameError, match="SCHEMA frame outside"):
        decode_all(frames[1:])
    with pytest.raises(w.FrameError, match="inside the open transaction"):
        decode_all([begin()] + frames)
    with pytest.raises(w.FrameError, match="no COMMIT"):
        decode_all(frames[:3])
    ntmsg = frame(b"M", b"\x00" + struct.pack(">Q", 1) + s("p") + blk(b"x"))
    txmsg = frame(b"M", b"\x01" + struct.pack(">Q", 1) + s("p") + blk(b"x"))
    decode_all([ntmsg] + frames + [ntmsg])
    decode_all(frames[:3] + [txmsg] + frames[3:])
    with pytest.raises(w.FrameError, match="non-transactional MESSAGE"):
        decode_all(frames[:3] + [ntmsg] + frames[3:])
    with pytest.raises(w.FrameError, match="MESSAGE frame outside"):
        decode_all([txmsg])
    # Without the order checks, lone frames decode.
    d = w.Decoder(check_order=False)
    d.feed(frames[1])
    assert d.feed(frames[2])["value"]["id"] == 1
    d.finish()


# ---------------------------------------------------------------------------
# The command line
# ---------------------------------------------------------------------------

SCRIPT = os.path.join(TOOLS, "w2a_frames.py")


def run_cli(args, stdin=b""):
    return subprocess.run([sys.executable, SCRIPT] + args, input=stdin,
                          capture_output=True, timeout=60)


def test_cli_recvlogical(tmp_path):
    frames = one_change_stream(FULL_ROW)
    cap = tmp_path / "cap.bin"
    cap.write_bytes(b"".join(f + b"\n" for f in frames))
    r = run_cli(["--recvlogical", str(cap)])
    assert r.returncode == 0, r.stderr
    lines = [json.loads(x) for x in r.stdout.decode().splitlines()]
    assert [x["kind"] for x in lines] == ["begin", "schema", "change",
                                          "commit"]
    assert lines[1]["value_schema"] == VALUE_SCHEMA
    assert lines[1]["key_schema"] == KEY_SCHEMA
    assert lines[2]["value"]["price"] == "-12345678.90"
    assert list(lines[2]["value"]) == list(NULL_ROW)
    # stdin, and --values-only
    r = run_cli(["--recvlogical", "-", "--values-only"], cap.read_bytes())
    assert r.returncode == 0, r.stderr
    (only,) = [json.loads(x) for x in r.stdout.decode().splitlines()]
    assert list(only) == ["op", "schema", "table", "key", "value"]
    assert only["key"] == {"id": 1, "Code_x": "k"}


def test_cli_hex_and_raw():
    frames = one_change_stream(FULL_ROW)
    text = "".join("\\x" + f.hex() + "\n" for f in frames) + "\n"
    r = run_cli(["--hex"], text.encode())
    assert r.returncode == 0, r.stderr
    hex_out = r.stdout
    r = run_cli([], b"".join(frames))
    assert r.returncode == 0, r.stderr
    assert r.stdout == hex_out
    assert len(hex_out.splitlines()) == 4


def test_cli_errors():
    frames = one_change_stream(FULL_ROW)
    r = run_cli(["--recvlogical", "-"], b"".join(frames))
    assert r.returncode == 1
    assert r.stderr.startswith(b"w2a_frames: error: expected a newline")
    r = run_cli(["--hex"], b"\\x57zz\n")
    assert r.returncode == 1 and b"line 1" in r.stderr
    bad = one_change_stream(None, value_bytes=b"\x01")
    r = run_cli(["--raw", "-"], b"".join(bad))
    assert r.returncode == 1
    assert b"frame 3 (change" in r.stderr
    # the frames before the error were printed
    assert len(r.stdout.splitlines()) == 2
    r = run_cli([], b"".join(frames[:3]))
    assert r.returncode == 1 and b"no COMMIT" in r.stderr
    r = run_cli(["--partial"], b"".join(frames[:3]))
    assert r.returncode == 0
    r = run_cli(["--recvlogical", "/nonexistent/x"])
    assert r.returncode == 1 and b"No such file" in r.stderr
