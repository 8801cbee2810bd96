/**
 * The transform against a wide corpus of syntax: test262's parser tests
 * (see fixtures/corpus/syntax-corpus.ts). Valid programs stay valid and keep
 * their lines; programs V8 rejects stay rejected. This found the prologue
 * inside a `#!` line and in front of an HTML-like `-->` comment, and the
 * rewrites that changed what declarations mean (src/instrument/scope-hazards.ts).
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runNode } from '../support/node.ts';

test("test262's parser tests: what V8 compiles compiles instrumented, what it rejects stays rejected", async () => {
  const r = await runNode(
    ['--experimental-vm-modules', '--no-warnings', 'test/instrument/fixtures/corpus/syntax-corpus.ts'],
    { timeoutMs: 120_000 },
  );
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as Record<
    'pass' | 'early' | 'fail',
    { programs: number; checked: number; refused: number; wrong: string[] }
  >;
  // the corpus is there and was read (1,981 valid programs, 668 early errors, 731 syntax errors)
  assert.ok(out.pass.checked >= 1900, JSON.stringify(out.pass));
  assert.ok(
    out.early.checked >= 600 && out.fail.checked >= 700,
    JSON.stringify({ early: out.early.checked, fail: out.fail.checked }),
  );
  assert.deepEqual(out.pass.wrong, []);
  assert.deepEqual(out.early.wrong, []);
  assert.deepEqual(out.fail.wrong, []);
});
