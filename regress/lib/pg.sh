# regress/lib/pg.sh -- throwaway PostgreSQL clusters for wal2avro's tests
#
# Source after common.sh.  Functions:
#   pg_start DIR [CONF_FILE...]   initdb a cluster in DIR/data as an unprivileged
#                                 user, with logical decoding on, a unix socket in
#                                 DIR and a free loopback port; start it, wait for
#                                 it, register its removal at exit.  Exports
#                                 PGHOST, PGPORT, PGUSER, PGDATABASE, W2A_PGDATA.
#   pg_stop                       stop the cluster (fast), keep the files
#   pg_restart                    stop and start it again with the same settings
#   pg_ctl_as ARGS...             run pg_ctl on the cluster as its owner
#   pg_plugin_allowlist_line      the postgresql.conf line naming our plugins,
#                                 or nothing on servers that lack the setting
#   pg_use DIR                    make the cluster in DIR the current one (the
#                                 PG* variables, W2A_PGDATA, W2A_PGDIR): for
#                                 tests with more than one (regress/lib/standby.sh)
#   pg_server_version_num         the current server's version as a number
#
# Every CONF_FILE is appended to postgresql.conf (regress/logical.conf is the
# one pg_regress suites use).  The cluster is removed at exit unless
# W2A_KEEP=1, in which case its path is printed.

W2A_PGBIN=${W2A_PGBIN:-$(pg_config --bindir)}

# Run a command as the cluster owner.  As root that is the postgres user (initdb
# refuses root); otherwise it is ourselves.
pg_as_owner()
{
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u "$(w2a_pg_user)" -- "$@"
	else
		"$@"
	fi
}

pg_ctl_as()
{
	pg_as_owner "$W2A_PGBIN/pg_ctl" -D "$W2A_PGDATA" "$@"
}

# Since 15.19 only allow-listed libraries may decode.  Servers that predate the
# setting refuse to start when it is in postgresql.conf, so ask first.
pg_plugin_allowlist_line()
{
	local probe=$1
	if pg_as_owner "$W2A_PGBIN/postgres" -D "$probe" -C output_plugin_libraries >/dev/null 2>&1; then
		echo "output_plugin_libraries = 'pgoutput, test_decoding, wal2json, wal2avro'"
	fi
}

pg_start()
{
	local dir=$1
	shift
	local port conf
	port=$(w2a_free_port)
	mkdir -p "$dir"
	chmod 755 "$dir"
	[ "$(id -u)" -ne 0 ] || chown "$(w2a_pg_user)" "$dir"
	export W2A_PGDATA=$dir/data
	export W2A_PGDIR=$dir

	pg_as_owner "$W2A_PGBIN/initdb" -D "$W2A_PGDATA" -U postgres --auth=trust \
		--no-sync -E UTF8 --locale=C >"$dir/initdb.log" 2>&1 ||
		{ cat "$dir/initdb.log" >&2; fail "initdb failed"; }

	{
		echo "# written by regress/lib/pg.sh"
		echo "listen_addresses = '127.0.0.1'"
		echo "port = $port"
		echo "unix_socket_directories = '$dir'"
		echo "wal_level = logical"
		echo "max_replication_slots = 20"
		echo "max_wal_senders = 20"
		echo "max_prepared_transactions = 10"
		echo "fsync = off"
		echo "log_line_prefix = '%m [%p] %q%a '"
		echo "timezone = 'UTC'"
		pg_plugin_allowlist_line "$W2A_PGDATA"
		for conf in "$@"; do
			cat "$conf"
		done
	} | pg_as_owner tee -a "$W2A_PGDATA/postgresql.conf" >/dev/null

	echo "$port" >"$dir/port"
	export PGHOST=$dir PGPORT=$port PGUSER=postgres PGDATABASE=postgres
	w2a_on_exit "pg_cleanup_at '$dir'"
	if [ "${W2A_PG_VALGRIND:-0}" = 1 ]; then
		pg_valgrind_wrapper "$dir"
		W2A_PG_CTL_EXTRA=(-p "$dir/postgres-valgrind" -t 600)
	else
		W2A_PG_CTL_EXTRA=(-t 60)
	fi
	pg_ctl_as -l "$dir/server.log" -w "${W2A_PG_CTL_EXTRA[@]}" start >/dev/null ||
		{ tail -n 50 "$dir/server.log" >&2; fail "postgres did not start"; }
	info "postgres $(psql -XAtc 'show server_version') on $dir port $port"
}

pg_use()
{
	export W2A_PGDIR=$1 W2A_PGDATA=$1/data PGHOST=$1 PGPORT
	PGPORT=$(cat "$1/port")
}

pg_server_version_num()
{
	psql -XAtc "SHOW server_version_num"
}

pg_stop()
{
	pg_ctl_as -m fast -w stop >/dev/null 2>&1 || true
}

pg_restart()
{
	pg_stop
	pg_ctl_as -l "$W2A_PGDIR/server.log" -w "${W2A_PG_CTL_EXTRA[@]}" start >/dev/null ||
		{ tail -n 50 "$W2A_PGDIR/server.log" >&2; fail "postgres did not restart"; }
}

# W2A_PG_VALGRIND=1: the server runs under valgrind's memcheck (the backend
# cannot preload AddressSanitizer); each process logs to valgrind.PID.log in
# W2A_VALGRIND_LOGS (default: the cluster's directory).
pg_valgrind_wrapper()
{
	local dir=$1 w=$1/postgres-valgrind logs=${W2A_VALGRIND_LOGS:-$1}
	{
		echo '#!/bin/sh'
		echo "case \"\$1\" in -V|--version|-C) exec \"$W2A_PGBIN/postgres\" \"\$@\";; esac"
		echo "exec valgrind --quiet --tool=memcheck --error-limit=no --num-callers=40 \\"
		echo "	--track-origins=no --read-var-info=no --leak-check=no \\"
		echo "	--log-file=\"$logs/valgrind.%p.log\" \"$W2A_PGBIN/postgres\" \"\$@\""
	} >"$w"
	chmod 755 "$w"
}

# Exit handler for the cluster in DIR: stop the server, show its log tail if
# the script failed, remove it.
pg_cleanup_at()
{
	local rc=${W2A_EXIT_RC:-0} dir=$1
	[ -n "$dir" ] && [ -d "$dir" ] || return 0
	pg_as_owner "$W2A_PGBIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
	if [ "$rc" -ne 0 ] && [ -f "$dir/server.log" ]; then
		echo "---- tail of $dir/server.log ----" >&2
		tail -n 40 "$dir/server.log" >&2
	fi
	if [ "${W2A_KEEP:-0}" = 1 ]; then
		info "kept cluster in $dir"
	else
		rm -rf "$dir"
	fi
}

# The same for the current cluster.
pg_cleanup()
{
	[ -n "${W2A_PGDIR:-}" ] || return 0
	pg_cleanup_at "$W2A_PGDIR"
}
