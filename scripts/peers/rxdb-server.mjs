// RxDB server with its memory storage, one replication endpoint for visits: a peer that the
// field bench pushes the same visits to (scripts/bench-peers.sh). Usage: node rxdb-server.mjs PORT
import { createRxDatabase } from 'rxdb';
import { getRxStorageMemory } from 'rxdb/plugins/storage-memory';
import { createRxServer } from 'rxdb-server/plugins/server';
import { RxServerAdapterExpress } from 'rxdb-server/plugins/adapter-express';
import express from 'express';

const port = Number(process.argv[2] ?? 8181);
const db = await createRxDatabase({ name: 'visits', storage: getRxStorageMemory() });
await db.addCollections({
  visits: {
    schema: {
      version: 0,
      primaryKey: 'id',
      type: 'object',
      properties: { id: { type: 'string', maxLength: 40 }, device_seq: { type: 'integer' } },
      required: ['id'],
    },
  },
});
// The adapter's own app reads JSON bodies of at most 100 kB; a push of 200 visits is larger.
const serverApp = express();
serverApp.use(express.json({ limit: '64mb' }));
const server = await createRxServer({
  database: db,
  serverApp,
  adapter: RxServerAdapterExpress,
  port,
  hostname: '127.0.0.1',
  authHandler: () => ({ data: {}, validUntil: Date.now() + 24 * 3600 * 1000 }),
});
const endpoint = server.addReplicationEndpoint({ name: 'visits', collection: db.visits });
await server.start();
console.log(`rxdb-server listening on http://127.0.0.1:${port}/${endpoint.urlPath}`);
