/*-------------------------------------------------------------------------
 *
 * wal2avro_protocol.h
 *		The wire contract between the wal2avro output plugin and its readers.
 *
 * Every message the plugin writes (one per OutputPluginWrite) is one frame:
 * a fixed 10-byte header followed by a body whose layout depends on the
 * frame kind.  doc/protocol.md describes the same thing in prose; change both
 * in the same commit.  All integers are big-endian.  Strings and byte blocks
 * are a uint32 length followed by that many bytes (no terminator).
 *
 * This header includes only <stdint.h> and <string.h> so that the relay,
 * which has no PostgreSQL server headers, can include it too.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * plugin/wal2avro_protocol.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef WAL2AVRO_PROTOCOL_H
#define WAL2AVRO_PROTOCOL_H

#include <stdint.h>
#include <string.h>

/* Header: magic[3] version[1] kind[1] flags[1] body_length[4] */
#define W2A_MAGIC0				'W'
#define W2A_MAGIC1				'2'
#define W2A_MAGIC2				'A'
#define W2A_PROTOCOL_VERSION	1
#define W2A_HEADER_SIZE			10
#define W2A_MAX_BODY			0x3FFFFFFF	/* 1 GB less one: a varlena's limit */

/* Frame kinds (the header's kind byte) */
#define W2A_FRAME_BEGIN			'B'
#define W2A_FRAME_SCHEMA		'S'
#define W2A_FRAME_CHANGE		'D'
#define W2A_FRAME_TRUNCATE		'T'
#define W2A_FRAME_MESSAGE		'M'
#define W2A_FRAME_COMMIT		'C'

/* Operations in a CHANGE frame, as Debezium spells them */
#define W2A_OP_CREATE			'c'
#define W2A_OP_UPDATE			'u'
#define W2A_OP_DELETE			'd'
#define W2A_OP_READ				'r'
#define W2A_OP_TRUNCATE			't'	/* compat=debezium: one truncated table */
#define W2A_OP_MESSAGE			'm'	/* compat=debezium: a logical message */

/*
 * compat=debezium: the pseudo relation of logical messages.  Its SCHEMA
 * frame names the topic <prefix>.message and carries Debezium's MessageKey
 * and MessageValue schemas; a non-transactional message's SCHEMA and
 * CHANGE frames come outside BEGIN/COMMIT, the CHANGE with the header flag
 * W2A_CHANGE_NON_TRANSACTIONAL.  Messages whose prefix starts with
 * W2A_CONTROL_PREFIX (the relay's own: heartbeats, on-demand snapshot
 * requests and watermarks) stay MESSAGE frames.
 */
#define W2A_MESSAGE_RELID		0
#define W2A_CONTROL_PREFIX		"wal2avro."
#define W2A_HEARTBEAT_PREFIX	W2A_CONTROL_PREFIX "heartbeat"

/*
 * CHANGE frame header flags.  KEY_CHANGE: the change is one half of an
 * UPDATE that changed the key (the delete under the old key, or the create
 * under the new one), and one more block follows the value: the other key's
 * Avro datum (the new key in the delete, the old key in the create), in the
 * frame's key schema.
 */
#define W2A_CHANGE_KEY_CHANGE	0x01

/*
 * CHANGE header flag NON_TRANSACTIONAL (compat=debezium): the change is a
 * non-transactional logical message (op 'm'), written outside BEGIN/COMMIT;
 * a reader makes it a transaction of one record at its LSN.
 */
#define W2A_CHANGE_NON_TRANSACTIONAL	0x02
#define W2A_CHANGE_FLAGS		(W2A_CHANGE_KEY_CHANGE | W2A_CHANGE_NON_TRANSACTIONAL)

/* TRUNCATE frame flags */
#define W2A_TRUNCATE_CASCADE			0x01
#define W2A_TRUNCATE_RESTART_IDENTITY	0x02

/* A byte block of this length means "absent" (a change without a key) */
#define W2A_NO_BLOCK			0xFFFFFFFFu

/*
 * Body layouts, field by field (width in bytes):
 *
 * BEGIN     xid[4] commit_lsn[8] commit_time[8]
 * SCHEMA    relid[4] key_fingerprint[8] value_fingerprint[8]
 *           schema_name[str] table_name[str] topic[str]
 *           key_column_count[2] key_column_name[str]...
 *           key_schema_json[str] value_schema_json[str]
 * CHANGE    op[1] relid[4] lsn[8] key_fingerprint[8] value_fingerprint[8]
 *           key[block] value[block]
 *           (compat=debezium: op 't' a truncated table, key absent; op 'm'
 *           a message on relid W2A_MESSAGE_RELID)
 *           other_key[block]    (only with the W2A_CHANGE_KEY_CHANGE flag)
 * TRUNCATE  flags[1] lsn[8] relation_count[2] { relid[4] schema_name[str] table_name[str] }...
 * MESSAGE   transactional[1] lsn[8] prefix[str] content[block]
 * COMMIT    commit_lsn[8] end_lsn[8] commit_time[8] change_count[8]
 *
 * Times are microseconds since the Unix epoch (UTC).  A fingerprint is the
 * CRC-64-AVRO (Rabin) fingerprint of the schema's whole JSON text as the
 * frame carries it, logical types and properties included (not of its
 * Parsing Canonical Form, see doc/protocol.md); a key fingerprint of 0 and
 * an empty key schema mean the relation has no key.
 */

static inline void
w2a_put_u16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char) (v >> 8);
	p[1] = (unsigned char) v;
}

static inline void
w2a_put_u32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char) (v >> 24);
	p[1] = (unsigned char) (v >> 16);
	p[2] = (unsigned char) (v >> 8);
	p[3] = (unsigned char) v;
}

static inline void
w2a_put_u64(unsigned char *p, uint64_t v)
{
	w2a_put_u32(p, (uint32_t) (v >> 32));
	w2a_put_u32(p + 4, (uint32_t) v);
}

static inline uint16_t
w2a_get_u16(const unsigned char *p)
{
	return (uint16_t) ((p[0] << 8) | p[1]);
}

static inline uint32_t
w2a_get_u32(const unsigned char *p)
{
	return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16) |
		((uint32_t) p[2] << 8) | (uint32_t) p[3];
}

static inline uint64_t
w2a_get_u64(const unsigned char *p)
{
	return ((uint64_t) w2a_get_u32(p) << 32) | w2a_get_u32(p + 4);
}

/* Does buf (at least W2A_HEADER_SIZE bytes) start with our magic? */
static inline int
w2a_has_magic(const unsigned char *buf)
{
	return buf[0] == W2A_MAGIC0 && buf[1] == W2A_MAGIC1 && buf[2] == W2A_MAGIC2;
}

#endif							/* WAL2AVRO_PROTOCOL_H */
