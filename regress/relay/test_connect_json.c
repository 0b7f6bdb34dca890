/*-------------------------------------------------------------------------
 *
 * test_connect_json.c
 *		Unit tests for relay/connect_json.c: Java's number text, Jackson's
 *		string escapes, base64 and Decimal bytes, the Connect schema of
 *		hand-made Avro schemas, defaults, and every datum error (truncated,
 *		bad varint, bad union or enum index, bytes left over) with the
 *		output left as it was.
 *
 * The byte-exact comparison with Debezium's own records is
 * regress/e2e/0053-connect-json.sh.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * regress/relay/test_connect_json.c
 *
 *-------------------------------------------------------------------------
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "connect_json.h"
#include "json_out.h"
#include "unit.h"

static char err[512];

static ConnectJson *
compile(const char *schema)
{
	ConnectJson *cj = connect_json_new(schema, strlen(schema), err, sizeof(err));

	if (cj == NULL)
		fprintf(stderr, "    schema refused: %s\n", err);
	return cj;
}

/* the payload (or the envelope) of a datum; NULL on error (err says why) */
static char *
render(ConnectJson *cj, const void *datum, size_t len, bool with_schema)
{
	JsonOut		o = {0};

	if (connect_json_render(cj, datum, len, with_schema, &o, err, sizeof(err)) < 0)
	{
		free(o.data);
		return NULL;
	}
	return o.data ? o.data : strdup("");
}

static void
check_double(double v, bool single, const char *want)
{
	char		buf[40];

	json_java_double(buf, v, single);
	CHECK_STR(buf, want);
}

/* Java's Double/Float.toString (values checked against OpenJDK 17) */
static void
test_java_numbers(void)
{
	check_double(1.0, false, "1.0");
	check_double(100.0, false, "100.0");
	check_double(2.5, false, "2.5");
	check_double(0.1, false, "0.1");
	check_double(1.0 / 3, false, "0.3333333333333333");
	check_double(0.001, false, "0.001");		/* the lower end of plain notation */
	check_double(1e-4, false, "1.0E-4");
	check_double(4.35e-5, false, "4.35E-5");
	check_double(9999999.0, false, "9999999.0");	/* the upper end */
	check_double(1e7, false, "1.0E7");
	check_double(123456.789, false, "123456.789");
	check_double(-0.0, false, "-0.0");
	check_double(0.0, false, "0.0");
	check_double(5e-324, false, "4.9E-324");	/* one digit would do; Java writes two */
	check_double(DBL_MAX, false, "1.7976931348623157E308");
	check_double(-4.446421636188976E-28, false, "-4.446421636188976E-28");
	check_double(3.4e38f, true, "3.4E38");
	check_double(0.1f, true, "0.1");
	check_double(0.3f, true, "0.3");
	check_double(1.0f, true, "1.0");
	check_double(1e7f, true, "1.0E7");
	check_double(1.4e-45f, true, "1.4E-45");
	check_double(FLT_MAX, true, "3.4028235E38");
	check_double(16777216.0f, true, "1.6777216E7");
}

/* a one-field record of the given type, field "v" */
static ConnectJson *
one_field(const char *type)
{
	char		s[1024];

	snprintf(s, sizeof(s), "{\"type\":\"record\",\"name\":\"R\",\"namespace\":\"t\",\"fields\":[{\"name\":\"v\",\"type\":%s}]}", type);
	return compile(s);
}

static void
check_payload(const char *type, const void *datum, size_t len, const char *want)
{
	ConnectJson *cj = one_field(type);
	char	   *got;

	CHECK(cj != NULL);
	if (cj == NULL)
		return;
	got = render(cj, datum, len, false);
	if (got == NULL)
		fprintf(stderr, "    render failed: %s\n", err);
	CHECK_STR(got, want);
	free(got);
	connect_json_free(cj);
}

static void
test_strings(void)
{
	/* Jackson: short escapes for " \ \b \t \n \f \r, \u00XX upper-case for other controls */
	const uint8_t d1[] = {30, 'a', '"', '\\', '\b', '\t', '\n', '\f', '\r', 0x01, 0x1f, 0x7f, '/', 0xc3, 0xa9, 'z'};
	/* malformed UTF-8: each maximal ill-formed part is one U+FFFD, as Java decodes */
	const uint8_t d2[] = {18, 'a', 0xff, 'b', 0xe2, 0x9c, 'c', 0xed, 0xa0, 0x80};
	const uint8_t d3[] = {16, 0xe2, 0x9c, 0x93, 0xf0, 0x9f, 0x98, 0x80, 'x'};

	check_payload("\"string\"", d1, sizeof(d1),
				  "{\"v\":\"a\\\"\\\\\\b\\t\\n\\f\\r\\u0001\\u001F\x7f/\xc3\xa9z\"}");
	check_payload("\"string\"", d2, sizeof(d2),
				  "{\"v\":\"a\xef\xbf\xbd" "b\xef\xbf\xbd" "c\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"}");
	check_payload("\"string\"", d3, sizeof(d3), "{\"v\":\"\xe2\x9c\x93\xf0\x9f\x98\x80x\"}");
}

static void
test_bytes_and_decimals(void)
{
	const uint8_t b0[] = {0};
	const uint8_t b1[] = {2, 0x00};
	const uint8_t b2[] = {4, 0x00, 0xff};
	const uint8_t b3[] = {6, 0x00, 0xff, 0x10};
	const uint8_t b4[] = {8, 0xde, 0xad, 0xbe, 0xef};
	const char *dec = "{\"type\":\"bytes\",\"scale\":2,\"precision\":12,\"logicalType\":\"decimal\"}";
	const uint8_t d1[] = {4, 0x00, 0x7f};	/* redundant sign byte: BigInteger drops it */
	const uint8_t d2[] = {4, 0xff, 0x80};
	const uint8_t d3[] = {4, 0x00, 0x80};	/* needed */
	const uint8_t d4[] = {0};				/* Zero length BigInteger */
	ConnectJson *cj;
	char	   *got;

	check_payload("\"bytes\"", b0, sizeof(b0), "{\"v\":\"\"}");
	check_payload("\"bytes\"", b1, sizeof(b1), "{\"v\":\"AA==\"}");
	check_payload("\"bytes\"", b2, sizeof(b2), "{\"v\":\"AP8=\"}");
	check_payload("\"bytes\"", b3, sizeof(b3), "{\"v\":\"AP8Q\"}");
	check_payload("\"bytes\"", b4, sizeof(b4), "{\"v\":\"3q2+7w==\"}");
	check_payload(dec, d1, sizeof(d1), "{\"v\":\"fw==\"}");
	check_payload(dec, d2, sizeof(d2), "{\"v\":\"gA==\"}");
	check_payload(dec, d3, sizeof(d3), "{\"v\":\"AIA=\"}");
	cj = one_field(dec);
	got = render(cj, d4, sizeof(d4), false);
	CHECK(got == NULL);
	CHECK_CONTAINS(err, "Zero length BigInteger");
	connect_json_free(cj);
}

static void
test_numbers_in_datums(void)
{
	const uint8_t i1[] = {0xfe, 0xff, 0xff, 0xff, 0x0f};	/* int 2147483647 */
	const uint8_t i2[] = {0xfe, 0xff, 0x03};	/* 32767 */
	const uint8_t i3[] = {0x80, 0x80, 0x04};	/* 32768: int16 wraps as shortValue() */
	const uint8_t l1[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};	/* INT64_MIN */
	const uint8_t f1[] = {0x9e, 0xc9, 0x7f, 0x7f};	/* 3.4e38f */
	const uint8_t f2[] = {0x00, 0x00, 0xc0, 0x7f};	/* NaN */
	const uint8_t f3[] = {0x00, 0x00, 0x80, 0xff};	/* -Infinity */
	const uint8_t d1[] = {0, 0, 0, 0, 0, 0, 0xf0, 0x7f};	/* Infinity */
	const uint8_t t[] = {1}, fa[] = {0};

	check_payload("\"int\"", i1, sizeof(i1), "{\"v\":2147483647}");
	check_payload("{\"type\":\"int\",\"connect.type\":\"int16\"}", i2, sizeof(i2), "{\"v\":32767}");
	check_payload("{\"type\":\"int\",\"connect.type\":\"int16\"}", i3, sizeof(i3), "{\"v\":-32768}");
	check_payload("\"long\"", l1, sizeof(l1), "{\"v\":-9223372036854775808}");
	check_payload("\"float\"", f1, sizeof(f1), "{\"v\":3.4E38}");
	check_payload("\"float\"", f2, sizeof(f2), "{\"v\":\"NaN\"}");
	check_payload("\"float\"", f3, sizeof(f3), "{\"v\":\"-Infinity\"}");
	check_payload("\"double\"", d1, sizeof(d1), "{\"v\":\"Infinity\"}");
	check_payload("\"boolean\"", t, 1, "{\"v\":true}");
	check_payload("\"boolean\"", fa, 1, "{\"v\":false}");
}

static void
test_containers(void)
{
	const uint8_t a1[] = {6, 2, 2, 0, 2, 6, 0};	/* [1,null,3] in one block */
	const uint8_t a2[] = {1, 2, 2, 0};	/* a negative count with a size: [1] */
	const uint8_t m1[] = {4, 2, 'a', 2, 2, 'b', 4, 0};	/* {"a":1,"b":2} */
	const uint8_t e1[] = {2};

	check_payload("{\"type\":\"array\",\"items\":[\"null\",\"int\"]}", a1, sizeof(a1), "{\"v\":[1,null,3]}");
	check_payload("{\"type\":\"array\",\"items\":\"int\"}", a2, 4, "{\"v\":[1]}");
	check_payload("{\"type\":\"map\",\"values\":\"int\"}", m1, sizeof(m1), "{\"v\":{\"a\":1,\"b\":2}}");
	check_payload("{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"x\",\"y\"]}", e1, 1, "{\"v\":\"y\"}");
	/* an array of MapEntry records is a Connect map, written as [[k,v],...] */
	check_payload("{\"type\":\"array\",\"items\":{\"type\":\"record\",\"name\":\"MapEntry\",\"namespace\":\"io.confluent.connect.avro\","
				  "\"fields\":[{\"name\":\"key\",\"type\":\"int\"},{\"name\":\"value\",\"type\":\"string\"}]}}",
				  (const uint8_t[]) {2, 2, 2, 'a', 0}, 5, "{\"v\":[[1,\"a\"]]}");
}

/* the Connect schema text, JsonConverter's key order */
static void
test_schema_text(void)
{
	ConnectJson *cj;
	size_t		len;
	const uint8_t datum[] = {0x00, 0x02, 0x02, 0x02, 0x04, 0x01, 0x02, 0x00};
	char	   *got;

	cj = compile("{\"type\":\"record\",\"name\":\"Envelope\",\"namespace\":\"p.s.t\",\"fields\":["
				 "{\"name\":\"before\",\"type\":[\"null\",{\"type\":\"record\",\"name\":\"Value\",\"fields\":["
				 "{\"name\":\"id\",\"type\":\"int\"}],\"connect.name\":\"p.s.t.Value\"}],\"default\":null},"
				 "{\"name\":\"after\",\"type\":[\"null\",\"Value\"],\"default\":null},"
				 "{\"name\":\"snap\",\"type\":[{\"type\":\"string\",\"connect.version\":1,\"connect.parameters\":{\"allowed\":\"true,false\"},"
				 "\"connect.default\":\"false\",\"connect.name\":\"io.debezium.data.Enum\"},\"null\"],\"default\":\"false\"},"
				 "{\"name\":\"n\",\"type\":{\"type\":\"bytes\",\"scale\":2,\"precision\":12,\"connect.version\":1,"
				 "\"connect.parameters\":{\"scale\":\"2\",\"connect.decimal.precision\":\"12\"},"
				 "\"connect.name\":\"org.apache.kafka.connect.data.Decimal\",\"logicalType\":\"decimal\"}},"
				 "{\"name\":\"d\",\"type\":\"int\",\"default\":7}"
				 "],\"connect.version\":2,\"connect.name\":\"p.s.t.Envelope\"}");
	CHECK(cj != NULL);
	if (cj == NULL)
		return;
	CHECK_STR(connect_json_schema_text(cj, &len),
			  "{\"type\":\"struct\",\"fields\":["
			  "{\"type\":\"struct\",\"fields\":[{\"type\":\"int32\",\"optional\":false,\"field\":\"id\"}],"
			  "\"optional\":true,\"name\":\"p.s.t.Value\",\"field\":\"before\"},"
			  "{\"type\":\"struct\",\"fields\":[{\"type\":\"int32\",\"optional\":false,\"field\":\"id\"}],"
			  "\"optional\":true,\"name\":\"p.s.t.Value\",\"field\":\"after\"},"
			  "{\"type\":\"string\",\"optional\":true,\"name\":\"io.debezium.data.Enum\",\"version\":1,"
			  "\"parameters\":{\"allowed\":\"true,false\"},\"default\":\"false\",\"field\":\"snap\"},"
			  "{\"type\":\"bytes\",\"optional\":false,\"name\":\"org.apache.kafka.connect.data.Decimal\",\"version\":1,"
			  "\"parameters\":{\"scale\":\"2\",\"connect.decimal.precision\":\"12\"},\"field\":\"n\"},"
			  "{\"type\":\"int32\",\"optional\":false,"
			  "\"parameters\":{\"io.confluent.connect.avro.field.default\":\"true\"},\"default\":7,\"field\":\"d\"}"
			  "],\"optional\":false,\"name\":\"p.s.t.Envelope\",\"version\":2}");
	CHECK_INT(len, strlen(connect_json_schema_text(cj, NULL)));
	/* before null, after {id:1}, snap null -> its default, n 0x0102, d 0 */
	got = render(cj, datum, sizeof(datum), false);
	CHECK_STR(got, "{\"before\":null,\"after\":{\"id\":1},\"snap\":\"false\",\"n\":\"AQI=\",\"d\":0}");
	free(got);
	got = render(cj, datum, sizeof(datum), true);
	CHECK(got != NULL && strncmp(got, "{\"schema\":{\"type\":\"struct\"", 26) == 0);
	CHECK(got != NULL && strstr(got, "},\"payload\":{\"before\":null,") != NULL);
	CHECK(got != NULL && got[strlen(got) - 1] == '}' && got[strlen(got) - 2] == '}');
	free(got);
	connect_json_free(cj);

	/* logical types of Connect itself */
	cj = one_field("{\"type\":\"int\",\"logicalType\":\"date\"}");
	CHECK(cj && strstr(connect_json_schema_text(cj, NULL),
					   "{\"type\":\"int32\",\"optional\":false,\"name\":\"org.apache.kafka.connect.data.Date\",\"version\":1,\"field\":\"v\"}"));
	connect_json_free(cj);
	cj = one_field("{\"type\":\"enum\",\"name\":\"Mood\",\"symbols\":[\"sad\",\"ok\"]}");
	CHECK(cj && strstr(connect_json_schema_text(cj, NULL),
					   "\"name\":\"t.Mood\",\"parameters\":{\"io.confluent.connect.avro.Enum\":\"t.Mood\","
					   "\"io.confluent.connect.avro.Enum.sad\":\"sad\",\"io.confluent.connect.avro.Enum.ok\":\"ok\"}"));
	connect_json_free(cj);
}

static void
check_refused(const char *schema, const char *want)
{
	ConnectJson *cj = connect_json_new(schema, strlen(schema), err, sizeof(err));

	CHECK(cj == NULL);
	CHECK_CONTAINS(err, want);
	connect_json_free(cj);
}

static void
test_bad_schemas(void)
{
	check_refused("{\"type\":", "not JSON");
	check_refused("\"null\"", "Standalone null");
	check_refused("[\"int\",\"string\"]", "only unions of \"null\" and one type");
	check_refused("[\"null\",\"int\",\"string\"]", "only unions");
	check_refused("{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"r\",\"type\":[\"null\",\"R\"]}]}",
				  "recursive Avro type \"R\"");
	check_refused("{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"r\",\"type\":\"Nope\"}]}",
				  "unknown Avro type \"Nope\"");
	check_refused("{\"type\":\"fixed\",\"name\":\"F\",\"size\":4}", "fixed");
	check_refused("{\"type\":\"bytes\",\"logicalType\":\"decimal\"}", "scale must be specified");
	check_refused("{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"int\"},{\"name\":\"a\",\"type\":\"int\"}]}",
				  "two fields named \"a\"");
	check_refused("{\"type\":\"int\",\"connect.type\":\"int64\"}", "Connect type annotation");
	check_refused("{\"type\":\"int\",\"connect.parameters\":{\"a\":1}}", "strings");
}

static void
check_bad_datum(const char *type, const uint8_t *datum, size_t len, const char *want)
{
	ConnectJson *cj = one_field(type);
	JsonOut		o = {0};
	int			rc;

	CHECK(cj != NULL);
	if (cj == NULL)
		return;
	/* something already in the buffer stays, and nothing is added */
	o.data = strdup("keep");
	o.len = o.cap = 4;
	o.cap = 5;
	rc = connect_json_render(cj, datum, len, true, &o, err, sizeof(err));
	CHECK_INT(rc, -1);
	CHECK_CONTAINS(err, want);
	CHECK_INT(o.len, 4);
	CHECK_STR(o.data, "keep");
	free(o.data);
	connect_json_free(cj);
}

static void
test_bad_datums(void)
{
	const uint8_t eleven[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01};
	const uint8_t big[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02};
	const uint8_t six[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x01};
	const uint8_t two[] = {0x02, 0x02};
	const uint8_t idx[] = {0x04, 0x02};
	const uint8_t neg[] = {0x01};
	const uint8_t str[] = {0x0a, 'a', 'b'};
	const uint8_t enm[] = {0x04};
	const uint8_t boo[] = {0x02};
	const uint8_t arr[] = {0x7e, 0x02};		/* 63 items announced, 1 byte left */

	check_bad_datum("\"long\"", eleven, sizeof(eleven), "bad varint");
	check_bad_datum("\"long\"", big, sizeof(big), "bad varint");
	check_bad_datum("\"int\"", six, sizeof(six), "32-bit");
	check_bad_datum("\"long\"", eleven, 3, "truncated");
	check_bad_datum("\"int\"", two, sizeof(two), "1 bytes after its end");
	check_bad_datum("[\"null\",\"int\"]", idx, sizeof(idx), "union index 2 of 2");
	check_bad_datum("\"string\"", neg, sizeof(neg), "negative length");
	check_bad_datum("\"string\"", str, sizeof(str), "5 bytes announced, 2 left");
	check_bad_datum("{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"x\",\"y\"]}", enm, 1, "enum index 2 of 2");
	check_bad_datum("\"boolean\"", boo, 1, "boolean byte 0x02");
	check_bad_datum("\"double\"", two, 2, "truncated");
	check_bad_datum("\"float\"", two, 2, "truncated");
	check_bad_datum("{\"type\":\"array\",\"items\":\"int\"}", arr, sizeof(arr), "a block of 63 items");
	check_bad_datum("\"int\"", NULL, 0, "(field \"v\")");
}

int
main(void)
{
	test_java_numbers();
	test_strings();
	test_bytes_and_decimals();
	test_numbers_in_datums();
	test_containers();
	test_schema_text();
	test_bad_schemas();
	test_bad_datums();
	return unit_finish("test_connect_json");
}
