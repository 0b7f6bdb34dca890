/*-------------------------------------------------------------------------
 *
 * test_metrics.c
 *		Unit tests for relay/metrics.c and metrics_render.c: the exposition
 *		text, counters per table and op, the series cap, the latency
 *		histogram, readiness, and the HTTP endpoints on a loopback port.
 *
 * Every rendering goes through a small validator of the Prometheus text
 * format 0.0.4 as this module writes it: HELP then TYPE before a family's
 * samples, one family at a time, sample lines "name{labels} value" with
 * only the three escapes in label values, no series twice, counters named
 * *_total, histogram buckets cumulative and ending in le="+Inf" equal to
 * _count.  The HTTP client is a raw socket writing one request.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * regress/relay/test_metrics.c
 *
 *-------------------------------------------------------------------------
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "metrics.h"
#include "metrics_http.h"
#include "program.h"
#include "unit.h"

#define MAX_FAMILIES	64
#define MAX_SERIES		100000

/* ------------------------------------------------------------------------
 * An exposition format validator
 * ------------------------------------------------------------------------
 */

typedef struct Family
{
	char		name[128];
	char		type[16];
	bool		typed;
} Family;

/* Validation state of the histogram family being read */
typedef struct HistState
{
	double		last_le;
	double		last_count;
	double		inf_count;
	bool		saw_inf;
	bool		saw_sum;
	bool		saw_count;
	int			buckets;
} HistState;

static bool
name_char(char c, bool first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
		(!first && c >= '0' && c <= '9');
}

/* Read a metric or label name at *p; false if there is none */
static bool
read_name(const char **p, char *out, size_t outlen)
{
	size_t		n = 0;

	if (!name_char(**p, true))
		return false;
	while (name_char(**p, n == 0) && n + 1 < outlen)
		out[n++] = *(*p)++;
	out[n] = '\0';
	return !name_char(**p, false);
}

static bool
ends_with(const char *s, const char *suffix)
{
	size_t		a = strlen(s),
				b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

static bool
parse_value(const char *s, size_t len, double *v)
{
	char		buf[64];
	char	   *end;

	if (len == 0 || len >= sizeof(buf))
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (strcmp(buf, "+Inf") == 0)
		*v = INFINITY;
	else if (strcmp(buf, "-Inf") == 0)
		*v = -INFINITY;
	else if (strcmp(buf, "NaN") == 0)
		*v = NAN;
	else
	{
		if (strchr(buf, 'n') || strchr(buf, 'N') || strchr(buf, 'i') || strchr(buf, 'I'))
			return false;		/* C's "inf" and "nan" are not the format's */
		*v = strtod(buf, &end);
		if (*end != '\0')
			return false;
	}
	return true;
}

static int
compare_strings(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/*
 * Check one text; returns true, or false with the first problem and its
 * line number in err.
 */
static bool
validate(const char *text, char *err, size_t errlen)
{
	Family		fam[MAX_FAMILIES];
	int			nfam = 0;
	Family	   *cur = NULL;
	bool		help_pending = false;
	char		help_name[128] = "";
	char	  **seen = calloc(MAX_SERIES, sizeof(char *));
	int			nseen = 0;
	HistState	h = {0};
	const char *line = text;
	int			lineno = 0;
	bool		ok = false;
	int			i;

#define FAIL(...) do { int n_ = snprintf(err, errlen, "line %d: ", lineno); \
		snprintf(err + n_, errlen - n_, __VA_ARGS__); goto done; } while (0)

	if (*text == '\0' || text[strlen(text) - 1] != '\n')
	{
		snprintf(err, errlen, "empty, or no newline at the end");
		free(seen);
		return false;
	}
	while (*line)
	{
		const char *eol = strchr(line, '\n');
		const char *p = line;
		char		name[128];

		lineno++;
		if (strncmp(line, "# HELP ", 7) == 0)
		{
			p += 7;
			if (!read_name(&p, name, sizeof(name)) || *p != ' ')
				FAIL("bad HELP line");
			for (i = 0; i < nfam; i++)
				if (strcmp(fam[i].name, name) == 0)
					FAIL("family %s declared twice", name);
			if (help_pending)
				FAIL("HELP for %s without TYPE", help_name);
			snprintf(help_name, sizeof(help_name), "%s", name);
			help_pending = true;
		}
		else if (strncmp(line, "# TYPE ", 7) == 0)
		{
			char		type[16];
			size_t		tl;

			p += 7;
			if (!read_name(&p, name, sizeof(name)) || *p != ' ')
				FAIL("bad TYPE line");
			if (!help_pending || strcmp(name, help_name) != 0)
				FAIL("TYPE for %s not right after its HELP", name);
			tl = eol - (p + 1);
			if (tl == 0 || tl >= sizeof(type))
				FAIL("bad type");
			memcpy(type, p + 1, tl);
			type[tl] = '\0';
			if (strcmp(type, "counter") != 0 && strcmp(type, "gauge") != 0 &&
				strcmp(type, "histogram") != 0)
				FAIL("unknown type %s", type);
			if (strcmp(type, "counter") == 0 && !ends_with(name, "_total"))
				FAIL("counter %s does not end in _total", name);
			if (cur && strcmp(cur->type, "histogram") == 0 &&
				(!h.saw_inf || !h.saw_sum || !h.saw_count))
				FAIL("histogram %s incomplete", cur->name);
			if (nfam == MAX_FAMILIES)
				FAIL("too many families");
			cur = &fam[nfam++];
			snprintf(cur->name, sizeof(cur->name), "%s", name);
			snprintf(cur->type, sizeof(cur->type), "%s", type);
			cur->typed = true;
			help_pending = false;
			memset(&h, 0, sizeof(h));
			h.last_le = -INFINITY;
		}
		else if (line[0] == '#')
			FAIL("unexpected comment");
		else
		{
			char		series[1024];
			char		le[512] = "";
			const char *vstart;
			double		v;
			size_t		slen;
			const char *suffix = "";

			if (!read_name(&p, name, sizeof(name)))
				FAIL("bad sample name");
			if (cur == NULL || help_pending)
				FAIL("sample %s before its HELP and TYPE", name);
			if (strcmp(cur->type, "histogram") == 0)
			{
				size_t		fl = strlen(cur->name);

				if (strncmp(name, cur->name, fl) != 0)
					FAIL("sample %s outside its family %s", name, cur->name);
				suffix = name + fl;
				if (strcmp(suffix, "_bucket") != 0 && strcmp(suffix, "_sum") != 0 &&
					strcmp(suffix, "_count") != 0)
					FAIL("sample %s outside histogram %s", name, cur->name);
			}
			else if (strcmp(name, cur->name) != 0)
				FAIL("sample %s outside its family %s", name, cur->name);
			if (*p == '{')
			{
				p++;
				while (*p != '}')
				{
					char		label[128];
					char		value[512];
					size_t		vl = 0;

					if (!read_name(&p, label, sizeof(label)) || p[0] != '=' || p[1] != '"')
						FAIL("bad label in %s", name);
					p += 2;
					while (*p != '"')
					{
						if (*p == '\n' || *p == '\0')
							FAIL("unterminated label value");
						if (*p == '\\')
						{
							if (p[1] != '\\' && p[1] != '"' && p[1] != 'n')
								FAIL("bad escape \\%c", p[1]);
							p++;
						}
						if (vl + 1 < sizeof(value))
							value[vl++] = *p;
						p++;
					}
					value[vl] = '\0';
					p++;
					if (strcmp(label, "le") == 0)
						snprintf(le, sizeof(le), "%s", value);
					else if (strcmp(suffix, "_bucket") == 0)
						FAIL("bucket label other than le");
					if (*p == ',')
						p++;
					else if (*p != '}')
						FAIL("bad label list in %s", name);
				}
				p++;
			}
			if (*p != ' ')
				FAIL("no space before the value of %s", name);
			slen = p - line;
			vstart = p + 1;
			if (!parse_value(vstart, eol - vstart, &v))
				FAIL("bad value \"%.*s\"", (int) (eol - vstart), vstart);
			if (slen >= sizeof(series))
				FAIL("series too long");
			memcpy(series, line, slen);
			series[slen] = '\0';
			if (nseen == MAX_SERIES)
				FAIL("too many series");
			seen[nseen++] = strdup(series);
			if (strcmp(cur->type, "counter") == 0 && !(v >= 0))
				FAIL("counter %s negative", series);
			if (strcmp(suffix, "_bucket") == 0)
			{
				double		bound;

				if (le[0] == '\0' || !parse_value(le, strlen(le), &bound))
					FAIL("bucket without a valid le");
				if (h.saw_inf || bound <= h.last_le)
					FAIL("bucket le=%s out of order", le);
				if (v < h.last_count)
					FAIL("buckets not cumulative at le=%s", le);
				h.last_le = bound;
				h.last_count = v;
				h.buckets++;
				if (isinf(bound))
				{
					h.saw_inf = true;
					h.inf_count = v;
				}
			}
			else if (strcmp(suffix, "_sum") == 0)
				h.saw_sum = true;
			else if (strcmp(suffix, "_count") == 0)
			{
				if (!h.saw_inf)
					FAIL("_count before le=\"+Inf\"");
				if (v != h.inf_count)
					FAIL("_count %g differs from le=\"+Inf\" %g", v, h.inf_count);
				h.saw_count = true;
			}
		}
		line = eol + 1;
	}
	if (help_pending)
		FAIL("HELP without TYPE at the end");
	qsort(seen, nseen, sizeof(char *), compare_strings);
	for (i = 1; i < nseen; i++)
		if (strcmp(seen[i - 1], seen[i]) == 0)
			FAIL("series %s twice", seen[i]);
	if (cur && strcmp(cur->type, "histogram") == 0 && (!h.saw_inf || !h.saw_sum || !h.saw_count))
		FAIL("histogram %s incomplete", cur->name);
	ok = true;
done:
	for (i = 0; i < nseen; i++)
		free(seen[i]);
	free(seen);
	return ok;
#undef FAIL
}

/* Validate, and print the text when it fails */
#define CHECK_VALID(text) \
	do { \
		char		v_err_[512]; \
		bool		v_ok_ = (text) != NULL && validate((text), v_err_, sizeof(v_err_)); \
		CHECK(v_ok_); \
		if (!v_ok_) \
			fprintf(stderr, "    %s\n----\n%s----\n", (text) ? v_err_ : "no text", \
					(text) ? (text) : ""); \
	} while (0)

/* The value of the line starting with exactly "series " */
static double
value_of(const char *text, const char *series)
{
	size_t		n = strlen(series);
	const char *line = text;

	while (line && *line)
	{
		if (strncmp(line, series, n) == 0 && line[n] == ' ')
			return strtod(line + n + 1, NULL);
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return -1;
}

/* Lines starting with a prefix */
static int
count_lines(const char *text, const char *prefix)
{
	int			n = 0;
	const char *line = text;

	while (line && *line)
	{
		if (strncmp(line, prefix, strlen(prefix)) == 0)
			n++;
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return n;
}

static Metrics *
start_local(size_t max_series, uint64_t max_lag, double max_ratio)
{
	MetricsConfig cfg = {0};
	char		err[256];
	Metrics    *m;

	cfg.max_series = max_series;
	cfg.max_lag_bytes = max_lag;
	cfg.max_error_ratio = max_ratio;
	m = metrics_start(&cfg, err, sizeof(err));
	if (m == NULL)
		fprintf(stderr, "metrics_start: %s\n", err);
	return m;
}

static char *
render(Metrics *m)
{
	return metrics_text(m, NULL);
}

/* One record of schema.table, through a handle made for it (the relay keeps one per relation) */
static void
count(Metrics *m, const char *schema, const char *table, char op, size_t bytes)
{
	MetricsTable t;

	metrics_table_init(&t, m, schema, table);
	metrics_count_record(&t, op, bytes);
}

/* ------------------------------------------------------------------------
 * Cases without a server
 * ------------------------------------------------------------------------
 */

static void
test_parse_listen(void)
{
	char		host[64];
	char		err[256];
	int			port = -1;

	CHECK_INT(metrics_http_parse_listen("127.0.0.1:9187", host, sizeof(host), &port, err, sizeof(err)), 0);
	CHECK_STR(host, "127.0.0.1");
	CHECK_INT(port, 9187);
	CHECK_INT(metrics_http_parse_listen("[::1]:0", host, sizeof(host), &port, err, sizeof(err)), 0);
	CHECK_STR(host, "::1");
	CHECK_INT(port, 0);
	CHECK_INT(metrics_http_parse_listen("localhost:65535", host, sizeof(host), &port, err, sizeof(err)), 0);
	CHECK_STR(host, "localhost");
	CHECK_INT(port, 65535);

	CHECK_INT(metrics_http_parse_listen("9187", host, sizeof(host), &port, err, sizeof(err)), -1);
	CHECK_STR(err, "invalid listen address \"9187\": expected \"host:port\"");
	CHECK_INT(metrics_http_parse_listen(":9187", host, sizeof(host), &port, err, sizeof(err)), -1);
	CHECK_CONTAINS(err, "the host is empty");
	CHECK_INT(metrics_http_parse_listen("::1:9187", host, sizeof(host), &port, err, sizeof(err)), -1);
	CHECK_CONTAINS(err, "expected \"host:port\"");
	CHECK_INT(metrics_http_parse_listen("[::1]9187", host, sizeof(host), &port, err, sizeof(err)), -1);
	CHECK_CONTAINS(err, "expected \"[address]:port\"");
	CHECK_INT(metrics_http_parse_listen("[::1", host, sizeof(host), &port, err, sizeof(err)), -1);
	CHECK_INT(metrics_http_parse_listen("h:", host, sizeof(host), &port, err, sizeof(err)), -1);
	CHECK_CONTAINS(err, "the port must be a number from 0 to 65535");
	CHECK_INT(metrics_http_parse_listen("h:65536", host, sizeof(host), &port, err, sizeof(err)), -1);
	CHECK_INT(metrics_http_parse_listen("h:-1", host, sizeof(host), &port, err, sizeof(err)), -1);
	CHECK_INT(metrics_http_parse_listen("h:+1", host, sizeof(host), &port, err, sizeof(err)), -1);
	CHECK_INT(metrics_http_parse_listen("h:80x", host, sizeof(host), &port, err, sizeof(err)), -1);
	CHECK_INT(metrics_http_parse_listen("a-very-long-host-name-that-does-not-fit.example.com:1",
								   host, 16, &port, err, sizeof(err)), -1);
	CHECK_CONTAINS(err, "the host is too long");
}

/* The validator itself must refuse what is wrong */
static void
test_validator(void)
{
	char		err[256];

	CHECK(validate("# HELP a_total x\n# TYPE a_total counter\na_total 1\n", err, sizeof(err)));
	CHECK(!validate("a 1\n", err, sizeof(err)));
	CHECK_CONTAINS(err, "before its HELP");
	CHECK(!validate("# HELP a x\n# TYPE a counter\na 1\n", err, sizeof(err)));
	CHECK_CONTAINS(err, "does not end in _total");
	CHECK(!validate("# HELP a x\n# TYPE a gauge\na{l=\"\\t\"} 1\n", err, sizeof(err)));
	CHECK_CONTAINS(err, "bad escape");
	CHECK(!validate("# HELP a x\n# TYPE a gauge\na inf\n", err, sizeof(err)));
	CHECK(!validate("# HELP a x\n# TYPE a gauge\na 1\na 2\n", err, sizeof(err)));
	CHECK_CONTAINS(err, "twice");
	CHECK(!validate("# HELP h x\n# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\n"
					"h_sum 1\nh_count 1\n", err, sizeof(err)));
	CHECK_CONTAINS(err, "not cumulative");
	CHECK(!validate("# HELP h x\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\n"
					"h_sum 1\nh_count 3\n", err, sizeof(err)));
	CHECK_CONTAINS(err, "differs");
	CHECK(!validate("# HELP h x\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n",
					err, sizeof(err)));
	CHECK(!validate("# HELP a x\n# TYPE a gauge\nb 1\n", err, sizeof(err)));
	CHECK_CONTAINS(err, "outside its family");
	CHECK(!validate("# HELP a x\n# TYPE a gauge\na 1", err, sizeof(err)));
}

static void
test_fresh(void)
{
	Metrics    *m = start_local(0, 0, 0);
	char	   *text;
	char		reason[128];

	CHECK(m != NULL);
	if (m == NULL)
		return;
	CHECK_INT(metrics_port(m), 0);
	text = render(m);
	CHECK_VALID(text);
	CHECK_CONTAINS(text, "wal2avro_relay_info{version=\"" RELAY_VERSION "\"} 1\n");
	CHECK_CONTAINS(text, "# TYPE wal2avro_relay_records_produced_total counter\n");
	CHECK_CONTAINS(text, "# TYPE wal2avro_relay_commit_to_ack_latency_seconds histogram\n");
	CHECK(value_of(text, "wal2avro_relay_streaming") == 0);
	CHECK(value_of(text, "wal2avro_relay_ready") == 0);
	CHECK(value_of(text, "wal2avro_relay_commit_to_ack_latency_seconds_bucket{le=\"+Inf\"}") == 0);
	CHECK(value_of(text, "wal2avro_relay_start_time_seconds") > 1.7e9);
	CHECK_INT(count_lines(text, "wal2avro_relay_records_produced_total{"), 0);
	/* the snapshot families are declared before any snapshot, without samples */
	CHECK_CONTAINS(text, "# TYPE wal2avro_relay_snapshot_rows_total counter\n");
	CHECK_INT(count_lines(text, "wal2avro_relay_snapshot_rows_total{"), 0);
	CHECK(strstr(text, "producer_queue_fill_ratio") == NULL);
	CHECK(!metrics_ready(m, reason, sizeof(reason)));
	CHECK_STR(reason, "not streaming");
	free(text);
	metrics_stop(m);
}

static void
test_counters(void)
{
	Metrics    *m = start_local(0, 0, 0);
	MetricsSnapshot snap = {0};
	char	   *text;

	if (m == NULL)
		return;
	count(m, "public", "orders", 'c', 100);
	count(m, "public", "orders", 'c', 50);
	count(m, "public", "orders", 'u', 70);
	count(m, "sales", "orders", 'c', 1);

	/* nothing is visible before it is published */
	text = render(m);
	CHECK_INT(count_lines(text, "wal2avro_relay_records_produced_total{"), 0);
	free(text);

	metrics_update(m, &snap);
	text = render(m);
	CHECK_VALID(text);
	CHECK(value_of(text, "wal2avro_relay_records_produced_total{schema=\"public\",table=\"orders\",op=\"c\"}") == 2);
	CHECK(value_of(text, "wal2avro_relay_bytes_produced_total{schema=\"public\",table=\"orders\",op=\"c\"}") == 150);
	CHECK(value_of(text, "wal2avro_relay_records_produced_total{schema=\"public\",table=\"orders\",op=\"u\"}") == 1);
	CHECK(value_of(text, "wal2avro_relay_bytes_produced_total{schema=\"public\",table=\"orders\",op=\"u\"}") == 70);
	CHECK(value_of(text, "wal2avro_relay_records_produced_total{schema=\"sales\",table=\"orders\",op=\"c\"}") == 1);
	CHECK_INT(count_lines(text, "wal2avro_relay_records_produced_total{"), 3);
	free(text);

	/* a second round: changed series move, the others keep their values */
	for (int i = 0; i < 1000; i++)
		count(m, "public", "orders", 'c', 3);
	count(m, "public", "items", 'd', 9);
	metrics_update(m, &snap);
	text = render(m);
	CHECK_VALID(text);
	CHECK(value_of(text, "wal2avro_relay_records_produced_total{schema=\"public\",table=\"orders\",op=\"c\"}") == 1002);
	CHECK(value_of(text, "wal2avro_relay_bytes_produced_total{schema=\"public\",table=\"orders\",op=\"c\"}") == 3150);
	CHECK(value_of(text, "wal2avro_relay_records_produced_total{schema=\"public\",table=\"orders\",op=\"u\"}") == 1);
	CHECK(value_of(text, "wal2avro_relay_records_produced_total{schema=\"sales\",table=\"orders\",op=\"c\"}") == 1);
	CHECK(value_of(text, "wal2avro_relay_records_produced_total{schema=\"public\",table=\"items\",op=\"d\"}") == 1);
	CHECK_INT(count_lines(text, "wal2avro_relay_records_produced_total{"), 4);
	CHECK_INT(count_lines(text, "wal2avro_relay_bytes_produced_total{"), 4);
	free(text);

	/* many tables: the hash grows, every count lands */
	{
		char		name[32];
		double		sum = 0;
		int			i;

		for (i = 0; i < 3000; i++)
		{
			snprintf(name, sizeof(name), "t%d", i);
			count(m, "bulk", name, 'c', (size_t) i);
			count(m, "bulk", name, 'c', 1);
		}
		metrics_update(m, &snap);
		text = render(m);
		CHECK_VALID(text);
		CHECK_INT(count_lines(text, "wal2avro_relay_records_produced_total{schema=\"bulk\""), 3000);
		for (i = 0; i < 3000; i += 1)
		{
			char		series[128];

			snprintf(series, sizeof(series),
					 "wal2avro_relay_bytes_produced_total{schema=\"bulk\",table=\"t%d\",op=\"c\"}", i);
			sum += value_of(text, series);
		}
		CHECK(sum == 3000.0 * 2999 / 2 + 3000);
		CHECK(value_of(text, "wal2avro_relay_records_produced_total{schema=\"bulk\",table=\"t2999\",op=\"c\"}") == 2);
		free(text);
	}
	metrics_stop(m);
}

static void
test_escaping(void)
{
	Metrics    *m = start_local(0, 0, 0);
	MetricsSnapshot snap = {0};
	char	   *text;

	if (m == NULL)
		return;
	count(m, "we\"ird\\", "line\nbreak", 'c', 5);
	count(m, "s", "t", '"', 1);
	count(m, "s", "t", '\\', 1);
	count(m, "s", "t", '\n', 1);
	count(m, "s", "t", '\0', 1);	/* both count as '?' */
	count(m, "s", "\xc3\xa9t\xc3\xa9", 'c', 1);	/* UTF-8 as is */
	metrics_update(m, &snap);
	text = render(m);
	CHECK_VALID(text);
	CHECK_CONTAINS(text, "wal2avro_relay_records_produced_total{schema=\"we\\\"ird\\\\\",table=\"line\\nbreak\",op=\"c\"} 1\n");
	CHECK_CONTAINS(text, "wal2avro_relay_records_produced_total{schema=\"s\",table=\"t\",op=\"\\\"\"} 1\n");
	CHECK_CONTAINS(text, "wal2avro_relay_records_produced_total{schema=\"s\",table=\"t\",op=\"\\\\\"} 1\n");
	CHECK_CONTAINS(text, "wal2avro_relay_records_produced_total{schema=\"s\",table=\"t\",op=\"?\"} 2\n");
	CHECK_CONTAINS(text, "table=\"\xc3\xa9t\xc3\xa9\"");
	free(text);
	metrics_stop(m);
}

static void
test_cap(void)
{
	Metrics    *m = start_local(3, 0, 0);
	MetricsSnapshot snap = {0};
	char	   *text;
	char		name[16];
	int			i;

	if (m == NULL)
		return;
	for (i = 0; i < 10; i++)
	{
		snprintf(name, sizeof(name), "t%d", i);
		count(m, "public", name, 'c', 10);
	}
	count(m, "public", "t0", 'c', 10);	/* made before the cap: its own */
	count(m, "public", "t0", 'u', 10);	/* a new series past it: other */
	count(m, "public", "t9", 'd', 10);
	metrics_update(m, &snap);
	text = render(m);
	CHECK_VALID(text);
	CHECK(value_of(text, "wal2avro_relay_records_produced_total{schema=\"public\",table=\"t0\",op=\"c\"}") == 2);
	CHECK(value_of(text, "wal2avro_relay_records_produced_total{schema=\"public\",table=\"t2\",op=\"c\"}") == 1);
	CHECK(value_of(text, "wal2avro_relay_records_produced_total{schema=\"public\",table=\"t3\",op=\"c\"}") == -1);
	CHECK(value_of(text, "wal2avro_relay_records_produced_total{schema=\"\",table=\"other\",op=\"c\"}") == 7);
	CHECK(value_of(text, "wal2avro_relay_bytes_produced_total{schema=\"\",table=\"other\",op=\"c\"}") == 70);
	CHECK(value_of(text, "wal2avro_relay_records_produced_total{schema=\"\",table=\"other\",op=\"u\"}") == 1);
	CHECK(value_of(text, "wal2avro_relay_records_produced_total{schema=\"\",table=\"other\",op=\"d\"}") == 1);
	CHECK_INT(count_lines(text, "wal2avro_relay_records_produced_total{"), 6);
	free(text);

	/* every op byte at most one "other" series: memory stays bounded */
	for (i = 0; i < 100000; i++)
	{
		snprintf(name, sizeof(name), "x%d", i);
		count(m, "s", name, (char) (i % 256), 1);
	}
	metrics_update(m, &snap);
	text = render(m);
	CHECK_VALID(text);
	CHECK_INT(count_lines(text, "wal2avro_relay_records_produced_total{"), 3 + 94);
	free(text);
	metrics_stop(m);
}

static void
test_histogram(void)
{
	Metrics    *m = start_local(0, 0, 0);
	MetricsSnapshot snap = {0};
	char	   *text;

	if (m == NULL)
		return;
	metrics_observe_latency(m, 0.0005);
	metrics_observe_latency(m, 0.001);	/* le is "less or equal" */
	metrics_observe_latency(m, 0.003);
	metrics_observe_latency(m, 0.2);
	metrics_observe_latency(m, 20);
	metrics_observe_latency(m, -1);		/* clock skew: 0 */
	metrics_observe_latency(m, NAN);
	metrics_update(m, &snap);
	text = render(m);
	CHECK_VALID(text);
	CHECK(value_of(text, "wal2avro_relay_commit_to_ack_latency_seconds_bucket{le=\"0.001\"}") == 4);
	CHECK(value_of(text, "wal2avro_relay_commit_to_ack_latency_seconds_bucket{le=\"0.0025\"}") == 4);
	CHECK(value_of(text, "wal2avro_relay_commit_to_ack_latency_seconds_bucket{le=\"0.005\"}") == 5);
	CHECK(value_of(text, "wal2avro_relay_commit_to_ack_latency_seconds_bucket{le=\"0.1\"}") == 5);
	CHECK(value_of(text, "wal2avro_relay_commit_to_ack_latency_seconds_bucket{le=\"0.25\"}") == 6);
	CHECK(value_of(text, "wal2avro_relay_commit_to_ack_latency_seconds_bucket{le=\"10\"}") == 6);
	CHECK(value_of(text, "wal2avro_relay_commit_to_ack_latency_seconds_bucket{le=\"+Inf\"}") == 7);
	CHECK(value_of(text, "wal2avro_relay_commit_to_ack_latency_seconds_count") == 7);
	CHECK(fabs(value_of(text, "wal2avro_relay_commit_to_ack_latency_seconds_sum") - 20.2045) < 1e-9);
	CHECK_INT(count_lines(text, "wal2avro_relay_commit_to_ack_latency_seconds_bucket{"), 14);
	free(text);
	metrics_stop(m);
}

static void
test_snapshot_rows(void)
{
	Metrics    *m = start_local(2, 0, 0);
	MetricsSnapshot snap = {0};
	char	   *text;

	if (m == NULL)
		return;
	metrics_set_snapshot_rows(m, "public", "orders", 500, 1000);
	metrics_set_snapshot_rows(m, "public", "items", 20, -1);
	metrics_set_snapshot_rows(m, "public", "dropped", 1, 1);	/* over the cap */
	metrics_update(m, &snap);
	metrics_set_snapshot_rows(m, "public", "orders", 1000, 1000);
	text = render(m);
	CHECK_VALID(text);
	CHECK(value_of(text, "wal2avro_relay_snapshot_rows_total{schema=\"public\",table=\"orders\"}") == 500);
	CHECK(value_of(text, "wal2avro_relay_snapshot_rows_total{schema=\"public\",table=\"items\"}") == 20);
	CHECK(value_of(text, "wal2avro_relay_snapshot_rows_estimated{schema=\"public\",table=\"orders\"}") == 1000);
	CHECK(value_of(text, "wal2avro_relay_snapshot_rows_estimated{schema=\"public\",table=\"items\"}") == -1);
	CHECK(strstr(text, "dropped") == NULL);
	free(text);
	metrics_update(m, &snap);
	text = render(m);
	CHECK(value_of(text, "wal2avro_relay_snapshot_rows_total{schema=\"public\",table=\"orders\"}") == 1000);
	free(text);
	metrics_stop(m);
}

static void
test_gauges_and_ready(void)
{
	Metrics    *m = start_local(0, 1000, 0.05);
	MetricsSnapshot snap = {0};
	char	   *text;
	char		reason[256];
	int64_t		t0 = relay_now_us();
	int64_t		wall = (int64_t) 1700000000 * 1000000;

	if (m == NULL)
		return;
	snap.now_us = t0 + 1000;
	snap.now_epoch_us = wall;	/* replication lag is measured at this time */
	snap.streaming = true;
	metrics_update(m, &snap);
	CHECK(!metrics_ready(m, reason, sizeof(reason)));
	CHECK_STR(reason, "producer not connected to Kafka");

	snap.producer_connected = true;
	snap.confirmed_lsn = 0x16B3F10;
	snap.server_wal_lsn = 0x16B3F10 + 1000;
	snap.records_in_flight = 12;
	snap.transactions_in_flight = 2;
	snap.in_flight_bytes = 3456;
	snap.oldest_pending_commit_time = wall - 2500000;
	snap.producer_queue_messages = 25;
	snap.producer_queue_capacity = 100;
	metrics_update(m, &snap);
	CHECK(metrics_ready(m, reason, sizeof(reason)));
	CHECK_STR(reason, "ready");
	text = metrics_text(m, NULL);
	CHECK_VALID(text);
	CHECK(value_of(text, "wal2avro_relay_streaming") == 1);
	CHECK(value_of(text, "wal2avro_relay_producer_connected") == 1);
	CHECK(value_of(text, "wal2avro_relay_ready") == 1);
	CHECK(value_of(text, "wal2avro_relay_confirmed_lsn") == 0x16B3F10);
	CHECK(value_of(text, "wal2avro_relay_server_wal_lsn") == 0x16B3F10 + 1000);
	CHECK(value_of(text, "wal2avro_relay_slot_lag_bytes") == 1000);
	CHECK(value_of(text, "wal2avro_relay_records_in_flight") == 12);
	CHECK(value_of(text, "wal2avro_relay_transactions_in_flight") == 2);
	CHECK(value_of(text, "wal2avro_relay_in_flight_bytes") == 3456);
	CHECK(value_of(text, "wal2avro_relay_replication_lag_seconds") == 2.5);
	CHECK(value_of(text, "wal2avro_relay_producer_queue_messages") == 25);
	CHECK(value_of(text, "wal2avro_relay_producer_queue_fill_ratio") == 0.25);
	free(text);

	/* an LSN beyond 2^53 still prints exactly */
	snap.confirmed_lsn = UINT64_C(0xFFFFFFFF00000001);
	snap.server_wal_lsn = snap.confirmed_lsn;
	metrics_update(m, &snap);
	text = render(m);
	CHECK_CONTAINS(text, "wal2avro_relay_confirmed_lsn 18446744069414584321\n");
	CHECK(value_of(text, "wal2avro_relay_slot_lag_bytes") == 0);
	free(text);

	/* nothing in flight: no replication lag, whatever the last commit */
	snap.transactions_in_flight = 0;
	snap.confirmed_lsn = 0x16B3F10;
	snap.server_wal_lsn = 0x16B3F10 + 1001;	/* one over health-max-lag-bytes */
	metrics_update(m, &snap);
	text = metrics_text(m, NULL);
	CHECK(value_of(text, "wal2avro_relay_replication_lag_seconds") == 0);
	CHECK(value_of(text, "wal2avro_relay_ready") == 0);
	free(text);
	CHECK(!metrics_ready(m, reason, sizeof(reason)));
	CHECK_STR(reason, "slot lag 1001 bytes is over health-max-lag-bytes 1000");

	/* delivery errors: 10 of 100 reports in the window, over 0.05 */
	snap.server_wal_lsn = snap.confirmed_lsn;
	snap.records_acked = 90;
	snap.delivery_errors = 10;
	snap.now_us = t0 + 2000000;
	metrics_update(m, &snap);
	CHECK(!metrics_ready(m, reason, sizeof(reason)));
	CHECK_CONTAINS(reason, "delivery error ratio 0.1 over the last 60 s is over health-max-error-ratio 0.05");
	text = render(m);
	CHECK(value_of(text, "wal2avro_relay_delivery_error_ratio") == 0.1);
	CHECK(value_of(text, "wal2avro_relay_delivery_errors_total") == 10);
	CHECK(value_of(text, "wal2avro_relay_records_acked_total") == 90);
	free(text);

	/* 30 s on, a few more successes: 10 errors of 110 reports */
	snap.records_acked = 100;
	snap.now_us = t0 + 32000000;
	metrics_update(m, &snap);
	CHECK(!metrics_ready(m, reason, sizeof(reason)));
	CHECK_CONTAINS(reason, "delivery error ratio 0.09091 ");

	/* past the window the old errors drop out */
	snap.records_acked = 400;
	snap.now_us = t0 + 63000000;
	metrics_update(m, &snap);
	CHECK(metrics_ready(m, reason, sizeof(reason)));
	text = render(m);
	CHECK(value_of(text, "wal2avro_relay_delivery_error_ratio") == 0);
	free(text);

	/* no longer streaming (a reconnect): not ready, whatever else */
	snap.streaming = false;
	metrics_update(m, &snap);
	metrics_inc_reconnects(m);
	metrics_inc_reconnects(m);
	CHECK(!metrics_ready(m, reason, sizeof(reason)));
	CHECK_STR(reason, "not streaming");
	text = render(m);
	CHECK(value_of(text, "wal2avro_relay_reconnects_total") == 2);
	CHECK(value_of(text, "wal2avro_relay_streaming") == 0);
	free(text);
	metrics_stop(m);

	/* no limits configured: lag and errors never make it unready */
	m = start_local(0, 0, 0);
	if (m == NULL)
		return;
	snap.streaming = true;
	snap.server_wal_lsn = snap.confirmed_lsn + UINT64_C(1000000000000);
	snap.delivery_errors = 1000;
	snap.now_us = 0;
	metrics_update(m, &snap);
	CHECK(metrics_ready(m, reason, sizeof(reason)));
	metrics_stop(m);
}

static void
test_null(void)
{
	MetricsSnapshot snap = {0};
	char		reason[64];

	metrics_count_record(NULL, 'c', 1);
	count(NULL, "s", "t", 'c', 1);
	metrics_observe_latency(NULL, 1);
	metrics_set_snapshot_rows(NULL, "s", "t", 1, 1);
	metrics_inc_reconnects(NULL);
	metrics_update(NULL, &snap);
	CHECK(metrics_text(NULL, NULL) == NULL);
	CHECK(!metrics_ready(NULL, reason, sizeof(reason)));
	CHECK_INT(metrics_port(NULL), 0);
	metrics_stop(NULL);
}

/* ------------------------------------------------------------------------
 * Over HTTP
 * ------------------------------------------------------------------------
 */

typedef struct HttpReply
{
	int			status;
	char		head[2048];		/* status line and headers */
	char		body[4 * 1024 * 1024];
	size_t		body_len;
} HttpReply;

static HttpReply reply;

static int
open_fds(void)
{
	DIR		   *d = opendir("/proc/self/fd");
	struct dirent *e;
	int			n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1;				/* the directory's own */
}

/*
 * Send a raw request to host:port and read the whole reply (the server
 * closes after it: "Connection: close").  Returns 0, or -1.
 */
static int
http(int family, int port, const char *method, const char *path, HttpReply *r)
{
	char		req[512];
	static char buf[sizeof(((HttpReply *) 0)->body) + 4096];
	size_t		len = 0;
	int			fd = socket(family, SOCK_STREAM, 0);
	struct sockaddr_storage addr;
	socklen_t	addrlen;
	char	   *sep;

	memset(r, 0, sizeof(*r));
	memset(&addr, 0, sizeof(addr));
	if (family == AF_INET6)
	{
		struct sockaddr_in6 *a = (struct sockaddr_in6 *) &addr;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t) port);
		a->sin6_addr = in6addr_loopback;
		addrlen = sizeof(*a);
	}
	else
	{
		struct sockaddr_in *a = (struct sockaddr_in *) &addr;

		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t) port);
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		addrlen = sizeof(*a);
	}
	if (fd < 0 || connect(fd, (struct sockaddr *) &addr, addrlen) != 0)
	{
		if (fd >= 0)
			close(fd);
		return -1;
	}
	snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n%s\r\n",
			 method, path, strcmp(method, "POST") == 0 ? "Content-Length: 0\r\n" : "");
	if (write(fd, req, strlen(req)) != (ssize_t) strlen(req))
	{
		close(fd);
		return -1;
	}
	for (;;)
	{
		struct pollfd pfd = {fd, POLLIN, 0};
		ssize_t		n;

		if (poll(&pfd, 1, 5000) != 1 || len == sizeof(buf) - 1)
		{
			close(fd);
			return -1;
		}
		n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
		{
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t) n;
	}
	close(fd);
	buf[len] = '\0';
	if ((sep = strstr(buf, "\r\n\r\n")) == NULL || sscanf(buf, "HTTP/1.1 %d", &r->status) != 1)
		return -1;
	snprintf(r->head, sizeof(r->head), "%.*s", (int) (sep - buf), buf);
	r->body_len = len - (sep + 4 - buf);
	memcpy(r->body, sep + 4, r->body_len);
	r->body[r->body_len] = '\0';
	return 0;
}

static void
test_server(void)
{
	MetricsConfig cfg = {0};
	MetricsSnapshot snap = {0};
	Metrics    *m;
	Metrics    *other;
	char		err[256];
	char		want[128];
	int			fds_before = open_fds();
	int			port;

	cfg.listen_host = "127.0.0.1";
	cfg.port = 0;
	cfg.max_lag_bytes = 1000;
	m = metrics_start(&cfg, err, sizeof(err));
	CHECK(m != NULL);
	if (m == NULL)
	{
		fprintf(stderr, "    %s\n", err);
		return;
	}
	port = metrics_port(m);
	CHECK(port > 0 && port < 65536);

	count(m, "public", "orders", 'c', 42);
	metrics_observe_latency(m, 0.02);
	metrics_update(m, &snap);

	CHECK_INT(http(AF_INET, port, "GET", "/metrics", &reply), 0);
	CHECK_INT(reply.status, 200);
	CHECK_CONTAINS(reply.head, "text/plain; version=0.0.4; charset=utf-8");
	CHECK_VALID(reply.body);
	CHECK(value_of(reply.body, "wal2avro_relay_bytes_produced_total{schema=\"public\",table=\"orders\",op=\"c\"}") == 42);
	CHECK(value_of(reply.body, "wal2avro_relay_commit_to_ack_latency_seconds_count") == 1);

	CHECK_INT(http(AF_INET, port, "GET", "/metrics?name[]=x", &reply), 0);
	CHECK_INT(reply.status, 200);

	CHECK_INT(http(AF_INET, port, "HEAD", "/metrics", &reply), 0);
	CHECK_INT(reply.status, 200);
	CHECK_INT(reply.body_len, 0);

	CHECK_INT(http(AF_INET, port, "GET", "/healthz", &reply), 0);
	CHECK_INT(reply.status, 200);
	CHECK_STR(reply.body, "ok\n");

	CHECK_INT(http(AF_INET, port, "GET", "/readyz", &reply), 0);
	CHECK_INT(reply.status, 503);
	CHECK_STR(reply.body, "not streaming\n");

	snap.streaming = true;
	snap.producer_connected = true;
	metrics_update(m, &snap);
	CHECK_INT(http(AF_INET, port, "GET", "/readyz", &reply), 0);
	CHECK_INT(reply.status, 200);
	CHECK_STR(reply.body, "ready\n");

	snap.server_wal_lsn = 5000;
	snap.confirmed_lsn = 1000;
	metrics_update(m, &snap);
	CHECK_INT(http(AF_INET, port, "GET", "/readyz", &reply), 0);
	CHECK_INT(reply.status, 503);
	CHECK_STR(reply.body, "slot lag 4000 bytes is over health-max-lag-bytes 1000\n");
	CHECK_INT(http(AF_INET, port, "GET", "/healthz", &reply), 0);
	CHECK_INT(reply.status, 200);	/* alive while not ready */

	snap.producer_connected = false;
	metrics_update(m, &snap);
	CHECK_INT(http(AF_INET, port, "GET", "/readyz", &reply), 0);
	CHECK_INT(reply.status, 503);
	CHECK_STR(reply.body, "producer not connected to Kafka\n");

	CHECK_INT(http(AF_INET, port, "GET", "/", &reply), 0);
	CHECK_INT(reply.status, 404);
	CHECK_INT(http(AF_INET, port, "GET", "/metricsx", &reply), 0);
	CHECK_INT(reply.status, 404);
	CHECK_INT(http(AF_INET, port, "POST", "/metrics", &reply), 0);
	CHECK_INT(reply.status, 405);
	CHECK_CONTAINS(reply.head, "Allow: GET, HEAD");
	CHECK_INT(http(AF_INET, port, "DELETE", "/healthz", &reply), 0);
	CHECK_INT(reply.status, 405);

	/* the port is taken: a second server says so */
	cfg.port = port;
	other = metrics_start(&cfg, err, sizeof(err));
	CHECK(other == NULL);
	snprintf(want, sizeof(want), "could not listen on metrics address \"127.0.0.1:%d\": %s",
			 port, strerror(EADDRINUSE));
	CHECK_STR(err, want);
	metrics_stop(other);

	/* an address that is not ours (TEST-NET-1, numeric: no DNS) */
	cfg.listen_host = "192.0.2.1";
	cfg.port = 0;
	other = metrics_start(&cfg, err, sizeof(err));
	CHECK(other == NULL);
	CHECK_CONTAINS(err, "could not listen on metrics address \"192.0.2.1:0\": ");
	metrics_stop(other);

	metrics_stop(m);
	CHECK_INT(open_fds(), fds_before);	/* the listening socket is closed */

	/* the port is free again at once */
	cfg.listen_host = "127.0.0.1";
	cfg.port = port;
	m = metrics_start(&cfg, err, sizeof(err));
	CHECK(m != NULL);
	CHECK_INT(metrics_port(m), port);
	metrics_stop(m);

	/* IPv6 loopback, when the host has it */
	cfg.listen_host = "::1";
	cfg.port = 0;
	m = metrics_start(&cfg, err, sizeof(err));
	if (m != NULL)
	{
		CHECK_INT(http(AF_INET6, metrics_port(m), "GET", "/healthz", &reply), 0);
		CHECK_INT(reply.status, 200);
		metrics_stop(m);
	}
	else
		printf("test_metrics: IPv6 loopback skipped: %s\n", err);
	CHECK_INT(open_fds(), fds_before);
}

/* The loop thread, publishing while the main thread scrapes */
typedef struct Hammer
{
	Metrics    *m;
	atomic_int	stop;
	int			updates;
} Hammer;

static void *
hammer_loop(void *arg)
{
	Hammer	   *h = arg;
	MetricsSnapshot snap = {0};
	char		name[32];
	uint64_t	i = 0;

	while (!h->stop)
	{
		snprintf(name, sizeof(name), "t%d", (int) (i % 500));
		count(h->m, "public", name, "cud"[i % 3], 10);
		metrics_observe_latency(h->m, (double) (i % 100) / 1000.0);
		if (i % 50 == 0)
		{
			if (i % 1000 == 0)
				metrics_set_snapshot_rows(h->m, "public", name, i, (int64_t) i * 2);
			snap.streaming = (i / 50) % 2;
			snap.producer_connected = true;
			snap.records_acked = i;
			snap.server_wal_lsn = i;
			metrics_update(h->m, &snap);
			h->updates++;
		}
		i++;
	}
	return NULL;
}

static void
test_concurrent(void)
{
	MetricsConfig cfg = {0};
	Hammer		h = {0};
	pthread_t	thread;
	char		err[256];
	int			i,
				ok = 0;

	cfg.listen_host = "127.0.0.1";
	h.m = metrics_start(&cfg, err, sizeof(err));
	CHECK(h.m != NULL);
	if (h.m == NULL)
		return;
	CHECK_INT(pthread_create(&thread, NULL, hammer_loop, &h), 0);
	for (i = 0; i < 40; i++)
	{
		char		verr[256];

		if (http(AF_INET, metrics_port(h.m), "GET", i % 4 == 3 ? "/readyz" : "/metrics", &reply) == 0 &&
			(i % 4 == 3 ? (reply.status == 200 || reply.status == 503) :
			 reply.status == 200 && validate(reply.body, verr, sizeof(verr))))
			ok++;
	}
	h.stop = 1;
	pthread_join(thread, NULL);
	CHECK_INT(ok, 40);
	CHECK(h.updates > 0);
	metrics_stop(h.m);
}


/* ------------------------------------------------------------------------
 * The page swap (metrics_http.c): a scrape sees one whole page
 * ------------------------------------------------------------------------
 */

#define PAGE_BYTES		(2 * 1024 * 1024)	/* more than a socket buffers */

/* A malloc'd page of n bytes, all c */
static char *
page_of(char c, size_t n)
{
	char	   *text = malloc(n);

	if (text)
		memset(text, c, n);
	return text;
}

/* Is text n bytes, all the same byte? */
static bool
whole_page(const char *text, size_t n, size_t want_len)
{
	size_t		i;

	if (n != want_len || n == 0)
		return false;
	for (i = 1; i < n; i++)
	{
		if (text[i] != text[0])
			return false;
	}
	return true;
}

/* Publishes pages "a".."z" of PAGE_BYTES, in turn, until stopped */
typedef struct Swapper
{
	MetricsHttp *h;
	atomic_int	stop;
	int			swaps;
} Swapper;

static void *
swapper_loop(void *arg)
{
	Swapper    *s = arg;

	while (!s->stop)
	{
		char		c = (char) ('a' + s->swaps % 26);

		metrics_http_publish(s->h, page_of(c, PAGE_BYTES), PAGE_BYTES, s->swaps % 2, "test");
		s->swaps++;
	}
	return NULL;
}

static void
test_page_swap(void)
{
	char		err[256];
	char		reason[64];
	MetricsHttp *h = metrics_http_start("127.0.0.1", 0, err, sizeof(err));
	Swapper		s = {0};
	pthread_t	thread;
	struct sockaddr_in addr = {0};
	char		req[] = "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	char	   *got = malloc(PAGE_BYTES + 4096);
	size_t		len = 0;
	char	   *body;
	char	   *copy;
	int			fd;
	int			i,
				whole = 0;

	CHECK(h != NULL && got != NULL);
	if (h == NULL || got == NULL)
	{
		free(got);
		metrics_http_stop(h);
		return;
	}
	/* nothing published yet: no page, not ready */
	CHECK(metrics_http_copy(h, NULL) == NULL);
	CHECK(!metrics_http_ready(h, reason, sizeof(reason)));
	CHECK_STR(reason, "starting");
	CHECK_INT(http(AF_INET, metrics_http_port(h), "GET", "/metrics", &reply), 0);
	CHECK_INT(reply.status, 503);

	/*
	 * A slow scrape: it has the first bytes of page "A" when the loop
	 * swaps in "B" and frees its own reference to "A"; the rest it reads
	 * is still "A", whole (AddressSanitizer would see a freed page read).
	 */
	metrics_http_publish(h, page_of('A', PAGE_BYTES), PAGE_BYTES, true, "ready");
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t) metrics_http_port(h));
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	CHECK_INT(connect(fd, (struct sockaddr *) &addr, sizeof(addr)), 0);
	CHECK(write(fd, req, strlen(req)) == (ssize_t) strlen(req));
	while (len < 4096)
	{
		ssize_t		n = read(fd, got + len, 4096 - len);

		if (n <= 0)
			break;
		len += (size_t) n;
	}
	for (i = 0; i < 3; i++)
		metrics_http_publish(h, page_of('B' + i, PAGE_BYTES), PAGE_BYTES, false, "swapped");
	for (;;)
	{
		ssize_t		n = read(fd, got + len, PAGE_BYTES + 4096 - len);

		if (n <= 0)
			break;
		len += (size_t) n;
	}
	close(fd);
	body = memmem(got, len, "\r\n\r\n", 4);
	CHECK(body != NULL);
	if (body != NULL)
	{
		body += 4;
		CHECK(body[0] == 'A');
		CHECK(whole_page(body, len - (size_t) (body - got), PAGE_BYTES));
	}
	/* a new scrape gets the newest page, and its readiness */
	copy = metrics_http_copy(h, &len);
	CHECK(copy != NULL && copy[0] == 'D' && whole_page(copy, len, PAGE_BYTES));
	free(copy);
	CHECK(!metrics_http_ready(h, reason, sizeof(reason)));
	CHECK_STR(reason, "swapped");

	/* scrapes while the loop swaps as fast as it can: each page whole */
	s.h = h;
	CHECK_INT(pthread_create(&thread, NULL, swapper_loop, &s), 0);
	for (i = 0; i < 200; i++)
	{
		copy = metrics_http_copy(h, &len);
		whole += copy != NULL && whole_page(copy, len, PAGE_BYTES);
		free(copy);
		if (i % 20 == 0 && http(AF_INET, metrics_http_port(h), "GET", "/metrics", &reply) == 0)
			whole += reply.status == 200 && whole_page(reply.body, reply.body_len, PAGE_BYTES) ? 0 : -1000;
	}
	s.stop = 1;
	pthread_join(thread, NULL);
	CHECK_INT(whole, 200);
	CHECK(s.swaps > 1);
	free(got);
	metrics_http_stop(h);
}

int
main(void)
{
	relay_log_set_level(RELAY_LOG_ERROR);	/* the overflow warning is expected */
	test_parse_listen();
	test_validator();
	test_fresh();
	test_counters();
	test_escaping();
	test_cap();
	test_histogram();
	test_snapshot_rows();
	test_gauges_and_ready();
	test_null();
	test_server();
	test_concurrent();
	test_page_swap();
	return unit_finish("test_metrics");
}
