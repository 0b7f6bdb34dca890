/*-------------------------------------------------------------------------
 *
 * position.c
 *		The relay's durable confirmed position: kept on the state topic,
 *		the place the next stream starts from.
 *
 * PostgreSQL keeps a slot's confirmed_flush_lsn in memory and writes it to
 * disk only at checkpoints (and a few other times): after a crash the slot
 * is back where it last was on disk, and a relay starting at 0/0 would get
 * again what it had confirmed since.  So before any position goes to
 * PostgreSQL as the status update's flush, the relay writes it to the state
 * topic (key "position.<slot>", value "confirmed <LSN> system <id> timeline
 * <n> slot <name>") and waits for the broker's acknowledgement:
 * position_limit is what may be confirmed.  One record is in flight at a
 * time, at most one a second while the position moves, so the cost is a
 * few small records a second whatever the load.
 *
 * On start the stored position counts only for the same system identifier,
 * timeline and slot, ahead of the slot's confirmed position and not past the
 * server's WAL (a restored backup): START_REPLICATION asks for it, and
 * transactions committing before it are not produced again.  A slot the
 * relay creates starts at the WAL's current end, past any stored position,
 * so a stale one never skips anything on a new slot.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/position.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "clock.h"
#include "config.h"
#include "kafka_writer.h"
#include "log.h"
#include "lsn.h"
#include "position.h"
#include "topic_reader.h"

#define POSITION_MIN_GAP_US		(1000000LL) /* one position record a second at most */
#define POSITION_TEXT_SIZE		192

struct Position
{
	const RelayConfig *cfg;
	char		key[POSITION_SLOT_SIZE + 16];	/* "position.<slot>" */
	bool		loaded;			/* the state topic was read */
	PositionRecord stored;		/* last on the topic: read, then each one acknowledged */
	PositionRecord known;		/* stored, or later: acknowledged by Kafka in this process */
	char		sysid[POSITION_SYSID_SIZE]; /* of the server streamed from now */
	unsigned int timeline;
	Lsn			limit;			/* confirm nothing past it */
	PositionRecord in_flight;	/* valid: a record sent, not yet acknowledged */
	uint64_t	in_flight_tag;
	uint64_t	next_tag;
	int64_t		sent_us;
};

/* ------------------------------------------------------------------------
 * Pure logic: the decision and the record's text
 * ------------------------------------------------------------------------
 */

/*
 * Where to stream from, given what the state topic holds for the slot
 * ("stored"), the server we are connected to, the slot's confirmed_flush_lsn
 * and the server's WAL flush position (IDENTIFY_SYSTEM xlogpos; INVALID_LSN:
 * unknown).  "on_history": the stored position is of an older timeline that
 * this server's history holds up to it (position_on_history): a promoted
 * standby, whose synchronized slot may lag what was confirmed on the old
 * primary, counts it as its own.  The server streams from the later of the
 * requested position and the slot's; the relay skips what commits before
 * "skip_before".  Never fails.
 */
PositionStart
position_decide(const PositionRecord *stored, const char *sysid, unsigned int timeline,
				bool on_history, const char *slot, Lsn slot_confirmed, Lsn server_flush)
{
	PositionStart st;

	st.request = INVALID_LSN;
	st.from = slot_confirmed;
	st.skip_before = slot_confirmed;
	if (stored == NULL || !stored->valid)
		st.verdict = POSITION_NONE;
	else if (strcmp(stored->sysid, sysid) != 0 ||
			 (stored->timeline != timeline && !on_history) ||
			 strcmp(stored->slot, slot) != 0)
		st.verdict = POSITION_OTHER_SERVER;
	else if (stored->lsn <= slot_confirmed)
		st.verdict = POSITION_AT_SLOT;
	else if (server_flush != INVALID_LSN && stored->lsn > server_flush)
		st.verdict = POSITION_AHEAD_OF_WAL;
	else
	{
		st.verdict = POSITION_AHEAD_OF_SLOT;
		st.request = stored->lsn;
		st.from = stored->lsn;
		st.skip_before = stored->lsn;
	}
	return st;
}

/*
 * Does a timeline history file (TIMELINE_HISTORY's content: lines "<tli>
 * <switch LSN> <reason>", tab-separated, ancestors first) hold timeline
 * "tli" up to "lsn", so that a position confirmed there is also this
 * timeline's?  False for a timeline it does not name, or one that ended
 * before lsn (the servers' WAL went apart there).  Never fails.
 */
bool
position_on_history(const char *history, unsigned int tli, Lsn lsn)
{
	const char *line = history;

	while (line && *line)
	{
		char	   *end;
		unsigned long t = strtoul(line, &end, 10);
		Lsn			at = INVALID_LSN;
		char		text[32];
		size_t		n = 0;

		if (end != line && (*end == '\t' || *end == ' '))
		{
			const char *p = end + 1;

			while (*p == ' ' || *p == '\t')
				p++;
			while (p[n] && p[n] != '\t' && p[n] != ' ' && p[n] != '\n' && n + 1 < sizeof(text))
			{
				text[n] = p[n];
				n++;
			}
			text[n] = '\0';
			if (t == tli && relay_lsn_parse(text, &at))
				return lsn <= at;
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return false;
}

/*
 * Is what starts at "lsn" (a BEGIN's commit LSN, a non-transactional
 * message's LSN) already in Kafka?  A transaction is confirmed at its commit
 * record's end, so one whose commit record starts before the position ends
 * at or before it: PostgreSQL's own rule for a start position
 * (SnapBuildXactNeedsSkip).
 */
bool
position_covers(Lsn skip_before, Lsn lsn)
{
	return lsn != INVALID_LSN && lsn < skip_before;
}

/*
 * The record's text into buf.  Returns its length, or -1 when it does not
 * fit (nothing useful is in buf then).
 */
int
position_format(const PositionRecord *rec, char *buf, size_t len)
{
	int			n = snprintf(buf, len, "confirmed " LSN_FMT " system %s timeline %u slot %s",
							 LSN_ARGS(rec->lsn), rec->sysid, rec->timeline, rec->slot);

	return n < 0 || (size_t) n >= len ? -1 : n;
}

/*
 * Parse a record's text (len bytes, not NUL terminated).  Returns false,
 * with rec->valid false, for anything position_format does not write.
 */
bool
position_parse(const char *text, size_t len, PositionRecord *rec)
{
	char		buf[POSITION_TEXT_SIZE];
	char		lsn[LSN_TEXT_SIZE + 1];
	int			end = -1;

	memset(rec, 0, sizeof(*rec));
	if (text == NULL || len >= sizeof(buf))
		return false;
	memcpy(buf, text, len);
	buf[len] = '\0';
	if (sscanf(buf, "confirmed %18s system %23[0-9] timeline %u slot %63s%n",
			   lsn, rec->sysid, &rec->timeline, rec->slot, &end) != 4 ||
		end != (int) len || !relay_lsn_parse(lsn, &rec->lsn))
	{
		memset(rec, 0, sizeof(*rec));
		return false;
	}
	rec->valid = true;
	return true;
}

/* ------------------------------------------------------------------------
 * The position across the relay's life
 * ------------------------------------------------------------------------
 */

/* For the slot of cfg, nothing read yet.  Returns NULL when out of memory. */
Position *
position_create(const RelayConfig *cfg)
{
	Position   *p = calloc(1, sizeof(Position));

	if (p == NULL)
		return NULL;
	p->cfg = cfg;
	snprintf(p->key, sizeof(p->key), "position.%s", cfg->slot);
	p->next_tag = 1;
	return p;
}

static void
note_position_cb(void *ctx, const rd_kafka_message_t *m)
{
	Position   *p = ctx;

	if (m->key_len != strlen(p->key) || memcmp(m->key, p->key, m->key_len) != 0)
		return;
	/* a tombstone, or a text we do not know, forgets the position */
	if (m->payload == NULL || !position_parse(m->payload, m->len, &p->stored))
		memset(&p->stored, 0, sizeof(p->stored));
	p->known = p->stored;
}

/*
 * Read the slot's stored position from the state topic, to its end, once per
 * process: afterwards this relay is the one writing it.  Returns 0 (also when
 * read before), or -1 with a message in err when the topic could not be read
 * to its end; call again later.
 */
int
position_load(Position *p, char *err, size_t errlen)
{
	bool		complete = false;

	if (p->loaded)
		return 0;
	memset(&p->stored, 0, sizeof(p->stored));
	memset(&p->known, 0, sizeof(p->known));
	if (topic_reader_read(topic_reader_conf(p->cfg), p->cfg->state_topic, note_position_cb, p,
						&complete, err, errlen) != 0)
		return -1;
	if (!complete)
	{
		snprintf(err, errlen, "the broker did not answer, or the read stopped before the end of the topic");
		return -1;
	}
	p->loaded = true;
	return 0;
}

/*
 * The latest position known to be in Kafka (valid false: none): the one on
 * the state topic, or one acknowledged since on a stream of this process.
 * Owned by p, changed by the next position_step.
 */
const PositionRecord *
position_known(const Position *p)
{
	return &p->known;
}

/* Raise p->known to lsn on the server streamed from now. */
static void
note_known(Position *p, Lsn lsn)
{
	PositionRecord *k = &p->known;

	if (k->valid && k->lsn >= lsn && strcmp(k->sysid, p->sysid) == 0 &&
		k->timeline == p->timeline)
		return;
	k->valid = true;
	k->lsn = lsn;
	snprintf(k->sysid, sizeof(k->sysid), "%s", p->sysid);
	k->timeline = p->timeline;
	snprintf(k->slot, sizeof(k->slot), "%s", p->cfg->slot);
}

/*
 * A new connection to the server "sysid"/"timeline" streams from "start"
 * (position_decide's "from"): nothing up to it needs a record of ours.  A
 * record still in flight from the last connection is no longer waited for.
 * "created": the slot is new, so what was known of the old one is forgotten.
 */
void
position_begin(Position *p, const char *sysid, unsigned int timeline, Lsn start, bool created)
{
	if (created)
		memset(&p->known, 0, sizeof(p->known));
	snprintf(p->sysid, sizeof(p->sysid), "%s", sysid);
	p->timeline = timeline;
	p->limit = start;
	memset(&p->in_flight, 0, sizeof(p->in_flight));
	p->sent_us = 0;
}

/* The highest position that may go to PostgreSQL: it is on the state topic. */
Lsn
position_limit(const Position *p)
{
	return p->limit;
}

/*
 * Take the acknowledgement of the record in flight, and send a new one for
 * "confirmable" when it moved past the limit, none is in flight and the last
 * went out a second ago or more ("force": now).  Returns WRITER_OK (also
 * when nothing was due), WRITER_WAIT (the producer queue is full: call
 * again), WRITER_FAILED or WRITER_ERROR with a message in err.
 */
WriterResult
position_step(Position *p, KafkaWriter *r, Lsn confirmable, bool force, char *err, size_t errlen)
{
	char		value[POSITION_TEXT_SIZE];
	PositionRecord rec;
	WriterResult rc;
	int64_t		now;

	if (p->in_flight.valid && writer_untracked_acked(r) >= p->in_flight_tag)
	{
		p->stored = p->in_flight;
		if (p->in_flight.lsn > p->limit)
			p->limit = p->in_flight.lsn;
		p->in_flight.valid = false;
	}
	if (p->sysid[0] != '\0' && confirmable != INVALID_LSN)
		note_known(p, confirmable);
	if (p->in_flight.valid || confirmable <= p->limit)
		return WRITER_OK;
	now = relay_now_us();
	if (!force && now - p->sent_us < POSITION_MIN_GAP_US)
		return WRITER_OK;

	memset(&rec, 0, sizeof(rec));
	rec.valid = true;
	rec.lsn = confirmable;
	snprintf(rec.sysid, sizeof(rec.sysid), "%s", p->sysid);
	rec.timeline = p->timeline;
	snprintf(rec.slot, sizeof(rec.slot), "%s", p->cfg->slot);
	if (position_format(&rec, value, sizeof(value)) < 0)
	{
		snprintf(err, errlen, "position record for slot \"%s\" too long", p->cfg->slot);
		return WRITER_ERROR;
	}
	rc = writer_send_untracked(r, p->cfg->state_topic, p->key, value, p->next_tag,
								err, errlen);
	if (rc != WRITER_OK)
		return rc;
	p->in_flight = rec;
	p->in_flight_tag = p->next_tag++;
	p->sent_us = now;
	relay_log(RELAY_LOG_TRACE, "position " LSN_FMT " sent to topic \"%s\"",
			  LSN_ARGS(confirmable), p->cfg->state_topic);
	return WRITER_OK;
}

/*
 * Is everything up to "confirmable" on the state topic, nothing in flight?
 * (Before the last status update at a stop; position_step takes the
 * acknowledgements.)
 */
bool
position_settled(const Position *p, Lsn confirmable)
{
	return !p->in_flight.valid && p->limit >= confirmable;
}

void
position_free(Position *p)
{
	free(p);
}
