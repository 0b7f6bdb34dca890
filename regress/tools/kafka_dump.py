#!/usr/bin/env python3
"""kafka_dump.py -- every record of some Kafka topics as JSON lines

  kafka_dump.py [--raw | --text] BOOTSTRAP PREFIX OUT.jsonl

Reads every topic whose name starts with PREFIX (partitions in order, each
from its first offset to its high watermark, read_committed) and writes one
line per record, ordered by topic, partition and offset:

  {"topic", "partition", "offset", "key", "value", "headers"}

key and value are the record's bytes parsed as JSON when they are JSON
(Debezium's JsonConverter), {"$bytes": base64} when they are not, null for a
null (a tombstone's value).  headers is a list of [name, value] with the
value as UTF-8 text when it decodes, else {"$bytes": base64}.  Record
timestamps are not written: they are the producer's clock.  With --raw each
line also has key_raw and value_raw: the record's exact bytes, base64 (null
for a null), for tests that compare bytes, not only parsed JSON.  With --text key and
value are the record's exact UTF-8 text instead (the form of the stored
Debezium captures under regress/workloads/, whose tests check JSON text
byte for byte).
"""

import base64
import json
import sys

from confluent_kafka import Consumer, TopicPartition


def decode(raw, as_json=True):
    if raw is None:
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return {"$bytes": base64.b64encode(raw).decode()}
    if not as_json:
        return text
    try:
        return json.loads(text)
    except ValueError:
        return {"$bytes": base64.b64encode(raw).decode()}


def raw(b):
    return None if b is None else base64.b64encode(b).decode()


def text(b):
    return None if b is None else b.decode("utf-8")


def dump(bootstrap, prefix, out, mode=None):
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "w2a-dump",
                  "enable.auto.commit": False, "isolation.level": "read_committed",
                  "auto.offset.reset": "earliest"})
    n = 0
    try:
        md = c.list_topics(timeout=30)
        for topic in sorted(t for t in md.topics if t.startswith(prefix)):
            for p in sorted(md.topics[topic].partitions):
                lo, hi = c.get_watermark_offsets(TopicPartition(topic, p), timeout=30)
                if hi <= lo:
                    continue
                c.assign([TopicPartition(topic, p, lo)])
                off = lo
                while off < hi:
                    m = c.poll(30)
                    if m is None:
                        raise SystemExit("kafka_dump: no record at %s/%d offset %d (high %d)" % (topic, p, off, hi))
                    if m.error():
                        raise SystemExit("kafka_dump: %s" % m.error())
                    rec = {"topic": topic, "partition": p, "offset": m.offset(),
                           "key": decode(m.key()), "value": decode(m.value()),
                           "headers": [[k, decode(v, as_json=False)] for k, v in (m.headers() or [])]}
                    if mode == "--text":
                        rec["key"] = text(m.key())
                        rec["value"] = text(m.value())
                    if mode == "--raw":
                        rec["key_raw"] = raw(m.key())
                        rec["value_raw"] = raw(m.value())
                    out.write(json.dumps(rec, sort_keys=False) + "\n")
                    n += 1
                    off = m.offset() + 1
                c.unassign()
    finally:
        c.close()
    return n


def main(argv):
    mode = argv[1] if len(argv) > 1 and argv[1] in ("--raw", "--text") else None
    if mode:
        argv = argv[:1] + argv[2:]
    if len(argv) != 4:
        sys.stderr.write(__doc__)
        return 2
    with open(argv[3], "w") as out:
        n = dump(argv[1], argv[2], out, mode)
    sys.stderr.write("kafka_dump: %d records from topics %s* to %s\n" % (n, argv[2], argv[3]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
