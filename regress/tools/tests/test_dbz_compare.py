"""regress/tools/tests/test_dbz_compare.py -- the Debezium capture checker

Runs on data/dbz_orders.jsonl: seven real records of Debezium 3.6.1's
public.orders topic (snapshot reads, an update, a primary key change as
delete + tombstone + create) from regress/tools/dbz-capture.sh, and on
small made-up records for the corner cases.
"""

import copy
import json
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import dbz_compare  # noqa: E402
from dbz_compare import compare  # noqa: E402

DATA = os.path.join(os.path.dirname(__file__), "data", "dbz_orders.jsonl")


@pytest.fixture
def orders():
    with open(DATA) as f:
        return [json.loads(line) for line in f]


def rec(offset, payload, topic="dbz.public.t", key=None, headers=None):
    return {"topic": topic, "partition": 0, "offset": offset,
            "key": key if key is not None else {"payload": {"id": offset}},
            "value": {"schema": {"name": "dbz.public.t.Envelope"}, "payload": payload},
            "headers": headers or []}


def test_same_capture_passes(orders):
    c = compare(orders, copy.deepcopy(orders))
    assert (c.ndiffs, c.diffs) == (0, [])


def test_changed_field_is_reported_with_topic_offset_path(orders):
    act = copy.deepcopy(orders)
    act[3]["value"]["payload"]["after"]["status"] = "PAID"
    c = compare(orders, act)
    assert c.ndiffs == 1
    assert c.diffs == ['dbz.public.orders[0]@3 value.payload.after.status: expected "paid", actual "PAID"']


def test_changed_schema_is_reported(orders):
    act = copy.deepcopy(orders)
    act[0]["key"]["schema"]["fields"][0]["type"] = "int64"
    c = compare(orders, act)
    assert c.diffs == ['dbz.public.orders[0]@0 key.schema.fields[0].type: expected "int32", actual "int64"']


def test_processing_timestamps_are_allowed_but_counted(orders):
    act = copy.deepcopy(orders)
    for r in act:
        if r["value"]:
            r["value"]["payload"]["ts_ms"] += 1000
            r["value"]["payload"]["source"]["version"] = "0.9.0"
    c = compare(orders, act)
    assert c.ndiffs == 0
    assert c.allowed["value.payload.ts_ms"] == 6
    assert c.allowed["value.payload.source.version"] == 6


def test_allowed_field_must_keep_its_type_and_presence(orders):
    act = copy.deepcopy(orders)
    act[0]["value"]["payload"]["ts_ms"] = str(act[0]["value"]["payload"]["ts_ms"])
    del act[1]["value"]["payload"]["ts_us"]
    c = compare(orders, act)
    assert c.ndiffs == 2
    assert "@0 value.payload.ts_ms: expected " in c.diffs[0]
    assert c.diffs[1].startswith("dbz.public.orders[0]@1 value.payload.ts_us: expected ")
    assert c.diffs[1].endswith("actual (absent)")


def test_source_commit_time_is_not_allowed_by_default(orders):
    act = copy.deepcopy(orders)
    act[3]["value"]["payload"]["source"]["ts_ms"] += 1
    assert compare(orders, act).ndiffs == 1
    assert compare(orders, act, allow=["value.payload.source.ts_*"]).ndiffs == 0


def test_json_types_are_strict():
    e = [rec(0, {"a": 1, "b": True, "c": None})]
    a = [rec(0, {"a": 1.0, "b": 1, "c": None})]
    c = compare(e, a)
    assert c.diffs == ["dbz.public.t[0]@0 value.payload.a: expected 1, actual 1.0",
                       "dbz.public.t[0]@0 value.payload.b: expected true, actual 1"]


def test_extra_and_missing_fields_and_array_lengths():
    e = [rec(0, {"a": [1, 2], "b": 1})]
    a = [rec(0, {"a": [1], "c": 2})]
    c = compare(e, a)
    assert c.diffs == ["dbz.public.t[0]@0 value.payload.a[1]: expected 2, actual (absent)",
                       "dbz.public.t[0]@0 value.payload.b: expected 1, actual (absent)",
                       "dbz.public.t[0]@0 value.payload.c: expected (absent), actual 2"]


def test_tombstone_against_record():
    e = [rec(0, {"op": "d"}), dict(rec(1, None), value=None)]
    a = [rec(0, {"op": "d"}), rec(1, {"op": "d"})]
    c = compare(e, a)
    assert c.diffs == ['dbz.public.t[0]@1 value: expected null, actual {"payload": {"op": "d"}, "schema": {"name": "dbz.public.t.Envelope"}}']


def test_missing_and_extra_records_and_topics():
    e = [rec(0, {}), rec(1, {}), rec(0, {}, topic="dbz.public.u")]
    a = [rec(0, {}), rec(0, {}, topic="dbz.public.v")]
    c = compare(e, a)
    assert c.diffs == ['dbz.public.t[0]@1 (record 1): expected "a record", actual (absent)',
                       'dbz.public.u[0] (topic): expected "1 records", actual "0 records"',
                       'dbz.public.v[0] (topic): expected "0 records", actual "1 records"']


def test_offsets_may_differ_and_are_shown():
    e = [rec(0, {"x": 1})]
    a = [rec(5, {"x": 2}, key={"payload": {"id": 0}})]
    assert compare(e, a).diffs == ["dbz.public.t[0]@0/5 value.payload.x: expected 1, actual 2"]


def test_headers_by_name(orders):
    act = copy.deepcopy(orders)
    hdr = act[4]["headers"]
    assert hdr[0][0] == "__debezium.newkey"
    hdr[0][1] = '{"id":21}'
    for r in act:     # a run id per engine run: allowed by default
        r["headers"] = [[k, "other" if k.endswith("runId") else v] for k, v in r["headers"]]
    c = compare(orders, act)
    assert c.diffs == ['dbz.public.orders[0]@4 headers.__debezium.newkey: expected "{\\"id\\":20}", actual "{\\"id\\":21}"']
    del act[4]["headers"][0]
    assert "headers[0] name" in compare(orders, act).diffs[0]


def test_prefix_mapping(orders):
    act = copy.deepcopy(orders)
    for r in act:
        r["topic"] = r["topic"].replace("dbz.", "w2a.", 1)
        for part in (r["key"], r["value"]):
            if part:
                s = json.dumps(part).replace('"dbz.public.', '"w2a.public.')
                part.clear()
                part.update(json.loads(s))
        if r["value"]:
            r["value"]["payload"]["source"]["name"] = "w2a"
    assert compare(orders, act).ndiffs > 0
    assert compare(orders, act, prefix="dbz=w2a").ndiffs == 0


def test_by_key_pairs_records_of_a_key():
    e = [rec(0, {"v": 1}, key={"payload": {"id": 1}}), rec(1, {"v": 2}, key={"payload": {"id": 2}})]
    a = [dict(rec(0, {"v": 2}, key={"payload": {"id": 2}})), dict(rec(0, {"v": 1}, key={"payload": {"id": 1}}), partition=1)]
    assert compare(e, a).ndiffs > 0
    assert compare(e, a, by_key=True).ndiffs == 0


def test_main_exit_status_and_report(tmp_path, orders, capsys):
    exp = tmp_path / "e.jsonl"
    act = tmp_path / "a.jsonl"
    exp.write_text("".join(json.dumps(r) + "\n" for r in orders))
    mutated = copy.deepcopy(orders)
    mutated[0]["value"]["payload"]["after"]["total"] = "AAA="
    act.write_text("".join(json.dumps(r) + "\n" for r in mutated))
    assert dbz_compare.main([str(exp), str(exp)]) == 0
    assert dbz_compare.main([str(exp), str(act), "--show-allowed"]) == 1
    out = capsys.readouterr().out
    assert 'dbz.public.orders[0]@0 value.payload.after.total: expected "A+g=", actual "AAA="' in out
    assert "7 expected records, 7 actual, 1 differences" in out
    assert dbz_compare.main([str(exp), str(act), "--allow", "value.payload.after.total"]) == 0
    with pytest.raises(SystemExit):
        dbz_compare.main([str(exp), str(act), "--prefix", "nope"])


def test_prefix_maps_the_logical_name_header(orders):
    act = copy.deepcopy(orders)
    for r in act:
        r["headers"] = [[k, "w2a" if k.endswith("connectorLogicalName") else v] for k, v in r["headers"]]
    assert compare(orders, act).ndiffs == 7     # each of the 7 records has it
    assert compare(orders, act, prefix="dbz=w2a").ndiffs == 0


def test_list(orders):
    assert dbz_compare.listing(orders)[3:6] == [
        'dbz.public.orders 0 3 op=u {"id": 1}',
        'dbz.public.orders 0 4 op=d {"id": 2}',
        'dbz.public.orders 0 5 tombstone {"id": 2}']
