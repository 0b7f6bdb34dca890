#!/usr/bin/env python3
"""regress/tools/check_stream.py -- does Kafka hold exactly the committed changes?

Compares what wal2avro-relay put in Kafka (as "wal2avro-relay tail" printed
it: one JSON object per event) with what a reference wal2avro slot decoded
from the same WAL (the plugin's json format, BEGIN/CHANGE/COMMIT lines).

    check_stream.py REF.jsonl KAFKA.jsonl [--kills KILLS] [--select DIR]

Checks, and exits 1 naming the first failures:
  * every committed change is in Kafka (identity: table, txId, change LSN, op);
  * nothing else is (no rolled-back change, nothing invented);
  * per topic, the first copies of the changes come in commit order (so per
    key order holds), and every delete is followed by a tombstone for its key
    (in at least one copy: a relay killed between the two sends both again);
  * duplicates only replay what was not confirmed: with --kills, a file of
    lines "CONFIRMED_LSN topic=high_watermark ..." written right after each
    kill -9, a change whose first copy sits below a kill's high watermark and
    that comes again above it must belong to a transaction ending after that
    kill's confirmed LSN; and everything committed up to a confirmed LSN must
    sit below that kill's high watermark (the slot never ran ahead of Kafka);
  * with --select, DIR/<table>.jsonl holds SELECT row_to_json(t) of every table
    with a key: the state rebuilt from Kafka (last record per key, deletes
    removing it) equals it.
Prints counts (events, duplicates) for the test's log.
"""
import argparse
import collections
import json
import sys
from decimal import Decimal


def parse_lsn(text):
    hi, lo = text.split("/")
    return (int(hi, 16) << 32) | int(lo, 16)


def canon(value):
    """Values as comparable text: numbers exact, whatever their JSON spelling."""
    if isinstance(value, dict):
        return {k: canon(v) for k, v in value.items()}
    if isinstance(value, list):
        return [canon(v) for v in value]
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return str(Decimal(str(value)).normalize())
    if isinstance(value, str):
        try:
            return str(Decimal(value).normalize()) if value.strip() and value.strip()[0] in "-0123456789" else value
        except Exception:
            return value
    return value


def load_ref(path):
    """Changes in commit order, and each transaction's end LSN."""
    changes = []
    txn_end = {}
    current = []
    xid = None
    for line in open(path):
        j = json.loads(line, parse_float=Decimal)
        kind = j["kind"]
        if kind == "begin":
            xid = j["xid"]
            current = []
        elif kind == "change":
            current.append({
                "table": j["table"], "txid": j["value"]["source"]["txId"] if "source" in j["value"] else xid,
                "lsn": parse_lsn(j["lsn"]), "op": j["op"], "key": j["key"],
                "after": j["value"].get("after"),
            })
        elif kind == "commit":
            txn_end[xid] = parse_lsn(j["end_lsn"])
            changes.extend(current)
            current = []
    return changes, txn_end


def load_kafka(path):
    per_topic = collections.defaultdict(list)
    for line in open(path):
        e = json.loads(line, parse_float=Decimal)
        per_topic[e["topic"]].append(e)
    for evs in per_topic.values():
        evs.sort(key=lambda e: (e["partition"], e["offset"]))
    return per_topic


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("ref")
    ap.add_argument("kafka")
    ap.add_argument("--kills")
    ap.add_argument("--select")
    args = ap.parse_args()

    ref, txn_end = load_ref(args.ref)
    per_topic = load_kafka(args.kafka)
    failures = []
    ident = lambda table, txid, lsn, op: (table, txid, lsn, op)

    want = collections.OrderedDict()
    for c in ref:
        want[ident(c["table"], c["txid"], c["lsn"], c["op"])] = c

    seen = {}                      # identity -> (topic, offset of first copy)
    tombstoned = {}                # delete identity -> some copy has its tombstone
    lone_deletes = {}              # delete identity -> where a copy lacks it
    copies = collections.Counter()
    order = collections.defaultdict(list)
    table_of_topic = {}
    events = 0
    for topic, evs in per_topic.items():
        table = topic.split(".")[-1]
        table_of_topic[topic] = table
        for i, e in enumerate(evs):
            events += 1
            if "before" not in e:          # a tombstone
                prev = evs[i - 1] if i else None
                if (prev is None or prev.get("op") != "d" or prev["key"] != e["key"]
                        or e.get("value") is not None):
                    failures.append(f"{topic}@{e['offset']}: tombstone not right after a delete of its key")
                continue
            k = ident(table, e["txId"], e["lsn"], e["op"])
            copies[k] += 1
            if k not in want:
                failures.append(f"{topic}@{e['offset']}: not a committed change: {e}")
                continue
            if k not in seen:
                seen[k] = (topic, e["offset"])
                order[table].append(k)
                c = want[k]
                if canon(c["key"]) != canon(e["key"]) or canon(c["after"]) != canon(e["after"]):
                    failures.append(f"{topic}@{e['offset']}: differs from the decoded change: "
                                    f"key {e['key']} after {e['after']} / want key {c['key']} after {c['after']}")
            if e["op"] == "d" and e["key"] is not None:
                nxt = evs[i + 1] if i + 1 < len(evs) else None
                followed = nxt is not None and "before" not in nxt and nxt["key"] == e["key"]
                # a relay killed between a delete and its tombstone sends the
                # transaction again: one copy with its tombstone is enough
                tombstoned[k] = tombstoned.get(k, False) or followed
                if not followed:
                    lone_deletes.setdefault(k, f"{topic}@{e['offset']}")

    for k, where in lone_deletes.items():
        if not tombstoned.get(k):
            failures.append(f"{where}: delete without its tombstone (in every copy)")

    missing = [k for k in want if k not in seen]
    if missing:
        failures.append(f"{len(missing)} committed changes missing from Kafka, first {missing[:3]}")
    by_table = collections.defaultdict(list)
    for k in want:
        by_table[k[0]].append(k)
    for table, ks in by_table.items():
        got = order.get(table, [])
        present = [k for k in ks if k in seen]
        if got != present:
            first = next((n for n, (a, b) in enumerate(zip(got, present)) if a != b), None)
            failures.append(f"{table}: changes out of commit order at #{first}")

    duplicates = sum(n - 1 for n in copies.values() if n > 1)
    if args.kills:
        for lineno, line in enumerate(open(args.kills), 1):
            parts = line.split()
            if not parts:
                continue
            confirmed = parse_lsn(parts[0])
            hw = {}
            for p in parts[1:]:
                topic, mark = p.rsplit("=", 1)
                hw[topic] = int(mark)
            # everything confirmed was in Kafka when the relay died
            for k, c in want.items():
                if txn_end.get(c["txid"], 0) <= confirmed:
                    topic, offset = seen.get(k, (None, None))
                    if topic is None or offset >= hw.get(topic, 0):
                        failures.append(f"kill {lineno}: slot confirmed {parts[0]} but change {k} "
                                        f"was not in Kafka then")
                        break
            # what came again after this kill had not been confirmed
            for topic, evs in per_topic.items():
                mark = hw.get(topic, 0)
                for e in evs:
                    if "before" not in e or e["offset"] < mark:
                        continue
                    k = ident(table_of_topic[topic], e["txId"], e["lsn"], e["op"])
                    first = seen.get(k)
                    if first and first[1] < mark and txn_end.get(e["txId"], 0) <= confirmed:
                        failures.append(f"kill {lineno}: change {k} of a transaction confirmed at "
                                        f"{parts[0]} was sent again")
                        break

    if args.select:
        for table, ks in by_table.items():
            path = f"{args.select}/{table}.jsonl"
            try:
                rows = [json.loads(l, parse_float=Decimal) for l in open(path)]
            except FileNotFoundError:
                continue
            state = {}
            for k in order.get(table, []):
                c = want[k]
                if c["key"] is None:
                    break
                kk = json.dumps(canon(c["key"]), sort_keys=True)
                if c["op"] == "d":
                    state.pop(kk, None)
                else:
                    state[kk] = canon(c["after"])
            else:
                keycols = list(want[ks[0]]["key"].keys())
                expect = {json.dumps(canon({c: r[c] for c in keycols}), sort_keys=True): canon(r)
                          for r in rows}
                if state != expect:
                    bad = [x for x in set(state) | set(expect) if state.get(x) != expect.get(x)][:3]
                    failures.append(f"{table}: state rebuilt from Kafka differs from SELECT "
                                    f"({len(state)} vs {len(expect)} rows), e.g. {bad}")

    for f in failures[:20]:
        print("FAIL:", f)
    print(f"check_stream: {len(want)} committed changes, {events} events in Kafka, "
          f"{duplicates} duplicates, {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
