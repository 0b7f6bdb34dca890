/*-------------------------------------------------------------------------
 *
 * config.c
 *		The relay's options: defaults, config file, environment, command
 *		line, validation, and the --help text.
 *
 * Every setting has one name, used as the config-file key and the long
 * option, and goes through apply_setting whatever its source, so a value is
 * checked the same way wherever it comes from.  Precedence is default <
 * config file < environment < command line: the command line is read first
 * (it names the file) into a list of settings, applied last.  Lists
 * (plugin-option, kafka.*) keep the order of first appearance; a later
 * setting of the same name replaces the value.
 *
 * Config file syntax: "key = value" lines; blank lines and lines starting
 * with "#" are ignored.  A value runs to the end of the line (surrounding
 * blanks dropped, "#" kept) unless double-quoted; a quoted value knows the
 * escapes \" and \\ and may be followed by a "#" comment.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/config.c
 *
 *-------------------------------------------------------------------------
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "relay.h"

#define DEFAULT_SLOT			"wal2avro"
#define DEFAULT_TOPIC_PREFIX	"wal2avro"
#define DEFAULT_TOPIC_TEMPLATE	"{prefix}.{schema}.{table}"
#define DEFAULT_SCHEMA_TOPIC	"_wal2avro_schemas"
#define DEFAULT_STATE_TOPIC		"_wal2avro_state"
#define DEFAULT_STATUS_INTERVAL 10
#define DEFAULT_RECONNECT_MAX_BACKOFF 30
#define DEFAULT_MAX_IN_FLIGHT_BYTES (UINT64_C(16) * 1024 * 1024)

#define MAX_SECONDS				3600
#define DEFAULT_METRICS_LISTEN	"127.0.0.1:8794"
#define MIN_IN_FLIGHT_BYTES		1024
#define DEFAULT_SNAPSHOT_CHUNK_SIZE (UINT64_C(8) * 1024 * 1024)
#define MIN_SNAPSHOT_CHUNK_SIZE		8192	/* one block */
#define MAX_SNAPSHOT_CHUNK_SIZE		(UINT64_C(1024) * 1024 * 1024)
#define MAX_IN_FLIGHT_BYTES		(INT64_C(1) << 40)
#define MAX_TOPIC_LEN			249 /* Kafka's limit */
#define MAX_SLOT_LEN			63	/* NAMEDATALEN - 1 */
#define MAX_SECRET_FILE			65536
#define KAFKA_PREFIX			"kafka."

/* How a setting's text becomes a value. */
typedef enum KeyKind
{
	KEY_TEXT,					/* any non-empty string */
	KEY_SLOT,					/* a replication slot name */
	KEY_TOPIC,					/* a Kafka topic name (or prefix) */
	KEY_TEMPLATE,				/* topic template with placeholders */
	KEY_BOOL,
	KEY_SECONDS,				/* integer in [min, max] */
	KEY_SIZE,					/* bytes, with an optional unit, in [min, max] */
	KEY_RATIO,					/* a fraction from 0 to 1 */
	KEY_LOG_LEVEL,
	KEY_LSN,
	KEY_ON_ERROR,
	KEY_SNAPSHOT_MODE,
	KEY_PLUGIN_OPTION			/* NAME[=VALUE], appended to a list */
} KeyKind;

typedef struct ConfigKey
{
	const char *name;			/* config-file key and long option */
	KeyKind		kind;
	size_t		offset;			/* of the member in RelayConfig */
	int64_t		min;
	int64_t		max;
} ConfigKey;

/* Every key, in --help and config_print order (kafka.* handled apart). */
static const ConfigKey config_keys[] = {
	/* general */
	{"log-level", KEY_LOG_LEVEL, offsetof(RelayConfig, log_level), 0, 0},
	{"log-file", KEY_TEXT, offsetof(RelayConfig, log_file), 0, 0},
	/* connection */
	{"dbname", KEY_TEXT, offsetof(RelayConfig, dbname), 0, 0},
	/* replication */
	{"slot", KEY_SLOT, offsetof(RelayConfig, slot), 0, 0},
	{"create-slot", KEY_BOOL, offsetof(RelayConfig, create_slot), 0, 0},
	{"plugin-option", KEY_PLUGIN_OPTION, offsetof(RelayConfig, plugin_options), 0, 0},
	{"endpos", KEY_LSN, offsetof(RelayConfig, endpos), 0, 0},
	{"no-loop", KEY_BOOL, offsetof(RelayConfig, no_loop), 0, 0},
	{"status-interval", KEY_SECONDS, offsetof(RelayConfig, status_interval), 1, MAX_SECONDS},
	{"reconnect-max-backoff", KEY_SECONDS, offsetof(RelayConfig, reconnect_max_backoff), 1, MAX_SECONDS},
	{"snapshot-mode", KEY_SNAPSHOT_MODE, offsetof(RelayConfig, snapshot_mode), 0, 0},
	{"snapshot-chunk-size", KEY_SIZE, offsetof(RelayConfig, snapshot_chunk_size),
	MIN_SNAPSHOT_CHUNK_SIZE, MAX_SNAPSHOT_CHUNK_SIZE},
	/* kafka */
	{"brokers", KEY_TEXT, offsetof(RelayConfig, brokers), 0, 0},
	{"topic-prefix", KEY_TOPIC, offsetof(RelayConfig, topic_prefix), 0, 0},
	{"topic-template", KEY_TEMPLATE, offsetof(RelayConfig, topic_template), 0, 0},
	{"schema-topic", KEY_TOPIC, offsetof(RelayConfig, schema_topic), 0, 0},
	{"state-topic", KEY_TOPIC, offsetof(RelayConfig, state_topic), 0, 0},
	{"tombstones", KEY_BOOL, offsetof(RelayConfig, tombstones), 0, 0},
	{"dead-letter-topic", KEY_TOPIC, offsetof(RelayConfig, dead_letter_topic), 0, 0},
	{"on-error", KEY_ON_ERROR, offsetof(RelayConfig, on_error), 0, 0},
	{"max-in-flight-bytes", KEY_SIZE, offsetof(RelayConfig, max_in_flight_bytes),
	MIN_IN_FLIGHT_BYTES, MAX_IN_FLIGHT_BYTES},
	/* monitoring */
	{"metrics-listen", KEY_TEXT, offsetof(RelayConfig, metrics_listen), 0, 0},
	{"health-max-lag-bytes", KEY_SIZE, offsetof(RelayConfig, health_max_lag_bytes), 0, MAX_IN_FLIGHT_BYTES},
	{"health-max-error-ratio", KEY_RATIO, offsetof(RelayConfig, health_max_error_ratio), 0, 0},
	{"heartbeat-interval", KEY_SECONDS, offsetof(RelayConfig, heartbeat_interval), 0, MAX_SECONDS},
	{"heartbeat-topic", KEY_TOPIC, offsetof(RelayConfig, heartbeat_topic), 0, 0},
	{"heartbeat-action-query", KEY_TEXT, offsetof(RelayConfig, heartbeat_action_query), 0, 0},
};

/* Codes of the long-only options (past every char). */
enum
{
	OPT_LOG_LEVEL = 256,
	OPT_LOG_FILE,
	OPT_CREATE_SLOT,
	OPT_NO_CREATE_SLOT,
	OPT_RECONNECT_MAX_BACKOFF,
	OPT_SNAPSHOT_MODE,
	OPT_SNAPSHOT_CHUNK_SIZE,
	OPT_TOPIC_PREFIX,
	OPT_TOPIC_TEMPLATE,
	OPT_SCHEMA_TOPIC,
	OPT_STATE_TOPIC,
	OPT_TOMBSTONES,
	OPT_NO_TOMBSTONES,
	OPT_DEAD_LETTER_TOPIC,
	OPT_ON_ERROR,
	OPT_MAX_IN_FLIGHT_BYTES,
	OPT_METRICS_LISTEN,
	OPT_HEALTH_MAX_LAG_BYTES,
	OPT_HEALTH_MAX_ERROR_RATIO,
	OPT_HEARTBEAT_INTERVAL,
	OPT_HEARTBEAT_TOPIC,
	OPT_HEARTBEAT_ACTION_QUERY,
	OPT_PRINT_CONFIG
};

/*
 * The command line.  A long option named like a key sets that key; the
 * groups match the sections of --help.
 */
static const char short_options[] = ":c:vd:S:o:E:n::s:b:X:V";
static const struct option long_options[] = {
	/* general */
	{"config", required_argument, NULL, 'c'},
	{"log-level", required_argument, NULL, OPT_LOG_LEVEL},
	{"log-file", required_argument, NULL, OPT_LOG_FILE},
	{"verbose", no_argument, NULL, 'v'},
	/* connection */
	{"dbname", required_argument, NULL, 'd'},
	/* replication */
	{"slot", required_argument, NULL, 'S'},
	{"create-slot", optional_argument, NULL, OPT_CREATE_SLOT},
	{"no-create-slot", no_argument, NULL, OPT_NO_CREATE_SLOT},
	{"plugin-option", required_argument, NULL, 'o'},
	{"endpos", required_argument, NULL, 'E'},
	{"no-loop", optional_argument, NULL, 'n'},
	{"status-interval", required_argument, NULL, 's'},
	{"reconnect-max-backoff", required_argument, NULL, OPT_RECONNECT_MAX_BACKOFF},
	{"snapshot-mode", required_argument, NULL, OPT_SNAPSHOT_MODE},
	{"snapshot-chunk-size", required_argument, NULL, OPT_SNAPSHOT_CHUNK_SIZE},
	/* kafka */
	{"brokers", required_argument, NULL, 'b'},
	{"kafka", required_argument, NULL, 'X'},
	{"topic-prefix", required_argument, NULL, OPT_TOPIC_PREFIX},
	{"topic-template", required_argument, NULL, OPT_TOPIC_TEMPLATE},
	{"schema-topic", required_argument, NULL, OPT_SCHEMA_TOPIC},
	{"state-topic", required_argument, NULL, OPT_STATE_TOPIC},
	{"tombstones", optional_argument, NULL, OPT_TOMBSTONES},
	{"no-tombstones", no_argument, NULL, OPT_NO_TOMBSTONES},
	{"dead-letter-topic", required_argument, NULL, OPT_DEAD_LETTER_TOPIC},
	{"on-error", required_argument, NULL, OPT_ON_ERROR},
	{"max-in-flight-bytes", required_argument, NULL, OPT_MAX_IN_FLIGHT_BYTES},
	/* monitoring */
	{"metrics-listen", required_argument, NULL, OPT_METRICS_LISTEN},
	{"health-max-lag-bytes", required_argument, NULL, OPT_HEALTH_MAX_LAG_BYTES},
	{"health-max-error-ratio", required_argument, NULL, OPT_HEALTH_MAX_ERROR_RATIO},
	{"heartbeat-interval", required_argument, NULL, OPT_HEARTBEAT_INTERVAL},
	{"heartbeat-topic", required_argument, NULL, OPT_HEARTBEAT_TOPIC},
	{"heartbeat-action-query", required_argument, NULL, OPT_HEARTBEAT_ACTION_QUERY},
	/* actions */
	{"print-config", no_argument, NULL, OPT_PRINT_CONFIG},
	{"version", no_argument, NULL, 'V'},
	{"help", no_argument, NULL, '?'},
	{NULL, 0, NULL, 0}
};

/* Environment variables naming a setting; NAME_FILE reads it from a file. */
static const struct
{
	const char *var;
	const char *key;
}			env_settings[] = {
	{"WAL2AVRO_DBNAME", "dbname"},
	{"WAL2AVRO_BROKERS", "brokers"},
	{"WAL2AVRO_SLOT", "slot"},
	{"WAL2AVRO_SASL_PASSWORD", KAFKA_PREFIX "sasl.password"},
};

/* Settings of the command line, applied after the file and environment. */
typedef struct PendingSetting
{
	const char *key;			/* a key name, or NULL for kafka: see name */
	char	   *name;			/* kafka property (malloc'd), when key is NULL */
	const char *value;			/* points into argv or a literal */
} PendingSetting;


/* Prefix err's message with "<fmt>: " (a file and line, a variable). */
static void prefix_error(char *err, size_t errlen, const char *fmt,...) RELAY_PRINTF(3, 4);

static void
prefix_error(char *err, size_t errlen, const char *fmt,...)
{
	char		msg[512];
	char		prefix[512];
	va_list		ap;

	if (err == NULL || errlen == 0)
		return;
	snprintf(msg, sizeof(msg), "%s", err);
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	relay_set_error(err, errlen, "%s: %s", prefix, msg);
}

/* ---- values ---- */

static int
set_string(char **dst, const char *value, char *err, size_t errlen)
{
	char	   *copy = strdup(value);

	if (copy == NULL)
	{
		relay_set_error(err, errlen, "out of memory");
		return -1;
	}
	free(*dst);
	*dst = copy;
	return 0;
}

static bool
parse_bool(const char *text, bool *out)
{
	static const char *const yes[] = {"true", "on", "yes", "1"};
	static const char *const no[] = {"false", "off", "no", "0"};

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
	{
		if (strcasecmp(text, yes[i]) == 0)
		{
			*out = true;
			return true;
		}
		if (strcasecmp(text, no[i]) == 0)
		{
			*out = false;
			return true;
		}
	}
	return false;
}

/*
 * The one number parser: a decimal integer, with a byte unit when
 * "units" (k, kB, KiB, M, MB, MiB, G, GB, GiB, case-insensitive, all powers
 * of 1024 as in PostgreSQL), within [min, max].  The message names the
 * option.
 */
static int
parse_number(const char *option, const char *text, bool units,
			 int64_t min, int64_t max, int64_t *out, char *err, size_t errlen)
{
	static const struct
	{
		const char *suffix;
		int64_t		factor;
	}			unit_table[] = {
		{"", 1}, {"b", 1},
		{"k", INT64_C(1) << 10}, {"kb", INT64_C(1) << 10}, {"kib", INT64_C(1) << 10},
		{"m", INT64_C(1) << 20}, {"mb", INT64_C(1) << 20}, {"mib", INT64_C(1) << 20},
		{"g", INT64_C(1) << 30}, {"gb", INT64_C(1) << 30}, {"gib", INT64_C(1) << 30},
	};
	const char *p = text;
	int64_t		v = 0;
	int64_t		factor = -1;
	bool		overflow = false;

	if (!isdigit((unsigned char) *p))
		goto invalid;
	for (; isdigit((unsigned char) *p); p++)
	{
		if (v > (INT64_MAX - (*p - '0')) / 10)
			overflow = true;
		else
			v = v * 10 + (*p - '0');
	}
	for (size_t i = 0; i < sizeof(unit_table) / sizeof(unit_table[0]); i++)
	{
		if ((units || i == 0) && strcasecmp(p, unit_table[i].suffix) == 0)
			factor = unit_table[i].factor;
	}
	if (factor < 0)
		goto invalid;
	if (overflow || v > INT64_MAX / factor)
		overflow = true;
	else
		v *= factor;
	if (overflow || v < min || v > max)
	{
		relay_set_error(err, errlen,
				  "value for option \"%s\" out of range: %s (must be between %lld and %lld)",
				  option, text, (long long) min, (long long) max);
		return -1;
	}
	*out = v;
	return 0;

invalid:
	relay_set_error(err, errlen, "invalid value for option \"%s\": \"%s\" (expected %s)",
			  option, text, units ? "a number of bytes, optionally with a unit such as MB" :
			  "an integer");
	return -1;
}

static bool
is_topic_char(int c)
{
	return isalnum(c) || c == '.' || c == '_' || c == '-';
}

static int
check_topic(const char *option, const char *value, char *err, size_t errlen)
{
	size_t		len = strlen(value);

	for (const char *p = value; *p; p++)
	{
		if (!is_topic_char((unsigned char) *p))
		{
			relay_set_error(err, errlen,
					  "invalid value for option \"%s\": \"%s\" (Kafka topic names may only contain letters, digits, \".\", \"_\" and \"-\")",
					  option, value);
			return -1;
		}
	}
	if (len > MAX_TOPIC_LEN || strcmp(value, ".") == 0 || strcmp(value, "..") == 0)
	{
		relay_set_error(err, errlen,
				  "invalid value for option \"%s\": \"%s\" (not a valid Kafka topic name)",
				  option, value);
		return -1;
	}
	return 0;
}

static int
check_slot(const char *value, char *err, size_t errlen)
{
	for (const char *p = value; *p; p++)
	{
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
		{
			relay_set_error(err, errlen,
					  "invalid value for option \"slot\": \"%s\" (replication slot names may only contain lower case letters, numbers and the underscore character)",
					  value);
			return -1;
		}
	}
	if (strlen(value) > MAX_SLOT_LEN)
	{
		relay_set_error(err, errlen,
				  "invalid value for option \"slot\": \"%s\" (longer than %d characters)",
				  value, MAX_SLOT_LEN);
		return -1;
	}
	return 0;
}

/*
 * The placeholder at p (just past "{"), or NULL; *len gets the length of
 * the name with its closing brace.
 */
static const char *
template_placeholder(const char *p, size_t *len)
{
	static const char *const names[] = {"prefix", "schema", "table", "op", "op_name"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
	{
		size_t		n = strlen(names[i]);

		if (strncmp(p, names[i], n) == 0 && p[n] == '}')
		{
			*len = n + 1;
			return names[i];
		}
	}
	return NULL;
}

static int
check_template(const char *value, char *err, size_t errlen)
{
	const char *p = value;

	while (*p)
	{
		size_t		len;

		if (*p == '{')
		{
			if (template_placeholder(p + 1, &len) == NULL)
			{
				relay_set_error(err, errlen,
						  "invalid value for option \"topic-template\": \"%s\" (unknown placeholder at \"%s\"; the placeholders are {prefix}, {schema}, {table}, {op} and {op_name})",
						  value, p);
				return -1;
			}
			p += 1 + len;
			continue;
		}
		if (!is_topic_char((unsigned char) *p))
		{
			relay_set_error(err, errlen,
					  "invalid value for option \"topic-template\": \"%s\" (character \"%c\" is not allowed in Kafka topic names)",
					  value, *p);
			return -1;
		}
		p++;
	}
	return 0;
}

/* ---- name=value lists ---- */

static int
settings_set(RelaySettingList *list, const char *name, size_t name_len,
			 const char *value, char *err, size_t errlen)
{
	char	   *copy = NULL;
	RelaySetting *s;

	if (value != NULL && (copy = strdup(value)) == NULL)
		goto oom;
	for (size_t i = 0; i < list->count; i++)
	{
		s = &list->items[i];
		if (strlen(s->name) == name_len && memcmp(s->name, name, name_len) == 0)
		{
			free(s->value);
			s->value = copy;
			return 0;
		}
	}
	if (list->count == list->capacity)
	{
		size_t		cap = list->capacity ? list->capacity * 2 : 8;
		RelaySetting *items = realloc(list->items, cap * sizeof(RelaySetting));

		if (items == NULL)
			goto oom;
		list->items = items;
		list->capacity = cap;
	}
	s = &list->items[list->count];
	if ((s->name = strndup(name, name_len)) == NULL)
		goto oom;
	s->value = copy;
	list->count++;
	return 0;

oom:
	free(copy);
	relay_set_error(err, errlen, "out of memory");
	return -1;
}

static void
settings_free(RelaySettingList *list)
{
	for (size_t i = 0; i < list->count; i++)
	{
		free(list->items[i].name);
		free(list->items[i].value);
	}
	free(list->items);
	memset(list, 0, sizeof(*list));
}

static const char *
settings_get(const RelaySettingList *list, const char *name)
{
	for (size_t i = 0; i < list->count; i++)
		if (strcmp(list->items[i].name, name) == 0)
			return list->items[i].value;
	return NULL;
}

static bool
is_property_name(const char *name, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!is_topic_char((unsigned char) name[i]))
			return false;
	return true;
}

/* ---- applying one setting ---- */

static const ConfigKey *
find_key(const char *name)
{
	for (size_t i = 0; i < sizeof(config_keys) / sizeof(config_keys[0]); i++)
		if (strcmp(config_keys[i].name, name) == 0)
			return &config_keys[i];
	return NULL;
}

/*
 * Set "key" (a key name or "kafka.<property>") from text.  Returns 0, or
 * -1 with a message that names the option but not the source.
 */
static int
apply_setting(RelayConfig *cfg, const char *key, const char *value,
			  char *err, size_t errlen)
{
	const ConfigKey *k;
	char	   *member;
	int64_t		n;

	if (strncmp(key, KAFKA_PREFIX, strlen(KAFKA_PREFIX)) == 0)
	{
		const char *prop = key + strlen(KAFKA_PREFIX);

		if (!is_property_name(prop, strlen(prop)))
		{
			relay_set_error(err, errlen, "invalid Kafka property name \"%s\"", prop);
			return -1;
		}
		return settings_set(&cfg->kafka, prop, strlen(prop), value, err, errlen);
	}

	k = find_key(key);
	if (k == NULL)
	{
		relay_set_error(err, errlen, "unrecognized key \"%s\"", key);
		return -1;
	}
	member = (char *) cfg + k->offset;
	if (value[0] == '\0' && k->kind != KEY_PLUGIN_OPTION)
	{
		relay_set_error(err, errlen, "option \"%s\" needs a value", k->name);
		return -1;
	}

	switch (k->kind)
	{
		case KEY_SLOT:
			if (check_slot(value, err, errlen) < 0)
				return -1;
			return set_string((char **) member, value, err, errlen);
		case KEY_TOPIC:
			if (check_topic(k->name, value, err, errlen) < 0)
				return -1;
			return set_string((char **) member, value, err, errlen);
		case KEY_TEMPLATE:
			if (check_template(value, err, errlen) < 0)
				return -1;
			return set_string((char **) member, value, err, errlen);
		case KEY_TEXT:
			return set_string((char **) member, value, err, errlen);
		case KEY_BOOL:
			if (!parse_bool(value, (bool *) member))
			{
				relay_set_error(err, errlen,
						  "invalid value for option \"%s\": \"%s\" (expected true, false, on, off, yes, no, 1 or 0)",
						  k->name, value);
				return -1;
			}
			return 0;
		case KEY_SECONDS:
			if (parse_number(k->name, value, false, k->min, k->max, &n, err, errlen) < 0)
				return -1;
			*(int *) member = (int) n;
			return 0;
		case KEY_SIZE:
			if (parse_number(k->name, value, true, k->min, k->max, &n, err, errlen) < 0)
				return -1;
			*(uint64_t *) member = (uint64_t) n;
			return 0;
		case KEY_RATIO:
			{
				char	   *end;
				double		d;

				errno = 0;
				d = strtod(value, &end);
				if (errno != 0 || end == value || *end != '\0' || !(d >= 0.0 && d <= 1.0))
				{
					relay_set_error(err, errlen,
							  "invalid value for option \"%s\": \"%s\" (expected a fraction from 0 to 1)",
							  k->name, value);
					return -1;
				}
				*(double *) member = d;
				return 0;
			}
		case KEY_LOG_LEVEL:
			if (!relay_log_level_parse(value, (RelayLogLevel *) member))
			{
				relay_set_error(err, errlen,
						  "invalid value for option \"%s\": \"%s\" (expected error, warning, info, debug or trace)",
						  k->name, value);
				return -1;
			}
			return 0;
		case KEY_LSN:
			if (!relay_lsn_parse(value, (Lsn *) member) || *(Lsn *) member == INVALID_LSN)
			{
				*(Lsn *) member = INVALID_LSN;
				relay_set_error(err, errlen,
						  "invalid value for option \"%s\": \"%s\" (expected an LSN such as 16/B374D848, not 0/0)",
						  k->name, value);
				return -1;
			}
			return 0;
		case KEY_ON_ERROR:
			if (strcmp(value, "stop") == 0)
				*(RelayOnError *) member = RELAY_ON_ERROR_STOP;
			else if (strcmp(value, "dead-letter") == 0)
				*(RelayOnError *) member = RELAY_ON_ERROR_DEAD_LETTER;
			else
			{
				relay_set_error(err, errlen,
						  "invalid value for option \"%s\": \"%s\" (expected stop or dead-letter)",
						  k->name, value);
				return -1;
			}
			return 0;
		case KEY_SNAPSHOT_MODE:
			if (!config_snapshot_mode_parse(value, (RelaySnapshotMode *) member))
			{
				relay_set_error(err, errlen,
						  "invalid value for option \"%s\": \"%s\" (expected initial, never or initial_only)",
						  k->name, value);
				return -1;
			}
			return 0;
		case KEY_PLUGIN_OPTION:
			{
				const char *eq = strchr(value, '=');
				size_t		name_len = eq ? (size_t) (eq - value) : strlen(value);

				if (!is_property_name(value, name_len))
				{
					relay_set_error(err, errlen,
							  "invalid value for option \"%s\": \"%s\" (expected NAME or NAME=VALUE)",
							  k->name, value);
					return -1;
				}
				return settings_set((RelaySettingList *) member, value, name_len,
									eq ? eq + 1 : NULL, err, errlen);
			}
	}
	relay_set_error(err, errlen, "unhandled key \"%s\"", key);
	return -1;
}

/* ---- the config file ---- */

/*
 * Split one line into key and value, in place.  Returns 1 with *key and
 * *value set, 0 for a blank or comment line, -1 with a message.
 */
static int
split_line(char *line, char **key, char **value, char *err, size_t errlen)
{
	char	   *p = line;
	char	   *end;

	while (isspace((unsigned char) *p))
		p++;
	if (*p == '\0' || *p == '#')
		return 0;
	*key = p;
	while (*p && !isspace((unsigned char) *p) && *p != '=')
		p++;
	end = p;
	while (isspace((unsigned char) *p))
		p++;
	if (*p != '=')
	{
		*end = '\0';
		relay_set_error(err, errlen, "syntax error: expected \"=\" after \"%s\"", *key);
		return -1;
	}
	*end = '\0';
	p++;
	while (isspace((unsigned char) *p))
		p++;

	if (*p != '"')
	{
		*value = p;
		end = p + strlen(p);
		while (end > p && isspace((unsigned char) end[-1]))
			end--;
		*end = '\0';
		return 1;
	}

	/* A quoted value, unescaped in place. */
	*value = ++p;
	end = p;
	for (;;)
	{
		if (*p == '\0')
		{
			relay_set_error(err, errlen, "unterminated quoted value for \"%s\"", *key);
			return -1;
		}
		if (*p == '"')
			break;
		if (*p == '\\')
		{
			if (p[1] != '"' && p[1] != '\\')
			{
				relay_set_error(err, errlen,
						  "invalid escape \"\\%c\" in the value of \"%s\" (only \\\" and \\\\ are known)",
						  p[1] ? p[1] : ' ', *key);
				return -1;
			}
			p++;
		}
		*end++ = *p++;
	}
	p++;
	*end = '\0';
	while (isspace((unsigned char) *p))
		p++;
	if (*p != '\0' && *p != '#')
	{
		relay_set_error(err, errlen, "unexpected text after the quoted value of \"%s\"", *key);
		return -1;
	}
	return 1;
}

static int
load_file(RelayConfig *cfg, const char *path, char *err, size_t errlen)
{
	FILE	   *f = fopen(path, "r");
	char	   *line = NULL;
	size_t		size = 0;
	ssize_t		n;
	int			lineno = 0;
	int			rc = 0;

	if (f == NULL)
	{
		relay_set_error(err, errlen, "could not open configuration file \"%s\": %s",
				  path, strerror(errno));
		return -1;
	}
	while ((n = getline(&line, &size, f)) >= 0)
	{
		char	   *key;
		char	   *value;
		int			r;

		lineno++;
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		if (n > 0 && line[n - 1] == '\r')
			line[--n] = '\0';
		if (strlen(line) != (size_t) n)
		{
			relay_set_error(err, errlen, "%s:%d: line contains a NUL byte", path, lineno);
			rc = -1;
			break;
		}
		r = split_line(line, &key, &value, err, errlen);
		if (r == 0)
			continue;
		if (r > 0 && strcmp(key, "config") == 0)
		{
			relay_set_error(err, errlen, "key \"config\" is only allowed on the command line");
			r = -1;
		}
		else if (r > 0)
			r = apply_setting(cfg, key, value, err, errlen) < 0 ? -1 : 1;
		if (r < 0)
		{
			prefix_error(err, errlen, "%s:%d", path, lineno);
			rc = -1;
			break;
		}
	}
	if (rc == 0 && ferror(f))
	{
		relay_set_error(err, errlen, "could not read configuration file \"%s\": %s",
				  path, strerror(errno));
		rc = -1;
	}
	free(line);
	fclose(f);
	return rc;
}

/* ---- the environment ---- */

/*
 * The value of variable "var", or of the file named by "var"_FILE (its
 * trailing newlines dropped).  Returns 0 with *out malloc'd or NULL when
 * neither is set (empty counts as unset), -1 with a message.
 */
static int
read_env(const char *var, char **out, char *err, size_t errlen)
{
	char		file_var[128];
	const char *direct = getenv(var);
	const char *path;
	FILE	   *f;
	char	   *buf;
	size_t		n;

	*out = NULL;
	snprintf(file_var, sizeof(file_var), "%s_FILE", var);
	path = getenv(file_var);
	if (direct && !*direct)
		direct = NULL;
	if (path && !*path)
		path = NULL;
	if (direct && path)
	{
		relay_set_error(err, errlen, "both %s and %s are set", var, file_var);
		return -1;
	}
	if (direct)
	{
		if ((*out = strdup(direct)) == NULL)
		{
			relay_set_error(err, errlen, "out of memory");
			return -1;
		}
		return 0;
	}
	if (path == NULL)
		return 0;

	f = fopen(path, "r");
	if (f == NULL)
	{
		relay_set_error(err, errlen, "could not open file \"%s\" named by %s: %s",
				  path, file_var, strerror(errno));
		return -1;
	}
	buf = malloc(MAX_SECRET_FILE + 1);
	if (buf == NULL)
	{
		fclose(f);
		relay_set_error(err, errlen, "out of memory");
		return -1;
	}
	n = fread(buf, 1, MAX_SECRET_FILE + 1, f);
	if (ferror(f) || n > MAX_SECRET_FILE)
	{
		relay_set_error(err, errlen, ferror(f) ? "could not read file \"%s\" named by %s"
				  : "file \"%s\" named by %s is larger than 64 kB", path, file_var);
		free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	buf[n] = '\0';
	if (n == 0 || strlen(buf) != n)
	{
		relay_set_error(err, errlen, "file \"%s\" named by %s is %s", path, file_var,
				  n == 0 ? "empty" : "not text (it contains a NUL byte)");
		free(buf);
		return -1;
	}
	*out = buf;
	return 0;
}

static int
load_environment(RelayConfig *cfg, char *err, size_t errlen)
{
	char	   *value;

	for (size_t i = 0; i < sizeof(env_settings) / sizeof(env_settings[0]); i++)
	{
		int			r;

		if (read_env(env_settings[i].var, &value, err, errlen) < 0)
			return -1;
		if (value == NULL)
			continue;
		r = apply_setting(cfg, env_settings[i].key, value, err, errlen);
		free(value);
		if (r < 0)
		{
			prefix_error(err, errlen, "environment variable %s", env_settings[i].var);
			return -1;
		}
	}

	/* PGPASSWORD itself is libpq's; only its _FILE form is ours. */
	if (getenv("PGPASSWORD_FILE") && *getenv("PGPASSWORD_FILE"))
	{
		if (read_env("PGPASSWORD", &value, err, errlen) < 0)
			return -1;
		free(cfg->pg_password);
		cfg->pg_password = value;
	}
	return 0;
}

/* ---- the command line ---- */

static const char *
long_option_name(int code)
{
	for (const struct option *o = long_options; o->name; o++)
		if (o->val == code)
			return o->name;
	return NULL;
}

/* Is --help or --version anywhere before "--"?  They win over everything. */
static RelayAction
early_action(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
	{
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-?") == 0)
			return RELAY_ACTION_HELP;
		if (strcmp(argv[i], "--version") == 0 || strcmp(argv[i], "-V") == 0)
			return RELAY_ACTION_VERSION;
	}
	return RELAY_ACTION_STREAM;
}

/*
 * Read argv into "pending" (settings applied later) and the options that
 * act at once (-c, -v, actions).  Returns 0 or -1 with a message.
 */
static int
read_command_line(RelayConfig *cfg, int argc, char **argv,
				  PendingSetting *pending, size_t *npending,
				  const char **config_file, char *err, size_t errlen)
{
	int			c;
	int			longindex;

	optind = 0;					/* glibc: full reinitialization */
	opterr = 0;
	for (;;)
	{
		PendingSetting *p = &pending[*npending];

		longindex = -1;
		c = getopt_long(argc, argv, short_options, long_options, &longindex);
		if (c == -1)
			break;
		p->key = NULL;
		p->name = NULL;
		p->value = optarg;
		switch (c)
		{
			case 'c':
				*config_file = optarg;
				continue;
			case 'v':
				cfg->verbose++;
				continue;
			case OPT_PRINT_CONFIG:
				cfg->action = RELAY_ACTION_PRINT_CONFIG;
				continue;
			case 'V':
				cfg->action = RELAY_ACTION_VERSION;
				return 0;
			case 'X':
				{
					const char *eq = strchr(optarg, '=');

					if (eq == NULL || !is_property_name(optarg, (size_t) (eq - optarg)))
					{
						relay_set_error(err, errlen,
								  "invalid value for option \"kafka\": \"%s\" (expected NAME=VALUE)",
								  optarg);
						return -1;
					}
					p->name = malloc((size_t) (eq - optarg) + sizeof(KAFKA_PREFIX));
					if (p->name == NULL)
					{
						relay_set_error(err, errlen, "out of memory");
						return -1;
					}
					memcpy(p->name, KAFKA_PREFIX, strlen(KAFKA_PREFIX));
					memcpy(p->name + strlen(KAFKA_PREFIX), optarg, (size_t) (eq - optarg));
					p->name[strlen(KAFKA_PREFIX) + (size_t) (eq - optarg)] = '\0';
					p->value = eq + 1;
					break;
				}
			case OPT_NO_CREATE_SLOT:
				p->key = "create-slot";
				p->value = "false";
				break;
			case OPT_NO_TOMBSTONES:
				p->key = "tombstones";
				p->value = "false";
				break;
			case ':':
				relay_set_error(err, errlen, "option \"%s\" requires an argument",
						  argv[optind - 1]);
				return -1;
			case '?':
				if (longindex >= 0 && long_options[longindex].val == '?')
				{
					cfg->action = RELAY_ACTION_HELP;	/* an abbreviated --help */
					return 0;
				}
				/*
				 * optopt is 0 for an unknown long option, the option's code
				 * for a misused long one, the letter for an unknown short one.
				 */
				if (optopt > 0 && optopt < 256 && optopt != ':' &&
					strchr(short_options, optopt) == NULL)
					relay_set_error(err, errlen, "invalid option \"-%c\"", optopt);
				else
					relay_set_error(err, errlen, "invalid option \"%s\"", argv[optind - 1]);
				return -1;
			default:
				/* A long option named like its key. */
				p->key = long_option_name(c);
				if (p->key == NULL)
				{
					relay_set_error(err, errlen, "unhandled option code %d", c);
					return -1;
				}
				if (p->value == NULL)	/* optional boolean argument */
					p->value = "true";
				break;
		}
		(*npending)++;
	}

	if (optind < argc)
	{
		if (strcmp(argv[optind], "tail") == 0)
			relay_set_error(err, errlen, "\"tail\" must come first, as in \"%s tail TOPIC...\"",
					  RELAY_PROGNAME);
		else
			relay_set_error(err, errlen, "too many command-line arguments (first is \"%s\")",
					  argv[optind]);
		return -1;
	}
	return 0;
}

/* ---- validation after the merge ---- */

static int
validate(RelayConfig *cfg, char *err, size_t errlen)
{
	const char *bootstrap = settings_get(&cfg->kafka, "bootstrap.servers");
	const char *broker_list = settings_get(&cfg->kafka, "metadata.broker.list");
	int			level = (int) cfg->log_level + cfg->verbose;

	cfg->log_level = level > RELAY_LOG_TRACE ? RELAY_LOG_TRACE : (RelayLogLevel) level;

	if (cfg->brokers && (bootstrap || broker_list))
	{
		relay_set_error(err, errlen, "conflicting options \"brokers\" and \"kafka.%s\"",
				  bootstrap ? "bootstrap.servers" : "metadata.broker.list");
		return -1;
	}
	if (cfg->action == RELAY_ACTION_STREAM && !cfg->brokers && !bootstrap && !broker_list)
	{
		relay_set_error(err, errlen,
				  "no Kafka brokers given: set \"brokers\" (-b, WAL2AVRO_BROKERS)");
		return -1;
	}
	if (cfg->on_error == RELAY_ON_ERROR_DEAD_LETTER && cfg->dead_letter_topic == NULL)
	{
		relay_set_error(err, errlen,
				  "option \"on-error\" is \"dead-letter\" but \"dead-letter-topic\" is not set");
		return -1;
	}
	if (cfg->dead_letter_topic && cfg->schema_topic &&
		strcmp(cfg->dead_letter_topic, cfg->schema_topic) == 0)
	{
		relay_set_error(err, errlen,
				  "options \"dead-letter-topic\" and \"schema-topic\" name the same topic \"%s\"",
				  cfg->schema_topic);
		return -1;
	}
	return 0;
}

/* ---- public ---- */

int
config_init(RelayConfig *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->action = RELAY_ACTION_STREAM;
	cfg->slot = strdup(DEFAULT_SLOT);
	cfg->create_slot = true;
	cfg->status_interval = DEFAULT_STATUS_INTERVAL;
	cfg->reconnect_max_backoff = DEFAULT_RECONNECT_MAX_BACKOFF;
	cfg->topic_prefix = strdup(DEFAULT_TOPIC_PREFIX);
	cfg->topic_template = strdup(DEFAULT_TOPIC_TEMPLATE);
	cfg->schema_topic = strdup(DEFAULT_SCHEMA_TOPIC);
	cfg->state_topic = strdup(DEFAULT_STATE_TOPIC);
	cfg->snapshot_mode = RELAY_SNAPSHOT_INITIAL;
	cfg->tombstones = true;
	cfg->on_error = RELAY_ON_ERROR_STOP;
	cfg->max_in_flight_bytes = DEFAULT_MAX_IN_FLIGHT_BYTES;
	cfg->snapshot_chunk_size = DEFAULT_SNAPSHOT_CHUNK_SIZE;
	cfg->log_level = RELAY_LOG_DEFAULT;
	cfg->metrics_listen = strdup(DEFAULT_METRICS_LISTEN);
	if (!cfg->slot || !cfg->topic_prefix || !cfg->topic_template || !cfg->schema_topic ||
		!cfg->state_topic || !cfg->metrics_listen)
		return -1;
	return 0;
}

int
config_parse(RelayConfig *cfg, int argc, char **argv, char *err, size_t errlen)
{
	PendingSetting *pending;
	size_t		npending = 0;
	const char *config_file = NULL;
	int			rc = -1;

	if (config_init(cfg) < 0)
	{
		relay_set_error(err, errlen, "out of memory");
		return -1;
	}
	cfg->action = early_action(argc, argv);
	if (cfg->action != RELAY_ACTION_STREAM)
		return 0;

	/* No more settings than arguments. */
	pending = calloc((size_t) argc + 1, sizeof(PendingSetting));
	if (pending == NULL)
	{
		relay_set_error(err, errlen, "out of memory");
		return -1;
	}
	if (read_command_line(cfg, argc, argv, pending, &npending, &config_file,
						  err, errlen) < 0)
		goto done;
	if (cfg->action == RELAY_ACTION_HELP || cfg->action == RELAY_ACTION_VERSION)
	{
		rc = 0;
		goto done;
	}

	if (config_file)
	{
		if (set_string(&cfg->config_file, config_file, err, errlen) < 0 ||
			load_file(cfg, config_file, err, errlen) < 0)
			goto done;
	}
	if (load_environment(cfg, err, errlen) < 0)
		goto done;
	for (size_t i = 0; i < npending; i++)
	{
		const char *key = pending[i].key ? pending[i].key : pending[i].name;

		if (apply_setting(cfg, key, pending[i].value, err, errlen) < 0)
			goto done;
	}
	rc = validate(cfg, err, errlen);

done:
	for (size_t i = 0; i <= (size_t) argc; i++)
		free(pending[i].name);
	free(pending);
	return rc;
}

void
config_free(RelayConfig *cfg)
{
	free(cfg->config_file);
	free(cfg->log_file);
	free(cfg->metrics_listen);
	free(cfg->heartbeat_topic);
	free(cfg->heartbeat_action_query);
	free(cfg->dbname);
	free(cfg->pg_password);
	free(cfg->slot);
	free(cfg->brokers);
	free(cfg->topic_prefix);
	free(cfg->topic_template);
	free(cfg->schema_topic);
	free(cfg->state_topic);
	free(cfg->dead_letter_topic);
	settings_free(&cfg->plugin_options);
	settings_free(&cfg->kafka);
	memset(cfg, 0, sizeof(*cfg));
}

bool
config_snapshot_mode_parse(const char *text, RelaySnapshotMode *mode)
{
	if (strcmp(text, "initial") == 0)
		*mode = RELAY_SNAPSHOT_INITIAL;
	else if (strcmp(text, "never") == 0)
		*mode = RELAY_SNAPSHOT_NEVER;
	else if (strcmp(text, "initial_only") == 0)
		*mode = RELAY_SNAPSHOT_INITIAL_ONLY;
	else
		return false;
	return true;
}

const char *
config_snapshot_mode_name(RelaySnapshotMode mode)
{
	switch (mode)
	{
		case RELAY_SNAPSHOT_INITIAL:
			return "initial";
		case RELAY_SNAPSHOT_NEVER:
			return "never";
		case RELAY_SNAPSHOT_INITIAL_ONLY:
			return "initial_only";
	}
	return "initial";
}

void
config_version(FILE *out)
{
	fprintf(out, "%s (wal2avro) %s\n", RELAY_PROGNAME, RELAY_VERSION);
}

void
config_usage(FILE *out)
{
	fprintf(out,
			"%s streams a wal2avro replication slot to Apache Kafka.\n"
			"\n"
			"Usage:\n"
			"  %s [OPTION]...\n"
			"  %s tail [OPTION]... TOPIC...   print events as JSON (tail --help)\n"
			"\n", RELAY_PROGNAME, RELAY_PROGNAME, RELAY_PROGNAME);
	fprintf(out,
			"General options:\n"
			"  -c, --config=FILE          read settings from FILE (\"key = value\" lines)\n"
			"      --log-level=LEVEL      error, warning, info, debug or trace\n"
			"                             (default: info)\n"
			"      --log-file=FILE        log to FILE, reopened on SIGHUP (default:\n"
			"                             standard error)\n"
			"  -v, --verbose              log one level more; repeat (-vv: every record)\n"
			"\n"
			"Connection options:\n"
			"  -d, --dbname=CONNINFO      database to stream from: conninfo string or URI\n"
			"                             (default: libpq's PG* environment variables)\n"
			"\n");
	fprintf(out,
			"Replication options:\n"
			"  -S, --slot=NAME            logical replication slot (default: %s)\n"
			"      --create-slot[=BOOL]   create the slot if missing (default: true)\n"
			"      --no-create-slot       same as --create-slot=false\n"
			"  -o, --plugin-option=NAME[=VALUE]\n"
			"                             pass an option to the output plugin (repeatable)\n"
			"  -E, --endpos=LSN           stop once everything up to LSN is confirmed\n"
			"  -n, --no-loop[=BOOL]       do not reconnect after a lost connection\n"
			"                             (default: false)\n"
			"  -s, --status-interval=SECS time between status updates (default: %d)\n"
			"      --reconnect-max-backoff=SECS\n"
			"                             longest wait between reconnects (default: %d)\n"
			"      --snapshot-mode=MODE   initial (read every table when the slot is\n"
			"                             created), never, or initial_only (read the\n"
			"                             tables, then exit) (default: initial)\n"
			"      --snapshot-chunk-size=SIZE\n"
			"                             heap bytes an on-demand snapshot reads at a\n"
			"                             time (wal2avro.request_snapshot())\n"
			"                             (default: 8MB)\n"
			"\n", DEFAULT_SLOT, DEFAULT_STATUS_INTERVAL, DEFAULT_RECONNECT_MAX_BACKOFF);
	fprintf(out,
			"Kafka options:\n"
			"  -b, --brokers=HOST:PORT[,...]\n"
			"                             bootstrap servers (required to stream)\n"
			"  -X, --kafka=NAME=VALUE     set librdkafka property NAME (repeatable)\n"
			"      --topic-prefix=PREFIX  {prefix} in the topic template\n"
			"                             (default: %s)\n"
			"      --topic-template=TEMPLATE\n"
			"                             topic of a table, from {prefix}, {schema},\n"
			"                             {table}, {op} (c, u, d) and {op_name}\n"
			"                             (created, updated, deleted)\n"
			"                             (default: %s)\n"
			"      --schema-topic=TOPIC   topic receiving every schema\n"
			"                             (default: %s)\n"
			"      --state-topic=TOPIC    compacted topic of the confirmed position and\n"
			"                             the snapshot markers\n"
			"                             (default: %s)\n"
			"      --tombstones[=BOOL]    follow each delete with a null-valued record\n"
			"                             (default: true)\n"
			"      --no-tombstones        same as --tombstones=false\n"
			"      --dead-letter-topic=TOPIC\n"
			"                             topic for records Kafka refused (no default)\n"
			"      --on-error=POLICY      on a failed delivery: stop or dead-letter\n"
			"                             (default: stop)\n"
			"      --max-in-flight-bytes=SIZE\n"
			"                             stop reading WAL while this much awaits\n"
			"                             acknowledgement (default: 16MB)\n"
			"\n", DEFAULT_TOPIC_PREFIX, DEFAULT_TOPIC_TEMPLATE, DEFAULT_SCHEMA_TOPIC,
			DEFAULT_STATE_TOPIC);
	fprintf(out,
			"Monitoring options:\n"
			"      --metrics-listen=HOST:PORT\n"
			"                             serve /metrics, /healthz and /readyz over HTTP;\n"
			"                             \"off\" turns it off (default: %s)\n"
			"      --health-max-lag-bytes=SIZE\n"
			"                             /readyz fails above this slot lag (default: 0,\n"
			"                             no limit)\n"
			"      --health-max-error-ratio=FRACTION\n"
			"                             /readyz fails above this share of failed\n"
			"                             deliveries over a minute (default: 0, no limit)\n"
			"      --heartbeat-interval=SECS\n"
			"                             send a heartbeat through the slot and onto the\n"
			"                             heartbeat topic this often (default: 0, none)\n"
			"      --heartbeat-topic=TOPIC\n"
			"                             (default: __wal2avro-heartbeat.PREFIX)\n"
			"      --heartbeat-action-query=SQL\n"
			"                             run this too with each heartbeat, e.g. a write\n"
			"                             that keeps a quiet database moving\n"
			"\n", DEFAULT_METRICS_LISTEN);
	fprintf(out,
			"Actions:\n"
			"      --print-config         print the effective configuration, secrets\n"
			"                             masked, then exit\n"
			"  -V, --version              output version information, then exit\n"
			"  -?, --help                 show this help, then exit\n"
			"\n"
			"Settings:\n"
			"  Every long option is also a config-file key (\"kafka.NAME = VALUE\" for -X).\n"
			"  Later sources win: defaults, config file, environment, command line.\n"
			"  Environment: WAL2AVRO_DBNAME, WAL2AVRO_BROKERS, WAL2AVRO_SLOT and\n"
			"  WAL2AVRO_SASL_PASSWORD (kafka.sasl.password); VAR_FILE reads VAR from a\n"
			"  file, PGPASSWORD_FILE too.  libpq reads PGPASSWORD and the other PG* itself.\n"
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

int
config_expand_topic(const RelayConfig *cfg, const char *schema,
					const char *table, const char *op, char *buf, size_t buflen)
{
	const char *p = cfg->topic_template;
	size_t		n = 0;

	if (buflen == 0)
		return -1;
	while (*p)
	{
		const char *piece = p;
		size_t		len = 1;
		size_t		skip = 1;
		const char *name;

		if (*p == '{' && (name = template_placeholder(p + 1, &skip)) != NULL)
		{
			if (strcmp(name, "prefix") == 0)
				piece = cfg->topic_prefix;
			else if (strcmp(name, "schema") == 0)
				piece = schema;
			else if (strcmp(name, "table") == 0)
				piece = table;
			else if (strcmp(name, "op_name") == 0)
				piece = !op ? "" : op[0] == 'c' ? "created" : op[0] == 'u' ? "updated" :
					op[0] == 'd' ? "deleted" : op[0] == 'r' ? "read" : op;
			else
				piece = op ? op : "";
			len = strlen(piece);
			skip += 1;
		}
		if (n + len >= buflen)
			return -1;
		memcpy(buf + n, piece, len);
		n += len;
		p += skip;
	}
	buf[n] = '\0';
	return (int) n;
}
