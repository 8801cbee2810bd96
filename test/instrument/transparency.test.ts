/**
 * The loader must not change what a program observes (issue 3): every case of
 * the shape corpus gives the same result plain and instrumented, and the
 * instrumented run really armed the corpus.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runNode, runInstrumented } from '../support/node.ts';

const runner = 'test/instrument/fixtures/run-shapes.mjs';

test('every function shape behaves the same plain and instrumented', async () => {
  const [plain, inst] = await Promise.all([runNode([runner]), runInstrumented([runner])]);
  assert.equal(plain.code, 0, plain.stderr);
  assert.equal(inst.code, 0, inst.stderr);
  const a = JSON.parse(plain.stdout) as Record<string, unknown>;
  const b = JSON.parse(inst.stdout) as Record<string, unknown>;
  assert.equal(a.$instrumented, null);
  assert.deepEqual(b.$instrumented, [
    'test/instrument/fixtures/run-shapes.mjs',
    'test/instrument/fixtures/shapes/errors.cjs',
    'test/instrument/fixtures/shapes/nosemi.cjs',
    'test/instrument/fixtures/shapes/serialize.mjs',
    'test/instrument/fixtures/shapes/sloppy.cjs',
    'test/instrument/fixtures/shapes/strict.mjs',
    'test/instrument/fixtures/shapes/typed.ts',
  ]);
  const cases = Object.keys(a).filter((k) => k !== '$instrumented');
  assert.ok(cases.length >= 47, `corpus has ${cases.length} cases`);
  for (const k of cases) assert.deepEqual(b[k], a[k], `case ${k}`);
  // stack traces name the same lines (the loader inserts no newline)
  assert.deepEqual((b['errors.cjs:syncStack'] as { ok: unknown[] }).ok[2], ['4', '7', '8', '23']);
  assert.deepEqual((b['errors.cjs:multiLine'] as { ok: unknown[] }).ok[1], ['12', '25']);
});

test('with --enable-source-maps, stack-trace columns match the original source too', async () => {
  const args = ['--enable-source-maps', runner, 'errors'];
  const [plain, inst] = await Promise.all([runNode(args), runInstrumented(args)]);
  assert.equal(inst.code, 0, inst.stderr);
  const a = JSON.parse(plain.stdout) as Record<string, unknown>;
  const b = JSON.parse(inst.stdout) as Record<string, unknown>;
  const keys = Object.keys(a).filter((k) => k.startsWith('errors'));
  assert.ok(keys.length >= 4);
  for (const k of keys) assert.deepEqual(b[k], a[k], k);
  assert.match(JSON.stringify(b['errors.cjs:syncStack']), /"4:\d+"/);
});

test('no stderr output from an instrumented run of valid code', async () => {
  const inst = await runInstrumented([runner]);
  assert.equal(inst.stderr, '');
});
