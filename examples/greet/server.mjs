// A tiny service with a bug: greet() forgets the exclamation mark.
import { createServer } from 'node:http';
import { greet } from './greet.mjs';

let served = 0;
const server = createServer((req, res) => {
  served++;
  const name = new URL(req.url, 'http://x').searchParams.get('name') ?? 'world';
  res.end(`${greet(name)} (request ${served})\n`);
});
server.listen(Number(process.env.PORT ?? 8080), '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${server.address().port} (pid ${process.pid})`);
});
