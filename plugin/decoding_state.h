/*-------------------------------------------------------------------------
 *
 * decoding_state.h
 *		The state of one decoding stream: wal2avro.c owns it, options.c
 *		fills its options at startup, and the modules that act on the
 *		options (relcache.c, record.c, snapshot.c, sql_functions.c) read
 *		it.  Also the plugin's version, which record.c writes into every
 *		Source record.  Each module's API is in the header named for it.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * plugin/decoding_state.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef DECODING_STATE_H
#define DECODING_STATE_H

#include "access/xlogdefs.h"
#include "datatype/timestamp.h"
#include "nodes/pg_list.h"

#define WAL2AVRO_VERSION	"0.1.0"

/* The values of the "format" and "envelope" options */
typedef enum W2aFormat
{
	W2A_FORMAT_AVRO,			/* binary frames */
	W2A_FORMAT_JSON				/* one JSON document per message, for people */
} W2aFormat;

typedef enum W2aEnvelope
{
	W2A_ENVELOPE_DEBEZIUM,		/* before/after/source/op/ts_ms */
	W2A_ENVELOPE_FLAT			/* the row plus __op, __lsn, ... */
} W2aEnvelope;

typedef enum W2aCompat
{
	W2A_COMPAT_WAL2AVRO,		/* wal2avro's own records */
	W2A_COMPAT_DEBEZIUM			/* Debezium's, as AvroData writes them (debezium.h) */
} W2aCompat;

/*
 * compat=debezium: Debezium's handling modes, each the value of the plugin
 * option of the connector property's name (decimal-handling-mode, ...);
 * the first of each is Debezium's default.  debezium_typemap.c acts on them.
 */
typedef enum W2aDecimalMode
{
	W2A_DECIMAL_PRECISE,		/* Decimal, VariableScaleDecimal */
	W2A_DECIMAL_DOUBLE,
	W2A_DECIMAL_STRING
} W2aDecimalMode;

typedef enum W2aBinaryMode
{
	W2A_BINARY_BYTES,
	W2A_BINARY_BASE64,
	W2A_BINARY_BASE64_URL_SAFE,
	W2A_BINARY_HEX
} W2aBinaryMode;

typedef enum W2aTimeMode
{
	W2A_TIME_ADAPTIVE,
	W2A_TIME_ADAPTIVE_MICROS,	/* adaptive_time_microseconds */
	W2A_TIME_CONNECT
} W2aTimeMode;

typedef enum W2aIntervalMode
{
	W2A_INTERVAL_NUMERIC,		/* MicroDuration */
	W2A_INTERVAL_STRING			/* io.debezium.time.Interval, ISO-8601 */
} W2aIntervalMode;

typedef enum W2aHstoreMode
{
	W2A_HSTORE_JSON,
	W2A_HSTORE_MAP
} W2aHstoreMode;

typedef struct W2aDbzModes
{
	int			decimal;		/* W2aDecimalMode */
	int			binary;			/* W2aBinaryMode */
	int			time;			/* W2aTimeMode */
	int			interval;		/* W2aIntervalMode */
	int			hstore;			/* W2aHstoreMode */
} W2aDbzModes;

/*
 * compat=debezium with envelope=flat: ExtractNewRecordState's
 * delete.tombstone.handling.mode (delete-tombstone-handling-mode); the
 * first is its default.  The plugin writes __deleted under the rewrite
 * modes; the relay makes the rest of the difference (what becomes of a
 * delete and of its tombstone: under drop it still counts the delete among
 * the transaction's events, as Debezium's transaction metadata does).
 */
typedef enum W2aDeleteMode
{
	W2A_DELETE_TOMBSTONE,		/* the delete's value null, no tombstone */
	W2A_DELETE_DROP,			/* neither (the relay drops the delete) */
	W2A_DELETE_REWRITE,			/* the old row with __deleted "true" */
	W2A_DELETE_REWRITE_TOMBSTONE,	/* the same, then a tombstone */
	W2A_DELETE_TO_TOMBSTONE		/* a tombstone only */
} W2aDeleteMode;

/* Per-stream state (options.c parses the options into it) */
typedef struct Wal2AvroData
{
	MemoryContext change_cxt;	/* reset after every change */
	MemoryContext cache_cxt;	/* the schema cache */

	/* options, fixed at startup */
	W2aFormat	format;
	W2aEnvelope envelope;
	W2aCompat	compat;
	char	   *topic_prefix;	/* as given: the topic's first part */
	char	   *avro_prefix;	/* topic_prefix mapped to an Avro name */
	char	   *topic;			/* one topic for every table, or NULL */
	List	   *include_tables; /* of W2aTablePattern (options.h); NIL: all */
	List	   *exclude_tables; /* of W2aTablePattern */
	List	   *exclude_columns;	/* of W2aColumnPattern */
	List	   *key_columns;	/* of W2aKeyColumns */
	bool		include_before;
	bool		include_timestamps;
	bool		skip_empty_xacts;
	bool		only_local;
	bool		via_partition_root;	/* publish partitions as their root */
	bool		provide_txmeta;	/* compat=debezium: the envelope's transaction */
	int			max_record_size;	/* 0: no limit */
	W2aDbzModes dbz_modes;		/* compat=debezium only */
	uint8		skipped_ops;	/* compat=debezium: DBZ_SKIP_* bits (skipped-operations) */
	List	   *flat_fields;	/* add-fields: of DbzFlatField (debezium.h) */
	char	   *flat_prefix;	/* add-fields-prefix */
	int			delete_mode;	/* W2aDeleteMode */
	char	   *dbname;

	/* compat=debezium, snapshot_frames() only: what Debezium's snapshot rows carry */
	XLogRecPtr	snapshot_lsn;	/* snapshot-lsn: the slot's consistent point, or
								 * InvalidXLogRecPtr (null) */
	int64		snapshot_txid;	/* snapshot-txid: the snapshot transaction's
								 * id, or 0 (null) */
	bool		snapshot_last_table;	/* snapshot-last-table: its last row is
										 * the snapshot's last */
	const char *snapshot_option;	/* the first snapshot-* option given, or NULL */

	/* the transaction being decoded */
	bool		sent_begin;
	uint64		txn_changes;	/* CHANGE frames written */
	uint64		txn_messages;	/* transactional MESSAGE frames written */
	int64		txn_ts_ms;		/* processing time, for envelope ts_ms */
	XLogRecPtr	last_end_lsn;	/* end of the last transaction sent, or
								 * InvalidXLogRecPtr (compat=debezium) */
	uint32		filtered_changes;	/* since we last reported progress */
	TimestampTz last_commit_time;	/* of the last transaction sent
									 * (compat=debezium: a non-transactional
									 * message's Source.ts_ms) */
	uint64		txn_dbz_messages;	/* compat=debezium: messages of the
									 * transaction so far */
	struct RelSchemaEntry *dbz_message_entry;	/* compat=debezium: the
												 * message pseudo relation,
												 * or NULL until the first */
} Wal2AvroData;

#endif							/* DECODING_STATE_H */
