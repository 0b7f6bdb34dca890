#!/usr/bin/env python3
"""connect_avro.py -- Kafka Connect (as JsonConverter prints it) <-> Avro (as AvroData makes it)

The written-down mapping of issue 14 (doc/debezium.md): the plugin's
compat=debezium output is tested against connect_to_avro(Debezium's record),
the relay's JSON walker against avro_to_connect's inverse.  Two functions:

  connect_to_avro(connect_schema, payload) -> (avro_schema, avro_value)
      connect_schema and payload are the "schema" and "payload" members of a
      record JsonConverter wrote with schemas.enable=true (parsed JSON).
      avro_schema is the schema AvroData.fromConnectSchema builds, as a JSON
      value in the shape and key order Avro Java's Schema.toString() writes
      (avro_schema_text() gives the text); avro_value is the datum
      AvroData.fromConnectData builds, in fastavro's form (records as dicts,
      bytes and decimals as bytes, unions resolved by fastavro).

  avro_to_connect(avro_schema, avro_value) -> (connect_schema, payload)
      the inverse: AvroData.toConnectSchema/toConnectData, then JsonConverter's
      asJsonSchema/convertToJson, as parsed JSON with JsonConverter's key order.

Configuration followed (the defaults of Confluent's AvroConverter and of Kafka's
JsonConverter): connect.meta.data=true, enhanced.avro.schema.support=false,
scrub.invalid.names=false, schemas.enable=true, decimal.format=BASE64,
replace.null.with.default=true.

Where each rule comes from (Confluent schema-registry, avro-data module,
io/confluent/connect/avro/AvroData.java; Apache Kafka, connect/json,
org/apache/kafka/connect/json/JsonConverter.java and JsonSchema.java; Apache
Avro Java, org/apache/avro/Schema.java for the text form); the functions below
cite the method each rule is taken from.  No code is copied.

CLI:
  connect_avro.py to-avro < capture.jsonl > avro.jsonl
      per record of a capture (regress/tools/kafka_dump.py's lines) one line
      {"topic","partition","offset","key_schema","key_avro","value_schema",
      "value_avro"}: the Avro schema as Avro Java's text and the datum's Avro
      binary in hex, null where the key or value is null (a tombstone).
      A line's key and value may be parsed JSON (kafka_dump.py) or the
      record's JSON text (regress/workloads/debezium_types.capture.jsonl).
  connect_avro.py cases < fixture.jsonl > cases.tsv
      for the relay's JSON walker (regress/relay/connect_json_check.c): per
      non-null key and value of a fixture whose records are JSON text, one
      line "LABEL<TAB>AVRO SCHEMA<TAB>DATUM HEX<TAB>RECORD<TAB>PAYLOAD", the
      last two the record's exact text and its payload's (schemas.enable
      false writes just that); JsonConverter's text has no raw tab or newline.
"""

import base64
import copy
import io
import json
import math
import struct
import sys

import fastavro

# AvroData's property names and defaults (AvroData: constants).
NAMESPACE = "io.confluent.connect.avro"
DEFAULT_SCHEMA_NAME = "ConnectDefault"
CONNECT_NAME = "connect.name"
CONNECT_DOC = "connect.doc"
CONNECT_VERSION = "connect.version"
CONNECT_DEFAULT = "connect.default"
CONNECT_PARAMETERS = "connect.parameters"
CONNECT_TYPE = "connect.type"
CONNECT_INTERNAL_TYPE = "connect.internal.type"
AVRO_RECORD_DOC = NAMESPACE + ".record.doc"
AVRO_FIELD_DOC_PREFIX = NAMESPACE + ".field.doc."
AVRO_FIELD_DEFAULT_FLAG = NAMESPACE + ".field.default"
AVRO_TYPE_UNION = NAMESPACE + ".Union"
AVRO_TYPE_ENUM = NAMESPACE + ".Enum"
MAP_ENTRY = "MapEntry"
DECIMAL = "org.apache.kafka.connect.data.Decimal"
CONNECT_DATE = "org.apache.kafka.connect.data.Date"
CONNECT_TIME = "org.apache.kafka.connect.data.Time"
CONNECT_TIMESTAMP = "org.apache.kafka.connect.data.Timestamp"
DECIMAL_PRECISION_PARAM = "connect.decimal.precision"
DECIMAL_PRECISION_DEFAULT = 64

# Connect type -> Avro primitive (AvroData.fromConnectSchema's switch).
_PRIMITIVE = {"int8": "int", "int16": "int", "int32": "int", "int64": "long",
              "float": "float", "double": "double", "boolean": "boolean",
              "string": "string", "bytes": "bytes"}
_NAMED = ("record", "enum", "fixed")


class ConnectAvroError(ValueError):
    pass


def _split_name(full):
    """AvroData.splitName: namespace is everything before the last dot."""
    i = full.rfind(".")
    return (full[:i], full[i + 1:]) if i >= 0 else (None, full)


# ---------------------------------------------------------------------------
# Connect -> Avro schema (AvroData.fromConnectSchema)
# ---------------------------------------------------------------------------
#
# Avro schemas are built as Python objects first: a primitive is
# {"type": "int", <props>}, a record {"type": "record", "name", "namespace",
# "doc", "fields", <props>} (one object per Avro Schema instance, so the text
# form can write a second use as a name reference like Avro Java does), a
# union a list.  _to_text_json() turns that into the Schema.toString() shape.


class _FromConnect:
    def __init__(self):
        # AvroData.FromConnectContext.cycleReferences: Connect struct name ->
        # the Avro record built for it; a later struct of the same name reuses
        # it (fromConnectSchemaWithCycle), so "after" names "before"'s record.
        self.by_name = {}

    def schema(self, cs, ignore_optional=False):
        # fromConnectSchemaWithCycle: reuse a record already built for this name
        if cs.get("name") in self.by_name and cs["type"] == "struct":
            rec = self.by_name[cs["name"]]
            return rec if ignore_optional or not cs.get("optional") else ["null", rec]
        return self._build(cs, ignore_optional)

    def _build(self, cs, ignore_optional):
        t = cs["type"]
        name = cs.get("name")
        params = cs.get("parameters")
        connect_type = None
        if t in ("int8", "int16"):
            # fromConnectSchema: int8/int16 are Avro int plus connect.type
            connect_type = t
            base = {"type": "int"}
        elif t == "bytes":
            base = {"type": "bytes"}
            if name == DECIMAL:
                # fromConnectSchema, BYTES: "scale" then "precision" props
                # (precision from connect.decimal.precision, default 64)
                base["scale"] = int(params["scale"])
                base["precision"] = int(params.get(DECIMAL_PRECISION_PARAM, DECIMAL_PRECISION_DEFAULT))
        elif t in _PRIMITIVE:
            # STRING with an io.confluent.connect.avro.Enum parameter becomes
            # an Avro enum only with enhanced.avro.schema.support (off here)
            base = {"type": _PRIMITIVE[t]}
        elif t == "array":
            base = {"type": "array", "items": self.schema(cs["items"])}
        elif t == "map":
            ks = cs["keys"]
            if ks["type"] == "string" and not ks.get("optional"):
                base = {"type": "map", "values": self.schema(cs["values"])}
            else:
                # fromConnectSchema, MAP with other keys: array of MapEntry records
                if name is None:
                    entry = {"type": "record", "name": MAP_ENTRY, "namespace": NAMESPACE}
                else:
                    ns, short = _split_name(name)
                    entry = {"type": "record", "name": short, "namespace": ns}
                entry["fields"] = [self._field("key", ks, None), self._field("value", cs["values"], None)]
                if name is not None:
                    entry[CONNECT_INTERNAL_TYPE] = MAP_ENTRY
                base = {"type": "array", "items": entry}
        elif t == "struct":
            if name == AVRO_TYPE_UNION:
                members = (["null"] if cs.get("optional") else []) + [
                    self.schema(_non_optional(f), True) for f in cs["fields"]]
                return members
            if cs.get("optional"):
                # fromConnectSchema, STRUCT optional: ["null", nonOptional(schema)]
                return ["null", self.schema(_non_optional(cs), False)]
            ns, short = _split_name(name) if name is not None else (NAMESPACE, DEFAULT_SCHEMA_NAME)
            base = {"type": "record", "name": short, "namespace": ns,
                    "doc": (params or {}).get(AVRO_RECORD_DOC)}
            if name is not None:
                self.by_name[name] = base
            base["fields"] = [self._field(f["field"], f, (params or {}).get(AVRO_FIELD_DOC_PREFIX + f["field"]))
                              for f in cs["fields"]]
        else:
            raise ConnectAvroError("unknown Connect schema type %r" % t)

        # fromConnectSchema: metadata on the base schema, in this order
        if cs.get("doc") is not None:
            base[CONNECT_DOC] = cs["doc"]
        if cs.get("version") is not None:
            base[CONNECT_VERSION] = cs["version"]
        if params:
            p = {k: v for k, v in params.items() if k != AVRO_FIELD_DEFAULT_FLAG}  # parametersFromConnect
            if p:
                base[CONNECT_PARAMETERS] = p
        if "default" in cs and cs["default"] is not None and AVRO_FIELD_DEFAULT_FLAG not in (params or {}):
            base[CONNECT_DEFAULT] = _default_from_connect(cs, cs["default"])
        if name is not None:
            base[CONNECT_NAME] = name
        if connect_type is not None:
            base[CONNECT_TYPE] = connect_type
        # logical types: LogicalTypes.*.addToSchema adds "logicalType" (and, for
        # decimal, precision/scale, already there); Time/Timestamp/Date too
        if name == DECIMAL:
            prec = int(params.get(DECIMAL_PRECISION_PARAM, DECIMAL_PRECISION_DEFAULT))
            scale = int(params.get("scale", 0))
            if 0 <= scale <= prec or DECIMAL_PRECISION_PARAM in params:
                base["logicalType"] = "decimal"
            elif scale < 0 or scale > prec:
                base["logicalType"] = "decimal"  # legacy path (forceLegacyDecimal) adds the prop too
        elif name == CONNECT_TIME:
            base["logicalType"] = "time-millis"
        elif name == CONNECT_TIMESTAMP:
            base["logicalType"] = "timestamp-millis"
        elif name == CONNECT_DATE:
            base["logicalType"] = "date"
        for k, v in (params or {}).items():
            if k.startswith("avro"):       # fromConnectSchema: "avro*" parameters become props
                base[k] = v
        if ignore_optional or not cs.get("optional"):
            return base
        # fromConnectSchema / maybeMakeOptional: a default puts the type first
        if cs.get("default") is not None:
            return [base, "null"]
        return ["null", base]

    def _field(self, fname, fs, doc):
        """AvroData.addAvroRecordField: the field default is the Connect default,
        else null for an optional field, else none."""
        f = {"name": fname, "type": self.schema(fs)}
        if doc is not None:
            f["doc"] = doc
        if fs.get("default") is not None:
            f["default"] = _default_from_connect(fs, fs["default"])
        elif fs.get("optional"):
            f["default"] = None
        return f


def _non_optional(cs):
    """AvroData.nonOptional: the same schema, required (the "field" key is the
    JSON form's, not the schema's)."""
    c = dict(cs)
    c["optional"] = False
    c.pop("field", None)
    return c


def _default_from_connect(cs, jv):
    """AvroData.defaultValueFromConnect, from JsonConverter's JSON of the
    default: bytes become an ISO-8859-1 string, structs objects, non-string-key
    maps arrays of [key, value]."""
    if jv is None:
        return None
    t = cs["type"]
    if t == "bytes":
        return base64.b64decode(jv).decode("latin-1")
    if t in ("float", "double"):
        return _json_float(jv)
    if t == "array":
        return [_default_from_connect(cs["items"], e) for e in jv]
    if t == "map":
        if cs["keys"]["type"] == "string" and not cs["keys"].get("optional"):
            return {k: _default_from_connect(cs["values"], v) for k, v in jv.items()}
        return [[_default_from_connect(cs["keys"], k), _default_from_connect(cs["values"], v)] for k, v in jv]
    if t == "struct":
        return {f["field"]: _default_from_connect(f, jv.get(f["field"])) for f in cs["fields"]}
    return jv


def _json_float(v):
    """JsonConverter writes NaN and infinities as strings (Jackson's
    QUOTE_NON_NUMERIC_NUMBERS): "NaN", "Infinity", "-Infinity"."""
    if isinstance(v, str):
        return float(v.replace("Infinity", "inf"))
    return float(v)


# ---------------------------------------------------------------------------
# Connect -> Avro value (AvroData.fromConnectData)
# ---------------------------------------------------------------------------

def _value_from_connect(cs, v):
    if v is None:
        # JsonConverter already wrote the default for a null with a default
        # (replace.null.with.default), so a null here is an optional null.
        if not cs.get("optional") and cs.get("default") is None:
            raise ConnectAvroError("null value for required schema %r" % cs.get("field", cs["type"]))
        return None
    t = cs["type"]
    if t == "bytes":
        # JsonConverter: bytes and Decimal (decimal.format=BASE64) as base64;
        # AvroData: Decimal.fromLogical is BigInteger.toByteArray, the same bytes
        return base64.b64decode(v)
    if t in ("float", "double"):
        return _json_float(v)
    if t == "struct":
        if cs.get("name") == AVRO_TYPE_UNION:
            for f in cs["fields"]:
                if v.get(f["field"]) is not None:
                    return _value_from_connect(f, v[f["field"]])
            return None
        return {f["field"]: _value_from_connect(f, v.get(f["field"])) for f in cs["fields"]}
    if t == "array":
        return [_value_from_connect(cs["items"], e) for e in v]
    if t == "map":
        if cs["keys"]["type"] == "string" and not cs["keys"].get("optional"):
            return {k: _value_from_connect(cs["values"], e) for k, e in v.items()}
        # JsonConverter writes non-string-key maps as [[k, v], ...]
        return [{"key": _value_from_connect(cs["keys"], k), "value": _value_from_connect(cs["values"], e)}
                for k, e in v]
    return v


def connect_to_avro(connect_schema, payload):
    """(avro_schema, avro_value) for a Connect schema and payload as
    JsonConverter prints them.  Raises ConnectAvroError on a mismatch."""
    built = _FromConnect().schema(connect_schema)
    return _to_text_json(built), _value_from_connect(connect_schema, payload)


# ---------------------------------------------------------------------------
# The text form (Avro Java Schema.toString / toJson)
# ---------------------------------------------------------------------------
#
# Avro Java writes a primitive without props as its name; a record as type,
# name, namespace (only when it differs from the enclosing one; "" for a null
# namespace inside a non-null one), doc, fields, then props; a field as name,
# type, doc, default, then its props; a named schema already written as its
# name, short when in the enclosing namespace.

def _to_text_json(s, space=None, seen=None):
    if seen is None:
        seen = set()
    if isinstance(s, str):
        return s
    if isinstance(s, list):
        return [_to_text_json(m, space, seen) for m in s]
    t = s["type"]
    if t == "record":
        full = s["name"] if s["namespace"] is None else s["namespace"] + "." + s["name"]
        if id(s) in seen:
            return s["name"] if s["namespace"] == space else full
        seen.add(id(s))
        out = {"type": "record", "name": s["name"]}
        if s["namespace"] is not None:
            if s["namespace"] != space:
                out["namespace"] = s["namespace"]
        elif space is not None:
            out["namespace"] = ""
        inner = s["namespace"]
        if s.get("doc") is not None:
            out["doc"] = s["doc"]
        fields = []
        for f in s["fields"]:
            fo = {"name": f["name"], "type": _to_text_json(f["type"], inner, seen)}
            if "doc" in f:
                fo["doc"] = f["doc"]
            if "default" in f:
                fo["default"] = f["default"]
            fields.append(fo)
        out["fields"] = fields
        for k, v in s.items():
            if k not in ("type", "name", "namespace", "doc", "fields"):
                out[k] = v
        return out
    props = {k: v for k, v in s.items() if k not in ("type", "items", "values")}
    if t == "array":
        out = {"type": "array", "items": _to_text_json(s["items"], space, seen)}
    elif t == "map":
        out = {"type": "map", "values": _to_text_json(s["values"], space, seen)}
    elif not props:
        return t
    else:
        out = {"type": t}
    out.update(props)
    return out


def avro_schema_text(avro_schema):
    """The schema as Avro Java's Schema.toString() writes it (compact JSON,
    non-ASCII as UTF-8)."""
    return json.dumps(avro_schema, separators=(",", ":"), ensure_ascii=False)


# ---------------------------------------------------------------------------
# Avro -> Connect schema (AvroData.toConnectSchema) and JsonConverter's
# asJsonSchema (key order: type, items | keys, values | fields, optional,
# name, version, doc, parameters, default; a struct field adds "field" last)
# ---------------------------------------------------------------------------

class _ToConnect:
    def __init__(self):
        self.names = {}     # full name -> Avro named schema (text form)

    def resolve(self, s, space):
        """A name reference -> the named schema it names (Avro's Names)."""
        if isinstance(s, str) and s not in ("null", "boolean", "int", "long", "float", "double",
                                            "bytes", "string"):
            full = s if "." in s or space is None else space + "." + s
            if full in self.names:
                return self.names[full], _space_of(self.names[full], space)
            if s in self.names:
                return self.names[s], _space_of(self.names[s], space)
            raise ConnectAvroError("unknown Avro type name %r" % s)
        if isinstance(s, dict) and s.get("type") in _NAMED:
            ns = _space_of(s, space)
            full = s["name"] if "." in s["name"] else (s["name"] if not ns else ns + "." + s["name"])
            self.names.setdefault(full, dict(s, namespace=ns))
        return s, space

    def schema(self, s, space, force_optional=False, field_default=None, has_field_default=False):
        s, space = self.resolve(s, space)
        if isinstance(s, list):
            if len(s) == 2 and "null" in s:
                # toConnectSchema, UNION of null + one type: that type, optional;
                # the field default is not passed on (connect.default is used)
                other = s[1] if s[0] == "null" else s[0]
                return self.schema(other, space, True)
            raise ConnectAvroError("general unions (io.confluent.connect.avro.Union) are not handled")
        if isinstance(s, str):
            s = {"type": s}
        t = s["type"]
        ctype = s.get(CONNECT_TYPE)
        logical = s.get("logicalType")
        out = {}
        params = {}
        if t == "boolean":
            out["type"] = "boolean"
        elif t in ("bytes", "fixed"):
            out["type"] = "bytes"
            if logical == "decimal":
                # toConnectSchema: Decimal.builder(scale) sets parameter "scale";
                # precision becomes a parameter only when not 64
                if not isinstance(s.get("scale"), int):
                    raise ConnectAvroError("scale must be specified and must be a number.")
                out["name"] = DECIMAL
                out["version"] = 1
                params["scale"] = str(s["scale"])
                if s.get("precision") is not None and s["precision"] != DECIMAL_PRECISION_DEFAULT:
                    params[DECIMAL_PRECISION_PARAM] = str(s["precision"])
        elif t == "double":
            out["type"] = "double"
        elif t == "float":
            out["type"] = "float"
        elif t == "int":
            if ctype is None and logical is None:
                out["type"] = "int32"
            elif logical is not None:
                out["type"] = "int32"
                if logical == "date":
                    out["name"], out["version"] = CONNECT_DATE, 1
                elif logical == "time-millis":
                    out["name"], out["version"] = CONNECT_TIME, 1
            elif ctype in ("int8", "int16"):
                out["type"] = ctype
            else:
                raise ConnectAvroError("Connect type annotation for Avro int field is null")
        elif t == "long":
            out["type"] = "int64"
            if logical == "timestamp-millis":
                out["name"], out["version"] = CONNECT_TIMESTAMP, 1
        elif t == "string":
            out["type"] = "string"
        elif t == "enum":
            # toConnectSchema, ENUM: doc and default (by the short name), the
            # enum's full name, then one parameter per symbol
            out["type"] = "string"
            short = s["name"].rsplit(".", 1)[-1]
            if s.get("doc") is not None:
                params[NAMESPACE + ".enum.doc." + short] = s["doc"]
            if s.get("default") is not None:
                params[NAMESPACE + ".enum.default." + short] = s["default"]
            params[AVRO_TYPE_ENUM] = _full(s, space)
            for sym in s["symbols"]:
                params[AVRO_TYPE_ENUM + "." + sym] = sym
        elif t == "array":
            items, ispace = self.resolve(s["items"], space)
            if isinstance(items, dict) and items.get("type") == "record" and _is_map_entry(items, ispace):
                kf = next(f for f in items["fields"] if f["name"] == "key")
                vf = next(f for f in items["fields"] if f["name"] == "value")
                out["type"] = "map"
                out["keys"] = self.schema(kf["type"], ispace)
                out["values"] = self.schema(vf["type"], ispace)
            else:
                out["type"] = "array"
                out["items"] = self.schema(s["items"], space)
        elif t == "map":
            out["type"] = "map"
            out["keys"] = {"type": "string", "optional": False}
            out["values"] = self.schema(s["values"], space)
        elif t == "record":
            inner = _space_of(s, space)
            out["type"] = "struct"
            if s.get("doc") is not None:
                params[AVRO_RECORD_DOC] = s["doc"]
            fields = []
            for f in s["fields"]:
                if f.get("doc") is not None:
                    params[AVRO_FIELD_DOC_PREFIX + f["name"]] = f["doc"]
                fc = self.schema(f["type"], inner, False, f.get("default"), "default" in f)
                fc["field"] = f["name"]
                fields.append(fc)
            out["fields"] = fields
        else:
            raise ConnectAvroError("unsupported Avro type %r" % t)

        if s.get(CONNECT_DOC) is not None:
            out["doc"] = s[CONNECT_DOC]
        if s.get(CONNECT_VERSION) is not None:
            v = s[CONNECT_VERSION]
            if not isinstance(v, int):
                raise ConnectAvroError("Invalid Connect version found: %r" % v)
            out["version"] = v
        if s.get(CONNECT_PARAMETERS) is not None:
            for k, v in s[CONNECT_PARAMETERS].items():
                if not isinstance(v, str):
                    raise ConnectAvroError("Expected schema parameter values to be strings but found: %r" % v)
                params[k] = v
        for k, v in s.items():
            if k.startswith("avro"):
                params[k] = v if isinstance(v, str) else json.dumps(v)
        # toConnectSchema: an Avro field default of a non-union field without
        # connect.default is flagged io.confluent.connect.avro.field.default
        default = None
        if has_field_default:
            if CONNECT_DEFAULT not in s:
                params[AVRO_FIELD_DEFAULT_FLAG] = "true"
            default = field_default
        elif CONNECT_DEFAULT in s:
            default = s[CONNECT_DEFAULT]
        name = s.get(CONNECT_NAME)
        if name is None and t in ("record", "enum"):
            name = _full(s, space)
        if name is not None and name != NAMESPACE + "." + DEFAULT_SCHEMA_NAME:
            if out.get("name") is not None and out["name"] != name:
                raise ConnectAvroError("Mismatched names: %r differs from %r" % (out["name"], name))
            out["name"] = name
        optional = bool(force_optional)
        return _json_schema(out, optional, params, default, self)

    def value(self, cs, s, v, space):
        """AvroData.toConnectData then JsonConverter.convertToJson."""
        s, space = self.resolve(s, space)
        if isinstance(s, list):
            other = s[1] if s[0] == "null" else s[0]
            return self.value(cs, other, v, space)
        if v is None:
            # convertToJson: a null with a default writes the default
            if cs.get("default") is not None:
                return cs["default"]
            return None
        if isinstance(s, str):
            s = {"type": s}
        t = cs["type"]
        if t == "bytes":
            return base64.b64encode(bytes(v)).decode()
        if t == "float":
            return _float_json(v, True)
        if t == "double":
            return _float_json(v, False)
        if t == "struct":
            inner = _space_of(s, space)
            by_name = {f["name"]: f for f in s["fields"]}
            return {f["field"]: self.value(f, by_name[f["field"]]["type"], v.get(f["field"]), inner)
                    for f in cs["fields"]}
        if t == "array":
            if s["type"] == "array" and cs["type"] == "array":
                return [self.value(cs["items"], s["items"], e, space) for e in v]
        if t == "map":
            if s["type"] == "map":
                return {k: self.value(cs["values"], s["values"], e, space) for k, e in v.items()}
            entry, espace = self.resolve(s["items"], space)
            kf = next(f for f in entry["fields"] if f["name"] == "key")
            vf = next(f for f in entry["fields"] if f["name"] == "value")
            return [[self.value(cs["keys"], kf["type"], e["key"], espace),
                     self.value(cs["values"], vf["type"], e["value"], espace)] for e in v]
        return v


def _space_of(s, space):
    if isinstance(s, dict) and s.get("type") in _NAMED:
        if "." in s["name"]:
            return s["name"].rsplit(".", 1)[0]
        if "namespace" in s:
            return s["namespace"] or None
    return space


def _full(s, space):
    ns = _space_of(s, space)
    return s["name"] if "." in s["name"] or not ns else ns + "." + s["name"]


def _is_map_entry(rec, space):
    """AvroData.isMapEntry: io.confluent.connect.avro.MapEntry, or marked by
    connect.internal.type."""
    return _full(rec, space) == NAMESPACE + "." + MAP_ENTRY or rec.get(CONNECT_INTERNAL_TYPE) == MAP_ENTRY


def _json_schema(out, optional, params, default, tc):
    """JsonConverter.asJsonSchema's key order."""
    js = {"type": out["type"]}
    for k in ("items", "keys", "values", "fields"):
        if k in out:
            js[k] = out[k]
    js["optional"] = optional
    if out.get("name") is not None:
        js["name"] = out["name"]
    if out.get("version") is not None:
        js["version"] = out["version"]
    if out.get("doc") is not None:
        js["doc"] = out["doc"]
    if params:
        js["parameters"] = params
    if default is not None:
        js["default"] = _default_to_json(js, default)
    return js


def _default_to_json(cs, d):
    """AvroData.defaultValueFromAvro, then JsonConverter.convertToJson of the
    default (bytes: ISO-8859-1 text -> base64)."""
    t = cs["type"]
    if d is None:
        return None
    if t == "bytes":
        return base64.b64encode(d.encode("latin-1") if isinstance(d, str) else bytes(d)).decode()
    if t == "float":
        return _float_json(float(d), True)
    if t == "double":
        return _float_json(float(d), False)
    if t == "struct":
        return {f["field"]: _default_to_json(f, d.get(f["field"])) if d.get(f["field"]) is not None
                else f.get("default") for f in cs["fields"]}
    if t == "array":
        return [_default_to_json(cs["items"], e) for e in d]
    if t == "map":
        if isinstance(d, dict):
            return {k: _default_to_json(cs["values"], e) for k, e in d.items()}
        return [[_default_to_json(cs["keys"], k), _default_to_json(cs["values"], e)] for k, e in d]
    return d


def _float_json(v, single):
    """A float as it comes back from JsonConverter's JSON once parsed: NaN and
    infinities as strings; a float32 as the shortest decimal that rounds to it
    (Java's Float.toString), so the value compares equal to the parsed text."""
    v = float(v)
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    if single:
        want = struct.pack(">f", v)
        for p in range(1, 10):
            c = float("%.*g" % (p, v))
            if struct.pack(">f", c) == want:
                return c
    return v


def avro_to_connect(avro_schema, avro_value):
    """(connect_schema, payload) as JsonConverter prints them, for an Avro
    schema (parsed JSON) and a datum in fastavro's form.  Decimal values must
    be the unscaled bytes (decode with raw_decode())."""
    tc = _ToConnect()
    cs = tc.schema(avro_schema, None)
    tc2 = _ToConnect()
    tc2.schema(avro_schema, None)     # fills the name table for value()
    return cs, tc2.value(cs, avro_schema, avro_value, None)


# ---------------------------------------------------------------------------
# fastavro helpers: encode and decode datums with the exact bytes
# ---------------------------------------------------------------------------

def _strip_logical(s):
    if isinstance(s, list):
        return [_strip_logical(m) for m in s]
    if isinstance(s, dict):
        return {k: _strip_logical(v) for k, v in s.items() if k != "logicalType"}
    return s


def encode(avro_schema, avro_value):
    """The Avro binary of a datum (fastavro's schemaless writer; decimals are
    given as their bytes, which fastavro passes through)."""
    parsed = fastavro.parse_schema(copy.deepcopy(avro_schema))
    buf = io.BytesIO()
    fastavro.schemaless_writer(buf, parsed, avro_value)
    return buf.getvalue()


def raw_decode(avro_schema, data):
    """The datum of some Avro binary, with logical types left as their Avro
    representation (decimal as bytes), so nothing is normalised."""
    parsed = fastavro.parse_schema(_strip_logical(copy.deepcopy(avro_schema)))
    buf = io.BytesIO(data)
    v = fastavro.schemaless_reader(buf, parsed)
    if buf.tell() != len(data):
        raise ConnectAvroError("%d trailing bytes after the datum" % (len(data) - buf.tell()))
    return v


# ---------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------

def _to_avro_half(rec):
    if rec is None:
        return None, None
    if isinstance(rec, str):        # a fixture line keeps the record's JSON text
        rec = json.loads(rec)
    schema, value = connect_to_avro(rec["schema"], rec["payload"])
    return avro_schema_text(schema), encode(schema, value).hex()


def _payload_text(text):
    """The payload member's text of JsonConverter's {"schema":..,"payload":..}."""
    head = '{"schema":'
    if not text.startswith(head):
        raise ConnectAvroError("not a JsonConverter envelope: %r" % text[:40])
    _, end = json.JSONDecoder().raw_decode(text, len(head))
    mid = ',"payload":'
    if text[end:end + len(mid)] != mid or not text.endswith("}"):
        raise ConnectAvroError("not a JsonConverter envelope")
    return text[end + len(mid):-1]


def _cases(inp, out):
    for line in inp:
        if not line.strip():
            continue
        r = json.loads(line)
        for part in ("key", "value"):
            text = r.get(part)
            if text is None:
                continue
            if not isinstance(text, str):
                raise ConnectAvroError("cases needs the records' JSON text (a fixture), not parsed JSON")
            schema_text, hexdata = _to_avro_half(text)
            fields = ["%s/%d/%d/%s" % (r["topic"], r["partition"], r["offset"], part), schema_text, hexdata,
                      text, _payload_text(text)]
            if any("\t" in f or "\n" in f for f in fields):
                raise ConnectAvroError("a raw tab or newline in %s" % fields[0])
            out.write("\t".join(fields) + "\n")


def main(argv):
    if len(argv) == 2 and argv[1] == "cases":
        _cases(sys.stdin, sys.stdout)
        return 0
    if len(argv) != 2 or argv[1] != "to-avro":
        sys.stderr.write(__doc__)
        return 2
    for line in sys.stdin:
        if not line.strip():
            continue
        r = json.loads(line)
        ks, kd = _to_avro_half(r.get("key"))
        vs, vd = _to_avro_half(r.get("value"))
        sys.stdout.write(json.dumps({"topic": r["topic"], "partition": r["partition"], "offset": r["offset"],
                                     "key_schema": ks, "key_avro": kd, "value_schema": vs, "value_avro": vd},
                                    ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
