/*-------------------------------------------------------------------------
 *
 * test_config_options.c
 *		Unit tests for the option table (relay/config_options.c) and what
 *		is generated from it: every option has help, a config-file key and
 *		an environment variable unless marked otherwise; names, letters and
 *		variables are unique; --help lists every option; --print-config
 *		masks every secret.
 *
 * The table checks run on the real table and on broken copies of it, so a
 * check that could not fail is seen failing here.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * regress/relay/test_config_options.c
 *
 *-------------------------------------------------------------------------
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "unit.h"

#define MAX_OPTIONS 64

static char err[1024];

/* Does the option take an argument on the command line? */
static bool
takes_argument(const ConfigOption *o)
{
	return o->type != CONFIG_BOOL && o->type != CONFIG_COUNT && o->type != CONFIG_ACTION;
}

/* A value the option accepts, for the tests that set every option. */
static const char *
sample_value(const ConfigOption *o)
{
	static char number[32];

	switch (o->type)
	{
		case CONFIG_CONNINFO:
			return "host=sample";
		case CONFIG_SLOT:
			return "sample_slot";
		case CONFIG_TEMPLATE:
			return "sample.{table}";
		case CONFIG_BOOL:
			return o->def && strcmp(o->def, "true") == 0 ? "false" : "true";
		case CONFIG_SECONDS:
		case CONFIG_SIZE:
			snprintf(number, sizeof(number), "%lld", (long long) o->max);
			return number;
		case CONFIG_RATIO:
			return "0.5";
		case CONFIG_LSN:
			return "1/2";
		case CONFIG_ENUM:
			return o->names[1];
		case CONFIG_PLUGIN_OPTION:
			return "sample=1";
		case CONFIG_KAFKA:
			return "sample.property=1";
		default:
			return "sample-text";
	}
}

/* Complain about row i and count one problem. */
static int
problem(const ConfigOption *o, const char *what)
{
	fprintf(stderr, "    option \"%s\": %s\n", o->name ? o->name : "(null)", what);
	return 1;
}

/*
 * Check the rows of a table that config.c and config_options.c rely on;
 * returns the number of problems, each printed.
 */
static int
table_problems(const ConfigOption *opts, size_t n)
{
	int			problems = 0;

	for (size_t i = 0; i < n; i++)
	{
		const ConfigOption *o = &opts[i];

		if (o->name == NULL || o->name[0] == '\0')
		{
			problems += problem(o, "has no name");
			continue;
		}
		if (o->help == NULL || o->help[0] == '\0' || isupper((unsigned char) o->help[0]) ||
			o->help[strlen(o->help) - 1] == '.')
			problems += problem(o, "needs help text, starting lower-case, no final period");
		if ((o->env != NULL) == ((o->flags & CONFIG_NO_ENV) != 0))
			problems += problem(o, "needs an environment variable or CONFIG_NO_ENV, not both");
		if (o->env && (o->flags & CONFIG_NO_KEY))
			problems += problem(o, "an environment variable sets a config-file key");
		if (o->env && strncmp(o->env, "WAL2AVRO_", 9) != 0)
			problems += problem(o, "environment variable not named WAL2AVRO_*");
		if ((o->type == CONFIG_FILE || o->type == CONFIG_COUNT || o->type == CONFIG_ACTION ||
			 o->type == CONFIG_KAFKA) != ((o->flags & CONFIG_NO_KEY) != 0))
			problems += problem(o, "CONFIG_NO_KEY is for the command-line-only types");
		if (takes_argument(o) != (o->arg != NULL))
			problems += problem(o, "an argument placeholder exactly when it takes one");
		if ((o->type == CONFIG_ENUM) != (o->names != NULL))
			problems += problem(o, "names are for enums");
		if (o->negation && o->type != CONFIG_BOOL)
			problems += problem(o, "only a boolean has a --no- form");
		if (config_is_secret(o->name) && !(o->flags & CONFIG_SECRET))
			problems += problem(o, "named like a secret but not marked CONFIG_SECRET");
		if (strncmp(o->name, "kafka.", 6) == 0)
			problems += problem(o, "kafka.* keys are librdkafka's");
		for (size_t j = 0; j < i; j++)
		{
			const ConfigOption *p = &opts[j];

			if (p->name && (strcmp(p->name, o->name) == 0 ||
							(p->negation && strcmp(p->negation, o->name) == 0) ||
							(o->negation && strcmp(o->negation, p->name) == 0)))
				problems += problem(o, "long name given twice");
			if (o->letter && p->letter == o->letter)
				problems += problem(o, "short letter given twice");
			if (o->env && p->env && strcmp(o->env, p->env) == 0)
				problems += problem(o, "environment variable given twice");
		}
		for (size_t j = 0; j < config_env_property_count; j++)
			if (o->env && strcmp(o->env, config_env_properties[j].env) == 0)
				problems += problem(o, "environment variable also names a kafka property");
	}
	return problems;
}

static void
test_table(void)
{
	static ConfigOption broken[MAX_OPTIONS];
	size_t		n = config_option_count;
	size_t		slot = 0;
	size_t		kafka = 0;

	CHECK(n > 30 && n <= MAX_OPTIONS);
	CHECK_INT(table_problems(config_options, n), 0);
	for (size_t i = 0; i < n; i++)
	{
		if (strcmp(config_options[i].name, "slot") == 0)
			slot = i;
		if (strcmp(config_options[i].name, "kafka") == 0)
			kafka = i;
	}
	CHECK(slot > 0 && kafka > 0);

	/* The variables that set kafka properties set secrets. */
	for (size_t i = 0; i < config_env_property_count; i++)
	{
		CHECK(strncmp(config_env_properties[i].key, "kafka.", 6) == 0);
		CHECK(config_is_secret(config_env_properties[i].key));
	}

	/* Each kind of break is found. */
#define BROKEN(change) \
	do { \
		memcpy(broken, config_options, n * sizeof(ConfigOption)); \
		change; \
		CHECK(table_problems(broken, n) > 0); \
	} while (0)
	fprintf(stderr, "broken tables, each problem expected:\n");
	BROKEN(broken[slot].help = NULL);
	BROKEN(broken[slot].help = "Logical replication slot.");
	BROKEN(broken[slot].env = NULL);
	BROKEN(broken[slot].flags |= CONFIG_NO_ENV);
	BROKEN(broken[slot].env = "SLOT");
	BROKEN((broken[slot + 1].env = broken[slot].env, broken[slot + 1].flags &= ~CONFIG_NO_ENV));
	BROKEN(broken[slot].env = "WAL2AVRO_SASL_PASSWORD");
	BROKEN(broken[slot].name = "dbname");
	BROKEN(broken[slot].name = "no-create-slot");
	BROKEN(broken[slot].letter = 'd');
	BROKEN(broken[slot].flags |= CONFIG_NO_KEY);
	BROKEN(broken[kafka].flags &= ~CONFIG_NO_KEY);
	BROKEN(broken[slot].arg = NULL);
	BROKEN(broken[slot].type = CONFIG_ENUM);
	BROKEN(broken[slot].negation = "no-slot");
	BROKEN(broken[slot].name = "sasl-password");
	BROKEN(broken[slot].name = "kafka.slot");
#undef BROKEN
}

/* Every option without CONFIG_NO_KEY is a config-file key; the others not. */
static void
test_keys(void)
{
	for (size_t i = 0; i < config_option_count; i++)
	{
		const ConfigOption *o = &config_options[i];
		RelayConfig cfg;
		int			r;

		CHECK_INT(config_init(&cfg), 0);
		err[0] = '\0';
		r = config_set(&cfg, o->name, sample_value(o), err, sizeof(err));
		if (o->flags & CONFIG_NO_KEY)
			CHECK(r == -1 && (strstr(err, "unrecognized key") ||
							  strstr(err, "only allowed on the command line")));
		else if (r != 0)
			CHECK_STR(err, "");
		config_free(&cfg);
	}
}

/* config_parse over a NULL-terminated argument list after the program name. */
static int
parse(RelayConfig *cfg, const char *arg1, const char *arg2)
{
	char	   *argv[4] = {"wal2avro-relay", (char *) arg1, (char *) arg2, NULL};

	err[0] = '\0';
	return config_parse(cfg, arg2 ? 3 : arg1 ? 2 : 1, argv, err, sizeof(err));
}

/* --print-config of cfg, or --help when cfg is NULL, as a string (malloc'd). */
static char *
output_of(const RelayConfig *cfg)
{
	char	   *text = NULL;
	size_t		size = 0;
	FILE	   *f = open_memstream(&text, &size);

	if (cfg)
		config_print(cfg, f);
	else
		config_usage(f);
	fclose(f);
	return text;
}

/* Each variable of the table sets its option (seen in --print-config). */
static void
test_environment(void)
{
	RelayConfig cfg;
	char	   *defaults;

	CHECK_INT(parse(&cfg, "--print-config", NULL), 0);
	defaults = output_of(&cfg);
	config_free(&cfg);
	for (size_t i = 0; i < config_option_count; i++)
	{
		const ConfigOption *o = &config_options[i];
		char	   *out;

		if (o->env == NULL)
			continue;
		setenv(o->env, sample_value(o), 1);
		CHECK_INT(parse(&cfg, "--print-config", NULL), 0);
		out = output_of(&cfg);
		CHECK(strcmp(out, defaults) != 0);
		if (o->type == CONFIG_TEXT && (o->flags & CONFIG_SECRET))
		{
			/* a secret is set, and masked */
			CHECK(strstr(out, sample_value(o)) == NULL);
			CHECK_CONTAINS(out, "***");
		}
		else
			CHECK_CONTAINS(out, sample_value(o));
		free(out);
		config_free(&cfg);
		unsetenv(o->env);
	}
	free(defaults);
}

/* --help names every option, its letter, default, --no- form and variable. */
static void
test_help(void)
{
	char	   *buf = output_of(NULL);
	char		want[256];

	for (size_t i = 0; i < config_option_count; i++)
	{
		const ConfigOption *o = &config_options[i];

		if (o->letter)
			snprintf(want, sizeof(want), "  -%c, --%s%s", o->letter, o->name,
					 o->type == CONFIG_BOOL ? "[=BOOL]" : takes_argument(o) ? "=" : "");
		else
			snprintf(want, sizeof(want), "      --%s%s", o->name,
					 o->type == CONFIG_BOOL ? "[=BOOL]" : takes_argument(o) ? "=" : "");
		CHECK_CONTAINS(buf, want);
		if (o->arg)
		{
			snprintf(want, sizeof(want), "--%s=%s", o->name, o->arg);
			CHECK_CONTAINS(buf, want);
		}
		if (o->def)
		{
			snprintf(want, sizeof(want), "(default: %s)", o->def);
			CHECK_CONTAINS(buf, want);
		}
		if (o->negation)
		{
			snprintf(want, sizeof(want), "      --%s", o->negation);
			CHECK_CONTAINS(buf, want);
		}
		if (o->heading)
		{
			snprintf(want, sizeof(want), "\n%s:\n", o->heading);
			CHECK_CONTAINS(buf, want);
		}
		if (o->env)
			CHECK_CONTAINS(buf, o->env);
	}
	for (size_t i = 0; i < config_env_property_count; i++)
		CHECK_CONTAINS(buf, config_env_properties[i].env);
	free(buf);
}

/*
 * Every secret is masked by --print-config: the options marked secret, the
 * kafka properties set from the environment, and settings named like one.
 */
static void
test_print_masks_secrets(void)
{
	RelayConfig cfg;
	char	   *out;
	int			secrets = 0;

	CHECK_INT(config_init(&cfg), 0);
	for (size_t i = 0; i < config_option_count; i++)
	{
		const ConfigOption *o = &config_options[i];

		if (!(o->flags & CONFIG_SECRET))
			continue;
		secrets++;
		CHECK_INT(config_set_option(&cfg, o, o->type == CONFIG_CONNINFO ?
									"host=h password=S3CR3T user=u" : "S3CR3T",
									err, sizeof(err)), 0);
	}
	for (size_t i = 0; i < config_env_property_count; i++)
		CHECK_INT(config_set(&cfg, config_env_properties[i].key, "S3CR3T", err, sizeof(err)), 0);
	CHECK_INT(config_set(&cfg, "kafka.ssl.key.password", "S3CR3T", err, sizeof(err)), 0);
	CHECK_INT(config_set(&cfg, "plugin-option", "secret-salt=S3CR3T", err, sizeof(err)), 0);
	CHECK(secrets > 0);
	out = output_of(&cfg);
	CHECK(strstr(out, "S3CR3T") == NULL);
	if (strstr(out, "S3CR3T"))
		fprintf(stderr, "%s", out);
	CHECK_CONTAINS(out, "password=***");
	free(out);
	config_free(&cfg);

	/* Every keyed option is printed, as a value or "# ... is not set". */
	CHECK_INT(config_init(&cfg), 0);
	out = output_of(&cfg);
	for (size_t i = 0; i < config_option_count; i++)
	{
		char		want[128];

		if (config_options[i].flags & CONFIG_NO_KEY ||
			config_options[i].type == CONFIG_PLUGIN_OPTION)
			continue;
		snprintf(want, sizeof(want), "\n%s = ", config_options[i].name);
		if (strstr(out, want) == NULL)
			snprintf(want, sizeof(want), "\n# %s is not set\n", config_options[i].name);
		CHECK_CONTAINS(out, want);
	}
	free(out);
	config_free(&cfg);
}

int
main(void)
{
	for (size_t i = 0; i < config_option_count; i++)
		if (config_options[i].env)
			unsetenv(config_options[i].env);
	for (size_t i = 0; i < config_env_property_count; i++)
		unsetenv(config_env_properties[i].env);

	test_table();
	test_keys();
	test_environment();
	test_help();
	test_print_masks_secrets();
	return unit_finish("test_config_options");
}
