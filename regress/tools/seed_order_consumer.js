// regress/tools/seed_order_consumer.js -- the seed article's OrderCDCConsumer, unchanged
//
// What it is for: issue 14 asks that the consumers Debezium users already
// run read wal2avro-relay's topics with no code change.  This is the
// article's kafkajs + pg consumer (../shared/seed/), its TypeScript types
// taken out so that Node runs it as it is.  processMessage, upsertOrder and
// deleteOrder are the article's, line for line.  Only what a deployment
// sets differs: the brokers, the analytics database and the group id come
// from the environment (SEED_BROKERS, PGHOST/PGPORT/..., SEED_GROUP), no
// TLS/SCRAM on the test broker, and fromBeginning is true so that a new
// group reads the initial snapshot.
//
//   SEED_BROKERS=host:port SEED_TOPIC=orders-prod.public.orders node seed_order_consumer.js
//
// Runs until killed; a message it cannot process is thrown to kafkajs, as
// in the article (the test then sees the table never converge).  Logs one
// line per message: "applied <op> <lsn>" or the article's skip line.

'use strict';

const { Kafka, logLevel } = require('kafkajs');
const { Pool } = require('pg');

class OrderCDCConsumer {
  constructor() {
    this.processedLSNs = new Map();
    this.kafka = new Kafka({
      clientId: 'order-analytics-consumer',
      brokers: process.env.SEED_BROKERS.split(','),
      logLevel: logLevel.WARN,
    });
    this.pool = new Pool({
      database: process.env.SEED_ANALYTICS_DB || 'analytics',
      max: 20,
      idleTimeoutMillis: 30000,
      connectionTimeoutMillis: 5000
    });
  }

  async start() {
    const consumer = this.kafka.consumer({
      groupId: process.env.SEED_GROUP || 'order-analytics-v2',
      sessionTimeout: 30000,
      heartbeatInterval: 3000,
      maxWaitTimeInMs: 1000
    });
    await consumer.connect();
    await consumer.subscribe({
      topics: [process.env.SEED_TOPIC || 'orders-prod.public.orders'],
      fromBeginning: true
    });
    await consumer.run({
      eachMessage: async (payload) => {
        await this.processMessage(payload);
      }
    });
  }

  // ---- from here on the article's code, types removed ----
  async processMessage(payload) {
    const event = JSON.parse(payload.message.value.toString());
    const partitionKey = `${event.source.table}-${payload.partition}`;
    // Idempotency check using LSN (log sequence number)
    const lastProcessedLSN = this.processedLSNs.get(partitionKey) || 0;
    if (event.source.lsn <= lastProcessedLSN) {
      console.log(`Skipping duplicate event with LSN ${event.source.lsn}`);
      return;
    }
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      switch (event.op) {
        case 'c':
        case 'u':
          await this.upsertOrder(client, event.after);
          break;
        case 'd':
          await this.deleteOrder(client, event.before);
          break;
        case 'r':
          // Snapshot read during initial sync
          await this.upsertOrder(client, event.after);
          break;
      }
      // Store LSN for idempotency in same transaction
      await client.query(
        'INSERT INTO cdc_checkpoints (partition_key, lsn, processed_at) VALUES ($1, $2, NOW()) ON CONFLICT (partition_key) DO UPDATE SET lsn = $2, processed_at = NOW()',
        [partitionKey, event.source.lsn]
      );
      await client.query('COMMIT');
      this.processedLSNs.set(partitionKey, event.source.lsn);
      console.log(`applied ${event.op} ${event.source.lsn}`);
    } catch (error) {
      await client.query('ROLLBACK');
      throw error;
    } finally {
      client.release();
    }
  }

  async upsertOrder(client, order) {
    await client.query(
      `INSERT INTO orders_analytics (order_id, customer_id, total_amount, status, updated_at)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (order_id) DO UPDATE SET
customer_id = $2,
total_amount = $3,
status = $4,
updated_at = $5`,
      [order.id, order.customer_id, order.total_amount, order.status, new Date()]
    );
  }

  async deleteOrder(client, order) {
    await client.query(
      'DELETE FROM orders_analytics WHERE order_id = $1',
      [order.id]
    );
  }
}

new OrderCDCConsumer().start().catch((e) => {
  console.error(`seed consumer failed: ${e.stack || e}`);
  process.exit(1);
});
