/*-------------------------------------------------------------------------
 *
 * options.h
 *		The plugin's options: their parser, the pattern types it gives and
 *		the functions that match names against them.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * plugin/options.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef W2A_OPTIONS_H
#define W2A_OPTIONS_H

#include "nodes/pg_list.h"

#include "decoding_state.h"

/*
 * A "schema.table" pattern (include/exclude-tables), a pattern per part: *
 * and ? are wildcards, a backslash makes the next character literal.
 */
typedef struct W2aTablePattern
{
	char	   *nspname;
	char	   *relname;
} W2aTablePattern;

/* key-columns: the key of one table, by column name */
typedef struct W2aKeyColumns
{
	char	   *nspname;
	char	   *relname;
	List	   *columns;		/* of char * */
} W2aKeyColumns;

/* exclude-columns: one "schema.table.column" pattern */
typedef struct W2aColumnPattern
{
	W2aTablePattern table;		/* wildcards allowed */
	char	   *column;			/* exact column name */
} W2aColumnPattern;

extern void options_parse(Wal2AvroData *data, List *options);
extern void options_check_key_columns(Wal2AvroData *data);
extern bool options_table_matches(List *patterns, const char *nspname,
								  const char *relname);
extern bool options_column_excluded(Wal2AvroData *data, const char *nspname,
									const char *relname, const char *column);

#endif							/* W2A_OPTIONS_H */
