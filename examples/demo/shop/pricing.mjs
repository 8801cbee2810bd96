import { taxRate } from './tax.mjs';

export const PRICES = { tea: 350, cake: 420, scone: 275 }; // cents

export function subtotal(cart) {
  let cents = 0;
  for (const { sku, qty } of cart.items) cents += (PRICES[sku] ?? 0) * qty;
  return cents;
}

// The bug: the tax is added twice.
export async function quote(cart) {
  const rate = await taxRate(cart.id); // a slow call to the tax service
  const sub = subtotal(cart);
  const tax = Math.round(sub * rate);
  return { cart: cart.id, subtotal: sub, tax, total: sub + tax + tax };
}
