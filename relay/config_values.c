/*-------------------------------------------------------------------------
 *
 * config_values.c
 *		One option's value: parse and check its text by the option's type,
 *		store it in RelayConfig; the defaults; freeing; topic templates.
 *
 * Every setting goes through config_set_option whatever its source (file,
 * environment, command line, the table's defaults), so a value is checked
 * the same way wherever it comes from.  Lists (plugin-option, kafka.*)
 * keep the order of first appearance; a later setting of the same name
 * replaces the value.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/config_values.c
 *
 *-------------------------------------------------------------------------
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "log.h"
#include "lsn.h"

#define MAX_TOPIC_LEN			249 /* Kafka's limit */
#define MAX_SLOT_LEN			63	/* NAMEDATALEN - 1 */
#define KAFKA_PREFIX			"kafka."
#define TOPIC_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-"
#define SLOT_CHARS	"abcdefghijklmnopqrstuvwxyz0123456789_"

_Static_assert(sizeof(RelayLogLevel) == sizeof(int) && sizeof(RelayOnError) == sizeof(int) &&
			   sizeof(RelaySnapshotMode) == sizeof(int), "enum options are stored as int");

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
	static const char *const words[] = {"false", "true", "off", "on", "no", "yes", "0", "1"};

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcasecmp(text, words[i]) == 0)
		{
			*out = i % 2 == 1;
			return true;
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
	/* Suffix i multiplies by 1024 to the power (i + 1) / 3. */
	static const char *const suffixes[] = {"", "b", "k", "kb", "kib", "m", "mb", "mib",
	"g", "gb", "gib"};
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
	for (size_t i = 0; i < (units ? sizeof(suffixes) / sizeof(suffixes[0]) : 1); i++)
		if (strcasecmp(p, suffixes[i]) == 0)
			factor = INT64_C(1) << (10 * ((i + 1) / 3));
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

/* Is name[0..len) a Kafka property or plugin option name? */
static bool
is_property_name(const char *name, size_t len)
{
	return len > 0 && strspn(name, TOPIC_CHARS) >= len;
}

/* Template placeholders, in the order config_expand_topic fills them. */
static const char *const placeholders[] = {"prefix", "schema", "table", "op", "op_name"};

/*
 * The index of the placeholder at p (just past "{"), or -1; *len gets the
 * length of its name with the closing brace.
 */
static int
template_placeholder(const char *p, size_t *len)
{
	for (int i = 0; i < (int) (sizeof(placeholders) / sizeof(placeholders[0])); i++)
	{
		size_t		n = strlen(placeholders[i]);

		if (strncmp(p, placeholders[i], n) == 0 && p[n] == '}')
		{
			*len = n + 1;
			return i;
		}
	}
	return -1;
}

/* Is value a good slot name, topic name or topic template?  If not, why. */
static bool
check_name(ConfigType type, const char *value, char *why, size_t size)
{
	size_t		len = strlen(value);
	size_t		skip;

	if (type == CONFIG_SLOT && strspn(value, SLOT_CHARS) < len)
		snprintf(why, size, "replication slot names may only contain lower case letters, numbers and the underscore character");
	else if (type == CONFIG_SLOT && len > MAX_SLOT_LEN)
		snprintf(why, size, "longer than %d characters", MAX_SLOT_LEN);
	else if (type == CONFIG_TOPIC && strspn(value, TOPIC_CHARS) < len)
		snprintf(why, size, "Kafka topic names may only contain letters, digits, \".\", \"_\" and \"-\"");
	else if (type == CONFIG_TOPIC &&
			 (len > MAX_TOPIC_LEN || strcmp(value, ".") == 0 || strcmp(value, "..") == 0))
		snprintf(why, size, "not a valid Kafka topic name");
	else if (type == CONFIG_TEMPLATE)
	{
		for (const char *p = value; *p; p += *p == '{' ? 1 + skip : 1)
		{
			if (*p == '{' && template_placeholder(p + 1, &skip) < 0)
			{
				snprintf(why, size, "unknown placeholder at \"%s\"; the placeholders are {prefix}, {schema}, {table}, {op} and {op_name}", p);
				return false;
			}
			if (*p != '{' && strchr(TOPIC_CHARS, *p) == NULL)
			{
				snprintf(why, size, "character \"%c\" is not allowed in Kafka topic names", *p);
				return false;
			}
		}
		return true;
	}
	else
		return true;
	return false;
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

const char *
config_setting_get(const RelaySettingList *list, const char *name)
{
	for (size_t i = 0; i < list->count; i++)
		if (strcmp(list->items[i].name, name) == 0)
			return list->items[i].value;
	return NULL;
}

/* ---- one option ---- */

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

/* The index of value in o->names, or -1; *why lists the names. */
static int
enum_index(const ConfigOption *o, const char *value, char *why, size_t size)
{
	size_t		n = (size_t) snprintf(why, size, "expected ");

	for (int i = 0; o->names[i]; i++)
	{
		if ((o->flags & CONFIG_ANY_CASE) ? strcasecmp(value, o->names[i]) == 0 :
			strcmp(value, o->names[i]) == 0)
			return i;
		if (n < size)
			n += (size_t) snprintf(why + n, size - n, "%s%s", i == 0 ? "" :
								   o->names[i + 1] ? ", " : " or ", o->names[i]);
	}
	return -1;
}

int
config_set_option(RelayConfig *cfg, const ConfigOption *o, const char *value,
				  char *err, size_t errlen)
{
	char	   *member = (char *) cfg + o->offset;
	const char *eq = strchr(value, '=');
	char		why[512] = "";
	int64_t		n;

	if (value[0] == '\0' && o->type != CONFIG_PLUGIN_OPTION && o->type != CONFIG_KAFKA)
	{
		relay_set_error(err, errlen, "option \"%s\" needs a value", o->name);
		return -1;
	}
	switch (o->type)
	{
		case CONFIG_SLOT:
		case CONFIG_TOPIC:
		case CONFIG_TEMPLATE:
			if (!check_name(o->type, value, why, sizeof(why)))
				break;
			/* FALLTHROUGH */
		case CONFIG_TEXT:
		case CONFIG_CONNINFO:
		case CONFIG_FILE:
			return set_string((char **) member, value, err, errlen);
		case CONFIG_BOOL:
			if (parse_bool(value, (bool *) member))
				return 0;
			snprintf(why, sizeof(why), "expected true, false, on, off, yes, no, 1 or 0");
			break;
		case CONFIG_SECONDS:
		case CONFIG_SIZE:
			if (parse_number(o->name, value, o->type == CONFIG_SIZE, o->min, o->max, &n,
							 err, errlen) < 0)
				return -1;
			if (o->type == CONFIG_SIZE)
				*(uint64_t *) member = (uint64_t) n;
			else
				*(int *) member = (int) n;
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
				snprintf(why, sizeof(why), "expected a fraction from 0 to 1");
				break;
			}
		case CONFIG_LSN:
			if (relay_lsn_parse(value, (Lsn *) member) && *(Lsn *) member != INVALID_LSN)
				return 0;
			*(Lsn *) member = INVALID_LSN;
			snprintf(why, sizeof(why), "expected an LSN such as 16/B374D848, not 0/0");
			break;
		case CONFIG_ENUM:
			if ((n = enum_index(o, value, why, sizeof(why))) < 0)
				break;
			*(int *) member = (int) n;
			return 0;
		case CONFIG_PLUGIN_OPTION:
			if (is_property_name(value, eq ? (size_t) (eq - value) : strlen(value)))
				return settings_set((RelaySettingList *) member, value,
									eq ? (size_t) (eq - value) : strlen(value),
									eq ? eq + 1 : NULL, err, errlen);
			snprintf(why, sizeof(why), "expected NAME or NAME=VALUE");
			break;
		case CONFIG_KAFKA:
			if (eq != NULL && is_property_name(value, (size_t) (eq - value)))
				return set_property(cfg, value, (size_t) (eq - value), eq + 1, err, errlen);
			snprintf(why, sizeof(why), "expected NAME=VALUE");
			break;
		case CONFIG_COUNT:
		case CONFIG_ACTION:
			snprintf(why, sizeof(why), "it takes none");
			break;
	}
	relay_set_error(err, errlen, "invalid value for option \"%s\": \"%s\" (%s)",
					o->name, value, why);
	return -1;
}

int
config_set(RelayConfig *cfg, const char *key, const char *value, char *err, size_t errlen)
{
	const ConfigOption *o = config_option_find(key);

	if (strncmp(key, KAFKA_PREFIX, strlen(KAFKA_PREFIX)) == 0)
		return set_property(cfg, key + strlen(KAFKA_PREFIX), strlen(key + strlen(KAFKA_PREFIX)),
							value, err, errlen);
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
	return config_set_option(cfg, o, value, err, errlen);
}

/* ---- the whole configuration ---- */

int
config_init(RelayConfig *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->action = RELAY_ACTION_STREAM;
	for (size_t i = 0; i < config_option_count; i++)
		if (config_options[i].def &&
			config_set_option(cfg, &config_options[i], config_options[i].def, NULL, 0) < 0)
			return -1;
	return 0;
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

/*
 * One character of a UTF-8 name at p: its length in bytes, and in *units
 * how many UTF-16 units Java counts for it (2 outside the BMP).  A byte that
 * starts no valid sequence is one character of one unit.
 */
static size_t
utf8_char(const unsigned char *p, int *units)
{
	size_t		len = *p >= 0xF0 && *p <= 0xF4 ? 4 : *p >= 0xE0 ? 3 : *p >= 0xC2 ? 2 : 1;

	*units = 1;
	if (*p < 0x80 || len == 1)
		return 1;
	for (size_t i = 1; i < len; i++)
		if ((p[i] & 0xC0) != 0x80)
			return 1;
	*units = len == 4 ? 2 : 1;
	return len;
}

bool
config_topic_sanitize(char *name)
{
	const unsigned char *in = (const unsigned char *) name;
	char	   *out = name;
	size_t		chars = 0;
	bool		changed = false;

	while (*in)
	{
		int			units;
		size_t		len;

		if (strchr(TOPIC_CHARS, *in) != NULL)
		{
			*out++ = (char) *in++;
			chars++;
			continue;
		}
		len = utf8_char(in, &units);
		in += len;
		changed = true;
		while (units-- > 0)
		{
			*out++ = '_';		/* never longer: a unit takes at least a byte */
			chars++;
		}
	}
	*out = '\0';
	if (chars > MAX_TOPIC_LEN)
	{
		name[MAX_TOPIC_LEN] = '\0';	/* every character is one byte now */
		changed = true;
	}
	else if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
	{
		memset(name, '_', strlen(name));
		changed = true;
	}
	return changed;
}

int
config_expand_topic(const RelayConfig *cfg, const char *schema,
					const char *table, const char *op, char *buf, size_t buflen,
					bool *adjusted)
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
		int			name = *p == '{' ? template_placeholder(p + 1, &skip) : -1;

		if (name >= 0)
		{
			const char *op_name = !op ? "" : op[0] == 'c' ? "created" : op[0] == 'u' ?
				"updated" : op[0] == 'd' ? "deleted" : op[0] == 'r' ? "read" : op;
			const char *pieces[] = {cfg->topic_prefix, schema, table, op ? op : "", op_name};

			piece = pieces[name];
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
	if (config_topic_sanitize(buf))
	{
		if (adjusted)
			*adjusted = true;
		n = strlen(buf);
	}
	else if (adjusted)
		*adjusted = false;
	return (int) n;
}
