/**
 * A fastify app: an async onRequest hook, async handlers, its JSON body
 * parser, an error handler, its own 404. Prints `listening <port>`.
 */

import Fastify from 'fastify';
import { UserStore, explode, frames, tick } from './store.cjs';

const users = new UserStore();
const app = Fastify({ logger: false });

app.addHook('onRequest', async (request, reply) => {
  await tick();
  reply.header('x-served-by', 'fastify');
  if (request.headers['x-request-id']) reply.header('x-request-id', request.headers['x-request-id']);
});

app.get('/health', async () => ({ status: 'ok' }));

app.get('/users', async () => users.list());

app.get('/users/:id', async (request) => users.get(request.params.id));

app.post('/users', async (request, reply) => {
  const user = await users.create(request.body);
  reply.code(201).header('location', `/users/${user.id}`);
  return user;
});

app.delete('/users/:id', async (request, reply) => {
  await users.remove(request.params.id);
  reply.code(204).send();
});

app.get('/headers', async (request) => ({
  requestId: request.headers['x-request-id'] ?? null,
  accept: request.headers.accept ?? null,
  custom: request.headers['x-custom'] ?? null,
}));

app.get('/boom', async () => explode());

app.setErrorHandler(async (err, request, reply) => {
  const status = err.status ?? err.statusCode ?? 500;
  reply.code(status);
  return { error: err.message, code: err.code ?? null, ...(status >= 500 ? { frames: frames(err) } : {}) };
});

await app.listen({ host: '127.0.0.1', port: 0 });
console.log(`listening ${app.server.address().port}`);
