/*-------------------------------------------------------------------------
 *
 * frame.h
 *		Frame headers and body fields (frame.c, the only code that knows
 *		the bytes of wal2avro_protocol.h).
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * plugin/frame.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef W2A_FRAME_H
#define W2A_FRAME_H

#include "access/xlogdefs.h"
#include "lib/stringinfo.h"

struct RelSchemaEntry;

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

extern void frame_write_schema(StringInfo out, const struct RelSchemaEntry *entry);
extern int	frame_change_begin(StringInfo out, char op,
							   const struct RelSchemaEntry *entry, XLogRecPtr lsn);
extern void frame_change_other_key(StringInfo out, int start, const char *key, uint32 len);

#endif							/* W2A_FRAME_H */
