// An async-heavy request pipeline: each request goes through six async
// functions that await (resolved promises, microtask hops) and a fan-out.
const db = new Map(Array.from({ length: 1000 }, (_, i) => [i, { id: i, name: `user${i}`, score: i % 97 }]));

async function parse(i) {
  await null;
  return { id: i % 1000, page: i % 7 };
}
async function authorize(req) {
  await null;
  return req.id % 13 !== 0;
}
async function load(id) {
  await null;
  return db.get(id);
}
async function related(id) {
  await null;
  return [db.get((id + 1) % 1000), db.get((id + 2) % 1000)];
}
async function render(user, rel, ok) {
  await null;
  return ok ? `${user.name}:${user.score}:${rel.map((r) => r.name).join(',')}` : 'denied';
}
export async function handle(i) {
  const req = await parse(i);
  const [ok, user, rel] = await Promise.all([authorize(req), load(req.id), related(req.id)]);
  return render(user, rel, ok);
}
export async function run(n) {
  let total = 0;
  for (let i = 0; i < n; i++) total += (await handle(i)).length;
  return total;
}
