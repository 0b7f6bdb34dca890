/*-------------------------------------------------------------------------
 *
 * config_print.c
 *		Print the effective configuration (--print-config) with every
 *		secret masked.
 *
 * The output is config-file syntax, so it can be saved and read back with
 * -c.  What counts as a secret is decided by name (config_is_secret), the
 * same rule for kafka.* properties, plugin options and conninfo keywords;
 * a conninfo string or URI is masked without libpq, by a small scanner that
 * masks the whole string when it cannot follow it.
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

#include "relay.h"

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

void
config_print(const RelayConfig *cfg, FILE *out)
{
	char	   *dbname = cfg->dbname ? config_mask_conninfo(cfg->dbname) : NULL;

	fprintf(out, "# %s effective configuration (secrets masked)\n", RELAY_PROGNAME);

	/* general */
	fprintf(out, "log-level = %s\n", relay_log_level_name(cfg->log_level));
	print_string(out, "log-file", cfg->log_file);

	/* connection */
	print_string(out, "dbname", cfg->dbname ? (dbname ? dbname : "***") : NULL);
	if (cfg->pg_password)
		fprintf(out, "# a PostgreSQL password was read from PGPASSWORD_FILE (***)\n");

	/* replication */
	print_string(out, "slot", cfg->slot);
	fprintf(out, "create-slot = %s\n", cfg->create_slot ? "true" : "false");
	for (size_t i = 0; i < cfg->plugin_options.count; i++)
	{
		const RelaySetting *s = &cfg->plugin_options.items[i];

		fprintf(out, "plugin-option = \"");
		print_escaped(out, s->name);
		if (s->value != NULL)
		{
			fputc('=', out);
			print_escaped(out, config_is_secret(s->name) ? "***" : s->value);
		}
		fprintf(out, "\"\n");
	}
	if (cfg->endpos == INVALID_LSN)
		fprintf(out, "# endpos is not set\n");
	else
		fprintf(out, "endpos = " LSN_FMT "\n", LSN_ARGS(cfg->endpos));
	fprintf(out, "no-loop = %s\n", cfg->no_loop ? "true" : "false");
	fprintf(out, "status-interval = %d\n", cfg->status_interval);
	fprintf(out, "reconnect-max-backoff = %d\n", cfg->reconnect_max_backoff);
	fprintf(out, "snapshot-mode = %s\n", config_snapshot_mode_name(cfg->snapshot_mode));
	fprintf(out, "snapshot-chunk-size = %llu\n", (unsigned long long) cfg->snapshot_chunk_size);

	/* kafka */
	print_string(out, "brokers", cfg->brokers);
	print_string(out, "topic-prefix", cfg->topic_prefix);
	print_string(out, "topic-template", cfg->topic_template);
	print_string(out, "schema-topic", cfg->schema_topic);
	print_string(out, "state-topic", cfg->state_topic);
	fprintf(out, "tombstones = %s\n", cfg->tombstones ? "true" : "false");
	print_string(out, "dead-letter-topic", cfg->dead_letter_topic);
	fprintf(out, "on-error = %s\n",
			cfg->on_error == RELAY_ON_ERROR_STOP ? "stop" : "dead-letter");
	fprintf(out, "max-in-flight-bytes = %llu\n",
			(unsigned long long) cfg->max_in_flight_bytes);
	/* monitoring */
	print_string(out, "metrics-listen", cfg->metrics_listen);
	fprintf(out, "health-max-lag-bytes = %llu\n",
			(unsigned long long) cfg->health_max_lag_bytes);
	fprintf(out, "health-max-error-ratio = %g\n", cfg->health_max_error_ratio);
	fprintf(out, "heartbeat-interval = %d\n", cfg->heartbeat_interval);
	print_string(out, "heartbeat-topic", cfg->heartbeat_topic);
	print_string(out, "heartbeat-action-query", cfg->heartbeat_action_query);

	for (size_t i = 0; i < cfg->kafka.count; i++)
	{
		const RelaySetting *s = &cfg->kafka.items[i];

		fprintf(out, "kafka.%s = ", s->name);
		print_quoted(out, config_is_secret(s->name) ? "***" : s->value);
		fputc('\n', out);
	}
	free(dbname);
}
