/*-------------------------------------------------------------------------
 *
 * wal2avro.h
 *		Plugin-private types and prototypes, one banner per .c file.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * plugin/wal2avro.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef WAL2AVRO_H
#define WAL2AVRO_H

#include "access/htup.h"
#include "access/tupdesc.h"
#include "access/xlogdefs.h"
#include "datatype/timestamp.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "nodes/pg_list.h"
#include "utils/relcache.h"

#include "compat.h"

#define WAL2AVRO_VERSION	"0.1.0"

/* ---------------------------------------------------------------------
 * wal2avro.c: per-stream state (options.c parses the options into it)
 * ---------------------------------------------------------------------
 */
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
	char	   *dbname;

	/* the transaction being decoded */
	bool		sent_begin;
	uint64		txn_changes;	/* CHANGE frames written */
	uint64		txn_messages;	/* transactional MESSAGE frames written */
	int64		txn_ts_ms;		/* processing time, for envelope ts_ms */
	XLogRecPtr	last_end_lsn;	/* end of the last transaction sent, or
								 * InvalidXLogRecPtr (compat=debezium) */
	uint32		filtered_changes;	/* since we last reported progress */
} Wal2AvroData;

/* ---------------------------------------------------------------------
 * typemap.c: PostgreSQL type -> Avro; typemap_schema.c: its schema;
 * typemap_avro.c: its values
 * ---------------------------------------------------------------------
 */
typedef enum W2aTypeKind
{
	W2A_T_BOOL,
	W2A_T_INT2,
	W2A_T_INT4,
	W2A_T_INT8,
	W2A_T_OID,
	W2A_T_FLOAT4,
	W2A_T_FLOAT8,
	W2A_T_NUMERIC_FIXED,		/* numeric(p,s) */
	W2A_T_NUMERIC_VAR,			/* numeric without typmod */
	W2A_T_TEXT,					/* text, varchar, bpchar, json */
	W2A_T_NAME,
	W2A_T_BYTEA,
	W2A_T_DATE,
	W2A_T_TIMESTAMP,
	W2A_T_TIMESTAMPTZ,
	W2A_T_TIME,
	W2A_T_TIMETZ,
	W2A_T_INTERVAL,
	W2A_T_UUID,
	W2A_T_ARRAY,
	W2A_T_COMPOSITE,
	W2A_T_TEXTOUT				/* anything else: the type's text output */
} W2aTypeKind;

typedef struct W2aType W2aType;

/* One record field: a table column or a composite type's attribute */
typedef struct W2aField
{
	char	   *avro_name;		/* valid, unique within the record */
	char	   *pg_name;
	int			attno;			/* 0-based index into the tuple descriptor */
	Oid			atttypid;		/* a composite's attribute: its declared type */
	W2aType    *type;
	bool		nullable;		/* union has a "null" branch (index 0) */
	bool		toastable;		/* union ends with wal2avro.Unchanged */
} W2aField;

struct W2aType
{
	W2aTypeKind kind;
	Oid			decl_typid;		/* as declared, maybe a domain */
	Oid			typid;			/* after resolving domains */
	int32		typmod;
	char	   *pg_type;		/* the declared type, as format_type prints it */
	bool		has_string_branch;	/* union carries a "string" fallback */
	int			precision;		/* numeric(p,s) */
	int			scale;
	int			fixed_size;		/* bytes of the decimal fixed */
	FmgrInfo	outfunc;		/* text output, where the kind needs one */
	/* arrays */
	W2aType    *elem;
	int16		elmlen;
	bool		elmbyval;
	char		elmalign;
	/* composite types: the attributes of the schema's time, by attno */
	Oid			typrelid;		/* the type's pg_class entry */
	int			nfields;
	W2aField   *fields;
	char	   *record_name;	/* full Avro name */
};

struct SchemaBuf;

extern W2aType *typemap_build(Oid typid, int32 typmod);
extern void typemap_add_deps(const W2aType *type, List **typids, List **relids);
extern void typemap_field_schema(struct SchemaBuf *sb, const W2aField *field);
extern void typemap_field_avro(StringInfo out, const W2aField *field,
							   Datum value, bool isnull, bool unchanged);
extern void typemap_timestamp_iso(Timestamp ts, bool with_tz, char *buf);

/* Days and microseconds between the PostgreSQL epoch (2000) and Unix's */
#define W2A_EPOCH_DAYS		(POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE)
#define W2A_EPOCH_USECS		((int64) W2A_EPOCH_DAYS * USECS_PER_DAY)

/* ---------------------------------------------------------------------
 * avro_to_json.c: the json format, from the Avro record and its schema
 * ---------------------------------------------------------------------
 */
typedef struct AvroJsonNode AvroJsonNode;

extern AvroJsonNode *avro_json_compile(const char *schema);
extern void avro_json_write(StringInfo out, const AvroJsonNode *node, char *avro, int len,
							int omit);

/* ---------------------------------------------------------------------
 * schema_json.c: Avro schema JSON and its fingerprint
 * ---------------------------------------------------------------------
 */

/* Builds a schema's JSON text; its fingerprint is that of the whole text. */
typedef struct SchemaBuf
{
	StringInfoData full;		/* the schema as published */
	List	   *defined;		/* full names defined so far (char *) */
	List	   *composite_names;	/* record names given to composite types */
	List	   *composite_oids; /* ... and the types they were given to */
	List	   *reserved;		/* full names no composite may take (char *) */
} SchemaBuf;

extern void schema_init(SchemaBuf *sb);
extern void schema_raw(SchemaBuf *sb, const char *text);
extern void schema_primitive(SchemaBuf *sb, const char *type, const char *extra);
extern bool schema_record_begin(SchemaBuf *sb, const char *fullname, const char *extra);
extern void schema_record_end(SchemaBuf *sb);
extern void schema_field_begin(SchemaBuf *sb, bool first, const char *name,
							   const char *pg_name, const char *pg_type);
extern void schema_field_end(SchemaBuf *sb, const char *default_json);
extern void schema_enum(SchemaBuf *sb, const char *fullname, const char *symbol);
extern void schema_fixed(SchemaBuf *sb, const char *fullname, int size, const char *extra);
extern uint64 schema_fingerprint(const char *text, size_t len);
extern char *schema_avro_name(const char *pgname);
extern void schema_make_unique(char **names, int n);
extern void schema_reserve(SchemaBuf *sb, const char *fullname);
extern const char *schema_composite_name(SchemaBuf *sb, const char *name, Oid typid);

/* ---------------------------------------------------------------------
 * avro_writer.c: Avro binary primitives into a StringInfo
 * ---------------------------------------------------------------------
 */
extern void avro_write_long(StringInfo out, int64 v);
extern void avro_write_bool(StringInfo out, bool v);
extern void avro_write_float(StringInfo out, float4 v);
extern void avro_write_double(StringInfo out, float8 v);
extern void avro_write_bytes(StringInfo out, const char *data, int len);
extern void avro_write_string(StringInfo out, const char *str);
extern int	avro_bytes_begin(StringInfo out);
extern void avro_bytes_end(StringInfo out, int start);
extern void avro_write_decimal(StringInfo out, const char *digits, int fixed_size);
#ifdef HAVE_INT128
extern void avro_write_decimal128(StringInfo out, bool negative, uint128 magnitude,
								  int fixed_size);
#endif

/* ---------------------------------------------------------------------
 * decimal.c: numeric values as Avro decimals
 * ---------------------------------------------------------------------
 */
struct NumericData;

extern void decimal_write_avro(StringInfo out, Datum value, int scale, int fixed_size,
							   int branch);
extern bool decimal_is_special(Datum value);
extern void decimal_append_text(StringInfo out, struct NumericData *num);

/* ---------------------------------------------------------------------
 * jsonb_text.c: jsonb values as jsonb_out's text, into an Avro string
 * ---------------------------------------------------------------------
 */
extern void jsonb_text_write_avro(StringInfo out, Datum value);

/* ---------------------------------------------------------------------
 * frame.c: frame headers and body fields (the only code that knows bytes)
 * ---------------------------------------------------------------------
 */
extern int	frame_begin(StringInfo out, char kind);
extern void frame_end(StringInfo out, int start);
extern void frame_put_u8(StringInfo out, uint8 v);
extern void frame_put_u16(StringInfo out, uint16 v);
extern void frame_put_u32(StringInfo out, uint32 v);
extern void frame_put_u64(StringInfo out, uint64 v);
extern void frame_put_str(StringInfo out, const char *s);
extern void frame_put_block(StringInfo out, const char *data, uint32 len);
extern int	frame_block_begin(StringInfo out);
extern void frame_block_end(StringInfo out, int start);

struct RelSchemaEntry;

extern void frame_write_schema(StringInfo out, const struct RelSchemaEntry *entry);
extern int	frame_change_begin(StringInfo out, char op,
							   const struct RelSchemaEntry *entry, XLogRecPtr lsn);

/* ---------------------------------------------------------------------
 * relcache.c: per-relation schema cache
 * ---------------------------------------------------------------------
 */
typedef struct RelSchemaEntry
{
	Oid			relid;			/* hash key: must be first */
	bool		schema_valid;	/* false after an invalidation */
	bool		schema_sent;	/* SCHEMA frame written for this schema */
	bool		included;		/* passes the table filters */
	MemoryContext cxt;			/* everything below lives here */
	char	   *nspname;
	char	   *relname;
	char	   *topic;
	int			nfields;
	W2aField   *fields;			/* published columns, in column order */
	int			nkeys;
	bool		old_key_logged; /* an old row logged by PostgreSQL has the key */
	bool		key_not_logged_warned;	/* warned of a change without its key */
	int		   *key_fields;		/* indexes into fields, in key order */
	W2aField   *key_defs;		/* the key record's fields */
	char	   *key_schema;		/* JSON, or NULL without a key */
	char	   *value_schema;
	uint64		key_fp;
	uint64		value_fp;
	AvroJsonNode *key_json;		/* format=json: the schemas, compiled */
	AvroJsonNode *value_json;
	StringInfoData source_head; /* Avro bytes of Source's constant fields */
	struct DbzRelation *dbz;	/* compat=debezium: columns and encoders */
	/* a partition published as its root (publish-via-partition-root) */
	Oid			root_relid;		/* InvalidOid: published as itself */
	struct TupleConversionMap *root_map;	/* NULL when no conversion is needed */
	/* what else the schema depends on, for the invalidation callbacks */
	List	   *dep_relids;		/* composite types' relations (Oid) */
	int			ndep_types;
	uint32	   *dep_type_hashes;	/* TYPEOID hash of every type it names */
	int			ndep_nsps;
	uint32	   *dep_nsp_hashes; /* NAMESPACEOID hash of the schemas it names */
} RelSchemaEntry;

extern void relcache_init(Wal2AvroData *data);
extern RelSchemaEntry *relcache_get(Wal2AvroData *data, Relation rel);
extern void relcache_build_entry(Wal2AvroData *data, Relation rel, RelSchemaEntry *out);
extern void relcache_shutdown(void);

/* ---------------------------------------------------------------------
 * record.c: a change's key and value, in Avro (JSON: rendered from it)
 * ---------------------------------------------------------------------
 */

/* Where a change comes from: the Source record and the flat __ fields */
typedef struct W2aSource
{
	const char *snapshot;		/* Source.snapshot: "false" when streamed,
								 * "first", "true" or "last" in a snapshot */
	TransactionId xid;			/* txId; InvalidTransactionId writes null */
	XLogRecPtr	lsn;			/* lsn; InvalidXLogRecPtr writes null (__lsn 0) */
	TimestampTz time;			/* ts_ms: commit time, or when a snapshot read it */
} W2aSource;

/*
 * One row of a change: its tuple, deformed on first use and then shared by
 * everything that reads the change (key_changed, the key, before, after,
 * the old row an unlogged TOAST value is taken from).
 */
typedef struct W2aRow
{
	HeapTuple	tuple;
	TupleDesc	desc;
	Datum	   *values;			/* NULL until deformed */
	bool	   *nulls;
} W2aRow;

extern void record_build_schemas(Wal2AvroData *data, RelSchemaEntry *entry);
extern void record_row_init(W2aRow *row, TupleDesc desc, HeapTuple tuple);
extern bool record_write_key(StringInfo out, Wal2AvroData *data, RelSchemaEntry *entry,
							 W2aRow *newrow, W2aRow *oldrow);
extern void record_write_value(StringInfo out, Wal2AvroData *data, RelSchemaEntry *entry,
							   char op, W2aRow *oldrow, W2aRow *newrow,
							   W2aRow *toast_source, const W2aSource *source);

/* ---------------------------------------------------------------------
 * sql_functions.c: the extension's SQL-callable functions
 * ---------------------------------------------------------------------
 */
struct ArrayType;

extern List *sql_options_from_array(struct ArrayType *arr);

#endif							/* WAL2AVRO_H */
