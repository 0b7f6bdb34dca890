# regress/lib/pg_cache.sh -- where the PostgreSQL majors built from source live
#
# Source it.  w2a_pg_cache prints the cache directory that
# regress/tools/pg-versions.sh builds into and regress/run-versions.sh reads:
# W2A_PG_CACHE, default /var/cache/wal2avro as root (the test clusters run
# as the postgres user, who cannot read root's home), else ~/.cache/wal2avro.
# Each major is CACHE/pg<MAJOR>, a prefix with bin/pg_config.

w2a_pg_cache()
{
	if [ -n "${W2A_PG_CACHE:-}" ]; then
		echo "$W2A_PG_CACHE"
	elif [ "$(id -u)" -eq 0 ]; then
		echo /var/cache/wal2avro
	else
		echo "$HOME/.cache/wal2avro"
	fi
}
