/*-------------------------------------------------------------------------
 *
 * config.h
 *		The relay's configuration: the option table and --help
 *		(config_options.c), values (config_values.c), sources (config.c,
 *		config_file.c) and --print-config (config_print.c).
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/config.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RELAY_CONFIG_H
#define RELAY_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "log.h"
#include "lsn.h"

/* A name=value setting kept in order: plugin options, kafka.* properties. */
typedef struct RelaySetting
{
	char	   *name;
	char	   *value;			/* NULL: a plugin option given without a value */
} RelaySetting;

/*
 * What the relay does with a delete of Debezium's flat value (compat=debezium,
 * envelope=flat), by ExtractNewRecordState's delete.tombstone.handling.mode;
 * RELAY_FLAT_OFF: not the flat value (Debezium's envelope, or wal2avro's).
 */
typedef enum RelayFlatDeletes
{
	RELAY_FLAT_OFF,
	RELAY_FLAT_TOMBSTONE,		/* the delete's value null (with its schema in
								 * JSON), no tombstone */
	RELAY_FLAT_DROP,			/* no record for a delete */
	RELAY_FLAT_REWRITE,			/* the old row, no tombstone */
	RELAY_FLAT_REWRITE_TOMBSTONE,	/* the old row, then a tombstone */
	RELAY_FLAT_DELETE_TO_TOMBSTONE	/* a tombstone in the delete's place */
} RelayFlatDeletes;

typedef struct RelaySettingList
{
	RelaySetting *items;
	size_t		count;
	size_t		capacity;
} RelaySettingList;

typedef enum RelayOnError
{
	RELAY_ON_ERROR_STOP = 0,	/* a failed delivery stops the relay (exit 3) */
	RELAY_ON_ERROR_DEAD_LETTER	/* send the record to dead-letter-topic instead */
} RelayOnError;

/* How a record's key or value is written (--key-format, --value-format). */
typedef enum RelayFormat
{
	RELAY_FORMAT_AVRO = 0,		/* Avro: single-object encoding, or Confluent's with a registry */
	RELAY_FORMAT_JSON			/* Kafka Connect JsonConverter's JSON of Debezium's record */
} RelayFormat;

/* Whose record the plugin writes (--compat, the plugin's "compat" option). */
typedef enum RelayCompat
{
	RELAY_COMPAT_AUTO = 0,		/* debezium when a format is json, else wal2avro */
	RELAY_COMPAT_WAL2AVRO,		/* wal2avro's own record */
	RELAY_COMPAT_DEBEZIUM		/* Debezium 3.6's PostgreSQL connector's record */
} RelayCompat;

/* When the relay reads the tables it captures (the initial snapshot). */
typedef enum RelaySnapshotMode
{
	RELAY_SNAPSHOT_INITIAL = 0, /* when it creates the slot (the default) */
	RELAY_SNAPSHOT_NEVER,		/* never: stream changes only */
	RELAY_SNAPSHOT_INITIAL_ONLY /* as initial, then exit without streaming */
} RelaySnapshotMode;

/* What the command line asks for; main acts on it. */
typedef enum RelayAction
{
	RELAY_ACTION_STREAM = 0,	/* stream the slot to Kafka (the default) */
	RELAY_ACTION_HELP,			/* print config_usage() to stdout, exit 0 */
	RELAY_ACTION_VERSION,		/* print config_version() to stdout, exit 0 */
	RELAY_ACTION_PRINT_CONFIG	/* print config_print() to stdout, exit 0 */
} RelayAction;

/*
 * The effective configuration.  Strings are owned by the struct (freed by
 * config_free); NULL means "not set".
 */
typedef struct RelayConfig
{
	RelayAction action;
	char	   *config_file;	/* -c: the file read, or NULL */

	/* connection */
	char	   *dbname;			/* libpq conninfo string or URI; NULL: libpq defaults */
	char	   *pg_password;	/* from PGPASSWORD_FILE only (PGPASSWORD is libpq's) */

	/* replication */
	char	   *slot;
	bool		create_slot;	/* create the slot when it does not exist */
	bool		failover_slot;	/* create it with FAILOVER (PostgreSQL 17+) */
	bool		recreate_slot;	/* create it even where a lost one had a position */
	RelaySettingList plugin_options;	/* for START_REPLICATION, in order */
	Lsn			endpos;			/* INVALID_LSN: no end position */
	bool		no_loop;		/* do not reconnect after a lost connection */
	int			status_interval;	/* seconds between status updates */
	int			reconnect_max_backoff;	/* seconds, ceiling of the retry delay */
	RelaySnapshotMode snapshot_mode;

	/* kafka */
	char	   *brokers;		/* bootstrap.servers */
	char	   *topic_prefix;
	char	   *topic_template; /* with {prefix} {schema} {table} {op} {op_name} */
	char	   *schema_topic;
	char	   *state_topic;	/* compacted: confirmed position, snapshot markers */
	bool		tombstones;		/* a null-valued record after each delete */
	RelayFormat key_format;
	RelayFormat value_format;
	bool		json_schemas;	/* json: {"schema":..,"payload":..}, else the payload */
	RelayCompat compat;			/* resolved by config_parse: never AUTO after it */
	/* Debezium's handling modes, passed to the plugin (NULL: its default) */
	char	   *decimal_handling_mode;
	char	   *binary_handling_mode;
	char	   *time_precision_mode;
	char	   *interval_handling_mode;
	char	   *hstore_handling_mode;
	char	   *skipped_operations; /* Debezium's skipped.operations, or NULL */
	/* Debezium's ExtractNewRecordState, passed to the plugin (NULL: not given) */
	char	   *envelope;
	char	   *add_fields;
	char	   *add_fields_prefix;
	char	   *delete_tombstone_handling_mode;
	/* resolved by config_parse from the plugin options: the flat value's deletes */
	RelayFlatDeletes flat_deletes;
	int			flat_added;		/* add-fields items (fields after the row's) */
	bool		provide_transaction_metadata;	/* BEGIN/END on <prefix>.transaction */
	char	   *dead_letter_topic;
	RelayOnError on_error;
	uint64_t	max_in_flight_bytes;	/* stop reading WAL above this */
	uint64_t	snapshot_chunk_size;	/* heap bytes per on-demand chunk */
	RelaySettingList kafka;		/* kafka.<property> without the prefix, in order */

	/* schema registry: Confluent wire format when schema_registry is set */
	char	   *schema_registry;	/* URL[,URL...], or NULL */
	char	   *schema_registry_user;	/* basic auth */
	char	   *schema_registry_password;
	char	   *schema_registry_ca; /* CA file for https */

	/* monitoring */
	char	   *metrics_listen; /* "host:port" of the HTTP endpoint, or "off" */
	uint64_t	health_max_lag_bytes;	/* not ready above this slot lag; 0: no limit */
	double		health_max_error_ratio; /* not ready above this; 0: no limit */
	int			heartbeat_interval; /* seconds; 0: no heartbeats */
	char	   *heartbeat_topic;	/* NULL: __wal2avro-heartbeat.<prefix> */
	char	   *heartbeat_action_query; /* run with each heartbeat, or NULL */

	/* general */
	RelayLogLevel log_level;	/* effective: log-level raised by each -v */
	char	   *log_file;		/* NULL: standard error */
	int			verbose;		/* number of -v given */
} RelayConfig;


/* ---- config_options.c: the option table and --help ---- */

/* How an option's text becomes a member of RelayConfig, and back. */
typedef enum ConfigType
{
	CONFIG_TEXT,				/* char *: any non-empty string */
	CONFIG_CONNINFO,			/* char *: conninfo or URI, its passwords masked */
	CONFIG_SLOT,				/* char *: a replication slot name */
	CONFIG_TOPIC,				/* char *: a Kafka topic name (or prefix) */
	CONFIG_TEMPLATE,			/* char *: topic template with placeholders */
	CONFIG_BOOL,				/* bool; the argument is optional (true) */
	CONFIG_SECONDS,				/* int in [min, max] */
	CONFIG_SIZE,				/* uint64_t bytes, unit optional, in [min, max] */
	CONFIG_RATIO,				/* double from 0 to 1 */
	CONFIG_LSN,					/* Lsn, not 0/0 */
	CONFIG_ENUM,				/* an enum, one of names[] (case-insensitive
								 * with CONFIG_ANY_CASE) */
	CONFIG_PLUGIN_OPTION,		/* RelaySettingList: NAME[=VALUE] appended */
	CONFIG_KAFKA,				/* RelaySettingList: -X NAME=VALUE; the
								 * config-file key is "kafka.NAME" */
	CONFIG_FILE,				/* char *: -c, the config file to read */
	CONFIG_COUNT,				/* int: how often given (-v) */
	CONFIG_ACTION				/* set cfg->action to "min" (--help) */
} ConfigType;

/* ConfigOption.flags */
#define CONFIG_SECRET		0x01	/* --print-config masks the value */
#define CONFIG_NO_KEY		0x02	/* command line only: no config-file key */
#define CONFIG_NO_ENV		0x04	/* no environment variable */
#define CONFIG_ANY_CASE		0x08	/* CONFIG_ENUM: names match in any case */

/*
 * One option: its long name (also its config-file key), short letter,
 * environment variable, type, place in RelayConfig, default, --help text.
 * getopt's tables, the config-file keys, the environment, the defaults,
 * --help and --print-config are all generated from config_options[].
 */
typedef struct ConfigOption
{
	const char *heading;		/* --help: a section starts here, or NULL */
	const char *name;			/* long option and config-file key */
	char		letter;			/* short option, or 0 */
	ConfigType	type;
	size_t		offset;			/* of the member in RelayConfig */
	const char *env;			/* environment variable (with a _FILE form) */
	const char *def;			/* default, parsed as a value; NULL: zero */
	int64_t		min;			/* a number's range; an action's RelayAction */
	int64_t		max;
	const char *const *names;	/* CONFIG_ENUM: values in enum order, NULL
								 * ended */
	const char *negation;		/* a CONFIG_BOOL's "no-NAME" form, or NULL */
	const char *arg;			/* --help: the argument's placeholder */
	const char *help;			/* --help: lower-case, "(default: ...)" added */
	unsigned	flags;
} ConfigOption;

/* The option table, in --help and --print-config order. */
extern const ConfigOption config_options[];
extern const size_t config_option_count;

/*
 * An environment variable that sets a kafka.* property (a secret kept out
 * of files and argv).
 */
typedef struct ConfigEnvProperty
{
	const char *env;
	const char *key;			/* "kafka.<property>" */
} ConfigEnvProperty;

extern const ConfigEnvProperty config_env_properties[];
extern const size_t config_env_property_count;

/* The option of this long name or config-file key, or NULL. */
extern const ConfigOption *config_option_find(const char *name);

/*
 * The --help text, generated from config_options, to "out".  Never fails
 * (write errors are the caller's).
 */
extern void config_usage(FILE *out);

/* The --version line, to "out". */
extern void config_version(FILE *out);


/* ---- config.c: command line, environment, checks across options ---- */

/*
 * Build the configuration from, in increasing precedence, the defaults, the
 * file named by -c/--config, the environment (WAL2AVRO_DBNAME, _BROKERS,
 * _SLOT, _SASL_PASSWORD, PGPASSWORD_FILE and the *_FILE forms) and the
 * command line, then validate the result.  *cfg is initialized here (what
 * it held is overwritten, not freed).  --help and --version anywhere on the
 * command line win before anything is parsed: they set cfg->action and
 * return 0.  Returns 0 on success, or -1
 * with a one-line message in err (no "error:" prefix, no newline); *cfg is
 * then partly filled and must still be freed.  getopt's state is reset, so
 * it may be called more than once in a process (tests do).
 */
extern int	config_parse(RelayConfig *cfg, int argc, char **argv,
						 char *err, size_t errlen);


/* ---- config_values.c: one option's value, defaults, freeing ---- */

/*
 * Fill *cfg with the defaults.  Returns 0, or -1 when out of memory; either
 * way pair it with config_free.  config_parse calls it itself.
 */
extern int	config_init(RelayConfig *cfg);

/*
 * Set option o from text, checked by its type; a list option appends.
 * Returns 0, or -1 with a message naming the option but not the source.
 */
extern int	config_set_option(RelayConfig *cfg, const ConfigOption *o, const char *value,
							  char *err, size_t errlen);

/*
 * Set one config-file key ("slot", "kafka.acks") from text, as
 * config_set_option.  Returns 0, or -1 with a message naming the key.
 */
extern int	config_set(RelayConfig *cfg, const char *key, const char *value,
					   char *err, size_t errlen);

/* The value of "name" in a list, or NULL (also for a name without value). */
extern const char *config_setting_get(const RelaySettingList *list, const char *name);

/* Free every string and list in *cfg and zero it.  Never fails. */
extern void config_free(RelayConfig *cfg);

/*
 * Expand cfg->topic_template for one table into buf (of size buflen, NUL
 * terminated).  op is a one-letter op ("c", "u", "d", "t") or NULL when the
 * template has no {op}.  The name is then made one Kafka accepts by
 * config_topic_sanitize; *adjusted (when not NULL) says whether that changed
 * it.  Returns the topic's length, or -1 when the expansion does not fit in
 * buf.
 */
extern int	config_expand_topic(const RelayConfig *cfg, const char *schema,
								const char *table, const char *op, char *buf, size_t buflen,
								bool *adjusted);

/*
 * Make a topic name one Kafka accepts, by the rule of Debezium's topic
 * naming (AbstractTopicNamingStrategy.sanitizedTopicName), so a table gets
 * the topic it had under Debezium: each character outside [A-Za-z0-9._-]
 * becomes "_", one per UTF-16 unit as Java counts them (a character outside
 * the Basic Multilingual Plane becomes "__", a byte that is not UTF-8 one
 * "_"); then a name over 249 characters is cut to 249, and "." and ".."
 * become "_" and "__".  In place (the result is never longer); returns
 * whether it changed anything.
 */
extern bool config_topic_sanitize(char *name);


/* ---- config_file.c: the "key = value" file ---- */

/*
 * Read the config file at "path", calling config_set for each key in file
 * order.  Returns 0, or -1 with "path:line: message" (or a message naming
 * the file when it cannot be opened or read).
 */
extern int	config_file_read(RelayConfig *cfg, const char *path,
							 char *err, size_t errlen);


/* ---- config_print.c: the effective configuration, secrets masked ---- */

/*
 * Print the effective configuration to "out" in config-file syntax, one
 * "key = value" a line, every key, secrets replaced by "***": options marked
 * secret (the password inside a conninfo string or URI), and settings named
 * like a password, secret, token, private key or SASL credential.  The
 * output parses back with -c (the secrets aside).
 */
extern void config_print(const RelayConfig *cfg, FILE *out);

/*
 * Would a setting of this name (a kafka property, plugin option or conninfo
 * keyword) be masked by config_print?
 */
extern bool config_is_secret(const char *name);

/*
 * A copy of a libpq conninfo string or URI with every password replaced by
 * "***": keywords containing "password", the password of a URI's user info
 * and "password" query parameters.  Text it cannot parse is masked whole.
 * Returns a malloc'd string the caller frees, or NULL when out of memory.
 */
extern char *config_mask_conninfo(const char *conninfo);

#endif							/* RELAY_CONFIG_H */
