/*-------------------------------------------------------------------------
 *
 * config.c
 *		Where the relay's settings come from: the command line, the config
 *		file, the environment; then the checks across options.
 *
 * Precedence is default < config file < environment < command line: the
 * command line is read first (it names the file) into a list of settings,
 * applied last.  getopt's tables and the environment variables read come
 * from the option table (config_options.c); each value goes through
 * config_set_option (config_values.c).
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/config.c
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "program.h"

#define MAX_SECRET_FILE			65536
#define LONG_CODE				256 /* getopt code of option i: LONG_CODE + i */

/* A setting of the command line, applied after the file and environment. */
typedef struct PendingSetting
{
	const ConfigOption *option;
	const char *value;			/* points into argv or a literal */
} PendingSetting;


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

/* Set config-file key "key" from variable "var" (or its _FILE form) if set. */
static int
load_variable(RelayConfig *cfg, const char *var, const char *key, char *err, size_t errlen)
{
	char	   *value;
	char		msg[512];
	int			r;

	if (read_env(var, &value, err, errlen) < 0)
		return -1;
	if (value == NULL)
		return 0;
	r = config_set(cfg, key, value, msg, sizeof(msg));
	free(value);
	if (r < 0)
		relay_set_error(err, errlen, "environment variable %s: %s", var, msg);
	return r;
}

static int
load_environment(RelayConfig *cfg, char *err, size_t errlen)
{
	for (size_t i = 0; i < config_option_count; i++)
		if (config_options[i].env &&
			load_variable(cfg, config_options[i].env, config_options[i].name, err, errlen) < 0)
			return -1;
	for (size_t i = 0; i < config_env_property_count; i++)
		if (load_variable(cfg, config_env_properties[i].env, config_env_properties[i].key,
						  err, errlen) < 0)
			return -1;

	/* PGPASSWORD itself is libpq's; only its _FILE form is ours. */
	if (getenv("PGPASSWORD_FILE") && *getenv("PGPASSWORD_FILE"))
	{
		char	   *value;

		if (read_env("PGPASSWORD", &value, err, errlen) < 0)
			return -1;
		free(cfg->pg_password);
		cfg->pg_password = value;
	}
	return 0;
}

/* ---- the command line ---- */

/* --help or --version anywhere before "--"?  They win over everything. */
static RelayAction
early_action(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
	{
		for (size_t j = 0; j < config_option_count; j++)
		{
			const ConfigOption *o = &config_options[j];

			if (o->type != CONFIG_ACTION ||
				(o->min != RELAY_ACTION_HELP && o->min != RELAY_ACTION_VERSION))
				continue;
			if ((strncmp(argv[i], "--", 2) == 0 && strcmp(argv[i] + 2, o->name) == 0) ||
				(o->letter && argv[i][0] == '-' && argv[i][1] == o->letter && !argv[i][2]))
				return (RelayAction) o->min;
		}
	}
	return RELAY_ACTION_STREAM;
}

/*
 * getopt's tables from config_options: option i has code LONG_CODE + i,
 * its --no- form LONG_CODE + count + i.  Returns the long options
 * (malloc'd) or NULL when out of memory.
 */
static struct option *
getopt_tables(char *shorts, size_t shorts_size)
{
	struct option *longs = calloc(2 * config_option_count + 1, sizeof(struct option));
	size_t		n = 0;
	size_t		s = 0;

	if (longs == NULL)
		return NULL;
	shorts[s++] = ':';
	for (size_t i = 0; i < config_option_count; i++)
	{
		const ConfigOption *o = &config_options[i];
		int			has_arg = o->type == CONFIG_BOOL ? optional_argument :
			o->type == CONFIG_COUNT || o->type == CONFIG_ACTION ? no_argument :
			required_argument;

		longs[n++] = (struct option) {o->name, has_arg, NULL, LONG_CODE + (int) i};
		if (o->negation)
			longs[n++] = (struct option) {o->negation, no_argument, NULL,
			LONG_CODE + (int) (config_option_count + i)};
		if (o->letter && o->letter != '?' && s + 3 < shorts_size)
		{
			shorts[s++] = o->letter;
			if (has_arg != no_argument)
				shorts[s++] = ':';
			if (has_arg == optional_argument)
				shorts[s++] = ':';
		}
	}
	shorts[s] = '\0';
	return longs;
}

/* The option getopt returned code c for; *negated for a --no- form. */
static const ConfigOption *
option_of_code(int c, bool *negated)
{
	*negated = false;
	if (c >= LONG_CODE + (int) config_option_count)
	{
		*negated = true;
		c -= (int) config_option_count;
	}
	if (c >= LONG_CODE)
		return &config_options[c - LONG_CODE];
	for (size_t i = 0; i < config_option_count; i++)
		if (config_options[i].letter == c)
			return &config_options[i];
	return NULL;
}

/*
 * Read argv into "pending" (settings applied later) and the options that
 * act at once (-c, -v, actions).  Returns 0 or -1 with a message.
 */
static int
read_command_line(RelayConfig *cfg, int argc, char **argv, struct option *longs,
				  const char *shorts, PendingSetting *pending, size_t *npending,
				  const char **config_file, char *err, size_t errlen)
{
	int			c;

	optind = 0;					/* glibc: full reinitialization */
	opterr = 0;
	while ((c = getopt_long(argc, argv, shorts, longs, NULL)) != -1)
	{
		bool		negated;
		const ConfigOption *o = option_of_code(c, &negated);

		if (c == ':')
		{
			relay_set_error(err, errlen, "option \"%s\" requires an argument", argv[optind - 1]);
			return -1;
		}
		if (c == '?' || o == NULL)
		{
			/*
			 * optopt is 0 for an unknown long option, the option's code for
			 * a misused long one, the letter for an unknown short one.
			 */
			if (optopt > 0 && optopt < LONG_CODE && optopt != ':' && strchr(shorts, optopt) == NULL)
				relay_set_error(err, errlen, "invalid option \"-%c\"", optopt);
			else
				relay_set_error(err, errlen, "invalid option \"%s\"", argv[optind - 1]);
			return -1;
		}
		switch (o->type)
		{
			case CONFIG_FILE:
				*config_file = optarg;
				break;
			case CONFIG_COUNT:
				(*(int *) ((char *) cfg + o->offset))++;
				break;
			case CONFIG_ACTION:
				cfg->action = (RelayAction) o->min;
				if (cfg->action == RELAY_ACTION_HELP || cfg->action == RELAY_ACTION_VERSION)
					return 0;
				break;
			default:
				pending[*npending].option = o;
				pending[*npending].value = negated ? "false" : optarg ? optarg : "true";
				(*npending)++;
				break;
		}
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

/*
 * Plugin options the relay cannot carry: it reads frames (doc/protocol.md),
 * so an option that makes the plugin write something else would have it
 * refuse every message and never confirm.  Refused here, before streaming.
 */
static int
check_plugin_options(const RelayConfig *cfg, char *err, size_t errlen)
{
	size_t		i;

	for (i = 0; i < cfg->plugin_options.count; i++)
	{
		const RelaySetting *s = &cfg->plugin_options.items[i];

		if (strcmp(s->name, "format") == 0 && (s->value == NULL || strcmp(s->value, "avro") != 0))
		{
			relay_set_error(err, errlen,
							"plugin option \"format=%s\" cannot be carried by the relay: it reads "
							"the plugin's frames, which only format=avro writes (leave the option out)",
							s->value ? s->value : "");
			return -1;
		}
		if (strcmp(s->name, "protocol-version") == 0 &&
			(s->value == NULL || strcmp(s->value, "1") != 0))
		{
			relay_set_error(err, errlen,
							"plugin option \"protocol-version=%s\" cannot be carried by the relay: "
							"it speaks protocol version 1 (leave the option out)",
							s->value ? s->value : "");
			return -1;
		}
	}
	return 0;
}

/*
 * Debezium's handling modes (--decimal-handling-mode, ...) and
 * --skipped-operations go to the plugin under the same names, which checks their values before streaming; they
 * mean something only for Debezium's record.
 */
static int
pass_handling_modes(RelayConfig *cfg, char *err, size_t errlen)
{
	const struct
	{
		const char *name;
		const char *value;
	}			modes[] = {
		{"decimal-handling-mode", cfg->decimal_handling_mode},
		{"binary-handling-mode", cfg->binary_handling_mode},
		{"time-precision-mode", cfg->time_precision_mode},
		{"interval-handling-mode", cfg->interval_handling_mode},
		{"hstore-handling-mode", cfg->hstore_handling_mode},
		{"skipped-operations", cfg->skipped_operations},
	};

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
	{
		char		setting[256];

		if (modes[i].value == NULL)
			continue;
		if (cfg->compat != RELAY_COMPAT_DEBEZIUM)
		{
			relay_set_error(err, errlen,
							"option \"%s\" is Debezium's, but \"compat\" is \"wal2avro\" "
							"(set compat to debezium, or a json format)", modes[i].name);
			return -1;
		}
		if (config_setting_get(&cfg->plugin_options, modes[i].name) != NULL)
		{
			relay_set_error(err, errlen, "option \"%s\" is given twice, also as a plugin option",
							modes[i].name);
			return -1;
		}
		snprintf(setting, sizeof(setting), "%s=%s", modes[i].name, modes[i].value);
		if (config_set_option(cfg, config_option_find("plugin-option"), setting, err, errlen) < 0)
			return -1;
	}
	return 0;
}

/*
 * ExtractNewRecordState's options (--envelope, --add-fields, ...) go to the
 * plugin under the same names; then the plugin options, however given, say
 * what the relay does with a delete of the flat value (cfg->flat_deletes)
 * and how many fields follow the row's (cfg->flat_added).  The plugin
 * checks add-fields; the relay the mode, which it acts on too.
 */
static int
resolve_flat(RelayConfig *cfg, char *err, size_t errlen)
{
	static const char *const modes[] = {"tombstone", "drop", "rewrite",
	"rewrite-with-tombstone", "delete-to-tombstone", NULL};
	const struct
	{
		const char *name;
		const char *value;
	}			opts[] = {
		{"envelope", cfg->envelope},
		{"add-fields", cfg->add_fields},
		{"add-fields-prefix", cfg->add_fields_prefix},
		{"delete-tombstone-handling-mode", cfg->delete_tombstone_handling_mode},
	};
	const char *envelope,
			   *mode,
			   *fields;

	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
	{
		char		setting[1024];

		if (opts[i].value == NULL)
			continue;
		if (config_setting_get(&cfg->plugin_options, opts[i].name) != NULL)
		{
			relay_set_error(err, errlen, "option \"%s\" is given twice, also as a plugin option",
							opts[i].name);
			return -1;
		}
		snprintf(setting, sizeof(setting), "%s=%s", opts[i].name, opts[i].value);
		if (config_set_option(cfg, config_option_find("plugin-option"), setting, err, errlen) < 0)
			return -1;
	}
	envelope = config_setting_get(&cfg->plugin_options, "envelope");
	mode = config_setting_get(&cfg->plugin_options, "delete-tombstone-handling-mode");
	fields = config_setting_get(&cfg->plugin_options, "add-fields");
	cfg->flat_deletes = RELAY_FLAT_OFF;
	cfg->flat_added = 0;
	if (envelope && strcmp(envelope, "flat") != 0 && strcmp(envelope, "debezium") != 0)
	{
		relay_set_error(err, errlen, "invalid value for option \"envelope\": \"%s\" (expected debezium or flat)",
						envelope);
		return -1;
	}
	if (envelope == NULL || strcmp(envelope, "flat") != 0 || cfg->compat != RELAY_COMPAT_DEBEZIUM)
	{
		const char *given = mode ? "delete-tombstone-handling-mode" : fields ? "add-fields" :
			config_setting_get(&cfg->plugin_options, "add-fields-prefix") ? "add-fields-prefix" : NULL;

		if (given)
		{
			relay_set_error(err, errlen,
							"option \"%s\" is Debezium's ExtractNewRecordState's: it needs "
							"\"compat\" = \"debezium\" and \"envelope\" = \"flat\"", given);
			return -1;
		}
		return 0;				/* Debezium's envelope, or wal2avro's own flat value */
	}
	cfg->flat_deletes = RELAY_FLAT_TOMBSTONE;
	if (mode)
	{
		int			i;

		for (i = 0; modes[i] && strcmp(modes[i], mode) != 0; i++)
			;
		if (modes[i] == NULL)
		{
			relay_set_error(err, errlen,
							"invalid value for option \"delete-tombstone-handling-mode\": \"%s\" "
							"(expected tombstone, drop, rewrite, rewrite-with-tombstone or delete-to-tombstone)",
							mode);
			return -1;
		}
		cfg->flat_deletes = (RelayFlatDeletes) (RELAY_FLAT_TOMBSTONE + i);
	}
	for (const char *p = fields; p && *p; p++)
		if (p == fields || p[-1] == ',')
			cfg->flat_added++;
	return 0;
}

/*
 * Resolve --compat against the plugin's own "compat" option and the
 * formats, and pass the result to the plugin: JSON is Debezium's record
 * (Kafka Connect's JsonConverter of Debezium's Connect value), so it needs
 * the plugin to write Debezium's record; the avro format writes either.
 */
static int
resolve_compat(RelayConfig *cfg, char *err, size_t errlen)
{
	const char *given = NULL;
	bool		given_set = false;
	bool		json = cfg->key_format == RELAY_FORMAT_JSON ||
		cfg->value_format == RELAY_FORMAT_JSON;
	RelayCompat plugin = RELAY_COMPAT_AUTO;

	for (size_t i = 0; i < cfg->plugin_options.count; i++)
		if (strcmp(cfg->plugin_options.items[i].name, "compat") == 0)
		{
			given = cfg->plugin_options.items[i].value;
			given_set = true;
		}
	if (given && strcmp(given, "wal2avro") == 0)
		plugin = RELAY_COMPAT_WAL2AVRO;
	else if (given && strcmp(given, "debezium") == 0)
		plugin = RELAY_COMPAT_DEBEZIUM;
	else if (given_set)
	{
		relay_set_error(err, errlen,
						"invalid value for plugin option \"compat\": \"%s\" (expected wal2avro or debezium)",
						given ? given : "");
		return -1;
	}
	if (cfg->compat != RELAY_COMPAT_AUTO && plugin != RELAY_COMPAT_AUTO && cfg->compat != plugin)
	{
		relay_set_error(err, errlen, "conflicting options \"compat\" and plugin option \"compat=%s\"",
						given);
		return -1;
	}
	if (cfg->compat == RELAY_COMPAT_AUTO)
		cfg->compat = plugin != RELAY_COMPAT_AUTO ? plugin :
			json ? RELAY_COMPAT_DEBEZIUM : RELAY_COMPAT_WAL2AVRO;
	if (json && cfg->compat != RELAY_COMPAT_DEBEZIUM)
	{
		relay_set_error(err, errlen,
						"option \"%s\" is \"json\", which writes Debezium's record, but \"compat\" is \"wal2avro\" "
						"(leave compat out, or set it to debezium)",
						cfg->value_format == RELAY_FORMAT_JSON ? "value-format" : "key-format");
		return -1;
	}
	if (plugin == RELAY_COMPAT_AUTO && cfg->compat == RELAY_COMPAT_DEBEZIUM &&
		config_set_option(cfg, config_option_find("plugin-option"), "compat=debezium",
						  err, errlen) < 0)
		return -1;
	if (pass_handling_modes(cfg, err, errlen) < 0)
		return -1;
	return resolve_flat(cfg, err, errlen);
}

/*
 * --provide-transaction-metadata: the plugin fills the envelope's
 * transaction block, the relay writes the transaction topic.  Both are
 * Debezium's (compat=debezium), and the topic's Avro records exist only in
 * Confluent's wire format: the single-object encoding would need the
 * topic's schemas on the schema topic, which carries only the plugin's.
 */
static int
pass_transaction_metadata(RelayConfig *cfg, char *err, size_t errlen)
{
	if (!cfg->provide_transaction_metadata)
		return 0;
	if (cfg->compat != RELAY_COMPAT_DEBEZIUM)
	{
		relay_set_error(err, errlen,
						"option \"provide-transaction-metadata\" is Debezium's, but \"compat\" is \"wal2avro\" "
						"(set compat to debezium, or a json format)");
		return -1;
	}
	if ((cfg->key_format == RELAY_FORMAT_AVRO || cfg->value_format == RELAY_FORMAT_AVRO) &&
		cfg->schema_registry == NULL)
	{
		relay_set_error(err, errlen,
						"option \"provide-transaction-metadata\" with the avro %s format needs \"schema-registry\": "
						"the transaction topic is written in Avro only in Confluent's wire format "
						"(set schema-registry, or the json format)",
						cfg->key_format == RELAY_FORMAT_AVRO ? "key" : "value");
		return -1;
	}
	for (size_t i = 0; i < cfg->plugin_options.count; i++)
		if (strcmp(cfg->plugin_options.items[i].name, "provide-transaction-metadata") == 0)
		{
			relay_set_error(err, errlen, "option \"provide-transaction-metadata\" is given twice, also as a plugin option");
			return -1;
		}
	return config_set_option(cfg, config_option_find("plugin-option"),
							 "provide-transaction-metadata=true", err, errlen);
}

static int
validate(RelayConfig *cfg, char *err, size_t errlen)
{
	const char *bootstrap = config_setting_get(&cfg->kafka, "bootstrap.servers");
	const char *broker_list = config_setting_get(&cfg->kafka, "metadata.broker.list");
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
	if (check_plugin_options(cfg, err, errlen) != 0 || resolve_compat(cfg, err, errlen) != 0 ||
		pass_transaction_metadata(cfg, err, errlen) != 0)
		return -1;
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
config_parse(RelayConfig *cfg, int argc, char **argv, char *err, size_t errlen)
{
	PendingSetting *pending = NULL;
	struct option *longs = NULL;
	char		shorts[128];
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
	longs = getopt_tables(shorts, sizeof(shorts));
	if (pending == NULL || longs == NULL)
	{
		relay_set_error(err, errlen, "out of memory");
		goto done;
	}
	if (read_command_line(cfg, argc, argv, longs, shorts, pending, &npending, &config_file,
						  err, errlen) < 0)
		goto done;
	if (cfg->action == RELAY_ACTION_HELP || cfg->action == RELAY_ACTION_VERSION)
	{
		rc = 0;
		goto done;
	}

	if (config_file)
	{
		if (config_set_option(cfg, config_option_find("config"), config_file, err, errlen) < 0 ||
			config_file_read(cfg, config_file, err, errlen) < 0)
			goto done;
	}
	if (load_environment(cfg, err, errlen) < 0)
		goto done;
	for (size_t i = 0; i < npending; i++)
		if (config_set_option(cfg, pending[i].option, pending[i].value, err, errlen) < 0)
			goto done;
	rc = validate(cfg, err, errlen);

done:
	free(longs);
	free(pending);
	return rc;
}
