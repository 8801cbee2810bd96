// An HTTP API with async handlers: routing, a JSON body, a few awaited
// helpers (a cache lookup, a "database" read, validation), JSON out.

const users = new Map(Array.from({ length: 5000 }, (_, i) => [String(i), { id: i, name: `user${i}`, email: `u${i}@example.com`, tags: ['a', 'b', String(i % 7)] }]));
const cache = new Map();

async function readBody(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return body.length > 0 ? JSON.parse(body) : {};
}
async function lookup(id) {
  await null;
  return cache.get(id) ?? users.get(id);
}
async function validate(user, input) {
  await null;
  if (!user) return { ok: false, reason: 'no such user' };
  if (input.name !== undefined && typeof input.name !== 'string') return { ok: false, reason: 'bad name' };
  return { ok: true };
}
async function update(user, input) {
  await null;
  const next = { ...user, ...input, updatedAt: 1 };
  cache.set(String(user.id), next);
  return next;
}
function render(user) {
  return JSON.stringify({ id: user.id, name: user.name, email: user.email, tags: user.tags.join(',') });
}
export async function handle(req, res) {
  const url = new URL(req.url, 'http://x');
  const [, resource, id] = url.pathname.split('/');
  if (resource !== 'users') { res.writeHead(404).end(); return; }
  const input = req.method === 'POST' ? await readBody(req) : {};
  const user = await lookup(id);
  const check = await validate(user, input);
  if (!check.ok) { res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify(check)); return; }
  const result = req.method === 'POST' ? await update(user, input) : user;
  res.writeHead(200, { 'content-type': 'application/json' }).end(render(result));
}
