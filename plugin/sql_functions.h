/*-------------------------------------------------------------------------
 *
 * sql_functions.h
 *		What the extension's SQL-callable functions (sql_functions.c) share
 *		with snapshot.c: options given as a text[] of name/value pairs.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * plugin/sql_functions.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef W2A_SQL_FUNCTIONS_H
#define W2A_SQL_FUNCTIONS_H

#include "nodes/pg_list.h"

struct ArrayType;

extern List *sql_options_from_array(struct ArrayType *arr);

#endif							/* W2A_SQL_FUNCTIONS_H */
