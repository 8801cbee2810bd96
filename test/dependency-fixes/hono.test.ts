/**
 * No patch that silently does nothing (issue 16), on its real case: hono
 * 4.6.4 -> 4.6.5, CVE-2024-48913 — the csrf middleware let a cross-origin
 * POST without Content-Type through.
 *
 * The release as a whole is refused (cases/hono.mjs: its powered-by change
 * cannot be patched), so the operator makes the fix by hand: a copy of 4.6.4
 * with 4.6.5's two csrf files, the same version. Built from that copy, as
 * the issue filed it, the patch's objects were named `dist/middleware/csrf/
 * index.js` — paths from the package's own directory, not the loader's
 * module ids (`hono/dist/...`) — and `livepatch load` said "enabled" while
 * the forged POST still went through.
 *
 * Here: every way to build the fix names the modules as the loader does; a
 * patch none of whose modules the process has (the issue's, built without
 * telling the build where the package is installed) is bad input to a build
 * checked against the process (--pid), fails to load with ENOENT and
 * changes nothing, or loads with --allow-pending and `status`
 * says what it waits for; the right patch refuses the forged POST in the
 * same process, and `load` says which of its modules are patched and which
 * it waits for.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliPath, LpProcess } from '../support/lp-process.ts';
import { runNode } from '../support/node.ts';
import { makeApps, releaseDir } from './apps.ts';

const harness = 'test/dependency-fixes/harness.mjs';
const caseFile = new URL('./cases/hono.mjs', import.meta.url).pathname;
const CSRF = ['dist/middleware/csrf/index.js', 'dist/cjs/middleware/csrf/index.js'];

interface Answer {
  answer: { forged: number; form: number; sameOrigin: number };
  calls: number;
}

/** A patch module without its first line (the versions' labels), its source map (which names the files) and its name. */
const body = (file: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .slice(1)
    .join('\n')
    .replace(/\/\/# sourceMappingURL=.*\n$/, '')
    .replace(/\$lpdefinePatch\(\{ name: "[^"]*", /, '$lpdefinePatch({ ');

test('hono 4.6.4 -> 4.6.5 (CVE-2024-48913): the csrf fix by hand is named as the loader names hono; a patch of modules the process does not have is refused; the right one closes the hole in the running process', async () => {
  const apps = makeApps('hono', { hono: '4.6.4' }, '4.6.5');
  // the operator's fix: a copy of the installed 4.6.4 with 4.6.5's csrf files (the same version)
  const copy = join(apps.tmp, 'hono-4.6.4');
  const fix = join(apps.tmp, 'hono-csrf');
  cpSync(releaseDir('hono', '4.6.4'), copy, { recursive: true, dereference: true });
  cpSync(releaseDir('hono', '4.6.4'), fix, { recursive: true, dereference: true });
  for (const f of CSRF) copyFileSync(join(releaseDir('hono', '4.6.5'), f), join(fix, f));
  const p = await LpProcess.start(harness, {
    env: { CASE_FILE: caseFile, APP_DIR: apps.app, NEW_DIR: apps.next, LIVEPATCH_ROOT: apps.app, LIVEPATCH_CACHE: '0' },
  });
  let id = 0;
  const run = async (op: 'setup' | 'probe', side: 'old' | 'new'): Promise<Answer> => {
    const n = ++id;
    p.send(JSON.stringify({ id: n, op, side }));
    const r = await p.waitFor((o) => o.id === n, 30_000);
    if ('error' in r) throw new Error(`${op} ${side}: ${String(r.error)}`);
    return r.result as Answer;
  };
  const out = (f: string) => join(apps.tmp, f);
  try {
    await run('setup', 'old');
    await run('setup', 'new');
    const before = await run('probe', 'old');
    assert.deepEqual(before.answer, { forged: 200, form: 403, sameOrigin: 200 }, 'the forged POST goes through');
    assert.deepEqual((await run('probe', 'new')).answer, { forged: 403, form: 403, sameOrigin: 200 });

    // the fix from the installed copy, from a copy elsewhere with --root, and as a diff of the installed copy
    const fromInstalled = await p.cli(
      'build',
      '--old',
      join(apps.app, 'node_modules/hono'),
      '--new',
      fix,
      '-o',
      out('a.mjs'),
      '--json',
    );
    assert.equal(fromInstalled.code, 0, fromInstalled.stderr);
    const m = JSON.parse(fromInstalled.stdout) as { functions: { module: string; name: string; status: string }[] };
    assert.deepEqual([...new Set(m.functions.filter((f) => f.status === 'patched').map((f) => f.module))].sort(), [
      'hono/dist/cjs/middleware/csrf/index.js',
      'hono/dist/middleware/csrf/index.js',
    ]);
    assert.doesNotMatch(
      readFileSync(out('a.mjs'), 'utf8'),
      /livepatchPackages/,
      'the same version: no version claimed',
    );
    assert.match(readFileSync(out('a.mjs'), 'utf8'), /name: "hono@4\.6\.4-fix"/);
    const withRoot = await p.cli('build', '--old', copy, '--new', fix, '--root', apps.app, '-o', out('b.mjs'));
    assert.equal(withRoot.code, 0, withRoot.stderr);
    assert.equal(body(out('b.mjs')), body(out('a.mjs')));
    const diff = CSRF.map(
      (f) => spawnSync('diff', ['-u', `hono-4.6.4/${f}`, `hono-csrf/${f}`], { cwd: apps.tmp, encoding: 'utf8' }).stdout,
    ).join('');
    assert.match(diff, /^\+\+\+ hono-csrf\/dist\/middleware\/csrf\/index\.js/m);
    writeFileSync(out('csrf.diff'), diff);
    const fromDiff = await p.cli(
      'build',
      '--diff',
      out('csrf.diff'),
      '-p',
      '1',
      '--root',
      join(apps.app, 'node_modules/hono'),
      '-o',
      out('c.mjs'),
    );
    assert.equal(fromDiff.code, 0, fromDiff.stderr);
    assert.equal(body(out('c.mjs')), body(out('a.mjs')));

    // the build: two directories that do not say where hono is installed, compared as application trees;
    // checked against the process (--pid), it is bad input: the process has no module of those ids
    const checked = await p.cli('build', '--old', copy, '--new', fix, '-o', out('hono-csrf.mjs'));
    assert.equal(checked.code, 66, checked.stderr);
    assert.match(
      checked.stderr,
      /^livepatch build: process \d+ has no module the patch names \(dist\/cjs\/middleware\/csrf\/index\.js, dist\/middleware\/csrf\/index\.js\): none is loaded, and no such module file is under /,
    );
    assert.equal(existsSync(out('hono-csrf.mjs')), false);
    const wrong = await runNode([cliPath, 'build', '--old', copy, '--new', fix, '-o', out('hono-csrf.mjs')]);
    assert.equal(wrong.code, 0, wrong.stderr);
    assert.match(wrong.stdout, /note: .*are both hono@4\.6\.4, compared as application trees.*--root <application>/);
    assert.match(readFileSync(out('hono-csrf.mjs'), 'utf8'), /name: "dist\/middleware\/csrf\/index\.js"/);
    // ...refused at load: ENOENT (2), the object ids it looked for named, nothing changed
    const refused = await p.cli('load', out('hono-csrf.mjs'), '--wait');
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(
      refused.stderr,
      /^livepatch: patch 'hono-csrf' patches no module of this process: none of the modules 'dist\/cjs\/middleware\/csrf\/index\.js', 'dist\/middleware\/csrf\/index\.js' is loaded, and no such module file is under .*app or in a node_modules above it \(loaded, with a similar id: hono\/dist\/middleware\/csrf\/index\.js, .*\).*--allow-pending.* \(ENOENT\)\n$/,
    );
    assert.deepEqual(((await run('probe', 'old')) as Answer).answer, before.answer, 'still open, as before');
    const st = (await p.json('status')) as { patches: unknown[]; modules: unknown[] };
    assert.deepEqual([st.patches, st.modules], [[], []], 'no patch is loaded');
    assert.doesNotMatch((await p.cli('dmesg')).stdout, /hono-csrf/);
    // ...loaded on purpose with --allow-pending: status says it waits for modules the process does not have
    const pending = await p.cli('load', out('hono-csrf.mjs'), '--allow-pending');
    assert.equal(pending.code, 0, pending.stderr);
    assert.match(
      pending.stdout,
      /^ {2}dist\/middleware\/csrf\/index\.js: waiting for a module that is not loaded and has no module file in the application$/m,
    );
    assert.match(pending.stdout, /no module of the patch is loaded: it changes nothing until one loads/);
    const waiting = await p.cli('status');
    assert.match(
      waiting.stdout,
      /^ {2}dist\/cjs\/middleware\/csrf\/index\.js: waiting for a module that is not loaded and has no module file in the application — csrf/m,
    );
    assert.deepEqual((await run('probe', 'old')).answer, before.answer, 'the pending patch changes nothing');
    assert.equal((await p.cli('disable', 'hono-csrf')).code, 0);
    assert.equal((await p.cli('unload', 'hono-csrf')).code, 0);

    // the right patch: the ES module the application imported is patched, its CommonJS twin waited for
    const load = await p.cli('load', out('a.mjs'), '--wait');
    assert.equal(load.code, 0, load.stderr);
    assert.match(load.stdout, /^ {2}hono\/dist\/middleware\/csrf\/index\.js: loaded, patched$/m);
    assert.match(
      load.stdout,
      /^ {2}hono\/dist\/cjs\/middleware\/csrf\/index\.js: not loaded yet: waiting for its module \(patched when it loads\)$/m,
    );
    const after = await run('probe', 'old');
    assert.deepEqual(after.answer, { forged: 403, form: 403, sameOrigin: 200 }, 'the forged POST is refused');
    assert.equal(after.calls, before.calls + 3, 'the same process, with the state it had');
    const status = await p.cli('status');
    assert.match(status.stdout, /^ {2}hono\/dist\/middleware\/csrf\/index\.js: patched — csrf\/csrf2$/m);
    assert.match(
      status.stdout,
      /^ {2}hono\/dist\/cjs\/middleware\/csrf\/index\.js: not loaded yet: waiting for its module/m,
    );

    // the release as a whole: the same module ids, refused for its powered-by change (cases/hono.mjs)
    const release = await p.cli(
      'build',
      '--package',
      'hono@4.6.5',
      '--root',
      apps.app,
      '--new',
      releaseDir('hono', '4.6.5'),
      '-o',
      out('r.mjs'),
      '--json',
    );
    assert.equal(release.code, 65, release.stderr);
    const rm = JSON.parse(release.stdout) as { functions: { module: string }[] };
    assert.ok(rm.functions.length > 0 && rm.functions.every((f) => f.module.startsWith('hono/dist/')), release.stdout);
    assert.ok(rm.functions.some((f) => f.module === 'hono/dist/middleware/csrf/index.js'));
  } finally {
    await p.stop();
    apps.remove();
  }
});
