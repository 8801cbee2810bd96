// The service's in-memory state: it must survive the patch.
const carts = new Map();
const startedAt = Date.now();
let served = 0;

export function addItem(id, sku, qty) {
  served++;
  let c = carts.get(id);
  if (c === undefined) carts.set(id, (c = { id, items: [] }));
  c.items.push({ sku, qty });
  return { cart: id, items: c.items.length };
}

export function cart(id) {
  served++;
  return carts.get(id) ?? { id, items: [] };
}

export function stats() {
  let items = 0;
  for (const c of carts.values()) items += c.items.length;
  return { pid: process.pid, startedAt, carts: carts.size, items, served };
}
