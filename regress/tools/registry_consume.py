#!/usr/bin/env python3
"""registry_consume.py -- read topics the way a Schema Registry consumer does

  registry_consume.py BOOTSTRAP REGISTRY_URL TOPIC [TOPIC...]

Reads every record of the topics (from the start to the high watermark)
with confluent-kafka's DeserializingConsumer, AvroDeserializer and
SchemaRegistryClient -- the client a Python user of Confluent's serdes
runs, with no code of ours in the decoding -- and prints one JSON line per
record: {"topic", "partition", "offset", "key", "value", "headers"} (value
null for a tombstone; headers a list of [name, value], the value as UTF-8
text, or its hex when not UTF-8).  REGISTRY_USER_INFO=user:password in the environment gives
the client basic-auth credentials.  Exits 1 when a record does not decode.
"""

import json
import os
import sys

from confluent_kafka import DeserializingConsumer, TopicPartition
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer


def plain(v):
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    if isinstance(v, (bytes, bytearray)):
        return v.hex()
    if isinstance(v, (int, float, str, bool)) or v is None:
        return v
    return str(v)          # Decimal, datetime, ...


def header_text(v):
    if v is None:
        return None
    try:
        return v.decode("utf-8")
    except UnicodeDecodeError:
        return v.hex()


def main():
    bootstrap, url, topics = sys.argv[1], sys.argv[2], sys.argv[3:]
    conf = {"url": url}
    if os.environ.get("REGISTRY_USER_INFO"):
        conf["basic.auth.user.info"] = os.environ["REGISTRY_USER_INFO"]
    registry = SchemaRegistryClient(conf)
    consumer = DeserializingConsumer({
        "bootstrap.servers": bootstrap,
        "group.id": "registry-consume",
        "enable.auto.commit": False,
        "key.deserializer": AvroDeserializer(registry),
        "value.deserializer": AvroDeserializer(registry),
    })
    parts = []
    for t in topics:
        md = consumer.list_topics(t, timeout=10).topics[t]
        for p in sorted(md.partitions):
            low, high = consumer.get_watermark_offsets(TopicPartition(t, p), timeout=10)
            if high > low:
                parts.append((t, p, low, high))
    consumer.assign([TopicPartition(t, p, low) for t, p, low, _ in parts])
    left = {(t, p): high for t, p, _, high in parts}
    out = []
    while left:
        m = consumer.poll(10)
        if m is None:
            print(f"registry_consume: timed out with {left} left", file=sys.stderr)
            return 1
        if m.error():
            print(f"registry_consume: {m.error()}", file=sys.stderr)
            return 1
        out.append({"topic": m.topic(), "partition": m.partition(), "offset": m.offset(),
                    "key": plain(m.key()), "value": plain(m.value()),
                    "headers": [[k, header_text(v)] for k, v in (m.headers() or [])]})
        if m.offset() + 1 >= left.get((m.topic(), m.partition()), 0):
            left.pop((m.topic(), m.partition()), None)
    consumer.close()
    for r in sorted(out, key=lambda r: (r["topic"], r["partition"], r["offset"])):
        print(json.dumps(r, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
