/*-------------------------------------------------------------------------
 *
 * config_options.c
 *		The relay's option table, and the --help text made from it.
 *
 * One row per option: the long option is also the config-file key, the
 * short letter, the environment variable, the member of RelayConfig it
 * sets, its default (text, parsed like any other value) and its help.
 * config.c builds getopt's tables, the key lookup, the environment and the
 * defaults from these rows, config_print.c prints them back; nothing else
 * lists the options.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/config_options.c
 *
 *-------------------------------------------------------------------------
 */
#include <string.h>

#include "config.h"
#include "lsn.h"
#include "program.h"

#define MAX_SECONDS				3600
#define MAX_BYTES				(INT64_C(1) << 40)

/*
 * The offset of member "m", which must be of type T: a mismatch between a
 * row's type and its member does not compile.
 */
#define FIELD(m, T) \
	(offsetof(RelayConfig, m) + 0 * sizeof(_Generic(((RelayConfig *) 0)->m, T: 1)))
/* The offset of an enum member, which is stored as an int. */
#define ENUM_FIELD(m) \
	(offsetof(RelayConfig, m) + \
	 0 * sizeof(char[sizeof(((RelayConfig *) 0)->m) == sizeof(int) ? 1 : -1]))

/* Values of the enum options, in enum order. */
static const char *const log_levels[] = {"error", "warning", "info", "debug", "trace", NULL};
static const char *const snapshot_modes[] = {"initial", "never", "initial_only", NULL};
static const char *const on_error_policies[] = {"stop", "dead-letter", NULL};
static const char *const formats[] = {"avro", "json", NULL};
static const char *const compats[] = {"auto", "wal2avro", "debezium", NULL};

const ConfigOption config_options[] = {
	{.heading = "General options", .name = "config", .letter = 'c', .type = CONFIG_FILE,
		.offset = FIELD(config_file, char *), .arg = "FILE", .flags = CONFIG_NO_KEY | CONFIG_NO_ENV,
	.help = "read settings from FILE (\"key = value\" lines)"},
	{.name = "log-level", .type = CONFIG_ENUM, .offset = ENUM_FIELD(log_level), .names = log_levels,
		.def = "info", .arg = "LEVEL", .flags = CONFIG_NO_ENV | CONFIG_ANY_CASE,
	.help = "error, warning, info, debug or trace"},
	{.name = "log-file", .type = CONFIG_TEXT, .offset = FIELD(log_file, char *), .arg = "FILE",
	.flags = CONFIG_NO_ENV, .help = "log to FILE, reopened on SIGHUP (default: standard error)"},
	{.name = "verbose", .letter = 'v', .type = CONFIG_COUNT, .offset = FIELD(verbose, int),
	.flags = CONFIG_NO_KEY | CONFIG_NO_ENV, .help = "log one level more; repeat (-vv: every record)"},

	{.heading = "Connection options", .name = "dbname", .letter = 'd', .type = CONFIG_CONNINFO,
		.offset = FIELD(dbname, char *), .env = "WAL2AVRO_DBNAME", .arg = "CONNINFO",
		.flags = CONFIG_SECRET, .help = "database to stream from: conninfo string or URI "
	"(default: libpq's PG* environment variables)"},

	{.heading = "Replication options", .name = "slot", .letter = 'S', .type = CONFIG_SLOT,
		.offset = FIELD(slot, char *), .env = "WAL2AVRO_SLOT", .def = "wal2avro", .arg = "NAME",
	.help = "logical replication slot"},
	{.name = "create-slot", .type = CONFIG_BOOL, .offset = FIELD(create_slot, bool), .def = "true",
	.negation = "no-create-slot", .flags = CONFIG_NO_ENV, .help = "create the slot if missing"},
	{.name = "failover-slot", .type = CONFIG_BOOL, .offset = FIELD(failover_slot, bool),
		.def = "false", .flags = CONFIG_NO_ENV,
		.help = "create the slot as a failover slot, which standbys with sync_replication_slots "
	"keep (PostgreSQL 17+)"},
	{.name = "recreate-slot", .type = CONFIG_BOOL, .offset = FIELD(recreate_slot, bool),
		.def = "false", .flags = CONFIG_NO_ENV,
		.help = "create the slot even though the state topic has a position confirmed on a lost "
	"one of this server (changes since are skipped)"},
	{.name = "plugin-option", .letter = 'o', .type = CONFIG_PLUGIN_OPTION,
		.offset = FIELD(plugin_options, RelaySettingList), .arg = "NAME[=VALUE]",
	.flags = CONFIG_NO_ENV, .help = "pass an option to the output plugin (repeatable)"},
	{.name = "endpos", .letter = 'E', .type = CONFIG_LSN, .offset = FIELD(endpos, Lsn), .arg = "LSN",
	.flags = CONFIG_NO_ENV, .help = "stop once everything up to LSN is confirmed"},
	{.name = "no-loop", .letter = 'n', .type = CONFIG_BOOL, .offset = FIELD(no_loop, bool),
	.def = "false", .flags = CONFIG_NO_ENV, .help = "do not reconnect after a lost connection"},
	{.name = "status-interval", .letter = 's', .type = CONFIG_SECONDS,
		.offset = FIELD(status_interval, int), .def = "10", .min = 1, .max = MAX_SECONDS,
	.arg = "SECS", .flags = CONFIG_NO_ENV, .help = "time between status updates"},
	{.name = "reconnect-max-backoff", .type = CONFIG_SECONDS,
		.offset = FIELD(reconnect_max_backoff, int), .def = "30", .min = 1, .max = MAX_SECONDS,
	.arg = "SECS", .flags = CONFIG_NO_ENV, .help = "longest wait between reconnects"},
	{.name = "snapshot-mode", .type = CONFIG_ENUM, .offset = ENUM_FIELD(snapshot_mode),
		.names = snapshot_modes, .def = "initial", .arg = "MODE", .flags = CONFIG_NO_ENV,
		.help = "initial (read every table when the slot is created), never, or "
	"initial_only (read the tables, then exit)"},
	{.name = "snapshot-chunk-size", .type = CONFIG_SIZE,
		.offset = FIELD(snapshot_chunk_size, uint64_t), .def = "8MB", .min = 8192,
		.max = INT64_C(1) << 30, .arg = "SIZE", .flags = CONFIG_NO_ENV,
	.help = "heap bytes an on-demand snapshot reads at a time (wal2avro.request_snapshot())"},

	{.heading = "Kafka options", .name = "brokers", .letter = 'b', .type = CONFIG_TEXT,
		.offset = FIELD(brokers, char *), .env = "WAL2AVRO_BROKERS", .arg = "HOST:PORT[,...]",
	.help = "bootstrap servers (required to stream)"},
	{.name = "kafka", .letter = 'X', .type = CONFIG_KAFKA, .offset = FIELD(kafka, RelaySettingList),
		.arg = "NAME=VALUE", .flags = CONFIG_NO_KEY | CONFIG_NO_ENV,
	.help = "set librdkafka property NAME (repeatable; \"kafka.NAME = VALUE\" in a file)"},
	{.name = "topic-prefix", .type = CONFIG_TOPIC, .offset = FIELD(topic_prefix, char *),
	.def = "wal2avro", .arg = "PREFIX", .flags = CONFIG_NO_ENV, .help = "{prefix} in the topic template"},
	{.name = "topic-template", .type = CONFIG_TEMPLATE, .offset = FIELD(topic_template, char *),
		.def = "{prefix}.{schema}.{table}", .arg = "TEMPLATE", .flags = CONFIG_NO_ENV,
		.help = "topic of a table, from {prefix}, {schema}, {table}, {op} (c, u, d) and "
	"{op_name} (created, updated, deleted)"},
	{.name = "schema-topic", .type = CONFIG_TOPIC, .offset = FIELD(schema_topic, char *),
		.def = "_wal2avro_schemas", .arg = "TOPIC", .flags = CONFIG_NO_ENV,
	.help = "topic receiving every schema"},
	{.name = "state-topic", .type = CONFIG_TOPIC, .offset = FIELD(state_topic, char *),
		.def = "_wal2avro_state", .arg = "TOPIC", .flags = CONFIG_NO_ENV,
	.help = "compacted topic of the confirmed position and the snapshot markers"},
	{.name = "tombstones", .type = CONFIG_BOOL, .offset = FIELD(tombstones, bool), .def = "true",
		.negation = "no-tombstones", .flags = CONFIG_NO_ENV,
	.help = "follow each delete with a null-valued record"},
	{.name = "key-format", .type = CONFIG_ENUM, .offset = ENUM_FIELD(key_format), .names = formats,
		.def = "avro", .arg = "FORMAT", .flags = CONFIG_NO_ENV,
		.help = "avro (with the schema registry, Confluent's wire format) or json "
	"(Kafka Connect JsonConverter's, as Debezium writes it)"},
	{.name = "value-format", .type = CONFIG_ENUM, .offset = ENUM_FIELD(value_format),
		.names = formats, .def = "avro", .arg = "FORMAT", .flags = CONFIG_NO_ENV,
	.help = "avro or json, as key-format"},
	{.name = "json-schemas", .type = CONFIG_BOOL, .offset = FIELD(json_schemas, bool),
		.def = "true", .negation = "no-json-schemas", .flags = CONFIG_NO_ENV,
		.help = "json: write {\"schema\":..,\"payload\":..} (JsonConverter's schemas.enable), "
	"else the payload alone"},
	{.name = "compat", .type = CONFIG_ENUM, .offset = ENUM_FIELD(compat), .names = compats,
		.def = "auto", .arg = "WHOSE", .flags = CONFIG_NO_ENV,
		.help = "the record written: wal2avro's, or debezium's (Debezium 3.6's PostgreSQL "
	"connector's); auto: debezium when a format is json, else wal2avro"},
	{.name = "decimal-handling-mode", .type = CONFIG_TEXT, .offset = FIELD(decimal_handling_mode, char *),
		.arg = "MODE", .flags = CONFIG_NO_ENV,
	.help = "with compat=debezium, Debezium's decimal.handling.mode: precise, double or string (the plugin checks it)"},
	{.name = "binary-handling-mode", .type = CONFIG_TEXT, .offset = FIELD(binary_handling_mode, char *),
		.arg = "MODE", .flags = CONFIG_NO_ENV,
	.help = "with compat=debezium, Debezium's binary.handling.mode: bytes, base64, base64-url-safe or hex (the plugin checks it)"},
	{.name = "time-precision-mode", .type = CONFIG_TEXT, .offset = FIELD(time_precision_mode, char *),
		.arg = "MODE", .flags = CONFIG_NO_ENV,
	.help = "with compat=debezium, Debezium's time.precision.mode: adaptive, adaptive_time_microseconds or connect (the plugin checks it)"},
	{.name = "interval-handling-mode", .type = CONFIG_TEXT, .offset = FIELD(interval_handling_mode, char *),
		.arg = "MODE", .flags = CONFIG_NO_ENV,
	.help = "with compat=debezium, Debezium's interval.handling.mode: numeric or string (the plugin checks it)"},
	{.name = "hstore-handling-mode", .type = CONFIG_TEXT, .offset = FIELD(hstore_handling_mode, char *),
		.arg = "MODE", .flags = CONFIG_NO_ENV,
	.help = "with compat=debezium, Debezium's hstore.handling.mode: json or map (the plugin checks it)"},
	{.name = "skipped-operations", .type = CONFIG_TEXT, .offset = FIELD(skipped_operations, char *),
		.arg = "OPS", .flags = CONFIG_NO_ENV,
	.help = "with compat=debezium, Debezium's skipped.operations: none or a comma list of c, u, d, t "
	"(default t: truncates left out; the plugin checks it)"},
	{.name = "envelope", .type = CONFIG_TEXT, .offset = FIELD(envelope, char *),
		.arg = "ENVELOPE", .flags = CONFIG_NO_ENV,
	.help = "with compat=debezium, debezium (the change envelope, default) or flat (ExtractNewRecordState's value)"},
	{.name = "add-fields", .type = CONFIG_TEXT, .offset = FIELD(add_fields, char *),
		.arg = "FIELDS", .flags = CONFIG_NO_ENV,
	.help = "with envelope=flat, ExtractNewRecordState's add.fields: op,table,lsn,source.ts_ms,... (the plugin checks them)"},
	{.name = "add-fields-prefix", .type = CONFIG_TEXT, .offset = FIELD(add_fields_prefix, char *),
		.arg = "PREFIX", .flags = CONFIG_NO_ENV,
	.help = "with envelope=flat, ExtractNewRecordState's add.fields.prefix (default __)"},
	{.name = "delete-tombstone-handling-mode", .type = CONFIG_TEXT,
		.offset = FIELD(delete_tombstone_handling_mode, char *), .arg = "MODE", .flags = CONFIG_NO_ENV,
		.help = "with envelope=flat, ExtractNewRecordState's delete.tombstone.handling.mode: tombstone "
	"(default), drop, rewrite, rewrite-with-tombstone or delete-to-tombstone"},
	{.name = "provide-transaction-metadata", .type = CONFIG_BOOL,
		.offset = FIELD(provide_transaction_metadata, bool), .def = "false",
		.negation = "no-provide-transaction-metadata", .flags = CONFIG_NO_ENV,
		.help = "with compat=debezium, Debezium's provide.transaction.metadata: the envelope's "
	"transaction block, and BEGIN/END records on {prefix}.transaction"},
	{.name = "dead-letter-topic", .type = CONFIG_TOPIC, .offset = FIELD(dead_letter_topic, char *),
	.arg = "TOPIC", .flags = CONFIG_NO_ENV, .help = "topic for records Kafka refused (no default)"},
	{.name = "on-error", .type = CONFIG_ENUM, .offset = ENUM_FIELD(on_error),
		.names = on_error_policies, .def = "stop", .arg = "POLICY", .flags = CONFIG_NO_ENV,
	.help = "on a failed delivery: stop or dead-letter"},
	{.name = "max-in-flight-bytes", .type = CONFIG_SIZE,
		.offset = FIELD(max_in_flight_bytes, uint64_t), .def = "16MB", .min = 1024,
		.max = MAX_BYTES, .arg = "SIZE", .flags = CONFIG_NO_ENV,
	.help = "stop reading WAL while this much awaits acknowledgement"},

	{.heading = "Schema Registry options", .name = "schema-registry", .type = CONFIG_TEXT,
		.offset = FIELD(schema_registry, char *), .env = "WAL2AVRO_SCHEMA_REGISTRY",
		.arg = "URL[,URL]",
		.help = "register schemas there and write keys and values in Confluent's wire format "
	"(default: none, the single-object encoding and the schema topic)"},
	{.name = "schema-registry-user", .type = CONFIG_TEXT,
		.offset = FIELD(schema_registry_user, char *), .env = "WAL2AVRO_SCHEMA_REGISTRY_USER",
	.arg = "USER", .help = "basic-auth user for the registry"},
	{.name = "schema-registry-password", .type = CONFIG_TEXT,
		.offset = FIELD(schema_registry_password, char *),
		.env = "WAL2AVRO_SCHEMA_REGISTRY_PASSWORD", .arg = "PASSWORD", .flags = CONFIG_SECRET,
	.help = "basic-auth password for the registry"},
	{.name = "schema-registry-ca", .type = CONFIG_TEXT,
		.offset = FIELD(schema_registry_ca, char *), .env = "WAL2AVRO_SCHEMA_REGISTRY_CA",
	.arg = "FILE", .help = "file of CA certificates to check an https registry with"},

	{.heading = "Monitoring options", .name = "metrics-listen", .type = CONFIG_TEXT,
		.offset = FIELD(metrics_listen, char *), .def = "127.0.0.1:8794", .arg = "HOST:PORT",
		.flags = CONFIG_NO_ENV,
	.help = "serve /metrics, /healthz and /readyz over HTTP; \"off\" turns it off"},
	{.name = "health-max-lag-bytes", .type = CONFIG_SIZE,
		.offset = FIELD(health_max_lag_bytes, uint64_t), .max = MAX_BYTES, .arg = "SIZE",
	.flags = CONFIG_NO_ENV, .help = "/readyz fails above this slot lag (default: 0, no limit)"},
	{.name = "health-max-error-ratio", .type = CONFIG_RATIO,
		.offset = FIELD(health_max_error_ratio, double), .arg = "FRACTION", .flags = CONFIG_NO_ENV,
		.help = "/readyz fails above this share of failed deliveries over a minute "
	"(default: 0, no limit)"},
	{.name = "heartbeat-interval", .type = CONFIG_SECONDS, .offset = FIELD(heartbeat_interval, int),
		.max = MAX_SECONDS, .arg = "SECS", .flags = CONFIG_NO_ENV,
		.help = "send a heartbeat through the slot and onto the heartbeat topic this often "
	"(default: 0, none)"},
	{.name = "heartbeat-topic", .type = CONFIG_TOPIC, .offset = FIELD(heartbeat_topic, char *),
		.arg = "TOPIC", .flags = CONFIG_NO_ENV,
	.help = "topic of the heartbeats (default: __wal2avro-heartbeat.PREFIX)"},
	{.name = "heartbeat-action-query", .type = CONFIG_TEXT,
		.offset = FIELD(heartbeat_action_query, char *), .arg = "SQL", .flags = CONFIG_NO_ENV,
	.help = "run this too with each heartbeat, e.g. a write that keeps a quiet database moving"},

	{.heading = "Actions", .name = "print-config", .type = CONFIG_ACTION,
		.min = RELAY_ACTION_PRINT_CONFIG, .flags = CONFIG_NO_KEY | CONFIG_NO_ENV,
	.help = "print the effective configuration, secrets masked, then exit"},
	{.name = "version", .letter = 'V', .type = CONFIG_ACTION, .min = RELAY_ACTION_VERSION,
	.flags = CONFIG_NO_KEY | CONFIG_NO_ENV, .help = "output version information, then exit"},
	{.name = "help", .letter = '?', .type = CONFIG_ACTION, .min = RELAY_ACTION_HELP,
	.flags = CONFIG_NO_KEY | CONFIG_NO_ENV, .help = "show this help, then exit"},
};

const size_t config_option_count = sizeof(config_options) / sizeof(config_options[0]);

const ConfigEnvProperty config_env_properties[] = {
	{"WAL2AVRO_SASL_PASSWORD", "kafka.sasl.password"},
};

const size_t config_env_property_count =
sizeof(config_env_properties) / sizeof(config_env_properties[0]);

const ConfigOption *
config_option_find(const char *name)
{
	for (size_t i = 0; i < config_option_count; i++)
		if (strcmp(config_options[i].name, name) == 0)
			return &config_options[i];
	return NULL;
}

/* ---- --help ---- */

#define HELP_INDENT		29		/* where descriptions start */
#define HELP_WIDTH		79

/*
 * Write "text" from column *col, breaking lines between words to stay
 * within HELP_WIDTH; continuation lines start at HELP_INDENT.  "whole"
 * keeps the text on one line (a "(default: ...)").
 */
static void
help_words(FILE *out, const char *text, bool whole, int *col)
{
	while (*text)
	{
		int			len = whole ? (int) strlen(text) : (int) strcspn(text, " ");

		if (*col > HELP_INDENT && *col + 1 + len > HELP_WIDTH)
		{
			fprintf(out, "\n%*s", HELP_INDENT, "");
			*col = HELP_INDENT;
		}
		if (*col > HELP_INDENT)
		{
			fputc(' ', out);
			(*col)++;
		}
		fprintf(out, "%.*s", len, text);
		*col += len;
		text += len;
		text += strspn(text, " ");
	}
}

/* One option's entry: "  -S, --slot=NAME   logical ... (default: x)". */
static void
help_entry(FILE *out, char letter, const char *spec, const char *help, const char *def)
{
	char		head[96];
	int			col;

	if (letter)
		col = snprintf(head, sizeof(head), "  -%c, %s", letter, spec);
	else
		col = snprintf(head, sizeof(head), "      %s", spec);
	fputs(head, out);
	if (col < HELP_INDENT)
		fprintf(out, "%*s", HELP_INDENT - col, "");
	else
		fprintf(out, "\n%*s", HELP_INDENT, "");
	col = HELP_INDENT;
	help_words(out, help, false, &col);
	if (def)
	{
		char		text[128];

		snprintf(text, sizeof(text), "(default: %s)", def);
		help_words(out, text, true, &col);
	}
	fputc('\n', out);
}

static void
help_option(FILE *out, const ConfigOption *o)
{
	char		spec[96];
	char		help[64];

	if (o->type == CONFIG_BOOL)
		snprintf(spec, sizeof(spec), "--%s[=BOOL]", o->name);
	else if (o->arg)
		snprintf(spec, sizeof(spec), "--%s=%s", o->name, o->arg);
	else
		snprintf(spec, sizeof(spec), "--%s", o->name);
	help_entry(out, o->letter, spec, o->help, o->def);
	if (o->negation)
	{
		snprintf(spec, sizeof(spec), "--%s", o->negation);
		snprintf(help, sizeof(help), "same as --%s=false", o->name);
		help_entry(out, 0, spec, help, NULL);
	}
}

void
config_usage(FILE *out)
{
	fprintf(out,
			"%s streams a wal2avro replication slot to Apache Kafka.\n"
			"\n"
			"Usage:\n"
			"  %s [OPTION]...\n"
			"  %s tail [OPTION]... TOPIC...   print events as JSON (tail --help)\n",
			RELAY_PROGNAME, RELAY_PROGNAME, RELAY_PROGNAME);
	for (size_t i = 0; i < config_option_count; i++)
	{
		if (config_options[i].heading)
			fprintf(out, "\n%s:\n", config_options[i].heading);
		help_option(out, &config_options[i]);
	}

	fprintf(out,
			"\n"
			"Settings:\n"
			"  Every long option but --config, --verbose, --kafka and the actions is\n"
			"  also a config-file key; -X NAME=VALUE is \"kafka.NAME = VALUE\".  Later\n"
			"  sources win: defaults, config file, environment, command line.\n"
			"\n"
			"Environment:\n");
	/* a name as long as the column still gets a space after it */
	for (size_t i = 0; i < config_option_count; i++)
		if (config_options[i].env)
			fprintf(out, "  %-26s %s\n", config_options[i].env, config_options[i].name);
	for (size_t i = 0; i < config_env_property_count; i++)
		fprintf(out, "  %-26s %s\n", config_env_properties[i].env, config_env_properties[i].key);
	fprintf(out,
			"  VAR_FILE reads VAR from a file, PGPASSWORD_FILE too.  libpq reads\n"
			"  PGPASSWORD and the other PG* itself.\n"
			"\n"
			"Exit status:\n"
			"  %d  stopped on request, or reached --endpos with everything confirmed\n"
			"  %d  usage or configuration error\n"
			"  %d  PostgreSQL failure not retried\n"
			"  %d  Kafka failure (5 fatal client errors in a row, failed delivery with\n"
			"      on-error=stop, a fingerprint the schema topic holds with another\n"
			"      schema, a refused record not dead-lettered with on-error=dead-letter)\n"
			"\n"
			"Report bugs at <%s>.\n",
			RELAY_EXIT_OK, RELAY_EXIT_CONFIG, RELAY_EXIT_PG, RELAY_EXIT_KAFKA,
			RELAY_BUGS_URL);
}

void
config_version(FILE *out)
{
	fprintf(out, "%s (wal2avro) %s\n", RELAY_PROGNAME, RELAY_VERSION);
}
