// Load for http-server.mjs: CONNECTIONS keep-alive clients, REQUESTS in all;
// prints the requests per second.
import { Agent, request } from 'node:http';
const port = Number(process.argv[2]);
const total = Number(process.env.REQUESTS ?? 20000);
const conns = Number(process.env.CONNECTIONS ?? 16);
const agent = new Agent({ keepAlive: true, maxSockets: conns });
let sent = 0;
let failed = 0;
function one(i) {
  return new Promise((resolve) => {
    const post = i % 4 === 0;
    const body = post ? JSON.stringify({ name: `n${i}` }) : '';
    const req = request({ host: '127.0.0.1', port, agent, method: post ? 'POST' : 'GET', path: `/users/${i % 5000}`, headers: post ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {} }, (res) => {
      res.resume();
      res.on('end', () => { if (res.statusCode !== 200) failed++; resolve(); });
    });
    req.on('error', () => { failed++; resolve(); });
    req.end(body);
  });
}
async function worker() { while (sent < total) await one(sent++); }
// warm up, then measure
const warm = total;
sent = 0;
await Promise.all(Array.from({ length: conns }, worker));
sent = 0;
const t = performance.now();
await Promise.all(Array.from({ length: conns }, worker));
const secs = (performance.now() - t) / 1000;
agent.destroy();
process.stdout.write(JSON.stringify({ rps: total / secs, failed, warm }) + '\n');
