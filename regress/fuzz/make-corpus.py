#!/usr/bin/env python3
"""make-corpus.py -- write the seed corpus of fuzz_frames.

Usage: regress/fuzz/make-corpus.py [DIR]   (default: regress/fuzz/corpus)

One valid frame of every kind and shape (a change with and without key, a
message with and without content, ...), a whole transaction as a raw
stream and as a pg_recvlogical capture (a newline after each frame), and a
few near misses (a cut body, a trailing byte).  The frames are built here
from doc/protocol.md with struct, sharing no code with the relay.  The
files are deterministic, so re-running the script changes nothing.

Copyright (c) 2026, the wal2avro authors

regress/fuzz/make-corpus.py
"""

import os
import struct
import sys

NO_BLOCK = 0xFFFFFFFF


def frame(kind, body, flags=0):
    return b"W2A" + bytes([1]) + kind.encode() + bytes([flags]) + struct.pack(">I", len(body)) + body


def s(text):
    raw = text.encode("utf-8")
    return struct.pack(">I", len(raw)) + raw


def block(data):
    if data is None:
        return struct.pack(">I", NO_BLOCK)
    return struct.pack(">I", len(data)) + data


def begin(xid=735, lsn=0x16B374D848, time=1767225600000000):
    return frame("B", struct.pack(">IQq", xid, lsn, time))


def schema(keys=("id",)):
    body = struct.pack(">IQQ", 16384, 0x7275D51A3F395C8F if keys else 0, 0x1234)
    body += s("public") + s("orders") + s("wal2avro.public.orders")
    body += struct.pack(">H", len(keys)) + b"".join(s(k) for k in keys)
    body += s('{"type":"record","name":"Key","fields":[{"name":"id","type":"int"}]}' if keys else "")
    body += s('{"type":"record","name":"Envelope","fields":[]}')
    return frame("S", body)


def change(op="c", key=b"\x02", value=b"\x00\x02\x0a\x06abc", other_key=None, relid=16384,
           flags=0):
    body = struct.pack(">cIQQQ", op.encode(), relid, 0x16B374D800,
                       0 if key is None else 0x7275D51A3F395C8F, 0x1234)
    body += block(key) + block(value)
    if other_key is None:
        # flags 0x02 NON_TRANSACTIONAL: compat=debezium's lone message
        return frame("D", body, flags)
    # one half of a primary key change (flag 0x01 KEY_CHANGE)
    return frame("D", body + block(other_key), 0x01)


def truncate():
    body = struct.pack(">BQH", 3, 0x16B374D810, 2)
    body += struct.pack(">I", 16384) + s("public") + s("orders")
    body += struct.pack(">I", 16390) + s("sales") + s("région")
    return frame("T", body)


def message(transactional=True, content=b"hello\nworld"):
    body = struct.pack(">BQ", 1 if transactional else 0, 0x16B374D820)
    return frame("M", body + s("audit") + block(content))


def commit(count=2):
    return frame("C", struct.pack(">QQqQ", 0x16B374D848, 0x16B374D878, 1767225600000000, count))


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "corpus")
    os.makedirs(out, exist_ok=True)
    txn = [begin(), schema(), change("c"), change("u"), change("d", None),
           truncate(), message(True), commit(3)]
    seeds = {
        "begin": begin(),
        "schema-key": schema(),
        "schema-nokey": schema(()),
        "schema-2keys": schema(("id", "région")),
        "change-insert": change("c"),
        "change-nokey": change("d", None),
        "change-empty": change("r", b"", b""),
        "change-keychange-delete": change("d", b"\x04", b"\x00", b"\x28"),
        "change-keychange-create": change("c", b"\x28", b"\x00\x02\x0a\x06abc", b"\x04"),
        # compat=debezium: a truncated table (no key), a message on relation 0
        "change-truncate": change("t", None, b"\x00\x00"),
        "change-message": change("m", b"\x02\x10w2a-test", b"\x02m\x02\x00", relid=0),
        "change-message-notx": change("m", b"\x02\x10w2a-test", b"\x02m", relid=0, flags=0x02),
        "stream-message-notx": schema() + change("m", b"\x02\x10w2a-test", b"\x02m", relid=0,
                                                 flags=0x02),
        "truncate": truncate(),
        "message-tx": message(True),
        "message-notx-absent": message(False, None),
        "commit": commit(),
        "stream-raw": b"".join(txn),
        "stream-recvlogical": b"".join(f + b"\n" for f in txn),
        "near-cut-body": change("c")[:-3],
        "near-trailing-byte": commit()[:6] + struct.pack(">I", 33) + commit()[10:] + b"\x00",
    }
    for name, data in sorted(seeds.items()):
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    print(f"wrote {len(seeds)} seeds to {out}")


if __name__ == "__main__":
    main()
