/**
 * `livepatch build` through the real CLI: a diff applied to the running
 * tree, a git revision as the old version, the exact-code check (at load,
 * and with --pid before writing), source maps, and bad input.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cliPath } from '../support/lp-process.ts';
import { repoRoot, runNode, type RunResult } from '../support/node.ts';
import { startCase } from '../generator-corpus/case-process.ts';
import { transform } from '../../src/instrument/transform.ts';

const corpus = fileURLToPath(new URL('../generator-corpus/fixtures/', import.meta.url));
const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
const lp = (...args: string[]): Promise<RunResult> => runNode([cliPath, ...args]);

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'lp-build-'));
}

test('--diff: a unified diff applied to the running tree gives a patch that fixes the running process', async () => {
  const dir = tmp();
  try {
    const bounds = join(corpus, '01-bounds-check');
    cpSync(join(bounds, 'old'), join(dir, 'app'), { recursive: true });
    // a diff as `git diff --no-index` writes it: a/old/..., b/new/... (two components to strip)
    const diff = spawnSync('git', ['diff', '--no-index', 'old', 'new'], { cwd: bounds, encoding: 'utf8' }).stdout;
    assert.match(diff, /^--- a\/old\/src\/list\.mjs$/m);
    writeFileSync(join(dir, 'fix.diff'), diff);
    const r = await lp(
      'build',
      '--diff',
      join(dir, 'fix.diff'),
      '-p',
      '2',
      '--root',
      join(dir, 'app'),
      '-o',
      join(dir, 'fix.mjs'),
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /built .*fix\.mjs: 1 function\(s\) in 1 module\(s\)/);
    assert.match(r.stdout, /patched +src\/list\.mjs:2 page/);
    // the running tree itself is not touched
    assert.equal(
      readFileSync(join(dir, 'app/src/list.mjs'), 'utf8'),
      readFileSync(join(bounds, 'old/src/list.mjs'), 'utf8'),
    );
    const manifest = JSON.parse(readFileSync(join(dir, 'fix.manifest.json'), 'utf8')) as {
      functions: { name: string; oldHash: string }[];
    };
    assert.deepEqual(
      manifest.functions.map((f) => f.name),
      ['page'],
    );

    const { p, run } = await startCase(bounds, { LIVEPATCH_ROOT: join(dir, 'app'), OLD_DIR: join(dir, 'app') });
    try {
      const before = await run('check', 'old');
      const expected = await run('check', 'new');
      assert.notDeepEqual(before, expected);
      const load = await p.cli('load', join(dir, 'fix.mjs'));
      assert.equal(load.code, 0, load.stderr);
      assert.match(load.stdout, /loaded patch 'fix': enabled/);
      assert.deepEqual(await run('check', 'old'), expected);
    } finally {
      await p.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--old <git revision>: read from the repository without a checkout; the patch expects the hashes the loader gives that revision', async () => {
  const dir = tmp();
  try {
    const rel = 'examples/greet/greet.mjs';
    const atHead = spawnSync('git', ['show', `HEAD:${rel}`], { cwd: repoRoot, encoding: 'utf8' });
    assert.equal(atHead.status, 0, atHead.stderr);
    // the new version: HEAD's tree with a changed function
    cpSync(join(repoRoot, 'examples/greet'), join(dir, 'greet'), { recursive: true });
    writeFileSync(
      join(dir, 'greet/greet.mjs'),
      atHead.stdout.replace(
        /export function greet\(([^)]*)\) \{/,
        "export function greet($1) {\n  if (!name) return 'Hello, stranger!';",
      ),
    );
    const r = await lp(
      'build',
      '--old',
      'HEAD',
      '--new',
      join(dir, 'greet'),
      '--root',
      join(repoRoot, 'examples/greet'),
      '-o',
      join(dir, 'out.mjs'),
      '--json',
    );
    assert.equal(r.code, 0, r.stderr);
    const manifest = JSON.parse(r.stdout) as {
      old: string;
      functions: { name: string; oldHash: string; status: string }[];
    };
    assert.equal(manifest.old, 'git:HEAD');
    const want = transform({ source: atHead.stdout, moduleId: 'greet.mjs', lang: 'js', sourceType: 'module' });
    assert.ok(want.ok);
    const greet = want.symbols.symbols.find((s) => s.name === 'greet')!;
    assert.deepEqual(
      manifest.functions.map((f) => [f.name, f.status, f.oldHash]),
      [['greet', 'patched', greet.hash]],
    );
    assert.match(readFileSync(join(dir, 'out.mjs'), 'utf8'), new RegExp(`oldName: "greet", oldHash: "${greet.hash}"`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the exact-code check: a patch built from another version of the code is refused at load, naming the function; nothing is loaded', async () => {
  const dir = tmp();
  try {
    const stack = join(fixtures, 'stack');
    const b = await lp('build', '--old', join(stack, 'old'), '--new', join(stack, 'new'), '-o', join(dir, 'fix.mjs'));
    assert.equal(b.code, 0, b.stderr);
    // the process runs a copy of calc.ts that differs from the old version
    const drift = join(fixtures, 'drift');
    const { p, run } = await startCase(stack, { LIVEPATCH_ROOT: drift, OLD_DIR: drift });
    try {
      await run('check', 'old');
      const load = await p.cli('load', join(dir, 'fix.mjs'));
      assert.equal(load.code, 22, load.stderr); // EINVAL
      assert.match(
        load.stderr,
        /symbol 'ratio' in object 'src\/calc\.ts' has hash [0-9a-f]{16}, patch expects [0-9a-f]{16}: the patch was built for different code/,
      );
      const list = (await p.json('list')) as { patches: unknown[] };
      assert.deepEqual(list.patches, []);
      // --pid checks the same before writing anything
      const checked = await runNode(
        [
          cliPath,
          'build',
          '--old',
          join(stack, 'old'),
          '--new',
          join(stack, 'new'),
          '-o',
          join(dir, 'checked.mjs'),
          '--pid',
          String(p.pid),
        ],
        { env: p.env },
      );
      assert.equal(checked.code, 66, checked.stderr);
      assert.match(
        checked.stderr,
        new RegExp(`the old version is not what process ${p.pid} runs: 'ratio' in src/calc\\.ts has hash`),
      );
      assert.equal(existsSync(join(dir, 'checked.mjs')), false);
    } finally {
      await p.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("source maps: an exception thrown by patched code points at the new source's line and column", async () => {
  const dir = tmp();
  try {
    const stack = join(fixtures, 'stack');
    const b = await lp('build', '--old', join(stack, 'old'), '--new', join(stack, 'new'), '-o', join(dir, 'fix.mjs'));
    assert.equal(b.code, 0, b.stderr);
    const code = readFileSync(join(dir, 'fix.mjs'), 'utf8');
    // without source maps, a comment above the replacement says where it comes from
    assert.match(code, /\/\/ src\/calc\.ts:2 ratio \(running: line 1, hash [0-9a-f]{16}\)/);
    assert.doesNotMatch(code, /: number/, 'types are stripped');
    const { p, run } = await startCase(stack, { LIVEPATCH_ROOT: join(stack, 'old') }, ['--enable-source-maps']);
    try {
      await p.cli('load', join(dir, 'fix.mjs')).then((r) => assert.equal(r.code, 0, r.stderr));
      const r = (await run('check', 'old')) as { error: string; frame: string };
      assert.equal(r.error, 'ratio(1, 0)');
      // `throw new RangeError(...)` is on line 4, column 11 of new/src/calc.ts
      assert.equal(r.frame, `at ratio (${join(stack, 'new/src/calc.ts')}:4:11)`);
    } finally {
      await p.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('nothing changed: exit 1 and no file', async () => {
  const dir = tmp();
  try {
    const old = join(corpus, '01-bounds-check/old');
    const r = await lp('build', '--old', old, '--new', old, '-o', join(dir, 'x.mjs'));
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /no function changed .*: nothing to patch/);
    assert.equal(existsSync(join(dir, 'x.mjs')), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad input: a clear message and a non-zero exit code, never a stack trace', async () => {
  const dir = tmp();
  try {
    const app = join(corpus, '01-bounds-check/old');
    const cases: [string[], number, RegExp][] = [
      [['build', '--old', app], 64, /build needs --old and --new/],
      [['build', '--diff', 'x.diff', '--old', app, '--new', app], 64, /either --diff or --old and --new/],
      [
        ['build', '--old', 'no-such-rev-xyz', '--new', app, '--root', repoRoot],
        66,
        /'no-such-rev-xyz' is neither a directory nor a revision of the git repository/,
      ],
      [
        ['build', '--old', 'HEAD', '--new', app, '--root', tmpdir()],
        66,
        /'HEAD' is not a directory, and .* is not in a git repository/,
      ],
      [['build', '--diff', join(dir, 'missing.diff'), '--root', app], 66, /cannot read the diff/],
      [
        ['build', '--diff', join(dir, 'stale.diff'), '--root', app],
        66,
        /stale\.diff:3: hunk #1 does not apply to src\/list\.mjs \(expected at line 2: 'export function page\(items, index\) \{'\); was the diff made against another version\?/,
      ],
      [
        ['build', '--diff', join(dir, 'other.diff'), '--root', app],
        66,
        /other\.diff: src\/nope\.mjs does not exist in/,
      ],
      [['build', '--diff', join(dir, 'text.diff'), '--root', app], 66, /no file changes found/],
      [
        ['build', '--old', join(app, 'src/list.mjs'), '--new', app],
        66,
        /is a file; --old and --new take a directory or a git revision/,
      ],
    ];
    writeFileSync(
      join(dir, 'stale.diff'),
      '--- a/src/list.mjs\n+++ b/src/list.mjs\n@@ -2,2 +2,2 @@\n export function page(items, index) {\n-  return items;\n+  return items.slice();\n',
    );
    writeFileSync(join(dir, 'other.diff'), '--- a/src/nope.mjs\n+++ b/src/nope.mjs\n@@ -1 +1 @@\n-a\n+b\n');
    writeFileSync(join(dir, 'text.diff'), 'just some text\n');
    for (const [args, code, message] of cases) {
      const r = await lp(...args);
      assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
