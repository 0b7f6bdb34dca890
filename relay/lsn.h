/*-------------------------------------------------------------------------
 *
 * lsn.h
 *		The Lsn type, how to print one, and its parser (lsn.c).
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/lsn.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RELAY_LSN_H
#define RELAY_LSN_H

#include <stdbool.h>
#include <stdint.h>

/*
 * An LSN, as PostgreSQL's XLogRecPtr: a 64-bit byte position in the WAL.
 * 0 means "no position" (InvalidXLogRecPtr).  Print with
 * printf("confirmed " LSN_FMT, LSN_ARGS(lsn)).
 */
typedef uint64_t Lsn;

#define INVALID_LSN			((Lsn) 0)
#define LSN_FMT				"%X/%X"
#define LSN_ARGS(lsn)		((unsigned int) ((uint64_t) (lsn) >> 32)), \
							((unsigned int) ((uint64_t) (lsn) & 0xFFFFFFFFu))
#define LSN_TEXT_SIZE		18	/* "FFFFFFFF/FFFFFFFF" and a NUL */

/*
 * Parse an LSN as PostgreSQL prints it ("16/B374D848": 1 to 8 hex digits,
 * a slash, 1 to 8 hex digits, nothing else).  Returns false on any other
 * text, leaving *lsn alone.
 */
extern bool relay_lsn_parse(const char *text, Lsn *lsn);

#endif							/* RELAY_LSN_H */
