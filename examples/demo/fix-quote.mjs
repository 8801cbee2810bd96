// The fix for the shop's quote(): the tax is added once.
//   livepatch load examples/demo/fix-quote.mjs --pid <pid>
import { definePatch } from 'livepatch';
import { taxRate } from './shop/tax.mjs';
import { subtotal } from './shop/pricing.mjs';

export default definePatch({
  name: 'fix_quote',
  objects: [
    {
      name: 'examples/demo/shop/pricing.mjs',
      funcs: [
        {
          oldName: 'quote',
          async newFunc(cart) {
            const rate = await taxRate(cart.id);
            const sub = subtotal(cart);
            const tax = Math.round(sub * rate);
            return { cart: cart.id, subtotal: sub, tax, total: sub + tax };
          },
        },
      ],
    },
  ],
});
