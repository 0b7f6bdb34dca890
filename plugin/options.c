/*-------------------------------------------------------------------------
 *
 * options.c
 *		The plugin's options: parsed and checked at startup, and the table
 *		and column patterns they give matched against names.
 *
 * One place knows the pattern syntax both ways: split_names writes a
 * backslash before every quoted character, wildcard_match reads it.
 * Everything here is an ERROR naming the option when the value is wrong,
 * and needs no catalog access except options_check_key_columns.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * plugin/options.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <errno.h>

#include "catalog/namespace.h"
#include "nodes/parsenodes.h"
#include "nodes/value.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/pg_lsn.h"

#include "compat.h"
#include "debezium_events.h"
#include "debezium.h"
#include "options.h"
#include "schema_json.h"
#include "decoding_state.h"
#include "wal2avro_protocol.h"

/* Boolean options: a table instead of one copied arm each */
typedef struct BoolOption
{
	const char *name;
	size_t		offset;			/* of the bool in Wal2AvroData */
} BoolOption;

static const BoolOption bool_options[] = {
	{"include-before", offsetof(Wal2AvroData, include_before)},
	{"include-timestamps", offsetof(Wal2AvroData, include_timestamps)},
	{"skip-empty-xacts", offsetof(Wal2AvroData, skip_empty_xacts)},
	{"only-local", offsetof(Wal2AvroData, only_local)},
	{"publish-via-partition-root", offsetof(Wal2AvroData, via_partition_root)},
	{"provide-transaction-metadata", offsetof(Wal2AvroData, provide_txmeta)},
};

/*
 * compat=debezium's handling modes: Debezium's property names with hyphens
 * for dots, its values; the first value is its default.
 */
typedef struct ModeOption
{
	const char *name;
	size_t		offset;			/* of the int in W2aDbzModes */
	const char *values[5];		/* in enum order, NULL-terminated */
} ModeOption;

static const ModeOption mode_options[] = {
	{"decimal-handling-mode", offsetof(W2aDbzModes, decimal),
	{"precise", "double", "string"}},
	{"binary-handling-mode", offsetof(W2aDbzModes, binary),
	{"bytes", "base64", "base64-url-safe", "hex"}},
	{"time-precision-mode", offsetof(W2aDbzModes, time),
	{"adaptive", "adaptive_time_microseconds", "connect"}},
	{"interval-handling-mode", offsetof(W2aDbzModes, interval),
	{"numeric", "string"}},
	{"hstore-handling-mode", offsetof(W2aDbzModes, hstore),
	{"json", "map"}},
};

/* ------------------------------------------------------------------------
 * Parsing
 * ------------------------------------------------------------------------
 */

static void
invalid_value(DefElem *elem, const char *value, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid value for option \"%s\": \"%s\"", elem->defname, value),
			 detail ? errdetail("%s", detail) : 0));
}

/* Split a comma-separated list; an empty item is an error naming the option. */
static List *
split_list(DefElem *elem, const char *value, char sep)
{
	List	   *items = NIL;
	char	   *copy = pstrdup(value);
	char	   *p = copy;

	for (;;)
	{
		char	   *end = strchr(p, sep);
		char	   *item;

		if (end)
			*end = '\0';
		item = p;
		while (*item == ' ')
			item++;
		while (*item && item[strlen(item) - 1] == ' ')
			item[strlen(item) - 1] = '\0';
		if (*item == '\0')
			invalid_value(elem, value, "An item of the list is empty.");
		items = lappend(items, item);
		if (!end)
			break;
		p = end + 1;
	}
	return items;
}

/*
 * Split a list of dotted names (include-tables, exclude-tables,
 * exclude-columns) into items at commas and each item into parts at dots,
 * both outside double quotes.  Inside double quotes every character stands
 * for itself and "" for one double quote, as in SQL; spaces around an item
 * are dropped.  Each part comes back as a pattern: '*' and '?' are
 * wildcards, and a backslash makes the next character literal (quoted
 * characters, and a backslash outside quotes).  Returns a List (items) of
 * Lists (parts) of char *; an empty item or part, or an unterminated quote,
 * is an ERROR naming the option.
 */
static List *
split_names(DefElem *elem, const char *value)
{
	List	   *items = NIL;
	List	   *parts = NIL;
	StringInfoData part;
	int			keep = 0;		/* part's length without trailing spaces */
	bool		quoted = false;
	const char *p;

	initStringInfo(&part);
	for (p = value;; p++)
	{
		char		c = *p;

		if (quoted)
		{
			if (c == '\0')
				invalid_value(elem, value, "A double quote is not closed.");
			if (c == '"' && p[1] == '"')
				p++;
			else if (c == '"')
			{
				quoted = false;
				continue;
			}
			if (c == '*' || c == '?' || c == '\\')
				appendStringInfoChar(&part, '\\');
			appendStringInfoChar(&part, c);
			keep = part.len;
			continue;
		}
		if (c == '"')
		{
			quoted = true;
			keep = part.len;	/* unquoted spaces before a quote stay */
			continue;
		}
		if (c == '.' || c == ',' || c == '\0')
		{
			part.data[keep] = '\0';
			if (keep == 0)
				invalid_value(elem, value,
							  c == '.' || parts != NIL ?
							  "A name in the list is empty." :
							  "An item of the list is empty.");
			parts = lappend(parts, pstrdup(part.data));
			resetStringInfo(&part);
			keep = 0;
			if (c == '.')
				continue;
			items = lappend(items, parts);
			parts = NIL;
			if (c == '\0')
				break;
			continue;
		}
		if (c == ' ' && part.len == 0 && parts == NIL)
			continue;			/* spaces before an item */
		if (c == '\\')
			appendStringInfoChar(&part, '\\');
		appendStringInfoChar(&part, c);
		if (c != ' ')
			keep = part.len;
	}
	return items;
}

/* Parts [from, to) of a split item, joined with dots */
static char *
join_parts(List *parts, int from, int to)
{
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	for (i = from; i < to; i++)
	{
		if (i > from)
			appendStringInfoChar(&buf, '.');
		appendStringInfoString(&buf, (char *) list_nth(parts, i));
	}
	return buf.data;
}

/* A pattern part as the literal name it spells (exclude-columns' column) */
static char *
unescape_part(const char *part)
{
	StringInfoData buf;
	const char *p;

	initStringInfo(&buf);
	for (p = part; *p; p++)
	{
		if (*p == '\\' && p[1])
			p++;
		appendStringInfoChar(&buf, *p);
	}
	return buf.data;
}

/*
 * "schema.table,...": the first dot outside quotes ends the schema; more
 * unquoted dots belong to the table name.
 */
static List *
parse_table_patterns(DefElem *elem, const char *value)
{
	List	   *patterns = NIL;
	ListCell   *lc;

	foreach(lc, split_names(elem, value))
	{
		List	   *parts = lfirst(lc);
		W2aTablePattern *p = palloc(sizeof(W2aTablePattern));

		if (list_length(parts) < 2)
			invalid_value(elem, value,
						  "Table patterns are schema-qualified, as in \"public.orders\" or \"public.*\"; double-quote a name that holds a comma or a dot.");
		p->nspname = linitial(parts);
		p->relname = join_parts(parts, 1, list_length(parts));
		patterns = lappend(patterns, p);
	}
	return patterns;
}

/* "schema.table.column,...": the last dot outside quotes starts the column */
static List *
parse_column_patterns(DefElem *elem, const char *value)
{
	List	   *patterns = NIL;
	ListCell   *lc;

	foreach(lc, split_names(elem, value))
	{
		List	   *parts = lfirst(lc);
		int			n = list_length(parts);
		W2aColumnPattern *p = palloc(sizeof(W2aColumnPattern));

		if (n < 3)
			invalid_value(elem, value,
						  "Columns are named as \"schema.table.column\"; the table part may use * and ?.");
		p->table.nspname = linitial(parts);
		p->table.relname = join_parts(parts, 1, n - 1);
		p->column = unescape_part(llast(parts));
		patterns = lappend(patterns, p);
	}
	return patterns;
}

/* "schema.table:col1,col2;schema.other:col" */
static List *
parse_key_columns(DefElem *elem, const char *value)
{
	List	   *result = NIL;
	ListCell   *lc;

	foreach(lc, split_list(elem, value, ';'))
	{
		char	   *item = lfirst(lc);
		char	   *colon = strchr(item, ':');
		char	   *dot;
		W2aKeyColumns *kc = palloc(sizeof(W2aKeyColumns));

		if (colon == NULL)
			invalid_value(elem, value,
						  "Each table is written as \"schema.table:column[,column...]\", tables separated by \";\".");
		*colon = '\0';
		dot = strchr(item, '.');
		if (dot == NULL || dot == item || dot[1] == '\0')
			invalid_value(elem, value,
						  "Each table is written as \"schema.table:column[,column...]\", tables separated by \";\".");
		*dot = '\0';
		kc->nspname = item;
		kc->relname = dot + 1;
		kc->columns = split_list(elem, colon + 1, ',');
		result = lappend(result, kc);
	}
	return result;
}

static bool
option_bool(DefElem *elem)
{
	bool		result;
	char	   *value;

	if (elem->arg == NULL)
		return true;			/* a bare "-o name" means true */
	value = strVal(elem->arg);
	if (!parse_bool(value, &result))
		invalid_value(elem, value, "Valid values are true and false.");
	return result;
}

static char *
option_string(DefElem *elem)
{
	if (elem->arg == NULL || strVal(elem->arg)[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("option \"%s\" needs a value", elem->defname)));
	return strVal(elem->arg);
}

static int
option_int(DefElem *elem, int min, int max)
{
	char	   *value = option_string(elem);
	char	   *end;
	long		v;

	errno = 0;
	v = strtol(value, &end, 10);
	if (errno != 0 || *end != '\0' || end == value || v < min || v > max)
	{
		char	   *detail = psprintf("The value must be an integer from %d to %d.", min, max);

		invalid_value(elem, value, detail);
	}
	return (int) v;
}

/* A handling mode's value: its index in the option's values */
static int
option_mode(DefElem *elem, const ModeOption *opt)
{
	char	   *value = option_string(elem);
	StringInfoData detail;
	int			n;
	int			i;

	for (n = 0; opt->values[n] != NULL; n++)
	{
		if (strcmp(value, opt->values[n]) == 0)
			return n;
	}
	initStringInfo(&detail);
	appendStringInfoString(&detail, "Valid values are ");
	for (i = 0; i < n; i++)
		appendStringInfo(&detail, "%s\"%s\"", i == 0 ? "" : i == n - 1 ? " and " : ", ",
						 opt->values[i]);
	appendStringInfoChar(&detail, '.');
	invalid_value(elem, value, detail.data);
	return 0;					/* not reached */
}

/*
 * snapshot-lsn: an LSN as PostgreSQL prints it (0/16B3748), not 0/0, which
 * would write null.
 */
static XLogRecPtr
option_lsn(DefElem *elem)
{
	char	   *value = option_string(elem);
	bool		have_error = false;
	XLogRecPtr	lsn = pg_lsn_in_internal(value, &have_error);

	if (have_error || XLogRecPtrIsInvalid(lsn))
		invalid_value(elem, value,
					  "The value must be an LSN other than 0/0, written as two hexadecimal numbers separated by a slash, as in 0/16B3748.");
	return lsn;
}

/* delete-tombstone-handling-mode: ExtractNewRecordState's names */
static int
option_delete_mode(DefElem *elem)
{
	static const char *const names[] = {"tombstone", "drop", "rewrite",
	"rewrite-with-tombstone", "delete-to-tombstone"};
	char	   *value = option_string(elem);
	int			i;

	for (i = 0; i < lengthof(names); i++)
		if (strcmp(value, names[i]) == 0)
			return i;
	invalid_value(elem, value,
				  "Valid values are \"drop\", \"tombstone\", \"rewrite\", \"rewrite-with-tombstone\" and \"delete-to-tombstone\".");
	return 0;
}

/* snapshot-txid: a transaction id as txid_current() gives it (with its epoch) */
static int64
option_txid(DefElem *elem)
{
	char	   *value = option_string(elem);
	char	   *end;
	int64		v;

	errno = 0;
	v = W2A_STRTOI64(value, &end, 10);
	if (errno != 0 || *end != '\0' || end == value || v < 1)
		invalid_value(elem, value,
					  "The value must be a transaction id from 1 to 9223372036854775807, as txid_current() returns it.");
	return v;
}

/*
 * Parse the options of START_REPLICATION, pg_recvlogical -o or the SQL
 * functions (a list of DefElem) into data.  Defaults first; every option at
 * most once; unknown names and bad values are ERRORs that name the option.
 * Allocates in the current memory context.
 */
void
options_parse(Wal2AvroData *data, List *options)
{
	ListCell   *lc;
	List	   *seen = NIL;
	const char *mode_given = NULL;	/* a handling mode's name, if any */
	bool		skipped_given = false;
	const char *flat_given = NULL;	/* an option of the flat value, if any */
	DefElem    *add_fields = NULL;

	data->format = W2A_FORMAT_AVRO;
	data->envelope = W2A_ENVELOPE_DEBEZIUM;
	data->compat = W2A_COMPAT_WAL2AVRO;
	data->topic_prefix = "wal2avro";
	data->topic = NULL;
	data->include_before = true;
	data->include_timestamps = true;
	data->skip_empty_xacts = true;
	data->only_local = false;
	data->via_partition_root = false;
	data->provide_txmeta = false;
	data->max_record_size = 0;
	data->snapshot_lsn = InvalidXLogRecPtr;
	data->snapshot_txid = 0;
	data->snapshot_last_table = false;
	data->snapshot_option = NULL;
	memset(&data->dbz_modes, 0, sizeof(W2aDbzModes));
	data->skipped_ops = DBZ_SKIP_TRUNCATE;	/* Debezium's default "t" */
	data->flat_fields = NIL;
	data->flat_prefix = "__";
	data->delete_mode = W2A_DELETE_TOMBSTONE;

	foreach(lc, options)
	{
		DefElem    *elem = lfirst(lc);
		const char *name = elem->defname;
		ListCell   *lc2;
		int			i;
		bool		known = false;

		foreach(lc2, seen)
		{
			if (strcmp((char *) lfirst(lc2), name) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_SYNTAX_ERROR),
						 errmsg("conflicting or redundant options"),
						 errdetail("Option \"%s\" is given more than once.", name)));
		}
		seen = lappend(seen, (char *) name);
		if (data->snapshot_option == NULL && strncmp(name, "snapshot-", 9) == 0)
			data->snapshot_option = name;

		for (i = 0; i < lengthof(bool_options); i++)
		{
			if (strcmp(name, bool_options[i].name) == 0)
			{
				*(bool *) ((char *) data + bool_options[i].offset) = option_bool(elem);
				known = true;
				break;
			}
		}
		for (i = 0; !known && i < lengthof(mode_options); i++)
		{
			if (strcmp(name, mode_options[i].name) == 0)
			{
				*(int *) ((char *) &data->dbz_modes + mode_options[i].offset) =
					option_mode(elem, &mode_options[i]);
				mode_given = mode_options[i].name;
				known = true;
			}
		}
		if (known)
			continue;

		if (strcmp(name, "format") == 0)
		{
			char	   *v = option_string(elem);

			if (strcmp(v, "avro") == 0)
				data->format = W2A_FORMAT_AVRO;
			else if (strcmp(v, "json") == 0)
				data->format = W2A_FORMAT_JSON;
			else
				invalid_value(elem, v, "Valid values are \"avro\" and \"json\".");
		}
		else if (strcmp(name, "envelope") == 0)
		{
			char	   *v = option_string(elem);

			if (strcmp(v, "debezium") == 0)
				data->envelope = W2A_ENVELOPE_DEBEZIUM;
			else if (strcmp(v, "flat") == 0)
				data->envelope = W2A_ENVELOPE_FLAT;
			else
				invalid_value(elem, v, "Valid values are \"debezium\" and \"flat\".");
		}
		else if (strcmp(name, "compat") == 0)
		{
			char	   *v = option_string(elem);

			if (strcmp(v, "wal2avro") == 0)
				data->compat = W2A_COMPAT_WAL2AVRO;
			else if (strcmp(v, "debezium") == 0)
				data->compat = W2A_COMPAT_DEBEZIUM;
			else
				invalid_value(elem, v, "Valid values are \"wal2avro\" and \"debezium\".");
		}
		else if (strcmp(name, "protocol-version") == 0)
		{
			int			v = option_int(elem, 1, 255);

			if (v != W2A_PROTOCOL_VERSION)
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("client wants wal2avro protocol version %d, but this plugin writes version %d",
								v, W2A_PROTOCOL_VERSION)));
		}
		else if (strcmp(name, "topic-prefix") == 0)
			data->topic_prefix = pstrdup(option_string(elem));
		else if (strcmp(name, "topic") == 0)
			data->topic = pstrdup(option_string(elem));
		else if (strcmp(name, "include-tables") == 0)
			data->include_tables = parse_table_patterns(elem, option_string(elem));
		else if (strcmp(name, "exclude-tables") == 0)
			data->exclude_tables = parse_table_patterns(elem, option_string(elem));
		else if (strcmp(name, "exclude-columns") == 0)
			data->exclude_columns = parse_column_patterns(elem, option_string(elem));
		else if (strcmp(name, "key-columns") == 0)
			data->key_columns = parse_key_columns(elem, option_string(elem));
		else if (strcmp(name, "max-record-size") == 0)
			data->max_record_size = option_int(elem, 0, W2A_MAX_BODY);
		else if (strcmp(name, "skipped-operations") == 0)
		{
			data->skipped_ops = debezium_events_parse_skipped(elem, option_string(elem));
			skipped_given = true;
		}
		else if (strcmp(name, "snapshot-lsn") == 0)
			data->snapshot_lsn = option_lsn(elem);
		else if (strcmp(name, "snapshot-txid") == 0)
			data->snapshot_txid = option_txid(elem);
		else if (strcmp(name, "snapshot-last-table") == 0)
			data->snapshot_last_table = option_bool(elem);
		else if (strcmp(name, "add-fields") == 0)
		{
			add_fields = elem;
			flat_given = name;
		}
		else if (strcmp(name, "add-fields-prefix") == 0)
		{
			data->flat_prefix = pstrdup(option_string(elem));
			flat_given = name;
		}
		else if (strcmp(name, "delete-tombstone-handling-mode") == 0)
		{
			data->delete_mode = option_delete_mode(elem);
			flat_given = name;
		}
		else
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unrecognized wal2avro option \"%s\"", name),
					 errhint("Option names are listed in the wal2avro documentation.")));
	}

	data->avro_prefix = schema_avro_name(data->topic_prefix);

	if (mode_given && data->compat != W2A_COMPAT_DEBEZIUM)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("option \"%s\" needs \"compat\" = \"debezium\"", mode_given),
				 errdetail("The handling modes are those of Debezium's PostgreSQL connector.")));

	if (skipped_given && data->compat != W2A_COMPAT_DEBEZIUM)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("option \"skipped-operations\" needs \"compat\" = \"debezium\""),
				 errdetail("wal2avro's own records always include truncates and messages, as TRUNCATE and MESSAGE frames.")));

	/* ExtractNewRecordState's options: Debezium's flat value only */
	if (flat_given && (data->compat != W2A_COMPAT_DEBEZIUM || data->envelope != W2A_ENVELOPE_FLAT))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("option \"%s\" needs \"compat\" = \"debezium\" and \"envelope\" = \"flat\"", flat_given),
				 errdetail("It is an option of Debezium's ExtractNewRecordState transformation.")));
	if (add_fields)
	{
		ListCell   *lc2;

		foreach(lc2, split_list(add_fields, option_string(add_fields), ','))
			data->flat_fields = lappend(data->flat_fields,
										debezium_flat_field(lfirst(lc2), data->flat_prefix));
	}
	if (data->compat == W2A_COMPAT_DEBEZIUM && data->format == W2A_FORMAT_JSON)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("option \"compat\" = \"debezium\" cannot be combined with \"format\" = \"json\""),
				 errdetail("Debezium's JSON is written by wal2avro-relay from the Avro frames.")));

	/* wal2avro's own snapshot rows carry no LSN and no transaction */
	if (data->snapshot_option != NULL && data->compat != W2A_COMPAT_DEBEZIUM)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("option \"%s\" needs \"compat\" = \"debezium\"", data->snapshot_option),
				 errdetail("Only Debezium's snapshot rows carry the slot's consistent point, the snapshot's transaction and the snapshot's last row.")));
}

/* ------------------------------------------------------------------------
 * Checks against the catalog
 * ------------------------------------------------------------------------
 */

/*
 * Refuse a key-columns entry naming a table or column that does not exist,
 * before anything is decoded: found at the table's first change instead,
 * the ERROR would stop the stream there after every restart.  Checked
 * against the current catalog; needs a transaction.
 */
void
options_check_key_columns(Wal2AvroData *data)
{
	ListCell   *lc;

	foreach(lc, data->key_columns)
	{
		W2aKeyColumns *kc = lfirst(lc);
		Oid			nspid = get_namespace_oid(kc->nspname, true);
		Oid			relid = OidIsValid(nspid) ? get_relname_relid(kc->relname, nspid) : InvalidOid;
		ListCell   *lc2;

		if (!OidIsValid(relid))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("table \"%s.%s\" named in \"key-columns\" does not exist",
							kc->nspname, kc->relname),
					 errhint("Tables are named as \"schema.table\", exactly as in the catalog.")));
		foreach(lc2, kc->columns)
		{
			const char *col = lfirst(lc2);

			/* InvalidAttrNumber: missing or dropped; below it: a system column */
			if (get_attnum(relid, col) <= InvalidAttrNumber)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("column \"%s\" named in \"key-columns\" does not exist in table \"%s.%s\"",
								col, kc->nspname, kc->relname)));
		}
	}
}

/* ------------------------------------------------------------------------
 * Matching names against the patterns
 * ------------------------------------------------------------------------
 */

/*
 * Does str match the pattern?  '*' matches any run of characters, '?' one
 * character, a backslash makes the next character literal (the option
 * parser writes one before quoted characters); everything else matches
 * itself.
 */
static bool
wildcard_match(const char *pat, const char *str)
{
	while (*pat)
	{
		if (*pat == '*')
		{
			pat++;
			if (*pat == '\0')
				return true;
			for (; *str; str++)
			{
				if (wildcard_match(pat, str))
					return true;
			}
			return false;
		}
		if (*pat == '\\' && pat[1] != '\0')
		{
			pat++;
			if (*str != *pat)
				return false;
		}
		else if (*str == '\0' || (*pat != '?' && *pat != *str))
			return false;
		pat++;
		str++;
	}
	return *str == '\0';
}

static bool
table_pattern_matches(const W2aTablePattern *p, const char *nspname, const char *relname)
{
	return wildcard_match(p->nspname, nspname) && wildcard_match(p->relname, relname);
}

/*
 * Does the table match any of the patterns (a List of W2aTablePattern, as
 * include-tables and exclude-tables give)?  Cannot fail.
 */
bool
options_table_matches(List *patterns, const char *nspname, const char *relname)
{
	ListCell   *lc;

	foreach(lc, patterns)
	{
		if (table_pattern_matches(lfirst(lc), nspname, relname))
			return true;
	}
	return false;
}

/* Does exclude-columns leave this column of the table out?  Cannot fail. */
bool
options_column_excluded(Wal2AvroData *data, const char *nspname, const char *relname,
						const char *column)
{
	ListCell   *lc;

	foreach(lc, data->exclude_columns)
	{
		W2aColumnPattern *p = lfirst(lc);

		if (strcmp(p->column, column) == 0 &&
			table_pattern_matches(&p->table, nspname, relname))
			return true;
	}
	return false;
}
