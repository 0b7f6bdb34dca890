#!/usr/bin/env python3
"""regress/tools/check_snapshot.py -- did the initial snapshot plus the stream rebuild every table?

    check_snapshot.py KAFKA.jsonl DIR TABLE...
    check_snapshot.py --rebuild KAFKA.jsonl DIR TABLE...

KAFKA.jsonl is what "wal2avro-relay tail" printed (one JSON object per event);
DIR/<table>.jsonl holds SELECT row_to_json(t) of each TABLE (schema-qualified
name as in the topic, e.g. public.orders).  Checks, and exits 1 naming the
first failures:
  * per topic, the snapshot records (op r) come first, before any streamed
    change, with source.snapshot "first" on the first, "last" on the last and
    "true" between (a one-row table: "last" alone) -- per run of the snapshot,
    as a snapshot redone after a crash starts over with "first";
  * the final snapshot run holds each key once (no row read twice);
  * the state rebuilt from Kafka (last record per key: r, c and u set it, d and
    tombstones remove it; for a table without a key, the multiset of rows of
    the last snapshot run plus later inserts) equals the SELECT.
Prints per table counts for the test's log.

With --rebuild (on-demand snapshots, whose records interleave with the
stream), only the last check is made, over every record in offset order:
r, c and u set a key, d and tombstones remove it; the columns compared are
those of DIR/<table>.jsonl.  It prints, per table,
"<table>: <n> incremental records" (records with source.snapshot
"incremental"), which the caller may check.
"""
import collections
import json
import sys
from decimal import Decimal

sys.path.insert(0, __import__("os").path.dirname(__file__))
from check_stream import canon  # noqa: E402


def key_text(k):
    return json.dumps(canon(k), sort_keys=True)


def rebuild(per_topic, sel_dir, tables):
    """State from every record in offset order against the SELECT; failures."""
    failures = []
    for table in tables:
        evs = sorted(per_topic.get(f"wal2avro.{table}", []), key=lambda e: (e["partition"], e["offset"]))
        rows = [json.loads(l, parse_float=Decimal) for l in open(f"{sel_dir}/{table}.jsonl")]
        state = {}
        keycols = None
        for e in evs:
            if e.get("key") is None:
                failures.append(f"{table}: record without a key at offset {e['offset']}")
                break
            keycols = keycols or list(e["key"].keys())
            if e.get("op") in ("r", "c", "u") and e.get("after") is not None:
                state[key_text(e["key"])] = canon(e["after"])
            elif e.get("op") == "d" or (e.get("value", 0) is None and "before" not in e):
                state.pop(key_text(e["key"]), None)
        expect = {key_text({c: r[c] for c in keycols}): canon(r) for r in rows} if keycols else {}
        if rows:
            # compare the columns the SELECT wrote (a caller may leave out
            # columns added while the records were written)
            cols = list(rows[0].keys())
            state = {k: {c: v.get(c) for c in cols} for k, v in state.items()}
        if len(rows) and keycols is None:
            failures.append(f"{table}: no record in Kafka, {len(rows)} rows in the table")
        elif state != expect:
            bad = [x for x in set(state) | set(expect) if state.get(x) != expect.get(x)][:3]
            failures.append(f"{table}: state rebuilt from Kafka differs from SELECT "
                            f"({len(state)} vs {len(expect)} rows), e.g. {bad}")
        marks = collections.Counter(e.get("snapshot") for e in evs if e.get("op") == "r")
        print(f"check_snapshot: {table}: {marks.get('incremental', 0)} incremental records, "
              f"{sum(marks.values())} read records, {len(evs)} records, {len(rows)} rows now")
    return failures


def main():
    args = sys.argv[1:]
    mode_rebuild = bool(args) and args[0] == "--rebuild"
    if mode_rebuild:
        args = args[1:]
    if len(args) < 3:
        print(__doc__)
        return 2
    kafka, sel_dir, tables = args[0], args[1], args[2:]
    per_topic = collections.defaultdict(list)
    for line in open(kafka):
        e = json.loads(line, parse_float=Decimal)
        per_topic[e["topic"]].append(e)
    if mode_rebuild:
        failures = rebuild(per_topic, sel_dir, tables)
        for f in failures[:20]:
            print("FAIL:", f)
        print(f"check_snapshot: {len(tables)} tables, {len(failures)} failures")
        return 1 if failures else 0
    failures = []
    for table in tables:
        evs = sorted(per_topic.get(f"wal2avro.{table}", []), key=lambda e: (e["partition"], e["offset"]))
        rows = [json.loads(l, parse_float=Decimal) for l in open(f"{sel_dir}/{table}.jsonl")]
        # runs of snapshot records: each starts with "first" (or a lone "last")
        runs, streamed_seen, in_run = [], False, False
        for e in evs:
            if e.get("op") == "r":
                if streamed_seen:
                    failures.append(f"{table}: snapshot record at offset {e['offset']} after a streamed change")
                    break
                mark = e.get("snapshot")
                if not in_run:
                    if mark not in ("first", "last"):
                        failures.append(f"{table}: snapshot run starts with snapshot={mark!r} at offset {e['offset']}")
                        break
                    runs.append([])
                elif mark == "first":
                    runs.append([])     # the previous run was cut by a crash
                elif mark not in ("true", "last"):
                    failures.append(f"{table}: snapshot={mark!r} inside a run at offset {e['offset']}")
                    break
                runs[-1].append(e)
                in_run = mark != "last"
            else:
                streamed_seen = True
        if runs:
            if runs[-1][-1].get("snapshot") != "last":
                failures.append(f"{table}: the last snapshot run does not end with snapshot=\"last\"")
                continue
        last = runs[-1] if runs else []
        keyed = any(e.get("key") is not None for e in last)
        if keyed:
            seen = collections.Counter(key_text(e["key"]) for e in last)
            dup = [k for k, n in seen.items() if n > 1]
            if dup:
                failures.append(f"{table}: {len(dup)} keys read twice by the snapshot, e.g. {dup[:2]}")
            state = {key_text(e["key"]): canon(e["after"]) for e in last}
            for e in evs:
                if e.get("op") == "r":
                    continue
                if e.get("op") in ("c", "u") and e.get("after") is not None:
                    state[key_text(e["key"])] = canon(e["after"])
                elif e.get("op") == "d" or (e.get("value", 0) is None and "before" not in e):
                    state.pop(key_text(e["key"]), None)
            keycols = list(last[0]["key"].keys()) if last else None
            if keycols is None:
                keycols = next(list(e["key"].keys()) for e in evs if e.get("key"))
            expect = {key_text({c: r[c] for c in keycols}): canon(r) for r in rows}
            if state != expect:
                bad = [x for x in set(state) | set(expect) if state.get(x) != expect.get(x)][:3]
                failures.append(f"{table}: state rebuilt from Kafka differs from SELECT "
                                f"({len(state)} vs {len(expect)} rows), e.g. {bad}")
        else:
            got = collections.Counter(json.dumps(canon(e["after"]), sort_keys=True) for e in last)
            for e in evs:
                if e.get("op") == "c":
                    got[json.dumps(canon(e["after"]), sort_keys=True)] += 1
            expect = collections.Counter(json.dumps(canon(r), sort_keys=True) for r in rows)
            if got != expect:
                failures.append(f"{table}: rows from Kafka differ from SELECT ({sum(got.values())} vs {len(rows)})")
        print(f"check_snapshot: {table}: {len(runs)} snapshot run(s), {len(last)} snapshot records "
              f"in the last, {sum(1 for e in evs if e.get('op') != 'r')} streamed events, {len(rows)} rows now")
    for f in failures[:20]:
        print("FAIL:", f)
    print(f"check_snapshot: {len(tables)} tables, {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
