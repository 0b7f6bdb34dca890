/*-------------------------------------------------------------------------
 *
 * jsonb_text.c
 *		A jsonb value as an Avro string: the text jsonb_out prints, written
 *		straight into the output.
 *
 * jsonb_out builds its text in a buffer of its own, copies every string
 * and key before escaping it one character at a time, and hands the text
 * back to be measured and copied again.  This walks the value with the same
 * iterator and writes the same text (", " and ": " between items, strings
 * escaped as escape_json does, numbers as numeric_out prints them) where the
 * Avro string goes, its length patched in after.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * plugin/jsonb_text.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "avro_writer.h"
#include "decimal.h"
#include "jsonb_text.h"

/* Input bytes escaped between two checks of the room left */
#define W2A_ESCAPE_CHUNK	4096

/* Two characters: ", " and ": " between items, without a call each time */
static inline void
put_two(StringInfo out, char a, char b)
{
	if (out->len + 2 >= out->maxlen)
		enlargeStringInfo(out, 2);
	out->data[out->len++] = a;
	out->data[out->len++] = b;
	out->data[out->len] = '\0';
}

/*
 * A JSON string, escaped as escape_json escapes it: the seven short escapes,
 * other control characters as \uXXXX, everything else as it is.  Stops at a
 * NUL byte, as escape_json (which reads a C string) would; jsonb strings
 * hold none.  Room for the longest escaping is made once per chunk.
 */
static void
put_json_string(StringInfo out, const char *s, int len)
{
	static const char hex[] = "0123456789abcdef";
	const char *end = s + len;
	const char *chunk_end = s;
	char	   *d;

	/* the quotes: the room for the closing one is kept by every chunk too */
	enlargeStringInfo(out, 2);
	d = out->data + out->len;
	*d++ = '"';
	for (; s < end && *s != '\0'; s++)
	{
		unsigned char c = (unsigned char) *s;

		if (s == chunk_end)
		{
			/* at most 6 bytes a character: \u00XX */
			chunk_end = s + Min(end - s, W2A_ESCAPE_CHUNK);
			out->len = d - out->data;
			enlargeStringInfo(out, (int) (chunk_end - s) * 6 + 1);
			d = out->data + out->len;
		}
		if (c >= ' ' && c != '"' && c != '\\')
		{
			*d++ = (char) c;
			continue;
		}
		*d++ = '\\';
		switch (c)
		{
			case '\b':
				*d++ = 'b';
				break;
			case '\f':
				*d++ = 'f';
				break;
			case '\n':
				*d++ = 'n';
				break;
			case '\r':
				*d++ = 'r';
				break;
			case '\t':
				*d++ = 't';
				break;
			case '"':
			case '\\':
				*d++ = (char) c;
				break;
			default:
				/* \u%04x */
				*d++ = 'u';
				*d++ = '0';
				*d++ = '0';
				*d++ = hex[c >> 4];
				*d++ = hex[c & 0xF];
				break;
		}
	}
	*d++ = '"';
	out->len = d - out->data;
	*d = '\0';
}

/* A scalar, as jsonb_put_escaped_value writes it */
static void
put_scalar(StringInfo out, const JsonbValue *v)
{
	switch (v->type)
	{
		case jbvNull:
			appendBinaryStringInfo(out, "null", 4);
			break;
		case jbvString:
			put_json_string(out, v->val.string.val, v->val.string.len);
			break;
		case jbvNumeric:
			decimal_append_text(out, v->val.numeric);
			break;
		case jbvBool:
			if (v->val.boolean)
				appendBinaryStringInfo(out, "true", 4);
			else
				appendBinaryStringInfo(out, "false", 5);
			break;
		default:
			elog(ERROR, "unknown jsonb scalar type");
	}
}

/*
 * The text of a jsonb container, item for item as JsonbToCString writes it
 * without indentation (jsonb.c, JsonbToCStringWorker).
 */
static void
put_container(StringInfo out, JsonbContainer *in)
{
	JsonbIterator *it = JsonbIteratorInit(in);
	JsonbValue	v;
	JsonbIteratorToken type = WJB_DONE;
	bool		first = true;
	bool		redo_switch = false;
	bool		raw_scalar = false;

	while (redo_switch || (type = JsonbIteratorNext(&it, &v, false)) != WJB_DONE)
	{
		redo_switch = false;
		/* an item after another, at any level: ", " first */
		if (!first && type != WJB_END_ARRAY && type != WJB_END_OBJECT)
			put_two(out, ',', ' ');
		switch (type)
		{
			case WJB_BEGIN_ARRAY:
				if (!v.val.array.rawScalar)
					appendStringInfoCharMacro(out, '[');
				else
					raw_scalar = true;
				first = true;
				break;
			case WJB_BEGIN_OBJECT:
				appendStringInfoCharMacro(out, '{');
				first = true;
				break;
			case WJB_KEY:
				put_scalar(out, &v);
				put_two(out, ':', ' ');
				type = JsonbIteratorNext(&it, &v, false);
				if (type == WJB_VALUE)
				{
					first = false;
					put_scalar(out, &v);
				}
				else
				{
					/* a container: the next turn opens it, with no ", " */
					Assert(type == WJB_BEGIN_OBJECT || type == WJB_BEGIN_ARRAY);
					first = true;
					redo_switch = true;
				}
				break;
			case WJB_ELEM:
				first = false;
				put_scalar(out, &v);
				break;
			case WJB_END_ARRAY:
				if (!raw_scalar)
					appendStringInfoCharMacro(out, ']');
				first = false;
				break;
			case WJB_END_OBJECT:
				appendStringInfoCharMacro(out, '}');
				first = false;
				break;
			default:
				elog(ERROR, "unknown jsonb iterator token type");
		}
	}
}

/*
 * Write a jsonb value as an Avro string holding jsonb_out's text.  The text
 * is UTF-8 only in a UTF-8 (or SQL_ASCII) database: the caller converts
 * other encodings itself.  Fails only as jsonb_out would.
 */
void
jsonb_text_write_avro(StringInfo out, Datum value)
{
	Jsonb	   *jb = DatumGetJsonbP(value);
	int			start = avro_bytes_begin(out);

	put_container(out, &jb->root);
	avro_bytes_end(out, start);
}
