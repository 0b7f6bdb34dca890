// regress/tools/registry_decode.js -- decode dumped records as a kafkajs schema-aware consumer does
//
//   node regress/tools/registry_decode.js REGISTRY_URL USER:PASS < records.jsonl
//
// Reads kafka_dump.py's lines ({"$bytes": base64} keys and values) and
// decodes every key and value with @kafkajs/confluent-schema-registry's
// registry.decode (the seed's SchemaAwareCDCConsumer), which fetches each
// schema by the id in the record.  Prints one JSON line per record
// {"offset", "key", "value"}; exits 1 on the first record that fails.
// NODE_PATH comes from regress/tools/node.sh.
'use strict';

const readline = require('node:readline');
const { SchemaRegistry } = require('@kafkajs/confluent-schema-registry');

async function main() {
  const [url, auth] = process.argv.slice(2);
  const [username, password] = (auth || '').split(':');
  const registry = new SchemaRegistry({ host: url, auth: auth ? { username, password } : undefined });
  const rl = readline.createInterface({ input: process.stdin });
  for await (const line of rl) {
    const r = JSON.parse(line);
    const bytes = (v) => (v === null ? null : Buffer.from(v.$bytes, 'base64'));
    const key = await registry.decode(bytes(r.key));
    const value = r.value === null ? null : await registry.decode(bytes(r.value));
    process.stdout.write(JSON.stringify({ offset: r.offset, key, value }, (k, v) =>
      (typeof v === 'bigint' ? v.toString() : v)) + '\n');
  }
}

main().catch((e) => { console.error('registry_decode: ' + e.message); process.exit(1); });
