#!/usr/bin/env python3
"""dbz_txmeta.py -- Debezium's transaction topic in a JSONL capture

  dbz_txmeta.py check CAPTURE.jsonl PREFIX
      The records of PREFIX.transaction pair up, in offset order: BEGIN then
      END, key id = value id, both ids "<txId>:<lsn>" with the same txId,
      END's LSN past BEGIN's; BEGIN's LSN is the first event's of the
      transaction (source.txId, source.lsn of the change records on
      PREFIX.<schema>.<table>, and their transaction.id is
      "<txId>:<lsn>"); event_count is the sum of data_collections, and each
      table's count is its change records of that txId (tombstones not
      counted).  At least MIN (--min, default 1) pairs.  Exit 1 on a
      violation, printing each.

  dbz_txmeta.py mask IN.jsonl OUT.jsonl PREFIX
      For a field-by-field comparison (dbz_compare.py): the ids of
      PREFIX.transaction's records, which differ from run to run, become
      "tx<N>:BEGIN" / "tx<N>:END" (N counting the BEGINs); a logical
      message's data collection, named after a Java object's identity hash
      (its place in Debezium's HashMap changes from run to run with it),
      becomes "...LogicalDecodingMessageId@*" and moves after the tables,
      whose order is kept.

  dbz_txmeta.py drop-truncates IN.jsonl OUT.jsonl PREFIX
      Debezium's capture without its truncate events (the relay does not
      write them yet): the events leave the END counts of their
      transactions, and a transaction left with none loses BEGIN and END.
      Writes the other records unchanged.

Records as regress/tools/kafka_dump.py writes them; keys and values with
or without the JsonConverter's {"schema","payload"} wrapper.
"""
import argparse
import json
import re
import sys

MSG = "io.debezium.connector.postgresql.LogicalDecodingMessageMonitor$LogicalDecodingMessageId@"


def load(path):
    with open(path) as f:
        return [json.loads(l) for l in f if l.strip()]


def save(path, recs):
    with open(path, "w") as f:
        f.writelines(json.dumps(r) + "\n" for r in recs)


def payload(v):
    if isinstance(v, dict) and "payload" in v and set(v) <= {"schema", "payload"}:
        return v["payload"]
    return v


def tx_records(recs, prefix):
    return sorted((r for r in recs if r["topic"] == prefix + ".transaction"),
                  key=lambda r: (r["partition"], r["offset"]))


def split_id(s):
    m = re.fullmatch(r"(\d+):(\d+)", s or "")
    return (int(m.group(1)), int(m.group(2))) if m else None


def check(recs, prefix, minimum):
    bad = []
    events = {}
    for r in recs:
        if not r["topic"].startswith(prefix + ".") or r["topic"] == prefix + ".transaction":
            continue
        v = payload(r["value"])
        if not isinstance(v, dict) or v.get("op") not in ("c", "u", "d", "t"):
            continue
        src, tx = v["source"], v.get("transaction")
        if tx is None:
            continue
        if tx["id"] != "%s:%s" % (src["txId"], src["lsn"]):
            bad.append("%s@%s: transaction.id %s, source %s:%s" %
                       (r["topic"], r["offset"], tx["id"], src["txId"], src["lsn"]))
        table = "%s.%s" % (src["schema"], src["table"])
        events.setdefault(src["txId"], []).append((src["lsn"], tx["total_order"], table))
    txs = tx_records(recs, prefix)
    if len(txs) % 2:
        bad.append("%d records on %s.transaction: not pairs" % (len(txs), prefix))
    pairs = 0
    for b, e in zip(txs[0::2], txs[1::2]):
        bk, bv, ek, ev = (payload(b["key"]), payload(b["value"]),
                          payload(e["key"]), payload(e["value"]))
        where = "%s.transaction@%s" % (prefix, b["offset"])
        if bv["status"] != "BEGIN" or ev["status"] != "END":
            bad.append("%s: %s then %s" % (where, bv["status"], ev["status"]))
            continue
        if bk["id"] != bv["id"] or ek["id"] != ev["id"]:
            bad.append("%s: key and value ids differ" % where)
        bi, ei = split_id(bv["id"]), split_id(ev["id"])
        if bi is None or ei is None or bi[0] != ei[0] or ei[1] <= bi[1]:
            bad.append("%s: BEGIN %s, END %s" % (where, bv["id"], ev["id"]))
            continue
        if bv["event_count"] is not None or bv["data_collections"] is not None:
            bad.append("%s: BEGIN with counts" % where)
        if bv["ts_ms"] != ev["ts_ms"]:
            bad.append("%s: ts_ms %s, then %s" % (where, bv["ts_ms"], ev["ts_ms"]))
        cols = ev["data_collections"] or []
        if ev["event_count"] != sum(c["event_count"] for c in cols):
            bad.append("%s: event_count %s, collections %s" % (where, ev["event_count"], cols))
        mine = sorted(events.get(bi[0], []), key=lambda x: x[1])
        if mine and mine[0][0] != bi[1]:
            bad.append("%s: BEGIN %s, first event at LSN %s" % (where, bv["id"], mine[0][0]))
        for c in cols:
            if c["data_collection"].startswith(MSG):
                continue
            n = sum(1 for x in mine if x[2] == c["data_collection"])
            if n != c["event_count"]:
                bad.append("%s: %s counted %s, %d change records" %
                           (where, c["data_collection"], c["event_count"], n))
        tables = {x[2] for x in mine}
        listed = {c["data_collection"] for c in cols}
        if not tables <= listed:
            bad.append("%s: tables %s not listed" % (where, sorted(tables - listed)))
        pairs += 1
    if pairs < minimum:
        bad.append("%d BEGIN/END pairs on %s.transaction, want at least %d" % (pairs, prefix, minimum))
    for line in bad:
        print("dbz_txmeta: " + line)
    if not bad:
        print("dbz_txmeta: %s.transaction: %d transactions, each BEGIN and END" % (prefix, pairs))
    return 1 if bad else 0


def set_payload(v, p):
    if isinstance(v, dict) and "payload" in v and set(v) <= {"schema", "payload"}:
        v["payload"] = p
        return v
    return p


def mask(recs, prefix):
    n = 0
    for r in tx_records(recs, prefix):
        k, v = payload(r["key"]), payload(r["value"])
        if v["status"] == "BEGIN":
            n += 1
        k["id"] = v["id"] = "tx%d:%s" % (n, v["status"])
        cols = v.get("data_collections")
        if cols:
            tables = [c for c in cols if not c["data_collection"].startswith(MSG)]
            msgs = [dict(c, data_collection=MSG + "*") for c in cols
                    if c["data_collection"].startswith(MSG)]
            v["data_collections"] = tables + msgs
    return recs


def drop_truncates(recs, prefix):
    gone = {}
    keep = []
    for r in recs:
        v = payload(r["value"])
        if isinstance(v, dict) and v.get("op") == "t":
            src = v["source"]
            key = (src["txId"], "%s.%s" % (src["schema"], src["table"]))
            gone[key] = gone.get(key, 0) + 1
            continue
        keep.append(r)
    drop = set()
    txs = tx_records(keep, prefix)
    for b, e in zip(txs[0::2], txs[1::2]):
        ev = payload(e["value"])
        xid = split_id(ev["id"])[0]
        cols = []
        for c in ev["data_collections"] or []:
            left = c["event_count"] - gone.get((xid, c["data_collection"]), 0)
            if left > 0:
                cols.append(dict(c, event_count=left))
        total = sum(c["event_count"] for c in cols)
        if total == 0:
            drop.update({id(b), id(e)})
        ev["event_count"] = total
        ev["data_collections"] = cols
    return [r for r in keep if id(r) not in drop]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("command", choices=["check", "mask", "drop-truncates"])
    ap.add_argument("files", nargs="+")
    ap.add_argument("--min", type=int, default=1)
    a = ap.parse_args()
    if a.command == "check":
        if len(a.files) != 2:
            ap.error("check CAPTURE PREFIX")
        return check(load(a.files[0]), a.files[1], a.min)
    if len(a.files) != 3:
        ap.error("%s IN OUT PREFIX" % a.command)
    recs = load(a.files[0])
    save(a.files[1], mask(recs, a.files[2]) if a.command == "mask" else
         drop_truncates(recs, a.files[2]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
