/**
 * `npm start` tells the whole story; CI runs it (issue 4). The demo checks
 * itself: it exits non-zero if a request failed or a request after the
 * transition got the old answer.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runNode } from './support/node.ts';

test('the demo patches a busy service with no failed request and no lost state', async () => {
  const r = await runNode(['examples/demo/run.ts'], {
    env: { DEMO_PATCH_AT_MS: '2000', DEMO_RUN_MS: '5000' },
    timeoutMs: 60_000,
  });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /failed requests overall: 0/);
  assert.match(r.stdout, /state kept: same process/);
  assert.match(r.stdout, /finished on the old code/);
  assert.match(r.stdout, /livepatch: 'fix_quote': patching complete/);
});
