/**
 * Patching, combinatorially: the corpus of test/instrument/combinations.test.ts
 * (every kind of function × parameter list × body features, ES module and
 * CommonJS, JavaScript and TypeScript) in an old version, and a fixed version
 * where every function changes. `livepatch build` makes one patch of it all,
 * a process running the old version loads it, and every case must then
 * behave as the fixed version does plain — receivers, arguments, new.target,
 * captured variables written through closure(), module bindings, generators,
 * constructors through Reflect.construct, thrown errors (484 functions in
 * one patch). Only the source text differs: a patched function's object is the
 * old one, and so is its toString() (the kernel's old function stays too).
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliPath } from '../support/lp-process.ts';
import { runInstrumented, runNode } from '../support/node.ts';
// @ts-expect-error: a plain JavaScript fixture
import { generate } from '../instrument/fixtures/combos/generate.mjs';

const gen = generate as (strict: boolean, ts?: boolean, fixed?: boolean) => string;

function writeVersion(dir: string, fixed: boolean): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), '{"name":"combos","version":"1.0.0"}');
  writeFileSync(join(dir, 'esm.mjs'), gen(true, false, fixed));
  writeFileSync(join(dir, 'cjs.cjs'), gen(false, false, fixed));
  writeFileSync(join(dir, 'esm.mts'), gen(true, true, fixed));
  writeFileSync(join(dir, 'cjs.cts'), gen(false, true, fixed));
}

type Case = Record<string, unknown> & { text?: unknown };

test('one patch changing every function of the corpus makes the old version behave as the fixed one', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lp-combo-patch-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const [oldDir, newDir, patch] = [join(dir, 'old'), join(dir, 'new'), join(dir, 'fix.mjs')];
  writeVersion(oldDir, false);
  writeVersion(newDir, true);

  const built = await runNode([cliPath, 'build', '--old', oldDir, '--new', newDir, '-o', patch, '--json']);
  assert.equal(built.code, 0, built.stderr + built.stdout);
  const manifest = JSON.parse(built.stdout) as { functions?: unknown[]; refused?: unknown[] };
  assert.deepEqual(manifest.refused ?? [], []);

  const [expected, patched] = await Promise.all([
    runNode(['test/instrument/fixtures/combos/run.mjs', newDir]),
    runInstrumented(['test/instrument/fixtures/combos/run-patched.mjs', oldDir, patch], {
      env: { LIVEPATCH_ROOT: oldDir, LIVEPATCH_CACHE: '0' },
    }),
  ]);
  assert.equal(expected.code, 0, expected.stderr);
  assert.equal(patched.code, 0, patched.stderr);
  const want = JSON.parse(expected.stdout) as Record<string, Case>;
  const { before, after } = JSON.parse(patched.stdout) as { before: Record<string, Case>; after: Record<string, Case> };
  const cases = Object.keys(want).filter((k) => !k.startsWith('$'));
  assert.ok(cases.length >= 560, `${cases.length} cases`);
  let changed = 0;
  for (const k of cases) {
    const { text: _w, ...w } = want[k]!;
    const { text: _a, ...a } = after[k]!;
    assert.deepEqual(a, w, `patched: ${k}`);
    // the old version really was running, and the patch changed what it does
    if (JSON.stringify(before[k]) !== JSON.stringify(after[k])) changed++;
  }
  assert.ok(changed >= cases.length * 0.6, `${changed} of ${cases.length} cases changed`);
});
