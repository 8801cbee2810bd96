// A small shop service: carts in memory, prices, and quotes that ask a (slow)
// tax service. It has a bug in quote(): see fix-quote.mjs next to this folder.
import { createServer } from 'node:http';
import { route } from './routes.mjs';
import { stats } from './carts.mjs';

const server = createServer(async (req, res) => {
  try {
    const { status, body } = await route(req.method, new URL(req.url, 'http://shop'));
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  } catch (error) {
    res.writeHead(500, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: String(error) }));
  }
});

server.keepAliveTimeout = 30_000;
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  console.log(JSON.stringify({ listening: server.address().port, pid: process.pid, startedAt: stats().startedAt }));
});
