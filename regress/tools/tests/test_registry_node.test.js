// regress/tools/tests/test_registry_node.test.js -- the test Schema Registry
// against @kafkajs/confluent-schema-registry 3.x and avsc (node --test).
// Starts regress/tools/test_registry.py ($W2A_PYTHON, or python3) on a free
// port; NODE_PATH comes from regress/tools/node.sh.
'use strict';

const test = require('node:test');
const assert = require('node:assert');
const { spawn } = require('node:child_process');
const path = require('node:path');
const readline = require('node:readline');
const { SchemaRegistry, SchemaType } = require('@kafkajs/confluent-schema-registry');
const avro = require('avsc');

const schema = {
  type: 'record', name: 'Value', namespace: 'dbz.public.orders',
  fields: [{ name: 'id', type: 'int' }, { name: 'note', type: ['null', 'string'], default: null }],
};

function startRegistry(args) {
  const py = process.env.W2A_PYTHON || 'python3';
  const child = spawn(py, [path.join(__dirname, '..', 'test_registry.py'), '--port', '0', ...args],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    const rl = readline.createInterface({ input: child.stdout });
    rl.once('line', (line) => {
      const m = /^port (\d+)$/.exec(line);
      if (!m) reject(new Error('registry said: ' + line));
      else resolve({ child, url: 'http://127.0.0.1:' + m[1] });
    });
    child.once('exit', (code) => reject(new Error('registry exited ' + code)));
  });
}

async function log(url) {
  const r = await fetch(url + '/_admin/log');
  return r.json();
}

test('register, encode and decode through the registry', async (t) => {
  const reg = await startRegistry([]);
  t.after(() => reg.child.kill());
  const client = new SchemaRegistry({ host: reg.url });
  const { id } = await client.register({ type: SchemaType.AVRO, schema: JSON.stringify(schema) },
    { subject: 'dbz.public.orders-value' });
  assert.strictEqual(id, 1);
  const again = await client.register({ type: SchemaType.AVRO, schema: JSON.stringify(schema) },
    { subject: 'dbz.public.orders-value' });
  assert.strictEqual(again.id, id);
  assert.strictEqual(await client.getLatestSchemaId('dbz.public.orders-value'), id);

  const buf = await client.encode(id, { id: 7, note: 'hello' });
  assert.strictEqual(buf[0], 0);
  assert.strictEqual(buf.readInt32BE(1), id);
  // the datum is plain Avro: avsc reads it with the same schema
  const type = avro.Type.forSchema(schema);
  assert.deepStrictEqual({ ...type.fromBuffer(buf.subarray(5)) }, { id: 7, note: 'hello' });

  // a fresh client has no cache: it fetches the schema by id
  const fresh = new SchemaRegistry({ host: reg.url });
  assert.deepStrictEqual({ ...(await fresh.decode(buf)) }, { id: 7, note: 'hello' });
  const paths = (await log(reg.url)).map((e) => e.path.split('?')[0]);
  assert.ok(paths.includes('/schemas/ids/1'), paths.join(' '));
  assert.ok(paths.includes('/subjects/dbz.public.orders-value/versions'), paths.join(' '));
});

test('basic auth and a 409 subject', async (t) => {
  const reg = await startRegistry(['--basic-auth', 'alice:s3cret', '--conflict', 'bad-value']);
  t.after(() => reg.child.kill());
  const anon = new SchemaRegistry({ host: reg.url });
  await assert.rejects(anon.register({ type: SchemaType.AVRO, schema: JSON.stringify(schema) },
    { subject: 'ok-value' }), (e) => /401|Unauthorized/.test(String(e.status || e.message)));
  const client = new SchemaRegistry({ host: reg.url, auth: { username: 'alice', password: 's3cret' } });
  const { id } = await client.register({ type: SchemaType.AVRO, schema: JSON.stringify(schema) },
    { subject: 'ok-value' });
  assert.strictEqual(id, 1);
  await assert.rejects(client.register({ type: SchemaType.AVRO, schema: JSON.stringify(schema) },
    { subject: 'bad-value' }), (e) => e.status === 409 || /409|incompatible/.test(e.message));
});
