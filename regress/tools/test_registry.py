#!/usr/bin/env python3
"""test_registry.py -- a small Confluent Schema Registry for wal2avro's tests

Implements, in memory, the REST calls that Schema Registry clients make
(Confluent's Python client and serdes, @kafkajs/confluent-schema-registry):

  POST /subjects/{s}/versions          register; the same schema in a subject
                                       gets the same version, the same schema
                                       anywhere the same id -> {"id": N}
  POST /subjects/{s}                   look a schema up in a subject
  GET  /subjects                       subject names
  GET  /subjects/{s}/versions          version numbers
  GET  /subjects/{s}/versions/{v}      v a number or "latest"
  GET  /subjects/{s}/versions/{v}/schema   the schema text alone
  DELETE /subjects/{s}                 drop a subject (its versions)
  GET  /schemas/ids/{id}               {"schema": ...} (+ schemaType if not AVRO)
  GET  /schemas/ids/{id}/schema        the schema text alone
  GET  /schemas/types                  ["AVRO", "JSON", "PROTOBUF"]
  GET|PUT /config, /config/{s}         compatibility level; GET /config/{s}
                                       answers 404 (40408) unless the subject
                                       has its own level or ?defaultToGlobal=true
  POST /compatibility/subjects/{s}/versions/{v}
                                       {"is_compatible": bool}: a STUB, see below

Schemas are compared by their parsed JSON (keys sorted, whitespace dropped),
not by Avro's canonical form: a schema written with other whitespace or key
order is the same schema, one with another field order is not.

Compatibility (the stub): the rule is the --compat option (or POST
/_admin/compat {"rule": R}): "always" (every schema compatible, the
default), "never", or "backward-fields": a record schema is compatible
with the one it is checked against when every field it adds has a
"default" and it removes none that had no default; anything that is not
two records is compatible.  Registration checks it only under "never" and
"backward-fields", and answers 409 when the schema fails.

Test knobs, on endpoints under /_admin (never failed, never authenticated):
  POST /_admin/fail      {"count": N, "status": 503}: the next N calls answer
                         that status (error_code status*100+1)
  POST /_admin/conflict  {"subject": S}: registering in S answers 409
  POST /_admin/compat    {"rule": R}
  POST /_admin/limit     {"max_body": N}: a call whose body is over N bytes
                         answers 413 before anything else is looked at, as
                         a registry's (or its proxy's) request size limit
                         does; null: no limit
  GET  /_admin/log       every request so far: [{"method","path","status",
                         "auth"}]
  POST /_admin/reset     forget schemas, subjects, config, knobs and the log
The same knobs from the command line: --fail-next N --fail-status S,
--conflict SUBJECT, --basic-auth USER:PASS (then every non-admin call
without those credentials answers 401), --port (0: any free one; the port
is printed on stdout as "port N" once the server listens), --port-file.

Run:  python3 regress/tools/test_registry.py --port 0
or, from Python:  srv = Registry.start(); srv.url ... srv.stop()
"""

import argparse
import base64
import json
import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"
LEVELS = {"NONE", "BACKWARD", "BACKWARD_TRANSITIVE", "FORWARD",
          "FORWARD_TRANSITIVE", "FULL", "FULL_TRANSITIVE"}
RULES = {"always", "never", "backward-fields"}


class HttpError(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def _identity(schema_type, text, references):
    """What makes two registrations the same schema."""
    try:
        norm = json.dumps(json.loads(text), sort_keys=True,
                          separators=(",", ":"))
    except ValueError:
        norm = text
    return (schema_type, norm, json.dumps(references or [], sort_keys=True))


def _fields(schema):
    if isinstance(schema, dict) and schema.get("type") == "record":
        return {f["name"]: f for f in schema.get("fields", [])}
    return None


def backward_fields(new_text, old_text):
    """The stub's backward rule: new may read old's data (see the docstring)."""
    try:
        new, old = _fields(json.loads(new_text)), _fields(json.loads(old_text))
    except ValueError:
        return True
    if new is None or old is None:
        return True
    for name, f in new.items():
        if name not in old and "default" not in f:
            return False
    return True


class State:
    """Schemas, subjects, config and knobs; one lock guards it all."""

    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.schemas = []          # id-1 -> {"schema","schemaType","references"}
        self.by_identity = {}      # identity -> id
        self.subjects = {}         # subject -> [id of version 1, 2, ...]
        self.global_level = "BACKWARD"
        self.subject_level = {}
        self.fail_count = 0
        self.fail_status = 503
        self.conflicts = set()
        self.rule = "always"
        self.max_body = None
        self.log = []


class Registry(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, host="127.0.0.1", port=0, basic_auth=None):
        super().__init__((host, port), Handler)
        self.state = State()
        self.basic_auth = basic_auth
        self.url = "http://%s:%d" % (host, self.server_address[1])
        self._thread = None

    @classmethod
    def start(cls, host="127.0.0.1", port=0, basic_auth=None):
        srv = cls(host, port, basic_auth)
        srv._thread = threading.Thread(target=srv.serve_forever, daemon=True,
                                       name="test-registry")
        srv._thread.start()
        return srv

    def stop(self):
        self.shutdown()
        self.server_close()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "wal2avro-test-registry/1"

    def log_message(self, fmt, *args):   # the request log is /_admin/log
        pass

    # -- plumbing --------------------------------------------------------

    def _send(self, status, body, content_type=CONTENT_TYPE):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        if not raw:
            return {}
        try:
            return json.loads(raw)
        except ValueError:
            raise HttpError(422, 42201, "request body is not JSON")

    def _authorized(self):
        want = self.server.basic_auth
        if not want:
            return True
        got = self.headers.get("Authorization", "")
        if not got.startswith("Basic "):
            return False
        try:
            return base64.b64decode(got[6:]).decode() == want
        except ValueError:
            return False

    def _handle(self, method):
        st = self.server.state
        parts = urlsplit(self.path)
        path = parts.path.rstrip("/") or "/"
        query = parse_qs(parts.query)
        status = 500
        try:
            if path.startswith("/_admin/"):
                status, body = self._admin(method, path)
            else:
                with st.lock:
                    failing = st.fail_count > 0
                    if failing:
                        st.fail_count -= 1
                        fstatus = st.fail_status
                if failing:
                    self._body()
                    raise HttpError(fstatus, fstatus * 100 + 1,
                                    "injected failure")
                size = int(self.headers.get("Content-Length") or 0)
                if st.max_body is not None and size > st.max_body:
                    self.rfile.read(size)
                    raise HttpError(413, 41301, "request body of %d bytes is over "
                                    "the limit of %d" % (size, st.max_body))
                if not self._authorized():
                    raise HttpError(401, 401, "Unauthorized")
                status, body = self._route(method, path, query)
            self._send(status, body)
        except HttpError as e:
            status = e.status
            self._send(e.status, {"error_code": e.code, "message": e.message})
        except Exception as e:  # a bug here must show, not hang a client
            status = 500
            self._send(500, {"error_code": 50001, "message": repr(e)})
        finally:
            if not path.startswith("/_admin/"):
                with st.lock:
                    st.log.append({"method": method, "path": self.path,
                                   "status": status,
                                   "auth": "Authorization" in self.headers})

    def do_GET(self):
        self._handle("GET")

    def do_POST(self):
        self._handle("POST")

    def do_PUT(self):
        self._handle("PUT")

    def do_DELETE(self):
        self._handle("DELETE")

    # -- test knobs ------------------------------------------------------

    def _admin(self, method, path):
        st = self.server.state
        body = self._body() if method in ("POST", "PUT") else {}
        with st.lock:
            if method == "GET" and path == "/_admin/log":
                return 200, list(st.log)
            if method == "POST" and path == "/_admin/reset":
                st.reset()
                return 200, {}
            if method == "POST" and path == "/_admin/fail":
                st.fail_count = int(body.get("count", 1))
                st.fail_status = int(body.get("status", 503))
                return 200, {"count": st.fail_count, "status": st.fail_status}
            if method == "POST" and path == "/_admin/conflict":
                st.conflicts.add(body["subject"])
                return 200, {"subjects": sorted(st.conflicts)}
            if method == "POST" and path == "/_admin/limit":
                n = body.get("max_body")
                st.max_body = None if n is None else int(n)
                return 200, {"max_body": st.max_body}
            if method == "POST" and path == "/_admin/compat":
                if body.get("rule") not in RULES:
                    raise HttpError(422, 42203, "rule must be one of %s" % sorted(RULES))
                st.rule = body["rule"]
                return 200, {"rule": st.rule}
        raise HttpError(404, 404, "no admin endpoint %s %s" % (method, path))

    # -- the registry ----------------------------------------------------

    def _route(self, method, path, query):
        seg = [unquote(p) for p in path.strip("/").split("/")] if path != "/" else []
        st = self.server.state
        n = len(seg)
        if seg[:1] == ["subjects"]:
            if n == 1 and method == "GET":
                with st.lock:
                    return 200, sorted(st.subjects)
            if n == 2 and method == "POST":
                return self._lookup(seg[1], self._body())
            if n == 2 and method == "DELETE":
                with st.lock:
                    vs = st.subjects.pop(seg[1], None)
                    if vs is None:
                        raise HttpError(404, 40401, "Subject '%s' not found." % seg[1])
                    return 200, list(range(1, len(vs) + 1))
            if n == 3 and seg[2] == "versions" and method == "GET":
                with st.lock:
                    return 200, list(range(1, len(self._subject(seg[1])) + 1))
            if n == 3 and seg[2] == "versions" and method == "POST":
                return self._register(seg[1], self._body())
            if n in (4, 5) and seg[2] == "versions" and method == "GET":
                if n == 5 and seg[4] != "schema":
                    raise HttpError(404, 404, "HTTP 404 Not Found")
                with st.lock:
                    rec = self._version(seg[1], seg[3])
                if n == 5:
                    return 200, rec["schema"].encode()
                return 200, rec
        if seg[:2] == ["schemas", "ids"] and n in (3, 4) and method == "GET":
            with st.lock:
                s = self._schema(seg[2])
            if n == 4:
                if seg[3] != "schema":
                    raise HttpError(404, 404, "HTTP 404 Not Found")
                return 200, s["schema"].encode()
            out = {"schema": s["schema"]}
            if s["schemaType"] != "AVRO":
                out["schemaType"] = s["schemaType"]
            if s["references"]:
                out["references"] = s["references"]
            return 200, out
        if seg == ["schemas", "types"] and method == "GET":
            return 200, ["AVRO", "JSON", "PROTOBUF"]
        if seg[:1] == ["config"] and n in (1, 2):
            return self._config(method, seg[1] if n == 2 else None, query)
        if (seg[:2] == ["compatibility", "subjects"] and n == 5
                and seg[3] == "versions" and method == "POST"):
            body = self._body()
            with st.lock:
                old = self._version(seg[2], seg[4])
                ok = self._compatible(body.get("schema", ""), old["schema"])
            return 200, {"is_compatible": ok}
        raise HttpError(404, 404, "HTTP 404 Not Found")

    def _subject(self, subject):
        vs = self.server.state.subjects.get(subject)
        if vs is None:
            raise HttpError(404, 40401, "Subject '%s' not found." % subject)
        return vs

    def _schema(self, sid):
        st = self.server.state
        try:
            i = int(sid)
        except ValueError:
            raise HttpError(404, 40403, "Schema %s not found" % sid)
        if i < 1 or i > len(st.schemas):
            raise HttpError(404, 40403, "Schema %s not found" % sid)
        return st.schemas[i - 1]

    def _record(self, subject, version, sid):
        s = self.server.state.schemas[sid - 1]
        out = {"subject": subject, "version": version, "id": sid,
               "schema": s["schema"]}
        if s["schemaType"] != "AVRO":
            out["schemaType"] = s["schemaType"]
        if s["references"]:
            out["references"] = s["references"]
        return out

    def _version(self, subject, v):
        vs = self._subject(subject)
        if v in ("latest", "-1"):
            if not vs:
                raise HttpError(404, 40402, "Version latest not found.")
            return self._record(subject, len(vs), vs[-1])
        try:
            i = int(v)
        except ValueError:
            raise HttpError(422, 42202, "The specified version '%s' is not a valid version id." % v)
        if i < 1 or i > len(vs):
            raise HttpError(404, 40402, "Version %s not found." % v)
        return self._record(subject, i, vs[i - 1])

    def _parse(self, body):
        text = body.get("schema")
        if not isinstance(text, str):
            raise HttpError(422, 42201, "Either the input schema or one of its references is invalid")
        stype = body.get("schemaType") or "AVRO"
        if stype == "AVRO":
            try:
                json.loads(text)
            except ValueError:
                raise HttpError(422, 42201, "Invalid schema: not JSON")
        return stype, text, body.get("references") or []

    def _compatible(self, new_text, old_text):
        rule = self.server.state.rule
        if rule == "never":
            return False
        if rule == "backward-fields":
            return backward_fields(new_text, old_text)
        return True

    def _register(self, subject, body):
        stype, text, refs = self._parse(body)
        ident = _identity(stype, text, refs)
        st = self.server.state
        with st.lock:
            if subject in st.conflicts:
                raise HttpError(409, 409, "Schema being registered is incompatible with an earlier schema for subject \"%s\"" % subject)
            sid = st.by_identity.get(ident)
            vs = st.subjects.setdefault(subject, [])
            if sid is not None and sid in vs:
                return 200, {"id": sid}
            if vs and st.rule != "always":
                old = st.schemas[vs[-1] - 1]["schema"]
                if not self._compatible(text, old):
                    raise HttpError(409, 409, "Schema being registered is incompatible with an earlier schema for subject \"%s\"" % subject)
            if sid is None:
                st.schemas.append({"schema": text, "schemaType": stype,
                                   "references": refs})
                sid = len(st.schemas)
                st.by_identity[ident] = sid
            vs.append(sid)
            return 200, {"id": sid}

    def _lookup(self, subject, body):
        stype, text, refs = self._parse(body)
        ident = _identity(stype, text, refs)
        st = self.server.state
        with st.lock:
            vs = self._subject(subject)
            sid = st.by_identity.get(ident)
            if sid is None or sid not in vs:
                raise HttpError(404, 40403, "Schema not found")
            return 200, self._record(subject, vs.index(sid) + 1, sid)

    def _config(self, method, subject, query):
        st = self.server.state
        if method == "GET":
            with st.lock:
                if subject is None:
                    return 200, {"compatibilityLevel": st.global_level}
                level = st.subject_level.get(subject)
                if level is None:
                    if query.get("defaultToGlobal", ["false"])[0] == "true":
                        return 200, {"compatibilityLevel": st.global_level}
                    raise HttpError(404, 40408, "Subject '%s' does not have subject-level compatibility configured" % subject)
                return 200, {"compatibilityLevel": level}
        if method == "PUT":
            level = str(self._body().get("compatibility", "")).upper()
            if level not in LEVELS:
                raise HttpError(422, 42203, "Invalid compatibility level")
            with st.lock:
                if subject is None:
                    st.global_level = level
                else:
                    st.subject_level[subject] = level
            return 200, {"compatibility": level}
        if method == "DELETE" and subject is not None:
            with st.lock:
                level = st.subject_level.pop(subject, None)
            if level is None:
                raise HttpError(404, 40401, "Subject '%s' not found." % subject)
            return 200, {"compatibilityLevel": level}
        raise HttpError(405, 405, "HTTP 405 Method Not Allowed")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--basic-auth", metavar="USER:PASS")
    ap.add_argument("--fail-next", type=int, default=0)
    ap.add_argument("--fail-status", type=int, default=503)
    ap.add_argument("--conflict", action="append", default=[])
    ap.add_argument("--compat", choices=sorted(RULES), default="always")
    a = ap.parse_args(argv)
    if a.basic_auth and not re.match(r"^[^:]+:.*$", a.basic_auth):
        ap.error("--basic-auth wants USER:PASS")
    srv = Registry(a.host, a.port, a.basic_auth)
    st = srv.state
    st.fail_count, st.fail_status = a.fail_next, a.fail_status
    st.conflicts.update(a.conflict)
    st.rule = a.compat
    port = srv.server_address[1]
    if a.port_file:
        with open(a.port_file + ".tmp", "w") as f:
            f.write("%d\n" % port)
        import os
        os.replace(a.port_file + ".tmp", a.port_file)
    print("port %d" % port, flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    srv.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
