import { addItem, cart, stats } from './carts.mjs';
import { quote } from './pricing.mjs';

export async function route(method, url) {
  const id = url.searchParams.get('cart') ?? 'anonymous';
  if (method === 'POST' && url.pathname === '/add') {
    return {
      status: 200,
      body: addItem(id, url.searchParams.get('sku') ?? 'tea', Number(url.searchParams.get('qty') ?? 1)),
    };
  }
  if (method === 'GET' && url.pathname === '/quote') {
    return { status: 200, body: await quote(cart(id)) };
  }
  if (method === 'GET' && url.pathname === '/stats') {
    return { status: 200, body: stats() };
  }
  return { status: 404, body: { error: 'not found' } };
}
