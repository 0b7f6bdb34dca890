#!/usr/bin/env bash
# regress/e2e/0001-pg-harness.sh -- self-test of the PostgreSQL harness
#
# Starts a throwaway cluster, checks it decodes (a test_decoding slot sees an
# insert), that wal2avro is on the output plugin allow-list where the server has
# one, and that a second cluster started after it gets its own port and dir.
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
. "$W2A_ROOT/regress/lib/pg.sh"

pg_start "$(w2a_tmpdir pg-harness)"

[ "$(psql -XAtc 'show wal_level')" = logical ] || fail "wal_level is not logical"
if psql -XAtc 'show output_plugin_libraries' >/dev/null 2>&1; then
	psql -XAtc 'show output_plugin_libraries' | grep -q wal2avro ||
		fail "wal2avro missing from output_plugin_libraries"
fi

psql -Xq -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
SELECT 'init' FROM pg_create_logical_replication_slot('harness_slot', 'test_decoding');
CREATE TABLE harness_t (id int PRIMARY KEY, v text);
INSERT INTO harness_t VALUES (1, 'one');
SQL
out=$(psql -XAtc "SELECT data FROM pg_logical_slot_get_changes('harness_slot', NULL, NULL) WHERE data LIKE 'table%'")
[ "$out" = "table public.harness_t: INSERT: id[integer]:1 v[text]:'one'" ] ||
	fail "unexpected decoding output: $out"
psql -XAtc "SELECT pg_drop_replication_slot('harness_slot')" >/dev/null
[ "$(psql -XAtc 'SELECT count(*) FROM pg_replication_slots')" = 0 ] || fail "slot not dropped"

first_port=$PGPORT first_dir=$PGHOST
pg_restart
[ "$(psql -XAtc 'SELECT 1')" = 1 ] || fail "restart failed"

# A second, independent cluster in the same script must not collide.
(
	pg_start "$(w2a_tmpdir pg-harness2)"
	[ "$PGPORT" != "$first_port" ] || fail "second cluster reused port $PGPORT"
	[ "$PGHOST" != "$first_dir" ] || fail "second cluster reused $PGHOST"
	psql -XAtc 'SELECT 1' >/dev/null
)
echo "PASS: postgres harness"
