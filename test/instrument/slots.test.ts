/**
 * An armed entry check passes the call on (receiver or new.target, closure
 * accessor, arguments) and returns what the slot returns; `$lpO` lets the
 * original body run; disarming restores the original. Slots are armed by hand
 * here, without the core.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { runInstrumented } from '../support/node.ts';

test('armed slots forward every kind of function, and disarm back to the original', async () => {
  const abi = fileURLToPath(new URL('../../dist/runtime/abi.js', import.meta.url));
  const r = await runInstrumented(['test/instrument/fixtures/run-patchable.mjs'], { env: { LP_ABI: abi } });
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as Record<string, unknown>;
  assert.deepEqual(out, {
    plain: ['patched-plain', false, 1, 2],
    arrow: ['patched-arrow', 3],
    destr: ['patched-destr', { a: 1 }, [2]],
    destrDefaultOriginal: [
      ['destrDefault', false, 2, 'p'],
      ['destrDefault', true, 5, 'p'],
    ],
    // the arguments as the caller gave them: the parameter's defaults are the replacement's own
    destrDefault: [
      ['patched-destrDefault', 'undefined'],
      ['patched-destrDefault', { onlyFirst: true }],
    ],
    sloppyArgs: ['patched-args', [7, 8, 9]],
    method: ['patched-method', 4, 5],
    getter: 'patched-get:6',
    setter: 'set:9',
    ctor: ['ctor:1', true],
    derivedOriginal: [20, true, true],
    // forwarded before super(): no `this` to pass (reading it would throw), a marker instead
    beforeSuper: ['patched-before-super', 'Symbol(livepatch.uninitialized)', 4],
    gen: ['patched', 1],
    asyncFn: ['patched-async', 2],
    agen: ['patched-agen', 3],
    moduleScope: 'patched:5',
    moduleScopeSet: [100, 100],
    closure: ['patched:110', 'patched:210'],
    closureAfter: 211,
    original: ['plain', 1, 2],
    disarmed: ['plain', 3, 4],
    hashbangScope: 'patched:7',
  });
});
