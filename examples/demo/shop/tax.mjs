// Stands in for a remote tax service: answers after a while.
export function taxRate(_cartId) {
  return new Promise((resolve) => setTimeout(() => resolve(0.2), Number(process.env.TAX_DELAY_MS ?? 1200)));
}
