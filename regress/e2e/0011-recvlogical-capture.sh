#!/usr/bin/env bash
# regress/e2e/0011-recvlogical-capture.sh -- wal2avro frames through pg_recvlogical -f
#
# What it is for: the streaming path (walsender, START_REPLICATION options,
# pg_recvlogical's file output) end to end.  A workload whose values are full
# of 0x0A bytes (bytea and text with newlines, a newline in a message prefix)
# is captured with
#   pg_recvlogical --start -f FILE --endpos LSN -o skip-empty-xacts \
#                  -o include-timestamps=false
# (skip-empty-xacts given bare, which must mean true), split back into frames
# by regress/tools/w2a_frames.py --recvlogical (one '\n' after each frame),
# decoded, and compared with the rows and messages the workload wrote: every
# change exactly, the frame sequence (BEGIN/SCHEMA/CHANGE/MESSAGE/COMMIT),
# the messages, the change counts, the zero timestamps.  The checker is then
# run on damaged copies of the capture (a frame dropped, a byte changed, a
# separator newline dropped, the file cut short) and must reject each one.
# The last line is PASS: or FAIL:.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
. "$W2A_ROOT/regress/lib/pg.sh"

_capture_verdict()
{
	if [ "${W2A_EXIT_RC:-1}" -eq 0 ]; then
		echo "PASS: pg_recvlogical capture of wal2avro frames"
	else
		echo "FAIL: pg_recvlogical capture of wal2avro frames"
	fi
}
w2a_on_exit _capture_verdict

[ -e "$(pg_config --pkglibdir)/wal2avro.so" ] ||
	fail "wal2avro is not installed: run make -C $W2A_ROOT install"

pg_start "$(w2a_tmpdir recvlogical)"
. "$W2A_ROOT/regress/tools/venv.sh" || fail "could not set up the Python venv"

work=$W2A_PGDIR/capture # removed with the cluster
mkdir -p "$work"
capture=$work/stream.bin
slot=w2a_capture

psql -Xq -v ON_ERROR_STOP=1 <<'SQL' || fail "creating the tables failed"
CREATE TABLE cap_a (id int PRIMARY KEY, t text, b bytea);
CREATE TABLE cap_b (k text PRIMARY KEY, n numeric(10,2), ts timestamptz,
                    arr int[]);
SQL

pg_recvlogical -d "$PGDATABASE" --slot "$slot" --create-slot -P wal2avro ||
	fail "pg_recvlogical --create-slot failed"
# a second slot at the same point, read with skip-empty-xacts=false: it shows
# that the workload has an empty transaction for the bare option to skip
pg_recvlogical -d "$PGDATABASE" --slot "${slot}_all" --create-slot -P wal2avro ||
	fail "pg_recvlogical --create-slot failed"

# The workload.  Its expected frames are written out in check.py below.
psql -Xq -v ON_ERROR_STOP=1 >/dev/null <<'SQL' || fail "the workload failed"
BEGIN;
INSERT INTO cap_a VALUES (1, E'line1\nline2', '\x0a0a000a0dff0a');
INSERT INTO cap_b VALUES (E'key\nwith newline', 1.5,
                          '2024-01-02 03:04:05.678901+00', '{10,NULL}');
COMMIT;
SELECT pg_logical_emit_message(false, 'nontx', E'hello\nworld');
BEGIN;
UPDATE cap_a SET t = E'\n', b = '\x0a' WHERE id = 1;
SELECT pg_logical_emit_message(true, 'tx', '\x0a00ff0a'::bytea);
DELETE FROM cap_b;
COMMIT;
-- an empty transaction (catalog changes only): with skip-empty-xacts it
-- sends nothing
BEGIN;
CREATE TABLE cap_tmp (a int);
DROP TABLE cap_tmp;
COMMIT;
INSERT INTO cap_a
  SELECT g, repeat(E'\n', g % 4), decode(repeat('0a', g), 'hex')
  FROM generate_series(2, 60) g;
-- rolled back: nothing
BEGIN;
INSERT INTO cap_b VALUES ('never', 0, 'infinity', '{}');
ROLLBACK;
SELECT pg_logical_emit_message(false, E'nontx\n2', '\x0a'::bytea);
INSERT INTO cap_b VALUES ('z', -99999999.99, '-infinity', '{}');
SQL

endpos=$(psql -XAtc "SELECT pg_current_wal_lsn()")
info "capturing up to $endpos"
timeout 120 pg_recvlogical -d "$PGDATABASE" --slot "$slot" --start \
	-f "$capture" --endpos "$endpos" --no-loop \
	-o skip-empty-xacts -o include-timestamps=false ||
	fail "pg_recvlogical --start failed (or did not stop at $endpos)"
[ -s "$capture" ] || fail "the capture $capture is empty"
info "captured $(wc -c <"$capture") bytes"

cat >"$work/check.py" <<'PY'
"""Check a pg_recvlogical capture of the workload of 0011-recvlogical-capture.sh.

Usage: check.py W2A_FRAMES_PY CAPTURE [DB]; exit 0 when it matches exactly.
"""
import json
import subprocess
import sys

tool, capture = sys.argv[1], sys.argv[2]
db = sys.argv[3] if len(sys.argv) > 3 else "postgres"


def cli(*args):
    p = subprocess.run([sys.executable, tool, "--recvlogical", capture,
                        *args], capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"w2a_frames.py {' '.join(args)} failed: {p.stderr.strip()}")
    return [json.loads(line) for line in p.stdout.splitlines()]


def A(id, t, b):
    return {"id": id, "t": t, "b": "\\x" + b}


def B(k, n, ts, arr):
    return {"k": k, "n": n, "ts": ts, "arr": arr}


KEY_B = "key\nwith newline"
a1 = A(1, "line1\nline2", "0a0a000a0dff0a")
b1 = B(KEY_B, "1.50", "2024-01-02T03:04:05.678901+00:00", [10, None])
# (op, table, key, before, after)
expected = [
    ("c", "cap_a", {"id": 1}, None, a1),
    ("c", "cap_b", {"k": KEY_B}, None, b1),
    ("u", "cap_a", {"id": 1}, None, A(1, "\n", "0a")),
    ("d", "cap_b", {"k": KEY_B}, B(KEY_B, None, None, None), None),
]
expected += [("c", "cap_a", {"id": g}, None, A(g, "\n" * (g % 4), "0a" * g))
             for g in range(2, 61)]
expected += [("c", "cap_b", {"k": "z"}, None,
              B("z", "-99999999.99", "-infinity", []))]

errors = []

# the changes, from --values-only
changes = cli("--values-only")
if len(changes) != len(expected):
    errors.append(f"{len(changes)} changes, expected {len(expected)}")
for i, (got, (op, table, key, before, after)) in enumerate(
        zip(changes, expected)):
    v = got["value"]
    want = {"op": op, "schema": "public", "table": table, "key": key,
            "before": before, "after": after}
    have = {"op": got["op"], "schema": got["schema"], "table": got["table"],
            "key": got["key"], "before": v["before"], "after": v["after"]}
    if have != want:
        errors.append(f"change {i}: got {have!r}, expected {want!r}")
    src = dict(v["source"])
    if not (isinstance(src.pop("txId"), int) and
            isinstance(src.pop("lsn"), int)):
        errors.append(f"change {i}: source txId/lsn not numbers")
    want_src = {"version": src.get("version"), "connector": "wal2avro",
                "name": "wal2avro", "db": db, "schema": "public",
                "table": table, "snapshot": "false", "ts_ms": 0,
                "xmin": None}
    if src != want_src:
        errors.append(f"change {i}: source {src!r}")
    if v["op"] != op or v["ts_ms"] is not None:
        errors.append(f"change {i}: envelope op {v['op']!r} ts_ms "
                      f"{v['ts_ms']!r} (include-timestamps=false: null)")

# every frame, in order
frames = cli()
kinds = [f["kind"] for f in frames]
want_kinds = (["begin", "schema", "change", "schema", "change", "commit",
               "message",
               "begin", "change", "message", "change", "commit"] +
              ["begin"] + ["change"] * 59 + ["commit"] +
              ["message", "begin", "change", "commit"])
if kinds != want_kinds:
    errors.append(f"frame kinds {kinds}, expected {want_kinds}")
commits = [f for f in frames if f["kind"] == "commit"]
if [c["change_count"] for c in commits] != [2, 2, 59, 1]:
    errors.append(f"commit change counts {[c['change_count'] for c in commits]}")
for f in frames:
    if f["kind"] in ("begin", "commit") and f["commit_time"] != 0:
        errors.append(f"{f['kind']} with commit_time {f['commit_time']} "
                      f"(include-timestamps=false)")
msgs = [(m["transactional"], m["prefix"], m["content"])
        for m in frames if m["kind"] == "message"]
want_msgs = [(False, "nontx", "\\x" + b"hello\nworld".hex()),
             (True, "tx", "\\x0a00ff0a"),
             (False, "nontx\n2", "\\x0a")]
if msgs != want_msgs:
    errors.append(f"messages {msgs!r}, expected {want_msgs!r}")
schemas = [(s["table"], s["key_columns"]) for s in frames
           if s["kind"] == "schema"]
if schemas != [("cap_a", ["id"]), ("cap_b", ["k"])]:
    errors.append(f"schema frames {schemas!r}")

if errors:
    for e in errors[:30]:
        print("check.py:", e, file=sys.stderr)
    sys.exit(1)
print(f"check.py: {len(frames)} frames, {len(changes)} changes as expected")
PY

tool=$W2A_ROOT/regress/tools/w2a_frames.py
"$W2A_PYTHON" "$work/check.py" "$tool" "$capture" "$PGDATABASE" ||
	fail "the capture does not match the workload"

# The capture must exercise the splitting: newlines inside the frames.
frames_and_newlines=$("$W2A_PYTHON" - "$capture" <<'PY'
import sys
import os
sys.path.insert(0, os.environ["W2A_ROOT"] + "/regress/tools")
import w2a_frames as w
data = open(sys.argv[1], "rb").read()
frames = w.split_stream(data, newline_separated=True)
print(len(frames), data.count(b"\n"))
PY
) || fail "could not split the capture"
read -r nframes nnewlines <<<"$frames_and_newlines"
[ "$nnewlines" -gt $((nframes + 100)) ] ||
	fail "only $nnewlines newlines for $nframes frames: the payloads hold too few 0x0A"
info "$nframes frames, $nnewlines newline bytes in the file"

# Damaged copies must be rejected.
"$W2A_PYTHON" - "$capture" "$work" <<'PY' || fail "could not damage the capture"
import os
import sys
sys.path.insert(0, os.environ["W2A_ROOT"] + "/regress/tools")
import w2a_frames as w
capture, work = sys.argv[1], sys.argv[2]
data = open(capture, "rb").read()
frames = w.split_stream(data, newline_separated=True)
starts = []
pos = 0
for f in frames:
    starts.append(pos)
    pos += len(f) + 1
kinds = [w.parse_frame(f)["kind"] for f in frames]
first_change = kinds.index("change")
# a CHANGE frame in the big transaction, and its newline, gone
lost = kinds.index("change", kinds.index("begin", 8) + 1) + 10
dropped = data[:starts[lost]] + data[starts[lost] + len(frames[lost]) + 1:]
# one byte of a value changed: "line1" becomes "line2"
at = data.index(b"line1\nline2") + 4
flipped = data[:at] + b"2" + data[at + 1:]
# the newline after the first CHANGE frame gone
nl = starts[first_change] + len(frames[first_change])
assert data[nl] == 0x0A
no_newline = data[:nl] + data[nl + 1:]
# cut in the middle of the last frame
cut = data[:starts[-1] + len(frames[-1]) // 2]
for name, blob in [("dropped", dropped), ("flipped", flipped),
                   ("no_newline", no_newline), ("cut", cut)]:
    with open(os.path.join(work, f"damaged-{name}.bin"), "wb") as fh:
        fh.write(blob)
PY
for damage in dropped flipped no_newline cut; do
	if "$W2A_PYTHON" "$work/check.py" "$tool" "$work/damaged-$damage.bin" \
		"$PGDATABASE" 2>"$work/damaged-$damage.err"; then
		fail "the checker accepted a capture with damage '$damage'"
	fi
	info "damage '$damage' rejected: $(head -n 1 "$work/damaged-$damage.err" | cut -c1-150)"
done

# The same stream with skip-empty-xacts=false has the empty transaction:
# so the bare "-o skip-empty-xacts" above did skip it (a bare option is true).
timeout 120 pg_recvlogical -d "$PGDATABASE" --slot "${slot}_all" --start \
	-f "$work/all.bin" --endpos "$endpos" --no-loop \
	-o skip-empty-xacts=false -o include-timestamps=false ||
	fail "pg_recvlogical --start (skip-empty-xacts=false) failed"
empty=$("$W2A_PYTHON" "$tool" --recvlogical "$work/all.bin" |
	grep -c '"kind": "commit".*"change_count": 0}') || true
[ "$empty" -ge 1 ] ||
	fail "with skip-empty-xacts=false no empty transaction shows: the bare option proves nothing"
info "skip-empty-xacts=false shows $empty empty transaction(s); the bare option skipped them"
pg_recvlogical -d "$PGDATABASE" --slot "${slot}_all" --drop-slot ||
	fail "pg_recvlogical --drop-slot failed"

# the slot moved on: pg_recvlogical confirmed what it wrote
confirmed=$(psql -XAtc "SELECT confirmed_flush_lsn >= '$endpos'::pg_lsn FROM pg_replication_slots WHERE slot_name = '$slot'")
info "slot confirmed up to the end position: $confirmed"
pg_recvlogical -d "$PGDATABASE" --slot "$slot" --drop-slot ||
	fail "pg_recvlogical --drop-slot failed"
