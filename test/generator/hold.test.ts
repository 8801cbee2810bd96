/**
 * `livepatch build --hold` (issue 16, seed 001's "extending the patched
 * set"): an unchanged caller that awaits between two changed calls, put in
 * the patch, keeps a task inside it on the old code until it returns, so
 * under the kernel's 'task' model a request never mixes the two — and the
 * build suggests it where it sees such a caller.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from '../../src/generator/generate.ts';
import { InputError } from '../../src/generator/errors.ts';
import { dirTree } from '../../src/generator/tree.ts';
import { httpLoad, mixed } from '../support/http-load.ts';
import { cliPath, LpProcess } from '../support/lp-process.ts';
import { repoRoot, runNode } from '../support/node.ts';

const fixture = join(repoRoot, 'test/generator/fixtures/hold');
const old = (): ReturnType<typeof dirTree> => dirTree(join(fixture, 'old'));
const next = (): ReturnType<typeof dirTree> => dirTree(join(fixture, 'new'));

test('build suggests --hold for a caller that awaits between two replaced functions, and --hold puts it in the patch', () => {
  const plain = build({ old: old(), new: next(), root: join(fixture, 'old') });
  assert.deepEqual(
    plain.manifest.functions.filter((f) => f.status === 'patched').map((f) => f.name),
    ['quote', 'total'],
  );
  const suggestion = plain.manifest.notes.find((n) => n.includes('--hold shop.mjs:checkout'));
  assert.ok(suggestion, plain.manifest.notes.join('\n'));
  assert.match(
    suggestion,
    /^shop\.mjs:13: 'checkout' calls the replaced 'quote', waits, then calls the replaced 'total'/,
  );

  const held = build({ old: old(), new: next(), root: join(fixture, 'old'), hold: ['shop.mjs:checkout'] });
  const checkout = held.manifest.functions.find((f) => f.name === 'checkout')!;
  assert.equal(checkout.status, 'patched');
  assert.match(checkout.why[0]!, /held \(--hold\)/);
  assert.equal(held.manifest.notes.filter((n) => n.includes('--hold')).length, 0); // nothing left to suggest
  // a bare name found in exactly one changed module works too
  const bare = build({ old: old(), new: next(), root: join(fixture, 'old'), hold: ['checkout'] });
  assert.equal(bare.code, held.code);
});

test('--hold of a function that does not exist, or of a bare name no changed module has, is bad input', () => {
  assert.throws(
    () => build({ old: old(), new: next(), root: join(fixture, 'old'), hold: ['shop.mjs:nope'] }),
    (e: unknown) => e instanceof InputError && /shop\.mjs has no function 'nope'/.test(e.message),
  );
  assert.throws(
    () => build({ old: old(), new: next(), root: join(fixture, 'old'), hold: ['handler'] }),
    (e: unknown) => e instanceof InputError && /no changed module has a function of that name/.test(e.message),
  );
  assert.throws(
    () => build({ old: old(), new: next(), root: join(fixture, 'old'), hold: ['missing.mjs:f'] }),
    (e: unknown) => e instanceof InputError && /no module missing\.mjs/.test(e.message),
  );
});

/** Load `patch` into the fixture's server under load, `rounds` times; the answers. */
async function underLoad(patch: string, name: string, rounds: number): Promise<Map<string, number>> {
  const p = await LpProcess.start(join(fixture, 'old/server.mjs'));
  try {
    const traffic = httpLoad(p.ready.port as number, 8, (i) => `/?ms=${5 + ((i * 7) % 40)}`);
    for (let i = 0; i < rounds; i++) {
      await new Promise((r) => setTimeout(r, 60));
      const loaded = await p.cli('load', patch, '--wait', '--timeout', '20');
      assert.equal(loaded.code, 0, loaded.stderr);
      await new Promise((r) => setTimeout(r, 60));
      assert.equal((await p.cli('disable', name)).code, 0);
      for (let t = 0; t < 400; t++) {
        if (((await p.json('status')) as { transition: unknown }).transition === null) break;
        await new Promise((r) => setTimeout(r, 25));
      }
      assert.equal((await p.cli('unload', name)).code, 0);
    }
    return await traffic.stop();
  } finally {
    await p.stop();
  }
}

test("under consistency 'task', the held caller keeps every request on one side; without it requests mix", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lp-hold-'));
  try {
    for (const [file, extra] of [
      ['held.mjs', ['--hold', 'shop.mjs:checkout']],
      ['plain.mjs', []],
    ] as const) {
      const r = await runNode([
        cliPath,
        'build',
        '--old',
        join(fixture, 'old'),
        '--new',
        join(fixture, 'new'),
        '-o',
        join(dir, file),
        ...extra,
      ]);
      assert.equal(r.code, 0, r.stderr + r.stdout);
    }
    const held = await underLoad(join(dir, 'held.mjs'), 'held', 6);
    assert.equal(mixed(held), 0, JSON.stringify([...held]));
    assert.ok((held.get('old/old') ?? 0) > 50 && (held.get('new/new') ?? 0) > 50, JSON.stringify([...held]));
    const plain = await underLoad(join(dir, 'plain.mjs'), 'plain', 6);
    assert.ok(mixed(plain) > 0, `without --hold requests mix: ${JSON.stringify([...plain])}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
