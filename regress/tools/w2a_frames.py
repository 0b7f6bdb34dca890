#!/usr/bin/env python3
"""w2a_frames -- an independent reader of wal2avro's frame stream, for tests.

The regression tests use this module to check what the output plugin writes.
It shares no code with the plugin or the relay: frames are parsed here from
doc/protocol.md, and Avro is decoded with fastavro, so an encoder bug in our C
code shows up as a failure instead of being mirrored by a decoder with the same
bug.  Run it with the venv python from regress/tools/venv.sh.

Module API
----------
split_stream(data, newline_separated=False) -> list[bytes]
    Split a byte stream into whole frames (header + body) using each header's
    length.  newline_separated=True reads a `pg_recvlogical -f FILE` capture,
    which holds exactly one b"\\n" after every frame.  iter_stream() is the
    same as a generator (frames come out before a later error is raised).
parse_frame(frame) -> dict
    Parse one frame strictly (header, then the body of its kind; truncation
    and trailing bytes are errors).  The dict starts with "kind" (begin,
    schema, change, truncate, message, commit); LSNs are strings formatted as
    PostgreSQL prints them ("%X/%X"), times are int microseconds since the
    Unix epoch, fingerprints are unsigned 64-bit ints, key/value/content
    blocks are bytes or None when absent.  A CHANGE frame with the
    key-change flag (0x01) also has "other_key" (the other half's key);
    decoded changes have it then too.
Decoder(check_order=True, strict_avro=True, named_types=False)
    .feed(frame) -> dict   parse a frame; remember SCHEMA frames (after
                           checking their fingerprints); decode CHANGE frames
                           into {"kind": "change", "op", "relid", "lsn",
                           "schema", "table", "topic", "key", "value"}.
    .finish()              raise if a transaction is still open.
    .schemas               relid -> RelationSchema, the latest SCHEMA of each.
avro_fingerprint(schema_json_text) -> int
    CRC-64-AVRO of the schema's whole JSON text (its UTF-8 bytes, as the
    frame carries it, not its Parsing Canonical Form: see doc/protocol.md),
    computed by fastavro, as the unsigned 64-bit value the frames carry.
to_json(value)
    The JSON-friendly form the CLI prints (see below).
format_lsn(int) -> str, parse_lsn(str) -> int.
FrameError (a ValueError) is raised for every problem; .offset is the byte
offset it refers to when there is one, counted in the whole stream
(split_stream), in the frame (parse_frame) or in the Avro block (decoding
errors, AvroDataError); .scope says which: "stream", "frame" or "datum".

The fingerprint's byte order
----------------------------
The Avro spec's fingerprint64 returns a 64-bit integer.  The single-object
encoding writes that integer little-endian, and fastavro's
fingerprint(..., "CRC-64-AVRO") returns the hex of those little-endian bytes
(for "int" it returns "8f5c393f1ad57572").  Our frames store the integer
itself big-endian, so frame value = int.from_bytes(bytes.fromhex(hex),
"little"); for "int" that is 8247732601305521295 = 0x7275D51A3F395C8F, the
number Avro's schema-tests.txt lists.  Negative numbers there are the same
integer read as signed.

Checks made by Decoder
----------------------
SCHEMA: both schemas parse with fastavro.parse_schema; the fingerprints of
their texts match the frame; a key schema is present exactly when the key fingerprint is
non-zero, and its record has one field per key column, whose "pg.name" (or
name) is that column.  CHANGE: a SCHEMA for its relation came first and the
change uses that relation's latest schema; the key block is absent when
the relation has no key, and present when it has one, except that a delete
('d') or an update ('u') may lack it (REPLICA IDENTITY NOTHING logs no old
row, so no key for a delete, nor for an update that leaves a TOASTed key
column alone: the decoded key is None); the block is valid Avro for the schema (see
check_avro: union and enum indexes in range, ints within 32 bits, booleans 0
or 1, minimal varints, valid UTF-8, decimals within their precision, no byte
left over), which fastavro alone does not check; fastavro decodes it and
consumes the whole block; the envelope's "op" (or flat "__op") equals the
frame's op.  With check_order: BEGIN/COMMIT pair up with the same commit LSN
and time, SCHEMA/CHANGE/TRUNCATE and transactional MESSAGE frames come only
inside a transaction, non-transactional MESSAGE frames only outside (and
compat=debezium's non-transactional message, a CHANGE with op m on relation
0 after its SCHEMA frame), and COMMIT's change count equals the CHANGE
frames seen in the transaction.

Decoded values
--------------
fastavro's logical types are used (Decimal, datetime, date, time, UUID), with
the values PostgreSQL has and Python has not: the infinity sentinels of
date/timestamp/timestamptz (int or long max/min) decode to the strings
"infinity"/"-infinity", time 24:00:00 to "24:00:00", and dates or timestamps
outside Python's years 1..9999 to ISO 8601 expanded-year strings
("+10000-01-01", "0000-12-31", "-0044-03-15T12:00:00+00:00"; year 0 is 1 BC).
An enum decodes to its symbol.  Note that a union's branch is not visible:
the text "UNCHANGED" and the wal2avro.Unchanged enum decode alike unless
named_types=True (--named-types), which makes every value of a named type
inside a union a (fullname, value) pair.

CLI
---
    w2a_frames.py [--recvlogical FILE | --raw FILE | --hex] [options]

Input: --recvlogical FILE, a `pg_recvlogical -f FILE` capture ("-" = stdin);
--raw FILE, frames back to back with nothing between; --hex, lines on stdin
each holding one frame as psql prints a bytea ("\\x5732..."), e.g. from
`psql -XAt -c "SELECT data FROM pg_logical_slot_get_binary_changes(...)"`;
blank lines are skipped.  With none of these: --raw from stdin.

Output: one JSON object per frame and line, "kind" first, fields in the order
above, record fields in schema order (keys are not sorted).  SCHEMA frames
show their schemas as JSON objects (key_schema null when there is none).
JSON forms: Decimal -> string in positional notation keeping the scale
("123.40", never an exponent); bytes -> "\\x" + lowercase hex (as PostgreSQL
prints bytea); datetime/date/time -> isoformat() (timestamptz values end in
"+00:00", timestamps have no offset); UUID -> canonical lowercase string;
float NaN/Infinity/-Infinity -> the strings "NaN", "Infinity", "-Infinity"
(other floats as Python prints the double; an Avro float is widened to
double first, so 1.1 shows as 1.100000023841858); named-type pairs -> a
two-element list.
Options: --values-only prints only CHANGE frames, as {"op", "schema",
"table", "key", "value"} (no relid or lsn, which change from run to run);
--named-types as above; --partial accepts a stream that ends inside a
transaction; --no-order-check turns off the transaction checks.
Exit status: 0, or 1 with a message on stderr at the first error (the frames
before it are printed).
"""

import argparse
import datetime
import decimal
import io
import json
import math
import struct
import sys
import uuid

import fastavro
import fastavro.read
from fastavro.schema import fingerprint as _fastavro_fingerprint

MAGIC = b"W2A"
VERSION = 1
HEADER_SIZE = 10
MAX_BODY = 0x3FFFFFFF
NO_BLOCK = 0xFFFFFFFF

KINDS = {
    ord("B"): "begin",
    ord("S"): "schema",
    ord("D"): "change",
    ord("T"): "truncate",
    ord("M"): "message",
    ord("C"): "commit",
}
OPS = ("c", "u", "d", "r", "t", "m")  # t, m: compat=debezium truncate and message
MESSAGE_RELID = 0   # compat=debezium: the pseudo relation of messages
TRUNCATE_CASCADE = 0x01
TRUNCATE_RESTART_IDENTITY = 0x02
# CHANGE header flag: one half of a key change; an other_key block follows
CHANGE_KEY_CHANGE = 0x01
# CHANGE header flag (compat=debezium): a non-transactional message (op m),
# outside BEGIN/COMMIT
CHANGE_NON_TRANSACTIONAL = 0x02
# the header flags each kind may carry (any other is refused)
KIND_FLAGS = {"change": CHANGE_KEY_CHANGE | CHANGE_NON_TRANSACTIONAL}

_HEADER = struct.Struct(">3sBBBI")


class FrameError(ValueError):
    """Anything wrong in a stream, a frame or an Avro payload."""

    scope = "frame"     # what .offset counts bytes of

    def __init__(self, message, offset=None, scope=None):
        self.offset = offset
        self.reason = message
        if scope is not None:
            self.scope = scope
        if offset is not None:
            message = f"{message} (at {self.scope} byte {offset})"
        super().__init__(message)


def format_lsn(lsn):
    """An LSN as PostgreSQL prints a pg_lsn: %X/%X of the two 32-bit halves."""
    return f"{lsn >> 32:X}/{lsn & 0xFFFFFFFF:X}"


def parse_lsn(text):
    """The inverse of format_lsn."""
    hi, sep, lo = text.partition("/")
    if not sep:
        raise ValueError(f"not an LSN: {text!r}")
    return (int(hi, 16) << 32) | int(lo, 16)


# ---------------------------------------------------------------------------
# Frames
# ---------------------------------------------------------------------------

def _check_header(data, pos, scope="frame"):
    """Check the header at data[pos:]; return (kind name, body length)."""
    avail = len(data) - pos
    if avail < HEADER_SIZE:
        raise FrameError(
            f"truncated frame header: {avail} of {HEADER_SIZE} bytes",
            pos, scope)
    magic, version, kind, flags, length = _HEADER.unpack_from(data, pos)
    if magic != MAGIC:
        raise FrameError(f"bad magic {bytes(magic)!r}, expected {MAGIC!r}",
                         pos, scope)
    if version != VERSION:
        raise FrameError(
            f"unknown protocol version {version}, expected {VERSION}",
            pos, scope)
    if kind not in KINDS:
        raise FrameError(f"unknown frame kind {bytes([kind])!r}", pos, scope)
    if flags & ~KIND_FLAGS.get(KINDS[kind], 0):
        raise FrameError(f"unknown header flags 0x{flags:02x}", pos, scope)
    if length > MAX_BODY:
        raise FrameError(
            f"body length {length} exceeds the maximum {MAX_BODY}",
            pos, scope)
    return KINDS[kind], length


def iter_stream(data, newline_separated=False):
    """Yield the frames of a byte stream one by one (see split_stream)."""
    data = bytes(data)
    pos = 0
    end = len(data)
    while pos < end:
        kind, length = _check_header(data, pos, "stream")
        frame_end = pos + HEADER_SIZE + length
        if frame_end > end:
            raise FrameError(
                f"truncated {kind} frame: body of {length} bytes, "
                f"{end - pos - HEADER_SIZE} present", pos, "stream")
        yield data[pos:frame_end]
        pos = frame_end
        if newline_separated:
            if pos >= end:
                raise FrameError(
                    "missing newline after the last frame (stream ends)",
                    pos, "stream")
            if data[pos] != 0x0A:
                raise FrameError(
                    f"expected a newline after the frame, found byte "
                    f"0x{data[pos]:02x}", pos, "stream")
            pos += 1


def split_stream(data, newline_separated=False):
    """Split a byte stream into a list of frames (each header + body).

    newline_separated: the stream is a pg_recvlogical -f capture, with exactly
    one b"\\n" after each frame, which is checked and dropped.  Raises
    FrameError (with the offset) on bad magic, unknown version, kind or
    flags, an oversized or truncated frame, or a missing newline.
    """
    return list(iter_stream(data, newline_separated))


class _Body:
    """A cursor over a frame body; offsets in errors are within the frame."""

    def __init__(self, body, kind):
        self.buf = body
        self.pos = 0
        self.kind = kind

    def take(self, n, what):
        if n > len(self.buf) - self.pos:
            raise FrameError(
                f"truncated {self.kind} frame: {what} needs {n} bytes, "
                f"{len(self.buf) - self.pos} left", HEADER_SIZE + self.pos)
        out = self.buf[self.pos:self.pos + n]
        self.pos += n
        return out

    def u8(self, what):
        return self.take(1, what)[0]

    def u16(self, what):
        return struct.unpack(">H", self.take(2, what))[0]

    def u32(self, what):
        return struct.unpack(">I", self.take(4, what))[0]

    def u64(self, what):
        return struct.unpack(">Q", self.take(8, what))[0]

    def i64(self, what):
        return struct.unpack(">q", self.take(8, what))[0]

    def lsn(self, what):
        return format_lsn(self.u64(what))

    def string(self, what):
        start = self.pos
        n = self.u32(f"{what} length")
        if n == NO_BLOCK:
            raise FrameError(
                f"{self.kind} frame: {what} is marked absent, but strings "
                f"cannot be", HEADER_SIZE + start)
        raw = self.take(n, what)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise FrameError(
                f"{self.kind} frame: {what} is not valid UTF-8 ({e.reason})",
                HEADER_SIZE + start + 4 + e.start) from None

    def block(self, what):
        n = self.u32(f"{what} length")
        if n == NO_BLOCK:
            return None
        return self.take(n, what)

    def end(self):
        if self.pos != len(self.buf):
            raise FrameError(
                f"{self.kind} frame: {len(self.buf) - self.pos} trailing "
                f"bytes after the body", HEADER_SIZE + self.pos)


def parse_frame(frame):
    """Parse one frame (header + body) into a dict; see the module doc."""
    frame = bytes(frame)
    kind, length = _check_header(frame, 0)
    if HEADER_SIZE + length != len(frame):
        raise FrameError(
            f"{kind} frame: header says {length} body bytes, frame has "
            f"{len(frame) - HEADER_SIZE}", 0)
    b = _Body(frame[HEADER_SIZE:], kind)
    out = {"kind": kind}
    if kind == "begin":
        out["xid"] = b.u32("xid")
        out["commit_lsn"] = b.lsn("commit LSN")
        out["commit_time"] = b.i64("commit time")
    elif kind == "schema":
        out["relid"] = b.u32("relation OID")
        out["key_fingerprint"] = b.u64("key fingerprint")
        out["value_fingerprint"] = b.u64("value fingerprint")
        out["schema"] = b.string("schema name")
        out["table"] = b.string("table name")
        out["topic"] = b.string("topic")
        ncols = b.u16("key column count")
        out["key_columns"] = [b.string(f"key column {i + 1}")
                              for i in range(ncols)]
        out["key_schema"] = b.string("key schema")
        out["value_schema"] = b.string("value schema")
    elif kind == "change":
        op = b.u8("op")
        if chr(op) not in OPS:
            raise FrameError(f"change frame: unknown op {bytes([op])!r}",
                             HEADER_SIZE)
        out["op"] = chr(op)
        out["relid"] = b.u32("relation OID")
        out["lsn"] = b.lsn("LSN")
        out["key_fingerprint"] = b.u64("key fingerprint")
        out["value_fingerprint"] = b.u64("value fingerprint")
        out["key"] = b.block("key block")
        start = b.pos
        out["value"] = b.block("value block")
        if out["value"] is None:
            raise FrameError("change frame: the value block is absent",
                             HEADER_SIZE + start)
        if frame[5] & CHANGE_KEY_CHANGE:
            # one half of a key change: the other half's key
            start = b.pos
            out["other_key"] = b.block("other key block")
            if out["other_key"] is None or out["op"] not in ("c", "d"):
                raise FrameError(
                    "change frame: a key change needs op c or d and an "
                    "other key", HEADER_SIZE + start)
        if frame[5] & CHANGE_NON_TRANSACTIONAL:
            if out["op"] != "m" or frame[5] & CHANGE_KEY_CHANGE:
                raise FrameError(
                    "change frame: flag NON_TRANSACTIONAL on a change that "
                    "is not a message", HEADER_SIZE)
            out["transactional"] = False
    elif kind == "truncate":
        flags = b.u8("flags")
        if flags & ~(TRUNCATE_CASCADE | TRUNCATE_RESTART_IDENTITY):
            raise FrameError(
                f"truncate frame: unknown flags 0x{flags:02x}", HEADER_SIZE)
        out["cascade"] = bool(flags & TRUNCATE_CASCADE)
        out["restart_identity"] = bool(flags & TRUNCATE_RESTART_IDENTITY)
        out["lsn"] = b.lsn("LSN")
        nrels = b.u16("relation count")
        rels = []
        for i in range(nrels):
            rel = {"relid": b.u32(f"relation {i + 1} OID")}
            rel["schema"] = b.string(f"relation {i + 1} schema name")
            rel["table"] = b.string(f"relation {i + 1} table name")
            rels.append(rel)
        out["relations"] = rels
    elif kind == "message":
        tx = b.u8("transactional flag")
        if tx not in (0, 1):
            raise FrameError(
                f"message frame: transactional flag is {tx}, not 0 or 1",
                HEADER_SIZE)
        out["transactional"] = bool(tx)
        out["lsn"] = b.lsn("LSN")
        out["prefix"] = b.string("prefix")
        out["content"] = b.block("content")
    elif kind == "commit":
        out["commit_lsn"] = b.lsn("commit LSN")
        out["end_lsn"] = b.lsn("end LSN")
        out["commit_time"] = b.i64("commit time")
        out["change_count"] = b.u64("change count")
    b.end()
    return out


# ---------------------------------------------------------------------------
# Avro: fingerprints, a strict structural check, decoding
# ---------------------------------------------------------------------------

def avro_fingerprint(schema_json_text):
    """CRC-64-AVRO of the schema's JSON text itself, as an unsigned int.

    Not of its Parsing Canonical Form, which drops logical types and
    properties (timestamp and timestamptz would share one).  fastavro's
    fingerprint() hashes the string it is given; it returns the hex of the
    fingerprint's little-endian bytes (the order of Avro's single-object
    encoding); the integer is the value the Avro spec's fingerprint64
    returns, which our frames store big-endian.
    """
    hexed = _fastavro_fingerprint(schema_json_text, "CRC-64-AVRO")
    return int.from_bytes(bytes.fromhex(hexed), "little")


class AvroDataError(FrameError):
    scope = "datum"


_PRIMITIVES = {"null", "boolean", "int", "long", "float", "double", "bytes",
               "string"}


class _AvroCheck:
    """Walk an Avro binary datum alongside its (fastavro-parsed) schema.

    fastavro reads leniently (a union index of -1 picks the last branch, a
    boolean byte of 2 is True, an int is not range-checked, a decimal with
    too many digits is rounded), so this independent pass rejects what a
    correct encoder never writes.
    """

    def __init__(self, named, data, what):
        self.named = named
        self.buf = data
        self.pos = 0
        self.what = what

    def fail(self, path, msg, pos=None):
        raise AvroDataError(
            f"{self.what}: {path}: {msg}", self.pos if pos is None else pos)

    def take(self, n, path, what):
        if n > len(self.buf) - self.pos:
            self.fail(path, f"truncated: {what} needs {n} bytes, "
                      f"{len(self.buf) - self.pos} left")
        out = self.buf[self.pos:self.pos + n]
        self.pos += n
        return out

    def varint(self, path):
        start = self.pos
        raw = 0
        shift = 0
        while True:
            if self.pos >= len(self.buf):
                self.fail(path, "truncated varint", start)
            byte = self.buf[self.pos]
            self.pos += 1
            raw |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
            if shift >= 70:
                self.fail(path, "varint longer than 10 bytes", start)
        if raw >> 64:
            self.fail(path, "varint exceeds 64 bits", start)
        if self.pos - start > 1 and byte == 0:
            self.fail(path, "varint is not minimally encoded", start)
        return (raw >> 1) ^ -(raw & 1)

    def length(self, path, what):
        start = self.pos
        n = self.varint(path)
        if n < 0:
            self.fail(path, f"negative {what} length {n}", start)
        return n

    def walk(self, schema, path):
        if isinstance(schema, list):
            start = self.pos
            idx = self.varint(path)
            if not 0 <= idx < len(schema):
                self.fail(path, f"union index {idx} out of range "
                          f"0..{len(schema) - 1}", start)
            self.walk(schema[idx], path)
            return
        if isinstance(schema, str):
            if schema in _PRIMITIVES:
                self.primitive(schema, path)
                return
            if schema not in self.named:
                self.fail(path, f"unknown named type {schema!r}")
            self.walk(self.named[schema], path)
            return
        t = schema["type"]
        if isinstance(t, (list, dict)):
            self.walk(t, path)
        elif t in ("record", "error"):
            for field in schema["fields"]:
                self.walk(field["type"], f"{path}.{field['name']}")
        elif t == "enum":
            start = self.pos
            idx = self.varint(path)
            if not 0 <= idx < len(schema["symbols"]):
                self.fail(path, f"enum index {idx} out of range "
                          f"0..{len(schema['symbols']) - 1}", start)
        elif t == "fixed":
            raw = self.take(schema["size"], path, "fixed")
            self.decimal(schema, raw, path)
        elif t == "array":
            self.blocks(path, lambda p: self.walk(schema["items"], p))
        elif t == "map":
            def entry(p):
                self.primitive("string", p + "{key}")
                self.walk(schema["values"], p)
            self.blocks(path, entry)
        elif t in _PRIMITIVES:
            raw = self.primitive(t, path)
            if t == "bytes":
                self.decimal(schema, raw, path)
        elif t in self.named:
            self.walk(self.named[t], path)
        else:
            self.fail(path, f"unknown type {t!r}")

    def blocks(self, path, item):
        n = 0
        while True:
            start = self.pos
            count = self.varint(path)
            if count == 0:
                return
            size = None
            if count < 0:
                count = -count
                size = self.length(path, "block byte")
            body = self.pos
            for _ in range(count):
                item(f"{path}[{n}]")
                n += 1
            if size is not None and self.pos - body != size:
                self.fail(path, f"block says {size} bytes, items took "
                          f"{self.pos - body}", start)

    def primitive(self, t, path):
        if t == "null":
            return None
        if t == "boolean":
            v = self.take(1, path, "boolean")[0]
            if v > 1:
                self.fail(path, f"boolean byte is {v}", self.pos - 1)
            return None
        if t in ("int", "long"):
            start = self.pos
            v = self.varint(path)
            if t == "int" and not -2**31 <= v < 2**31:
                self.fail(path, f"int value {v} exceeds 32 bits", start)
            return None
        if t == "float":
            self.take(4, path, "float")
            return None
        if t == "double":
            self.take(8, path, "double")
            return None
        n = self.length(path, t)
        start = self.pos
        raw = self.take(n, path, t)
        if t == "string":
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as e:
                self.fail(path, f"string is not valid UTF-8 ({e.reason})",
                          start + e.start)
        return raw

    def decimal(self, schema, raw, path):
        if schema.get("logicalType") != "decimal":
            return
        unscaled = int.from_bytes(raw, "big", signed=True)
        digits = len(str(abs(unscaled)))
        precision = schema.get("precision")
        if unscaled and isinstance(precision, int) and digits > precision:
            self.fail(path, f"decimal unscaled value {unscaled} has {digits} "
                      f"digits, more than its precision {precision}")

    def run(self, schema):
        self.walk(schema, "$")
        if self.pos != len(self.buf):
            self.fail("$", f"{len(self.buf) - self.pos} trailing bytes "
                      f"after the datum")


def check_avro(parsed_schema, named, data, what="datum"):
    """Raise AvroDataError unless data is exactly one valid datum.

    parsed_schema and named come from fastavro.parse_schema(schema,
    named_schemas=named).
    """
    _AvroCheck(named, bytes(data), what).run(parsed_schema)


# Logical types whose range in PostgreSQL exceeds Python's: the reading copy
# of each schema renames them to "w2a-..." and these readers, registered with
# fastavro under the renamed types, handle what fastavro cannot and hand the
# rest to fastavro's own reader.
_DAYS_400Y = 146097                 # days in 400 Gregorian years
_EPOCH = datetime.date(1970, 1, 1)
_MICROS_PER_DAY = 86400 * 10**6
_WIDE = {
    ("int", "date"): (2**31 - 1, -2**31),
    ("long", "timestamp-micros"): (2**63 - 1, -2**63),
    ("long", "local-timestamp-micros"): (2**63 - 1, -2**63),
    ("long", "timestamp-millis"): (2**63 - 1, -2**63),
    ("long", "local-timestamp-millis"): (2**63 - 1, -2**63),
    ("long", "time-micros"): None,
}


def _wide_date(days):
    """Proleptic Gregorian date of any day number, as an ISO 8601 string.

    The calendar repeats every 400 years, so shift into Python's range,
    let datetime do the work and shift the year back.
    """
    cycles = (days + 1000 * 365) // _DAYS_400Y
    d = _EPOCH + datetime.timedelta(days=days - cycles * _DAYS_400Y)
    year = d.year + 400 * cycles
    if 1 <= year <= 9999 or year == 0:
        ys = f"{year:04d}"
    elif year > 9999:
        ys = f"+{year}"
    else:
        ys = f"-{-year:04d}"
    return f"{ys}-{d.month:02d}-{d.day:02d}"


def _wide_timestamp(micros, utc):
    days, rest = divmod(micros, _MICROS_PER_DAY)
    t = (datetime.datetime.min + datetime.timedelta(microseconds=rest)).time()
    return f"{_wide_date(days)}T{t.isoformat()}" + ("+00:00" if utc else "")


def _make_reader(base, logical):
    original = fastavro.read.LOGICAL_READERS[f"{base}-{logical}"]
    limits = _WIDE[(base, logical)]

    def read(data, writer_schema=None, reader_schema=None):
        if limits is not None:
            if data == limits[0]:
                return "infinity"
            if data == limits[1]:
                return "-infinity"
        if logical == "time-micros":
            if data == _MICROS_PER_DAY:
                return "24:00:00"
            if not 0 <= data < _MICROS_PER_DAY:
                # fastavro's reader would wrap a negative value silently
                raise ValueError(f"time-micros value {data} outside a day")
        try:
            return original(data, writer_schema, reader_schema)
        except (OverflowError, ValueError):
            if logical == "date":
                return _wide_date(data)
            if logical.endswith("timestamp-micros"):
                return _wide_timestamp(data, not logical.startswith("local"))
            if logical.endswith("timestamp-millis"):
                return _wide_timestamp(data * 1000,
                                       not logical.startswith("local"))
            raise
    return read


for (_base, _logical) in _WIDE:
    fastavro.read.LOGICAL_READERS[f"{_base}-w2a-{_logical}"] = \
        _make_reader(_base, _logical)


def _reading_copy(schema):
    """A copy of a JSON schema with the _WIDE logical types renamed."""
    if isinstance(schema, list):
        return [_reading_copy(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = dict(schema)
    t = schema.get("type")
    if isinstance(t, (list, dict)):
        out["type"] = _reading_copy(t)
    elif t in ("record", "error"):
        out["fields"] = [dict(f, type=_reading_copy(f["type"]))
                         for f in schema["fields"]]
    elif t == "array":
        out["items"] = _reading_copy(schema["items"])
    elif t == "map":
        out["values"] = _reading_copy(schema["values"])
    elif (t, schema.get("logicalType")) in _WIDE:
        out["logicalType"] = "w2a-" + schema["logicalType"]
    return out


class AvroSchema:
    """One Avro schema of a SCHEMA frame, ready to check and decode data."""

    def __init__(self, text, what):
        self.text = text
        self.what = what
        try:
            self.json = json.loads(text)
        except ValueError as e:
            raise FrameError(f"{what} is not valid JSON: {e}") from None
        try:
            self.named = {}
            self.parsed = fastavro.parse_schema(self.json,
                                                named_schemas=self.named)
            self.reading = fastavro.parse_schema(_reading_copy(self.json))
            self.fingerprint = avro_fingerprint(text)
        except Exception as e:
            raise FrameError(
                f"{what} is not a valid Avro schema: "
                f"{type(e).__name__}: {e}") from None

    def decode(self, data, strict=True, named_types=False):
        if strict:
            check_avro(self.parsed, self.named, data, self.what)
        bio = io.BytesIO(data)
        try:
            value = fastavro.schemaless_reader(
                bio, self.reading, None,
                return_named_type=named_types)
        except Exception as e:
            raise AvroDataError(
                f"{self.what}: fastavro cannot decode the datum: "
                f"{type(e).__name__}: {e}", bio.tell()) from None
        if bio.tell() != len(data):
            raise AvroDataError(
                f"{self.what}: {len(data) - bio.tell()} trailing bytes after "
                f"the datum", bio.tell())
        return value


class RelationSchema:
    """What a SCHEMA frame said about a relation."""

    def __init__(self, frame):
        self.relid = frame["relid"]
        self.schema = frame["schema"]
        self.table = frame["table"]
        self.topic = frame["topic"]
        self.key_columns = frame["key_columns"]
        self.key_fingerprint = frame["key_fingerprint"]
        self.value_fingerprint = frame["value_fingerprint"]
        name = f"{self.schema}.{self.table}"
        self.value = AvroSchema(frame["value_schema"],
                                f"value schema of {name}")
        _check_fingerprint(self.value, self.value_fingerprint)
        if frame["key_schema"] == "":
            self.key = None
            if self.key_fingerprint != 0:
                raise FrameError(
                    f"schema frame of {name}: no key schema but key "
                    f"fingerprint 0x{self.key_fingerprint:016X}, not 0")
            if self.key_columns:
                raise FrameError(
                    f"schema frame of {name}: no key schema but key "
                    f"columns {self.key_columns}")
        else:
            self.key = AvroSchema(frame["key_schema"],
                                  f"key schema of {name}")
            if self.key_fingerprint == 0:
                raise FrameError(
                    f"schema frame of {name}: a key schema but key "
                    f"fingerprint 0")
            _check_fingerprint(self.key, self.key_fingerprint)
            self._check_key_columns(name)

    def _check_key_columns(self, name):
        k = self.key.json
        if not isinstance(k, dict) or k.get("type") != "record":
            raise FrameError(f"key schema of {name} is not a record")
        fields = [f.get("pg.name", f["name"]) for f in k["fields"]]
        if fields != self.key_columns:
            raise FrameError(
                f"schema frame of {name}: key columns {self.key_columns} "
                f"but the key record's fields are {fields}")


def _check_fingerprint(schema, claimed):
    if schema.fingerprint != claimed:
        raise FrameError(
            f"{schema.what}: frame fingerprint 0x{claimed:016X} but the "
            f"CRC-64-AVRO of its text is 0x{schema.fingerprint:016X}")


class Decoder:
    """Feed it the frames of a stream in order; see the module doc."""

    def __init__(self, check_order=True, strict_avro=True, named_types=False):
        self.check_order = check_order
        self.strict_avro = strict_avro
        self.named_types = named_types
        self.schemas = {}
        self.txn = None         # the open BEGIN frame's dict, if any
        self.changes = 0        # CHANGE frames in the open transaction

    def feed(self, frame):
        f = parse_frame(frame)
        kind = f["kind"]
        if self.check_order:
            self._order(f)
        if kind == "schema":
            self.schemas[f["relid"]] = RelationSchema(f)
            return f
        if kind == "change":
            if f.get("transactional", True):
                self.changes += 1
            return self._change(f)
        return f

    def finish(self):
        if self.txn is not None:
            raise FrameError(
                f"stream ends inside the transaction {self.txn['xid']} "
                f"(no COMMIT)")

    def _order(self, f):
        kind = f["kind"]
        if kind == "begin":
            if self.txn is not None:
                raise FrameError(
                    f"BEGIN of xid {f['xid']} inside the open transaction "
                    f"{self.txn['xid']}")
            self.txn = f
            self.changes = 0
            return
        if kind == "message" and not f["transactional"]:
            if self.txn is not None:
                raise FrameError(
                    "non-transactional MESSAGE inside a transaction")
            return
        # compat=debezium: a non-transactional message is a CHANGE (op m,
        # flag NON_TRANSACTIONAL) on the message pseudo relation 0, its
        # SCHEMA frame before it
        if kind == "change" and not f.get("transactional", True):
            if self.txn is not None:
                raise FrameError(
                    "non-transactional message CHANGE inside a transaction")
            return
        if self.txn is None and kind == "schema" and f["relid"] == MESSAGE_RELID:
            return
        if self.txn is None:
            raise FrameError(f"{kind.upper()} frame outside a transaction")
        if kind == "commit":
            begin = self.txn
            if f["commit_lsn"] != begin["commit_lsn"]:
                raise FrameError(
                    f"COMMIT's commit LSN {f['commit_lsn']} differs from "
                    f"BEGIN's {begin['commit_lsn']}")
            if f["commit_time"] != begin["commit_time"]:
                raise FrameError(
                    f"COMMIT's commit time {f['commit_time']} differs from "
                    f"BEGIN's {begin['commit_time']}")
            if parse_lsn(f["end_lsn"]) <= parse_lsn(f["commit_lsn"]):
                raise FrameError(
                    f"COMMIT's end LSN {f['end_lsn']} is not after its "
                    f"commit LSN {f['commit_lsn']}")
            if f["change_count"] != self.changes:
                raise FrameError(
                    f"COMMIT counts {f['change_count']} changes, the "
                    f"transaction had {self.changes} CHANGE frames")
            self.txn = None

    def _change(self, f):
        rel = self.schemas.get(f["relid"])
        if rel is None:
            raise FrameError(
                f"CHANGE of relation {f['relid']} before any SCHEMA frame "
                f"for it")
        name = f"{rel.schema}.{rel.table}"
        if (f["key_fingerprint"], f["value_fingerprint"]) != \
                (rel.key_fingerprint, rel.value_fingerprint):
            raise FrameError(
                f"CHANGE of {name} has fingerprints "
                f"0x{f['key_fingerprint']:016X}/"
                f"0x{f['value_fingerprint']:016X}, the relation's last "
                f"SCHEMA has "
                f"0x{rel.key_fingerprint:016X}/0x{rel.value_fingerprint:016X}")
        if rel.key is None:
            if f["key"] is not None:
                raise FrameError(
                    f"CHANGE of {name}: a key block but the relation has no "
                    f"key")
            key = None
        else:
            if f["key"] is None:
                # under REPLICA IDENTITY NOTHING a delete (no old row) and
                # an update leaving a TOASTed key column alone (no old key,
                # only a pointer in the new row) have no key; a create
                # always has one (doc/protocol.md)
                if f["op"] not in ("d", "u"):
                    raise FrameError(
                        f"CHANGE of {name}: no key block but the relation "
                        f"has a key (op {f['op']!r}; only a delete or an "
                        f"update may lack it)")
                key = None
            else:
                key = rel.key.decode(f["key"], self.strict_avro,
                                     self.named_types)
        value = rel.value.decode(f["value"], self.strict_avro,
                                 self.named_types)
        if isinstance(value, dict):
            vop = value.get("__op", value.get("op")
                            if "source" in value else None)
            if isinstance(vop, str) and vop != f["op"]:
                raise FrameError(
                    f"CHANGE of {name}: frame op {f['op']!r} but the value "
                    f"says {vop!r}")
        out = {"kind": "change", "op": f["op"], "relid": f["relid"],
               "lsn": f["lsn"], "schema": rel.schema, "table": rel.table,
               "topic": rel.topic, "key": key, "value": value}
        if "other_key" in f:
            if rel.key is None:
                raise FrameError(
                    f"CHANGE of {name}: a key change but the relation has "
                    f"no key")
            out["other_key"] = rel.key.decode(f["other_key"], self.strict_avro,
                                              self.named_types)
        return out


# ---------------------------------------------------------------------------
# JSON output
# ---------------------------------------------------------------------------

def to_json(v):
    """Make a decoded value JSON-friendly, deterministically (module doc)."""
    if v is None or isinstance(v, (bool, int, str)):
        return v
    if isinstance(v, float):
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "Infinity" if v > 0 else "-Infinity"
        return v
    if isinstance(v, decimal.Decimal):
        if v.is_nan():
            return "NaN"
        if v.is_infinite():
            return "Infinity" if v > 0 else "-Infinity"
        return format(v, "f")
    if isinstance(v, (bytes, bytearray, memoryview)):
        return "\\x" + bytes(v).hex()
    if isinstance(v, (datetime.datetime, datetime.date, datetime.time)):
        return v.isoformat()
    if isinstance(v, uuid.UUID):
        return str(v)
    if isinstance(v, dict):
        return {str(k): to_json(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [to_json(x) for x in v]
    raise TypeError(f"no JSON form for {type(v).__name__}: {v!r}")


def _frame_json(out, values_only):
    if values_only:
        if out["kind"] != "change":
            return None
        out = {k: out[k] for k in ("op", "schema", "table", "key", "value",
                                   "other_key") if k in out}
    elif out["kind"] == "schema":
        out = dict(out)
        out["key_schema"] = (json.loads(out["key_schema"])
                             if out["key_schema"] else None)
        out["value_schema"] = json.loads(out["value_schema"])
    return json.dumps(to_json(out), ensure_ascii=False, allow_nan=False)


def _hex_frames(lines):
    for lineno, line in enumerate(lines, 1):
        text = line.strip()
        if not text:
            continue
        if text.startswith("\\x"):
            text = text[2:]
        try:
            yield bytes.fromhex(text), f"line {lineno}"
        except ValueError:
            raise FrameError(f"line {lineno} is not a hex bytea: "
                             f"{line.strip()[:60]!r}") from None


def _stream_frames(data, newline_separated):
    pos = 0
    for frame in iter_stream(data, newline_separated):
        yield frame, f"stream offset {pos}"
        pos += len(frame) + (1 if newline_separated else 0)


def main(argv=None):
    ap = argparse.ArgumentParser(
        prog="w2a_frames.py",
        description="Decode a wal2avro frame stream to one JSON object per "
                    "frame.")
    src = ap.add_mutually_exclusive_group()
    src.add_argument("--recvlogical", metavar="FILE",
                     help="a pg_recvlogical -f capture ('-' for stdin)")
    src.add_argument("--raw", metavar="FILE",
                     help="frames back to back ('-' for stdin; the default)")
    src.add_argument("--hex", action="store_true",
                     help="stdin lines, each one frame as a psql bytea \\x...")
    ap.add_argument("--values-only", action="store_true",
                    help="print only CHANGE frames: op, schema, table, key, "
                         "value")
    ap.add_argument("--named-types", action="store_true",
                    help="show values of named types in unions as "
                         "[fullname, value]")
    ap.add_argument("--partial", action="store_true",
                    help="accept a stream that ends inside a transaction")
    ap.add_argument("--no-order-check", action="store_true",
                    help="do not check the transaction structure")
    args = ap.parse_args(argv)

    def read_bytes(path):
        if path == "-":
            return sys.stdin.buffer.read()
        with open(path, "rb") as fh:
            return fh.read()

    out = sys.stdout
    if hasattr(out, "reconfigure"):
        out.reconfigure(encoding="utf-8", newline="\n")
    decoder = Decoder(check_order=not args.no_order_check,
                      named_types=args.named_types)
    index = 0
    try:
        if args.hex:
            frames = _hex_frames(sys.stdin)
        elif args.recvlogical is not None:
            frames = _stream_frames(read_bytes(args.recvlogical), True)
        else:
            frames = _stream_frames(read_bytes(args.raw or "-"), False)
        for frame, where in frames:
            index += 1
            try:
                text = _frame_json(decoder.feed(frame), args.values_only)
            except FrameError as e:
                kind = KINDS.get(frame[4], "?") if len(frame) > 4 else "?"
                raise FrameError(
                    f"frame {index} ({kind}, {where}): {e}") from None
            if text is not None:
                out.write(text + "\n")
        if not args.partial:
            decoder.finish()
    except (FrameError, OSError) as e:
        out.flush()
        print(f"w2a_frames: error: {e}", file=sys.stderr)
        return 1
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
