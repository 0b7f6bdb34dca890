/*-------------------------------------------------------------------------
 *
 * test_config.c
 *		Unit tests for relay/config.c and relay/config_print.c: defaults,
 *		precedence (file < environment < command line), the config file's
 *		syntax and errors, validation, secret masking, --help.
 *
 * Config files and secret files are written under a private temporary
 * directory, removed at the end.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * regress/relay/test_config.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "lsn.h"
#include "unit.h"

static char tmpdir[256];
static char err[1024];

static const char *const env_vars[] = {
	"WAL2AVRO_DBNAME", "WAL2AVRO_BROKERS", "WAL2AVRO_SLOT", "WAL2AVRO_SASL_PASSWORD",
	"WAL2AVRO_DBNAME_FILE", "WAL2AVRO_BROKERS_FILE", "WAL2AVRO_SLOT_FILE",
	"WAL2AVRO_SASL_PASSWORD_FILE", "PGPASSWORD", "PGPASSWORD_FILE",
};

static void
clear_env(void)
{
	for (size_t i = 0; i < sizeof(env_vars) / sizeof(env_vars[0]); i++)
		unsetenv(env_vars[i]);
}

/* Write "text" to tmpdir/name; returns the path (static, overwritten). */
static const char *
write_file(const char *name, const char *text, size_t len)
{
	static char path[512];
	FILE	   *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "wb");
	if (f == NULL)
	{
		perror(path);
		exit(2);
	}
	fwrite(text, 1, len, f);
	fclose(f);
	return path;
}

#define WRITE_FILE(name, text) write_file(name, text, strlen(text))

/* config_parse over a NULL-terminated argument list after the program name. */
static int
parse(RelayConfig *cfg, ...)
{
	char	   *argv[64];
	int			argc = 0;
	va_list		ap;
	char	   *a;

	argv[argc++] = "wal2avro-relay";
	va_start(ap, cfg);
	while ((a = va_arg(ap, char *)) != NULL)
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	err[0] = '\0';
	return config_parse(cfg, argc, argv, err, sizeof(err));
}

/* Expect config_parse to fail with a message containing "want". */
static void
expect_error(int line, const char *want, ...)
{
	char	   *argv[64];
	int			argc = 0;
	va_list		ap;
	char	   *a;
	RelayConfig cfg;
	int			r;

	argv[argc++] = "wal2avro-relay";
	va_start(ap, want);
	while ((a = va_arg(ap, char *)) != NULL)
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	err[0] = '\0';
	r = config_parse(&cfg, argc, argv, err, sizeof(err));
	unit_record(r == -1, __FILE__, line, "config_parse fails");
	unit_record(strstr(err, want) != NULL, __FILE__, line, "error message");
	if (r != -1 || strstr(err, want) == NULL)
		fprintf(stderr, "    got %d \"%s\"\n    want \"%s\"\n", r, err, want);
	config_free(&cfg);
}

#define EXPECT_ERROR(want, ...) expect_error(__LINE__, want, __VA_ARGS__, (char *) NULL)

/* config_print into a string (malloc'd). */
static char *
print_config(const RelayConfig *cfg)
{
	char	   *buf = NULL;
	size_t		len = 0;
	FILE	   *f = open_memstream(&buf, &len);

	config_print(cfg, f);
	fclose(f);
	return buf;
}

static void
test_defaults(void)
{
	RelayConfig cfg;

	CHECK_INT(parse(&cfg, "-b", "k1:9092", NULL), 0);
	CHECK_INT(cfg.action, RELAY_ACTION_STREAM);
	CHECK_STR(cfg.dbname, NULL);
	CHECK_STR(cfg.slot, "wal2avro");
	CHECK(cfg.create_slot);
	CHECK_INT(cfg.plugin_options.count, 0);
	CHECK_STR(cfg.brokers, "k1:9092");
	CHECK_STR(cfg.topic_prefix, "wal2avro");
	CHECK_STR(cfg.topic_template, "{prefix}.{schema}.{table}");
	CHECK_STR(cfg.schema_topic, "_wal2avro_schemas");
	CHECK(cfg.tombstones);
	CHECK_STR(cfg.dead_letter_topic, NULL);
	CHECK_INT(cfg.on_error, RELAY_ON_ERROR_STOP);
	CHECK_INT(cfg.snapshot_mode, RELAY_SNAPSHOT_INITIAL);
	CHECK_STR(cfg.state_topic, "_wal2avro_state");
	CHECK_INT(cfg.status_interval, 10);
	CHECK_U64(cfg.max_in_flight_bytes, 16 * 1024 * 1024);
	CHECK_U64(cfg.snapshot_chunk_size, 8 * 1024 * 1024);
	CHECK_INT(cfg.log_level, RELAY_LOG_INFO);
	CHECK_U64(cfg.endpos, INVALID_LSN);
	CHECK(!cfg.no_loop);
	CHECK_INT(cfg.reconnect_max_backoff, 30);
	CHECK_INT(cfg.kafka.count, 0);
	CHECK_STR(cfg.config_file, NULL);
	CHECK_STR(cfg.pg_password, NULL);
	config_free(&cfg);

	/* Streaming needs brokers. */
	EXPECT_ERROR("no Kafka brokers given: set \"brokers\" (-b, WAL2AVRO_BROKERS)", "-S", "s");
}

/* --key-format, --value-format, --json-schemas and --compat, resolved. */
static void
test_formats(void)
{
	RelayConfig cfg;

	CHECK_INT(parse(&cfg, "-b", "x:1", NULL), 0);
	CHECK_INT(cfg.key_format, RELAY_FORMAT_AVRO);
	CHECK_INT(cfg.value_format, RELAY_FORMAT_AVRO);
	CHECK(cfg.json_schemas);
	CHECK_INT(cfg.compat, RELAY_COMPAT_WAL2AVRO);
	CHECK_INT(cfg.plugin_options.count, 0);
	config_free(&cfg);

	/* json is Debezium's record: the plugin is told so */
	CHECK_INT(parse(&cfg, "-b", "x:1", "--value-format=json", "--no-json-schemas", NULL), 0);
	CHECK_INT(cfg.value_format, RELAY_FORMAT_JSON);
	CHECK_INT(cfg.key_format, RELAY_FORMAT_AVRO);
	CHECK(!cfg.json_schemas);
	CHECK_INT(cfg.compat, RELAY_COMPAT_DEBEZIUM);
	CHECK_STR(config_setting_get(&cfg.plugin_options, "compat"), "debezium");
	CHECK_INT(cfg.plugin_options.count, 1);
	config_free(&cfg);

	CHECK_INT(parse(&cfg, "-b", "x:1", "--key-format=json", "-o", "compat=debezium", NULL), 0);
	CHECK_INT(cfg.compat, RELAY_COMPAT_DEBEZIUM);
	CHECK_INT(cfg.plugin_options.count, 1);
	config_free(&cfg);

	/* avro carries either record */
	CHECK_INT(parse(&cfg, "-b", "x:1", "--compat=debezium", NULL), 0);
	CHECK_INT(cfg.compat, RELAY_COMPAT_DEBEZIUM);
	CHECK_STR(config_setting_get(&cfg.plugin_options, "compat"), "debezium");
	config_free(&cfg);
	CHECK_INT(parse(&cfg, "-b", "x:1", "-o", "compat=debezium", NULL), 0);
	CHECK_INT(cfg.compat, RELAY_COMPAT_DEBEZIUM);
	CHECK_INT(cfg.plugin_options.count, 1);
	config_free(&cfg);
	CHECK_INT(parse(&cfg, "-b", "x:1", "--compat=wal2avro", "-o", "compat=wal2avro", NULL), 0);
	CHECK_INT(cfg.compat, RELAY_COMPAT_WAL2AVRO);
	config_free(&cfg);

	EXPECT_ERROR("option \"value-format\" is \"json\", which writes Debezium's record, but \"compat\" is \"wal2avro\"",
				 "-b", "x:1", "--value-format=json", "--compat=wal2avro");
	EXPECT_ERROR("option \"key-format\" is \"json\", which writes Debezium's record, but \"compat\" is \"wal2avro\"",
				 "-b", "x:1", "--key-format=json", "-o", "compat=wal2avro");
	EXPECT_ERROR("conflicting options \"compat\" and plugin option \"compat=wal2avro\"",
				 "-b", "x:1", "--compat=debezium", "-o", "compat=wal2avro");
	EXPECT_ERROR("invalid value for plugin option \"compat\": \"dbz\" (expected wal2avro or debezium)",
				 "-b", "x:1", "-o", "compat=dbz");
	CHECK_INT(parse(&cfg, "-b", "x:1", "--value-format=json", "--decimal-handling-mode=string",
					"--time-precision-mode=connect", NULL), 0);
	CHECK_STR(config_setting_get(&cfg.plugin_options, "decimal-handling-mode"), "string");
	CHECK_STR(config_setting_get(&cfg.plugin_options, "time-precision-mode"), "connect");
	config_free(&cfg);
	EXPECT_ERROR("option \"decimal-handling-mode\" is Debezium's, but \"compat\" is \"wal2avro\"",
				 "-b", "x:1", "--decimal-handling-mode=string");
	EXPECT_ERROR("option \"binary-handling-mode\" is given twice, also as a plugin option",
				 "-b", "x:1", "--compat=debezium", "--binary-handling-mode=hex",
				 "-o", "binary-handling-mode=hex");
	/* skipped-operations: Debezium's, passed to the plugin (which checks its value) */
	CHECK_INT(parse(&cfg, "-b", "x:1", "--compat=debezium", "--skipped-operations=none", NULL), 0);
	CHECK_STR(config_setting_get(&cfg.plugin_options, "skipped-operations"), "none");
	config_free(&cfg);
	EXPECT_ERROR("option \"skipped-operations\" is Debezium's, but \"compat\" is \"wal2avro\"",
				 "-b", "x:1", "--skipped-operations=t");
	EXPECT_ERROR("invalid value for option \"value-format\": \"protobuf\"",
				 "-b", "x:1", "--value-format=protobuf");

	/* --provide-transaction-metadata: Debezium's, the plugin told */
	CHECK_INT(parse(&cfg, "-b", "x:1", "--key-format=json", "--value-format=json",
					"--provide-transaction-metadata", NULL), 0);
	CHECK(cfg.provide_transaction_metadata);
	CHECK_STR(config_setting_get(&cfg.plugin_options, "provide-transaction-metadata"), "true");
	config_free(&cfg);
	CHECK_INT(parse(&cfg, "-b", "x:1", "--compat=debezium", "--schema-registry=http://r:1",
					"--provide-transaction-metadata=true", NULL), 0);
	CHECK_STR(config_setting_get(&cfg.plugin_options, "provide-transaction-metadata"), "true");
	config_free(&cfg);
	CHECK_INT(parse(&cfg, "-b", "x:1", "--key-format=json", "--value-format=json", NULL), 0);
	CHECK(!cfg.provide_transaction_metadata);
	CHECK(config_setting_get(&cfg.plugin_options, "provide-transaction-metadata") == NULL);
	config_free(&cfg);
	EXPECT_ERROR("option \"provide-transaction-metadata\" is Debezium's, but \"compat\" is \"wal2avro\"",
				 "-b", "x:1", "--provide-transaction-metadata", "--schema-registry=http://r:1");
	EXPECT_ERROR("option \"provide-transaction-metadata\" with the avro key format needs \"schema-registry\"",
				 "-b", "x:1", "--compat=debezium", "--provide-transaction-metadata");
	EXPECT_ERROR("option \"provide-transaction-metadata\" with the avro value format needs \"schema-registry\"",
				 "-b", "x:1", "--key-format=json", "--provide-transaction-metadata");
	EXPECT_ERROR("option \"provide-transaction-metadata\" is given twice, also as a plugin option",
				 "-b", "x:1", "--value-format=json", "--key-format=json",
				 "--provide-transaction-metadata", "-o", "provide-transaction-metadata");
}

/* ExtractNewRecordState's options: passed on, and the flat deletes resolved */
static void
test_flat(void)
{
	RelayConfig cfg;

	CHECK_INT(parse(&cfg, "-b", "x:1", "--value-format=json", "--envelope=flat",
					"--add-fields=op,table,source.ts_ms", "--delete-tombstone-handling-mode=rewrite", NULL), 0);
	CHECK_STR(config_setting_get(&cfg.plugin_options, "envelope"), "flat");
	CHECK_STR(config_setting_get(&cfg.plugin_options, "add-fields"), "op,table,source.ts_ms");
	CHECK_STR(config_setting_get(&cfg.plugin_options, "delete-tombstone-handling-mode"), "rewrite");
	CHECK_INT(cfg.flat_deletes, RELAY_FLAT_REWRITE);
	CHECK_INT(cfg.flat_added, 3);
	config_free(&cfg);
	/* the default mode; the plugin option counts as well as the relay's */
	CHECK_INT(parse(&cfg, "-b", "x:1", "--compat=debezium", "-o", "envelope=flat", NULL), 0);
	CHECK_INT(cfg.flat_deletes, RELAY_FLAT_TOMBSTONE);
	CHECK_INT(cfg.flat_added, 0);
	config_free(&cfg);
	CHECK_INT(parse(&cfg, "-b", "x:1", "--compat=debezium", "--envelope=flat",
					"-o", "delete-tombstone-handling-mode=delete-to-tombstone", NULL), 0);
	CHECK_INT(cfg.flat_deletes, RELAY_FLAT_DELETE_TO_TOMBSTONE);
	config_free(&cfg);
	/* wal2avro's own flat value and Debezium's envelope are not it */
	CHECK_INT(parse(&cfg, "-b", "x:1", "--envelope=flat", NULL), 0);
	CHECK_INT(cfg.flat_deletes, RELAY_FLAT_OFF);
	config_free(&cfg);
	CHECK_INT(parse(&cfg, "-b", "x:1", "--value-format=json", NULL), 0);
	CHECK_INT(cfg.flat_deletes, RELAY_FLAT_OFF);
	config_free(&cfg);
	EXPECT_ERROR("invalid value for option \"delete-tombstone-handling-mode\": \"none\"",
				 "-b", "x:1", "--value-format=json", "--envelope=flat",
				 "--delete-tombstone-handling-mode=none");
	EXPECT_ERROR("invalid value for option \"envelope\": \"unwrap\"",
				 "-b", "x:1", "--value-format=json", "--envelope=unwrap");
	EXPECT_ERROR("option \"add-fields\" is Debezium's ExtractNewRecordState's: it needs \"compat\" = \"debezium\" and \"envelope\" = \"flat\"",
				 "-b", "x:1", "--envelope=flat", "--add-fields=op");
	EXPECT_ERROR("option \"delete-tombstone-handling-mode\" is Debezium's ExtractNewRecordState's",
				 "-b", "x:1", "--value-format=json", "--delete-tombstone-handling-mode=drop");
	EXPECT_ERROR("option \"add-fields-prefix\" is Debezium's ExtractNewRecordState's",
				 "-b", "x:1", "--value-format=json", "--add-fields-prefix=x_");
	EXPECT_ERROR("option \"envelope\" is given twice, also as a plugin option",
				 "-b", "x:1", "--value-format=json", "--envelope=flat", "-o", "envelope=flat");
}

static void
test_every_option(void)
{
	RelayConfig cfg;

	CHECK_INT(parse(&cfg, "--dbname=host=db1 dbname=app", "--slot=s1", "--no-create-slot",
					"--plugin-option=envelope=flat", "--endpos=16/B374D848", "--no-loop",
					"--status-interval=5", "--reconnect-max-backoff=60",
					"--brokers=b:1", "--topic-prefix=cdc", "--topic-template={prefix}.{table}.{op}",
					"--schema-topic=schemas", "--no-tombstones", "--dead-letter-topic=dlq",
					"--on-error=dead-letter", "--max-in-flight-bytes=1MB", "--log-level=warning",
					"--kafka=acks=all", "--snapshot-mode=initial_only", "--state-topic=st",
					"--snapshot-chunk-size=256kB", NULL), 0);
	CHECK_INT(cfg.snapshot_mode, RELAY_SNAPSHOT_INITIAL_ONLY);
	CHECK_U64(cfg.snapshot_chunk_size, 256 * 1024);
	CHECK_STR(cfg.state_topic, "st");
	CHECK_STR(cfg.dbname, "host=db1 dbname=app");
	CHECK_STR(cfg.slot, "s1");
	CHECK(!cfg.create_slot);
	CHECK_INT(cfg.plugin_options.count, 1);
	CHECK_STR(cfg.plugin_options.items[0].name, "envelope");
	CHECK_STR(cfg.plugin_options.items[0].value, "flat");
	CHECK_U64(cfg.endpos, UINT64_C(0x16B374D848));
	CHECK(cfg.no_loop);
	CHECK_INT(cfg.status_interval, 5);
	CHECK_INT(cfg.reconnect_max_backoff, 60);
	CHECK_STR(cfg.brokers, "b:1");
	CHECK_STR(cfg.topic_prefix, "cdc");
	CHECK_STR(cfg.topic_template, "{prefix}.{table}.{op}");
	CHECK_STR(cfg.schema_topic, "schemas");
	CHECK(!cfg.tombstones);
	CHECK_STR(cfg.dead_letter_topic, "dlq");
	CHECK_INT(cfg.on_error, RELAY_ON_ERROR_DEAD_LETTER);
	CHECK_U64(cfg.max_in_flight_bytes, 1024 * 1024);
	CHECK_INT(cfg.log_level, RELAY_LOG_WARNING);
	CHECK_INT(cfg.kafka.count, 1);
	CHECK_STR(cfg.kafka.items[0].name, "acks");
	CHECK_STR(cfg.kafka.items[0].value, "all");
	config_free(&cfg);

	/* Short forms, and booleans with values. */
	CHECK_INT(parse(&cfg, "-d", "postgresql:///app", "-S", "s2", "-o", "skip-empty-xacts",
					"-E", "0/1", "-n", "-s", "7", "-b", "b:2", "-X", "linger.ms=5",
					"--create-slot=off", "--tombstones=yes", "--create-slot", NULL), 0);
	CHECK_STR(cfg.dbname, "postgresql:///app");
	CHECK_STR(cfg.slot, "s2");
	CHECK(cfg.create_slot);		/* the later --create-slot wins */
	CHECK(cfg.tombstones);
	CHECK_STR(cfg.plugin_options.items[0].name, "skip-empty-xacts");
	CHECK_STR(cfg.plugin_options.items[0].value, NULL);
	CHECK_U64(cfg.endpos, 1);
	CHECK(cfg.no_loop);
	CHECK_INT(cfg.status_interval, 7);
	CHECK_STR(cfg.kafka.items[0].name, "linger.ms");
	config_free(&cfg);

	CHECK_INT(parse(&cfg, "-b", "x:1", "--no-loop=false", "--tombstones=0", NULL), 0);
	CHECK(!cfg.no_loop);
	CHECK(!cfg.tombstones);
	config_free(&cfg);
}

static void
test_precedence(void)
{
	RelayConfig cfg;
	const char *path;
	char		cpath[512];

	path = WRITE_FILE("prec.conf",
					  "slot = file_slot\n"
					  "brokers = file:1\n"
					  "dbname = dbname=filedb\n"
					  "status-interval = 20\n"
					  "kafka.acks = 1\n"
					  "kafka.sasl.password = from_file\n"
					  "topic-prefix = fileprefix\n");
	snprintf(cpath, sizeof(cpath), "%s", path);

	/* The file alone. */
	CHECK_INT(parse(&cfg, "-c", cpath, NULL), 0);
	CHECK_STR(cfg.config_file, cpath);
	CHECK_STR(cfg.slot, "file_slot");
	CHECK_STR(cfg.brokers, "file:1");
	CHECK_STR(cfg.dbname, "dbname=filedb");
	CHECK_INT(cfg.status_interval, 20);
	CHECK_STR(cfg.topic_prefix, "fileprefix");
	config_free(&cfg);

	/* The environment beats the file. */
	setenv("WAL2AVRO_SLOT", "env_slot", 1);
	setenv("WAL2AVRO_BROKERS", "env:1", 1);
	setenv("WAL2AVRO_DBNAME", "dbname=envdb", 1);
	setenv("WAL2AVRO_SASL_PASSWORD", "from_env", 1);
	CHECK_INT(parse(&cfg, "-c", cpath, NULL), 0);
	CHECK_STR(cfg.slot, "env_slot");
	CHECK_STR(cfg.brokers, "env:1");
	CHECK_STR(cfg.dbname, "dbname=envdb");
	CHECK_INT(cfg.status_interval, 20);
	CHECK_STR(cfg.kafka.items[1].name, "sasl.password");
	CHECK_STR(cfg.kafka.items[1].value, "from_env");
	config_free(&cfg);

	/* The command line beats both, wherever -c stands. */
	CHECK_INT(parse(&cfg, "-S", "argv_slot", "-s", "30", "-c", cpath,
					"-X", "sasl.password=from_argv", NULL), 0);
	CHECK_STR(cfg.slot, "argv_slot");
	CHECK_STR(cfg.brokers, "env:1");
	CHECK_STR(cfg.dbname, "dbname=envdb");
	CHECK_INT(cfg.status_interval, 30);
	CHECK_STR(cfg.kafka.items[1].value, "from_argv");
	CHECK_STR(cfg.kafka.items[0].value, "1");
	config_free(&cfg);

	/* The environment alone, over the defaults. */
	CHECK_INT(parse(&cfg, NULL), 0);
	CHECK_STR(cfg.slot, "env_slot");
	CHECK_STR(cfg.topic_prefix, "wal2avro");
	config_free(&cfg);

	/* Empty variables count as unset. */
	setenv("WAL2AVRO_SLOT", "", 1);
	CHECK_INT(parse(&cfg, NULL), 0);
	CHECK_STR(cfg.slot, "wal2avro");
	config_free(&cfg);

	/* A bad value in the environment names the variable. */
	setenv("WAL2AVRO_SLOT", "Bad-Slot", 1);
	EXPECT_ERROR("environment variable WAL2AVRO_SLOT: invalid value for option \"slot\": \"Bad-Slot\"",
				 "-b", "x:1");
	clear_env();

	/* The last -c wins. */
	path = WRITE_FILE("prec2.conf", "slot = second\n");
	CHECK_INT(parse(&cfg, "-c", cpath, "-c", path, "-b", "x:1", NULL), 0);
	CHECK_STR(cfg.slot, "second");
	config_free(&cfg);
}

static void
test_file_syntax(void)
{
	RelayConfig cfg;
	const char *path;

	path = WRITE_FILE("syntax.conf",
					  "# a comment\n"
					  "\n"
					  "   \t\n"
					  "  # an indented comment\n"
					  "brokers=b:1\n"
					  "dbname   =   host=h password=pa#ss   \n"
					  "slot = \"quoted_slot\"   # a comment after a quoted value\n"
					  "topic-prefix=\"p\"\n"
					  "kafka.client.id = \"say \\\"hi\\\" \\\\ bye\"\n"
					  "plugin-option = key-columns=public.t:a,b\r\n"
					  "tombstones = OFF\n"
					  "create-slot = No\n"
					  "no-loop = on\n"
					  "log-level = DEBUG\n"
					  "max-in-flight-bytes = 2 MiB\n"
					  "kafka.empty = \"\"\n"
					  "endpos = 0/FF");
	/* The last line has no newline; "2 MiB" has a blank: refused below. */
	EXPECT_ERROR("syntax.conf:15: invalid value for option \"max-in-flight-bytes\": \"2 MiB\"",
				 "-c", path);

	path = WRITE_FILE("syntax.conf",
					  "# a comment\n"
					  "\n"
					  "   \t\n"
					  "  # an indented comment\n"
					  "brokers=b:1\n"
					  "dbname   =   host=h password=pa#ss   \n"
					  "slot = \"quoted_slot\"   # a comment after a quoted value\n"
					  "topic-prefix=\"p\"\n"
					  "kafka.client.id = \"say \\\"hi\\\" \\\\ bye\"\n"
					  "plugin-option = key-columns=public.t:a,b\r\n"
					  "tombstones = OFF\n"
					  "create-slot = No\n"
					  "no-loop = on\n"
					  "log-level = DEBUG\n"
					  "max-in-flight-bytes = 2MiB\n"
					  "kafka.empty = \"\"\n"
					  "endpos = 0/FF");
	CHECK_INT(parse(&cfg, "-c", path, NULL), 0);
	CHECK_STR(err, "");
	CHECK_STR(cfg.brokers, "b:1");
	CHECK_STR(cfg.dbname, "host=h password=pa#ss");
	CHECK_STR(cfg.slot, "quoted_slot");
	CHECK_STR(cfg.topic_prefix, "p");
	CHECK_STR(cfg.kafka.items[0].name, "client.id");
	CHECK_STR(cfg.kafka.items[0].value, "say \"hi\" \\ bye");
	CHECK_STR(cfg.kafka.items[1].name, "empty");
	CHECK_STR(cfg.kafka.items[1].value, "");
	CHECK_STR(cfg.plugin_options.items[0].name, "key-columns");
	CHECK_STR(cfg.plugin_options.items[0].value, "public.t:a,b");
	CHECK(!cfg.tombstones);
	CHECK(!cfg.create_slot);
	CHECK(cfg.no_loop);
	CHECK_INT(cfg.log_level, RELAY_LOG_DEBUG);
	CHECK_U64(cfg.max_in_flight_bytes, 2 * 1024 * 1024);
	CHECK_U64(cfg.endpos, 0xFF);
	config_free(&cfg);

	/* An empty file is fine. */
	path = WRITE_FILE("empty.conf", "");
	CHECK_INT(parse(&cfg, "-c", path, "-b", "x:1", NULL), 0);
	config_free(&cfg);
}

static void
test_file_errors(void)
{
	const char *path;
	char		want[600];

	EXPECT_ERROR("could not open configuration file \"/nonexistent/w2a.conf\": No such file or directory",
				 "-c", "/nonexistent/w2a.conf");

	path = WRITE_FILE("e1.conf", "brokers = b:1\n\n# c\nslot wal2avro\n");
	snprintf(want, sizeof(want), "%s:4: syntax error: expected \"=\" after \"slot\"", path);
	EXPECT_ERROR(want, "-c", path);

	path = WRITE_FILE("e2.conf", "brokers = b:1\nfoo = bar\n");
	snprintf(want, sizeof(want), "%s:2: unrecognized key \"foo\"", path);
	EXPECT_ERROR(want, "-c", path);

	path = WRITE_FILE("e3.conf", "status-interval = ten\n");
	snprintf(want, sizeof(want), "%s:1: invalid value for option \"status-interval\": \"ten\" (expected an integer)", path);
	EXPECT_ERROR(want, "-c", path);

	path = WRITE_FILE("e4.conf", "\n\nslot = \"open\n");
	snprintf(want, sizeof(want), "%s:3: unterminated quoted value for \"slot\"", path);
	EXPECT_ERROR(want, "-c", path);

	path = WRITE_FILE("e5.conf", "slot = \"a\\nb\"\n");
	snprintf(want, sizeof(want), "%s:1: invalid escape \"\\n\" in the value of \"slot\"", path);
	EXPECT_ERROR(want, "-c", path);

	path = WRITE_FILE("e6.conf", "slot = \"a\" b\n");
	snprintf(want, sizeof(want), "%s:1: unexpected text after the quoted value of \"slot\"", path);
	EXPECT_ERROR(want, "-c", path);

	path = WRITE_FILE("e7.conf", "config = other.conf\n");
	snprintf(want, sizeof(want), "%s:1: key \"config\" is only allowed on the command line", path);
	EXPECT_ERROR(want, "-c", path);

	path = write_file("e8.conf", "slot = a\nbrokers = b\0c\n", 22);
	snprintf(want, sizeof(want), "%s:2: line contains a NUL byte", path);
	EXPECT_ERROR(want, "-c", path);

	path = WRITE_FILE("e9.conf", "= value\n");
	snprintf(want, sizeof(want), "%s:1: unrecognized key \"\"", path);
	EXPECT_ERROR(want, "-c", path);

	path = WRITE_FILE("e10.conf", "dead-letter-topic =\n");
	snprintf(want, sizeof(want), "%s:1: option \"dead-letter-topic\" needs a value", path);
	EXPECT_ERROR(want, "-c", path);

	path = WRITE_FILE("e11.conf", "kafka. = x\n");
	snprintf(want, sizeof(want), "%s:1: invalid Kafka property name \"\"", path);
	EXPECT_ERROR(want, "-c", path);

	path = WRITE_FILE("e12.conf", "verbose = 2\n");
	snprintf(want, sizeof(want), "%s:1: unrecognized key \"verbose\"", path);
	EXPECT_ERROR(want, "-c", path);
}

static void
test_values(void)
{
	RelayConfig cfg;

	/* Range errors name the option. */
	EXPECT_ERROR("value for option \"status-interval\" out of range: 0 (must be between 1 and 3600)",
				 "-b", "x:1", "-s", "0");
	EXPECT_ERROR("value for option \"status-interval\" out of range: 3601 (must be between 1 and 3600)",
				 "-b", "x:1", "--status-interval=3601");
	EXPECT_ERROR("value for option \"status-interval\" out of range: 99999999999999999999999",
				 "-b", "x:1", "-s", "99999999999999999999999");
	EXPECT_ERROR("invalid value for option \"status-interval\": \"-5\" (expected an integer)",
				 "-b", "x:1", "-s", "-5");
	EXPECT_ERROR("invalid value for option \"status-interval\": \"10s\"",
				 "-b", "x:1", "-s", "10s");
	EXPECT_ERROR("value for option \"reconnect-max-backoff\" out of range: 0",
				 "-b", "x:1", "--reconnect-max-backoff=0");
	EXPECT_ERROR("value for option \"snapshot-chunk-size\" out of range: 4kB (must be between 8192 and 1073741824)",
				 "-b", "x:1", "--snapshot-chunk-size=4kB");
	EXPECT_ERROR("value for option \"max-in-flight-bytes\" out of range: 1000 (must be between 1024 and 1099511627776)",
				 "-b", "x:1", "--max-in-flight-bytes=1000");
	EXPECT_ERROR("value for option \"max-in-flight-bytes\" out of range: 9999999999G",
				 "-b", "x:1", "--max-in-flight-bytes=9999999999G");
	EXPECT_ERROR("invalid value for option \"max-in-flight-bytes\": \"5TB\" (expected a number of bytes, optionally with a unit such as MB)",
				 "-b", "x:1", "--max-in-flight-bytes=5TB");
	EXPECT_ERROR("option \"max-in-flight-bytes\" needs a value", "-b", "x:1",
				 "--max-in-flight-bytes=");

	CHECK_INT(parse(&cfg, "-b", "x:1", "--max-in-flight-bytes=1GB", NULL), 0);
	CHECK_U64(cfg.max_in_flight_bytes, UINT64_C(1) << 30);
	config_free(&cfg);
	CHECK_INT(parse(&cfg, "-b", "x:1", "--max-in-flight-bytes=1024", NULL), 0);
	CHECK_U64(cfg.max_in_flight_bytes, 1024);
	config_free(&cfg);
	CHECK_INT(parse(&cfg, "-b", "x:1", "--max-in-flight-bytes=512kib", NULL), 0);
	CHECK_U64(cfg.max_in_flight_bytes, 512 * 1024);
	config_free(&cfg);

	/* Booleans, levels, LSNs, policies. */
	EXPECT_ERROR("invalid value for option \"tombstones\": \"maybe\" (expected true, false, on, off, yes, no, 1 or 0)",
				 "-b", "x:1", "--tombstones=maybe");
	EXPECT_ERROR("invalid value for option \"log-level\": \"loud\" (expected error, warning, info, debug or trace)",
				 "-b", "x:1", "--log-level=loud");
	EXPECT_ERROR("invalid value for option \"endpos\": \"16-B3\" (expected an LSN such as 16/B374D848, not 0/0)",
				 "-b", "x:1", "-E", "16-B3");
	EXPECT_ERROR("invalid value for option \"endpos\": \"0/0\"", "-b", "x:1", "-E", "0/0");
	EXPECT_ERROR("invalid value for option \"on-error\": \"log\" (expected stop or dead-letter)",
				 "-b", "x:1", "--on-error=log");
	EXPECT_ERROR("invalid value for option \"snapshot-mode\": \"always\" (expected initial, never or initial_only)",
				 "-b", "x:1", "--snapshot-mode=always");

	/* Names. */
	EXPECT_ERROR("invalid value for option \"slot\": \"My-Slot\" (replication slot names may only contain lower case letters, numbers and the underscore character)",
				 "-b", "x:1", "-S", "My-Slot");
	EXPECT_ERROR("invalid value for option \"slot\": \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\" (longer than 63 characters)",
				 "-b", "x:1", "-S", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	EXPECT_ERROR("option \"slot\" needs a value", "-b", "x:1", "-S", "");
	EXPECT_ERROR("invalid value for option \"schema-topic\": \"my topic\" (Kafka topic names may only contain letters, digits, \".\", \"_\" and \"-\")",
				 "-b", "x:1", "--schema-topic=my topic");
	EXPECT_ERROR("invalid value for option \"dead-letter-topic\": \"..\" (not a valid Kafka topic name)",
				 "-b", "x:1", "--dead-letter-topic=..");
	EXPECT_ERROR("invalid value for option \"topic-template\": \"{prefix}.{tabel}\" (unknown placeholder at \"{tabel}\"",
				 "-b", "x:1", "--topic-template={prefix}.{tabel}");
	EXPECT_ERROR("unknown placeholder at \"{prefix\"", "-b", "x:1", "--topic-template=a.{prefix");
	EXPECT_ERROR("(character \"}\" is not allowed in Kafka topic names)", "-b", "x:1",
				 "--topic-template=a}");
	EXPECT_ERROR("invalid value for option \"plugin-option\": \"=x\" (expected NAME or NAME=VALUE)",
				 "-b", "x:1", "-o", "=x");
	EXPECT_ERROR("plugin option \"format=json\" cannot be carried by the relay: it reads the plugin's frames, which only format=avro writes (leave the option out)",
				 "-b", "x:1", "-o", "format=json");
	EXPECT_ERROR("plugin option \"format=\" cannot be carried", "-b", "x:1", "-o", "format");
	{
		RelayConfig ok;

		CHECK_INT(parse(&ok, "-b", "x:1", "-o", "format=avro", "-o", "protocol-version=1", NULL), 0);
		config_free(&ok);
	}
	EXPECT_ERROR("plugin option \"protocol-version=2\" cannot be carried by the relay: it speaks protocol version 1",
				 "-b", "x:1", "-o", "protocol-version=2");
	EXPECT_ERROR("invalid value for option \"kafka\": \"acks\" (expected NAME=VALUE)",
				 "-b", "x:1", "-X", "acks");
	EXPECT_ERROR("invalid value for option \"kafka\": \"=1\" (expected NAME=VALUE)",
				 "-b", "x:1", "-X", "=1");

	/* Cross-option checks after the merge. */
	EXPECT_ERROR("option \"on-error\" is \"dead-letter\" but \"dead-letter-topic\" is not set",
				 "-b", "x:1", "--on-error=dead-letter");
	EXPECT_ERROR("options \"dead-letter-topic\" and \"schema-topic\" name the same topic \"s\"",
				 "-b", "x:1", "--dead-letter-topic=s", "--schema-topic=s");
	EXPECT_ERROR("conflicting options \"brokers\" and \"kafka.bootstrap.servers\"",
				 "-b", "x:1", "-X", "bootstrap.servers=y:1");
	EXPECT_ERROR("conflicting options \"brokers\" and \"kafka.metadata.broker.list\"",
				 "-b", "x:1", "-X", "metadata.broker.list=y:1");
	CHECK_INT(parse(&cfg, "-X", "bootstrap.servers=y:1", NULL), 0);
	CHECK_STR(cfg.brokers, NULL);
	config_free(&cfg);
	CHECK_INT(parse(&cfg, "--print-config", NULL), 0);	/* no brokers needed */
	CHECK_INT(cfg.action, RELAY_ACTION_PRINT_CONFIG);
	config_free(&cfg);
}

static void
test_lists(void)
{
	RelayConfig cfg;
	const char *path;

	path = WRITE_FILE("lists.conf",
					  "kafka.linger.ms = 5\n"
					  "plugin-option = include-tables=public.a\n"
					  "kafka.acks = 1\n");
	CHECK_INT(parse(&cfg, "-b", "x:1",
					"-X", "compression.type=lz4", "-o", "envelope=flat",
					"-X", "acks=all", "-o", "skip-empty-xacts", "-X", "client.id=r1",
					"-o", "envelope=debezium", "-X", "compression.type=zstd",
					"-c", path, NULL), 0);
	/* First appearance fixes the place, the last value wins, the file comes first. */
	CHECK_INT(cfg.kafka.count, 4);
	CHECK_STR(cfg.kafka.items[0].name, "linger.ms");
	CHECK_STR(cfg.kafka.items[0].value, "5");
	CHECK_STR(cfg.kafka.items[1].name, "acks");
	CHECK_STR(cfg.kafka.items[1].value, "all");
	CHECK_STR(cfg.kafka.items[2].name, "compression.type");
	CHECK_STR(cfg.kafka.items[2].value, "zstd");
	CHECK_STR(cfg.kafka.items[3].name, "client.id");
	CHECK_STR(cfg.kafka.items[3].value, "r1");
	CHECK_INT(cfg.plugin_options.count, 3);
	CHECK_STR(cfg.plugin_options.items[0].name, "include-tables");
	CHECK_STR(cfg.plugin_options.items[0].value, "public.a");
	CHECK_STR(cfg.plugin_options.items[1].name, "envelope");
	CHECK_STR(cfg.plugin_options.items[1].value, "debezium");
	CHECK_STR(cfg.plugin_options.items[2].name, "skip-empty-xacts");
	CHECK_STR(cfg.plugin_options.items[2].value, NULL);
	config_free(&cfg);

	/* A value may hold "=" and be empty. */
	CHECK_INT(parse(&cfg, "-b", "x:1", "-X", "sasl.jaas=a=b", "-o", "topic=", NULL), 0);
	CHECK_STR(cfg.kafka.items[0].value, "a=b");
	CHECK_STR(cfg.plugin_options.items[0].value, "");
	config_free(&cfg);
}

static void
test_command_line(void)
{
	RelayConfig cfg;

	/* --help and --version win wherever they are, even after errors. */
	CHECK_INT(parse(&cfg, "--bogus", "-s", "0", "--help", NULL), 0);
	CHECK_INT(cfg.action, RELAY_ACTION_HELP);
	config_free(&cfg);
	CHECK_INT(parse(&cfg, "-c", "/nonexistent", "-?", NULL), 0);
	CHECK_INT(cfg.action, RELAY_ACTION_HELP);
	config_free(&cfg);
	CHECK_INT(parse(&cfg, "-S", "BAD", "--version", NULL), 0);
	CHECK_INT(cfg.action, RELAY_ACTION_VERSION);
	config_free(&cfg);
	CHECK_INT(parse(&cfg, "-V", "--help", NULL), 0);
	CHECK_INT(cfg.action, RELAY_ACTION_VERSION);
	config_free(&cfg);
	CHECK_INT(parse(&cfg, "--hel", NULL), 0);	/* getopt's abbreviation */
	CHECK_INT(cfg.action, RELAY_ACTION_HELP);
	config_free(&cfg);

	/* monitoring keys */
	CHECK_INT(parse(&cfg, "-b", "x:1", "--metrics-listen=127.0.0.1:0", "--health-max-error-ratio=0.001",
					"--health-max-lag-bytes=1GB", "--heartbeat-interval=5", NULL), 0);
	CHECK_STR(cfg.metrics_listen, "127.0.0.1:0");
	CHECK(cfg.health_max_error_ratio > 0.0009 && cfg.health_max_error_ratio < 0.0011);
	CHECK(cfg.health_max_lag_bytes == UINT64_C(1) << 30);
	CHECK_INT(cfg.heartbeat_interval, 5);
	config_free(&cfg);
	EXPECT_ERROR("invalid value for option \"health-max-error-ratio\": \"2\" (expected a fraction from 0 to 1)",
				 "-b", "x:1", "--health-max-error-ratio=2");
	/* After "--" they are arguments. */
	EXPECT_ERROR("too many command-line arguments (first is \"--help\")", "-b", "x:1", "--", "--help");

	EXPECT_ERROR("invalid option \"--bogus\"", "--bogus");
	EXPECT_ERROR("invalid option \"-q\"", "-q");
	EXPECT_ERROR("invalid option \"-q\"", "-vq");
	EXPECT_ERROR("invalid option \"--no-tombstones=1\"", "--no-tombstones=1");
	EXPECT_ERROR("invalid option \"--verbose=2\"", "--verbose=2");
	EXPECT_ERROR("option \"--slot\" requires an argument", "--slot");
	EXPECT_ERROR("option \"-S\" requires an argument", "-S");
	EXPECT_ERROR("\"tail\" must come first, as in \"wal2avro-relay tail TOPIC...\"", "-v", "tail", "t1");
	EXPECT_ERROR("too many command-line arguments (first is \"extra\")", "-b", "x:1", "extra");

	/* -v raises the level from wherever it was set. */
	CHECK_INT(parse(&cfg, "-b", "x:1", "-v", NULL), 0);
	CHECK_INT(cfg.log_level, RELAY_LOG_DEBUG);
	CHECK_INT(cfg.verbose, 1);
	config_free(&cfg);
	CHECK_INT(parse(&cfg, "-b", "x:1", "-vv", NULL), 0);
	CHECK_INT(cfg.log_level, RELAY_LOG_TRACE);
	config_free(&cfg);
	CHECK_INT(parse(&cfg, "-b", "x:1", "-v", "-vvv", NULL), 0);
	CHECK_INT(cfg.log_level, RELAY_LOG_TRACE);
	config_free(&cfg);
	CHECK_INT(parse(&cfg, "-b", "x:1", "-v", "--log-level=error", NULL), 0);
	CHECK_INT(cfg.log_level, RELAY_LOG_WARNING);
	config_free(&cfg);
}

static void
test_secret_files(void)
{
	RelayConfig cfg;
	const char *path;
	char		p2[512];

	path = WRITE_FILE("sasl.secret", "s3cr3t\n\n");
	setenv("WAL2AVRO_SASL_PASSWORD_FILE", path, 1);
	CHECK_INT(parse(&cfg, "-b", "x:1", NULL), 0);
	CHECK_STR(cfg.kafka.items[0].name, "sasl.password");
	CHECK_STR(cfg.kafka.items[0].value, "s3cr3t");
	config_free(&cfg);

	setenv("WAL2AVRO_SASL_PASSWORD", "other", 1);
	EXPECT_ERROR("both WAL2AVRO_SASL_PASSWORD and WAL2AVRO_SASL_PASSWORD_FILE are set", "-b", "x:1");
	clear_env();

	path = WRITE_FILE("dbname.secret", "host=h password=pw\r\n");
	setenv("WAL2AVRO_DBNAME_FILE", path, 1);
	path = WRITE_FILE("brokers.secret", "k:9092");
	setenv("WAL2AVRO_BROKERS_FILE", path, 1);
	CHECK_INT(parse(&cfg, NULL), 0);
	CHECK_STR(cfg.dbname, "host=h password=pw");
	CHECK_STR(cfg.brokers, "k:9092");
	config_free(&cfg);
	clear_env();

	path = WRITE_FILE("pg.secret", "pgpw\n");
	setenv("PGPASSWORD_FILE", path, 1);
	CHECK_INT(parse(&cfg, "-b", "x:1", NULL), 0);
	CHECK_STR(cfg.pg_password, "pgpw");
	config_free(&cfg);
	setenv("PGPASSWORD", "x", 1);
	EXPECT_ERROR("both PGPASSWORD and PGPASSWORD_FILE are set", "-b", "x:1");
	clear_env();

	/* PGPASSWORD alone is libpq's business. */
	setenv("PGPASSWORD", "x", 1);
	CHECK_INT(parse(&cfg, "-b", "x:1", NULL), 0);
	CHECK_STR(cfg.pg_password, NULL);
	config_free(&cfg);
	clear_env();

	setenv("WAL2AVRO_SLOT_FILE", "/nonexistent/slot", 1);
	EXPECT_ERROR("could not open file \"/nonexistent/slot\" named by WAL2AVRO_SLOT_FILE: No such file or directory",
				 "-b", "x:1");
	clear_env();

	path = WRITE_FILE("empty.secret", "\n");
	snprintf(p2, sizeof(p2), "%s", path);
	setenv("WAL2AVRO_SASL_PASSWORD_FILE", p2, 1);
	EXPECT_ERROR("is empty", "-b", "x:1");
	clear_env();

	path = write_file("nul.secret", "a\0b", 3);
	setenv("WAL2AVRO_SASL_PASSWORD_FILE", path, 1);
	EXPECT_ERROR("is not text (it contains a NUL byte)", "-b", "x:1");
	clear_env();

	{
		char	   *big = malloc(70000);

		memset(big, 'a', 70000);
		path = write_file("big.secret", big, 70000);
		free(big);
		setenv("WAL2AVRO_SASL_PASSWORD_FILE", path, 1);
		EXPECT_ERROR("is larger than 64 kB", "-b", "x:1");
		clear_env();
	}
}

static void
check_mask(const char *in, const char *want, int line)
{
	char	   *got = config_mask_conninfo(in);
	int			ok = got != NULL && strcmp(got, want) == 0;

	unit_record(ok, __FILE__, line, "config_mask_conninfo");
	if (!ok)
		fprintf(stderr, "    in   \"%s\"\n    got  \"%s\"\n    want \"%s\"\n", in,
				got ? got : "(null)", want);
	free(got);
}

#define CHECK_MASK(in, want) check_mask(in, want, __LINE__)

static void
test_masking(void)
{
	RelayConfig cfg;
	char	   *out;

	CHECK_MASK("host=h password=s3cret dbname=d", "host=h password=*** dbname=d");
	CHECK_MASK("  password = 'it\\'s secret'  user=u", "  password = ***  user=u");
	CHECK_MASK("sslpassword=k1 host=h", "sslpassword=*** host=h");
	CHECK_MASK("host=h", "host=h");
	CHECK_MASK("", "");
	CHECK_MASK("password='unterminated", "***");
	CHECK_MASK("nonsense without equals", "***");
	CHECK_MASK("postgresql://u:pw@h:5432/db?sslmode=require&password=x2",
			   "postgresql://u:***@h:5432/db?sslmode=require&password=***");
	CHECK_MASK("postgres://u@h/db", "postgres://u@h/db");
	CHECK_MASK("postgresql://u:p%40ss@h1,h2/db", "postgresql://u:***@h1,h2/db");
	CHECK_MASK("postgresql://h/db?password=", "postgresql://h/db?password=***");
	CHECK_MASK("postgresql:///db", "postgresql:///db");
	CHECK_MASK("postgresql://u:pw@h", "postgresql://u:***@h");

	CHECK(config_is_secret("sasl.password"));
	CHECK(config_is_secret("kafka.sasl.password"));
	CHECK(config_is_secret("sasl.username"));
	CHECK(config_is_secret("sasl.oauthbearer.client.secret"));
	CHECK(config_is_secret("sasl.oauthbearer.config"));
	CHECK(config_is_secret("ssl.key.password"));
	CHECK(config_is_secret("ssl.key.pem"));
	CHECK(config_is_secret("ssl.keystore.location"));
	CHECK(config_is_secret("SSL.Key.Password"));
	CHECK(config_is_secret("api-token"));
	CHECK(!config_is_secret("sasl.mechanisms"));
	CHECK(!config_is_secret("sasl.mechanism"));
	CHECK(!config_is_secret("acks"));
	CHECK(!config_is_secret("ssl.certificate.pem"));
	CHECK(!config_is_secret("bootstrap.servers"));

	setenv("WAL2AVRO_SASL_PASSWORD", "envsecret", 1);
	CHECK_INT(parse(&cfg, "-b", "x:1", "-d", "host=h password=dbsecret dbname=d",
					"-X", "sasl.username=alice", "-X", "ssl.key.password=keysecret",
					"-X", "acks=all", "-X", "sasl.mechanisms=PLAIN",
					"-o", "envelope=flat", "-o", "secret-salt=saltsecret", NULL), 0);
	out = print_config(&cfg);
	CHECK(strstr(out, "dbsecret") == NULL);
	CHECK(strstr(out, "envsecret") == NULL);
	CHECK(strstr(out, "alice") == NULL);
	CHECK(strstr(out, "keysecret") == NULL);
	CHECK(strstr(out, "saltsecret") == NULL);
	CHECK_CONTAINS(out, "dbname = \"host=h password=*** dbname=d\"\n");
	CHECK_CONTAINS(out, "kafka.sasl.password = \"***\"\n");
	CHECK_CONTAINS(out, "kafka.sasl.username = \"***\"\n");
	CHECK_CONTAINS(out, "kafka.ssl.key.password = \"***\"\n");
	CHECK_CONTAINS(out, "kafka.acks = \"all\"\n");
	CHECK_CONTAINS(out, "kafka.sasl.mechanisms = \"PLAIN\"\n");
	CHECK_CONTAINS(out, "plugin-option = \"envelope=flat\"\n");
	CHECK_CONTAINS(out, "plugin-option = \"secret-salt=***\"\n");
	free(out);
	config_free(&cfg);
	clear_env();
}

/* Everything config_print writes parses back to the same configuration. */
static void
test_print_round_trip(void)
{
	RelayConfig a;
	RelayConfig b;
	char	   *out;
	char	   *again;
	const char *path;
	char		cpath[512];

	CHECK_INT(parse(&a, "-b", "b1:9092,b2:9092", "-d", "postgresql://u@h/db?application_name=\"x\"",
					"-S", "slot_1", "--no-create-slot", "-o", "envelope=flat", "-o", "skip-empty-xacts",
					"-E", "1/2", "-n", "-s", "3", "--reconnect-max-backoff=9",
					"--topic-prefix=pre", "--topic-template={prefix}-{schema}-{table}-{op}",
					"--schema-topic=sch", "--no-tombstones", "--dead-letter-topic=dl",
					"--on-error=dead-letter", "--max-in-flight-bytes=3M", "--log-level=trace",
					"-X", "client.id=quote\"back\\slash", NULL), 0);
	out = print_config(&a);
	path = WRITE_FILE("printed.conf", out);
	snprintf(cpath, sizeof(cpath), "%s", path);
	CHECK_INT(parse(&b, "-c", cpath, NULL), 0);
	CHECK_STR(err, "");
	again = print_config(&b);
	CHECK_STR(again, out);
	CHECK_CONTAINS(out, "endpos = 1/2\n");
	CHECK_CONTAINS(out, "max-in-flight-bytes = 3145728\n");
	CHECK_CONTAINS(out, "kafka.client.id = \"quote\\\"back\\\\slash\"\n");
	CHECK_STR(b.kafka.items[0].value, "quote\"back\\slash");
	CHECK(!b.tombstones && !b.create_slot && b.no_loop);
	free(out);
	free(again);
	config_free(&a);
	config_free(&b);

	/* The defaults print with unset keys as comments. */
	CHECK_INT(config_init(&a), 0);
	out = print_config(&a);
	CHECK_CONTAINS(out, "# dbname is not set\n");
	CHECK_CONTAINS(out, "# endpos is not set\n");
	CHECK_CONTAINS(out, "slot = \"wal2avro\"\n");
	CHECK_CONTAINS(out, "status-interval = 10\n");
	free(out);
	config_free(&a);
}

static void
test_topics(void)
{
	RelayConfig cfg;
	char		buf[64];

	CHECK_INT(parse(&cfg, "-b", "x:1", NULL), 0);
	CHECK_INT(config_expand_topic(&cfg, "public", "orders", NULL, buf, sizeof(buf), NULL), 22);
	CHECK_STR(buf, "wal2avro.public.orders");
	CHECK_INT(config_expand_topic(&cfg, "public", "orders", NULL, buf, 23, NULL), 22);
	CHECK_INT(config_expand_topic(&cfg, "public", "orders", NULL, buf, 22, NULL), -1);
	CHECK_INT(config_expand_topic(&cfg, "public", "orders", NULL, buf, 0, NULL), -1);
	config_free(&cfg);

	CHECK_INT(parse(&cfg, "-b", "x:1", "--topic-template=x_{op}.{table}{table}", "--topic-prefix=p", NULL), 0);
	CHECK_INT(config_expand_topic(&cfg, "s", "t", "d", buf, sizeof(buf), NULL), 6);
	CHECK_STR(buf, "x_d.tt");
	CHECK_INT(config_expand_topic(&cfg, "s", "t", NULL, buf, sizeof(buf), NULL), 5);
	CHECK_STR(buf, "x_.tt");
	config_free(&cfg);

	/* per-operation topics with names, as orders.created/updated/deleted */
	CHECK_INT(parse(&cfg, "-b", "x:1", "--topic-template={table}.{op_name}", NULL), 0);
	CHECK_INT(config_expand_topic(&cfg, "s", "orders", "c", buf, sizeof(buf), NULL), 14);
	CHECK_STR(buf, "orders.created");
	CHECK_INT(config_expand_topic(&cfg, "s", "orders", "u", buf, sizeof(buf), NULL), 14);
	CHECK_STR(buf, "orders.updated");
	CHECK_INT(config_expand_topic(&cfg, "s", "orders", "d", buf, sizeof(buf), NULL), 14);
	CHECK_STR(buf, "orders.deleted");
	config_free(&cfg);

	/* names Kafka refuses become ones it accepts, by Debezium's rule */
	{
		char		big[600];
		bool		adjusted = false;

		CHECK_INT(parse(&cfg, "-b", "x:1", "--topic-prefix=dbz", NULL), 0);
		CHECK_INT(config_expand_topic(&cfg, "public", "Order Items", NULL, big, sizeof(big), &adjusted), 22);
		CHECK_STR(big, "dbz.public.Order_Items");
		CHECK(adjusted);
		CHECK_INT(config_expand_topic(&cfg, "public", "orders", NULL, big, sizeof(big), &adjusted), 17);
		CHECK(!adjusted);
		/* two bytes of UTF-8, one Java char: one "_"; outside the BMP: two */
		config_expand_topic(&cfg, "sch\xc3\xa9ma", "order#1", NULL, big, sizeof(big), NULL);
		CHECK_STR(big, "dbz.sch_ma.order_1");
		config_expand_topic(&cfg, "public", "t\xf0\x9f\x98\x80x", NULL, big, sizeof(big), NULL);
		CHECK_STR(big, "dbz.public.t__x");
		/* bytes that are not UTF-8: one "_" each */
		config_expand_topic(&cfg, "public", "a\xff\xc3z", NULL, big, sizeof(big), NULL);
		CHECK_STR(big, "dbz.public.a__z");
		config_free(&cfg);
	}
	{
		char		name[600];

		memset(name, 'a', 300);
		name[300] = '\0';
		CHECK(config_topic_sanitize(name));
		CHECK_INT((int) strlen(name), 249);
		strcpy(name, ".");
		CHECK(config_topic_sanitize(name));
		CHECK_STR(name, "_");
		strcpy(name, "..");
		CHECK(config_topic_sanitize(name));
		CHECK_STR(name, "__");
		strcpy(name, "...");
		CHECK(!config_topic_sanitize(name));
		CHECK_STR(name, "...");
		/* 248 letters and an emoji: 250 Java chars, cut to 249 */
		memset(name, 'b', 248);
		strcpy(name + 248, "\xf0\x9f\x98\x80");
		CHECK(config_topic_sanitize(name));
		CHECK_INT((int) strlen(name), 249);
		CHECK(name[248] == '_');
	}
}

static void
test_usage(void)
{
	char	   *buf = NULL;
	size_t		len = 0;
	FILE	   *f = open_memstream(&buf, &len);
	static const char *const options[] = {
		"--config=FILE", "--log-level=LEVEL", "--verbose", "--dbname=CONNINFO",
		"--slot=NAME", "--create-slot[=BOOL]", "--no-create-slot",
		"--plugin-option=NAME[=VALUE]", "--endpos=LSN", "--no-loop[=BOOL]",
		"--status-interval=SECS", "--reconnect-max-backoff=SECS", "--brokers=",
		"--kafka=NAME=VALUE", "--topic-prefix=PREFIX", "--topic-template=TEMPLATE",
		"--schema-topic=TOPIC", "--tombstones[=BOOL]", "--no-tombstones",
		"--dead-letter-topic=TOPIC", "--on-error=POLICY", "--max-in-flight-bytes=SIZE",
		"--snapshot-mode=MODE", "--state-topic=TOPIC", "--print-config", "--version", "--help",
	};
	const char *line;
	int			long_lines = 0;
	const char *last = NULL;

	config_usage(f);
	fclose(f);
	{
		static const char first[] = "wal2avro-relay streams a wal2avro replication slot to Apache Kafka.\n";

		CHECK(strncmp(buf, first, strlen(first)) == 0);
	}
	CHECK_CONTAINS(buf, "\nUsage:\n  wal2avro-relay [OPTION]...\n");
	CHECK_CONTAINS(buf, "  wal2avro-relay tail [OPTION]... TOPIC...");
	CHECK_CONTAINS(buf, "\nGeneral options:\n");
	CHECK_CONTAINS(buf, "\nConnection options:\n");
	CHECK_CONTAINS(buf, "\nReplication options:\n");
	CHECK_CONTAINS(buf, "\nKafka options:\n");
	CHECK_CONTAINS(buf, "\nActions:\n");
	CHECK_CONTAINS(buf, "(default: wal2avro)");
	CHECK_CONTAINS(buf, "(default: {prefix}.{schema}.{table})");
	CHECK_CONTAINS(buf, "\nExit status:\n  0  stopped on request");
	CHECK_CONTAINS(buf, "\n  1  usage or configuration error\n");
	CHECK_CONTAINS(buf, "\n  2  PostgreSQL failure not retried\n");
	CHECK_CONTAINS(buf, "\n  3  Kafka failure");
	for (size_t i = 0; i < sizeof(options) / sizeof(options[0]); i++)
		CHECK_CONTAINS(buf, options[i]);
	for (line = buf; *line; line = strchr(line, '\n') + 1)
	{
		size_t		n = strcspn(line, "\n");

		if (n > 80)
			long_lines++;
		last = line;
	}
	CHECK_INT(long_lines, 0);
	CHECK_STR(last, "Report bugs at <https://github.com/wal2avro/wal2avro/issues>.\n");
	free(buf);

	f = open_memstream(&buf, &len);
	config_version(f);
	fclose(f);
	CHECK_STR(buf, "wal2avro-relay (wal2avro) 0.1.0\n");
	free(buf);
}

int
main(void)
{
	const char *base = getenv("TMPDIR");

	snprintf(tmpdir, sizeof(tmpdir), "%s/test_config.XXXXXX", base && *base ? base : "/tmp");
	if (mkdtemp(tmpdir) == NULL)
	{
		perror("mkdtemp");
		return 2;
	}
	clear_env();

	test_defaults();
	test_every_option();
	test_formats();
	test_flat();
	test_precedence();
	test_file_syntax();
	test_file_errors();
	test_values();
	test_lists();
	test_command_line();
	test_secret_files();
	test_masking();
	test_print_round_trip();
	test_topics();
	test_usage();

	{
		char		cmd[512];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", tmpdir);
	}
	return unit_finish("test_config");
}
