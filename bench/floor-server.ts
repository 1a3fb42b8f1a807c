/**
 * The floor of `npm run bench:api` (issue 15): a bare `node:http` server answering
 * `GET /fhir/{type}/{id}` with one primary-key `SELECT` of the stored `jsonb` row through `pg`
 * (a pool of 10, as the server's), nothing else: no auth, tenants, audit, validation or Express.
 * What a read by id costs at least on this machine and database; PeerBridge's reads are printed
 * as a share of it. Started by bench/api.ts as a child (`DATABASE_URL`), it sends `{ ready: port }`.
 */
import { createServer } from 'node:http';
import { Pool } from 'pg';

const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
const server = createServer((req, res) => {
  const m = /^\/fhir\/([A-Za-z]+)\/([A-Za-z0-9.-]{1,64})$/.exec(req.url ?? '');
  if (!m) {
    res.writeHead(404).end();
    return;
  }
  pool.query<{ content: unknown }>('SELECT content FROM fhir_resource WHERE resource_type = $1 AND id = $2', [m[1], m[2]]).then(
    (r) => {
      if (!r.rows[0]) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/fhir+json' }).end(JSON.stringify(r.rows[0].content));
    },
    () => res.writeHead(500).end(),
  );
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.send?.({ ready: typeof address === 'object' && address ? address.port : 0 });
});
process.on('message', (m: { cmd?: string }) => {
  if (m.cmd === 'stop') server.close(() => void pool.end().then(() => process.exit(0)));
});
