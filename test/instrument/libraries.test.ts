/**
 * Real libraries, instrumented whole (issue 3): acorn parsing a large file,
 * marked rendering a large document, the TypeScript compiler transpiling a
 * project — the same output as plain.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runNode, runInstrumented } from '../support/node.ts';

test('acorn, marked and the TypeScript compiler give the same output plain and instrumented', async () => {
  const cache = mkdtempSync(join(tmpdir(), 'lp-libs-'));
  try {
    const script = 'test/instrument/fixtures/libraries.mjs';
    const [plain, armed] = await Promise.all([
      runNode([script], { timeoutMs: 120_000 }),
      runInstrumented([script], { env: { LIVEPATCH_CACHE_DIR: cache }, timeoutMs: 120_000 }),
    ]);
    assert.equal(plain.code, 0, plain.stderr);
    assert.equal(armed.code, 0, armed.stderr);
    const a = JSON.parse(plain.stdout) as Record<string, unknown>;
    const b = JSON.parse(armed.stdout) as Record<string, unknown>;
    assert.deepEqual(b.armed, ['acorn/dist/acorn.mjs', 'marked/lib/marked.esm.js', 'typescript5/lib/typescript.js']);
    assert.ok((a.files as number) > 100);
    for (const k of ['acorn', 'marked', 'typescript', 'files']) assert.equal(b[k], a[k], k);
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
});
