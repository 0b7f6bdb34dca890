"""Tests of regress/tools/connect_avro.py, the Connect <-> Avro mapping of issue 14.

Every record of a Debezium 3.6.1 capture of regress/workloads/debezium_types.sql
(the fixture regress/workloads/debezium_types.capture.jsonl, or the capture
named by W2A_DBZ_CAPTURE) goes Connect -> Avro -> Connect and must come back
equal to the original, key order included; fastavro must accept every schema
and encode and decode every value.  The fixture is one capture
(`DBZ_DUMP_TEXT=1 DBZ_PREFIX=dbz regress/tools/dbz-capture.sh OUT.jsonl`) with
each key and value kept as the record's exact JSON text (null for none), so
byte-level tests (regress/e2e/0053-connect-json.sh) can use it too.  A few hand-made schemas pin the rules the
capture does not exercise.

Run:  . regress/tools/venv.sh && "$W2A_PYTHON" -m pytest -q regress/pytest/test_connect_avro.py
"""

import json
import os
import subprocess
import sys

import fastavro
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
TOOLS = os.path.join(HERE, "..", "tools")
sys.path.insert(0, TOOLS)

import connect_avro as ca  # noqa: E402

CAPTURE = os.environ.get("W2A_DBZ_CAPTURE") or os.path.join(
    HERE, "..", "workloads", "debezium_types.capture.jsonl")
# hand-written JsonConverter records of what Debezium's capture lacks: maps
# (string and int keys), int8, Connect's Date/Timestamp, a string default,
# optional structs in an array, a bytes default, a struct with doc and version
EXTRA = os.path.join(HERE, "..", "workloads", "connect_json_extra.jsonl")


def halves(paths=(CAPTURE, EXTRA)):
    out = []
    for line in (l for p in paths for l in open(p, encoding="utf-8")):
        r = json.loads(line)
        for part in ("key", "value"):
            rec = r[part]
            if isinstance(rec, str):
                rec = json.loads(rec)
            if rec is not None:
                out.append(pytest.param(rec, id="%s/%d/%s" % (r["topic"], r["offset"], part)))
    return out


@pytest.mark.parametrize("rec", halves())
def test_round_trip(rec):
    schema, value = ca.connect_to_avro(rec["schema"], rec["payload"])
    text = ca.avro_schema_text(schema)
    parsed = json.loads(text)
    fastavro.parse_schema(parsed)                   # fastavro accepts the schema
    data = ca.encode(parsed, value)                 # and encodes the value
    back = ca.raw_decode(parsed, data)              # and decodes it, every byte
    cs, payload = ca.avro_to_connect(parsed, back)
    assert json.dumps({"schema": cs, "payload": payload}) == json.dumps(rec)


def test_capture_has_records():
    assert len(halves((CAPTURE,))) > 50


def schema_of(cs, payload=0):
    return json.loads(ca.avro_schema_text(ca.connect_to_avro(cs, payload)[0]))


def test_int16_is_int_with_connect_type():
    assert schema_of({"type": "int16", "optional": False}) == {"type": "int", "connect.type": "int16"}


def test_decimal_props_in_avrodata_order():
    s = schema_of({"type": "bytes", "optional": False, "name": "org.apache.kafka.connect.data.Decimal",
                   "version": 1, "parameters": {"scale": "2"}}, "AA==")
    assert list(s.items()) == [("type", "bytes"), ("scale", 2), ("precision", 64), ("connect.version", 1),
                               ("connect.parameters", {"scale": "2"}),
                               ("connect.name", "org.apache.kafka.connect.data.Decimal"),
                               ("logicalType", "decimal")]


def test_optional_with_default_puts_the_type_first():
    cs = {"type": "struct", "optional": False, "name": "a.b.R", "fields": [
        {"type": "string", "optional": True, "default": "x", "field": "f"},
        {"type": "string", "optional": True, "field": "g"}]}
    s = json.loads(ca.avro_schema_text(ca.connect_to_avro(cs, {"f": "y", "g": None})[0]))
    assert s["fields"][0] == {"name": "f", "type": [{"type": "string", "connect.default": "x"}, "null"],
                              "default": "x"}
    assert s["fields"][1] == {"name": "g", "type": ["null", "string"], "default": None}


def test_second_use_of_a_record_is_a_name_reference():
    inner = {"type": "struct", "optional": True, "name": "p.s.t.Value", "fields": [
        {"type": "int32", "optional": False, "field": "id"}]}
    cs = {"type": "struct", "optional": False, "name": "p.s.t.Envelope", "fields": [
        dict(inner, field="before"), dict(inner, field="after"),
        {"type": "struct", "optional": False, "name": "other.Src", "fields": [], "field": "source"}]}
    s = json.loads(ca.avro_schema_text(ca.connect_to_avro(cs, {"before": None, "after": {"id": 1},
                                                               "source": {}})[0]))
    assert s["namespace"] == "p.s.t"
    assert "namespace" not in s["fields"][0]["type"][1]          # same namespace: left out
    assert s["fields"][1]["type"] == ["null", "Value"]           # short name reference
    assert s["fields"][2]["type"]["namespace"] == "other"


def test_cli_to_avro():
    out = subprocess.run([sys.executable, os.path.join(TOOLS, "connect_avro.py"), "to-avro"],
                         input=open(CAPTURE, encoding="utf-8").read(), capture_output=True, text=True,
                         check=True).stdout.splitlines()
    assert len(out) == sum(1 for _ in open(CAPTURE, encoding="utf-8"))
    tomb = 0
    for line in out:
        r = json.loads(line)
        if r["value_avro"] is None:
            tomb += 1
            continue
        s = json.loads(r["value_schema"])
        ca.raw_decode(s, bytes.fromhex(r["value_avro"]))
    assert tomb > 0
