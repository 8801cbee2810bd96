'use strict';
/**
 * An express 5 app (CommonJS): async handlers whose rejections express
 * forwards, express.json(), a router, an error-handling middleware, the
 * default 404 page. Prints `listening <port>`.
 */

const express = require('express');
const { UserStore, explode, frames, tick } = require('./store.cjs');

const users = new UserStore();
const app = express();

app.use(async (req, res, next) => {
  await tick();
  res.set('x-served-by', 'express');
  if (req.get('x-request-id')) res.set('x-request-id', req.get('x-request-id'));
  next();
});
app.use(express.json());

app.get('/health', (req, res) => res.json({ status: 'ok' }));

const router = express.Router();
router.get('/', async (req, res) => res.json(await users.list()));
router.get('/:id', async (req, res) => res.json(await users.get(req.params.id)));
router.post('/', async (req, res) => {
  const user = await users.create(req.body);
  res.status(201).location(`/users/${user.id}`).json(user);
});
router.delete('/:id', async (req, res) => {
  await users.remove(req.params.id);
  res.status(204).end();
});
app.use('/users', router);

app.get('/headers', (req, res) =>
  res.json({
    requestId: req.get('x-request-id') ?? null,
    accept: req.get('accept') ?? null,
    custom: req.get('x-custom') ?? null,
  }),
);

app.get('/boom', async () => explode());

// Four parameters: express's error handler.
app.use((err, req, res, next) => {
  const status = err.status ?? 500;
  res
    .status(status)
    .json({ error: err.message, code: err.type ?? null, ...(status >= 500 ? { frames: frames(err) } : {}) });
});

const server = app.listen(0, '127.0.0.1', () => console.log(`listening ${server.address().port}`));
