#!/usr/bin/env python3
"""regress/tools/module_map.py -- check doc/modules.md against the code

doc/modules.md maps both halves of wal2avro: one table row per module,

    | module | files | job | used by |

where "files" lists the module's files in backticks and "used by" the
modules (by the name in the first column) that include one of its headers,
plus words for outside callers that are not modules (PostgreSQL, SQL, ...),
which are not checked.  This check fails when

  - a .c or .h file under plugin/ or relay/ is on no row, or on two;
  - a row names a file that does not exist;
  - a module's headers are included by a module its row does not list as a
    user, or a module listed as a user includes none of its headers.

So the map keeps matching the code: a new file, a moved include or a
deleted module shows up here.  Prints every mismatch, exits 1 if any.
Usage: module_map.py [ROOT]   (default: the repository holding this file)
"""
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
BACKTICK = re.compile(r"`([^`]+)`")


def source_files(root):
    found = []
    for half in ("plugin", "relay"):
        for dirpath, _dirs, names in os.walk(os.path.join(root, half)):
            for name in names:
                if name.endswith((".c", ".h")):
                    found.append(os.path.relpath(os.path.join(dirpath, name), root))
    return sorted(found)


def parse_map(text):
    """Rows of the module tables: (module, [files], [used by])."""
    rows = []
    for line in text.splitlines():
        if not line.startswith("|"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 4 or cells[0] in ("module", "") or set(cells[0]) <= set("-: "):
            continue
        files = BACKTICK.findall(cells[1])
        users = [u.strip().strip("`") for u in cells[3].split(",") if u.strip() not in ("", "-")]
        rows.append((cells[0].strip("`"), files, users))
    return rows


def included_headers(root, path):
    with open(os.path.join(root, path), encoding="utf-8", errors="replace") as f:
        names = INCLUDE.findall(f.read())
    here = os.path.dirname(path)
    out = set()
    for name in names:
        for base in (here, os.path.dirname(here), "plugin", "relay"):
            cand = os.path.normpath(os.path.join(base, name))
            if os.path.exists(os.path.join(root, cand)):
                out.add(cand)
                break
    return out


def check(root):
    problems = []
    with open(os.path.join(root, "doc", "modules.md"), encoding="utf-8") as f:
        rows = parse_map(f.read())
    if not rows:
        return ["doc/modules.md: no module rows found"]
    owner = {}
    modules = {}
    for module, files, users in rows:
        if module in modules:
            problems.append(f"module {module!r} has two rows")
        modules[module] = (files, users)
        for path in files:
            if not os.path.exists(os.path.join(root, path)):
                problems.append(f"{module}: {path} does not exist")
            if path in owner:
                problems.append(f"{path} is on two rows ({owner[path]}, {module})")
            owner[path] = module
    for path in source_files(root):
        if path not in owner:
            problems.append(f"{path} is not on the map")

    # who includes whose headers, by module
    includers = {m: set() for m in modules}
    for module, (files, _users) in modules.items():
        for path in files:
            if not os.path.exists(os.path.join(root, path)):
                continue
            for header in included_headers(root, path):
                target = owner.get(header)
                if target and target != module:
                    includers[target].add(module)
    for module, (files, users) in modules.items():
        listed = {u for u in users if u in modules}
        for extra in sorted(includers[module] - listed):
            problems.append(f"{module}: included by {extra}, which its row does not list")
        for missing in sorted(listed - includers[module]):
            problems.append(f"{module}: lists {missing} as a user, which includes none of its headers")
    return problems


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    problems = check(root)
    for p in problems:
        print("module map: " + p)
    if problems:
        print(f"module map: {len(problems)} mismatch(es) between doc/modules.md and the code")
        return 1
    print("module map: doc/modules.md matches plugin/ and relay/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
