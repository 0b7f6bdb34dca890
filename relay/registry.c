/*-------------------------------------------------------------------------
 *
 * registry.c
 *		Register schemas with a Confluent-compatible Schema Registry over
 *		its REST API (libcurl), and cache the ids.
 *
 * Registration happens once per subject and schema, the first time a
 * record needs it, so the hot path only looks the id up (in the caller's
 * per-table cache, or in the hash table here).  A failure that may pass
 * (no connection, a timeout, 5xx, 429) is REGISTRY_RETRY and backs off from
 * 0.5 s to 10 s; nothing that needs the id is produced meanwhile, so nothing
 * past it is confirmed.  Any other answer is REGISTRY_REFUSED, and
 * registry_refusal_hint() says what to do about it: wrong credentials
 * (401, 403) and a schema too large (413) do not pass by waiting.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/registry.c
 *
 *-------------------------------------------------------------------------
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "registry.h"
#include "clock.h"
#include "log.h"
#include "program.h"

#define BACKOFF_MIN_US		(500 * 1000)
#define BACKOFF_MAX_US		(10 * 1000 * 1000)
#define CONNECT_TIMEOUT_MS	3000
#define REQUEST_TIMEOUT_MS	10000
#define MAX_ANSWER			(64 * 1024)

typedef struct CachedId
{
	char	   *subject;		/* NULL: an empty slot */
	uint64_t	fp;
	uint32_t	id;
} CachedId;

struct Registry
{
	CURL	   *curl;
	char	  **urls;			/* without a trailing "/" */
	size_t		nurls;
	size_t		current;		/* the URL that answered last */
	struct curl_slist *headers;
	CachedId   *slots;			/* open addressing, capacity a power of two */
	size_t		capacity;
	size_t		count;
	int64_t		retry_at_us;	/* no request before this after a failure */
	int64_t		backoff_us;
	char	   *body;			/* request body, grown as needed */
	size_t		body_cap;
	char		answer[MAX_ANSWER + 1];
	size_t		answer_len;
	long		refused_status; /* the HTTP status of the last refusal */
	size_t		refused_len;	/* the size of the schema it refused */
	char	   *user;			/* the basic-auth user, for messages */
};

static size_t
on_answer(char *data, size_t size, size_t n, void *ctx)
{
	Registry   *reg = ctx;
	size_t		len = size * n;
	size_t		room = MAX_ANSWER - reg->answer_len;

	memcpy(reg->answer + reg->answer_len, data, len < room ? len : room);
	reg->answer_len += len < room ? len : room;
	return len;
}

static uint64_t
hash_key(const char *subject, uint64_t fp)
{
	uint64_t	h = fp ^ UINT64_C(0xcbf29ce484222325);

	for (const unsigned char *p = (const unsigned char *) subject; *p; p++)
		h = (h ^ *p) * UINT64_C(0x100000001b3);
	return h;
}

static CachedId *
slot_for(Registry *reg, const char *subject, uint64_t fp)
{
	size_t		mask = reg->capacity - 1;
	size_t		i = (size_t) hash_key(subject, fp) & mask;

	while (reg->slots[i].subject &&
		   (reg->slots[i].fp != fp || strcmp(reg->slots[i].subject, subject) != 0))
		i = (i + 1) & mask;
	return &reg->slots[i];
}

static bool
cache_put(Registry *reg, const char *subject, uint64_t fp, uint32_t id)
{
	CachedId   *s;

	if ((reg->count + 1) * 2 > reg->capacity)
	{
		CachedId   *old = reg->slots;
		size_t		oldcap = reg->capacity;
		CachedId   *grown = calloc(oldcap * 2, sizeof(CachedId));

		if (grown == NULL)
			return false;
		reg->slots = grown;
		reg->capacity = oldcap * 2;
		for (size_t i = 0; i < oldcap; i++)
			if (old[i].subject)
				*slot_for(reg, old[i].subject, old[i].fp) = old[i];
		free(old);
	}
	s = slot_for(reg, subject, fp);
	if ((s->subject = strdup(subject)) == NULL)
		return false;
	s->fp = fp;
	s->id = id;
	reg->count++;
	return true;
}

/* The request body {"schema": "<schema as a JSON string>"} in reg->body. */
static bool
build_body(Registry *reg, const char *schema, size_t len)
{
	size_t		need = 16 + len * 6;
	size_t		n = 0;

	if (need > reg->body_cap)
	{
		char	   *b = realloc(reg->body, need);

		if (b == NULL)
			return false;
		reg->body = b;
		reg->body_cap = need;
	}
	n += (size_t) sprintf(reg->body, "{\"schema\":\"");
	for (size_t i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) schema[i];

		if (c == '"' || c == '\\')
		{
			reg->body[n++] = '\\';
			reg->body[n++] = (char) c;
		}
		else if (c < 0x20)
			n += (size_t) sprintf(reg->body + n, "\\u%04x", c);
		else
			reg->body[n++] = (char) c;
	}
	memcpy(reg->body + n, "\"}", 3);
	return true;
}

/* The number after "key": in a JSON answer, or -1. */
static int64_t
answer_number(const char *answer, const char *key)
{
	const char *p = strstr(answer, key);
	char	   *end;
	long long	v;

	if (p == NULL)
		return -1;
	p += strlen(key);
	while (*p == ' ' || *p == '"' || *p == ':')
		p++;
	v = strtoll(p, &end, 10);
	return end == p ? -1 : v;
}

/* One POST to one URL: the HTTP status, or 0 with err when none came. */
static long
post(Registry *reg, const char *url, const char *subject, char *err, size_t errlen)
{
	char	   *full;
	size_t		len = strlen(url) + strlen(subject) + 32;
	CURLcode	rc;
	long		status = 0;

	if ((full = malloc(len)) == NULL)
	{
		snprintf(err, errlen, "out of memory");
		return 0;
	}
	snprintf(full, len, "%s/subjects/%s/versions", url, subject);
	reg->answer_len = 0;
	curl_easy_setopt(reg->curl, CURLOPT_URL, full);
	curl_easy_setopt(reg->curl, CURLOPT_POSTFIELDS, reg->body);
	rc = curl_easy_perform(reg->curl);
	reg->answer[reg->answer_len] = '\0';
	if (rc != CURLE_OK)
		snprintf(err, errlen, "schema registry %s: %s", url, curl_easy_strerror(rc));
	else
		curl_easy_getinfo(reg->curl, CURLINFO_RESPONSE_CODE, &status);
	free(full);
	return status;
}

static RegistryResult
refused(Registry *reg, long status, size_t schema_len)
{
	reg->refused_status = status;
	reg->refused_len = schema_len;
	return REGISTRY_REFUSED;
}

const char *
registry_refusal_hint(const Registry *reg)
{
	switch (reg->refused_status)
	{
		case 401:
		case 403:
			return "Nothing that needs this schema was confirmed. Check schema-registry-user and "
				"the password (schema-registry-password, WAL2AVRO_SCHEMA_REGISTRY_PASSWORD or its _FILE form), and that the user may register in the subject, then start again.";
		case 409:
			return "Nothing from this schema on was confirmed. A 409 means the subject's compatibility "
				"rule refuses the new schema: change the rule or the table, then start again.";
		case 413:
			return "Nothing from this schema on was confirmed. Raise the registry's (or its proxy's) "
				"request size limit, or leave wide columns of this table out of the publication, "
				"then start again.";
		case 422:
			return "Nothing from this schema on was confirmed. A 422 means the registry finds the "
				"schema invalid or too large (Confluent's answers 422 for a schema over its schema "
				"topic's record size limit): raise that limit, or report the schema "
				"(wal2avro.avro_schemas()) to wal2avro.";
		default:
			return "Nothing from this schema on was confirmed. Fix what the registry's answer names, "
				"then start again.";
	}
}

RegistryResult
registry_id(Registry *reg, const char *subject, uint64_t fp, const char *schema,
			size_t schema_len, uint32_t *id, char *err, size_t errlen)
{
	CachedId   *hit = slot_for(reg, subject, fp);
	int64_t		now = relay_now_us();

	if (hit->subject)
	{
		*id = hit->id;
		return REGISTRY_OK;
	}
	if (now < reg->retry_at_us)
	{
		snprintf(err, errlen, "schema registry unavailable: next attempt in %.1f s",
				 (reg->retry_at_us - now) / 1e6);
		return REGISTRY_RETRY;
	}
	if (!build_body(reg, schema, schema_len))
	{
		snprintf(err, errlen, "out of memory");
		return REGISTRY_RETRY;
	}
	for (size_t tried = 0; tried < reg->nurls; tried++)
	{
		const char *url = reg->urls[reg->current];
		long		status = post(reg, url, subject, err, errlen);
		int64_t		got;

		if (status == 200 && (got = answer_number(reg->answer, "\"id\"")) >= 0 &&
			got <= INT32_MAX)
		{
			*id = (uint32_t) got;
			reg->backoff_us = 0;
			reg->retry_at_us = 0;
			if (!cache_put(reg, subject, fp, *id))
			{
				snprintf(err, errlen, "out of memory");
				return REGISTRY_RETRY;
			}
			relay_log(RELAY_LOG_DEBUG, "schema registry %s: subject \"%s\" has schema %016" PRIx64 " as id %u",
					  url, subject, fp, *id);
			return REGISTRY_OK;
		}
		if (status == 200)
			snprintf(err, errlen, "schema registry %s: no schema id in its answer to subject \"%s\": %.200s",
					 url, subject, reg->answer);
		else if (status == 401 || status == 403)
		{
			snprintf(err, errlen, "schema registry %s refused the credentials%s%s%s for subject \"%s\": HTTP %ld: %.200s",
					 url, reg->user ? " of user \"" : " (none sent)",
					 reg->user ? reg->user : "", reg->user ? "\"" : "", subject, status,
					 reg->answer);
			return refused(reg, status, schema_len);
		}
		else if (status == 413)
		{
			snprintf(err, errlen, "schema registry %s refused the schema of subject \"%s\" as too large (%zu bytes of schema, HTTP 413): %.200s",
					 url, subject, schema_len, reg->answer);
			return refused(reg, status, schema_len);
		}
		else if (status != 0 && status != 429 && status < 500)
		{
			snprintf(err, errlen, "schema registry %s refused the schema of subject \"%s\": HTTP %ld, error_code %" PRId64 ": %.300s",
					 url, subject, status, answer_number(reg->answer, "\"error_code\""),
					 reg->answer);
			return refused(reg, status, schema_len);
		}
		else if (status != 0)
			snprintf(err, errlen, "schema registry %s: HTTP %ld for subject \"%s\": %.200s",
					 url, status, subject, reg->answer);
		relay_log(RELAY_LOG_WARNING, "%s", err);
		reg->current = (reg->current + 1) % reg->nurls;
	}
	reg->backoff_us = reg->backoff_us == 0 ? BACKOFF_MIN_US :
		reg->backoff_us * 2 > BACKOFF_MAX_US ? BACKOFF_MAX_US : reg->backoff_us * 2;
	reg->retry_at_us = relay_now_us() + reg->backoff_us;
	relay_log_hint(RELAY_LOG_WARNING, "Nothing that needs this schema is produced or confirmed until the registry answers; next attempt in %.1f s.",
				   reg->backoff_us / 1e6);
	return REGISTRY_RETRY;
}

Registry *
registry_create(const RelayConfig *cfg, char *err, size_t errlen)
{
	Registry   *reg = calloc(1, sizeof(Registry));
	char	   *list = NULL,
			   *save = NULL;

	if (reg == NULL || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
		(reg->curl = curl_easy_init()) == NULL)
	{
		snprintf(err, errlen, "could not start the schema registry client (libcurl)");
		free(reg);
		return NULL;
	}
	reg->capacity = 64;
	reg->slots = calloc(reg->capacity, sizeof(CachedId));
	list = strdup(cfg->schema_registry);
	reg->urls = calloc(strlen(cfg->schema_registry) + 1, sizeof(char *));
	if (reg->slots == NULL || list == NULL || reg->urls == NULL)
		goto oom;
	for (char *u = strtok_r(list, ",", &save); u; u = strtok_r(NULL, ",", &save))
	{
		size_t		len;

		while (*u == ' ')
			u++;
		len = strlen(u);
		while (len > 0 && (u[len - 1] == '/' || u[len - 1] == ' '))
			u[--len] = '\0';
		if (len > 0 && (reg->urls[reg->nurls] = strdup(u)) == NULL)
			goto oom;
		reg->nurls += len > 0;
	}
	free(list);
	list = NULL;
	if (reg->nurls == 0)
	{
		snprintf(err, errlen, "option \"schema-registry\" names no URL");
		registry_free(reg);
		return NULL;
	}
	reg->headers = curl_slist_append(NULL, "Content-Type: application/vnd.schemaregistry.v1+json");
	reg->headers = curl_slist_append(reg->headers,
									 "Accept: application/vnd.schemaregistry.v1+json, application/json");
	curl_easy_setopt(reg->curl, CURLOPT_HTTPHEADER, reg->headers);
	curl_easy_setopt(reg->curl, CURLOPT_WRITEFUNCTION, on_answer);
	curl_easy_setopt(reg->curl, CURLOPT_WRITEDATA, reg);
	curl_easy_setopt(reg->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(reg->curl, CURLOPT_CONNECTTIMEOUT_MS, (long) CONNECT_TIMEOUT_MS);
	curl_easy_setopt(reg->curl, CURLOPT_TIMEOUT_MS, (long) REQUEST_TIMEOUT_MS);
	curl_easy_setopt(reg->curl, CURLOPT_USERAGENT, RELAY_PROGNAME);
	if (cfg->schema_registry_user)
	{
		if ((reg->user = strdup(cfg->schema_registry_user)) == NULL)
			goto oom;
		curl_easy_setopt(reg->curl, CURLOPT_HTTPAUTH, (long) CURLAUTH_BASIC);
		curl_easy_setopt(reg->curl, CURLOPT_USERNAME, cfg->schema_registry_user);
		curl_easy_setopt(reg->curl, CURLOPT_PASSWORD,
						 cfg->schema_registry_password ? cfg->schema_registry_password : "");
	}
	if (cfg->schema_registry_ca)
		curl_easy_setopt(reg->curl, CURLOPT_CAINFO, cfg->schema_registry_ca);
	return reg;

oom:
	free(list);
	registry_free(reg);
	snprintf(err, errlen, "out of memory");
	return NULL;
}

void
registry_free(Registry *reg)
{
	if (reg == NULL)
		return;
	if (reg->curl)
		curl_easy_cleanup(reg->curl);
	curl_slist_free_all(reg->headers);
	for (size_t i = 0; i < reg->nurls; i++)
		free(reg->urls[i]);
	free(reg->urls);
	for (size_t i = 0; i < reg->capacity && reg->slots; i++)
		free(reg->slots[i].subject);
	free(reg->slots);
	free(reg->body);
	free(reg->user);
	free(reg);
}
