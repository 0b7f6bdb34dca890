"""regress/tools/tests/test_test_registry.py -- the test Schema Registry
against Confluent's own Python client and Avro serdes (confluent-kafka), and
against plain HTTP for what a client does not show (error codes, knobs).
"""

import base64
import json
import os
import struct
import sys
import urllib.error
import urllib.request

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from test_registry import CONTENT_TYPE, Registry, backward_fields  # noqa: E402

from confluent_kafka.schema_registry import Schema, SchemaRegistryClient  # noqa: E402
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer  # noqa: E402
from confluent_kafka.schema_registry.error import SchemaRegistryError  # noqa: E402
from confluent_kafka.serialization import MessageField, SerializationContext  # noqa: E402

VALUE = json.dumps({
    "type": "record", "name": "Value", "namespace": "dbz.public.orders",
    "fields": [{"name": "id", "type": "int"},
               {"name": "note", "type": ["null", "string"], "default": None}],
})
VALUE2 = json.dumps({
    "type": "record", "name": "Value", "namespace": "dbz.public.orders",
    "fields": [{"name": "id", "type": "int"},
               {"name": "note", "type": ["null", "string"], "default": None},
               {"name": "qty", "type": "int", "default": 0}],
})
NO_DEFAULT = json.dumps({
    "type": "record", "name": "Value", "namespace": "dbz.public.orders",
    "fields": [{"name": "id", "type": "int"}, {"name": "extra", "type": "int"}],
})


@pytest.fixture
def reg():
    srv = Registry.start()
    yield srv
    srv.stop()


def call(reg, method, path, body=None, auth=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(reg.url + path, data=data, method=method)
    req.add_header("Content-Type", CONTENT_TYPE)
    if auth:
        req.add_header("Authorization", "Basic " + base64.b64encode(auth.encode()).decode())
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, r.headers.get("Content-Type"), json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type"), json.loads(e.read() or b"null")


def client(reg, **conf):
    return SchemaRegistryClient({"url": reg.url, **conf})


def test_serde_round_trip_with_confluent_client(reg):
    c = client(reg)
    ctx = SerializationContext("dbz.public.orders", MessageField.VALUE)
    ser = AvroSerializer(c, VALUE)
    data = ser({"id": 7, "note": "hello"}, ctx)
    # Confluent wire format: magic 0, 4-byte big-endian id, Avro datum
    assert data[0] == 0
    sid = struct.unpack(">I", data[1:5])[0]
    assert sid == 1
    assert data[5:] == b"\x0e\x02\x0ahello"
    # a fresh client (no cache) must fetch the schema by id
    out = AvroDeserializer(client(reg))(data, ctx)
    assert out == {"id": 7, "note": "hello"}
    paths = [e["path"].split("?")[0] for e in call(reg, "GET", "/_admin/log")[2]]
    assert "/subjects/dbz.public.orders-value/versions" in paths
    assert "/schemas/ids/1" in paths


def test_register_same_schema_same_id_new_schema_new_version(reg):
    c = client(reg)
    a = c.register_schema("s-value", Schema(VALUE, "AVRO"))
    # whitespace and key order do not make another schema
    again = json.dumps(json.loads(VALUE), indent=2, sort_keys=True)
    assert c.register_schema("s-value", Schema(again, "AVRO")) == a
    # the same schema in another subject keeps its id
    assert c.register_schema("t-value", Schema(VALUE, "AVRO")) == a
    b = c.register_schema("s-value", Schema(VALUE2, "AVRO"))
    assert b != a
    assert sorted(c.get_subjects()) == ["s-value", "t-value"]
    assert c.get_versions("s-value") == [1, 2]
    latest = c.get_latest_version("s-value")
    assert (latest.version, latest.schema_id) == (2, b)
    v1 = c.get_version("s-value", 1)
    assert json.loads(v1.schema.schema_str) == json.loads(VALUE)
    found = c.lookup_schema("s-value", Schema(VALUE2, "AVRO"))
    assert (found.version, found.schema_id) == (2, b)
    assert json.loads(c.get_schema(b).schema_str) == json.loads(VALUE2)


def test_not_found_codes(reg):
    st, ctype, body = call(reg, "GET", "/subjects/nope/versions")
    assert (st, body["error_code"]) == (404, 40401)
    assert ctype == CONTENT_TYPE
    call(reg, "POST", "/subjects/s/versions", {"schema": VALUE})
    assert call(reg, "GET", "/subjects/s/versions/9")[2]["error_code"] == 40402
    assert call(reg, "GET", "/schemas/ids/42")[2]["error_code"] == 40403
    assert call(reg, "POST", "/subjects/s", {"schema": VALUE2})[2]["error_code"] == 40403
    assert call(reg, "POST", "/subjects/s/versions", {"schema": "{not json"})[0] == 422
    with pytest.raises(SchemaRegistryError) as e:
        client(reg).get_latest_version("nope")
    assert e.value.error_code == 40401


def test_schema_text_endpoints(reg):
    call(reg, "POST", "/subjects/s/versions", {"schema": VALUE})
    for path in ("/schemas/ids/1/schema", "/subjects/s/versions/latest/schema"):
        with urllib.request.urlopen(reg.url + path) as r:
            assert json.loads(r.read()) == json.loads(VALUE)
    assert call(reg, "GET", "/schemas/ids/1")[2] == {"schema": VALUE}


def test_config(reg):
    c = client(reg)
    assert c.get_compatibility() == "BACKWARD"
    st, _, body = call(reg, "GET", "/config/s")
    assert (st, body["error_code"]) == (404, 40408)
    assert call(reg, "GET", "/config/s?defaultToGlobal=true")[2] == {"compatibilityLevel": "BACKWARD"}
    c.set_compatibility("s", "FULL")
    assert c.get_compatibility("s") == "FULL"
    c.set_compatibility(level="NONE")
    assert call(reg, "GET", "/config")[2] == {"compatibilityLevel": "NONE"}
    assert call(reg, "PUT", "/config", {"compatibility": "SIDEWAYS"})[0] == 422


def test_compatibility_stub(reg):
    c = client(reg)
    c.register_schema("s", Schema(VALUE, "AVRO"))
    # "always" by default
    assert c.test_compatibility("s", Schema(NO_DEFAULT, "AVRO")) is True
    call(reg, "POST", "/_admin/compat", {"rule": "backward-fields"})
    assert c.test_compatibility("s", Schema(VALUE2, "AVRO")) is True
    assert c.test_compatibility("s", Schema(NO_DEFAULT, "AVRO")) is False
    with pytest.raises(SchemaRegistryError) as e:
        c.register_schema("s", Schema(NO_DEFAULT, "AVRO"))
    assert e.value.http_status_code == 409
    call(reg, "POST", "/_admin/compat", {"rule": "never"})
    assert c.test_compatibility("s", Schema(VALUE2, "AVRO")) is False
    assert backward_fields(VALUE2, VALUE) and not backward_fields(NO_DEFAULT, VALUE)


def test_knob_fail_next_calls(reg):
    call(reg, "POST", "/_admin/fail", {"count": 2, "status": 503})
    assert call(reg, "GET", "/subjects") [0] == 503
    st, _, body = call(reg, "GET", "/subjects")
    assert (st, body["error_code"]) == (503, 50301)
    assert call(reg, "GET", "/subjects")[0] == 200
    # the real client retries a 5xx: one injected failure is absorbed
    call(reg, "POST", "/_admin/fail", {"count": 1, "status": 500})
    c = client(reg, **{"max.retries": 2, "retries.wait.ms": 10})
    assert c.register_schema("s", Schema(VALUE, "AVRO")) == 1
    statuses = [e["status"] for e in call(reg, "GET", "/_admin/log")[2]]
    assert statuses[-2:] == [500, 200]


def test_knob_conflict(reg):
    call(reg, "POST", "/_admin/conflict", {"subject": "dbz.public.t-value"})
    ser = AvroSerializer(client(reg), VALUE)
    with pytest.raises(Exception) as e:
        ser({"id": 1, "note": None}, SerializationContext("dbz.public.t", MessageField.VALUE))
    assert "409" in str(e.value) or "incompatible" in str(e.value)
    # other subjects are fine
    ser({"id": 1, "note": None}, SerializationContext("dbz.public.u", MessageField.VALUE))


def test_knob_limit(reg):
    call(reg, "POST", "/_admin/limit", {"max_body": len(json.dumps({"schema": VALUE})) + 10})
    assert call(reg, "POST", "/subjects/s/versions", {"schema": VALUE})[0] == 200
    st, _, body = call(reg, "POST", "/subjects/s/versions", {"schema": VALUE2})
    assert (st, body["error_code"]) == (413, 41301)
    with pytest.raises(SchemaRegistryError) as e:
        client(reg).register_schema("s", Schema(VALUE2, "AVRO"))
    assert e.value.http_status_code == 413
    call(reg, "POST", "/_admin/limit", {"max_body": None})
    assert call(reg, "POST", "/subjects/s/versions", {"schema": VALUE2})[0] == 200


def test_knob_basic_auth():
    srv = Registry.start(basic_auth="alice:s3cret")
    try:
        assert call(srv, "GET", "/subjects")[0] == 401
        assert call(srv, "GET", "/subjects", auth="alice:wrong")[0] == 401
        assert call(srv, "GET", "/subjects", auth="alice:s3cret")[0] == 200
        c = SchemaRegistryClient({"url": srv.url, "basic.auth.user.info": "alice:s3cret"})
        assert c.register_schema("s", Schema(VALUE, "AVRO")) == 1
        bad = SchemaRegistryClient({"url": srv.url, "basic.auth.user.info": "alice:nope"})
        with pytest.raises(SchemaRegistryError) as e:
            bad.get_subjects()
        assert e.value.http_status_code == 401
        log = call(srv, "GET", "/_admin/log")[2]
        assert [e["auth"] for e in log][:1] == [False]
    finally:
        srv.stop()


def test_reset_and_delete(reg):
    call(reg, "POST", "/subjects/s/versions", {"schema": VALUE})
    assert call(reg, "DELETE", "/subjects/s")[2] == [1]
    assert call(reg, "GET", "/subjects")[2] == []
    call(reg, "POST", "/_admin/reset")
    assert call(reg, "GET", "/_admin/log")[2] == []
