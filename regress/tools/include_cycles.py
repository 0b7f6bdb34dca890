#!/usr/bin/env python3
"""regress/tools/include_cycles.py -- no include cycle between modules; every header compiles alone

Usage: regress/tools/include_cycles.py [--no-compile] [--graph] [ROOT]

--graph also prints each module and the modules it includes.

Reads every `#include "..."` of plugin/ and relay/ (with its subfolders)
under ROOT (default: the repository this file is in) and builds a graph of
modules.  A module is a header and the files that implement it: X.h, X.c,
X_internal.h and X_<job>.c (for the longest X with a header in the same
folder), so kafka_writer_delivery.c belongs to kafka_writer.  A file of
module A that includes a header of module B is an edge A -> B.  Any cycle
(A -> B -> ... -> A) is printed with the include lines that make it, and
the exit status is 1.  So it is when a file outside relay/tail/ but
relay/main.c includes a header of relay/tail/: the service must not
depend on its debugging consumer.

Then each header is compiled alone (cc -fsyntax-only), with the flags the
Makefile uses: a relay header with `pkg-config --cflags libpq rdkafka
avro-c libmicrohttpd` -Iplugin -Irelay; a plugin header after postgres.h,
with -I$(pg_config --includedir-server) -Iplugin; a plugin header that the
relay includes (wal2avro_protocol.h) in both ways.  A header that does not
compile alone is printed with the compiler's message, exit status 1.

Environment: CC (default cc), PKG_CONFIG (pkg-config), PG_CONFIG (pg_config).
Python 3 standard library only.
"""
import os
import re
import shlex
import subprocess
import sys
import tempfile

INCLUDE_RE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
TOP_DIRS = ("plugin", "relay")
RELAY_WARN = ["-std=c11", "-D_GNU_SOURCE", "-Wall", "-Wextra", "-Werror"]
PLUGIN_WARN = ["-std=gnu11", "-Wall", "-Wextra", "-Werror", "-Wno-unused-parameter",
               "-Wno-missing-field-initializers", "-Wno-sign-compare"]
RELAY_PKGS = ["libpq", "rdkafka", "avro-c", "libmicrohttpd"]
TAIL_DIR = os.path.join("relay", "tail") + os.sep
TAIL_CALLER = os.path.join("relay", "main.c")

# Cycles printed but not failed, each with the reason.  None is left: add
# nothing here, fix the cycle.
KNOWN_CYCLES = {}


def source_files(root):
    """Every .c and .h under plugin/ and relay/, as paths relative to root."""
    out = []
    for top in TOP_DIRS:
        for dirpath, dirnames, filenames in os.walk(os.path.join(root, top)):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                if name.endswith((".c", ".h")):
                    out.append(os.path.relpath(os.path.join(dirpath, name), root))
    return out


def include_dirs(path):
    """Where `#include "x"` in path is looked for: its own folder, then -I."""
    top = path.split(os.sep)[0]
    dirs = [os.path.dirname(path)]
    dirs += ["plugin", "relay"] if top == "relay" else ["plugin"]
    return dirs


def resolve(root, path, name, known):
    for d in include_dirs(path):
        cand = os.path.normpath(os.path.join(d, name))
        if cand in known:
            return cand
    return None                 # a library or system header: not ours


def module_of(path, headers):
    """The module a file belongs to: folder/stem of the header it implements."""
    folder, name = os.path.split(path)
    stem = name[:-2]
    if stem.endswith("_internal"):
        stem = stem[: -len("_internal")]
    parts = stem.split("_")
    for n in range(len(parts), 0, -1):
        cand = "_".join(parts[:n])
        if os.path.join(folder, cand + ".h") in headers:
            return os.path.join(folder, cand)
    return os.path.join(folder, stem)


def strongly_connected(graph):
    """Tarjan: the components of more than one module, each a sorted list."""
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def shortest_cycle(graph, comp):
    """A shortest cycle inside one component, as a list ending where it began."""
    best = None
    members = set(comp)
    for start in comp:
        prev, frontier = {start: None}, [start]
        found = None
        while frontier and found is None:
            nxt = []
            for v in frontier:
                for w in sorted(graph.get(v, ())):
                    if w == start:
                        found = v
                        break
                    if w in members and w not in prev:
                        prev[w] = v
                        nxt.append(w)
                if found is not None:
                    break
            frontier = nxt
        if found is None:
            continue
        path = [found]
        while prev[path[-1]] is not None:
            path.append(prev[path[-1]])
        cyc = list(reversed(path)) + [start]
        if best is None or len(cyc) < len(best):
            best = cyc
    return best


def check_cycles(root, files):
    known = set(files)
    headers = {f for f in files if f.endswith(".h")}
    graph, why = {}, {}
    for f in files:
        with open(os.path.join(root, f), encoding="utf-8", errors="replace") as fh:
            text = fh.read()
        a = module_of(f, headers)
        graph.setdefault(a, set())
        for name in INCLUDE_RE.findall(text):
            target = resolve(root, f, name, known)
            if target is None:
                continue
            b = module_of(target, headers)
            if a != b:
                graph[a].add(b)
                why.setdefault((a, b), "%s includes \"%s\"" % (f, name))
    comps = strongly_connected(graph)
    failed = 0
    for f in files:
        if f.startswith(TAIL_DIR) or f == TAIL_CALLER:
            continue
        with open(os.path.join(root, f), encoding="utf-8", errors="replace") as fh:
            for name in INCLUDE_RE.findall(fh.read()):
                t = resolve(root, f, name, known)
                if t and t.startswith(TAIL_DIR):
                    print("%s includes \"%s\": only %s may call the tail subcommand" % (f, name, TAIL_CALLER))
                    failed += 1
    for comp in comps:
        known = frozenset(comp) in KNOWN_CYCLES
        cyc = shortest_cycle(graph, comp)
        print("%sinclude cycle: %s" % ("known " if known else "", " -> ".join(cyc)))
        for a, b in zip(cyc, cyc[1:]):
            print("    " + why[(a, b)])
        if len(comp) > len(cyc) - 1:
            print("    (modules caught in it: %s)" % ", ".join(comp))
        if known:
            print("    " + KNOWN_CYCLES[frozenset(comp)])
        else:
            failed += 1
    for known in KNOWN_CYCLES:
        if known not in {frozenset(c) for c in comps}:
            print("include_cycles: the known cycle %s is gone: remove it from KNOWN_CYCLES"
                  % " <-> ".join(sorted(known)))
    if GRAPH:
        for a in sorted(graph):
            print("%s -> %s" % (a, " ".join(sorted(os.path.basename(b) for b in graph[a])) or "-"))
    edges = sum(len(v) for v in graph.values())
    print("include_cycles: %d modules, %d module edges, %d cycles (%d known), %d failures"
          % (len(graph), edges, len(comps), len(comps) - sum(1 for c in comps if frozenset(c) not in KNOWN_CYCLES), failed))
    return failed == 0


def run_flags(cmd):
    try:
        return shlex.split(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    except (OSError, subprocess.CalledProcessError) as e:
        print("include_cycles: could not run %s: %s" % (" ".join(cmd), e))
        return None


def compile_alone(root, cc, flags, prelude, header):
    src = "".join('#include "%s"\n' % p for p in prelude) + '#include "%s"\n' % os.path.abspath(os.path.join(root, header))
    with tempfile.NamedTemporaryFile("w", suffix=".c", delete=False) as tmp:
        tmp.write(src)
        name = tmp.name
    try:
        r = subprocess.run([cc] + flags + ["-fsyntax-only", name], cwd=root,
                           capture_output=True, text=True)
    finally:
        os.unlink(name)
    if r.returncode != 0:
        print("header does not compile alone: %s%s" % (header, " (after postgres.h)" if prelude else ""))
        sys.stdout.write("".join("    | " + line + "\n" for line in (r.stderr or r.stdout).splitlines()[:20]))
        return False
    return True


def check_headers(root, files):
    cc = os.environ.get("CC", "cc")
    pkg = os.environ.get("PKG_CONFIG", "pkg-config")
    pgc = os.environ.get("PG_CONFIG", "pg_config")
    deps = run_flags([pkg, "--cflags"] + RELAY_PKGS)
    server = run_flags([pgc, "--includedir-server"])
    if deps is None or server is None:
        return False
    relay_flags = RELAY_WARN + deps + ["-Iplugin", "-Irelay"]
    plugin_flags = PLUGIN_WARN + ["-I" + server[0], "-Iplugin"]
    known = set(files)
    from_relay = set()
    for f in files:
        if f.startswith("relay" + os.sep):
            with open(os.path.join(root, f), encoding="utf-8", errors="replace") as fh:
                for name in INCLUDE_RE.findall(fh.read()):
                    t = resolve(root, f, name, known)
                    if t and t.startswith("plugin" + os.sep):
                        from_relay.add(t)
    ok, count = True, 0
    for h in (f for f in files if f.endswith(".h")):
        if h.startswith("relay" + os.sep) or h in from_relay:
            count += 1
            ok &= compile_alone(root, cc, relay_flags, [], h)
        if h.startswith("plugin" + os.sep):
            count += 1
            ok &= compile_alone(root, cc, plugin_flags, ["postgres.h"], h)
    print("include_cycles: %d header compilations" % count)
    return ok


GRAPH = False


def main(argv):
    global GRAPH
    GRAPH = "--graph" in argv
    args = [a for a in argv[1:] if a not in ("--no-compile", "--graph")]
    root = args[0] if args else os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    files = source_files(root)
    ok = check_cycles(root, files)
    if "--no-compile" not in argv:
        ok = check_headers(root, files) and ok
    print("include_cycles: %s" % ("ok" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
