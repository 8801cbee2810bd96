/**
 * A koa app: async middleware (an error boundary around `await next()`, a
 * header set after the downstream middleware ran), koa-bodyparser,
 * @koa/router, koa's own 404. Prints `listening <port>`.
 */

import Koa from 'koa';
import Router from '@koa/router';
import bodyParser from 'koa-bodyparser';
import { UserStore, explode, frames, tick } from './store.cjs';

const users = new UserStore();
const app = new Koa();
const router = new Router();

app.use(async (ctx, next) => {
  try {
    await next();
  } catch (err) {
    const status = err.status ?? 500;
    ctx.status = status;
    ctx.body = { error: err.message, code: err.type ?? null, ...(status >= 500 ? { frames: frames(err) } : {}) };
  }
});

app.use(async (ctx, next) => {
  await tick();
  if (ctx.get('x-request-id')) ctx.set('x-request-id', ctx.get('x-request-id'));
  await next();
  // After the downstream middleware: what a timing or logging middleware does.
  ctx.set('x-served-by', 'koa');
});

app.use(bodyParser());

router.get('/health', async (ctx) => {
  ctx.body = { status: 'ok' };
});
router.get('/users', async (ctx) => {
  ctx.body = await users.list();
});
router.get('/users/:id', async (ctx) => {
  ctx.body = await users.get(ctx.params.id);
});
router.post('/users', async (ctx) => {
  const user = await users.create(ctx.request.body);
  ctx.status = 201;
  ctx.set('location', `/users/${user.id}`);
  ctx.body = user;
});
router.delete('/users/:id', async (ctx) => {
  await users.remove(ctx.params.id);
  ctx.status = 204;
});
router.get('/headers', async (ctx) => {
  ctx.body = {
    requestId: ctx.get('x-request-id') || null,
    accept: ctx.get('accept') || null,
    custom: ctx.get('x-custom') || null,
  };
});
router.get('/boom', async () => explode());

app.use(router.routes()).use(router.allowedMethods());

const server = app.listen(0, '127.0.0.1', () => console.log(`listening ${server.address().port}`));
