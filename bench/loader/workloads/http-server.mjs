// The API of http-app.mjs as a server: prints its port, stops on SIGTERM.
import { createServer } from 'node:http';
import { handle } from './http-app.mjs';

const server = createServer((req, res) => { handle(req, res).catch(() => res.writeHead(500).end()); });
server.listen(0, '127.0.0.1', () => process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
