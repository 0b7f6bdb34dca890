#!/usr/bin/env bash
# regress/e2e/0000-package.sh -- the package's metadata agrees with itself
#
# META.json has what the PGXN META spec 1.0.0 requires (name, abstract,
# version as semver, maintainer, license, provides with file and version,
# meta-spec), its versions match wal2avro.control, the extension script of
# that version exists, and the relay reports the same version.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
cd "$W2A_ROOT"

python3 - <<'PY'
import json, re, sys
meta = json.load(open("META.json"))
errors = []
for key in ("name", "abstract", "version", "maintainer", "license", "provides", "meta-spec"):
    if key not in meta:
        errors.append(f"META.json: missing required key {key!r}")
semver = re.compile(r"^\d+\.\d+\.\d+$")
if not semver.match(meta.get("version", "")):
    errors.append("META.json: version is not semver")
if meta.get("meta-spec", {}).get("version") != "1.0.0":
    errors.append("META.json: meta-spec version is not 1.0.0")
control = dict(re.findall(r"^(\w+)\s*=\s*'?([^'\n]*)'?", open("wal2avro.control").read(), re.M))
if control.get("default_version") != meta.get("version"):
    errors.append(f"control default_version {control.get('default_version')} != META.json {meta.get('version')}")
for name, p in meta.get("provides", {}).items():
    if not semver.match(p.get("version", "")) or p.get("version") != meta.get("version"):
        errors.append(f"META.json: provides.{name}.version is wrong")
    try:
        open(p["file"]).close()
    except Exception:
        errors.append(f"META.json: provides.{name}.file {p.get('file')} does not exist")
req = meta.get("prereqs", {}).get("runtime", {}).get("requires", {})
if not req.get("PostgreSQL", "").startswith("13"):
    errors.append("META.json: prereqs must require PostgreSQL >= 13")
for e in errors:
    print("FAIL:", e)
sys.exit(1 if errors else 0)
PY
v=$(sed -n "s/^default_version = '\(.*\)'/\1/p" wal2avro.control)
[ -f "sql/wal2avro--$v.sql" ] || fail "no sql/wal2avro--$v.sql"
[ "$(relay/wal2avro-relay --version | awk '{print $NF}')" = "$v" ] ||
	fail "wal2avro-relay --version is not $v: $(relay/wal2avro-relay --version)"
grep -q "WAL2AVRO_VERSION	\"$v\"" plugin/decoding_state.h || fail "plugin/decoding_state.h WAL2AVRO_VERSION is not $v"
echo "PASS: package metadata consistent (version $v)"
