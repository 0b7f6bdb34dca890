/*-------------------------------------------------------------------------
 *
 * config.c
 *		The relay's options: values, environment, command line, defaults
 *		and validation, all driven by the option table (config_options.c).
 *
 * Every setting goes through set_option whatever its source, so a value is
 * checked the same way wherever it comes from; the defaults are text
 * parsed the same way.  Precedence is default < config file < environment
 * < command line: the command line is read first (it names the file) into
 * a list of settings, applied last.  Lists (plugin-option, kafka.*) keep
 * the order of first appearance; a later setting of the same name replaces
 * the value.
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
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "relay.h"

#define MAX_TOPIC_LEN			249 /* Kafka's limit */
#define MAX_SLOT_LEN			63	/* NAMEDATALEN - 1 */
#define MAX_SECRET_FILE			65536
#define KAFKA_PREFIX			"kafka."
#define LONG_CODE				256 /* getopt code of option i: LONG_CODE + i */

_Static_assert(sizeof(RelayLogLevel) == sizeof(int) && sizeof(RelayOnError) == sizeof(int) &&
			   sizeof(RelaySnapshotMode) == sizeof(int), "enum options are stored as int");

/* A setting of the command line, applied after the file and environment. */
typedef struct PendingSetting
{
	const ConfigOption *option;
	const char *value;			/* points into argv or a literal */
} PendingSetting;


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

/* "a, b or c" from a NULL-terminated list, into buf. */
static const char *
names_list(const char *const *names, char *buf, size_t size)
{
	size_t		n = 0;

	buf[0] = '\0';
	for (size_t i = 0; names[i] && n < size; i++)
		n += snprintf(buf + n, size - n, "%s%s", i == 0 ? "" : names[i + 1] ? ", " : " or ",
					  names[i]);
	return buf;
}

/* One of o->names, as its index, or -1. */
static int
enum_index(const ConfigOption *o, const char *value)
{
	for (int i = 0; o->names[i]; i++)
		if ((o->flags & CONFIG_ANY_CASE) ? strcasecmp(value, o->names[i]) == 0 :
			strcmp(value, o->names[i]) == 0)
			return i;
	return -1;
}

/* -X NAME=VALUE or a file's kafka.NAME: one librdkafka property. */
static int
set_property(RelayConfig *cfg, const char *name, size_t len, const char *value,
			 char *err, size_t errlen)
{
	if (!is_property_name(name, len))
	{
		relay_set_error(err, errlen, "invalid Kafka property name \"%.*s\"", (int) len, name);
		return -1;
	}
	return settings_set(&cfg->kafka, name, len, value, err, errlen);
}

/*
 * Set option o from text.  Returns 0, or -1 with a message that names the
 * option but not the source.
 */
static int
set_option(RelayConfig *cfg, const ConfigOption *o, const char *value,
		   char *err, size_t errlen)
{
	char	   *member = (char *) cfg + o->offset;
	const char *expected = NULL;
	char		names[128];
	int64_t		n;

	if (value[0] == '\0' && o->type != CONFIG_PLUGIN_OPTION && o->type != CONFIG_KAFKA)
	{
		relay_set_error(err, errlen, "option \"%s\" needs a value", o->name);
		return -1;
	}
	switch (o->type)
	{
		case CONFIG_SLOT:
			if (check_slot(value, err, errlen) < 0)
				return -1;
			return set_string((char **) member, value, err, errlen);
		case CONFIG_TOPIC:
			if (check_topic(o->name, value, err, errlen) < 0)
				return -1;
			return set_string((char **) member, value, err, errlen);
		case CONFIG_TEMPLATE:
			if (check_template(value, err, errlen) < 0)
				return -1;
			return set_string((char **) member, value, err, errlen);
		case CONFIG_TEXT:
		case CONFIG_CONNINFO:
		case CONFIG_FILE:
			return set_string((char **) member, value, err, errlen);
		case CONFIG_BOOL:
			if (parse_bool(value, (bool *) member))
				return 0;
			expected = "true, false, on, off, yes, no, 1 or 0";
			break;
		case CONFIG_SECONDS:
			if (parse_number(o->name, value, false, o->min, o->max, &n, err, errlen) < 0)
				return -1;
			*(int *) member = (int) n;
			return 0;
		case CONFIG_SIZE:
			if (parse_number(o->name, value, true, o->min, o->max, &n, err, errlen) < 0)
				return -1;
			*(uint64_t *) member = (uint64_t) n;
			return 0;
		case CONFIG_RATIO:
			{
				char	   *end;
				double		d;

				errno = 0;
				d = strtod(value, &end);
				if (errno == 0 && end != value && *end == '\0' && d >= 0.0 && d <= 1.0)
				{
					*(double *) member = d;
					return 0;
				}
				expected = "a fraction from 0 to 1";
				break;
			}
		case CONFIG_LSN:
			if (relay_lsn_parse(value, (Lsn *) member) && *(Lsn *) member != INVALID_LSN)
				return 0;
			*(Lsn *) member = INVALID_LSN;
			expected = "an LSN such as 16/B374D848, not 0/0";
			break;
		case CONFIG_ENUM:
			if ((n = enum_index(o, value)) >= 0)
			{
				*(int *) member = (int) n;
				return 0;
			}
			expected = names_list(o->names, names, sizeof(names));
			break;
		case CONFIG_PLUGIN_OPTION:
			{
				const char *eq = strchr(value, '=');
				size_t		len = eq ? (size_t) (eq - value) : strlen(value);

				if (is_property_name(value, len))
					return settings_set((RelaySettingList *) member, value, len,
										eq ? eq + 1 : NULL, err, errlen);
				expected = "NAME or NAME=VALUE";
				break;
			}
		case CONFIG_KAFKA:
			{
				const char *eq = strchr(value, '=');

				if (eq != NULL && is_property_name(value, (size_t) (eq - value)))
					return set_property(cfg, value, (size_t) (eq - value), eq + 1,
										err, errlen);
				expected = "NAME=VALUE";
				break;
			}
		case CONFIG_COUNT:
		case CONFIG_ACTION:
			relay_set_error(err, errlen, "option \"%s\" takes no value", o->name);
			return -1;
	}
	relay_set_error(err, errlen, "invalid value for option \"%s\": \"%s\" (expected %s)",
					o->name, value, expected ? expected : "?");
	return -1;
}

int
config_set(RelayConfig *cfg, const char *key, const char *value, char *err, size_t errlen)
{
	const ConfigOption *o;

	if (strncmp(key, KAFKA_PREFIX, strlen(KAFKA_PREFIX)) == 0)
	{
		key += strlen(KAFKA_PREFIX);
		return set_property(cfg, key, strlen(key), value, err, errlen);
	}
	o = config_option_find(key);
	if (o != NULL && o->type == CONFIG_FILE)
	{
		relay_set_error(err, errlen, "key \"%s\" is only allowed on the command line", key);
		return -1;
	}
	if (o == NULL || (o->flags & CONFIG_NO_KEY))
	{
		relay_set_error(err, errlen, "unrecognized key \"%s\"", key);
		return -1;
	}
	return set_option(cfg, o, value, err, errlen);
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

/* Apply one variable (or its _FILE form) through "set" when it is set. */
static int
load_variable(RelayConfig *cfg, const char *var, const ConfigOption *o, const char *key,
			  char *err, size_t errlen)
{
	char	   *value;
	char		msg[512];
	int			r;

	if (read_env(var, &value, err, errlen) < 0)
		return -1;
	if (value == NULL)
		return 0;
	r = o ? set_option(cfg, o, value, msg, sizeof(msg)) :
		config_set(cfg, key, value, msg, sizeof(msg));
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
			load_variable(cfg, config_options[i].env, &config_options[i], NULL, err, errlen) < 0)
			return -1;
	for (size_t i = 0; i < config_env_property_count; i++)
		if (load_variable(cfg, config_env_properties[i].env, NULL, config_env_properties[i].key,
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
	for (size_t i = 0; i < config_option_count; i++)
		if (config_options[i].def &&
			set_option(cfg, &config_options[i], config_options[i].def, NULL, 0) < 0)
			return -1;
	return 0;
}

int
config_parse(RelayConfig *cfg, int argc, char **argv, char *err, size_t errlen)
{
	PendingSetting *pending = NULL;
	struct option *longs = NULL;
	char		shorts[2 * 64];
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
		if (set_string(&cfg->config_file, config_file, err, errlen) < 0 ||
			config_file_read(cfg, config_file, err, errlen) < 0)
			goto done;
	}
	if (load_environment(cfg, err, errlen) < 0)
		goto done;
	for (size_t i = 0; i < npending; i++)
		if (set_option(cfg, pending[i].option, pending[i].value, err, errlen) < 0)
			goto done;
	rc = validate(cfg, err, errlen);

done:
	free(longs);
	free(pending);
	return rc;
}

void
config_free(RelayConfig *cfg)
{
	for (size_t i = 0; i < config_option_count; i++)
	{
		char	   *member = (char *) cfg + config_options[i].offset;

		switch (config_options[i].type)
		{
			case CONFIG_TEXT:
			case CONFIG_CONNINFO:
			case CONFIG_SLOT:
			case CONFIG_TOPIC:
			case CONFIG_TEMPLATE:
			case CONFIG_FILE:
				free(*(char **) member);
				break;
			case CONFIG_PLUGIN_OPTION:
			case CONFIG_KAFKA:
				settings_free((RelaySettingList *) member);
				break;
			default:
				break;
		}
	}
	free(cfg->pg_password);
	memset(cfg, 0, sizeof(*cfg));
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
