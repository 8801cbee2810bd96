/**
 * Transparency, combinatorially (fixtures/combos/generate.mjs): every kind of
 * function (20, closures over a factory's or a run-once function's
 * variables among them) × every shape of parameter list × body features
 * (var, let, function declarations, arguments, this, new.target, closures,
 * finally, assigned parameters, direct eval, module bindings), in a strict ES module and a sloppy CommonJS one.
 * Each case must report the same — results, thrown errors and their
 * messages, length, name, source text — plain, armed, and armed with every
 * slot telling its check to run the original (the slow path evaluates what
 * it forwards: nothing it evaluates may change what the program sees).
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInstrumented, runNode } from '../support/node.ts';
// @ts-expect-error: a plain JavaScript fixture
import { generate } from './fixtures/combos/generate.mjs';

const runner = 'test/instrument/fixtures/combos/run.mjs';

test('every combination of function kind, parameters and body behaves the same plain, armed, and armed on the slow path', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lp-combo-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const gen = generate as (strict: boolean, ts?: boolean) => string;
  writeFileSync(join(dir, 'esm.mjs'), gen(true));
  writeFileSync(join(dir, 'cjs.cjs'), gen(false));
  writeFileSync(join(dir, 'esm.mts'), gen(true, true));
  writeFileSync(join(dir, 'cjs.cts'), gen(false, true));
  const env = { LIVEPATCH_CACHE: '0' };
  const [plain, idle, original] = await Promise.all([
    runNode([runner, dir]),
    runInstrumented([runner, dir], { env }),
    runInstrumented([runner, dir, 'original'], { env }),
  ]);
  for (const r of [plain, idle, original]) assert.equal(r.code, 0, r.stderr);
  const [a, b, c] = [plain, idle, original].map((r) => JSON.parse(r.stdout) as Record<string, unknown>);
  assert.equal(a!.$modules, 0);
  assert.equal(b!.$modules, 4);
  assert.ok((c!.$armed as number) >= 2000, `armed ${String(c!.$armed)} slots`);
  const cases = Object.keys(a!).filter((k) => !k.startsWith('$'));
  assert.ok(cases.length >= 560, `${cases.length} cases`);
  for (const k of cases) {
    assert.deepEqual(b![k], a![k], `armed: ${k}`);
    assert.deepEqual(c![k], a![k], `armed, slow path: ${k}`);
  }
});
