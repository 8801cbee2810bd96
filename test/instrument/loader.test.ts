/**
 * The loader in a real process: every format, workers, filters, files that do
 * not parse, the same file loaded twice, and the transform cache.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInstrumented, runNode } from '../support/node.ts';

const app = 'test/instrument/fixtures/app/main.mjs';

function freshCache(): string {
  return mkdtempSync(join(tmpdir(), 'lp-cache-'));
}

test('ESM, CommonJS, workers, filters, parse failures and dual instances', async () => {
  const cache = freshCache();
  try {
    const r = await runInstrumented([app], { env: { LIVEPATCH_CACHE_DIR: cache, LIVEPATCH_EXCLUDE: '**/skipped/**' } });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.twice, 42);
    assert.equal(out.broken, 'SyntaxError');
    assert.equal(out.skip, 'skip');
    assert.equal(out.vendored, 42);
    assert.equal(out.detected, 'esm');
    assert.deepEqual(out.main, [
      'broken-wrapper.cjs',
      'lib.cjs',
      'main.mjs',
      'vendor/cjs-pkg/index.js',
      'vendor/esm-in-js/index.js',
    ]);
    assert.deepEqual(out.dual, ['dual-esm', 'dual']);
    assert.equal(out.keys, 2);
    assert.deepEqual(out.worker, { armed: ['lib.cjs', 'worker.mjs'], twice: 4 });
    assert.equal(out.tostring, 'function twice(x) { return x * 2; }');
    const warnings = r.stderr
      .split('\n')
      .filter((l) => l.includes('LIVEPATCH_NOT_INSTRUMENTED') || l.includes('is not instrumented'));
    assert.equal(warnings.length, 1, r.stderr);
    assert.match(warnings[0]!, /test\/instrument\/fixtures\/app\/broken\.cjs is not instrumented: .*\(1:\d+\)/);
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
});

test('a warm start reads the cache; a lost plan is rebuilt from the unchanged file', async () => {
  const cache = freshCache();
  try {
    const env = { LIVEPATCH_CACHE_DIR: cache };
    const cold = await runInstrumented([app], { env });
    assert.equal(cold.code, 0, cold.stderr);
    const files = readdirSync(cache);
    const entry = files.find(
      (f) => f.endsWith('.lpc') && readFileSync(join(cache, f), 'utf8').includes('function twice'),
    );
    assert.ok(entry, 'lib.cjs is cached');
    // Prove the warm start uses the cached code: change what the cached twice() returns.
    const path = join(cache, entry);
    const text = readFileSync(path);
    const headerEnd = text.indexOf(10);
    const header = JSON.parse(text.toString('utf8', 0, headerEnd)) as { b: number; c: number };
    // the entry holds the source it was made from, then the code
    assert.equal(
      text.toString('utf8', headerEnd + 1, headerEnd + 1 + header.b),
      readFileSync('test/instrument/fixtures/app/lib.cjs', 'utf8'),
    );
    const codeEnd = headerEnd + 1 + header.b + header.c;
    // ...and drop its plan (what follows the code): toString() must still find what was inserted.
    const codeAt = headerEnd + 1 + header.b;
    const code = text.toString('utf8', codeAt, codeEnd).replace('return x * 2;', 'return x * 3;');
    const newHeader = JSON.stringify({ ...header, c: Buffer.byteLength(code) }) + '\n';
    writeFileSync(
      path,
      Buffer.concat([Buffer.from(newHeader), text.subarray(headerEnd + 1, codeAt), Buffer.from(code)]),
    );
    const warm = await runInstrumented([app], { env });
    assert.equal(warm.code, 0, warm.stderr);
    const out = JSON.parse(warm.stdout);
    assert.equal(out.twice, 63);
    assert.equal(out.tostring, 'function twice(x) { return x * 3; }');
    // an undeclared .js with ES module syntax: its cache entry remembers it was read as a module
    const esmEntry = files.find((f) => f.endsWith('.lpc') && readFileSync(join(cache, f), 'utf8').includes('detected'));
    assert.ok(esmEntry, 'esm-in-js is cached');
    assert.equal(JSON.parse(readFileSync(join(cache, esmEntry), 'utf8').split('\n', 1)[0]!).s, 'module');
    assert.equal(out.detected, 'esm');
    assert.deepEqual(out.main, JSON.parse(cold.stdout).main);
    assert.equal(warm.stderr.split('\n').filter((l) => l.includes('is not instrumented')).length, 1, warm.stderr);
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
});

test("V8's compile cache is on under the loader (instrumented code is not compiled again at every start), and NODE_DISABLE_COMPILE_CACHE turns it off", async () => {
  const dir = freshCache();
  try {
    const probe = [
      '--input-type=module',
      '-e',
      "import { getCompileCacheDir } from 'node:module'; process.stdout.write(String(getCompileCacheDir()))",
    ];
    // the default directory is under the user's cache directory, which XDG_CACHE_HOME chooses (never the
    // shared <tmpdir>/node-compile-cache: test/security/dirs.test.ts)
    const env = { XDG_CACHE_HOME: dir, NODE_COMPILE_CACHE: undefined };
    const plain = await runNode(probe, { env });
    assert.equal(plain.stdout, 'undefined', 'plain Node leaves it off: the loader turns it on');
    const on = await runInstrumented(probe, { env });
    assert.equal(on.code, 0, on.stderr);
    assert.ok(on.stdout.startsWith(dir), on.stdout);
    const off = await runInstrumented(probe, { env: { ...env, NODE_DISABLE_COMPILE_CACHE: '1' } });
    assert.equal(off.code, 0, off.stderr);
    assert.equal(off.stdout, 'undefined');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a warm start declares last run's slots ahead in one script; a stale or broken manifest only costs time", async () => {
  const cache = freshCache();
  try {
    const env = { LIVEPATCH_CACHE_DIR: cache };
    const cold = await runInstrumented([app], { env });
    assert.equal(cold.code, 0, cold.stderr);
    const first = JSON.parse(cold.stdout);
    assert.ok(first.fresh >= 5, `the first run declares module by module (${first.fresh})`);
    const manifest = readdirSync(cache).find((f) => /^slots-[0-9a-f]+\.json$/.test(f));
    assert.ok(manifest, 'the run leaves a manifest of its modules');
    const path = join(cache, manifest);
    const entries = JSON.parse(readFileSync(path, 'utf8')) as [string, number][];
    assert.ok(entries.length >= 5 && entries.every(([k, n]) => /^[0-9a-z]{7}$/.test(k) && n >= 0));

    const warm = await runInstrumented([app], { env });
    assert.equal(warm.code, 0, warm.stderr);
    const second = JSON.parse(warm.stdout);
    assert.equal(second.fresh, 0, 'every module of the main thread was declared ahead');
    assert.deepEqual({ ...second, fresh: 0 }, { ...first, fresh: 0 }, 'the program sees no difference');

    // counts too small (a module gained functions): the missing slots are declared when it loads
    writeFileSync(path, JSON.stringify(entries.map(([k]) => [k, 0])));
    const grown = await runInstrumented([app], { env });
    assert.equal(grown.code, 0, grown.stderr);
    assert.deepEqual({ ...JSON.parse(grown.stdout), fresh: 0 }, { ...first, fresh: 0 });
    // not JSON at all: ignored
    writeFileSync(path, 'not json');
    const broken = await runInstrumented([app], { env });
    assert.equal(broken.code, 0, broken.stderr);
    assert.deepEqual({ ...JSON.parse(broken.stdout), fresh: 0 }, { ...first, fresh: 0 });
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
});

test('a cache entry serves only the very bytes it was made from: a file changed to another text of the same length misses', async () => {
  const cache = freshCache();
  const dir = mkdtempSync(join(tmpdir(), 'lp-same-length-'));
  try {
    const env = { LIVEPATCH_CACHE_DIR: cache };
    const lib = join(dir, 'lib.cjs');
    writeFileSync(join(dir, 'main.cjs'), "process.stdout.write(require('./lib.cjs').which());\n");
    writeFileSync(lib, "exports.which = function () { return 'A'; };\n");
    assert.equal((await runInstrumented([join(dir, 'main.cjs')], { env })).stdout, 'A');
    assert.equal((await runInstrumented([join(dir, 'main.cjs')], { env })).stdout, 'A'); // warm
    writeFileSync(lib, "exports.which = function () { return 'B'; };\n"); // same path, same length
    const changed = await runInstrumented([join(dir, 'main.cjs')], { env });
    assert.equal(changed.code, 0, changed.stderr);
    assert.equal(changed.stdout, 'B');
    writeFileSync(lib, "exports.which = function () { return 'A'; };\n"); // and back: its entry was replaced
    assert.equal((await runInstrumented([join(dir, 'main.cjs')], { env })).stdout, 'A');
  } finally {
    rmSync(cache, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  }
});
