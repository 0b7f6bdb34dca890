/*-------------------------------------------------------------------------
 *
 * heartbeat.h
 *		Heartbeats through the slot (heartbeat.c).
 *
 * Copyright (c) 2026, the wal2avro authors
 *
 * relay/heartbeat.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef RELAY_HEARTBEAT_H
#define RELAY_HEARTBEAT_H

#include "config.h"
#include "wal2avro_protocol.h"

/* The prefix of the logical messages that are heartbeats */
#define HEARTBEAT_PREFIX	W2A_HEARTBEAT_PREFIX	/* wal2avro_protocol.h */

typedef struct Heartbeat Heartbeat;

extern Heartbeat *heartbeat_create(const RelayConfig *cfg);
extern void heartbeat_poll(Heartbeat *hb);
extern void heartbeat_free(Heartbeat *hb);

#endif							/* RELAY_HEARTBEAT_H */
