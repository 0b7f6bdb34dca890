#!/usr/bin/env bash
# regress/tools/pg-versions.sh -- build other PostgreSQL majors from Debian's source packages, once
#
#   regress/tools/pg-versions.sh [MAJOR...]     (default: 13 18)
#
# What it is for: issue 12 (every PostgreSQL users run).  Debian 12 ships
# only PostgreSQL 15 as binaries; other majors come from Debian's source
# packages: bullseye has postgresql-13, sid postgresql-18 (trixie lists
# postgresql-17, but its files answered 404 when this was written).  The
# sources are fetched with apt-get source through a private apt state (a
# sources.list of deb-src lines for the archive the machine's apt uses, and
# package lists of its own under the cache), so the machine's own apt
# sources are not touched.  Each major is
# built from its .orig.tar.bz2 with only what the tests need (no ICU,
# readline, zlib, LLVM, docs) and installed, with contrib/test_decoding,
# into CACHE/pg<MAJOR>; a major already there is skipped, so later runs
# reuse the cache.  Prints "pg<MAJOR>: <prefix> (<version>, built in N s)".
#
# CACHE: W2A_PG_CACHE, default /var/cache/wal2avro as root (the test
# clusters run as the postgres user, who cannot read root's home), else
# ~/.cache/wal2avro.  Needs build-essential, bison and flex (18's tarball
# has no generated parser), which regress/setup-debian.sh installs.
set -euo pipefail

if [ -n "${W2A_PG_CACHE:-}" ]; then
	cache=$W2A_PG_CACHE
elif [ "$(id -u)" -eq 0 ]; then
	cache=/var/cache/wal2avro
else
	cache=$HOME/.cache/wal2avro
fi
majors=("$@")
[ ${#majors[@]} -gt 0 ] || majors=(13 18)

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
for suite in bullseye trixie sid; do
	echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $suite main"
done >"$cache/apt/sources.list"
apt_opts=(-o "Dir::Etc::SourceList=$cache/apt/sources.list" -o Dir::Etc::SourceParts=/nonexistent
	-o "Dir::State::Lists=$cache/apt/lists" -o Debug::NoLocking=1 -o APT::Sandbox::User=root)
updated=

for v in "${majors[@]}"; do
	[[ "$v" =~ ^1[3-9]$ ]] || { echo "pg-versions.sh: not a PostgreSQL major: $v" >&2; exit 2; }
	prefix=$cache/pg$v
	if [ -x "$prefix/bin/pg_config" ] && [ -e "$prefix/lib/postgresql/test_decoding.so" ]; then
		echo "pg$v: $prefix ($("$prefix/bin/pg_config" --version), cached)"
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
			--without-llvm >configure.log 2>&1 || { tail -n 20 configure.log >&2; exit 1; }
		make -s -j"$(nproc)" >make.log 2>&1 || { tail -n 40 make.log >&2; exit 1; }
		make -s install >install.log 2>&1 &&
			make -s -C contrib/test_decoding install >>install.log 2>&1 ||
			{ tail -n 20 install.log >&2; exit 1; }
	) || { echo "pg-versions.sh: building postgresql-$v failed (see $build)" >&2; exit 1; }
	rm -rf "$build"
	echo "pg$v: $prefix ($("$prefix/bin/pg_config" --version), built in $((SECONDS - start)) s)"
done
