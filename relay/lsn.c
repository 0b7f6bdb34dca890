/*-------------------------------------------------------------------------
 *
 * lsn.c
 *		LSN text as PostgreSQL prints it, declared in lsn.h.
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/lsn.c
 *
 *-------------------------------------------------------------------------
 */
#include <ctype.h>

#include "lsn.h"

bool
relay_lsn_parse(const char *text, Lsn *lsn)
{
	uint64_t	half[2] = {0, 0};
	const char *p = text;

	for (int h = 0; h < 2; h++)
	{
		int			digits = 0;

		while (isxdigit((unsigned char) *p))
		{
			int			c = (unsigned char) *p;
			int			v = isdigit(c) ? c - '0' : tolower(c) - 'a' + 10;

			if (++digits > 8)
				return false;
			half[h] = half[h] << 4 | (uint64_t) v;
			p++;
		}
		if (digits == 0)
			return false;
		if (h == 0 && *p++ != '/')
			return false;
	}
	if (*p != '\0')
		return false;
	*lsn = half[0] << 32 | half[1];
	return true;
}
