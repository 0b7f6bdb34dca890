# regress/lib/common.sh -- shared helpers for wal2avro's shell test scripts
#
# Source it from a test script.  It gives:
#   info MSG...        progress line on stderr, with a timestamp
#   fail MSG...        print FAIL and exit 1 (runs the EXIT trap, so servers stop)
#   w2a_tmpdir NAME    a fresh directory under $W2A_TEST_OUT (or /tmp) readable by
#                      the unprivileged user that runs PostgreSQL
#   w2a_free_port      a loopback TCP port nobody listens on now
#   w2a_on_exit CMD    add CMD to the list run at exit (last added runs first);
#                      CMD finds the script's exit status in W2A_EXIT_RC
#
# Every script that starts a server registers its stop with w2a_on_exit, so a
# failing assertion still leaves no server and no temp cluster behind.

W2A_ROOT=${W2A_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
export W2A_ROOT

info()
{
	printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2
}

fail()
{
	printf '[%s] FAIL: %s\n' "$(date +%H:%M:%S)" "$*" >&2
	exit 1
}

_w2a_exit_cmds=()

_w2a_run_exit()
{
	local rc=$? i
	W2A_EXIT_RC=$rc
	for ((i = ${#_w2a_exit_cmds[@]} - 1; i >= 0; i--)); do
		eval "${_w2a_exit_cmds[$i]}" || true
	done
	exit $rc
}

_w2a_trap_pid=

w2a_on_exit()
{
	# A subshell inherits the list but not the trap: start its own list.
	if [ "$_w2a_trap_pid" != "$BASHPID" ]; then
		_w2a_trap_pid=$BASHPID
		_w2a_exit_cmds=()
		trap _w2a_run_exit EXIT
		trap 'exit 130' INT
		trap 'exit 143' TERM
	fi
	_w2a_exit_cmds+=("$*")
}

# The user PostgreSQL runs as: ourselves, unless we are root (initdb refuses root).
w2a_pg_user()
{
	if [ "$(id -u)" -eq 0 ]; then
		echo "${W2A_PG_OS_USER:-postgres}"
	else
		id -un
	fi
}

w2a_tmpdir()
{
	local base=${W2A_TEST_OUT:-${TMPDIR:-/tmp}}
	mkdir -p "$base"
	local d
	d=$(mktemp -d "$base/${1:-w2a}.XXXXXX")
	chmod 755 "$d"
	if [ "$(id -u)" -eq 0 ]; then
		chown "$(w2a_pg_user)" "$d"
	fi
	echo "$d"
}

# Ask the kernel for a free port by binding port 0, then release it.
w2a_free_port()
{
	python3 - <<'EOF'
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
EOF
}

# Is the one value the query prints "t"?  For w2a_wait_for on a condition.
w2a_sql_true()
{
	[ "$(psql -XAtc "$1" 2>/dev/null)" = t ]
}

# Poll CMD until it succeeds or SECONDS pass.  Returns 1 on timeout.
w2a_wait_for()
{
	local secs=$1 deadline
	shift
	deadline=$((SECONDS + secs))
	until "$@" >/dev/null 2>&1; do
		[ $SECONDS -ge $deadline ] && return 1
		sleep 0.2
	done
}
