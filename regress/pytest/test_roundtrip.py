"""test_roundtrip.py -- wal2avro's binary output, decoded independently, against SELECT.

What it is for: an end-to-end check of the output plugin's Avro binary
format.  Rows are written with psycopg, the slot's frames are read with
pg_logical_slot_{get,peek}_binary_changes, decoded by regress/tools/w2a_frames.py
(fastavro plus a strict structural Avro check and fingerprint checks, no code
shared with the plugin), and every decoded value is compared with what
PostgreSQL itself returns for the same rows.

It needs a PostgreSQL 15 cluster with wal_level=logical and the plugin
installed, given by the PG* environment variables; regress/e2e/
0010-avro-roundtrip.sh starts one and runs this suite.  Without PGHOST the
module is skipped.

The tests
---------
1. test_type_roundtrip: one table per type of doc/protocol.md's mapping (and
   the text-output fallbacks), extreme values and NULL in every one; each
   column's schema (union branches, logical types, pg.name, pg.type) and
   every INSERT's after and, with REPLICA IDENTITY FULL, every UPDATE's
   before and after.  test_composite_changed_mid_stream: composite types
   altered (ADD, DROP, RENAME ATTRIBUTE; nested, in arrays, a table's row
   type) while the slot streams, also inside the transaction of earlier rows.
2. test_replica_identity_*: DEFAULT/FULL/INDEX/NOTHING, with and without a
   key, UPDATE (key kept, key changed) and DELETE: op, key, before, after,
   in the Debezium envelope and the flat one; include-before=false.
3. test_unchanged_toast*: unlogged TOAST values come as wal2avro.Unchanged
   (exactly that branch), never NULL nor a wrong value, unless PostgreSQL
   logged the old row with the value (REPLICA IDENTITY FULL, a TOASTed key):
   then the new row carries the real value, also in the create of a
   key-changing UPDATE.  Under DEFAULT that create keeps the Unchanged
   marker (documented limitation).
4. Options: include-tables, exclude-tables, exclude-columns, key-columns,
   topic-prefix (topic, Avro names, Source), include-timestamps,
   skip-empty-xacts.
5. test_random_rows: thousands of random changes in many transactions,
   against an audit trail and against the final table contents.
6. test_fingerprints: every SCHEMA frame's fingerprints, recomputed here
   (own CRC-64-AVRO over the schema's JSON text) and counted in the
   Decoder; SCHEMA frames again only when the schema changes, and a new
   fingerprint when only a logical type or pg.type changes.

How values are compared
-----------------------
For each PostgreSQL type there is one canonical form, computed on both sides:
on the SQL side by an expression over the column (returned as jsonb, so no
client-side type conversion is involved), on the Avro side from the value the
decoder returns (decoded with named_types=True, so every union branch of a
named type is visible as (fullname, value)).  The forms are:

  bool, int2/int4/int8, oid   the integer / boolean itself
  float4, float8              float.hex() of the double (float4 widened
                              exactly), "nan" for NaN; -0.0 and 0.0 differ
  numeric(p,s), numeric       PostgreSQL's text output, exactly (scale kept):
                              the Avro decimal is rebuilt from its unscaled
                              two's-complement integer and scale; NaN and
                              +-Infinity come in the string branch
  text, varchar, char(n),     the type's text output (format('%s', col)
  name, "char", json, jsonb,  keeps char(n) padding); the decoded value must
  enums, uuid and every       be a str (a UUID for uuid)
  text-output fallback
  bytea                       lowercase hex of the bytes
  date                        days since 1970-01-01 (col - date '1970-01-01'),
                              or the text "infinity" / "-infinity"
  timestamp, timestamptz      microseconds since the Unix epoch, computed
                              exactly in SQL from the date and the time of
                              day (UTC); values whose Unix micros do not fit
                              below the long's maximum (the infinity
                              sentinel) must come in the string branch as
                              col::text; "infinity"/"-infinity" as such
  time                        microseconds since midnight (24:00:00 included)
  timetz                      {micros: local time, offset_seconds: east of UTC}
  interval                    {months, days, micros} from extract(...)
  arrays                      element by element; an array with more than one
                              dimension or a lower bound other than 1 as its
                              text in the string branch
  composite types             attribute by attribute, recursively

All sessions use TimeZone=UTC, DateStyle=ISO, IntervalStyle=postgres,
extra_float_digits=1 and lc_monetary=C, so text outputs do not depend on the
server's defaults (the plugin's text-output fallbacks run in the same session,
inside pg_logical_slot_*_changes).

A mismatch fails with the table, the row id, the column, the decoded value
and the SELECT value.  Known plugin bugs, if any, have their own tests marked
xfail(strict=True).

Run:  . regress/tools/venv.sh && "$W2A_PYTHON" -m pytest -q regress/pytest
"""

import datetime
import decimal
import json
import math
import os
import random
import re
import sys
import uuid

import pytest

if not os.environ.get("PGHOST"):
    pytest.skip("PGHOST is not set: test_roundtrip.py needs a running "
                "PostgreSQL with wal2avro (regress/e2e/0010-avro-roundtrip.sh "
                "starts one)", allow_module_level=True)

import psycopg  # noqa: E402

TOOLS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools")
sys.path.insert(0, TOOLS)
import w2a_frames as w  # noqa: E402

# numeric values have up to 131072 + 16383 digits
if hasattr(sys, "set_int_max_str_digits"):
    sys.set_int_max_str_digits(0)

UNCHANGED = ("wal2avro.Unchanged", "UNCHANGED")
UNCHANGED_ENUM = {"type": "enum", "name": "wal2avro.Unchanged",
                  "symbols": ["UNCHANGED"]}
INT64_MAX = 2**63 - 1
EPOCH_DATE = datetime.date(1970, 1, 1)
EPOCH_NAIVE = datetime.datetime(1970, 1, 1)
EPOCH_UTC = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
MICROS_PER_DAY = 86400 * 10**6
ONE_MICRO = datetime.timedelta(microseconds=1)

SESSION_SETTINGS = """
SET TimeZone = 'UTC';
SET DateStyle = 'ISO, YMD';
SET IntervalStyle = 'postgres';
SET extra_float_digits = 1;
SET lc_monetary = 'C';
SET bytea_output = 'hex';
SET client_min_messages = warning;
"""


# ---------------------------------------------------------------------------
# Connections, slots, streams
# ---------------------------------------------------------------------------

def connect():
    conn = psycopg.connect("", autocommit=True)
    conn.execute(SESSION_SETTINGS)
    return conn


@pytest.fixture(scope="module")
def conn():
    c = connect()
    yield c
    c.close()


def run(conn, sql, params=None):
    with conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall() if cur.description else None


def create_slot(conn, name):
    drop_slot(conn, name)
    run(conn, "SELECT pg_create_logical_replication_slot(%s, 'wal2avro')",
        (name,))


def drop_slot(conn, name):
    run(conn, "SELECT pg_drop_replication_slot(slot_name) "
              "FROM pg_replication_slots WHERE slot_name = %s", (name,))


def fetch_frames(conn, slot, opts=(), peek=True):
    """The slot's frames (bytes), one per row of the binary changes function.

    Decoding runs in a session of its own, closed right after (conn is only
    there to say which cluster), so whatever a decoding call leaves behind
    in its backend (plugin state, an aborted statement) cannot affect the
    shared session; test_roundtrip_session_after_error.py checks that a
    session survives a failed decode.
    """
    fn = ("pg_logical_slot_peek_binary_changes" if peek
          else "pg_logical_slot_get_binary_changes")
    opts = [str(o) for o in opts]
    with connect() as dconn:
        rows = run(dconn, f"SELECT data FROM {fn}(%s, NULL, NULL, "
                          f"VARIADIC %s::text[])", (slot, opts))
    return [bytes(r[0]) for r in rows]


# Fingerprint accounting, shared by every stream decoded in this module:
# how many SCHEMA frames were seen, how many fingerprints the Decoder
# checked (its _check_fingerprint is wrapped by a fixture below), and how
# many this module recomputed itself.
FP = {"schema_frames": 0, "expected_checks": 0, "decoder_checks": 0,
      "own_checks": 0}


@pytest.fixture(scope="module", autouse=True)
def count_decoder_fingerprint_checks():
    original = w._check_fingerprint

    def counting(schema, claimed):
        FP["decoder_checks"] += 1
        return original(schema, claimed)

    w._check_fingerprint = counting
    yield
    w._check_fingerprint = original


_RABIN_EMPTY = 0xC15D213AA4D7A795
_RABIN_TABLE = []
for _i in range(256):
    _fp = _i
    for _ in range(8):
        _fp = (_fp >> 1) ^ (_RABIN_EMPTY & -(_fp & 1))
    _RABIN_TABLE.append(_fp)


def rabin64(data):
    """CRC-64-AVRO as the Avro specification defines it, written here."""
    fp = _RABIN_EMPTY
    for b in data:
        fp = (fp >> 8) ^ _RABIN_TABLE[(fp ^ b) & 0xFF]
    return fp


def own_fingerprint(schema_text):
    """The wire identity: CRC-64-AVRO of the whole text, not of its PCF."""
    return rabin64(schema_text.encode("utf-8"))


class Stream:
    """A decoded frame stream: changes, SCHEMA frames, messages, commits.

    Decoded by w2a_frames.Decoder as it is (order checks, strict Avro,
    named types); a delete without a key block (REPLICA IDENTITY NOTHING)
    decodes with key None.
    """

    def __init__(self, frames):
        dec = w.Decoder(check_order=True, strict_avro=True, named_types=True)
        self.items = []
        self.changes = []
        self.schemas = []
        self.begins = []
        self.commits = []
        self.messages = []
        begin = None
        for raw in frames:
            out = dec.feed(raw)
            kind = out["kind"]
            self.items.append(out)
            if kind == "begin":
                begin = out
                self.begins.append(out)
            elif kind == "schema":
                check_schema_frame(out)
                self.schemas.append(out)
            elif kind == "change":
                out["begin"] = begin
                self.changes.append(out)
            elif kind == "message":
                self.messages.append(out)
            elif kind == "commit":
                self.commits.append(out)
                begin = None
        dec.finish()

    def of(self, table):
        return [c for c in self.changes if c["table"] == table]

    def schema_of(self, table):
        found = [s for s in self.schemas if s["table"] == table]
        assert found, f"no SCHEMA frame for table {table}"
        return found[-1]


def check_schema_frame(s):
    """Recompute both fingerprints of a SCHEMA frame (own Rabin of the text)."""
    FP["schema_frames"] += 1
    FP["expected_checks"] += 1
    got = own_fingerprint(s["value_schema"])
    assert got == s["value_fingerprint"], (
        f"{s['schema']}.{s['table']}: value fingerprint 0x"
        f"{s['value_fingerprint']:016X}, recomputed 0x{got:016X}")
    if s["key_schema"]:
        FP["expected_checks"] += 1
        got = own_fingerprint(s["key_schema"])
        assert got == s["key_fingerprint"], (
            f"{s['schema']}.{s['table']}: key fingerprint 0x"
            f"{s['key_fingerprint']:016X}, recomputed 0x{got:016X}")
    else:
        assert s["key_fingerprint"] == 0
    FP["own_checks"] += 1


def decode(conn, slot, opts=(), peek=True):
    return Stream(fetch_frames(conn, slot, opts, peek))


def row_of(v, table=None):
    """The record inside a before/after union branch (None stays None)."""
    if v is None:
        return None
    assert isinstance(v, tuple) and len(v) == 2 and \
        v[0].endswith(".Value"), f"not a Value record branch: {v!r:.300}"
    if table is not None:
        assert v[0].endswith(f".{table}.Value"), v[0]
    return v[1]


# ---------------------------------------------------------------------------
# Schema helpers
# ---------------------------------------------------------------------------

def collect_named(node, out=None):
    """fullname -> definition of every named type in a schema's JSON."""
    if out is None:
        out = {}
    if isinstance(node, list):
        for n in node:
            collect_named(n, out)
    elif isinstance(node, dict):
        t = node.get("type")
        if t in ("record", "enum", "fixed") and "name" in node:
            out.setdefault(node["name"], node)
        if t == "record":
            for f in node["fields"]:
                collect_named(f["type"], out)
        elif t == "array":
            collect_named(node["items"], out)
        elif t == "map":
            collect_named(node["values"], out)
        elif isinstance(t, (list, dict)):
            collect_named(t, out)
    return out


def value_fields(schema_frame):
    """(fields of the row record, named types) of a SCHEMA frame's value."""
    sj = json.loads(schema_frame["value_schema"])
    names = collect_named(sj)
    if sj["name"].endswith(".Envelope"):
        before = sj["fields"][0]
        assert before["name"] == "before"
        assert before["type"][0] == "null"
        row = before["type"][1]
        after = sj["fields"][1]
        assert after["name"] == "after"
        assert after["type"] == ["null", row["name"]], after
    else:
        row = sj
    return row["fields"], names


class SchemaMismatch(AssertionError):
    pass


def expect(cond, msg):
    if not cond:
        raise SchemaMismatch(msg)


def resolve(t, names):
    if isinstance(t, str) and t in names:
        return names[t]
    return t


def check_union(spec, t, names, toastable, what):
    """A field's union: "null", the main type, "string"?, Unchanged?"""
    expect(isinstance(t, list) and t and t[0] == "null",
           f"{what}: not a union starting with null: {t!r}")
    expect(len(t) >= 2, f"{what}: union {t!r} has no value branch")
    spec.check_main(resolve(t[1], names), names, what)
    i = 2
    if spec.string_branch:
        expect(len(t) > i and t[i] == "string",
               f"{what}: union {t!r} lacks the string branch")
        i += 1
    if toastable:
        expect(len(t) > i and resolve(t[i], names) == UNCHANGED_ENUM,
               f"{what}: union {t!r} lacks wal2avro.Unchanged")
        i += 1
    expect(len(t) == i, f"{what}: union {t!r} has unexpected branches")


def check_field(spec, field, names, toastable, pg_name, pg_type, what):
    expect(field.get("pg.name") == pg_name,
           f"{what}: pg.name {field.get('pg.name')!r} != {pg_name!r}")
    if pg_type is not None:
        expect(field.get("pg.type") == pg_type,
               f"{what}: pg.type {field.get('pg.type')!r} != {pg_type!r}")
    expect("default" in field and field["default"] is None,
           f"{what}: default is not null")
    check_union(spec, field["type"], names, toastable, what)


# ---------------------------------------------------------------------------
# Type specs: SQL-side canonical form, Avro-side canonical form, schema shape
# ---------------------------------------------------------------------------

class Mismatch(Exception):
    pass


def unwrap(v, name):
    if not (isinstance(v, tuple) and len(v) == 2 and v[0] == name):
        raise Mismatch(f"expected a value of named type {name}, got "
                       f"{short(v)}")
    return v[1]


def short(v, n=300):
    r = repr(v)
    return r if len(r) <= n else r[:n] + f"...({len(r)} chars)"


def fcanon(x):
    return "nan" if math.isnan(x) else x.hex()


WIDE_DATE = re.compile(r"^([+-]?\d{4,})-(\d\d)-(\d\d)$")
WIDE_TS = re.compile(
    r"^([+-]?\d{4,})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?"
    r"(\+00:00)?$")


def days_from_civil(y, m, d):
    """Days since 1970-01-01 of a proleptic Gregorian date (year 0 = 1 BC)."""
    cycles = (y - 2000) // 400         # the calendar repeats every 400 years
    return (datetime.date(y - 400 * cycles, m, d) - EPOCH_DATE).days + \
        cycles * 146097


class Spec:
    """How one PostgreSQL type is compared; see the module docstring."""
    string_branch = False

    def expr(self, c):
        """jsonb SQL expression of the canonical form of non-null c."""
        return f"to_jsonb(format('%s', {c}))"

    def want(self, j):
        return j

    def got(self, v):
        raise NotImplementedError

    def check_main(self, m, names, what):
        raise NotImplementedError


class Bool(Spec):
    def expr(self, c):
        return f"to_jsonb({c})"

    def got(self, v):
        if not isinstance(v, bool):
            raise Mismatch(f"not a bool: {short(v)}")
        return v

    def check_main(self, m, names, what):
        expect(m == "boolean", f"{what}: main type {m!r}, not boolean")


class Int(Spec):
    def __init__(self, avro, cast=""):
        self.avro = avro
        self.cast = cast

    def expr(self, c):
        return f"to_jsonb({c}{self.cast})"

    def got(self, v):
        if not isinstance(v, int) or isinstance(v, bool):
            raise Mismatch(f"not an int: {short(v)}")
        return v

    def check_main(self, m, names, what):
        expect(m == self.avro, f"{what}: main type {m!r}, not {self.avro}")


class Float(Spec):
    def __init__(self, avro):
        self.avro = avro

    def expr(self, c):
        return f"to_jsonb({c}::float8::text)"

    def want(self, j):
        return fcanon(float(j))

    def got(self, v):
        if not isinstance(v, float):
            raise Mismatch(f"not a float: {short(v)}")
        return fcanon(v)

    def check_main(self, m, names, what):
        expect(m == self.avro, f"{what}: main type {m!r}, not {self.avro}")


SPECIAL_NUMERIC = ("NaN", "Infinity", "-Infinity")


def scaled_text(n, scale):
    """The text of unscaled integer n with scale digits after the point."""
    sign = "-" if n < 0 else ""
    digits = str(abs(n))
    if scale > 0:
        digits = digits.rjust(scale + 1, "0")
        return f"{sign}{digits[:-scale]}.{digits[-scale:]}"
    if scale < 0 and n != 0:
        return sign + digits + "0" * -scale
    return sign + digits


class NumFixed(Spec):
    string_branch = True

    def __init__(self, p, s):
        self.p, self.s = p, s
        self.name = f"wal2avro.decimal_{p}_{s}"

    def expr(self, c):
        return f"to_jsonb({c}::text)"

    def got(self, v):
        if isinstance(v, str):
            if v not in SPECIAL_NUMERIC:
                raise Mismatch(f"numeric string branch holds {short(v)}")
            return v
        d = unwrap(v, self.name)
        if not isinstance(d, decimal.Decimal) or \
                d.as_tuple().exponent != -self.s:
            raise Mismatch(f"not a Decimal of scale {self.s}: {short(d)}")
        text = format(d, "f")
        return text

    def want(self, j):
        if j not in SPECIAL_NUMERIC:
            decimal.Decimal(j)      # the text is a plain decimal
        return j

    def check_main(self, m, names, what):
        expect(isinstance(m, dict) and m.get("type") == "fixed" and
               m.get("name") == self.name and
               m.get("logicalType") == "decimal" and
               m.get("precision") == self.p and m.get("scale") == self.s,
               f"{what}: main type {m!r} is not fixed {self.name} "
               f"decimal({self.p},{self.s})")
        need = ((10**self.p - 1).bit_length() + 1 + 7) // 8
        expect(m["size"] >= need,
               f"{what}: fixed size {m['size']} < {need} bytes needed")


class NumVar(Spec):
    string_branch = True

    def expr(self, c):
        return f"to_jsonb({c}::text)"

    def got(self, v):
        if isinstance(v, str):
            if v not in SPECIAL_NUMERIC:
                raise Mismatch(f"numeric string branch holds {short(v)}")
            return v
        r = unwrap(v, "wal2avro.VariableScaleDecimal")
        if not (isinstance(r, dict) and set(r) == {"scale", "value"} and
                isinstance(r["scale"], int) and
                isinstance(r["value"], bytes) and r["value"]):
            raise Mismatch(f"bad VariableScaleDecimal {short(r)}")
        n = int.from_bytes(r["value"], "big", signed=True)
        return scaled_text(n, r["scale"])

    def check_main(self, m, names, what):
        expect(isinstance(m, dict) and m.get("type") == "record" and
               m.get("name") == "wal2avro.VariableScaleDecimal" and
               [(f["name"], f["type"]) for f in m["fields"]] ==
               [("scale", "int"), ("value", "bytes")],
               f"{what}: main type {m!r} is not wal2avro.VariableScaleDecimal")


class Text(Spec):
    def got(self, v):
        if not isinstance(v, str):
            raise Mismatch(f"not a str: {short(v)}")
        return v

    def check_main(self, m, names, what):
        expect(m == "string", f"{what}: main type {m!r}, not string")


class Uuid(Spec):
    def got(self, v):
        if not isinstance(v, uuid.UUID):
            raise Mismatch(f"not a UUID: {short(v)}")
        return str(v)

    def check_main(self, m, names, what):
        expect(m == {"type": "string", "logicalType": "uuid"},
               f"{what}: main type {m!r}, not uuid")


class Bytea(Spec):
    def expr(self, c):
        return f"to_jsonb(encode({c}, 'hex'))"

    def got(self, v):
        if not isinstance(v, bytes):
            raise Mismatch(f"not bytes: {short(v)}")
        return v.hex()

    def check_main(self, m, names, what):
        expect(m == "bytes", f"{what}: main type {m!r}, not bytes")


class Date(Spec):
    def expr(self, c):
        return (f"CASE WHEN isfinite({c}) "
                f"THEN to_jsonb({c} - date '1970-01-01') "
                f"ELSE to_jsonb({c}::text) END")

    def got(self, v):
        if isinstance(v, datetime.date) and \
                not isinstance(v, datetime.datetime):
            return (v - EPOCH_DATE).days
        if isinstance(v, str):
            if v in ("infinity", "-infinity"):
                return v
            m = WIDE_DATE.match(v)
            if m:
                return days_from_civil(*map(int, m.groups()))
        raise Mismatch(f"not a date: {short(v)}")

    def check_main(self, m, names, what):
        expect(m == {"type": "int", "logicalType": "date"},
               f"{what}: main type {m!r}, not date")


class Timestamp(Spec):
    string_branch = True

    def __init__(self, tz):
        self.tz = tz
        self.logical = "timestamp-micros" if tz else "local-timestamp-micros"

    def expr(self, c):
        # not extract(epoch from c): past the int64 range it goes through a
        # double.  Days and time of day in the session's zone, UTC.
        micros = (f"(({c}::date - date '1970-01-01')::numeric * "
                  f"{MICROS_PER_DAY} + extract(epoch from {c}::time) * "
                  f"1000000)")
        return (f"CASE WHEN NOT isfinite({c}) THEN to_jsonb({c}::text) "
                f"WHEN {micros} < {INT64_MAX} "
                f"THEN to_jsonb({micros}::numeric(40,0)) "
                f"ELSE jsonb_build_object('text', {c}::text) END")

    def want(self, j):
        if isinstance(j, int):
            return ("micros", j)
        if isinstance(j, str):
            return ("special", j)
        return ("text", j["text"])

    def got(self, v):
        if isinstance(v, datetime.datetime):
            if (v.tzinfo is not None) != self.tz:
                raise Mismatch(f"time zone awareness wrong: {short(v)}")
            epoch = EPOCH_UTC if self.tz else EPOCH_NAIVE
            return ("micros", (v - epoch) // ONE_MICRO)
        if isinstance(v, str):
            if v in ("infinity", "-infinity"):
                return ("special", v)
            m = WIDE_TS.match(v)
            if m:
                if bool(m.group(8)) != self.tz:
                    raise Mismatch(f"offset marker wrong: {short(v)}")
                y, mo, d, hh, mi, ss = map(int, m.groups()[:6])
                frac = int((m.group(7) or "0").ljust(6, "0"))
                return ("micros", days_from_civil(y, mo, d) * MICROS_PER_DAY
                        + ((hh * 60 + mi) * 60 + ss) * 10**6 + frac)
            return ("text", v)
        raise Mismatch(f"not a timestamp: {short(v)}")

    def check_main(self, m, names, what):
        expect(m == {"type": "long", "logicalType": self.logical},
               f"{what}: main type {m!r}, not {self.logical}")


def time_micros(t):
    return ((t.hour * 60 + t.minute) * 60 + t.second) * 10**6 + t.microsecond


class Time(Spec):
    def expr(self, c):
        return f"to_jsonb((extract(epoch from {c}) * 1000000)::numeric(20,0))"

    def got(self, v):
        if isinstance(v, datetime.time) and v.tzinfo is None:
            return time_micros(v)
        if v == "24:00:00":
            return MICROS_PER_DAY
        raise Mismatch(f"not a time: {short(v)}")

    def check_main(self, m, names, what):
        expect(m == {"type": "long", "logicalType": "time-micros"},
               f"{what}: main type {m!r}, not time-micros")


def check_record(m, name, fields, what):
    expect(isinstance(m, dict) and m.get("type") == "record" and
           m.get("name") == name and
           [(f["name"], f["type"]) for f in m["fields"]] == fields,
           f"{what}: main type {m!r} is not {name} with fields {fields}")


def plain_record(v, name, fields):
    r = unwrap(v, name)
    if not isinstance(r, dict) or list(r) != [f for f, _ in fields] or \
            not all(isinstance(r[f], int) and not isinstance(r[f], bool)
                    for f, _ in fields):
        raise Mismatch(f"bad {name}: {short(r)}")
    return dict(r)


TIMETZ_FIELDS = [("micros", "long"), ("offset_seconds", "int")]
INTERVAL_FIELDS = [("months", "int"), ("days", "int"), ("micros", "long")]


class TimeTz(Spec):
    def expr(self, c):
        return (f"jsonb_build_object('micros', (extract(epoch from {c}::time)"
                f" * 1000000)::numeric(20,0), 'offset_seconds', "
                f"extract(timezone from {c})::int)")

    def got(self, v):
        return plain_record(v, "wal2avro.TimeTz", TIMETZ_FIELDS)

    def check_main(self, m, names, what):
        check_record(m, "wal2avro.TimeTz", TIMETZ_FIELDS, what)


class Interval(Spec):
    def expr(self, c):
        months = f"(extract(year from {c}) * 12 + extract(month from {c}))::int"
        days = f"extract(day from {c})::int"
        micros = (f"(extract(epoch from {c} - make_interval(months => {months},"
                  f" days => {days})) * 1000000)::numeric(30,0)")
        return (f"jsonb_build_object('months', {months}, 'days', {days}, "
                f"'micros', {micros})")

    def got(self, v):
        return plain_record(v, "wal2avro.Interval", INTERVAL_FIELDS)

    def check_main(self, m, names, what):
        check_record(m, "wal2avro.Interval", INTERVAL_FIELDS, what)


class Array(Spec):
    string_branch = True

    def __init__(self, elem):
        self.elem = elem

    _alias = 0

    def expr(self, c):
        # subscripts, not unnest(): unnest would expand composite elements
        Array._alias += 1
        g = f"g{Array._alias}"
        x = f"({c})[{g}.i]"
        return (f"CASE WHEN array_ndims({c}) > 1 OR array_lower({c}, 1) <> 1 "
                f"THEN jsonb_build_object('text', format('%s', {c})) "
                f"ELSE to_jsonb(ARRAY(SELECT CASE WHEN num_nulls({x}) = 1 "
                f"THEN 'null'::jsonb ELSE {self.elem.expr(x)} END "
                f"FROM generate_subscripts({c}, 1) AS {g}(i) "
                f"ORDER BY {g}.i)) END")

    def want(self, j):
        if isinstance(j, dict):
            return ("text", j["text"])
        return ("list", [None if e is None else self.elem.want(e) for e in j])

    def got(self, v):
        if isinstance(v, str):
            return ("text", v)
        if isinstance(v, list):
            return ("list", [None if e is None else self.elem.got(e)
                             for e in v])
        raise Mismatch(f"not an array: {short(v)}")

    def check_main(self, m, names, what):
        expect(isinstance(m, dict) and m.get("type") == "array",
               f"{what}: main type {m!r} is not an array")
        check_union(self.elem, m["items"], names, False, what + "[]")


class Composite(Spec):
    def __init__(self, fullname, attrs):
        self.fullname = fullname
        self.attrs = attrs          # [(name, spec)], names valid in Avro

    def expr(self, c):
        parts = []
        for a, spec in self.attrs:
            ac = f"({c}).{a}"
            parts.append(f"'{a}', CASE WHEN num_nulls({ac}) = 1 THEN NULL "
                         f"ELSE {spec.expr(ac)} END")
        return f"jsonb_build_object({', '.join(parts)})"

    def want(self, j):
        return {a: None if j[a] is None else spec.want(j[a])
                for a, spec in self.attrs}

    def got(self, v):
        r = unwrap(v, self.fullname)
        if not isinstance(r, dict) or list(r) != [a for a, _ in self.attrs]:
            raise Mismatch(f"bad {self.fullname}: {short(r)}")
        return {a: None if r[a] is None else spec.got(r[a])
                for a, spec in self.attrs}

    def check_main(self, m, names, what):
        expect(isinstance(m, dict) and m.get("type") == "record" and
               m.get("name") == self.fullname and
               [f["name"] for f in m["fields"]] == [a for a, _ in self.attrs],
               f"{what}: main type {m!r} is not {self.fullname}")
        for f, (a, spec) in zip(m["fields"], self.attrs):
            check_field(spec, f, names, False, a, None, f"{what}.{a}")


BOOL = Bool()
INT2 = Int("int")
INT4 = Int("int")
INT8 = Int("long")
OID = Int("long", "::int8")
FLOAT4 = Float("float")
FLOAT8 = Float("double")
NUMVAR = NumVar()
TEXT = Text()
UUID = Uuid()
BYTEA = Bytea()
DATE = Date()
TS = Timestamp(False)
TSTZ = Timestamp(True)
TIME = Time()
TIMETZ = TimeTz()
INTERVAL = Interval()


# ---------------------------------------------------------------------------
# Comparing rows
# ---------------------------------------------------------------------------

def wrap_expr(spec, c):
    return f"CASE WHEN num_nulls({c}) = 1 THEN NULL ELSE {spec.expr(c)} END"


def select_canon(conn, table, specs, key_cols, order=None):
    """key tuple -> {column: canonical form} of every row of table."""
    cols = [wrap_expr(specs[c], f"t.{c}") for c in specs]
    keys = [wrap_expr(specs[k], f"t.{k}") for k in key_cols]
    sql = (f"SELECT {', '.join(keys)}, {', '.join(cols)} FROM {table} t"
           + (f" ORDER BY {order}" if order else ""))
    out = {}
    for row in run(conn, sql):
        key = tuple(canon_want(specs[k], v) for k, v in zip(key_cols, row))
        vals = row[len(key_cols):]
        out[key] = {c: canon_want(specs[c], v) for c, v in zip(specs, vals)}
    return out


def canon_want(spec, j):
    return None if j is None else spec.want(j)


def canon_got(spec, v):
    if v is None:
        return None
    if v == UNCHANGED:
        return UNCHANGED
    return spec.got(v)


def diff_row(where, specs, got_row, want_row, unchanged_ok=()):
    """Error lines for every column whose decoded value differs from SELECT."""
    errors = []
    if got_row is None or want_row is None:
        if got_row is not want_row:
            errors.append(f"{where}: decoded row {short(got_row)} but SELECT "
                          f"row {short(want_row)}")
        return errors
    if set(got_row) != set(specs):
        errors.append(f"{where}: decoded fields {sorted(got_row)} != "
                      f"columns {sorted(specs)}")
        return errors
    for c, spec in specs.items():
        try:
            g = canon_got(spec, got_row[c])
        except Mismatch as e:
            errors.append(f"{where}: column {c}: {e} (SELECT: "
                          f"{short(want_row[c])})")
            continue
        if g == UNCHANGED and c in unchanged_ok:
            continue
        if g != want_row[c]:
            errors.append(f"{where}: column {c}: decoded {short(g)} != "
                          f"SELECT {short(want_row[c])}")
    return errors


def fail_on(errors):
    if errors:
        shown = errors[:40]
        more = len(errors) - len(shown)
        pytest.fail("\n".join(shown) + (f"\n... and {more} more" if more
                                        else ""), pytrace=False)


# ---------------------------------------------------------------------------
# 1. Every type of the mapping
# ---------------------------------------------------------------------------

# The values: SQL expressions.  NULL is added to every case.
BIG_TEXT = ("(SELECT string_agg(md5('big' || g), '') "
            "FROM generate_series(1, 3200) g)")          # 100 KB, no repeats
ALL_BYTES = ("(SELECT string_agg(set_byte('\\x00'::bytea, 0, g), "
             "''::bytea ORDER BY g) FROM generate_series(0, 255) g)")
BIG_BYTES = ("(SELECT decode(string_agg(md5('b' || g), ''), 'hex') "
             "FROM generate_series(1, 3000) g)")
ASCII_TEXT = ("(SELECT string_agg(chr(g), '' ORDER BY g) "
              "FROM generate_series(1, 127) g)")

def numlit(sign, text):
    return f"'{sign}{text}'::numeric"


HUGE = "9" * 131072                     # the most digits before the point
HUGE_FRAC = "7" * 1000 + "." + "3" * 16383
TINY = "0." + "0" * 16382 + "1"         # the most digits after it


def q(s):
    return "'" + s.replace("'", "''") + "'"


TYPE_SETUP = """
CREATE TYPE rt_types.mood AS ENUM ('sad', 'ok', 'happy', 'with space', 'ünï');
CREATE DOMAIN rt_types.posint AS int CHECK (VALUE > 0);
CREATE DOMAIN rt_types.label AS text;
CREATE DOMAIN rt_types.money2 AS numeric(6,2);
CREATE TYPE rt_types.inner_t AS (x int, y text);
CREATE TYPE rt_types.outer_t AS (a int, b rt_types.inner_t, c numeric(5,2),
                                 d text[], e timestamptz, f bytea);
"""

INNER_T = Composite("wal2avro.composite.rt_types.inner_t",
                    [("x", INT4), ("y", TEXT)])
OUTER_T = Composite("wal2avro.composite.rt_types.outer_t",
                    [("a", INT4), ("b", INNER_T), ("c", NumFixed(5, 2)),
                     ("d", Array(TEXT)), ("e", TSTZ), ("f", BYTEA)])

TS_VALUES = [
    "'1970-01-01 00:00:00'", "'2000-01-01 00:00:00.000001'",
    "'1969-12-31 23:59:59.999999'", "'infinity'", "'-infinity'",
    "'4714-11-24 00:00:00 BC'", "'0001-01-01 00:00:00 BC'",
    "'0044-03-15 12:00:00 BC'", "'0001-01-01 00:00:00'",
    "'9999-12-31 23:59:59.999999'", "'10000-01-01 00:00:00'",
    "'294246-12-31 23:59:59.999999'",
    "'294247-01-10 04:00:54.775806'",   # Unix micros = long max - 1
    # Unix micros = long max: that long is the +infinity sentinel, so this
    # finite value must come in the string branch, as col::text
    "'294247-01-10 04:00:54.775807'",
    "'294247-01-10 04:00:54.775808'",   # the first past the long's range
    "'294276-12-31 23:59:59.999999'",   # PostgreSQL's maximum
]

# (id, declared type, spec, values, feature needed)
TYPE_CASES = [
    ("bool", "bool", BOOL, ["true", "false"], None),
    ("int2", "int2", INT2, ["0", "1", "-1", "32767", "-32768"], None),
    ("int4", "int4", INT4, ["0", "-1", "2147483647", "-2147483648"], None),
    ("int8", "int8", INT8, ["0", "-1", "4294967296", "9223372036854775807",
                            "-9223372036854775808"], None),
    ("oid", "oid", OID, ["0", "1", "2147483648", "4294967295"], None),
    ("float4", "float4", FLOAT4,
     ["'0'", "'-0'", "'NaN'", "'Infinity'", "'-Infinity'", "'3.4028235e38'",
      "'-3.4028235e38'", "'1.4e-45'", "'1.17549435e-38'", "'0.1'",
      "'16777217'", "'-1e-30'"], None),
    ("float8", "float8", FLOAT8,
     ["'0'", "'-0'", "'NaN'", "'Infinity'", "'-Infinity'",
      "'1.7976931348623157e308'", "'-1.7976931348623157e308'", "'5e-324'",
      "'2.2250738585072014e-308'", "'0.1'", "'9007199254740993'",
      "'-1e-300'"], None),
    ("numeric_40_10", "numeric(40,10)", NumFixed(40, 10),
     ["0", "123.5", "-123.5", "'" + "9" * 30 + "." + "9" * 10 + "'",
      "'-" + "9" * 30 + "." + "9" * 10 + "'", "0.0000000001",
      "-0.0000000001", "'NaN'", "-1", "1e29"], None),
    ("numeric_5_2", "numeric(5,2)", NumFixed(5, 2),
     ["999.99", "-999.99", "0.01", "-0.01", "0", "1.005", "'NaN'"], None),
    ("numeric_3_0", "numeric(3,0)", NumFixed(3, 0),
     ["127", "128", "-128", "-129", "255", "256", "-256", "999", "-999",
      "0"], None),
    ("numeric_2_0", "numeric(2,0)", NumFixed(2, 0),
     ["99", "-99", "64", "-64", "63", "-65"], None),
    ("numeric_18_18", "numeric(18,18)", NumFixed(18, 18),
     ["0.999999999999999999", "-0.999999999999999999", "0.5",
      "0.000000000000000001"], None),
    ("numeric_1000_0", "numeric(1000,0)", NumFixed(1000, 0),
     ["'" + "9" * 1000 + "'", "'-" + "9" * 1000 + "'", "1", "-1"], None),
    ("numeric_1000_1000", "numeric(1000,1000)", NumFixed(1000, 1000),
     ["'0." + "9" * 1000 + "'", "'-0." + "0" * 999 + "1'"], None),
    ("numeric_var", "numeric", NUMVAR,
     ["0", "1", "-1", "0.5", "-0.5", "1.000", "127", "128", "-128", "-129",
      "255", "256", "-256", "32767", "32768", "'NaN'", "'Infinity'",
      "'-Infinity'", "123456789012345678901234567890.123456789",
      "-0.000000000000000000001", "'1e-16383'",
      # the extremes; the plugin needs seconds for each of the two huge
      # ones (its decimal conversion is quadratic in the digits)
      numlit("", HUGE), numlit("-", HUGE_FRAC), numlit("", TINY),
      numlit("-", TINY)], None),
    ("numeric_neg_scale", "numeric(5,-2)", NUMVAR,
     ["12345", "-99949", "0", "50", "'NaN'"], None),
    ("numeric_scale_gt_prec", "numeric(3,5)", NUMVAR,
     ["0.00123", "-0.00999", "0"], None),
    ("text", "text", TEXT,
     ["''", "'a'", "E'line\\nbreak\\ttab\\r\\n'", "'héllo wörld ✓ 𝄞 日本語'",
      "'UNCHANGED'", "'null'", ASCII_TEXT, "repeat('x', 10000)", BIG_TEXT],
     None),
    ("varchar", "varchar(5)", TEXT, ["''", "'abc'", "'abcde'", "'ü✓𝄞'"],
     None),
    ("varchar_nolimit", "varchar", TEXT, ["'x'", "repeat('yz', 500)"], None),
    ("bpchar", "char(5)", TEXT, ["''", "'ab'", "'abcde'", "'é'"], None),
    ("bpchar_nolimit", "bpchar", TEXT, ["'ab  '", "' '"], None),
    ("name", "name", TEXT, ["''", "'abc'", "repeat('n', 63)", "'Ünï'"],
     None),
    ("char", '"char"', TEXT, ["'a'", "'Z'", "''", "'\\200'", "'\\377'"],
     None),
    ("bytea", "bytea", BYTEA,
     ["'\\x'", "'\\x00'", "'\\x0a'", "'\\xff00'", ALL_BYTES, BIG_BYTES],
     None),
    ("date", "date", DATE,
     ["'1970-01-01'", "'2000-02-29'", "'1969-12-31'", "'infinity'",
      "'-infinity'", "'4714-11-24 BC'", "'0001-01-01 BC'",
      "'0044-03-15 BC'", "'0001-01-01'", "'9999-12-31'", "'10000-01-01'",
      "'5874897-12-31'"], None),
    ("timestamp", "timestamp", TS, TS_VALUES, None),
    ("timestamptz", "timestamptz", TSTZ,
     [v if "infinity" in v else v.replace(" BC'", "+00 BC'")
      if "BC" in v else v[:-1] + "+00'" for v in TS_VALUES] +
     ["'2020-06-01 12:00:00+05:30'", "'2020-06-01 12:00:00-08'",
      "'1900-01-01 00:00:00+00:19:32'"], None),
    ("time", "time", TIME,
     ["'00:00:00'", "'23:59:59.999999'", "'24:00:00'", "'12:34:56.789012'",
      "'00:00:00.000001'"], None),
    ("timetz", "timetz", TIMETZ,
     ["'00:00:00+00'", "'12:00:00+05:30'", "'12:00:00-08'",
      "'23:59:59.999999+15:59'", "'00:00:00-15:59'", "'24:00:00+00'",
      "'24:00:00-15:59'", "'01:02:03.000004+01:02:03'"], None),
    ("interval", "interval", INTERVAL,
     ["'0'", "'1 year 2 months 3 days 04:05:06.789'",
      "'-1 year -2 months +3 days -04:05:06'", "'178000000 years'",
      "'-178000000 years'", "'2147483647 days'", "'-2147483648 days'",
      "'2562047788:00:54.775807'", "'-2562047788:00:54.775807'",
      "'1 mon -1 day'", "'1 microsecond'", "'-1 microsecond'"], None),
    ("uuid", "uuid", UUID,
     ["'00000000-0000-0000-0000-000000000000'",
      "'ffffffff-ffff-ffff-ffff-ffffffffffff'",
      "'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'"], None),
    ("json", "json", TEXT,
     ["'{\"b\":1,  \"a\":[1,2,3]}'", "'\"str\"'", "'null'", "'[]'",
      "'{\"k\":\"\\u00e9\\n\"}'", "'  1.50  '"], None),
    ("jsonb", "jsonb", TEXT,
     ["'{\"b\":1,  \"a\":[1,2,3]}'", "'\"str\"'", "'null'", "'[]'",
      "'{\"k\":\"\\u00e9\\n\"}'", "'1.50'"], None),
    ("int4_array", "int4[]", Array(INT4),
     ["'{}'", "'{1,2,3}'", "'{NULL}'", "'{1,NULL,-2147483648}'",
      "'[0:2]={1,2,3}'", "'{{1,2},{3,4}}'", "'[5:5]={7}'",
      "ARRAY(SELECT generate_series(1, 1000))"], None),
    ("text_array", "text[]", Array(TEXT),
     ["'{a,NULL,\"\",NULL}'", "'{\"with,comma\",\"with \\\"quote\",NULL,\"NULL\"}'",
      "'{}'", "'{{a,b},{c,d}}'", "ARRAY[E'new\\nline', 'ü']",
      "'[2:3]={x,y}'"], None),
    ("numeric_array", "numeric[]", Array(NUMVAR),
     ["'{1.5,NaN,-0.001,NULL}'", "'{Infinity,-Infinity,0}'", "'{}'"], None),
    ("numeric_5_2_array", "numeric(5,2)[]", Array(NumFixed(5, 2)),
     ["'{1.5,NaN,NULL,-999.99}'", "'{{1,2},{3,4}}'"], None),
    ("date_array", "date[]", Array(DATE),
     ["'{infinity,2000-01-01,NULL,-infinity}'"], None),
    ("timestamptz_array", "timestamptz[]", Array(TSTZ),
     ["'{infinity,\"2000-01-01 00:00:00+00\",NULL}'",
      "ARRAY['294276-12-31 23:59:59.999999+00'::timestamptz]"], None),
    ("bool_array", "bool[]", Array(BOOL), ["'{t,f,NULL}'"], None),
    ("uuid_array", "uuid[]", Array(UUID),
     ["'{00000000-0000-0000-0000-000000000001,NULL}'"], None),
    ("interval_array", "interval[]", Array(INTERVAL),
     ["'{\"1 day\",NULL,\"-1 mon\"}'"], None),
    ("enum", "rt_types.mood", TEXT,
     ["'sad'", "'with space'", "'ünï'"], None),
    ("enum_array", "rt_types.mood[]", Array(TEXT),
     ["'{happy,NULL,\"with space\"}'"], None),
    ("domain_int", "rt_types.posint", INT4, ["1", "2147483647"], None),
    ("domain_text", "rt_types.label", TEXT, ["''", "'label'"], None),
    ("domain_numeric", "rt_types.money2", NumFixed(6, 2),
     ["1234.56", "-0.5", "'NaN'"], None),
    ("domain_int_array", "rt_types.posint[]", Array(INT4),
     ["'{1,NULL,3}'"], None),
    ("composite", "rt_types.outer_t", OUTER_T,
     ["ROW(1, ROW(2, 'two'), 1.5, '{a,NULL}', '2000-01-01+00', "
      "'\\x0a00')::rt_types.outer_t",
      "ROW(NULL, NULL, NULL, NULL, NULL, NULL)::rt_types.outer_t",
      "ROW(NULL, ROW(NULL, NULL), 'NaN', '{}', 'infinity', '\\x')"
      "::rt_types.outer_t",
      "ROW(-2147483648, ROW(0, ''), -999.99, '{{a,b},{c,d}}', "
      "'294276-12-31 23:59:59.999999+00', NULL)::rt_types.outer_t"], None),
    ("composite_array", "rt_types.inner_t[]", Array(INNER_T),
     ["ARRAY[ROW(1, 'a')::rt_types.inner_t, NULL, "
      "ROW(NULL, NULL)::rt_types.inner_t]",
      "'{}'"], None),
    ("int4range", "int4range", TEXT,
     ["'[1,10)'", "'empty'", "'(,5]'", "'[3,)'"], None),
    ("tsrange", "tsrange", TEXT,
     ["'[\"2000-01-01 00:00\",\"2000-01-02 00:00\")'", "'(,infinity]'"],
     None),
    ("tstzrange", "tstzrange", TEXT,
     ["'[2000-01-01 00:00+05,2000-01-02 00:00+00)'"], None),
    ("inet", "inet", TEXT,
     ["'192.168.0.1'", "'::1'", "'10.0.0.0/8'", "'2001:db8::1/64'"], None),
    ("cidr", "cidr", TEXT, ["'10.0.0.0/8'", "'2001:db8::/32'"], None),
    ("macaddr", "macaddr", TEXT, ["'08:00:2b:01:02:03'"], None),
    ("macaddr8", "macaddr8", TEXT, ["'08:00:2b:01:02:03:04:05'"], None),
    ("money", "money", TEXT,
     ["'12.34'", "'-92233720368547758.08'", "'92233720368547758.07'"],
     None),
    ("bit8", "bit(8)", TEXT, ["B'10101010'", "B'00000000'"], None),
    ("varbit", "varbit", TEXT, ["B''", "B'1'", "B'1010101010101'"], None),
    ("tsvector", "tsvector", TEXT, ["'a fat cat sat on a mat'", "''"], None),
    ("tsquery", "tsquery", TEXT, ["'fat & (rat | cat)'"], None),
    ("xml", "xml", TEXT, ["'<a x=\"1\">text</a>'", "'plain'"], "xml"),
    ("point", "point", TEXT, ["'(1.5,-2)'", "'(0,0)'"], None),
    ("box", "box", TEXT, ["'((0,0),(1,1))'"], None),
    ("pg_lsn", "pg_lsn", TEXT, ["'0/0'", "'FFFFFFFF/FFFFFFFF'"], None),
    ("hstore", "hstore", TEXT,
     ["'\"a\"=>\"1\", \"b\"=>NULL'", "''"], "hstore"),
]

def feature_available(conn, feature):
    if feature is None:
        return True
    try:
        if feature == "xml":
            run(conn, "SELECT '<a/>'::xml")
        elif feature == "hstore":
            run(conn, "CREATE EXTENSION IF NOT EXISTS hstore")
        return True
    except psycopg.Error:
        return False


@pytest.fixture(scope="module")
def types_env(conn):
    """One table per type case, rows inserted, then UPDATE ... SET id = id.

    Tables have REPLICA IDENTITY FULL, so the UPDATE logs the whole old row:
    'before' is checked as well as 'after'.  One slot, created before the
    tables' rows; each test peeks it with include-tables=<its table>.
    """
    slot = "rt_types"
    run(conn, "DROP SCHEMA IF EXISTS rt_types CASCADE")
    run(conn, "CREATE SCHEMA rt_types")
    run(conn, TYPE_SETUP)
    features = {f: feature_available(conn, f)
                for f in {c[4] for c in TYPE_CASES} if f}
    create_slot(conn, slot)
    env = {"slot": slot, "features": features, "errors": {}, "sizes": {},
           "pg_types": {}}
    cases = [(c[0], c[1], c[3]) for c in TYPE_CASES
             if c[4] is None or features[c[4]]]
    for name, decl, values in cases:
        table = f"rt_types.t_{name}"
        try:
            with conn.transaction():
                run(conn, f"CREATE TABLE {table} (id int PRIMARY KEY, "
                          f"v {decl})")
                run(conn, f"ALTER TABLE {table} REPLICA IDENTITY FULL")
                for i, val in enumerate(values + ["NULL"], 1):
                    run(conn, f"INSERT INTO {table} VALUES ({i}, {val})")
        except psycopg.Error as e:
            env["errors"][name] = f"setting up {table}: {e}"
            continue
        env["pg_types"][name] = run(
            conn, "SELECT format_type(atttypid, atttypmod), attlen = -1 "
                  "FROM pg_attribute WHERE attrelid = %s::regclass "
                  "AND attname = 'v'", (table,))[0]
        env["sizes"][name] = dict(run(
            conn, f"SELECT id, pg_column_size(v) FROM {table}"))
        # values that are out of line are not logged in the new row (FULL
        # fills them from the old one): test_unchanged_toast's business;
        # leaving them out also spares re-encoding the huge numerics
        run(conn, f"UPDATE {table} SET id = id WHERE v IS NULL OR "
                  f"pg_column_size(v) < 1800")
    yield env
    drop_slot(conn, slot)
    run(conn, "DROP SCHEMA IF EXISTS rt_types CASCADE")


def check_type_case(conn, env, name, spec):
    if name in env["errors"]:
        pytest.fail(env["errors"][name], pytrace=False)
    table = f"t_{name}"
    pg_type, toastable = env["pg_types"][name]
    stream = decode(conn, env["slot"],
                    ["include-tables", f"rt_types.{table}"])
    assert {c["table"] for c in stream.changes} == {table}

    # the schema: one SCHEMA frame, the column's field as the mapping says
    assert len(stream.schemas) == 1, \
        f"{len(stream.schemas)} SCHEMA frames for one unchanged table"
    fields, names = value_fields(stream.schemas[0])
    assert [f["name"] for f in fields] == ["id", "v"]
    try:
        check_field(INT4, fields[0], names, False, "id", "integer", "id")
        check_field(spec, fields[1], names, toastable, "v", pg_type, "v")
    except SchemaMismatch as e:
        pytest.fail(f"rt_types.{table}: schema: {e}", pytrace=False)

    want = select_canon(conn, f"rt_types.{table}", {"id": INT4, "v": spec},
                        ["id"])
    sizes = env["sizes"][name]
    for i, size in sizes.items():
        assert size is None or not 1800 < size < 2300, \
            f"row {i}: value of {size} bytes may or may not be TOASTed"
    n = len(want)
    updated = sorted(i for i, size in sizes.items()
                     if size is None or size < 1800)
    ops = [c["op"] for c in stream.changes]
    assert ops == ["c"] * n + ["u"] * len(updated), f"ops {ops}"
    ids = [c["key"]["id"] if c["key"] else None for c in stream.changes]
    assert ids[:n] == list(range(1, n + 1)), f"keys {ids}"
    assert sorted(ids[n:]) == updated, f"keys {ids}"
    specs = {"id": INT4, "v": spec}
    errors = []
    for ch in stream.changes:
        i = ch["key"]["id"]
        where = f"rt_types.{table} id={i} op={ch['op']}"
        wanted = want[(i,)]
        after = row_of(ch["value"]["after"], table)
        before = row_of(ch["value"]["before"], table)
        if ch["op"] == "c":
            if before is not None:
                errors.append(f"{where}: before is {short(before)}")
        else:
            # REPLICA IDENTITY FULL: the whole old row
            errors += diff_row(where + " before", specs, before, wanted)
        errors += diff_row(where + " after", specs, after, wanted)
    fail_on(errors)


@pytest.mark.parametrize("case", TYPE_CASES, ids=[c[0] for c in TYPE_CASES])
def test_type_roundtrip(conn, types_env, case):
    name, decl, spec, values, feature = case
    if feature and not types_env["features"][feature]:
        pytest.skip(f"{feature} is not available on this server")
    check_type_case(conn, types_env, name, spec)


def test_types_cover_the_mapping():
    """Every row of doc/protocol.md's type table has at least one case."""
    declared = " ".join(c[1] for c in TYPE_CASES)
    for t in ["bool", "int2", "int4", "int8", "oid", "float4", "float8",
              "numeric(", "numeric", "text", "varchar", "char(", '"char"',
              "name", "bytea", "date", "timestamp", "timestamptz", "time",
              "timetz", "interval", "uuid", "json", "jsonb", "[]",
              "rt_types.mood", "rt_types.posint", "rt_types.outer_t",
              "int4range", "inet", "money", "bit(", "varbit", "tsvector",
              "xml", "point", "hstore"]:
        assert t in declared, t


def composite_oid(conn, regtype):
    return run(conn, "SELECT %s::regtype::oid::int8", (regtype,))[0][0]


def test_composite_name_clash_unique(conn):
    """Composite types whose names map to the same Avro name.

    "pair-t" and pair_t would both become wal2avro.composite.rt_clash.pair_t;
    so would pair_t of schema "rt-clash".  Within one schema the first type
    by column order keeps the name and a later one gets _o<its type OID>
    (doc/protocol.md), so every column has a record of its own that
    describes its values.  An array of one of them refers to the same record
    by name.
    """
    run(conn, "DROP SCHEMA IF EXISTS rt_clash CASCADE")
    run(conn, 'DROP SCHEMA IF EXISTS "rt-clash" CASCADE')
    run(conn, "CREATE SCHEMA rt_clash")
    run(conn, 'CREATE SCHEMA "rt-clash"')
    run(conn, 'CREATE TYPE rt_clash."pair-t" AS (a int, b int)')
    run(conn, "CREATE TYPE rt_clash.pair_t AS (x text)")
    run(conn, 'CREATE TYPE "rt-clash".pair_t AS (y bool)')
    run(conn, 'CREATE TABLE rt_clash.t (id int PRIMARY KEY, '
              'p rt_clash."pair-t", q rt_clash.pair_t, r "rt-clash".pair_t, '
              'ps rt_clash."pair-t"[])')
    oid_q = composite_oid(conn, 'rt_clash.pair_t')
    oid_r = composite_oid(conn, '"rt-clash".pair_t')
    name_p = "wal2avro.composite.rt_clash.pair_t"
    name_q = f"wal2avro.composite.rt_clash.pair_t_o{oid_q}"
    name_r = f"wal2avro.composite.rt_clash.pair_t_o{oid_r}"
    create_slot(conn, "rt_clash")
    try:
        run(conn, "INSERT INTO rt_clash.t VALUES (1, ROW(1, 2), ROW('x'), "
                  "ROW(true), ARRAY[ROW(3, 4), NULL]::rt_clash.\"pair-t\"[])")
        stream = decode(conn, "rt_clash")
        fields, names = value_fields(stream.schema_of("t"))
        specs = {
            "p": Composite(name_p, [("a", INT4), ("b", INT4)]),
            "q": Composite(name_q, [("x", TEXT)]),
            "r": Composite(name_r, [("y", BOOL)]),
        }
        specs["ps"] = Array(specs["p"])
        try:
            for f in fields[1:]:
                check_field(specs[f["name"]], f, names, True, f["name"],
                            None, f["name"])
        except SchemaMismatch as e:
            pytest.fail(f"rt_clash.t: schema: {e}", pytrace=False)
        assert {n for n in names if ".composite." in n} == \
            {name_p, name_q, name_r}
        after = row_of(stream.changes[0]["value"]["after"])
        assert after == {"id": 1, "p": (name_p, {"a": 1, "b": 2}),
                         "q": (name_q, {"x": "x"}),
                         "r": (name_r, {"y": True}),
                         "ps": [(name_p, {"a": 3, "b": 4}), None]}
    finally:
        drop_slot(conn, "rt_clash")
        run(conn, "DROP SCHEMA rt_clash CASCADE")
        run(conn, 'DROP SCHEMA "rt-clash" CASCADE')


def test_composite_name_clash_with_oid_suffix(conn):
    """A valid type name that looks like a renamed one.

    A type named pair_t_o<OID of "pair-t"> next to "pair-t": whatever the
    names, the two must get two records.
    """
    run(conn, "DROP SCHEMA IF EXISTS rt_clash2 CASCADE")
    run(conn, "CREATE SCHEMA rt_clash2")
    run(conn, 'CREATE TYPE rt_clash2."pair-t" AS (a int, b int)')
    oid_p = composite_oid(conn, 'rt_clash2."pair-t"')
    run(conn, f"CREATE TYPE rt_clash2.pair_t_o{oid_p} AS (x text)")
    run(conn, f'CREATE TABLE rt_clash2.t (id int PRIMARY KEY, '
              f'p rt_clash2."pair-t", q rt_clash2.pair_t_o{oid_p})')
    create_slot(conn, "rt_clash2")
    try:
        run(conn, "INSERT INTO rt_clash2.t VALUES (1, ROW(1, 2), ROW('x'))")
        try:
            stream = decode(conn, "rt_clash2")
        except w.FrameError as e:
            pytest.fail(f"the stream does not decode: {e}", pytrace=False)
        names = {n for n in collect_named(json.loads(
            stream.schema_of("t")["value_schema"])) if ".composite." in n}
        assert len(names) == 2, names
        after = row_of(stream.changes[0]["value"]["after"])
        assert after["p"][1] == {"a": 1, "b": 2}
        assert after["q"][1] == {"x": "x"}
        assert after["p"][0] != after["q"][0]
    finally:
        drop_slot(conn, "rt_clash2")
        run(conn, "DROP SCHEMA rt_clash2 CASCADE")


def plain(v):
    """A decoded value without the (fullname, value) of named branches."""
    if isinstance(v, tuple) and len(v) == 2 and isinstance(v[0], str):
        return plain(v[1])
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [plain(x) for x in v]
    return v


def test_composite_changed_mid_stream(conn):
    """Composite types altered while the slot streams, read back with fastavro.

    ALTER TYPE ... ADD, DROP and RENAME ATTRIBUTE on a type a column uses, on
    one nested in another composite and in an array, and ALTER TABLE ... ADD
    COLUMN on a table whose row type a column uses; the first ALTERs share a
    transaction with rows written before and after them.  Decoding never
    fails; every change's value decodes with the SCHEMA frame before it
    (strict Avro), whose records have the attributes of that moment; old
    values copied into new row versions have added attributes null and
    dropped ones gone; the last version of each row equals what PostgreSQL
    holds (to_jsonb).
    """
    run(conn, "DROP SCHEMA IF EXISTS rt_cc CASCADE")
    run(conn, "CREATE SCHEMA rt_cc")
    run(conn, "CREATE TYPE rt_cc.pair AS (a int, b text)")
    run(conn, "CREATE TYPE rt_cc.inner_t AS (x int)")
    run(conn, "CREATE TYPE rt_cc.outer_t AS (i rt_cc.inner_t, n int)")
    run(conn, "CREATE TABLE rt_cc.row_t (a int, b text)")
    run(conn, "CREATE TABLE rt_cc.t (id int PRIMARY KEY, p rt_cc.pair, "
              "o rt_cc.outer_t, arr rt_cc.inner_t[], r rt_cc.row_t)")
    create_slot(conn, "rt_cc")
    try:
        run(conn, "INSERT INTO rt_cc.t VALUES (1, ROW(1, 'one'), "
                  "ROW(ROW(1), 1), ARRAY[ROW(1)]::rt_cc.inner_t[], "
                  "ROW(1, 'one'))")
        with conn.transaction():
            run(conn, "INSERT INTO rt_cc.t VALUES (2, ROW(2, 'two'), "
                      "ROW(ROW(2), 2), ARRAY[ROW(2)]::rt_cc.inner_t[], "
                      "ROW(2, 'two'))")
            run(conn, "ALTER TYPE rt_cc.pair ADD ATTRIBUTE c int")
            run(conn, "ALTER TYPE rt_cc.inner_t ADD ATTRIBUTE y text")
            run(conn, "ALTER TABLE rt_cc.row_t ADD COLUMN c int")
            run(conn, "INSERT INTO rt_cc.t VALUES (3, ROW(3, 'three', 3), "
                      "ROW(ROW(3, 'three'), 3), "
                      "ARRAY[ROW(3, 'three'), NULL]::rt_cc.inner_t[], "
                      "ROW(3, 'three', 3))")
            # old values in a new row version; an array of an old and a new
            run(conn, "UPDATE rt_cc.t SET id = 11, arr = arr || "
                      "(SELECT arr FROM rt_cc.t WHERE id = 3) WHERE id = 1")
        run(conn, "ALTER TYPE rt_cc.pair DROP ATTRIBUTE b")
        run(conn, "ALTER TYPE rt_cc.pair RENAME ATTRIBUTE c TO c2")
        run(conn, "ALTER TYPE rt_cc.inner_t RENAME ATTRIBUTE x TO x2")
        run(conn, "INSERT INTO rt_cc.t VALUES (4, ROW(4, 4), "
                  "ROW(ROW(4, 'four'), 4), ARRAY[ROW(4, 'four')]::rt_cc.inner_t[], "
                  "ROW(4, 'four', 4))")
        run(conn, "UPDATE rt_cc.t SET id = 13 WHERE id = 3")
        try:
            stream = decode(conn, "rt_cc")
        except (w.FrameError, psycopg.Error) as e:
            pytest.fail(f"the stream does not decode: {e}", pytrace=False)

        def records(schema_frame):
            return {n: [f["name"] for f in d["fields"]]
                    for n, d in value_fields(schema_frame)[1].items()
                    if ".composite." in n}

        pair, inner, outer, row_t = (f"wal2avro.composite.rt_cc.{n}" for n in
                                     ("pair", "inner_t", "outer_t", "row_t"))
        assert [records(x) for x in stream.schemas] == [
            {pair: ["a", "b"], outer: ["i", "n"], inner: ["x"],
             row_t: ["a", "b"]},
            {pair: ["a", "b", "c"], outer: ["i", "n"], inner: ["x", "y"],
             row_t: ["a", "b", "c"]},
            {pair: ["a", "c2"], outer: ["i", "n"], inner: ["x2", "y"],
             row_t: ["a", "b", "c"]},
        ]
        afters = [(c["key"]["id"], plain(row_of(c["value"]["after"])))
                  for c in stream.changes if c["value"]["after"] is not None]
        expected = [
            (1, {"id": 1, "p": {"a": 1, "b": "one"}, "o": {"i": {"x": 1}, "n": 1},
                 "arr": [{"x": 1}], "r": {"a": 1, "b": "one"}}),
            (2, {"id": 2, "p": {"a": 2, "b": "two"}, "o": {"i": {"x": 2}, "n": 2},
                 "arr": [{"x": 2}], "r": {"a": 2, "b": "two"}}),
            (3, {"id": 3, "p": {"a": 3, "b": "three", "c": 3},
                 "o": {"i": {"x": 3, "y": "three"}, "n": 3},
                 "arr": [{"x": 3, "y": "three"}, None],
                 "r": {"a": 3, "b": "three", "c": 3}}),
            (11, {"id": 11, "p": {"a": 1, "b": "one", "c": None},
                  "o": {"i": {"x": 1, "y": None}, "n": 1},
                  "arr": [{"x": 1, "y": None}, {"x": 3, "y": "three"}, None],
                  "r": {"a": 1, "b": "one", "c": None}}),
            (4, {"id": 4, "p": {"a": 4, "c2": 4},
                 "o": {"i": {"x2": 4, "y": "four"}, "n": 4},
                 "arr": [{"x2": 4, "y": "four"}],
                 "r": {"a": 4, "b": "four", "c": 4}}),
            (13, {"id": 13, "p": {"a": 3, "c2": 3},
                  "o": {"i": {"x2": 3, "y": "three"}, "n": 3},
                  "arr": [{"x2": 3, "y": "three"}, None],
                  "r": {"a": 3, "b": "three", "c": 3}}),
        ]
        assert afters == expected
        # rows written after the last ALTER are what PostgreSQL holds now
        now = {r[0]: r[1] for r in run(conn, "SELECT id, to_jsonb(t) "
                                             "FROM rt_cc.t t WHERE id IN (4, 13)")}
        assert {i: v for i, v in afters if i in (4, 13)} == now
    finally:
        drop_slot(conn, "rt_cc")
        run(conn, "DROP SCHEMA rt_cc CASCADE")


def test_composite_value_postgres_cannot_read(conn):
    """A stored value PostgreSQL refuses to read does not stop the stream.

    The value is made with an attribute that a rolled-back subtransaction
    added and stored after another attribute took its place: SELECT refuses
    it (SQLSTATE 22P07).  The change still decodes, strict Avro, with every
    attribute null, and the next change is there as written.
    """
    run(conn, "DROP SCHEMA IF EXISTS rt_ccbad CASCADE")
    run(conn, "CREATE SCHEMA rt_ccbad")
    run(conn, "CREATE TYPE rt_ccbad.undone AS (a int, b text)")
    run(conn, "CREATE TABLE rt_ccbad.t (id int PRIMARY KEY, v rt_ccbad.undone)")
    create_slot(conn, "rt_ccbad")
    try:
        run(conn, """
DO $$
DECLARE
    kept rt_ccbad.undone[];
BEGIN
    BEGIN
        ALTER TYPE rt_ccbad.undone ADD ATTRIBUTE x text;
        EXECUTE 'SELECT ARRAY[ROW(1, ''one'', ''undone'')::rt_ccbad.undone]'
            INTO kept;
        RAISE EXCEPTION 'roll back';
    EXCEPTION WHEN raise_exception THEN
        NULL;
    END;
    ALTER TYPE rt_ccbad.undone ADD ATTRIBUTE x int;
    INSERT INTO rt_ccbad.t VALUES (1, kept[1]);
END
$$""")
        run(conn, "INSERT INTO rt_ccbad.t VALUES (2, ROW(2, 'two', 2))")
        with pytest.raises(psycopg.Error) as refused:
            run(conn, "SELECT v::text FROM rt_ccbad.t WHERE id = 1")
        assert refused.value.sqlstate == "22P07"
        try:
            stream = decode(conn, "rt_ccbad")
        except (w.FrameError, psycopg.Error) as e:
            pytest.fail(f"the stream does not decode: {e}", pytrace=False)
        afters = [plain(row_of(c["value"]["after"])) for c in stream.changes]
        assert afters == [
            {"id": 1, "v": {"a": None, "b": None, "x": None}},
            {"id": 2, "v": {"a": 2, "b": "two", "x": 2}},
        ]
    finally:
        drop_slot(conn, "rt_ccbad")
        run(conn, "DROP SCHEMA rt_ccbad CASCADE")



# ---------------------------------------------------------------------------
# 2. Replica identity x UPDATE/DELETE
# ---------------------------------------------------------------------------

RI_TABLES = {
    # name: (DDL after the column list, identity clause, key columns)
    "d_pk": ("id int PRIMARY KEY, a text, b int", None, ["id"]),
    "f_pk": ("id int PRIMARY KEY, a text, b int", "FULL", ["id"]),
    "i_idx": ("id int PRIMARY KEY, u int NOT NULL, a text, b int", "INDEX",
              ["u"]),
    "n_pk": ("id int PRIMARY KEY, a text, b int", "NOTHING", ["id"]),
    "f_nokey": ("id int, a text, b int", "FULL", []),
    "d_nokey": ("id int, a text, b int", None, []),
}


@pytest.fixture(scope="module")
def ri_env(conn):
    run(conn, "DROP SCHEMA IF EXISTS rt_ri CASCADE")
    run(conn, "CREATE SCHEMA rt_ri")
    for t, (cols, ident, _) in RI_TABLES.items():
        run(conn, f"CREATE TABLE rt_ri.{t} ({cols})")
        if ident == "INDEX":
            run(conn, f"CREATE UNIQUE INDEX {t}_u ON rt_ri.{t} (u)")
            run(conn, f"ALTER TABLE rt_ri.{t} REPLICA IDENTITY USING INDEX "
                      f"{t}_u")
        elif ident:
            run(conn, f"ALTER TABLE rt_ri.{t} REPLICA IDENTITY {ident}")
    create_slot(conn, "rt_ri")
    for t in RI_TABLES:
        T = f"rt_ri.{t}"
        if t == "i_idx":
            run(conn, f"INSERT INTO {T} VALUES (1, 100, 'one', 10), "
                      f"(2, 200, 'two', 20), (3, 300, 'three', 30)")
            run(conn, f"UPDATE {T} SET b = b + 1 WHERE id = 1")
            run(conn, f"UPDATE {T} SET id = 12 WHERE id = 2")
            run(conn, f"UPDATE {T} SET u = 201 WHERE id = 12")
            run(conn, f"DELETE FROM {T} WHERE id = 3")
        else:
            run(conn, f"INSERT INTO {T} VALUES (1, 'one', 10), "
                      f"(2, 'two', 20), (3, 'three', 30)")
            run(conn, f"UPDATE {T} SET b = b + 1 WHERE id = 1")
            run(conn, f"UPDATE {T} SET id = 11 WHERE id = 2")
            run(conn, f"DELETE FROM {T} WHERE id = 3")
    yield "rt_ri"
    drop_slot(conn, "rt_ri")
    run(conn, "DROP SCHEMA rt_ri CASCADE")


def R(id, a, b, u=None, table=None):
    if table == "i_idx":
        return {"id": id, "u": u, "a": a, "b": b}
    return {"id": id, "a": a, "b": b}


def KEYONLY(table, **kv):
    cols = ["id", "u", "a", "b"] if table == "i_idx" else ["id", "a", "b"]
    return {c: kv.get(c) for c in cols}


def ri_expected(t):
    """[(op, key or 'absent' or None, before, after)] of a table's changes."""
    if t == "i_idx":
        r1 = R(1, "one", 10, 100, t)
        r2 = R(2, "two", 20, 200, t)
        r3 = R(3, "three", 30, 300, t)
        return [
            ("c", {"u": 100}, None, r1), ("c", {"u": 200}, None, r2),
            ("c", {"u": 300}, None, r3),
            ("u", {"u": 100}, None, R(1, "one", 11, 100, t)),
            ("u", {"u": 200}, None, R(12, "two", 20, 200, t)),
            ("d", {"u": 200}, KEYONLY(t, u=200), None),
            ("c", {"u": 201}, None, R(12, "two", 20, 201, t)),
            ("d", {"u": 300}, KEYONLY(t, u=300), None),
        ]
    r1, r2, r3 = R(1, "one", 10), R(2, "two", 20), R(3, "three", 30)
    ins = [("c", {"id": 1}, None, r1), ("c", {"id": 2}, None, r2),
           ("c", {"id": 3}, None, r3)]
    u1 = R(1, "one", 11)
    u2 = R(11, "two", 20)
    if t == "d_pk":
        return ins + [("u", {"id": 1}, None, u1),
                      ("d", {"id": 2}, KEYONLY(t, id=2), None),
                      ("c", {"id": 11}, None, u2),
                      ("d", {"id": 3}, KEYONLY(t, id=3), None)]
    if t == "f_pk":
        return ins + [("u", {"id": 1}, r1, u1),
                      ("d", {"id": 2}, r2, None),
                      ("c", {"id": 11}, None, u2),
                      ("d", {"id": 3}, r3, None)]
    if t == "n_pk":
        return ins + [("u", {"id": 1}, None, u1),
                      ("u", {"id": 11}, None, u2),
                      ("d", "absent", None, None)]
    nokey = [(op, None, b, a) for op, _, b, a in ins]
    if t == "f_nokey":
        return nokey + [("u", None, r1, u1), ("u", None, r2, u2),
                        ("d", None, r3, None)]
    if t == "d_nokey":
        return nokey + [("u", None, None, u1), ("u", None, None, u2),
                        ("d", None, None, None)]
    raise KeyError(t)


def ri_actual(ch, has_key=True):
    """(op, key, before, after); a relation with a key whose change has
    none had no key block (the Decoder accepts that only for a delete or an
    update)."""
    key = ch["key"]
    if has_key and key is None:
        key = "absent"
    return (ch["op"], key, row_of(ch["value"]["before"]),
            row_of(ch["value"]["after"]))


@pytest.mark.parametrize("table", list(RI_TABLES))
def test_replica_identity_debezium(conn, ri_env, table):
    stream = decode(conn, ri_env, ["include-tables", f"rt_ri.{table}"])
    s = stream.schema_of(table)
    assert s["key_columns"] == RI_TABLES[table][2]
    has_key = bool(RI_TABLES[table][2])
    assert (s["key_fingerprint"] != 0) == has_key
    if has_key:
        # primary key and identity index columns are NOT NULL: no unions
        assert [f["type"] for f in json.loads(s["key_schema"])["fields"]] \
            == ["int"] * len(RI_TABLES[table][2])
    got = [ri_actual(c, has_key) for c in stream.changes]
    want = ri_expected(table)
    assert got == want
    # a key-changing UPDATE is a delete and a create at the same LSN
    for a, b in zip(stream.changes, stream.changes[1:]):
        if a["op"] == "d" and b["op"] == "c":
            assert a["lsn"] == b["lsn"]


def test_replica_identity_keyless_delete_frame(conn, ri_env):
    """REPLICA IDENTITY NOTHING: the delete's key block is absent.

    In the frame itself: no key block, the relation's (non-zero) key
    fingerprint; every other change of the table has its key block.  The
    plain w2a_frames.Decoder decodes the stream, the delete with key None.
    """
    frames = fetch_frames(conn, ri_env, ["include-tables", "rt_ri.n_pk"])
    parsed = [w.parse_frame(f) for f in frames]
    schema = [p for p in parsed if p["kind"] == "schema"][0]
    changes = [p for p in parsed if p["kind"] == "change"]
    deletes = [p for p in changes if p["op"] == "d"]
    assert len(deletes) == 1
    assert deletes[0]["key_fingerprint"] == schema["key_fingerprint"] != 0
    assert deletes[0]["key"] is None
    assert all(p["key"] is not None for p in changes if p["op"] != "d")
    stream = Stream(frames)
    assert [(c["op"], c["key"]) for c in stream.changes] == [
        ("c", {"id": 1}), ("c", {"id": 2}), ("c", {"id": 3}),
        ("u", {"id": 1}), ("u", {"id": 11}), ("d", None)]


@pytest.mark.parametrize("table", list(RI_TABLES))
def test_replica_identity_flat(conn, ri_env, table):
    stream = decode(conn, ri_env, ["include-tables", f"rt_ri.{table}",
                                   "envelope", "flat"])
    want = ri_expected(table)
    assert len(stream.changes) == len(want)
    cols = list(KEYONLY(table))
    for ch, (op, key, before, after) in zip(stream.changes, want):
        v = ch["value"]
        assert ch["op"] == op
        assert ch["key"] == (None if key == "absent" else key)
        assert list(v) == cols + ["__op", "__lsn", "__source_ts_ms",
                                  "__deleted"]
        row = {c: v[c] for c in cols}
        expected_row = after if op != "d" else (before or KEYONLY(table))
        assert row == expected_row, (op, key)
        assert v["__op"] == op
        assert v["__deleted"] is (op == "d")
        assert v["__lsn"] == w.parse_lsn(ch["lsn"])
        assert v["__source_ts_ms"] == ch["begin"]["commit_time"] // 1000


def test_include_before_false(conn, ri_env):
    stream = decode(conn, ri_env, ["include-tables", "rt_ri.f_pk",
                                   "include-before", "false"])
    got = [ri_actual(c) for c in stream.changes]
    want = [(op, k, None, a) for op, k, b, a in ri_expected("f_pk")]
    assert got == want


# ---------------------------------------------------------------------------
# 3. Unchanged TOAST values
# ---------------------------------------------------------------------------

TOAST_COLS = {
    "id": INT4, "n": INT4, "big": TEXT, "bigb": BYTEA, "bigj": TEXT,
    "biga": Array(TEXT), "bign": NUMVAR, "small": TEXT,
}


@pytest.fixture(scope="module")
def toast_env(conn):
    run(conn, "DROP SCHEMA IF EXISTS rt_toast CASCADE")
    run(conn, "CREATE SCHEMA rt_toast")
    for t, ident in (("d", None), ("f", "FULL")):
        run(conn, f"CREATE TABLE rt_toast.{t} (id int PRIMARY KEY, n int, "
                  f"big text, bigb bytea, bigj jsonb, biga text[], "
                  f"bign numeric, small text)")
        if ident:
            run(conn, f"ALTER TABLE rt_toast.{t} REPLICA IDENTITY {ident}")
    create_slot(conn, "rt_toast")
    big = ("(SELECT string_agg(md5(%s || g), '') "
           "FROM generate_series(1, 3200) g)")      # 100 KB of hex digits
    for t in ("d", "f"):
        T = f"rt_toast.{t}"
        run(conn, f"INSERT INTO {T} VALUES (1, 0, {big}, "
                  f"decode({big}, 'hex'), to_jsonb({big}), "
                  f"ARRAY[{big}, NULL], "
                  f"(SELECT string_agg((g * 7919 %% 10000)::text, '') "
                  f"FROM generate_series(1, 20000) g)::numeric, 's')",
            ("a", "b", "c", "d"))
        run(conn, f"INSERT INTO {T} (id, n, small) VALUES (2, 0, 't')")
        run(conn, f"UPDATE {T} SET n = 1 WHERE id = 1")        # u: Unchanged
        run(conn, f"UPDATE {T} SET n = 1 WHERE id = 2")        # u: NULLs
        run(conn, f"UPDATE {T} SET big = 'short', n = 2 WHERE id = 1")
        run(conn, f"UPDATE {T} SET small = 'x' WHERE id = 1")  # Unchanged
    # the sizes decide what is out of line
    sizes = {}
    for t in ("d", "f"):
        sizes[t] = run(conn, f"SELECT pg_column_size(bigb), "
                             f"pg_column_size(bigj), pg_column_size(biga), "
                             f"pg_column_size(bign) FROM rt_toast.{t} "
                             f"WHERE id = 1")[0]
    yield {"slot": "rt_toast", "sizes": sizes}
    drop_slot(conn, "rt_toast")
    run(conn, "DROP SCHEMA rt_toast CASCADE")


def toast_history(conn, t):
    """The row images the statements of toast_env wrote, in order."""
    cur = select_canon(conn, f"rt_toast.{t}", TOAST_COLS, ["id"])
    r1, r2 = cur[(1,)], cur[(2,)]
    big_a = dict(r1)
    big_a.update(n=0, small="s")
    # the big text before it was replaced: ask for it by recomputing
    big_text = run(conn, "SELECT string_agg(md5('a' || g), '') "
                         "FROM generate_series(1, 3200) g")[0][0]
    big_a["big"] = big_text
    r2_0 = dict(r2, n=0)
    return big_a, r2_0, r1, r2


BIG_COLS = ("big", "bigb", "bigj", "biga", "bign")


@pytest.mark.parametrize("table", ["d", "f"])
def test_unchanged_toast(conn, toast_env, table):
    """UPDATEs that leave out-of-line values alone.

    DEFAULT (table d): PostgreSQL does not log them, so each comes as
    wal2avro.Unchanged, exactly that branch, never NULL nor a value.  FULL
    (table f): PostgreSQL logs the whole old row, TOAST values inlined, and
    the plugin fills the new row's unlogged values from it: after carries
    every real value, no Unchanged at all.  NULLs stay NULL either way.
    """
    for size in toast_env["sizes"][table]:
        assert size > 2300, f"a big value is only {size} bytes"
    full = table == "f"
    stream = decode(conn, toast_env["slot"],
                    ["include-tables", f"rt_toast.{table}"])
    ins1, ins2, final1, final2 = toast_history(conn, table)
    ch = stream.changes
    assert [c["op"] for c in ch] == ["c", "c", "u", "u", "u", "u"]
    errors = []

    def unchanged(where, row, cols):
        for c in cols:
            if row[c] != UNCHANGED:
                errors.append(f"{where}: after.{c} is {short(row[c])}, not "
                              f"wal2avro.Unchanged")

    # inserts: every value, in full
    errors += diff_row("insert 1", TOAST_COLS,
                       row_of(ch[0]["value"]["after"]), ins1)
    errors += diff_row("insert 2", TOAST_COLS,
                       row_of(ch[1]["value"]["after"]), ins2)
    # UPDATE n: the five big values are Unchanged (DEFAULT) or in full
    a = row_of(ch[2]["value"]["after"])
    if full:
        errors += diff_row("update n", TOAST_COLS, a, dict(ins1, n=1))
    else:
        unchanged("update n", a, BIG_COLS)
        errors += diff_row("update n", TOAST_COLS, a, dict(ins1, n=1),
                           unchanged_ok=BIG_COLS)
    # NULLs stay NULL, never Unchanged
    errors += diff_row("update n (nulls)", TOAST_COLS,
                       row_of(ch[3]["value"]["after"]), dict(ins2, n=1))
    # UPDATE big: big has its new value, the others are Unchanged or full
    a = row_of(ch[4]["value"]["after"])
    if a["big"] != "short":
        errors.append(f"update big: after.big is {short(a['big'])}")
    if full:
        errors += diff_row("update big", TOAST_COLS, a,
                           dict(ins1, n=2, big="short"))
    else:
        unchanged("update big", a, BIG_COLS[1:])
        errors += diff_row("update big", TOAST_COLS, a,
                           dict(ins1, n=2, big="short"),
                           unchanged_ok=BIG_COLS[1:])
    # UPDATE small
    a = row_of(ch[5]["value"]["after"])
    if full:
        errors += diff_row("update small", TOAST_COLS, a, final1)
    else:
        unchanged("update small", a, BIG_COLS[1:])
        errors += diff_row("update small", TOAST_COLS, a, final1,
                           unchanged_ok=BIG_COLS[1:])
    # before: DEFAULT logs none; FULL logs whole old rows, TOAST inlined
    befores = [row_of(c["value"]["before"]) for c in ch[2:]]
    if not full:
        if any(b is not None for b in befores):
            errors.append(f"DEFAULT identity but before rows {befores!r:.200}")
    else:
        errors += diff_row("before 1", TOAST_COLS, befores[0], ins1)
        errors += diff_row("before 2", TOAST_COLS, befores[1], ins2)
        errors += diff_row("before 3", TOAST_COLS, befores[2],
                           dict(ins1, n=1))
        errors += diff_row("before 4", TOAST_COLS, befores[3],
                           dict(ins1, n=2, big="short"))
    fail_on(errors)


@pytest.mark.parametrize("table", ["d", "f"])
def test_unchanged_toast_flat(conn, toast_env, table):
    """The same in the flat envelope: Unchanged under DEFAULT, values under
    FULL (the first UPDATE, n = 1, which touches none of them)."""
    stream = decode(conn, toast_env["slot"],
                    ["include-tables", f"rt_toast.{table}",
                     "envelope", "flat"])
    ins1 = toast_history(conn, table)[0]
    v = stream.changes[2]["value"]
    assert v["__op"] == "u"
    assert v["n"] == 1
    for c in BIG_COLS:
        if table == "d":
            assert v[c] == UNCHANGED, c
        else:
            assert v[c] != UNCHANGED, c
            assert canon_got(TOAST_COLS[c], v[c]) == ins1[c], c


TOAST_KEY_BIG = ("(SELECT string_agg(md5('k' || g), '') "
                 "FROM generate_series(1, 3200) g)")        # 100 KB


@pytest.mark.parametrize("ident", ["DEFAULT", "FULL"])
def test_unchanged_toast_key_change(conn, ident):
    """A key-changing UPDATE that leaves a TOASTed column alone.

    It is sent as a delete under the old key and a create under the new
    one.  Under FULL PostgreSQL logged the old row, value included, and the
    create carries the real value.  Under DEFAULT it did not: the create
    carries wal2avro.Unchanged (documented in doc/protocol.md: a consumer
    has no earlier row under the new key, such tables should use REPLICA
    IDENTITY FULL).  The same in the flat envelope.
    """
    run(conn, "DROP TABLE IF EXISTS public.rt_toast_key")
    run(conn, "CREATE TABLE public.rt_toast_key (id int PRIMARY KEY, "
              "big text, n int)")
    run(conn, f"ALTER TABLE public.rt_toast_key REPLICA IDENTITY {ident}")
    create_slot(conn, "rt_toast_key")
    try:
        run(conn, f"INSERT INTO public.rt_toast_key VALUES (1, "
                  f"{TOAST_KEY_BIG}, 0)")
        assert run(conn, "SELECT pg_column_size(big) "
                         "FROM public.rt_toast_key")[0][0] > 2300
        run(conn, "UPDATE public.rt_toast_key SET id = 2")
        big = run(conn, f"SELECT {TOAST_KEY_BIG}")[0][0]
        assert len(big) == 102400
        stream = decode(conn, "rt_toast_key")
        ch = stream.changes
        assert [(c["op"], c["key"]) for c in ch] == [
            ("c", {"id": 1}), ("d", {"id": 1}), ("c", {"id": 2})]
        assert ch[1]["lsn"] == ch[2]["lsn"]
        assert row_of(ch[0]["value"]["after"]) == \
            {"id": 1, "big": big, "n": 0}
        before = row_of(ch[1]["value"]["before"])
        create = row_of(ch[2]["value"]["after"])
        if ident == "FULL":
            assert before == {"id": 1, "big": big, "n": 0}
            assert create == {"id": 2, "big": big, "n": 0}, \
                f"create after.big = {short(create['big'])}"
        else:
            assert before == {"id": 1, "big": None, "n": None}
            # documented limitation: not logged, so not known
            assert create == {"id": 2, "big": UNCHANGED, "n": 0}, \
                f"create after.big = {short(create['big'])}"
        flat = decode(conn, "rt_toast_key", ["envelope", "flat"]).changes
        assert [(c["op"], c["value"]["__deleted"]) for c in flat] == \
            [("c", False), ("d", True), ("c", False)]
        assert {c: flat[2]["value"][c] for c in ("id", "big", "n")} == \
            {"id": 2, "big": big if ident == "FULL" else UNCHANGED, "n": 0}
    finally:
        drop_slot(conn, "rt_toast_key")
        run(conn, "DROP TABLE public.rt_toast_key")


# a text key of 2400 hex digits: out of line in the heap (it does not
# compress), small enough for the btree index
TOASTED_KEY = ("(SELECT string_agg(md5(%s || g), '') "
               "FROM generate_series(1, 75) g)")


@pytest.mark.parametrize("ident", ["DEFAULT", "FULL"])
def test_unchanged_toast_key_column(conn, ident):
    """A TOASTed key that an UPDATE leaves alone.

    PostgreSQL logs the old key when it is stored out of line (also under
    DEFAULT), so the key and after's key column carry the real value, and
    the UPDATE stays an update (the key did not change).  The other TOASTed
    column is Unchanged under DEFAULT, its value under FULL.  Then a real
    key change: a delete and a create, both with the real keys.
    """
    T = "public.rt_toast_pk"
    run(conn, f"DROP TABLE IF EXISTS {T}")
    run(conn, f"CREATE TABLE {T} (k text PRIMARY KEY, big text, n int)")
    run(conn, f"ALTER TABLE {T} REPLICA IDENTITY {ident}")
    create_slot(conn, "rt_toast_pk")
    try:
        run(conn, f"INSERT INTO {T} VALUES ({TOASTED_KEY}, {TOAST_KEY_BIG}, "
                  f"0)", ("key",))
        sizes = run(conn, f"SELECT pg_column_size(k), pg_column_size(big), "
                          f"pg_relation_size(reltoastrelid) > 0 FROM {T}, "
                          f"pg_class WHERE pg_class.oid = %s::regclass",
                    (T,))[0]
        assert sizes[0] == 2400 and sizes[1] > 2300 and sizes[2], sizes
        run(conn, f"UPDATE {T} SET n = 1")
        run(conn, f"UPDATE {T} SET k = {TOASTED_KEY}", ("yek",))
        k1 = run(conn, f"SELECT {TOASTED_KEY}", ("key",))[0][0]
        k2 = run(conn, f"SELECT {TOASTED_KEY}", ("yek",))[0][0]
        big = run(conn, f"SELECT {TOAST_KEY_BIG}")[0][0]
        stream = decode(conn, "rt_toast_pk")
        ch = stream.changes
        assert [(c["op"], c["key"]) for c in ch] == [
            ("c", {"k": k1}), ("u", {"k": k1}), ("d", {"k": k1}),
            ("c", {"k": k2})]
        full = ident == "FULL"
        unlogged = big if full else UNCHANGED
        after = [row_of(c["value"]["after"]) for c in ch]
        before = [row_of(c["value"]["before"]) for c in ch]
        assert after[0] == {"k": k1, "big": big, "n": 0}
        assert after[1] == {"k": k1, "big": unlogged, "n": 1}
        assert after[2] is None
        assert after[3] == {"k": k2, "big": unlogged, "n": 1}
        # before: what PostgreSQL logged, the whole row (FULL) or the old
        # key (DEFAULT: logged because it is out of line)
        old = {"k": k1, "big": big, "n": 1} if full else \
            {"k": k1, "big": None, "n": None}
        assert before[1] == ({"k": k1, "big": big, "n": 0} if full else old)
        assert before[2] == old
    finally:
        drop_slot(conn, "rt_toast_pk")
        run(conn, f"DROP TABLE {T}")


def test_unchanged_toast_key_part_of_key_change(conn):
    """A key change that leaves the TOASTed part of a two-column key alone.

    PRIMARY KEY (a text stored out of line, b int), UPDATE SET b = 2: the
    new row holds only a pointer for a, PostgreSQL logs the old key with
    a's value, and the create under the new key takes a from there, for
    its key and its after (doc/protocol.md).  Both envelopes.
    """
    T = "public.rt_toast_key2"
    run(conn, f"DROP TABLE IF EXISTS {T}")
    run(conn, f"CREATE TABLE {T} (a text, b int, n int, PRIMARY KEY (a, b))")
    run(conn, f"ALTER TABLE {T} ALTER COLUMN a SET STORAGE EXTERNAL")
    create_slot(conn, "rt_toast_key2")
    try:
        run(conn, f"INSERT INTO {T} VALUES ({TOASTED_KEY}, 1, 0)", ("ka",))
        run(conn, f"UPDATE {T} SET b = 2")
        a = run(conn, f"SELECT {TOASTED_KEY}", ("ka",))[0][0]
        ch = decode(conn, "rt_toast_key2").changes
        assert [(c["op"], c["key"]) for c in ch] == [
            ("c", {"a": a, "b": 1}), ("d", {"a": a, "b": 1}),
            ("c", {"a": a, "b": 2})]
        assert row_of(ch[2]["value"]["after"]) == {"a": a, "b": 2, "n": 0}
        flat = decode(conn, "rt_toast_key2", ["envelope", "flat"]).changes
        assert [(c["op"], c["key"]) for c in flat] == \
            [(c["op"], c["key"]) for c in ch]
        assert {c: flat[2]["value"][c] for c in ("a", "b", "n")} == \
            {"a": a, "b": 2, "n": 0}
    finally:
        drop_slot(conn, "rt_toast_key2")
        run(conn, f"DROP TABLE {T}")


def test_unchanged_toast_key_replica_identity_nothing(conn):
    """REPLICA IDENTITY NOTHING, a TOASTed key an UPDATE leaves alone.

    PostgreSQL logs no old key, so the key's value is not in the WAL: the
    update arrives with no key block (as a NOTHING delete does) and the
    column as wal2avro.Unchanged; decoding goes on with the next change.
    """
    T = "public.rt_toast_nokey"
    run(conn, f"DROP TABLE IF EXISTS {T}")
    run(conn, f"CREATE TABLE {T} (k text PRIMARY KEY, n int)")
    run(conn, f"ALTER TABLE {T} REPLICA IDENTITY NOTHING")
    create_slot(conn, "rt_toast_nokey")
    try:
        run(conn, f"INSERT INTO {T} VALUES ({TOASTED_KEY}, 0)", ("nk",))
        run(conn, f"UPDATE {T} SET n = 1")
        run(conn, f"INSERT INTO {T} VALUES ('short', 2)")
        k = run(conn, f"SELECT {TOASTED_KEY}", ("nk",))[0][0]
        for envelope in ("debezium", "flat"):
            ch = decode(conn, "rt_toast_nokey", ["envelope", envelope]).changes
            assert [(c["op"], c["key"]) for c in ch] == [
                ("c", {"k": k}), ("u", None), ("c", {"k": "short"})]
            v = ch[1]["value"]
            row = v if envelope == "flat" else row_of(v["after"])
            assert (row["k"], row["n"]) == (UNCHANGED, 1)
    finally:
        drop_slot(conn, "rt_toast_nokey")
        run(conn, f"DROP TABLE {T}")


# ---------------------------------------------------------------------------
# 4. Options: envelope, include/exclude tables and columns, key columns,
#    topic prefix, timestamps
# ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def opt_env(conn):
    run(conn, "DROP SCHEMA IF EXISTS rt_opt CASCADE")
    run(conn, "CREATE SCHEMA rt_opt")
    run(conn, """
        CREATE TABLE rt_opt.alpha (id int PRIMARY KEY, secret text, v int);
        CREATE TABLE rt_opt.beta (id int PRIMARY KEY, v text);
        CREATE TABLE rt_opt.gamma (id int PRIMARY KEY);
        CREATE TABLE rt_opt.kc (a int, b text, c int);
        ALTER TABLE rt_opt.kc REPLICA IDENTITY FULL;
        CREATE TABLE rt_opt.kc_pk (id int PRIMARY KEY, code text NOT NULL,
                                   v int);
        ALTER TABLE rt_opt.kc_pk REPLICA IDENTITY FULL;
    """)
    create_slot(conn, "rt_opt")
    run(conn, """
        INSERT INTO rt_opt.alpha VALUES (1, 'pw', 10);
        INSERT INTO rt_opt.beta VALUES (1, 'b');
        INSERT INTO rt_opt.gamma VALUES (1);
        INSERT INTO rt_opt.kc VALUES (1, 'x', 100), (2, NULL, 200);
        INSERT INTO rt_opt.kc_pk VALUES (1, 'c1', 1);
    """)
    run(conn, """
        BEGIN;
        UPDATE rt_opt.alpha SET v = 11;
        UPDATE rt_opt.kc SET c = 101 WHERE a = 1;
        UPDATE rt_opt.kc_pk SET v = 2;
        DELETE FROM rt_opt.kc WHERE a = 2;
        DELETE FROM rt_opt.beta;
        COMMIT;
    """)
    run(conn, "UPDATE rt_opt.kc_pk SET code = 'c2'")
    run(conn, "DELETE FROM rt_opt.kc_pk")
    yield "rt_opt"
    drop_slot(conn, "rt_opt")
    run(conn, "DROP SCHEMA rt_opt CASCADE")


def tables_in(stream):
    return {c["table"] for c in stream.changes} | \
        {s["table"] for s in stream.schemas}


def test_include_tables(conn, opt_env):
    s = decode(conn, opt_env, ["include-tables", "rt_opt.alpha,rt_opt.kc*"])
    assert tables_in(s) == {"alpha", "kc", "kc_pk"}
    s = decode(conn, opt_env, ["include-tables", "rt_opt.?eta"])
    assert tables_in(s) == {"beta"}
    assert [c["op"] for c in s.changes] == ["c", "d"]


def test_exclude_tables(conn, opt_env):
    s = decode(conn, opt_env, ["include-tables", "rt_opt.*",
                               "exclude-tables", "rt_opt.b*,rt_opt.gamma"])
    assert tables_in(s) == {"alpha", "kc", "kc_pk"}


def test_exclude_columns(conn, opt_env):
    s = decode(conn, opt_env, ["include-tables", "rt_opt.*",
                               "exclude-columns",
                               "rt_opt.alpha.secret,rt_opt.*.v"])
    fields = {t: [f["name"] for f in value_fields(s.schema_of(t))[0]]
              for t in ("alpha", "beta", "gamma", "kc", "kc_pk")}
    assert fields == {"alpha": ["id"], "beta": ["id"], "gamma": ["id"],
                      "kc": ["a", "b", "c"], "kc_pk": ["id", "code"]}
    alpha = s.of("alpha")
    assert [row_of(c["value"]["after"]) for c in alpha] == \
        [{"id": 1}, {"id": 1}]
    assert row_of(alpha[1]["value"]["before"]) is None
    # the key is not affected
    assert [c["key"] for c in alpha] == [{"id": 1}, {"id": 1}]


def test_key_columns(conn, opt_env):
    s = decode(conn, opt_env, ["include-tables", "rt_opt.kc,rt_opt.kc_pk",
                               "key-columns",
                               "rt_opt.kc:b,a;rt_opt.kc_pk:code"])
    kc = s.schema_of("kc")
    assert kc["key_columns"] == ["b", "a"]
    key_schema = json.loads(kc["key_schema"])
    assert [f["name"] for f in key_schema["fields"]] == ["b", "a"]
    # nullable columns: nullable key fields
    assert [f["type"] for f in key_schema["fields"]] == \
        [["null", "string"], ["null", "int"]]
    assert [(c["op"], c["key"]) for c in s.of("kc")] == [
        ("c", {"b": "x", "a": 1}), ("c", {"b": None, "a": 2}),
        ("u", {"b": "x", "a": 1}), ("d", {"b": None, "a": 2})]
    pk = s.schema_of("kc_pk")
    assert pk["key_columns"] == ["code"]
    # chosen key columns are nullable even when NOT NULL: PostgreSQL need
    # not log them (see test_key_columns_outside_identity_delete)
    assert json.loads(pk["key_schema"])["fields"][0]["type"] == \
        ["null", "string"]
    got = [(c["op"], c["key"], row_of(c["value"]["after"]))
           for c in s.of("kc_pk")]
    assert got == [
        ("c", {"code": "c1"}, {"id": 1, "code": "c1", "v": 1}),
        ("u", {"code": "c1"}, {"id": 1, "code": "c1", "v": 2}),
        # the key changed: delete under the old key, create under the new
        ("d", {"code": "c1"}, None),
        ("c", {"code": "c2"}, {"id": 1, "code": "c2", "v": 2}),
        ("d", {"code": "c2"}, None)]


@pytest.mark.parametrize("ident", ["DEFAULT", "FULL"])
def test_key_columns_outside_identity_delete(conn, ident):
    """key-columns naming a NOT NULL column outside the replica identity.

    A chosen key column is nullable in the key schema even when NOT NULL.
    Under DEFAULT a DELETE logs only the identity (id), so the chosen key
    field is null (decoding goes on, doc/protocol.md); under FULL the whole
    old row is logged and the key has the value.
    """
    run(conn, "DROP TABLE IF EXISTS public.rt_kc_del")
    run(conn, "CREATE TABLE public.rt_kc_del (id int PRIMARY KEY, "
              "code text NOT NULL)")
    run(conn, f"ALTER TABLE public.rt_kc_del REPLICA IDENTITY {ident}")
    create_slot(conn, "rt_kc_del")
    try:
        run(conn, "INSERT INTO public.rt_kc_del VALUES (1, 'a')")
        run(conn, "DELETE FROM public.rt_kc_del")
        try:
            s = decode(conn, "rt_kc_del",
                       ["key-columns", "public.rt_kc_del:code"])
        except psycopg.Error as e:
            pytest.fail(f"decoding fails: {e}", pytrace=False)
        sch = s.schema_of("rt_kc_del")
        assert sch["key_columns"] == ["code"]
        assert json.loads(sch["key_schema"])["fields"][0]["type"] == \
            ["null", "string"]
        full = ident == "FULL"
        got = [(c["op"], c["key"], row_of(c["value"]["before"]))
               for c in s.changes]
        assert got == [
            ("c", {"code": "a"}, None),
            ("d", {"code": "a" if full else None},
             {"id": 1, "code": "a" if full else None})]
    finally:
        drop_slot(conn, "rt_kc_del")
        run(conn, "DROP TABLE public.rt_kc_del")


@pytest.mark.parametrize("ident", ["DEFAULT", "FULL"])
def test_key_columns_unchanged_toast(conn, ident):
    """key-columns naming a TOASTed column outside the replica identity.

    An UPDATE of another column does not log the value under DEFAULT: the
    key field is null and after's field wal2avro.Unchanged (decoding goes
    on).  Under FULL the old row has it: key and after carry the value.
    """
    run(conn, "DROP TABLE IF EXISTS public.rt_kc_toast")
    run(conn, "CREATE TABLE public.rt_kc_toast (id int PRIMARY KEY, "
              "code text, n int)")
    run(conn, f"ALTER TABLE public.rt_kc_toast REPLICA IDENTITY {ident}")
    create_slot(conn, "rt_kc_toast")
    big = ("(SELECT string_agg(md5('t' || g), '') "
           "FROM generate_series(1, 3200) g)")
    try:
        run(conn, f"INSERT INTO public.rt_kc_toast VALUES (1, {big}, 0)")
        assert run(conn, "SELECT pg_column_size(code) "
                         "FROM public.rt_kc_toast")[0][0] > 2300
        run(conn, "UPDATE public.rt_kc_toast SET n = 1")
        code = run(conn, f"SELECT {big}")[0][0]
        try:
            s = decode(conn, "rt_kc_toast",
                       ["key-columns", "public.rt_kc_toast:code"])
        except psycopg.Error as e:
            pytest.fail(f"decoding fails: {e}", pytrace=False)
        assert json.loads(s.schema_of("rt_kc_toast")["key_schema"])[
            "fields"][0]["type"] == ["null", "string"]
        full = ident == "FULL"
        got = [(c["op"], c["key"], row_of(c["value"]["after"]))
               for c in s.changes]
        assert got == [
            ("c", {"code": code}, {"id": 1, "code": code, "n": 0}),
            ("u", {"code": code if full else None},
             {"id": 1, "code": code if full else UNCHANGED, "n": 1})]
    finally:
        drop_slot(conn, "rt_kc_toast")
        run(conn, "DROP TABLE public.rt_kc_toast")


def test_topic_prefix_and_source(conn, opt_env):
    s = decode(conn, opt_env, ["include-tables", "rt_opt.alpha",
                               "topic-prefix", "my-app.x"])
    sch = s.schema_of("alpha")
    assert sch["topic"] == "my-app.x.rt_opt.alpha"
    vj = json.loads(sch["value_schema"])
    assert vj["name"] == "my_app_x.rt_opt.alpha.Envelope"
    assert json.loads(sch["key_schema"])["name"] == "my_app_x.rt_opt.alpha.Key"
    db = run(conn, "SELECT current_database()")[0][0]
    for c in s.changes:
        src = c["value"]["source"]
        assert src == {
            "version": src["version"], "connector": "wal2avro",
            "name": "my-app.x", "db": db, "schema": "rt_opt",
            "table": "alpha", "snapshot": "false",
            "ts_ms": c["begin"]["commit_time"] // 1000,
            "txId": c["begin"]["xid"], "lsn": w.parse_lsn(c["lsn"]),
            "xmin": None}
        assert re.match(r"^\d+\.\d+\.\d+", src["version"])
        assert c["value"]["op"] == c["op"]
        # processing time, ms: after the commit, not far in the future
        ts = c["value"]["ts_ms"]
        assert isinstance(ts, int)
        assert c["begin"]["commit_time"] // 1000 <= ts


def test_include_timestamps_false(conn, opt_env):
    s = decode(conn, opt_env, ["include-tables", "rt_opt.alpha",
                               "include-timestamps", "false"])
    assert all(b["commit_time"] == 0 for b in s.begins)
    assert all(c["commit_time"] == 0 for c in s.commits)
    for c in s.changes:
        assert c["value"]["source"]["ts_ms"] == 0
        assert c["value"]["ts_ms"] is None
    s = decode(conn, opt_env, ["include-tables", "rt_opt.alpha",
                               "include-timestamps", "false",
                               "envelope", "flat"])
    assert [c["value"]["__source_ts_ms"] for c in s.changes] == [0, 0]


def test_skip_empty_xacts(conn):
    run(conn, "DROP TABLE IF EXISTS public.rt_empty")
    run(conn, "CREATE TABLE public.rt_empty (id int PRIMARY KEY)")
    create_slot(conn, "rt_empty")
    try:
        run(conn, "BEGIN; SELECT txid_current(); "
                  "INSERT INTO public.rt_empty VALUES (1); COMMIT")
        run(conn, "BEGIN; SELECT txid_current(); "
                  "CREATE TEMP TABLE rt_tmp (x int); DROP TABLE rt_tmp; "
                  "COMMIT")
        run(conn, "INSERT INTO public.rt_empty VALUES (2)")
        s = decode(conn, "rt_empty", ["include-tables", "public.rt_empty"])
        assert len(s.begins) == 2 == len(s.commits)
        assert [c["change_count"] for c in s.commits] == [1, 1]
        s = decode(conn, "rt_empty", ["include-tables", "public.rt_empty",
                                      "skip-empty-xacts", "false"])
        assert len(s.begins) >= 3
        assert sorted(c["change_count"] for c in s.commits)[-2:] == [1, 1]
    finally:
        drop_slot(conn, "rt_empty")
        run(conn, "DROP TABLE public.rt_empty")


# ---------------------------------------------------------------------------
# 5. Random rows: thousands of changes, then the table state
# ---------------------------------------------------------------------------

RAND_SEED = 20261130
RAND_TABLES = 8
RAND_TXNS = {False: 420, True: 300}      # by "values may go out of line"
# with out-of-line values: how often a text or bytea value is one, and how
# often an UPDATE changes the key (often enough for key changes under
# DEFAULT that leave an out-of-line value alone: Unchanged in a create)
OUT_OF_LINE_RATE = 0.3
KEY_CHANGE_RATE = {False: 0.1, True: 0.25}


def _r_int(bits):
    lo, hi = -2**(bits - 1), 2**(bits - 1) - 1

    def gen(rng):
        return str(rng.choice([0, 1, -1, lo, hi, rng.randint(lo, hi),
                               rng.randint(-1000, 1000)]))
    return gen


def _r_float(rng):
    x = rng.choice(["'NaN'", "'Infinity'", "'-Infinity'", "'-0'", None,
                    None, None, None])
    if x:
        return x
    x = rng.uniform(-1e6, 1e6) * 10.0 ** rng.randint(-25, 30)
    return repr(x) if abs(x) > 1e-30 else "0"


def _r_numeric_fixed(rng):
    if rng.random() < 0.05:
        return "'NaN'"
    whole = rng.randint(0, 10**8 - 1)
    frac = rng.randint(0, 9999)
    return f"{rng.choice(['', '-'])}{whole}.{frac:04d}"


def _r_numeric(rng):
    r = rng.random()
    if r < 0.05:
        return rng.choice(["'NaN'", "'Infinity'", "'-Infinity'"])
    digits = "".join(rng.choice("0123456789")
                     for _ in range(rng.choice([1, 3, 20, 60, 200])))
    scale = rng.choice([0, 0, 1, 5, 30])
    if scale:
        digits = digits + "." + "".join(rng.choice("0123456789")
                                        for _ in range(scale))
    return f"'{rng.choice(['', '-'])}{digits}'"


_ALPHABET = "abcXYZ 019_-'\"\\\n\té€𝄞日本,{}"


def _r_text(rng):
    if rng.big and rng.random() < OUT_OF_LINE_RATE:
        # out of line: 4 KB of hex digits that do not compress
        return (f"(SELECT string_agg(md5('{rng.random()}' || g), '') "
                f"FROM generate_series(1, 130) g)")
    return q("".join(rng.choice(_ALPHABET) for _ in range(rng.randint(0, 40))))


def _r_bytea(rng):
    if rng.big and rng.random() < OUT_OF_LINE_RATE:
        return (f"(SELECT decode(string_agg(md5('{rng.random()}' || g), ''),"
                f" 'hex') FROM generate_series(1, 260) g)")
    return "'\\x" + bytes(rng.getrandbits(8) for _ in
                          range(rng.randint(0, 30))).hex() + "'"


def _r_date(rng):
    r = rng.random()
    if r < 0.05:
        return rng.choice(["'infinity'", "'-infinity'", "'4714-11-24 BC'",
                           "'5874897-12-31'"])
    return f"(date '1970-01-01' + {rng.randint(-800000, 3000000)})"


def _r_ts(tz):
    def gen(rng):
        r = rng.random()
        if r < 0.05:
            return rng.choice(["'infinity'", "'-infinity'",
                               "'294276-12-31 23:59:59.999999" +
                               ("+00'" if tz else "'"),
                               "'4714-11-24 00:00:00" +
                               ("+00 BC'" if tz else " BC'")])
        base = "timestamptz '1970-01-01 00:00+00'" if tz else \
            "timestamp '1970-01-01 00:00'"
        return (f"({base} + make_interval(days => "
                f"{rng.randint(-700000, 3000000)}, secs => "
                f"{rng.randint(0, 86399999999) / 1e6:.6f}))")
    return gen


def _r_time(rng):
    if rng.random() < 0.05:
        return "'24:00:00'"
    us = rng.randint(0, MICROS_PER_DAY - 1)
    return (f"'{us // 3600000000:02d}:{us // 60000000 % 60:02d}:"
            f"{us // 1000000 % 60:02d}.{us % 1000000:06d}'")


def _r_timetz(rng):
    off = rng.randint(-15 * 3600 - 59 * 60, 15 * 3600 + 59 * 60)
    sign = "+" if off >= 0 else "-"
    off = abs(off)
    return (_r_time(rng)[:-1] +
            f"{sign}{off // 3600:02d}:{off // 60 % 60:02d}:{off % 60:02d}'")


def _r_interval(rng):
    return (f"make_interval(years => {rng.randint(-1000, 1000)}, months => "
            f"{rng.randint(-30, 30)}, days => {rng.randint(-10**5, 10**5)}, "
            f"secs => {rng.randint(-10**11, 10**11) / 1e6:.6f})")


def _r_uuid(rng):
    return q(str(uuid.UUID(int=rng.getrandbits(128))))


def _r_jsonb(rng):
    v = rng.choice([None, True, 1, -2.5, "s\n\"x\"", [1, "a", None],
                    {"k": [rng.randint(0, 9)], "é": {"x": None}}])
    return q(json.dumps(v)) + "::jsonb"


def _r_int_array(rng):
    r = rng.random()
    if r < 0.05:
        return "'{{1,2},{3,4}}'"
    if r < 0.1:
        return "'[0:1]={5,6}'"
    elems = [rng.choice(["NULL", str(rng.randint(-2**31, 2**31 - 1))])
             for _ in range(rng.randint(0, 6))]
    return "'{" + ",".join(elems) + "}'"


def _r_text_array(rng):
    elems = [rng.choice(["NULL", q("".join(rng.choice(_ALPHABET)
                                           for _ in range(rng.randint(0, 8))))])
             for _ in range(rng.randint(0, 5))]
    return "ARRAY[" + ",".join(elems) + "]::text[]"


def _r_enum(rng):
    return q(rng.choice(["sad", "ok", "happy", "with space", "ünï"]))


def _r_range(rng):
    if rng.random() < 0.1:
        return "'empty'"
    a = rng.randint(-1000, 1000)
    return f"int4range({a}, {a + rng.randint(1, 100)})"


def _r_inet(rng):
    return q(".".join(str(rng.randint(0, 255)) for _ in range(4)) +
             f"/{rng.randint(8, 32)}")


# (label, declared type, spec, generator, may be out of line)
RAND_POOL = [
    ("bool", "bool", BOOL, lambda r: r.choice(["true", "false"]), False),
    ("int2", "int2", INT2, _r_int(16), False),
    ("int4", "int4", INT4, _r_int(32), False),
    ("int8", "int8", INT8, _r_int(64), False),
    ("float4", "float4", FLOAT4, _r_float, False),
    ("float8", "float8", FLOAT8, _r_float, False),
    ("num12_4", "numeric(12,4)", NumFixed(12, 4), _r_numeric_fixed, False),
    ("numeric", "numeric", NUMVAR, _r_numeric, False),
    ("text", "text", TEXT, _r_text, True),
    ("varchar", "varchar(60)", TEXT,
     lambda r: q("".join(r.choice(_ALPHABET) for _ in range(r.randint(0, 60)))),
     False),
    ("bpchar", "char(7)", TEXT,
     lambda r: q("".join(r.choice("ab é") for _ in range(r.randint(0, 7)))),
     False),
    ("bytea", "bytea", BYTEA, _r_bytea, True),
    ("date", "date", DATE, _r_date, False),
    ("ts", "timestamp", TS, _r_ts(False), False),
    ("tstz", "timestamptz", TSTZ, _r_ts(True), False),
    ("time", "time", TIME, _r_time, False),
    ("timetz", "timetz", TIMETZ, _r_timetz, False),
    ("interval", "interval", INTERVAL, _r_interval, False),
    ("uuid", "uuid", UUID, _r_uuid, False),
    ("jsonb", "jsonb", TEXT, _r_jsonb, False),
    ("int4arr", "int4[]", Array(INT4), _r_int_array, False),
    ("textarr", "text[]", Array(TEXT), _r_text_array, False),
    ("enum", "rt_rand.mood", TEXT, _r_enum, False),
    ("range", "int4range", TEXT, _r_range, False),
    ("inet", "inet", TEXT, _r_inet, False),
]

# key designs: (columns [(name, decl, spec, generator of unique values)])
_KEY_DESIGNS = [
    [("id", "int", INT4, lambda r, n: str(n))],
    [("id", "bigint", INT8, lambda r, n: str(n * 7919 - 2**40))],
    [("k", "text", TEXT, lambda r, n: q(f"k{n}-é"))],
    [("a", "int", INT4, lambda r, n: str(n % 13)),
     ("b", "text", TEXT, lambda r, n: q(f"b{n}"))],
    [("u", "uuid", UUID,
      lambda r, n: q(str(uuid.UUID(int=n * 0x9E3779B97F4A7C15 % 2**128))))],
]


class RandTable:
    def __init__(self, rng, index):
        self.name = f"r{index}"
        self.key = _KEY_DESIGNS[index % len(_KEY_DESIGNS)]
        ncols = rng.randint(3, 7)
        self.cols = []
        for j, item in enumerate(rng.sample(RAND_POOL, ncols)):
            self.cols.append((f"c{j}_{item[0]}",) + item[1:])
        self.full = rng.random() < 0.5
        self.specs = {k[0]: k[2] for k in self.key} | \
            {c[0]: c[2] for c in self.cols}
        self.key_names = [k[0] for k in self.key]
        self.toastable = set()

    def ddl(self):
        cols = [f"{k[0]} {k[1]} NOT NULL" for k in self.key] + \
            [f"{c[0]} {c[1]}" for c in self.cols]
        pk = ", ".join(self.key_names)
        out = [f"CREATE TABLE rt_rand.{self.name} ({', '.join(cols)}, "
               f"PRIMARY KEY ({pk}))",
               f"CREATE TABLE rt_rand.audit_{self.name} (seq bigint, "
               f"op text, LIKE rt_rand.{self.name})",
               f"CREATE FUNCTION rt_rand.audit_{self.name}() RETURNS trigger "
               f"LANGUAGE plpgsql AS $$ BEGIN "
               f"IF TG_OP = 'DELETE' THEN INSERT INTO rt_rand.audit_{self.name}"
               f" SELECT nextval('rt_rand.audit_seq'), 'd', (OLD).*; "
               f"ELSE INSERT INTO rt_rand.audit_{self.name} "
               f"SELECT nextval('rt_rand.audit_seq'), "
               f"CASE TG_OP WHEN 'INSERT' THEN 'c' ELSE 'u' END, (NEW).*; "
               f"END IF; RETURN NULL; END $$",
               f"CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON "
               f"rt_rand.{self.name} FOR EACH ROW EXECUTE FUNCTION "
               f"rt_rand.audit_{self.name}()"]
        if self.full:
            out.append(f"ALTER TABLE rt_rand.{self.name} REPLICA IDENTITY "
                       f"FULL")
        return out

    def value(self, rng, col):
        if rng.random() < 0.15:
            return "NULL"
        return col[3](rng)

    def where(self, keyvals):
        return " AND ".join(f"{k} = {v}" for k, v in
                            zip(self.key_names, keyvals))


class RandWorkload:
    """Random DML; remembers, per table, what each audit row stands for."""

    def __init__(self, rng, tables):
        self.rng = rng
        self.tables = tables
        self.serial = 0
        self.rows = {t.name: [] for t in tables}      # live key literal tuples
        self.events = {t.name: [] for t in tables}    # committed events
        self.stats = {"rollback": 0, "savepoint_rollback": 0, "keychange": 0}

    def new_key(self, t):
        self.serial += 1
        return tuple(k[3](self.rng, self.serial) for k in t.key)

    def op(self, t, rows, pending):
        rng = self.rng
        live = rows[t.name]
        r = rng.random()
        if not live or r < 0.45:
            key = self.new_key(t)
            vals = [self.value(t, c) for c in t.cols]
            live.append(key)
            pending.append((t.name, {"op": "c", "cols": None, "key": key}))
            return (f"INSERT INTO rt_rand.{t.name} "
                    f"({', '.join(t.key_names + [c[0] for c in t.cols])}) "
                    f"VALUES ({', '.join(list(key) + vals)})")
        i = rng.randrange(len(live))
        key = live[i]
        if r < 0.82:
            cols = rng.sample(t.cols, rng.randint(1, min(3, len(t.cols))))
            sets = [f"{c[0]} = {self.value(t, c)}" for c in cols]
            newkey = key
            if rng.random() < KEY_CHANGE_RATE[rng.big]:
                newkey = self.new_key(t)
                sets += [f"{k} = {v}" for k, v in zip(t.key_names, newkey)]
                live[i] = newkey
            pending.append((t.name, {"op": "u", "cols": {c[0] for c in cols},
                                     "keychange": newkey != key,
                                     "key": newkey, "oldkey": key}))
            return (f"UPDATE rt_rand.{t.name} SET {', '.join(sets)} "
                    f"WHERE {t.where(key)}")
        live.pop(i)
        pending.append((t.name, {"op": "d", "cols": None, "key": key}))
        return f"DELETE FROM rt_rand.{t.name} WHERE {t.where(key)}"

    def value(self, t, col):
        return t.value(self.rng, col)

    def run(self, conn, ntxn):
        rng = self.rng
        for _ in range(ntxn):
            rows = {k: list(v) for k, v in self.rows.items()}
            pending = []
            stmts = ["BEGIN"]
            saved = None
            for _ in range(rng.randint(1, 14)):
                if saved is None and rng.random() < 0.06:
                    stmts.append("SAVEPOINT s")
                    saved = ({k: list(v) for k, v in rows.items()},
                             len(pending))
                t = rng.choice(self.tables)
                stmts.append(self.op(t, rows, pending))
            if saved is not None and rng.random() < 0.5:
                stmts.append("ROLLBACK TO SAVEPOINT s")
                rows, n = saved
                del pending[n:]
                self.stats["savepoint_rollback"] += 1
            if rng.random() < 0.05:
                stmts.append("ROLLBACK")
                self.stats["rollback"] += 1
            else:
                stmts.append("COMMIT")
                self.rows = rows
                for name, ev in pending:
                    self.events[name].append(ev)
                    self.stats["keychange"] += bool(ev.get("keychange"))
            run(conn, ";\n".join(stmts))


@pytest.fixture(scope="module", params=[
    pytest.param(False, id="inline"),
    pytest.param(True, id="out_of_line")])
def rand_env(conn, request):
    """The random workload; values go out of line only with the param."""
    rng = random.Random(RAND_SEED)
    rng.big = request.param
    run(conn, "DROP SCHEMA IF EXISTS rt_rand CASCADE")
    run(conn, "CREATE SCHEMA rt_rand")
    run(conn, "CREATE TYPE rt_rand.mood AS ENUM "
              "('sad', 'ok', 'happy', 'with space', 'ünï')")
    run(conn, "CREATE SEQUENCE rt_rand.audit_seq")
    tables = [RandTable(rng, i) for i in range(RAND_TABLES)]
    for t in tables:
        for stmt in t.ddl():
            run(conn, stmt)
        t.toastable = {r[0] for r in run(
            conn, "SELECT attname FROM pg_attribute WHERE attrelid = "
                  "%s::regclass AND attnum > 0 AND attlen = -1",
            (f"rt_rand.{t.name}",))}
    create_slot(conn, "rt_rand")
    work = RandWorkload(rng, tables)
    work.run(conn, RAND_TXNS[rng.big])
    yield {"tables": tables, "work": work, "big": rng.big}
    drop_slot(conn, "rt_rand")
    run(conn, "DROP SCHEMA rt_rand CASCADE")


def key_of(t, row):
    return tuple(row[k] for k in t.key_names)


def canon_row(t, v, where, errors):
    """Decoded row -> canonical forms (Unchanged kept as UNCHANGED)."""
    if v is None:
        return None
    out = {}
    for c, spec in t.specs.items():
        try:
            out[c] = canon_got(spec, v[c])
        except Mismatch as e:
            errors.append(f"{where}: column {c}: {e}")
            out[c] = ("<undecodable>",)
    return out


def test_random_rows(conn, rand_env):
    """Thousands of random changes, change by change and as a final state.

    Eight tables with random columns from RAND_POOL, random keys (int,
    bigint, text, uuid, two columns) and replica identity DEFAULT or FULL;
    hundreds of transactions of random INSERT/UPDATE/DELETE (key-changing
    UPDATEs included), some rolled back, some with a rolled-back savepoint.
    A trigger writes every row image into an audit table, so the values
    written are known exactly.  Checked: every stream record against its
    audit image (op, key, before as the identity says, after), and the
    tables rebuilt from the stream (last record per key, deletes remove,
    Unchanged merged with the value already held) against SELECT.

    Out-of-line values an UPDATE leaves alone: under FULL after carries
    them (also in the create of a key change), under DEFAULT they may be
    wal2avro.Unchanged.  For the create of a key change under DEFAULT the
    rebuild merges from the row the delete at the same LSN removed (what a
    consumer has to do, see doc/protocol.md).
    """
    tables, work = rand_env["tables"], rand_env["work"]
    stream = decode(conn, "rt_rand", ["exclude-tables", "rt_rand.audit_*"])
    names = {t.name for t in tables}
    total = sum(len(e) for e in work.events.values())
    assert total >= (800 if rand_env["big"] else 2500), \
        f"only {total} changes"
    assert {c["table"] for c in stream.changes} <= names
    assert len(stream.changes) >= total
    errors = []
    unchanged_seen = 0
    unchanged_in_create = 0
    filled_expected = 0
    for t in tables:
        audit = run(conn, f"SELECT seq, op, "
                          f"{', '.join(wrap_expr(s, 'a.' + c) for c, s in t.specs.items())} "
                          f"FROM rt_rand.audit_{t.name} a ORDER BY seq")
        images = [{c: canon_want(s, v) for (c, s), v in
                   zip(t.specs.items(), row[2:])} for row in audit]
        events = work.events[t.name]
        recs = stream.of(t.name)
        if [a[1] for a in audit] != [e["op"] for e in events]:
            errors.append(f"{t.name}: audit ops differ from the workload's "
                          f"(test bug)")
            continue
        state = {}          # key -> latest full image, from the audit
        stream_state = {}   # key -> latest row rebuilt from the stream
        deleted = (None, None)  # (LSN, row) of the last delete
        canon_key = {}      # key as SQL literals -> canonical key
        pos = 0
        for n, (ev, img) in enumerate(zip(events, images)):
            where = f"rt_rand.{t.name} change {n} ({ev['op']})"
            key = key_of(t, img)
            canon_key[ev["key"]] = key
            expected = []       # (op, key, before, after, unchanged_ok)
            if ev["op"] == "c":
                expected.append(("c", key, None, img, ()))
            elif ev["op"] == "d":
                old = state[key]
                before = old if t.full else \
                    {c: (old[c] if c in t.key_names else None)
                     for c in t.specs}
                expected.append(("d", key, before, None, ()))
            elif ev.get("keychange"):
                oldkey = canon_key[ev["oldkey"]]
                old = state[oldkey]
                before = old if t.full else \
                    {c: (old[c] if c in t.key_names else None)
                     for c in t.specs}
                expected.append(("d", oldkey, before, None, ()))
                expected.append(("c", key, None, img,
                                 untouched_by(t, ev)))
            else:
                expected.append(("u", key, state[key] if t.full else None,
                                 img, untouched_by(t, ev)))
            if ev["op"] == "u" and t.full:
                # out-of-line values the UPDATE left alone: not logged in
                # the new row, after must have them from the old one
                filled_expected += sum(
                    1 for c in t.toastable - ev["cols"] - set(t.key_names)
                    if isinstance(img[c], str) and len(img[c]) > 2000)
            for op, k, before, after, unchanged_ok in expected:
                if pos >= len(recs):
                    errors.append(f"{where}: the stream ends early")
                    break
                rec = recs[pos]
                pos += 1
                if rec["op"] != op:
                    errors.append(f"{where}: op {rec['op']!r}, expected {op}")
                    continue
                gk = canon_row_key(t, rec["key"], where, errors)
                if gk != k:
                    errors.append(f"{where}: key {short(gk)} != {short(k)}")
                b = canon_row(t, row_of(rec["value"]["before"]), where,
                              errors)
                a = canon_row(t, row_of(rec["value"]["after"]), where,
                              errors)
                errors += diff_canon(where + " before", before, b, ())
                errors += diff_canon(where + " after", after, a,
                                     unchanged_ok)
                # rebuild the table from the stream, merging Unchanged;
                # a create right after a delete at the same LSN is a key
                # change: its Unchanged values are the deleted row's
                if op == "d":
                    deleted = (rec["lsn"], stream_state.pop(gk, None))
                elif a is not None:
                    merged = dict(a)
                    for c, v in a.items():
                        if v == UNCHANGED:
                            unchanged_seen += 1
                            prev = stream_state.get(gk)
                            if op == "c" and deleted[0] == rec["lsn"]:
                                prev = deleted[1]
                                unchanged_in_create += 1
                            merged[c] = prev[c] if prev else ("<no value>",)
                    stream_state[gk] = merged
                if op != "d":
                    deleted = (None, None)
            if ev["op"] == "d":
                state.pop(key)
            elif ev.get("keychange"):
                state.pop(canon_key[ev["oldkey"]])
                state[key] = img
            else:
                state[key] = img
        if pos != len(recs):
            errors.append(f"rt_rand.{t.name}: {len(recs) - pos} changes "
                          f"more than written")
        final = select_canon(conn, f"rt_rand.{t.name}", t.specs, t.key_names)
        if final != state:
            errors.append(f"rt_rand.{t.name}: the audit trail does not "
                          f"rebuild the table (test bug)")
        if stream_state != final:
            missing = set(final) - set(stream_state)
            extra = set(stream_state) - set(final)
            errors.append(f"rt_rand.{t.name}: table rebuilt from the stream "
                          f"differs from SELECT: {len(missing)} keys missing, "
                          f"{len(extra)} extra")
            for k in set(final) & set(stream_state):
                errors += diff_canon(f"rt_rand.{t.name} final key {k}",
                                     final[k], stream_state[k], ())
    fail_on(errors)
    # the workload did what it is meant to exercise
    stats = work.stats
    assert stats["rollback"] and stats["savepoint_rollback"], stats
    assert sum(1 for e in work.events.values() for x in e
               if x["op"] == "d") > 100
    assert stats["keychange"] > 20, stats
    if rand_env["big"]:
        assert unchanged_seen > 0, "no Unchanged value was exercised"
        assert unchanged_in_create > 0, \
            "no key change under DEFAULT left an out-of-line value alone"
        assert filled_expected > 0, \
            "no UPDATE under FULL left an out-of-line value alone"


def untouched_by(t, ev):
    """The columns of an UPDATE whose values may come as Unchanged: TOASTable
    columns it did not set, outside the key, and only under DEFAULT (under
    FULL PostgreSQL logs the old row and the plugin fills them from it)."""
    if t.full:
        return set()
    return {c for c in t.specs if c in t.toastable and
            c not in ev["cols"] and c not in t.key_names}


def canon_row_key(t, key, where, errors):
    if key is None:
        return None
    try:
        return tuple(canon_got(t.specs[k], key[k]) for k in t.key_names)
    except (Mismatch, KeyError) as e:
        errors.append(f"{where}: key {short(key)}: {e}")
        return None


def diff_canon(where, want, got, unchanged_ok):
    if want is None or got is None:
        if want is not got:
            return [f"{where}: decoded {short(got)}, expected {short(want)}"]
        return []
    errors = []
    for c in want:
        if got.get(c) == UNCHANGED and c in unchanged_ok:
            continue
        if got.get(c) != want[c]:
            errors.append(f"{where}: column {c}: decoded {short(got.get(c))}"
                          f" != expected {short(want[c])}")
    return errors


# ---------------------------------------------------------------------------
# 5b. Random odd names and nested composites
# ---------------------------------------------------------------------------

ODD_SEED = 20261203
# schemas, tables, columns and types named like wal2avro's own records and
# fields, with commas, dots, quotes, spaces, non-ASCII and leading digits;
# "composite"."public" with a type public."Value" makes a composite's record
# name the row record's (issue 13 item 15a)
ODD_SCHEMAS = ["composite", "wal2avro", "odd.sch", "s,1", 'q"s', "ünï",
               "Value"]
ODD_TABLES = ["public", "Value", "Key", "Envelope", "Source", "t,1",
              "dot.t", 'quo"te', "表 t", "1st", "Unchanged"]
ODD_COLUMNS = ["__op", "__lsn", "__deleted", "__source_ts_ms", "__op_2",
               "Value", "Key", "before", "after", "op", "ts_ms", "a,b",
               "x.y", 'q"c', "ünï", "1c", "my-id", "my_id", " "]
ODD_TYPES = ["Value", "Key", "Envelope", "pair-t", "pair_t", "Source",
             "Unchanged"]
ODD_TXNS = 120
FLAT_FIELDS = ("__op", "__lsn", "__source_ts_ms", "__deleted")


def qi(name):
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def avro_name(pg):
    """doc/protocol.md's mapping of a PostgreSQL name to an Avro name."""
    out = "".join(c if (c.isascii() and (c.isalnum() or c == "_")) else "_"
                  for c in pg)
    return "_" + out if not pg or pg[0].isdigit() else out


def unique_names(names):
    """Later duplicates get _2, _3, ... (doc/protocol.md)."""
    out = []
    for n in names:
        base, k = n, 1
        while n in out:
            k += 1
            n = f"{base}_{k}"
        out.append(n)
    return out


class OddComposite(Spec):
    """A composite type of odd attribute names; its record's name is
    whatever the schema gives it (the naming rule has its own tests), but it
    must be a composite's record, never a row record."""

    def __init__(self, attrs):
        self.attrs = attrs      # [(pg name, spec)]
        self.avro = unique_names([avro_name(a) for a, _ in attrs])

    def expr(self, c):
        parts = []
        for (a, spec), av in zip(self.attrs, self.avro):
            ac = f"({c}).{qi(a)}"
            parts.append(f"{q(av)}, CASE WHEN num_nulls({ac}) = 1 THEN NULL "
                         f"ELSE {spec.expr(ac)} END")
        return f"jsonb_build_object({', '.join(parts)})"

    def want(self, j):
        return {av: None if j[av] is None else spec.want(j[av])
                for (_, spec), av in zip(self.attrs, self.avro)}

    def got(self, v):
        if not (isinstance(v, tuple) and len(v) == 2 and
                v[0].startswith("wal2avro.composite.")):
            raise Mismatch(f"not a composite's record: {short(v)}")
        r = v[1]
        if not isinstance(r, dict) or list(r) != self.avro:
            raise Mismatch(f"bad {v[0]}: {short(r)}")
        return {av: None if r[av] is None else spec.got(r[av])
                for (_, spec), av in zip(self.attrs, self.avro)}


def odd_text(rng):
    return q("".join(rng.choice(_ALPHABET) for _ in range(rng.randint(0, 12))))


class OddType:
    """A composite type: name, SQL type, spec and value generator."""

    def __init__(self, sql, spec, gen):
        self.sql, self.spec, self.gen = sql, spec, gen


def odd_types(rng, conn):
    """Three composite types nested in each other, with odd names, in odd
    schemas; public."Value" always among them."""
    names = [("public", "Value")] + [
        (rng.choice(ODD_SCHEMAS), n) for n in rng.sample(ODD_TYPES[1:], 2)]
    for sch, _ in names[1:]:
        run(conn, f"CREATE SCHEMA IF NOT EXISTS {qi(sch)}")
    a_sql, b_sql, c_sql = (f"{qi(s)}.{qi(n)}" for s, n in names)
    a_attrs = [("x", INT4), ("Value", TEXT), ("1a", NUMVAR)]
    run(conn, f"CREATE TYPE {a_sql} AS (x int, \"Value\" text, \"1a\" numeric)")
    a = OddType(a_sql, OddComposite(a_attrs), lambda r: (
        f"ROW({r.choice(['NULL', str(r.randint(-9, 9**9))])}, "
        f"{r.choice(['NULL', odd_text(r)])}, "
        f"{r.choice(['NULL', repr(r.randint(-10**6, 10**6) / 1000)])})"
        f"::{a_sql}"))
    b_attrs = [("__op", a.spec), ("a,b", Array(a.spec)), ("d", DATE)]
    run(conn, f"CREATE TYPE {b_sql} AS (__op {a_sql}, \"a,b\" {a_sql}[], "
              f"d date)")

    def gen_b(r):
        arr = ", ".join(r.choice(["NULL", a.gen(r)])
                        for _ in range(r.randint(0, 3)))
        return (f"ROW({r.choice(['NULL', a.gen(r)])}, "
                f"ARRAY[{arr}]::{a_sql}[], "
                f"{r.choice(['NULL', 'current_date'])})::{b_sql}")
    b = OddType(b_sql, OddComposite(b_attrs), gen_b)
    c_attrs = [("Key", b.spec), ("é", BOOL)]
    run(conn, f"CREATE TYPE {c_sql} AS (\"Key\" {b_sql}, \"é\" bool)")
    c = OddType(c_sql, OddComposite(c_attrs), lambda r: (
        f"ROW({r.choice(['NULL', b.gen(r)])}, "
        f"{r.choice(['NULL', 'true', 'false'])})::{c_sql}"))
    arr_b = OddType(b_sql + "[]", Array(b.spec), lambda r: (
        "ARRAY[" + ", ".join(r.choice(["NULL", b.gen(r)])
                             for _ in range(r.randint(0, 2))) +
        f"]::{b_sql}[]"))
    plain = [OddType("int", INT4, lambda r: str(r.randint(-2**31, 2**31 - 1))),
             OddType("text", TEXT, odd_text),
             OddType("numeric", NUMVAR, _r_numeric),
             OddType("text[]", Array(TEXT), _r_text_array)]
    return [a, b, c, arr_b] + plain, names


class OddTable:
    def __init__(self, rng, schema, name, types):
        self.schema, self.name = schema, name
        self.sql = f"{qi(schema)}.{qi(name)}"
        cols = rng.sample(ODD_COLUMNS, rng.randint(3, 8))
        self.key = cols[0]
        self.cols = [(c, rng.choice(types)) for c in cols[1:]]
        # a composite column in every table, nested three deep in some
        self.cols.append(("nest", rng.choice(types[:4])))
        self.specs = {self.key: INT4} | {c: t.spec for c, t in self.cols}
        self.live = []

    def ddl(self):
        cols = ", ".join(f"{qi(c)} {t.sql}" for c, t in self.cols)
        return f"CREATE TABLE {self.sql} ({qi(self.key)} int PRIMARY KEY, {cols})"


def odd_select(conn, t):
    """key -> {pg column name: canonical form} of every row of t."""
    exprs = [wrap_expr(s, f"t.{qi(c)}") for c, s in t.specs.items()]
    out = {}
    for row in run(conn, f"SELECT {', '.join(exprs)} FROM {t.sql} t"):
        vals = {c: canon_want(s, v) for (c, s), v in zip(t.specs.items(), row)}
        out[vals[t.key]] = vals
    return out


def named_definitions(node, out):
    """Every definition of a named type (duplicates kept)."""
    if isinstance(node, list):
        for n in node:
            named_definitions(n, out)
    elif isinstance(node, dict):
        if node.get("type") in ("record", "enum", "fixed"):
            out.append(node["name"])
        for f in node.get("fields", []):
            named_definitions(f["type"], out)
        if node.get("type") == "array":
            named_definitions(node["items"], out)
    return out


@pytest.fixture(scope="module")
def odd_env(conn):
    rng = random.Random(ODD_SEED)
    for sch in ODD_SCHEMAS:
        run(conn, f"DROP SCHEMA IF EXISTS {qi(sch)} CASCADE")
    run(conn, 'DROP TYPE IF EXISTS public."Value" CASCADE')
    types, type_names = odd_types(rng, conn)
    tables = [OddTable(rng, "composite", "public", types)]
    for name in rng.sample(ODD_TABLES[1:], 6):
        tables.append(OddTable(rng, rng.choice(ODD_SCHEMAS), name, types))
    for t in tables:
        run(conn, f"CREATE SCHEMA IF NOT EXISTS {qi(t.schema)}")
        run(conn, t.ddl())
    create_slot(conn, "rt_odd")
    serial = 0
    for _ in range(ODD_TXNS):
        stmts = ["BEGIN"]
        for _ in range(rng.randint(1, 6)):
            t = rng.choice(tables)
            r = rng.random()
            if not t.live or r < 0.5:
                serial += 1
                t.live.append(serial)
                cols = [qi(t.key)] + [qi(c) for c, _ in t.cols]
                vals = [str(serial)] + [rng.choice(["NULL"] + [ty.gen(rng)] * 5)
                                        for _, ty in t.cols]
                stmts.append(f"INSERT INTO {t.sql} ({', '.join(cols)}) "
                             f"VALUES ({', '.join(vals)})")
            elif r < 0.85:
                k = rng.choice(t.live)
                c, ty = rng.choice(t.cols)
                stmts.append(f"UPDATE {t.sql} SET {qi(c)} = {ty.gen(rng)} "
                             f"WHERE {qi(t.key)} = {k}")
            else:
                k = t.live.pop(rng.randrange(len(t.live)))
                stmts.append(f"DELETE FROM {t.sql} WHERE {qi(t.key)} = {k}")
        stmts.append("COMMIT")
        run(conn, ";\n".join(stmts))
    yield {"tables": tables, "type_names": type_names}
    drop_slot(conn, "rt_odd")
    for sch in ODD_SCHEMAS:
        run(conn, f"DROP SCHEMA IF EXISTS {qi(sch)} CASCADE")
    run(conn, 'DROP TYPE IF EXISTS public."Value" CASCADE')


def quoted_pattern(t):
    """include-tables item naming exactly t (doc: double-quoted names)."""
    return f"{qi(t.schema)}.{qi(t.name)}"


@pytest.mark.parametrize("envelope", ["debezium", "flat"])
def test_random_odd_names(conn, odd_env, envelope):
    """Random changes to tables of odd names with nested composite columns.

    Schemas, tables, columns and composite types are named like wal2avro's
    own records and fields (Value, Key, Envelope, Source, Unchanged, __op,
    __lsn, __deleted, __source_ts_ms, before, op) or hold commas, dots,
    quotes, spaces, non-ASCII characters and leading digits; one table is
    "composite"."public" next to a type public."Value"; composite types nest
    three deep, also in arrays.  The tables are selected by include-tables
    with double-quoted names.  Checked: every binary record decodes with
    its published schema by fastavro (w2a_frames.Decoder, strict), no
    schema defines a named type twice, composite columns decode as their
    composite's record, the flat envelope's __op/__deleted are the
    envelope's, and the tables rebuilt from the stream equal SELECT.
    """
    tables = odd_env["tables"]
    include = ",".join(quoted_pattern(t) for t in tables)
    stream = decode(conn, "rt_odd", ["include-tables", include,
                                     "envelope", envelope])
    errors = []
    assert {(c["schema"], c["table"]) for c in stream.changes} <= \
        {(t.schema, t.name) for t in tables}
    for s in stream.schemas:
        for which in ("key_schema", "value_schema"):
            if not s[which]:
                continue
            defs = named_definitions(json.loads(s[which]), [])
            dups = {n for n in defs if defs.count(n) > 1}
            if dups:
                errors.append(f"{s['schema']}.{s['table']} {which}: named "
                              f"types defined twice: {sorted(dups)}")
    seen_tables = set()
    for t in tables:
        recs = [c for c in stream.changes
                if (c["schema"], c["table"]) == (t.schema, t.name)]
        schemas = [s for s in stream.schemas
                   if (s["schema"], s["table"]) == (t.schema, t.name)]
        if not recs:
            continue
        seen_tables.add(t.sql)
        fields, _ = value_fields(schemas[-1])
        by_pg = {f["pg.name"]: f["name"] for f in fields if "pg.name" in f}
        assert set(by_pg) == set(t.specs), (t.sql, by_pg)
        if envelope == "flat":
            names = [f["name"] for f in fields]
            assert names[-4:] == list(FLAT_FIELDS), names
            assert not set(FLAT_FIELDS) & set(by_pg.values()), by_pg
        key_fields = json.loads(schemas[-1]["key_schema"])["fields"]
        key_name = key_fields[0]["name"]
        assert key_fields[0]["pg.name"] == t.key
        state = {}
        for n, rec in enumerate(recs):
            where = f"{t.sql} change {n} ({rec['op']})"
            key = rec["key"][key_name]
            v = rec["value"]
            if envelope == "flat":
                if v["__op"] != rec["op"] or v["__deleted"] != \
                        (rec["op"] == "d"):
                    errors.append(f"{where}: __op {v['__op']!r}, __deleted "
                                  f"{v['__deleted']!r}")
                row = None if rec["op"] == "d" else v
            else:
                row = row_of(v["after"])
            if row is None:
                state.pop(key, None)
                continue
            got = {}
            for c, spec in t.specs.items():
                try:
                    got[c] = canon_got(spec, row[by_pg[c]])
                except Mismatch as e:
                    errors.append(f"{where}: column {c!r}: {e}")
            state[key] = got
        final = odd_select(conn, t)
        if final != state:
            for k in set(final) | set(state):
                if final.get(k) != state.get(k):
                    errors.append(f"{t.sql} key {k}: stream {short(state.get(k))}"
                                  f" != SELECT {short(final.get(k))}")
    fail_on(errors)
    # the workload did what it is meant to exercise
    assert '"composite"."public"' in seen_tables, seen_tables
    assert len(seen_tables) >= 5, seen_tables
    assert len(stream.changes) >= 250, len(stream.changes)
    assert any(set(FLAT_FIELDS) & set(t.specs) for t in tables), \
        "no column is named like a flat envelope field"
    assert sum(1 for c in stream.changes if c["op"] == "d") >= 20


# ---------------------------------------------------------------------------
# 6. Fingerprints
# ---------------------------------------------------------------------------

def test_rabin_implementation():
    # Avro's schema-tests.txt: "int" -> 8247732601305521295
    assert rabin64(b'"int"') == 0x7275D51A3F395C8F
    assert rabin64(b"") == _RABIN_EMPTY
    assert w.avro_fingerprint('"int"') == rabin64(b'"int"')


def test_fingerprints(conn):
    """Every SCHEMA frame: fingerprints recomputed here and by the Decoder.

    A table with a column of every mapped type, a second SCHEMA frame after
    ALTER TABLE ADD COLUMN, none after catalog changes that leave the schema
    as it was.  Then the module-wide tally: every SCHEMA frame decoded so far
    had its fingerprints checked by the Decoder (counted) and here.
    """
    run(conn, "DROP SCHEMA IF EXISTS rt_fp CASCADE")
    run(conn, "CREATE SCHEMA rt_fp")
    run(conn, TYPE_SETUP.replace("rt_types", "rt_fp"))
    cols = [f"c_{c[0]} {c[1].replace('rt_types', 'rt_fp')}"
            for c in TYPE_CASES if c[4] is None]
    run(conn, f"CREATE TABLE rt_fp.wide (id int PRIMARY KEY, "
              f"{', '.join(cols)})")
    run(conn, "CREATE TABLE rt_fp.nokey (a int)")
    run(conn, "CREATE TABLE rt_fp.two (a int, b text, PRIMARY KEY (b, a))")
    create_slot(conn, "rt_fp")
    try:
        run(conn, "INSERT INTO rt_fp.wide (id) VALUES (1)")
        run(conn, "INSERT INTO rt_fp.nokey VALUES (1)")
        run(conn, "INSERT INTO rt_fp.two VALUES (1, 'x')")
        run(conn, "COMMENT ON TABLE rt_fp.wide IS 'no schema change'")
        run(conn, "CREATE INDEX ON rt_fp.wide (c_int4)")
        run(conn, "ANALYZE rt_fp.wide")
        run(conn, "INSERT INTO rt_fp.wide (id) VALUES (2)")
        run(conn, "ALTER TABLE rt_fp.wide ADD COLUMN extra int")
        run(conn, "INSERT INTO rt_fp.wide (id, extra) VALUES (3, 3)")
        before = dict(FP)
        s = decode(conn, "rt_fp")
        frames = len(s.schemas)
        assert [x["table"] for x in s.schemas] == ["wide", "nokey", "two",
                                                   "wide"]
        assert s.schemas[0]["value_fingerprint"] != \
            s.schemas[3]["value_fingerprint"]
        assert s.schemas[0]["key_fingerprint"] == \
            s.schemas[3]["key_fingerprint"]
        assert s.schemas[1]["key_fingerprint"] == 0
        assert s.schemas[2]["key_columns"] == ["b", "a"]
        checks = 2 * frames - 1          # nokey has no key schema
        assert FP["decoder_checks"] - before["decoder_checks"] == checks
        assert FP["own_checks"] - before["own_checks"] == frames
        for x in s.schemas:
            assert w.avro_fingerprint(x["value_schema"]) == \
                x["value_fingerprint"]
    finally:
        drop_slot(conn, "rt_fp")
        run(conn, "DROP SCHEMA rt_fp CASCADE")
    # module-wide: every SCHEMA frame seen in this module was checked twice
    assert FP["schema_frames"] >= frames
    assert FP["own_checks"] == FP["schema_frames"]
    assert FP["decoder_checks"] == FP["expected_checks"]


def test_fingerprint_follows_logical_types(conn):
    """Retypes the Parsing Canonical Form cannot see get new fingerprints.

    timestamp -> timestamptz (local-timestamp-micros -> timestamp-micros),
    int4 -> date (int -> int with logicalType date), text -> jsonb (string,
    pg.type text -> jsonb): each a new SCHEMA frame with a fingerprint not
    seen before, whose schema carries the new meaning.
    """
    run(conn, "DROP TABLE IF EXISTS rt_fp_meaning")
    run(conn, "CREATE TABLE rt_fp_meaning (id int PRIMARY KEY, t timestamp, "
              "d int4, j text)")
    create_slot(conn, "rt_fp_meaning")
    try:
        run(conn, "INSERT INTO rt_fp_meaning VALUES (1, now(), 1, '{}')")
        run(conn, "ALTER TABLE rt_fp_meaning ALTER COLUMN t TYPE timestamptz")
        run(conn, "INSERT INTO rt_fp_meaning VALUES (2, now(), 1, '{}')")
        run(conn, "ALTER TABLE rt_fp_meaning ALTER COLUMN d TYPE date "
                  "USING DATE '2000-01-01' + d")
        run(conn, "INSERT INTO rt_fp_meaning VALUES (3, now(), now(), '{}')")
        run(conn, "ALTER TABLE rt_fp_meaning ALTER COLUMN j TYPE jsonb "
                  "USING j::jsonb")
        run(conn, "INSERT INTO rt_fp_meaning VALUES (4, now(), now(), '{}')")
        s = decode(conn, "rt_fp_meaning")
        fps = [x["value_fingerprint"] for x in s.schemas]
        assert len(fps) == 4
        assert len(set(fps)) == 4, [f"{fp:016x}" for fp in fps]
        assert len({x["key_fingerprint"] for x in s.schemas}) == 1
        last = s.schemas[-1]["value_schema"]
        assert '"timestamp-micros"' in last and '"local-timestamp' not in last
        assert '"logicalType":"date"' in last
        assert '"pg.type":"jsonb"' in last
    finally:
        drop_slot(conn, "rt_fp_meaning")
        run(conn, "DROP TABLE rt_fp_meaning")
