/**
 * The build corpus (issue 5): realistic fixes, each an old and a new version
 * of a small application in `fixtures/<case>/{old,new}`.
 *
 * A patchable case: the old version runs under the loader (one process per
 * case, `harness.mjs`), the patch is built from old to new, loaded through
 * the `livepatch` CLI, and the case's `check.mjs` — the new version's own
 * checks — runs against the patched process. Its results must equal the new
 * version's (run in the same process, as separate modules) and differ from
 * an unpatched copy of the old version's (so the check sees the bug); the
 * old version's `setup` ran before the patch, so what it made (instances,
 * closures, caches) is used across the patch and must be kept.
 * `case.json` lists the functions the patch must replace, exactly, and the
 * changed ones it must leave out (only formatting changed; only functions
 * inside them changed, which are patched in every instance).
 *
 * A refusal case: the real CLI refuses, naming file, line and reason (each
 * listed in `case.json`), exits 65 and writes no patch.
 */

import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from '../../src/generator/generate.ts';
import { dirTree } from '../../src/generator/tree.ts';
import { cliPath } from '../support/lp-process.ts';
import { startCase } from './case-process.ts';
import { runNode } from '../support/node.ts';

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
const cases = readdirSync(fixtures).sort();
const out = mkdtempSync(join(tmpdir(), 'lp-corpus-'));
after(() => rmSync(out, { recursive: true, force: true }));

interface CaseSpec {
  patched?: string[];
  formattingOnly?: string[];
  innerOnly?: string[];
  refuse?: { file: string; line: number; rule: string; reason: string }[];
}

const spec = (name: string): CaseSpec =>
  JSON.parse(readFileSync(join(fixtures, name, 'case.json'), 'utf8')) as CaseSpec;
const patchable = cases.filter((c) => spec(c).refuse === undefined);
const refused = cases.filter((c) => spec(c).refuse !== undefined);

test('the corpus has at least 30 fixes, and a refusal case for each unsupported kind of change', () => {
  assert.ok(cases.length >= 30, `${cases.length} cases`);
  const rules = new Set(refused.flatMap((c) => spec(c).refuse!.map((r) => r.rule)));
  for (const rule of ['module-init', 'class-field', 'export', 'module-data', 'closure-captures'])
    assert.ok(rules.has(rule), `no case refuses with ${rule}`);
});

describe(
  "patchable fixes: the patched process gives the new version's results and keeps its state",
  { concurrency: 3 },
  () => {
    for (const name of patchable) {
      test(name, async () => {
        const dir = join(fixtures, name);
        const want = spec(name);
        const result = build({
          old: dirTree(join(dir, 'old')),
          new: dirTree(join(dir, 'new')),
          root: join(dir, 'old'),
        });
        assert.deepEqual(result.refusals, []);
        assert.ok(result.code !== null, 'a patch was built');
        const patched = result.manifest.functions
          .filter((f) => f.status === 'patched')
          .map((f) => f.name)
          .sort();
        assert.deepEqual(patched, [...(want.patched ?? [])].sort());
        const left = (status: string) =>
          result.manifest.functions
            .filter((f) => f.status === status)
            .map((f) => f.name)
            .sort();
        assert.deepEqual(left('formatting-only'), [...(want.formattingOnly ?? [])].sort());
        assert.deepEqual(left('inner-only'), [...(want.innerOnly ?? [])].sort());
        for (const f of result.manifest.functions) assert.match(f.oldHash, /^[0-9a-f]{16}$/);
        const file = join(out, `${name}.mjs`);
        writeFileSync(file, result.code);

        // an unpatched copy of the old version: the check must fail there
        const pre = join(out, `${name}-pre`);
        cpSync(join(dir, 'old'), pre, { recursive: true });
        const { p, run } = await startCase(dir, { LIVEPATCH_ROOT: join(dir, 'old'), PRE_DIR: pre });
        try {
          await run('setup', 'old');
          await run('setup', 'new');
          await run('setup', 'pre');
          const before = await run('check', 'pre');
          const expected = await run('check', 'new');
          assert.notDeepEqual(before, expected, 'the check tells the old version from the new');
          const load = await p.cli('load', file);
          assert.equal(load.code, 0, load.stderr);
          const after = await run('check', 'old');
          assert.deepEqual(after, expected);
        } finally {
          await p.stop();
        }
      });
    }
  },
);

describe(
  'unsupported changes are refused with file, line, reason and way out; nothing is written',
  { concurrency: 3 },
  () => {
    for (const name of refused) {
      test(name, async () => {
        const dir = join(fixtures, name);
        const file = join(out, `${name}.mjs`);
        const r = await runNode([
          cliPath,
          'build',
          '--old',
          join(dir, 'old'),
          '--new',
          join(dir, 'new'),
          '-o',
          file,
          '--json',
        ]);
        assert.equal(r.code, 65, r.stderr);
        assert.equal(existsSync(file), false, 'no patch module is written');
        const manifest = JSON.parse(r.stdout) as {
          refusals: { file: string; line: number; rule: string; reason: string; wayOut: string }[];
        };
        const want = spec(name).refuse!;
        assert.equal(manifest.refusals.length, want.length, JSON.stringify(manifest.refusals, null, 1));
        for (const w of want) {
          const got = manifest.refusals.find((x) => x.file === w.file && x.line === w.line && x.rule === w.rule);
          assert.ok(got, `refusal ${w.file}:${w.line} [${w.rule}] in ${JSON.stringify(manifest.refusals, null, 1)}`);
          assert.ok(got.reason.includes(w.reason), `'${got.reason}' mentions '${w.reason}'`);
          assert.ok(got.wayOut.length > 40, 'a way out is given');
          assert.ok(r.stderr.includes(`${w.file}:${w.line}: ${got.reason} [${w.rule}]\n  way out: `), r.stderr);
        }
      });
    }
  },
);
