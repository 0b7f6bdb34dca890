# regress/tools/venv.sh -- the Python venv for wal2avro's test tools
#
# Source it (bash):   . regress/tools/venv.sh
#
# It makes sure a venv with the packages pinned in regress/tools/requirements.txt
# exists at ${W2A_CACHE:-$HOME/.cache/wal2avro}/venv, then exports
#   W2A_PYTHON   the venv's python (run the tools and pytest with it)
#
# The venv is built once and reused: a stamp file in it holds a hash of the
# requirements file, of the interpreter that built it and of this script.
# When any of them changes, the venv is removed and built anew, so it never
# carries stale packages.  Concurrent sourcing is serialised with flock(1)
# when it is there.  Needs only python3 (with its venv module; on Debian the
# python3-venv package) and the package registry at build time; nothing
# touches the network once the venv exists.
#
# It sets no shell options and never exits the caller: on failure it prints
# the install log and returns 1, so `. venv.sh || fail ...` works.

_w2a_venv_setup()
{
	local here req cache venv stamp want have lock log py rc

	here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd) || return 1
	req=$here/requirements.txt
	cache=${W2A_CACHE:-${HOME:-/root}/.cache/wal2avro}
	venv=$cache/venv
	stamp=$venv/.w2a-stamp
	py=${W2A_BASE_PYTHON:-python3}

	if ! command -v "$py" >/dev/null 2>&1; then
		echo "venv.sh: $py not found in PATH" >&2
		return 1
	fi
	mkdir -p "$cache" || return 1

	# What the venv must have been built from.
	want=$(
		{
			cat "$req"
			"$py" -c 'import sys; print(sys.executable, sys.version)'
			cat "${BASH_SOURCE[0]}"
		} | sha256sum | cut -d' ' -f1
	) || return 1

	have=
	[ -r "$stamp" ] && have=$(cat "$stamp")
	if [ "$have" = "$want" ] && [ -x "$venv/bin/python" ] &&
		"$venv/bin/python" -c 'import fastavro' >/dev/null 2>&1; then
		W2A_PYTHON=$venv/bin/python
		export W2A_PYTHON
		return 0
	fi

	lock=$cache/venv.lock
	log=$cache/venv-install.log
	(
		if command -v flock >/dev/null 2>&1; then
			exec 9>"$lock"
			flock 9
			# Someone else may have built it while we waited.
			if [ -r "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] &&
				[ -x "$venv/bin/python" ]; then
				exit 0
			fi
		fi
		echo "venv.sh: building $venv (log: $log)" >&2
		{
			rm -rf "$venv" &&
				"$py" -m venv "$venv" &&
				PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 \
					"$venv/bin/python" -m pip install \
					-r "$req"
		} >"$log" 2>&1 || exit 1
		echo "$want" >"$stamp"
	)
	rc=$?
	if [ $rc -ne 0 ]; then
		echo "venv.sh: building the venv failed; install log follows" >&2
		cat "$log" >&2
		return 1
	fi
	W2A_PYTHON=$venv/bin/python
	export W2A_PYTHON
	return 0
}

_w2a_venv_setup
_w2a_venv_rc=$?
unset -f _w2a_venv_setup
if [ $_w2a_venv_rc -ne 0 ]; then
	unset _w2a_venv_rc
	return 1 2>/dev/null || exit 1
fi
unset _w2a_venv_rc
