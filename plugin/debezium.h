/*-------------------------------------------------------------------------
 *
 * debezium.h
 *		compat=debezium: the records Debezium's PostgreSQL connector (3.6,
 *		at its defaults or in the handling modes the options choose) would
 *		give, as Confluent's AvroData writes them.
 *
 * debezium_typemap.c maps a column to its Connect type (schema and value
 * encoder, chosen once per column), debezium_values.c encodes its
 * values (the handling modes' encoders in debezium_values_modes.c);
 * debezium_record.c writes the Key
 * record and the Envelope with its Source block.  Both run only when the
 * option compat is "debezium"; record.c hands over to them per change.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * plugin/debezium.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef W2A_DEBEZIUM_H
#define W2A_DEBEZIUM_H

#include "avro_writer.h"
#include "change_row.h"
#include "decoding_state.h"
#include "rel_entry.h"
#include "schema_json.h"
#include "typemap.h"

/* Debezium's unavailable.value.placeholder, at its default */
#define DBZ_UNAVAILABLE_VALUE	"__debezium_unavailable_value"

/* Avro schemas of the Source block and of the transaction block (["null", event.block]) */
#define DBZ_SOURCE_SCHEMA \
	"{\"type\":\"record\",\"name\":\"io.debezium.connector.postgresql.Source\",\"fields\":[" \
	"{\"name\":\"version\",\"type\":\"string\"}," \
	"{\"name\":\"connector\",\"type\":\"string\"}," \
	"{\"name\":\"name\",\"type\":\"string\"}," \
	"{\"name\":\"ts_ms\",\"type\":\"long\"}," \
	"{\"name\":\"snapshot\",\"type\":[{\"type\":\"string\",\"connect.version\":1," \
	"\"connect.parameters\":{\"allowed\":\"true,first,first_in_data_collection,last_in_data_collection,last,false,incremental\"}," \
	"\"connect.default\":\"false\",\"connect.name\":\"io.debezium.data.Enum\"},\"null\"],\"default\":\"false\"}," \
	"{\"name\":\"db\",\"type\":\"string\"}," \
	"{\"name\":\"sequence\",\"type\":[\"null\",\"string\"],\"default\":null}," \
	"{\"name\":\"ts_us\",\"type\":[\"null\",\"long\"],\"default\":null}," \
	"{\"name\":\"ts_ns\",\"type\":[\"null\",\"long\"],\"default\":null}," \
	"{\"name\":\"schema\",\"type\":\"string\"}," \
	"{\"name\":\"table\",\"type\":\"string\"}," \
	"{\"name\":\"txId\",\"type\":[\"null\",\"long\"],\"default\":null}," \
	"{\"name\":\"lsn\",\"type\":[\"null\",\"long\"],\"default\":null}," \
	"{\"name\":\"xmin\",\"type\":[\"null\",\"long\"],\"default\":null}," \
	"{\"name\":\"origin\",\"type\":[\"null\",\"string\"],\"default\":null}," \
	"{\"name\":\"origin_lsn\",\"type\":[\"null\",\"long\"],\"default\":null}]," \
	"\"connect.version\":1,\"connect.name\":\"io.debezium.connector.postgresql.Source\"}"

#define DBZ_BLOCK_SCHEMA \
	"[\"null\",{\"type\":\"record\",\"name\":\"event.block\",\"fields\":[" \
	"{\"name\":\"id\",\"type\":\"string\"}," \
	"{\"name\":\"total_order\",\"type\":\"long\"}," \
	"{\"name\":\"data_collection_order\",\"type\":\"long\"}]," \
	"\"connect.version\":1,\"connect.name\":\"event.block\"}]"

/* How a column's value is written: its Connect type */
typedef enum DbzKind
{
	DBZ_BOOL,
	DBZ_INT16,
	DBZ_INT32,
	DBZ_INT64,
	DBZ_OID,
	DBZ_FLOAT,
	DBZ_DOUBLE,
	DBZ_DECIMAL,				/* numeric(p,s) */
	DBZ_VSD,					/* numeric: VariableScaleDecimal */
	DBZ_MONEY,
	DBZ_STRING,					/* text, varchar, bpchar, name, "char", ranges, inet, ... */
	DBZ_JSON,					/* json, jsonb */
	DBZ_XML,
	DBZ_TSVECTOR,
	DBZ_ENUM,
	DBZ_BYTES,
	DBZ_DATE,
	DBZ_TIMESTAMP_MILLI,		/* timestamp(0..3) */
	DBZ_TIMESTAMP_MICRO,
	DBZ_ZONED_TIMESTAMP,
	DBZ_TIME_MILLI,				/* time(0..3) */
	DBZ_TIME_MICRO,
	DBZ_ZONED_TIME,
	DBZ_INTERVAL,
	DBZ_UUID,
	DBZ_BITS,					/* bit(n), varbit(n), n > 1 */
	DBZ_BIT_BOOL,				/* bit(1) */
	DBZ_ARRAY,
	/* the handling modes' other types (W2aDbzModes) */
	DBZ_DECIMAL_DOUBLE,			/* numeric: decimal.handling.mode=double */
	DBZ_DECIMAL_STRING,			/* numeric: string */
	DBZ_MONEY_DOUBLE,
	DBZ_MONEY_STRING,
	DBZ_BASE64,					/* bytea: binary.handling.mode=base64 */
	DBZ_BASE64_URL_SAFE,
	DBZ_HEX,
	DBZ_CONNECT_DATE,			/* time.precision.mode=connect */
	DBZ_CONNECT_TIME,
	DBZ_CONNECT_TIMESTAMP,
	DBZ_INTERVAL_STRING,		/* interval.handling.mode=string */
	DBZ_HSTORE_JSON,			/* hstore.handling.mode=json */
	DBZ_HSTORE_MAP
} DbzKind;

typedef struct DbzColumn DbzColumn;

/* Write a non-null value, its union branch first (null when it has none) */
typedef void (*DbzEncodeFn) (StringInfo out, const DbzColumn *col, Datum value);

/* What Debezium writes for an unchanged TOAST value of the column */
typedef enum DbzPlaceholder
{
	DBZ_PH_NULL,				/* nothing the type can hold: null */
	DBZ_PH_STRING,				/* the placeholder text */
	DBZ_PH_BYTES,				/* its bytes */
	DBZ_PH_BYTES_TEXT,			/* its bytes in base64 or hex */
	DBZ_PH_STRING_ARRAY,		/* [placeholder] */
	DBZ_PH_BYTES_ARRAY,			/* [placeholder's bytes] */
	DBZ_PH_INT_ARRAY			/* its bytes, one number each */
} DbzPlaceholder;

/* One published column (or array element) in Debezium's mapping */
struct DbzColumn
{
	const W2aField *field;		/* the column: attno, names, W2aType */
	W2aField	plain;			/* the same, neither nullable nor toastable: for
								 * types whose Avro is wal2avro's own */
	int			kind;			/* DbzKind (debezium_typemap.c) */
	bool		optional;		/* ["null", T]: the column may be null */
	bool		toastable;		/* may arrive as an unlogged TOAST pointer */
	DbzEncodeFn encode;
	DbzPlaceholder placeholder;
	int			width;			/* fraction digits of a ZonedTimestamp */
	int			scale;			/* Decimal's scale */
	int			length;			/* Bits' length */
	char	   *allowed;		/* an enum's labels, comma-separated */
	const char *zero;			/* Avro bytes of Debezium's fallback for a
								 * non-optional column logged without value */
	int			zero_len;
	DbzColumn  *elem;			/* arrays: the element */
};

/* The Debezium mapping of a relation, in its schema entry's context */
typedef struct DbzRelation
{
	int			ncols;
	DbzColumn  *cols;			/* published columns, in column order */
	int			nkeys;
	DbzColumn  *keys;			/* the key's columns, in key order */
	StringInfoData source_head; /* version, connector, name */
	StringInfoData source_db;	/* db */
	StringInfoData source_table;	/* schema, table */
	TransactionId txn_xid;		/* the transaction txn_events counts in */
	int64		txn_events;		/* its changes of this table so far */
} DbzRelation;

struct SchemaBuf;

/* debezium_typemap.c */
extern bool debezium_typemap_build(DbzColumn *col, const W2aField *field, Oid relid,
								   bool optional, const W2aDbzModes *modes);
extern void debezium_typemap_schema(struct SchemaBuf *sb, const DbzColumn *col);

/* debezium_values.c */
extern void debezium_typemap_value(StringInfo out, const DbzColumn *col, Datum value,
								   bool isnull, bool unchanged);
extern DbzEncodeFn debezium_typemap_encoder(int kind);
extern void debezium_typemap_set_zero(DbzColumn *col);

/*
 * add-fields: one field of the envelope, its source or its transaction
 * block, added to the flat value under avro_name (debezium_flat.c)
 */
typedef struct DbzFlatField
{
	int			what;			/* DbzFlatWhat (debezium_flat.c) */
	char	   *avro_name;		/* prefix + name, or the name given after ':' */
} DbzFlatField;

/* debezium_record.c */
extern void debezium_write_name(StringInfo out, const char *name);
extern void debezium_columns_fields(struct SchemaBuf *sb, const DbzColumn *cols, int n);
extern void debezium_write_row(StringInfo out, const DbzRelation *dbz, W2aRow *row,
							   W2aRow *fallback);
extern bool debezium_txn_position(Wal2AvroData *data, DbzRelation *dbz,
								  const W2aSource *source, int64 *total_order,
								  int64 *collection_order);
extern void debezium_write_sequence(StringInfo out, XLogRecPtr last_end, XLogRecPtr lsn);
extern const char *debezium_snapshot_mark(const Wal2AvroData *data, const char *mark);
extern void record_debezium_build_schemas(Wal2AvroData *data, RelSchemaEntry *entry);
extern bool record_debezium_write_key(StringInfo out, RelSchemaEntry *entry,
									  W2aRow *newrow, W2aRow *oldrow);
extern void record_debezium_write_value(StringInfo out, Wal2AvroData *data,
										RelSchemaEntry *entry, char op,
										W2aRow *oldrow, W2aRow *newrow,
										W2aRow *toast_source, const W2aSource *source);

/* debezium_flat.c */
extern DbzFlatField *debezium_flat_field(const char *item, const char *prefix);
extern void debezium_flat_schema(struct SchemaBuf *sb, Wal2AvroData *data,
								 RelSchemaEntry *entry, const char *value_name);
extern void debezium_flat_write_value(StringInfo out, Wal2AvroData *data,
									  RelSchemaEntry *entry, char op,
									  W2aRow *oldrow, W2aRow *newrow,
									  W2aRow *toast_source, const W2aSource *source);

#endif							/* W2A_DEBEZIUM_H */
