"""regress/tools/tests/test_dbz_txmeta.py -- the transaction topic checker

Runs on regress/workloads/debezium_types.capture.jsonl, Debezium 3.6.1's
own capture with provide.transaction.metadata (17 transactions on
dbz.transaction): it must pass as it is, and each mutation a relay could
get wrong (a BEGIN id, a count, a lost END, BEGIN with counts) must be
reported.  Then mask and drop-truncates.
"""

import copy
import json
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import dbz_txmeta  # noqa: E402

DATA = os.path.join(os.path.dirname(__file__), "..", "..", "workloads",
                    "debezium_types.capture.jsonl")


@pytest.fixture
def recs():
    # the stored capture keeps each key and value as its JSON text
    out = []
    with open(DATA) as f:
        for line in f:
            r = json.loads(line)
            for part in ("key", "value"):
                if isinstance(r.get(part), str):
                    r[part] = json.loads(r[part])
            out.append(r)
    return out


def txs(recs):
    return dbz_txmeta.tx_records(recs, "dbz")


def test_debezium_passes(recs, capsys):
    assert dbz_txmeta.check(recs, "dbz", 17) == 0
    assert "17 transactions" in capsys.readouterr().out


def test_too_few(recs, capsys):
    assert dbz_txmeta.check(recs, "dbz", 18) == 1
    assert "17 BEGIN/END pairs" in capsys.readouterr().out


def test_begin_id_is_first_event(recs, capsys):
    b = txs(recs)[0]
    for part in ("key", "value"):
        b[part]["payload"]["id"] = "748:22431600"     # before its first event
    assert dbz_txmeta.check(recs, "dbz", 1) == 1
    assert "first event at LSN 22431688" in capsys.readouterr().out
    for part in ("key", "value"):
        b[part]["payload"]["id"] = "748:22432368"     # END's own
    assert dbz_txmeta.check(recs, "dbz", 1) == 1
    assert "BEGIN 748:22432368, END 748:22432368" in capsys.readouterr().out


def test_key_and_value_ids(recs, capsys):
    txs(recs)[1]["key"]["payload"]["id"] = "748:1"
    assert dbz_txmeta.check(recs, "dbz", 1) == 1
    assert "key and value ids differ" in capsys.readouterr().out


def test_counts(recs, capsys):
    e = txs(recs)[1]["value"]["payload"]
    e["data_collections"][0]["event_count"] = 2
    e["event_count"] = 2
    assert dbz_txmeta.check(recs, "dbz", 1) == 1
    assert "public.types counted 2, 1 change records" in capsys.readouterr().out


def test_event_count_sum(recs, capsys):
    txs(recs)[1]["value"]["payload"]["event_count"] = 5
    assert dbz_txmeta.check(recs, "dbz", 1) == 1
    assert "event_count 5" in capsys.readouterr().out


def test_lost_end(recs, capsys):
    end = txs(recs)[1]
    recs.remove(end)
    assert dbz_txmeta.check(recs, "dbz", 1) == 1
    assert "not pairs" in capsys.readouterr().out


def test_begin_with_counts(recs, capsys):
    txs(recs)[0]["value"]["payload"]["event_count"] = 1
    assert dbz_txmeta.check(recs, "dbz", 1) == 1
    assert "BEGIN with counts" in capsys.readouterr().out


def test_unlisted_table(recs, capsys):
    e = txs(recs)[1]["value"]["payload"]
    e["data_collections"][0]["data_collection"] = "public.other"
    assert dbz_txmeta.check(recs, "dbz", 1) == 1
    out = capsys.readouterr().out
    assert "tables ['public.types'] not listed" in out


def test_mask(recs):
    m = dbz_txmeta.mask(copy.deepcopy(recs), "dbz")
    t = txs(m)
    assert t[0]["key"]["payload"]["id"] == "tx1:BEGIN"
    assert t[1]["value"]["payload"]["id"] == "tx1:END"
    cols = [c for r in t for c in (r["value"]["payload"]["data_collections"] or [])]
    assert {"data_collection": dbz_txmeta.MSG + "*", "event_count": 1} in cols
    # the other records are untouched
    assert [r for r in m if r["topic"] != "dbz.transaction"] == \
        [r for r in recs if r["topic"] != "dbz.transaction"]


def test_drop_truncates(recs):
    cut = dbz_txmeta.drop_truncates(copy.deepcopy(recs), "dbz")
    assert len(txs(cut)) == 32          # transaction 762 was the truncate alone
    ids = [r["value"]["payload"]["id"] for r in txs(cut)]
    assert not any(i.startswith("762:") for i in ids)
    assert not any(isinstance(r["value"], dict) and r["value"]["payload"].get("op") == "t"
                   for r in cut)
    assert dbz_txmeta.check(cut, "dbz", 16) == 0
