# regress/tools/node.sh -- the Node packages of wal2avro's test tools
#
# Source it (bash):   . regress/tools/node.sh
#
# Installs the packages pinned in regress/tools/node/package-lock.json
# (@kafkajs/confluent-schema-registry, avsc, kafkajs, pg) with `npm ci` into
# ${W2A_CACHE:-$HOME/.cache/wal2avro}/node-<hash of the lock file>, once, and
# exports NODE_PATH (its node_modules) so `node script.js` finds them.
# Needs node (20 or later) and npm; the registry only at install time.
# Like venv.sh it never exits the caller: on failure it prints the install
# log and returns 1.

_w2a_node_setup()
{
	local here cache dir log want
	here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd) || return 1
	command -v node >/dev/null 2>&1 || { echo "node.sh: node not found (Debian: nodejs)" >&2; return 1; }
	command -v npm >/dev/null 2>&1 || { echo "node.sh: npm not found (Debian: npm)" >&2; return 1; }
	cache=${W2A_CACHE:-${HOME:-/root}/.cache/wal2avro}
	want=$(cat "$here/node/package.json" "$here/node/package-lock.json" | sha256sum | cut -c1-16)
	dir=$cache/node-$want
	log=$cache/node-install.log
	if [ ! -f "$dir/.w2a-done" ]; then
		mkdir -p "$cache" || return 1
		(
			if command -v flock >/dev/null 2>&1; then
				exec 9>"$cache/node.lock"
				flock 9
				[ -f "$dir/.w2a-done" ] && exit 0
			fi
			echo "node.sh: installing into $dir (log: $log)" >&2
			rm -rf "$dir" && mkdir -p "$dir" &&
				cp "$here/node/package.json" "$here/node/package-lock.json" "$dir/" &&
				(cd "$dir" && npm ci --no-audit --no-fund --omit=dev) >"$log" 2>&1 &&
				touch "$dir/.w2a-done"
		) || { echo "node.sh: npm ci failed; log follows" >&2; cat "$log" >&2; return 1; }
	fi
	NODE_PATH=$dir/node_modules
	export NODE_PATH
}

# a sourced file returns; run as a script it exits
_w2a_node_setup || { unset -f _w2a_node_setup; return 1 2>/dev/null || exit 1; }
unset -f _w2a_node_setup
