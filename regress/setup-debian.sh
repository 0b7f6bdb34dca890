#!/usr/bin/env bash
# regress/setup-debian.sh -- install what building and testing wal2avro needs
#
# For a fresh Debian 12 machine; run as root (or with sudo).  Installs the
# Debian packages, then, as the invoking user where sudo was used, fetches
# the Apache Kafka jars with Maven, the Python test tools into a venv and
# the Node test packages (regress/tools/node.sh), all into a cache
# (~/.cache/wal2avro) that later runs reuse.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

packages=(
	build-essential pkg-config clang libclang-rt-14-dev valgrind sudo bison flex
	postgresql-15 postgresql-server-dev-15 postgresql-15-wal2json libpq-dev
	librdkafka-dev kcat libavro-dev libmicrohttpd-dev libcurl4-openssl-dev libjansson-dev
	openjdk-17-jdk-headless maven
	python3 python3-venv curl ca-certificates
)

if [ "$(id -u)" -ne 0 ]; then
	echo "setup-debian.sh: run as root (sudo $0)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
# Node and npm from Debian unless a node with npm is there already (another
# distribution's nodejs ships npm itself and conflicts with Debian's npm).
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi

# Caches belong to the user who will run the tests.
as_user()
{
	if [ -n "${SUDO_USER:-}" ] && [ "$SUDO_USER" != root ]; then
		sudo -u "$SUDO_USER" -H "$@"
	else
		"$@"
	fi
}
as_user bash -c ". '$here/lib/common.sh' && . '$here/lib/kafka.sh' && kafka_fetch_jars"
as_user bash -c ". '$here/tools/venv.sh'"
as_user bash -c ". '$here/tools/node.sh'"
echo "setup-debian.sh: done"
