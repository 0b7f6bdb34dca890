/*-------------------------------------------------------------------------
 *
 * config_print.c
 *		Print the effective configuration (--print-config) with every
 *		secret masked.
 *
 * The output is config-file syntax, so it can be saved and read back with
 * -c; each option of the table (config_options.c) is printed by its type.
 * An option marked secret is masked whole, or its passwords when it is a
 * conninfo string or URI: a small scanner that masks the whole string when
 * it cannot follow it, without libpq.  In lists (kafka.* properties, plugin
 * options) and conninfo keywords a secret is decided by name
 * (config_is_secret).
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/config_print.c
 *
 *-------------------------------------------------------------------------
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "lsn.h"
#include "program.h"

bool
config_is_secret(const char *name)
{
	static const char *const secret_words[] = {
		"password", "passwd", "secret", "token", "credential", "private",
		"key.pem", "keystore", "sasl.oauthbearer.config"
	};
	static const char *const public_sasl[] = {
		"sasl.mechanism", "sasl.mechanisms", "sasl.kerberos.service.name",
		"sasl.kerberos.principal", "sasl.oauthbearer.method"
	};
	char		lower[256];
	size_t		i;

	if (strncmp(name, "kafka.", 6) == 0)
		name += 6;
	for (i = 0; name[i] && i < sizeof(lower) - 1; i++)
		lower[i] = (char) tolower((unsigned char) name[i]);
	lower[i] = '\0';
	for (i = 0; i < sizeof(secret_words) / sizeof(secret_words[0]); i++)
		if (strstr(lower, secret_words[i]))
			return true;
	if (strncmp(lower, "sasl.", 5) == 0)
	{
		for (i = 0; i < sizeof(public_sasl) / sizeof(public_sasl[0]); i++)
			if (strcmp(lower, public_sasl[i]) == 0)
				return false;
		return true;			/* sasl.username and the like: credentials */
	}
	return false;
}

/* A growing string for config_mask_conninfo. */
typedef struct StrBuf
{
	char	   *data;
	size_t		len;
	size_t		cap;
	bool		oom;
} StrBuf;

static void
buf_append(StrBuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap)
	{
		size_t		cap = (b->len + n + 1) * 2;
		char	   *data = realloc(b->data, cap);

		if (data == NULL)
		{
			b->oom = true;
			return;
		}
		b->data = data;
		b->cap = cap;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

static bool
span_is_secret(const char *s, size_t n)
{
	char		name[128];

	if (n >= sizeof(name))
		n = sizeof(name) - 1;
	memcpy(name, s, n);
	name[n] = '\0';
	return config_is_secret(name);
}

/* "postgresql://user:secret@host/db?password=x&sslmode=require" */
static void
mask_uri(StrBuf *b, const char *s)
{
	const char *auth = strstr(s, "://") + 3;
	const char *auth_end = auth + strcspn(auth, "/?");
	const char *at = NULL;
	const char *p;

	for (p = auth; p < auth_end; p++)
		if (*p == '@')
			at = p;
	if (at && (p = memchr(auth, ':', (size_t) (at - auth))) != NULL)
	{
		buf_append(b, s, (size_t) (p + 1 - s));
		buf_append(b, "***", 3);
		buf_append(b, at, (size_t) (auth_end - at));
	}
	else
		buf_append(b, s, (size_t) (auth_end - s));

	p = auth_end + strcspn(auth_end, "?");
	buf_append(b, auth_end, (size_t) (p - auth_end));
	if (*p == '\0')
		return;
	buf_append(b, p++, 1);
	while (*p)
	{
		size_t		n = strcspn(p, "&");
		const char *eq = memchr(p, '=', n);

		if (eq && span_is_secret(p, (size_t) (eq - p)))
		{
			buf_append(b, p, (size_t) (eq + 1 - p));
			buf_append(b, "***", 3);
		}
		else
			buf_append(b, p, n);
		p += n;
		if (*p == '&')
			buf_append(b, p++, 1);
	}
}

/* "host=db password='it''s' dbname=x"; returns false if it cannot parse. */
static bool
mask_keywords(StrBuf *b, const char *s)
{
	const char *p = s;

	while (*p)
	{
		const char *start = p;
		const char *kw;
		size_t		kwlen;
		const char *val;

		while (isspace((unsigned char) *p))
			p++;
		buf_append(b, start, (size_t) (p - start));
		if (*p == '\0')
			break;
		kw = p;
		while (*p && !isspace((unsigned char) *p) && *p != '=')
			p++;
		kwlen = (size_t) (p - kw);
		while (isspace((unsigned char) *p))
			p++;
		if (kwlen == 0 || *p != '=')
			return false;
		p++;
		while (isspace((unsigned char) *p))
			p++;
		buf_append(b, kw, (size_t) (p - kw));
		val = p;
		if (*p == '\'')
		{
			for (p++; *p && *p != '\''; p++)
				if (*p == '\\' && p[1])
					p++;
			if (*p != '\'')
				return false;
			p++;
		}
		else
		{
			for (; *p && !isspace((unsigned char) *p); p++)
				if (*p == '\\' && p[1])
					p++;
		}
		if (span_is_secret(kw, kwlen))
			buf_append(b, "***", 3);
		else
			buf_append(b, val, (size_t) (p - val));
	}
	return true;
}

char *
config_mask_conninfo(const char *conninfo)
{
	StrBuf		b = {NULL, 0, 0, false};

	buf_append(&b, "", 0);
	if (strncmp(conninfo, "postgresql://", 13) == 0 ||
		strncmp(conninfo, "postgres://", 11) == 0)
		mask_uri(&b, conninfo);
	else if (!mask_keywords(&b, conninfo))
	{
		b.len = 0;
		buf_append(&b, "***", 3);
	}
	if (b.oom)
	{
		free(b.data);
		return NULL;
	}
	return b.data;
}

/* Text as it goes between double quotes in a config file. */
static void
print_escaped(FILE *out, const char *text)
{
	for (const char *p = text; *p; p++)
	{
		if (*p == '"' || *p == '\\')
			fputc('\\', out);
		fputc(*p, out);
	}
}

/* A value in config-file syntax: quoted, " and \ escaped. */
static void
print_quoted(FILE *out, const char *value)
{
	fputc('"', out);
	print_escaped(out, value);
	fputc('"', out);
}

/* "key = "text"", or a comment when the string is not set. */
static void
print_string(FILE *out, const char *key, const char *value)
{
	if (value == NULL)
	{
		fprintf(out, "# %s is not set\n", key);
		return;
	}
	fprintf(out, "%s = ", key);
	print_quoted(out, value);
	fputc('\n', out);
}

/* A name=value list, the values of secret names masked. */
static void
print_list(FILE *out, const char *key, const char *prefix, const RelaySettingList *list)
{
	for (size_t i = 0; i < list->count; i++)
	{
		const RelaySetting *s = &list->items[i];
		const char *value = s->value && config_is_secret(s->name) ? "***" : s->value;

		if (*prefix)			/* kafka.NAME = "VALUE" */
		{
			fprintf(out, "%s%s = ", prefix, s->name);
			print_quoted(out, value ? value : "");
			fputc('\n', out);
			continue;
		}
		fprintf(out, "%s = \"", key);	/* plugin-option = "NAME=VALUE" */
		print_escaped(out, s->name);
		if (value != NULL)
		{
			fputc('=', out);
			print_escaped(out, value);
		}
		fprintf(out, "\"\n");
	}
}

/* One option as a config-file line, or as a comment when it is not set. */
static void
print_option(FILE *out, const RelayConfig *cfg, const ConfigOption *o)
{
	const char *member = (const char *) cfg + o->offset;
	const char *text;
	char	   *masked = NULL;

	switch (o->type)
	{
		case CONFIG_CONNINFO:
		case CONFIG_TEXT:
		case CONFIG_SLOT:
		case CONFIG_TOPIC:
		case CONFIG_TEMPLATE:
			text = *(char *const *) member;
			if (text && (o->flags & CONFIG_SECRET))
			{
				masked = o->type == CONFIG_CONNINFO ? config_mask_conninfo(text) : NULL;
				text = masked ? masked : "***";
			}
			print_string(out, o->name, text);
			free(masked);
			break;
		case CONFIG_BOOL:
			fprintf(out, "%s = %s\n", o->name, *(const bool *) member ? "true" : "false");
			break;
		case CONFIG_SECONDS:
			fprintf(out, "%s = %d\n", o->name, *(const int *) member);
			break;
		case CONFIG_SIZE:
			fprintf(out, "%s = %llu\n", o->name,
					(unsigned long long) *(const uint64_t *) member);
			break;
		case CONFIG_RATIO:
			fprintf(out, "%s = %g\n", o->name, *(const double *) member);
			break;
		case CONFIG_LSN:
			if (*(const Lsn *) member == INVALID_LSN)
				fprintf(out, "# %s is not set\n", o->name);
			else
				fprintf(out, "%s = " LSN_FMT "\n", o->name, LSN_ARGS(*(const Lsn *) member));
			break;
		case CONFIG_ENUM:
			fprintf(out, "%s = %s\n", o->name, o->names[*(const int *) member]);
			break;
		case CONFIG_PLUGIN_OPTION:
			print_list(out, o->name, "", (const RelaySettingList *) member);
			break;
		case CONFIG_KAFKA:
			print_list(out, o->name, "kafka.", (const RelaySettingList *) member);
			break;
		case CONFIG_FILE:
		case CONFIG_COUNT:
		case CONFIG_ACTION:
			break;				/* command line only */
	}
}

void
config_print(const RelayConfig *cfg, FILE *out)
{
	fprintf(out, "# %s effective configuration (secrets masked)\n", RELAY_PROGNAME);
	if (cfg->pg_password)
		fprintf(out, "# a PostgreSQL password was read from PGPASSWORD_FILE (***)\n");
	for (size_t i = 0; i < config_option_count; i++)
		print_option(out, cfg, &config_options[i]);
}
