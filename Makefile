# Makefile -- builds the wal2avro output plugin (PGXS) and wal2avro-relay
#
#   make                  plugin wal2avro.so and relay/wal2avro-relay
#   make install          module, extension files, relay binary (into $(PREFIX)/bin)
#   make installcheck     pg_regress suite against a running server (PG* env)
#   make test             every suite, starting the servers each needs
#   make test-versions    the plugin's suites on the other PostgreSQL majors
#   make clean            remove all build output

EXTENSION = wal2avro
MODULE_big = wal2avro
OBJS = \
	plugin/avro_to_json.o \
	plugin/avro_writer.o \
	plugin/decimal.o \
	plugin/frame.o \
	plugin/jsonb_text.o \
	plugin/options.o \
	plugin/record.o \
	plugin/debezium_events.o \
	plugin/debezium_flat.o \
	plugin/debezium_record.o \
	plugin/relcache.o \
	plugin/schema_json.o \
	plugin/snapshot.o \
	plugin/sql_functions.o \
	plugin/typemap.o \
	plugin/typemap_avro.o \
	plugin/debezium_typemap.o \
	plugin/debezium_values.o \
	plugin/debezium_values_modes.o \
	plugin/typemap_schema.o \
	plugin/wal2avro.o
DATA = sql/wal2avro--0.1.0.sql
PGFILEDESC = "wal2avro - logical decoding output plugin writing Avro"

# Tests of what only newer servers have run on those only (PG_MAJOR, below).
REGRESS = init options types types_time \
	$(call w2a_before,14,types_pre14) $(call w2a_since,14,types_pg14) $(call w2a_since,15,types_pg15) \
	$(call w2a_since,17,types_pg17) $(call w2a_since,17,messages_pg17) replica_identity toast_unchanged schema_change composite_change cache_inval cache_inval_types transactions truncate_messages filters identifiers frames_binary snapshot json_text $(call w2a_since,14,snapshot_pg14) $(call w2a_since,14,two_phase_pg14) \
	compat_debezium snapshot_debezium dbz_events compat_flat \
	$(call w2a_since,18,generated_pg18)
REGRESS_OPTS = --inputdir=regress --outputdir=regress/out
ISOLATION = $(patsubst regress/specs/%.spec,%,$(sort $(wildcard regress/specs/*.spec)))
ISOLATION_OPTS = --inputdir=regress --outputdir=regress/out/isolation

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
# The server's major version ("PostgreSQL 15.20 (Debian ...)" gives 15), and
# $(call w2a_since,N,TESTS) / $(call w2a_before,N,TESTS): TESTS when it is
# at least N / below N, else nothing.
PG_MAJOR := $(shell $(PG_CONFIG) --version | sed -n 's/^PostgreSQL \([0-9][0-9]*\).*/\1/p')
w2a_since = $(if $(shell [ "$(PG_MAJOR)" -ge $(1) ] 2>/dev/null && echo y),$(2))
w2a_before = $(if $(shell [ "$(PG_MAJOR)" -lt $(1) ] 2>/dev/null && echo y),$(2))
PG_CFLAGS = -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter \
	-Wno-missing-field-initializers -Wno-sign-compare
EXTRA_CLEAN = regress/out relay/*.o relay/tail/*.o relay/wal2avro-relay regress/relay/*.o \
	$(RELAY_TESTS) regress/relay/connect_json_check regress/relay/connect_json_bench
override with_llvm = no
include $(PGXS)

# Every plugin object depends on the plugin's headers.
$(OBJS): $(wildcard plugin/*.h)

# ---- the relay: plain C on libpq and librdkafka, no server headers ----
PREFIX ?= /usr/local
PKG_CONFIG ?= pkg-config
RELAY_CC ?= cc
RELAY_CFLAGS ?= -O2 -g
RELAY_WARN = -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror
RELAY_DEPS_CFLAGS := $(shell $(PKG_CONFIG) --cflags libpq rdkafka avro-c libmicrohttpd libcurl jansson)
RELAY_DEPS_LIBS := $(shell $(PKG_CONFIG) --libs libpq rdkafka avro-c libmicrohttpd libcurl jansson)
# relay/tail/: the tail subcommand, a debugging consumer in the same binary;
# only main.c calls it, so the unit tests link the service without it.
RELAY_SRCS = $(wildcard relay/*.c relay/tail/*.c)
RELAY_HDRS = $(wildcard relay/*.h relay/tail/*.h)
RELAY_LIB_SRCS = $(filter-out relay/main.c relay/tail/%,$(RELAY_SRCS))
RELAY_TESTS = $(patsubst regress/relay/%.c,regress/relay/%,$(wildcard regress/relay/test_*.c))

all: relay/wal2avro-relay

relay/wal2avro-relay: $(RELAY_SRCS) $(RELAY_HDRS) plugin/wal2avro_protocol.h
	$(RELAY_CC) $(RELAY_WARN) $(RELAY_CFLAGS) $(RELAY_DEPS_CFLAGS) -Iplugin -Irelay \
		-o $@ $(RELAY_SRCS) $(RELAY_DEPS_LIBS)

# Relay unit tests: one program per module, built with ASan and UBSan.
SANITIZE = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
regress/relay/test_%: regress/relay/test_%.c $(RELAY_LIB_SRCS) $(RELAY_HDRS) regress/relay/unit.h
	$(RELAY_CC) $(RELAY_WARN) -O1 -g $(SANITIZE) $(RELAY_DEPS_CFLAGS) -Iplugin -Irelay \
		-o $@ $< $(RELAY_LIB_SRCS) $(RELAY_DEPS_LIBS)

# The JSON walker's driver (regress/e2e/0053-connect-json.sh): checked under
# ASan/UBSan; the benchmark build is the same program optimised, no sanitizers.
CONNECT_JSON_SRCS = regress/relay/connect_json_check.c relay/connect_json.c \
	relay/connect_json_metadata.c relay/connect_json_schema.c relay/json_out.c
CONNECT_JSON_HDRS = relay/connect_json.h relay/connect_json_internal.h \
	relay/connect_json_schema_internal.h relay/json_out.h
regress/relay/connect_json_check: $(CONNECT_JSON_SRCS) $(CONNECT_JSON_HDRS)
	$(RELAY_CC) $(RELAY_WARN) -O1 -g $(SANITIZE) $(RELAY_DEPS_CFLAGS) -Irelay \
		-o $@ $(CONNECT_JSON_SRCS) $(RELAY_DEPS_LIBS)
regress/relay/connect_json_bench: $(CONNECT_JSON_SRCS) $(CONNECT_JSON_HDRS)
	$(RELAY_CC) $(RELAY_WARN) -O2 -g $(RELAY_DEPS_CFLAGS) -Irelay \
		-o $@ $(CONNECT_JSON_SRCS) $(RELAY_DEPS_LIBS)

relay-unit: $(RELAY_TESTS)
	@regress/run-relay-unit.sh $(RELAY_TESTS)

relay-unit-valgrind: $(RELAY_TESTS)
	@W2A_VALGRIND=1 RELAY_CC="$(RELAY_CC)" RELAY_DEPS_CFLAGS="$(RELAY_DEPS_CFLAGS)" \
		RELAY_DEPS_LIBS="$(RELAY_DEPS_LIBS)" regress/run-relay-unit.sh $(RELAY_TESTS)

# The pg_regress suite with the server under valgrind (slow; not in "make test").
valgrind-check:
	regress/run-valgrind.sh

FUZZ_SECONDS ?= 30
relay-fuzz:
	regress/fuzz/run-fuzz.sh $(FUZZ_SECONDS)

install: install-relay

install-relay: relay/wal2avro-relay
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 relay/wal2avro-relay $(DESTDIR)$(PREFIX)/bin/wal2avro-relay

# Every suite, each starting the servers it needs.  Needs "make install" first
# (CREATE EXTENSION reads the installed control file).
test: all
	regress/run-tests.sh

# The pg_regress and isolation suites on every PostgreSQL major built from
# source (regress/tools/pg-versions.sh builds 13 and 18 once, into a cache),
# and the relay's streaming and kill -9 tests on the newest; each major in
# a scratch copy of the tree, so this tree's build stays as it is.
test-versions:
	regress/run-versions.sh

.PHONY: relay-unit relay-unit-valgrind relay-fuzz valgrind-check install-relay test test-versions
