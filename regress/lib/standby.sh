# regress/lib/standby.sh -- a physical standby of the test's PostgreSQL, and crashes
#
# Source after common.sh and pg.sh, with the primary started by pg_start.
#   standby_start DIR SLOT [CONF_FILE...]
#                          with the current cluster as the primary: a physical
#                          slot SLOT on it, pg_basebackup -R into DIR/data, a
#                          socket in DIR and a free port, primary_slot_name =
#                          SLOT, hot_standby_feedback on, primary_conninfo with
#                          dbname (a slot-syncing standby needs it); every
#                          CONF_FILE appended.  Starts it, waits until it
#                          streams, registers its removal at exit.  The
#                          primary stays the current cluster (pg_use switches).
#   standby_caught_up PRIMARY_DIR STANDBY_DIR
#                          condition for w2a_await: the standby replayed all the
#                          primary has flushed now (prints both positions)
#   pg_kill9               kill -9 the current cluster's postmaster and every
#                          process of it (a crash of the host's PostgreSQL);
#                          waits until they are gone
#   pg_start_again         start the current cluster after pg_stop or pg_kill9
#   pg_promote_current     promote the current cluster (a standby) and wait
#                          until it accepts writes
#   primary_snapshot_await PRIMARY_DIR SECS WHAT CMD...
#                          w2a_await CMD, calling pg_log_standby_snapshot() on
#                          the primary before each try: a logical slot being
#                          created on a standby waits for a running-xacts
#                          record from the primary, which otherwise comes only
#                          every 15 s (bgwriter)
#
# The plugin must be installed in the server that W2A_PGBIN names; decoding
# on a standby needs PostgreSQL 16 or later (the callers check).

standby_start()
{
	local dir=$1 slot=$2 primary=$W2A_PGDIR port conf
	shift 2
	port=$(w2a_free_port)
	mkdir -p "$dir"
	chmod 755 "$dir"
	[ "$(id -u)" -ne 0 ] || chown "$(w2a_pg_user)" "$dir"
	psql -Xq -v ON_ERROR_STOP=1 -c "SELECT pg_create_physical_replication_slot('$slot', true)" >/dev/null ||
		fail "could not create physical slot $slot"
	pg_as_owner "$W2A_PGBIN/pg_basebackup" -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" \
		-D "$dir/data" -R -X stream -S "$slot" --no-sync -c fast >"$dir/basebackup.log" 2>&1 ||
		{ cat "$dir/basebackup.log" >&2; fail "pg_basebackup failed"; }
	{
		# after -R's primary_conninfo, in the file it wrote it to: ours wins
		echo "# standby, written by regress/lib/standby.sh"
		echo "port = $port"
		echo "unix_socket_directories = '$dir'"
		echo "primary_slot_name = '$slot'"
		echo "primary_conninfo = 'host=$PGHOST port=$PGPORT user=$PGUSER dbname=postgres application_name=$slot'"
		echo "hot_standby = on"
		echo "hot_standby_feedback = on"
		echo "wal_receiver_status_interval = 1s"
		for conf in "$@"; do
			cat "$conf"
		done
	} | pg_as_owner tee -a "$dir/data/postgresql.auto.conf" >/dev/null
	echo "$port" >"$dir/port"
	w2a_on_exit "pg_cleanup_at '$dir'"
	pg_as_owner "$W2A_PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null ||
		{ tail -n 50 "$dir/server.log" >&2; fail "the standby did not start"; }
	w2a_await 60 "the standby to stream from the primary" \
		w2a_sql_true "SELECT EXISTS (SELECT FROM pg_stat_replication WHERE application_name = '$slot' AND state = 'streaming')"
	info "standby on $dir port $port, streaming through slot $slot"
	pg_use "$primary"
}

standby_caught_up()
{
	local p s
	p=$(PGHOST=$1 PGPORT=$(cat "$1/port") psql -XAtc "SELECT pg_current_wal_flush_lsn()") || return 1
	s=$(PGHOST=$2 PGPORT=$(cat "$2/port") psql -XAtc "SELECT pg_last_wal_replay_lsn() >= '$p'") || return 1
	echo "primary flushed $p, standby replayed it: $s"
	[ "$s" = t ]
}

pg_kill9()
{
	local pm pids
	pm=$(head -n 1 "$W2A_PGDATA/postmaster.pid" 2>/dev/null) || fail "no postmaster.pid in $W2A_PGDATA"
	pids="$pm $(pgrep -P "$pm" | tr '\n' ' ')"
	# shellcheck disable=SC2086 # a list of pids
	kill -9 $pids 2>/dev/null || true
	# shellcheck disable=SC2086
	w2a_await 30 "the killed server's processes to go" \
		sh -c 'for p; do ! kill -0 "$p" 2>/dev/null || { echo "$p alive"; exit 1; }; done' sh $pids
}

pg_start_again()
{
	pg_ctl_as -l "$W2A_PGDIR/server.log" -w -t 60 start >/dev/null ||
		{ tail -n 50 "$W2A_PGDIR/server.log" >&2; fail "postgres did not start again"; }
}

pg_promote_current()
{
	pg_ctl_as -w -t 60 promote >/dev/null || fail "pg_ctl promote failed"
	w2a_await 60 "the promoted server to accept writes" w2a_sql_true "SELECT NOT pg_is_in_recovery()"
}

primary_snapshot_await()
{
	local primary=$1 secs=$2 what=$3
	shift 3
	w2a_await "$secs" "$what" _primary_snapshot_then "$primary" "$@"
}

_primary_snapshot_then()
{
	local primary=$1
	shift
	PGHOST=$primary PGPORT=$(cat "$primary/port") psql -XAtqc "SELECT pg_log_standby_snapshot()" >/dev/null
	"$@"
}
