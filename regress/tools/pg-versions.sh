#!/usr/bin/env bash
# regress/tools/pg-versions.sh -- build other PostgreSQL majors from Debian's source packages, once
#
#   regress/tools/pg-versions.sh [MAJOR...]     (default: W2A_PG_MAJORS, else 13 18)
#
# What it is for: issue 12 (every PostgreSQL users run); "make
# test-versions" (regress/run-versions.sh) tests the plugin on what this
# builds.  Debian 12 ships only PostgreSQL 15 as binaries; other majors come
# from Debian's source packages: bullseye has postgresql-13, sid
# postgresql-18 (README's version table says what else was looked for).
# The sources are fetched with apt-get source through a private apt state
# (a sources.list of deb-src lines for the archive the machine's apt uses,
# and package lists of its own under the cache), so the machine's own apt
# sources are not touched.
#
# Each major is built from its .orig.tar.bz2 with -O1 and only what the
# tests use (no ICU, readline, zlib, LLVM, docs; of the programs the
# server, initdb, pg_ctl, psql, pg_basebackup, pg_config, pg_regress and
# the isolation tester; PL/pgSQL and contrib/test_decoding) and installed
# into CACHE/pg<MAJOR>; W2A_PG_BUILD=full builds and installs all of src
# instead.  A major already there is skipped, so later runs reuse the
# cache.  Prints "pg<MAJOR>: <prefix> (<version>, built in N s)".  One run
# at a time per cache: a second one waits for the first (CI starts one in
# the background, then "make test-versions" runs another that finds the
# builds done).
#
# CACHE: regress/lib/pg_cache.sh says which (W2A_PG_CACHE, else
# /var/cache/wal2avro as root, ~/.cache/wal2avro otherwise).  Needs build-essential, bison and flex (18's tarball
# has no generated parser), which regress/setup-debian.sh installs.
set -euo pipefail

. "$(dirname "$0")/../lib/pg_cache.sh"
cache=$(w2a_pg_cache)
majors=("$@")
# shellcheck disable=SC2206  # a list of words
[ ${#majors[@]} -gt 0 ] || majors=(${W2A_PG_MAJORS:-13 18})

# The Debian archive this machine's apt already uses (W2A_DEBIAN_MIRROR
# overrides): the first archive URI of its sources that is not the
# security archive's.
mirror=${W2A_DEBIAN_MIRROR:-}
if [ -z "$mirror" ]; then
	mirror=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
		awk '$1 == "URIs:" { for (i = 2; i <= NF; i++) if ($i !~ /-security/) { print $i; exit } }')
fi
if [ -z "$mirror" ]; then
	mirror=$(cat /etc/apt/sources.list 2>/dev/null |
		awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z+]+:\/\// && $i !~ /-security/) { print $i; exit } }')
fi
[ -n "$mirror" ] || { echo "pg-versions.sh: no Debian archive in the apt sources (set W2A_DEBIAN_MIRROR)" >&2; exit 1; }

mkdir -p "$cache/apt/lists/partial" "$cache/src"
chmod 755 "$cache"
exec 9>"$cache/.pg-versions.lock"
if ! flock -n 9; then
	echo "pg-versions.sh: another run is building into $cache; waiting for it" >&2
	flock 9
fi
for suite in bullseye trixie sid; do
	echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $suite main"
done >"$cache/apt/sources.list"
apt_opts=(-o "Dir::Etc::SourceList=$cache/apt/sources.list" -o Dir::Etc::SourceParts=/nonexistent
	-o "Dir::State::Lists=$cache/apt/lists" -o Debug::NoLocking=1 -o APT::Sandbox::User=root)
updated=

# What the tests use, in build order (make builds the libraries each needs).
parts=(src/backend src/backend/utils/mb/conversion_procs src/backend/snowball src/timezone
	src/include src/interfaces/libpq src/backend/replication/libpqwalreceiver
	src/backend/replication/pgoutput src/bin/initdb src/bin/pg_ctl src/bin/psql
	src/bin/pg_basebackup src/bin/pg_config src/pl/plpgsql src/makefiles src/test/regress
	src/test/isolation config contrib/test_decoding)

# Build and install the configured tree in the current directory.
build_tree()
{
	local d pgxs
	if [ "${W2A_PG_BUILD:-}" = full ]; then
		make -s -j"$(nproc)" >make.log 2>&1 || { tail -n 40 make.log >&2; return 1; }
		make -s install >install.log 2>&1 &&
			make -s -C contrib/test_decoding install >>install.log 2>&1 ||
			{ tail -n 20 install.log >&2; return 1; }
	else
		# the headers the build generates, which only a make from the top
		# makes on its own
		make -s -C src/backend generated-headers >>make.log 2>&1 || { tail -n 40 make.log >&2; return 1; }
		for d in "${parts[@]}"; do
			make -s -j"$(nproc)" -C "$d" >>make.log 2>&1 ||
				{ echo "in $d:" >&2; tail -n 40 make.log >&2; return 1; }
		done
		for d in "${parts[@]}"; do
			make -s -C "$d" install >>install.log 2>&1 ||
				{ echo "in $d:" >&2; tail -n 20 install.log >&2; return 1; }
		done
		# src's own install: Makefile.global and the others PGXS includes
		make -s -C src install-local >>install.log 2>&1 || { tail -n 20 install.log >&2; return 1; }
	fi
	# 13 builds the isolation tester but does not install it; PGXS runs it
	# from its own tree, where 14 and later install it
	pgxs=$(dirname "$("$prefix/bin/pg_config" --pgxs)")/../test/isolation
	if [ ! -x "$pgxs/pg_isolation_regress" ]; then
		mkdir -p "$pgxs"
		install -m 755 src/test/isolation/pg_isolation_regress src/test/isolation/isolationtester "$pgxs/"
	fi
}

for v in "${majors[@]}"; do
	[[ "$v" =~ ^1[3-9]$ ]] || { echo "pg-versions.sh: not a PostgreSQL major: $v" >&2; exit 2; }
	prefix=$cache/pg$v
	if [ -e "$prefix/.w2a-built" ]; then
		echo "pg$v: $prefix ($("$prefix/bin/pg_config" --version), cached; $(cat "$prefix/.w2a-built"))"
		continue
	fi
	if [ -z "$updated" ]; then
		apt-get "${apt_opts[@]}" -qq update
		updated=1
	fi
	tarball=$(ls "$cache/src/postgresql-${v}_"*.orig.tar.bz2 2>/dev/null | head -n 1 || true)
	if [ -z "$tarball" ]; then
		(cd "$cache/src" && apt-get "${apt_opts[@]}" -qq source --download-only "postgresql-$v") ||
			{ echo "pg-versions.sh: could not fetch the source of postgresql-$v" >&2; exit 1; }
		tarball=$(ls "$cache/src/postgresql-${v}_"*.orig.tar.bz2 | head -n 1)
	fi
	start=$SECONDS
	build=$cache/build-pg$v
	rm -rf "$build" "$prefix"
	mkdir -p "$build"
	tar -xjf "$tarball" -C "$build" --strip-components=1
	(
		cd "$build"
		./configure --prefix="$prefix" --without-icu --without-readline --without-zlib \
			--without-llvm CFLAGS=-O1 >configure.log 2>&1 || { tail -n 20 configure.log >&2; exit 1; }
		build_tree
	) || { echo "pg-versions.sh: building postgresql-$v failed (see $build)" >&2; exit 1; }
	rm -rf "$build"
	echo "built in $((SECONDS - start)) s ($(date -u +%Y-%m-%d), ${W2A_PG_BUILD:-trimmed} build)" >"$prefix/.w2a-built"
	echo "pg$v: $prefix ($("$prefix/bin/pg_config" --version), $(cat "$prefix/.w2a-built"))"
done
