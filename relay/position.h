/*-------------------------------------------------------------------------
 *
 * position.h
 *		The relay's durable confirmed position (position.c).
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/position.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RELAY_POSITION_H
#define RELAY_POSITION_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "kafka_writer.h"
#include "lsn.h"

#define POSITION_SYSID_SIZE	24		/* a uint64 in decimal, and a NUL */
#define POSITION_SLOT_SIZE	64		/* NAMEDATALEN */

/* One position record: "confirmed <LSN> system <id> timeline <n> slot <name>" */
typedef struct PositionRecord
{
	bool		valid;			/* false: none stored (or a tombstone) */
	Lsn			lsn;			/* confirmed: every record up to it is in Kafka */
	char		sysid[POSITION_SYSID_SIZE]; /* IDENTIFY_SYSTEM systemid */
	unsigned int timeline;		/* IDENTIFY_SYSTEM timeline */
	char		slot[POSITION_SLOT_SIZE];
} PositionRecord;

/* Why position_decide chose what it chose, for the log */
typedef enum PositionVerdict
{
	POSITION_NONE = 0,			/* nothing stored for this slot */
	POSITION_OTHER_SERVER,		/* stored for another system, timeline or slot */
	POSITION_AT_SLOT,			/* stored, not ahead of the slot: the slot's */
	POSITION_AHEAD_OF_WAL,		/* stored past the server's WAL: ignored */
	POSITION_AHEAD_OF_SLOT		/* the slot lost confirmations: start at ours */
} PositionVerdict;

/* Where to stream from: position_decide's answer */
typedef struct PositionStart
{
	Lsn			request;		/* for START_REPLICATION; INVALID_LSN: 0/0 */
	Lsn			from;			/* where the server streams from */
	Lsn			skip_before;	/* transactions committing before it are in Kafka */
	PositionVerdict verdict;
} PositionStart;

typedef struct Position Position;

extern PositionStart position_decide(const PositionRecord *stored, const char *sysid,
									 unsigned int timeline, bool on_history, const char *slot,
									 Lsn slot_confirmed, Lsn server_flush);
extern bool position_on_history(const char *history, unsigned int tli, Lsn lsn);
extern bool position_covers(Lsn skip_before, Lsn lsn);
extern int	position_format(const PositionRecord *rec, char *buf, size_t len);
extern bool position_parse(const char *text, size_t len, PositionRecord *rec);

extern Position *position_create(const RelayConfig *cfg);
extern int	position_load(Position *p, char *err, size_t errlen);
extern const PositionRecord *position_known(const Position *p);
extern void position_begin(Position *p, const char *sysid, unsigned int timeline, Lsn start,
						   bool created);
extern Lsn	position_limit(const Position *p);
extern WriterResult position_step(Position *p, KafkaWriter *r, Lsn confirmable, bool force,
								   char *err, size_t errlen);
extern bool position_settled(const Position *p, Lsn confirmable);
extern void position_free(Position *p);

#endif							/* RELAY_POSITION_H */
