# regress/lib/workload.sh -- the "counters" workload the relay's fault tests run under
#
#   workload_counters DIR ROWS [--pad] [--log [--log-deletes]]
#       create table counters (id, v; --pad: and a 200-byte text) with ROWS
#       rows, the reference slot "ref" (wal2avro, created before any change,
#       so it holds every committed change for the comparison), and
#       DIR/workload.sql for pgbench: one counter incremented per transaction;
#       with --log each transaction also inserts into table log, and with
#       --log-deletes a third of them delete the oldest log row.
#
# Source it after pg.sh, with a server started.

workload_counters()
{
	local dir=$1 rows=$2 pad=false log=false deletes=false
	shift 2
	while [ $# -gt 0 ]; do
		case $1 in
		--pad) pad=true ;;
		--log) log=true ;;
		--log-deletes) deletes=true ;;
		*) fail "workload_counters: unknown option $1" ;;
		esac
		shift
	done
	{
		if $pad; then
			echo "CREATE TABLE counters (id int PRIMARY KEY, v bigint NOT NULL, pad text);"
			echo "INSERT INTO counters SELECT g, 0, repeat('p', 200) FROM generate_series(1, $rows) g;"
		else
			echo "CREATE TABLE counters (id int PRIMARY KEY, v bigint NOT NULL);"
			echo "INSERT INTO counters SELECT g, 0 FROM generate_series(1, $rows) g;"
		fi
		if $log; then
			echo "CREATE TABLE log (id bigserial PRIMARY KEY, k int, note text);"
		fi
		echo "SELECT 'ref' FROM pg_create_logical_replication_slot('ref', 'wal2avro');"
	} | psql -Xq -v ON_ERROR_STOP=1 >/dev/null || fail "could not create the counters workload"
	{
		echo "\\set id random(1, $rows)"
		if $log; then
			echo "BEGIN;"
			echo "UPDATE counters SET v = v + 1 WHERE id = :id;"
			echo "INSERT INTO log (k, note) VALUES (:id, 'n' || :id);"
			echo "COMMIT;"
			if $deletes; then
				echo "DELETE FROM log WHERE id = (SELECT min(id) FROM log) AND random() < 0.3;"
			fi
		else
			echo "UPDATE counters SET v = v + 1 WHERE id = :id;"
		fi
	} >"$dir/workload.sql"
}
