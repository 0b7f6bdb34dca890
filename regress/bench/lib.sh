# regress/bench/lib.sh -- what the benchmark scripts in regress/bench share
# shellcheck shell=bash
#
# Source it after regress/lib/common.sh (and pg.sh, kafka.sh as the script
# needs).  It gives:
#   sql ARGS...                 psql, quiet and unaligned, stopping at the first error
#   cpu_ticks PID               user+system CPU ticks of a process (all its threads)
#   status_kb PID FIELD         a /proc/PID/status field in kB (0 when absent)
#   ticks_s TICKS               ticks -> seconds, two decimals
#   high_watermark TOPIC        next offset of partition 0 (empty when unknown)
#   relay_binary_desc           which relay binary runs: sha256 prefix, build
#                               time, tree and whether relay/ had changes
#   bench_machine               key=value lines: the machine and the software
#   bench_workload_sql          the workload tables and the procedures that
#                               write each workload deterministically
#   bench_fill_sql WIDE TOAST CUSTOMERS
#                               the rows the update workloads start from
#   bench_oltp_pgbench FILE     write the pgbench script of the OLTP
#                               transaction (run with -D ncust=N)
#   bench_check_counts VAR...   fail unless each named variable holds a
#                               positive integer
#   bench_decode_schema_sql     what decode.sh and decode-instr.sh add: the
#                               small table and its procedure, the marker
#                               table, a publication of all tables
#   bench_decode_part_sql PART  the statement writing decode.sh's part a to e,
#                               sized by ROWS_BULK, TXNS_SMALL, ROWS_WIDE,
#                               WIDE_TXN, TXNS_OLTP, CUSTOMERS, ROWS_TOAST and
#                               TOAST_TXN as the caller set them
#
# The workloads (the same for decode.sh and e2e.sh):
#   bulk   one INSERT of N rows (id bigint PK, name ~20 chars, numeric(12,2),
#          timestamptz, bool) in one transaction
#   wide   UPDATE of N rows of wide (text ~200 chars, numeric, timestamptz,
#          jsonb with 10 keys), BATCH rows per transaction: bench_wide(N, BATCH)
#   toast  UPDATE of N rows of toast_docs in transactions of BATCH rows: a new
#          8 kB body (stored out of line, uncompressed) each, while a 4 kB
#          out-of-line notes column stays unchanged: bench_toast(N, BATCH)
#   oltp   N transactions of the shape an online shop writes: INSERT an order,
#          INSERT its 3 items (one statement), UPDATE the customer's balance;
#          5 row changes each, customers chosen by a fixed stride:
#          bench_oltp(N, CUSTOMERS).  The pgbench script does the same with
#          random customers, for runs at a fixed rate.

sql()
{
	psql -XAtq -v ON_ERROR_STOP=1 "$@"
}

cpu_ticks()
{
	local s
	s=$(<"/proc/$1/stat")
	s=${s##*) }
	# shellcheck disable=SC2086 # split into fields on purpose
	set -- $s
	echo $((${12} + ${13}))
}

status_kb()
{
	local k v _
	while read -r k v _; do
		if [ "$k" = "$2:" ]; then
			echo "$v"
			return
		fi
	done <"/proc/$1/status"
	echo 0
}

ticks_s()
{
	awk -v t="$1" -v h="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / h }'
}

high_watermark()
{
	kcat -b "$KAFKA_BOOTSTRAP" -Q -t "$1:0:-1" 2>/dev/null | awk '{ print $NF }'
}

relay_binary_desc()
{
	local d
	d="sha256 $(sha256sum "$W2A_RELAY" | cut -c1-12), built $(date -u -r "$W2A_RELAY" '+%Y-%m-%d %H:%M:%S UTC')"
	if git -C "$W2A_ROOT" rev-parse --short HEAD >/dev/null 2>&1; then
		d+=", tree at $(git -C "$W2A_ROOT" rev-parse --short HEAD)"
		[ -z "$(git -C "$W2A_ROOT" status --porcelain -- relay 2>/dev/null)" ] ||
			d+=" with uncommitted changes in relay/"
	fi
	echo "$d"
}

# The version of an installed Debian package ("?" when it is not installed).
_bench_deb_version()
{
	dpkg-query -W -f '${Version}' "$1" 2>/dev/null || echo "?"
}

bench_machine()
{
	local so
	so=$(pg_config --pkglibdir)/wal2avro.so
	echo "cores=$(nproc)"
	echo "cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
	echo "mem=$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
	echo "kernel=$(uname -sr)"
	echo "os=$(. /etc/os-release 2>/dev/null && echo "${PRETTY_NAME:-?}")"
	echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "postgresql=$(pg_config --version | sed 's/^PostgreSQL //')"
	echo "wal2json=$(_bench_deb_version postgresql-15-wal2json)"
	echo "librdkafka=$(_bench_deb_version librdkafka1)"
	echo "kcat=$(_bench_deb_version kcat)"
	echo "java=$(java -version 2>&1 | head -n 1)"
	if [ -e "$so" ]; then
		echo "plugin=sha256 $(sha256sum "$so" | cut -c1-12), installed $(date -u -r "$so" '+%Y-%m-%d %H:%M:%S UTC')"
	fi
	echo "git=$(git -C "$W2A_ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"
}

bench_workload_sql()
{
	cat <<'SQL'
CREATE TABLE bulk (id bigint PRIMARY KEY, name text, amount numeric(12,2),
                   created timestamptz, flag bool);
CREATE TABLE wide (id int PRIMARY KEY, body text, amount numeric,
                   ts timestamptz, doc jsonb);
CREATE TABLE toast_docs (id int PRIMARY KEY, rev int, title text, body text, notes text);
-- out of line and uncompressed whatever the values: the decoders must
-- reassemble every chunk
ALTER TABLE toast_docs ALTER body SET STORAGE EXTERNAL, ALTER notes SET STORAGE EXTERNAL;
CREATE TABLE customers (id int PRIMARY KEY, name text, email text,
                        balance numeric(14,2), updated_at timestamptz);
CREATE TABLE orders (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                     customer_id int NOT NULL, status text NOT NULL,
                     total numeric(12,2), created_at timestamptz);
CREATE TABLE order_items (order_id bigint, line int, sku text, qty int,
                          price numeric(10,2), PRIMARY KEY (order_id, line));

CREATE PROCEDURE bench_wide(n int, batch int) LANGUAGE plpgsql AS $$
BEGIN
    FOR lo IN 1..n BY batch LOOP
        UPDATE wide SET amount = amount + 1, ts = ts + interval '1 second'
         WHERE id BETWEEN lo AND lo + batch - 1;
        COMMIT;
    END LOOP;
END
$$;

CREATE FUNCTION bench_toast_body(id int, rev int, kb int) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT string_agg(md5(id || ':' || rev || ':' || k), '')
      FROM generate_series(1, kb * 32) k
$$;

CREATE PROCEDURE bench_toast(n int, batch int) LANGUAGE plpgsql AS $$
BEGIN
    FOR lo IN 1..n BY batch LOOP
        UPDATE toast_docs SET rev = rev + 1, body = bench_toast_body(id, rev + 1, 8)
         WHERE id BETWEEN lo AND lo + batch - 1;
        COMMIT;
    END LOOP;
END
$$;

CREATE PROCEDURE bench_oltp(n int, ncust int) LANGUAGE plpgsql AS $$
DECLARE
    o bigint;
    c int;
BEGIN
    FOR i IN 1..n LOOP
        c := (i::bigint * 7919 % ncust)::int + 1;
        INSERT INTO orders (customer_id, status, total, created_at)
        VALUES (c, 'new', (i % 997) * 1.25,
                timestamptz '2024-01-01 00:00:00+00' + i * interval '1 second')
        RETURNING id INTO o;
        INSERT INTO order_items
        SELECT o, l, 'SKU-' || lpad(((i * 31 + l) % 100000)::text, 6, '0'),
               1 + (i + l) % 5, ((i * l) % 10000) / 100.0
          FROM generate_series(1, 3) l;
        UPDATE customers SET balance = balance + (i % 997) * 1.25,
               updated_at = timestamptz '2024-01-01 00:00:00+00' + i * interval '1 second'
         WHERE id = c;
        COMMIT;
    END LOOP;
END
$$;
SQL
}

bench_fill_sql()
{
	local wide=$1 toast=$2 cust=$3
	cat <<SQL
INSERT INTO wide
SELECT g,
       left(repeat(md5(g::text), 7), 200),
       g * 1.25,
       timestamptz '2024-01-01 00:00:00+00' + g * interval '1 minute',
       jsonb_build_object('k0', g, 'k1', 'value-' || g, 'k2', g * 2,
                          'k3', g % 7 = 0, 'k4', md5(g::text), 'k5', g * 1.5,
                          'k6', 'constant', 'k7', g % 100, 'k8', null,
                          'k9', to_char(g, 'FM0000000'))
FROM generate_series(1, $wide) g;
INSERT INTO toast_docs
SELECT g, 0, 'document ' || g, bench_toast_body(g, 0, 8), bench_toast_body(-g, 0, 4)
FROM generate_series(1, $toast) g;
INSERT INTO customers
SELECT g, 'customer ' || g, 'customer' || g || '@example.com', 0,
       timestamptz '2024-01-01 00:00:00+00'
FROM generate_series(1, $cust) g;
VACUUM ANALYZE wide, toast_docs, customers;
SQL
}

bench_oltp_pgbench()
{
	cat >"$1" <<'EOF'
\set cid random(1, :ncust)
\set cents random(100, 99999)
BEGIN;
INSERT INTO orders (customer_id, status, total, created_at) VALUES (:cid, 'new', :cents / 100.0, now()) RETURNING id AS oid \gset
INSERT INTO order_items VALUES (:oid, 1, 'SKU-000001', 1, 1.50), (:oid, 2, 'SKU-000002', 2, 2.50), (:oid, 3, 'SKU-000003', 3, 3.50);
UPDATE customers SET balance = balance + :cents / 100.0, updated_at = now() WHERE id = :cid;
END;
EOF
}

bench_check_counts()
{
	local v
	for v in "$@"; do
		[[ "${!v}" =~ ^[1-9][0-9]*$ ]] || fail "$v must be a positive integer (is \"${!v}\")"
	done
}

bench_decode_schema_sql()
{
	cat <<'SQL'
CREATE TABLE small (id bigint PRIMARY KEY, name text, amount numeric(12,2),
                    created timestamptz, flag bool);
CREATE PROCEDURE bench_small(n int) LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1..n LOOP
        INSERT INTO small VALUES (i, 'customer-' || lpad(i::text, 11, '0'),
                                  (i * 7 % 1000000) / 100.0,
                                  timestamptz '2024-01-01 00:00:00+00' + i * interval '1 second',
                                  i % 2 = 0);
        COMMIT;
    END LOOP;
END
$$;
CREATE TABLE marker (id serial PRIMARY KEY, part text);
CREATE PUBLICATION pub FOR ALL TABLES;
SQL
}

bench_decode_part_sql()
{
	case $1 in
		a) echo "INSERT INTO bulk
SELECT g, 'customer-' || lpad(g::text, 11, '0'), (g * 7 % 1000000) / 100.0,
       timestamptz '2024-01-01 00:00:00+00' + g * interval '1 second', g % 2 = 0
FROM generate_series(1, $ROWS_BULK) g" ;;
		b) echo "CALL bench_small($TXNS_SMALL)" ;;
		c) echo "CALL bench_wide($ROWS_WIDE, $WIDE_TXN)" ;;
		d) echo "CALL bench_oltp($TXNS_OLTP, $CUSTOMERS)" ;;
		e) echo "CALL bench_toast($ROWS_TOAST, $TOAST_TXN)" ;;
	esac
}
