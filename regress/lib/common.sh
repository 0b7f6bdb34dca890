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
#   w2a_wait_for SECS CMD...
#                      poll CMD until it succeeds; 1 after SECS s, with what
#                      CMD printed on its last try in W2A_WAIT_LAST
#   w2a_await SECS WHAT CMD...
#                      the same, and fail naming WHAT and that last output
#   w2a_sql_true SQL   condition for them: the query prints "t"
#   w2a_sql_at_least SQL MIN
#                      condition: the query's one number (printed) is >= MIN
#
# No test sleeps for something it can observe: it polls the condition with
# one of these (a condition function prints the values it looked at, so a
# timeout says what it saw).  A sleep stays only as a poll interval, as the
# pacing of a workload, or as a fixed window in which nothing may happen;
# each says which.
#
# Every script that starts a server registers its stop with w2a_on_exit, so a
# failing assertion still leaves no server and no temp cluster behind.

W2A_ROOT=${W2A_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
export W2A_ROOT

info()
{
	printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2
}

# The script's own stderr, kept so that a FAIL inside a command whose output
# is redirected (a w2a_wait_for probe, a $(...)) still reaches the log.
exec {_w2a_stderr}>&2

fail()
{
	printf '[%s] FAIL: %s\n' "$(date +%H:%M:%S)" "$*" >&"$_w2a_stderr"
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

# Print the one number the query prints; is it at least MIN?  For w2a_await
# on a count (rows, a sequence, a position as bytes).
w2a_sql_at_least()
{
	local v
	v=$(psql -XAtc "$1" 2>&1) || { echo "$v"; return 1; }
	echo "$v"
	[ -n "$v" ] && [ "$v" -ge "$2" ] 2>/dev/null
}

# Poll CMD until it succeeds or SECS pass.  Returns 1 on timeout.  CMD runs
# in this shell (it may set variables), its output goes to a file, and the
# output of the last try is left in W2A_WAIT_LAST.
w2a_wait_for()
{
	local secs=$1 deadline out rc=0
	shift
	deadline=$((SECONDS + secs))
	out=$(mktemp "${TMPDIR:-/tmp}/w2a-wait.XXXXXX")
	until "$@" >"$out" 2>&1; do
		if [ $SECONDS -ge $deadline ]; then
			rc=1
			break
		fi
		sleep 0.2	# the poll interval
	done
	W2A_WAIT_LAST=$(head -c 2000 "$out")
	rm -f "$out"
	return $rc
}

# w2a_wait_for, failing on timeout with what was awaited and the last output.
w2a_await()
{
	local secs=$1 what=$2
	shift 2
	w2a_wait_for "$secs" "$@" ||
		fail "timed out after $secs s waiting for $what (last seen: ${W2A_WAIT_LAST:-nothing printed})"
}
