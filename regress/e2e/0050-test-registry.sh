#!/usr/bin/env bash
# regress/e2e/0050-test-registry.sh -- the test Schema Registry against real clients
#
# What it is for: regress/tools/test_registry.py stands in for Confluent's
# Schema Registry in the Debezium drop-in tests (issue 14).  This proves it
# speaks the protocol the clients speak: Confluent's Python client and Avro
# serdes (pytest regress/tools/tests/test_test_registry.py) and
# @kafkajs/confluent-schema-registry 3.x with avsc (node --test
# regress/tools/tests/test_registry_node.test.js) register, encode and
# decode through it; the knobs (5xx, 409, basic auth, request log) work.
# Needs no PostgreSQL and no Kafka; a few seconds.
set -uo pipefail
. "$(dirname "$0")/../lib/common.sh"
. "$W2A_ROOT/regress/tools/venv.sh" || fail "could not set up the Python venv"
. "$W2A_ROOT/regress/tools/node.sh" || fail "could not install the Node packages"

cd "$W2A_ROOT/regress/tools/tests" || fail "no regress/tools/tests"
"$W2A_PYTHON" -m pytest -q -p no:cacheprovider -rxXfE test_test_registry.py ||
	fail "pytest test_test_registry.py"
W2A_PYTHON=$W2A_PYTHON node --test test_registry_node.test.js ||
	fail "node --test test_registry_node.test.js"
echo "PASS: test registry (Python and Node clients)"
