-- regress/workloads/debezium_modes.sql -- the Debezium oracle's workload for the handling modes
--
-- Run as debezium_types.sql is (regress/lib/debezium.sh, dbz_capture:
-- `-v stream=false`, then `-v stream=true`), by captures with Debezium's
-- handling modes set (decimal.handling.mode, binary.handling.mode,
-- time.precision.mode, interval.handling.mode, hstore.handling.mode):
-- every type a mode changes, with NULLs, extremes and special values, and
-- NOT NULL columns of each (a delete's old row leaves them unlogged, so
-- Debezium writes its fallback).  Ends with the sentinel row dbz_done.

\set ON_ERROR_STOP on
\if :stream
\else

CREATE EXTENSION IF NOT EXISTS hstore;

CREATE TABLE modes (
	id int4 PRIMARY KEY,
	n_fixed numeric(12,2), n_small numeric(20,10), n_var numeric, n_int numeric(5,0),
	m money,
	b bytea, b_arr bytea[],
	d date, t0 time(0), t3 time(3), t6 time, ttz timetz,
	ts0 timestamp(0), ts3 timestamp(3), ts6 timestamp, tstz timestamptz,
	iv interval,
	h hstore,
	n_req numeric(6,1) NOT NULL DEFAULT 0, nv_req numeric NOT NULL DEFAULT 0,
	m_req money NOT NULL DEFAULT 0, b_req bytea NOT NULL DEFAULT '',
	t_req time NOT NULL DEFAULT '00:00', ts_req timestamp NOT NULL DEFAULT 'epoch',
	d_req date NOT NULL DEFAULT 'epoch', iv_req interval NOT NULL DEFAULT '0',
	h_req hstore NOT NULL DEFAULT ''
);

INSERT INTO modes (id) VALUES (1);	-- every nullable column NULL
INSERT INTO modes VALUES (2,
	9999999999.99, 0.0000000001, 123456789012345678901234567890.123456789, 12345,
	12.34,
	'\x00ff10fbff3e'::bytea, '{"\\x00ff","\\x"}',
	'2024-02-29', '23:59:59', '12:34:56.789', '23:59:59.999999', '12:00:00.5+02',
	'2024-02-29 12:34:56', '2024-02-29 12:34:56.789', '2024-02-29 12:34:56.123456',
	'2024-02-29 12:34:56.123456+05:30',
	'1 year 2 mons 3 days 04:05:06.789',
	'a=>1, "b c"=>"x \"y\"", n=>NULL',
	12345.6, 1.50, 1234.56, '\xdeadbeef', '12:00:01.5', '2000-01-01 00:00:00.001',
	'2000-01-01', '-1 day 02:00:00', 'k=>v');
INSERT INTO modes VALUES (3,
	-9999999999.99, -0.0000000001, -0.000000001, -12345,
	-92233720368547758.08,
	''::bytea, '{}',
	'4713-01-01 BC', '00:00:00', '00:00:00', '00:00:00', '00:00:00-14',
	'0001-01-01 00:00:00', '1970-01-01 00:00:00', '1969-12-31 23:59:59.999999',
	'1970-01-01 00:00:00+00',
	'-178000000 years',
	'',
	-0.1, 0, 92233720368547758.07, '\x', '23:59:59.999', '1900-01-01 00:00:00',
	'1900-01-01', '1 mon -1 days -00:00:00.000001', '');
INSERT INTO modes (id, n_fixed, n_var, n_small, d, ts6, ts3, tstz, iv, h)
	VALUES (4, 'NaN', 'NaN', 0, 'infinity', '-infinity', 'infinity', 'infinity', '0', 'a=>""');
INSERT INTO modes (id, n_var, n_fixed, iv, m)
	VALUES (5, 'Infinity', 0, '-1 year -2 mons', 0);
INSERT INTO modes (id, n_var, n_fixed, iv, m)
	VALUES (6, '-Infinity', 1e9, '00:00:00.5', 10000000);
INSERT INTO modes (id, n_var, n_small, iv)
	VALUES (7, 1e-7, 1234567890.0000000001, '100 years 11 mons 29 days 23:59:59.999999');

-- Debezium turns column defaults into schema defaults; wal2avro does not
-- (yet), so the defaults that filled the rows above go before the snapshot
ALTER TABLE modes ALTER n_req DROP DEFAULT, ALTER nv_req DROP DEFAULT,
	ALTER m_req DROP DEFAULT, ALTER b_req DROP DEFAULT, ALTER t_req DROP DEFAULT,
	ALTER ts_req DROP DEFAULT, ALTER d_req DROP DEFAULT, ALTER iv_req DROP DEFAULT,
	ALTER h_req DROP DEFAULT;

CREATE TABLE dbz_done (id int4 PRIMARY KEY);
\endif

\if :stream
INSERT INTO modes SELECT 10, n_fixed, n_small, n_var, n_int, m, b, b_arr, d, t0, t3, t6, ttz,
	ts0, ts3, ts6, tstz, iv, h, n_req, nv_req, m_req, b_req, t_req, ts_req, d_req, iv_req, h_req
	FROM modes WHERE id = 2;
UPDATE modes SET n_var = 'NaN', b = '\x01', iv = '1 day' WHERE id = 10;
INSERT INTO modes (id, n_var, n_small, n_int, n_req, nv_req, m_req, b_req, t_req, ts_req,
		d_req, iv_req, h_req)
	VALUES (11, 0.000, 1e-10, 0, 1, 2.5, 3, '\x00', '01:00', '2001-01-01', '2001-01-01', '1 hour', 'x=>y');
DELETE FROM modes WHERE id = 10;
DELETE FROM modes WHERE id = 3;

INSERT INTO dbz_done VALUES (1);
\endif
