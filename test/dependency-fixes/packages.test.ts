/**
 * `livepatch build --package` beyond one copy and one source: several
 * installed copies (nested, several versions, one loaded after the patch),
 * the other ways to give the new version (`--old`/`--new` on package
 * directories, a tarball, the registry as `npm pack` reaches it — here a
 * local one, so nothing depends on the network), a CommonJS export added
 * while the patch is on and removed when it is disabled, `livepatch
 * packages`, and bad input.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliPath, LpProcess } from '../support/lp-process.ts';
import { runNode, type RunResult } from '../support/node.ts';
import { caseFiles, makeApps, releaseDir } from './apps.ts';

const harness = 'test/dependency-fixes/harness.mjs';
const here = (f: string) => new URL(f, import.meta.url).pathname;
const lp = (args: string[], env: Record<string, string> = {}): Promise<RunResult> =>
  runNode([cliPath, ...args], { env });

async function start(caseFile: string, app: string, next: string) {
  const p = await LpProcess.start(harness, {
    env: { CASE_FILE: caseFile, APP_DIR: app, NEW_DIR: next, LIVEPATCH_ROOT: app, LIVEPATCH_CACHE: '0' },
  });
  let id = 0;
  const run = async (
    op: 'setup' | 'probe',
    side: 'old' | 'new',
    arg?: string,
  ): Promise<{ answer: Record<string, unknown> }> => {
    const n = ++id;
    p.send(JSON.stringify({ id: n, op, side, arg }));
    const r = await p.waitFor((o) => o.id === n, 30_000);
    if ('error' in r) throw new Error(String(r.error));
    return r.result as { answer: Record<string, unknown> };
  };
  return { p, run };
}

/** A patch module without its first line (the versions' labels) and its source map (which names the files). */
const body = (code: string) =>
  code
    .split('\n')
    .slice(1)
    .join('\n')
    .replace(/\/\/# sourceMappingURL=.*\n$/, '');

test('the corpus: at least 15 real fix releases, patched and refused, over the kinds of code the issue names', () => {
  assert.ok(caseFiles.length >= 15, `${caseFiles.length} cases`);
  const text = (f: string) => readFileSync(here(`cases/${f}`), 'utf8');
  const refused = caseFiles.filter((f) => /\brefuse:/.test(text(f)));
  assert.ok(
    refused.length >= 5 && caseFiles.length - refused.length >= 15,
    `${caseFiles.length - refused.length} patchable, ${refused.length} refused`,
  );
  // each kind of code the issue names, by the case that shows it
  for (const [kind, file, mark] of [
    ['a fix spanning several files', 'qs.mjs', 'qs/lib/stringify.js'],
    ['a prototype method', 'send.mjs', "'send/index.js redirect'"],
    ['a class method', 'follow-redirects.mjs', 'prototype._processResponse'],
    ['a closure made at start-up (middleware)', 'serve-static.mjs', 'createRedirectDirectoryListener/redirect'],
    ['an ES module', 'nanoid.mjs', "load: 'import'"],
    ['a bundled file', 'moment.mjs', '<anonymous>/preprocessRFC2822'],
    ['a changed constant', 'glob-parent.mjs', 'constants:'],
    ['a new CommonJS export', 'ejs.mjs', 'exports:'],
    ['a refused new ES module export', 'node-fetch.mjs', "rule: 'export'"],
  ] as const)
    assert.ok(text(file).includes(mark), `${kind}: ${file}`);
});

test('several copies: each old copy on the release line is patched under its own module ids, one loaded after the patch too; a current copy is left', async () => {
  const apps = makeApps(
    'qs',
    {
      qs: '6.10.2',
      'lib-a/node_modules/qs': '6.10.1',
      'lib-b/node_modules/qs': '6.10.3',
      'lib-c/node_modules/qs': '6.10.2',
    },
    '6.10.3',
  );
  const { p, run } = await start(here('copies-case.mjs'), apps.app, apps.next);
  try {
    const before = await run('probe', 'old');
    assert.deepEqual(before.answer, { top: true, nested: true });
    const out = join(apps.tmp, 'qs.mjs');
    const b = await p.cli(
      'build',
      '--package',
      'qs@6.10.3',
      '--root',
      apps.app,
      '--new',
      releaseDir('qs', '6.10.3'),
      '-o',
      out,
    );
    assert.equal(b.code, 0, b.stderr);
    assert.match(b.stdout, /^ {2}node_modules\/lib-a\/node_modules\/qs: 6\.10\.1 → 6\.10\.3$/m);
    assert.match(b.stdout, /^ {2}node_modules\/lib-b\/node_modules\/qs: 6\.10\.3 \(already 6\.10\.3\)$/m);
    assert.match(b.stdout, /^ {2}node_modules\/lib-c\/node_modules\/qs: 6\.10\.2 → 6\.10\.3$/m);
    assert.match(b.stdout, /^ {2}node_modules\/qs: 6\.10\.2 → 6\.10\.3$/m);
    const m = JSON.parse(readFileSync(join(apps.tmp, 'qs.manifest.json'), 'utf8')) as {
      functions: { module: string; status: string }[];
      packages: { path: string; from: string }[];
    };
    const modules = new Set(m.functions.filter((f) => f.status === 'patched').map((f) => f.module));
    for (const id of ['qs/lib/parse.js', 'lib-a/node_modules/qs/lib/parse.js', 'lib-c/node_modules/qs/lib/parse.js'])
      assert.ok(modules.has(id), `${id} in ${[...modules].join(', ')}`);
    assert.deepEqual(
      m.packages.map((x) => [x.path, x.from]),
      [
        ['node_modules/lib-a/node_modules/qs', '6.10.1'],
        ['node_modules/lib-c/node_modules/qs', '6.10.2'],
        ['node_modules/qs', '6.10.2'],
      ],
    );

    const load = await p.cli('load', out, '--wait');
    assert.equal(load.code, 0, load.stderr);
    assert.match(load.stdout, /loaded patch 'qs@6\.10\.1\+6\.10\.2-to-6\.10\.3'/);
    // the copy loaded after the patch is patched as it loads
    assert.deepEqual((await run('probe', 'old', 'late')).answer, { top: false, nested: false, late: false });

    const st = await p.cli('status');
    assert.match(
      st.stdout,
      /package qs \(node_modules\/lib-a\/node_modules\/qs\): installed 6\.10\.1, the process behaves as 6\.10\.3/,
    );
    const table = await p.cli('packages', 'qs');
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^NAME +VERSION +BEHAVES AS +PATH +MODULES$/m);
    assert.match(
      table.stdout,
      /^qs +6\.10\.1 +6\.10\.3 \(qs@6\.10\.1\+6\.10\.2-to-6\.10\.3\) +node_modules\/lib-a\/node_modules\/qs +\d+: lib-a\/node_modules\/qs\//m,
    );
    assert.match(
      table.stdout,
      /^qs +6\.10\.2 +6\.10\.3 \(qs@6\.10\.1\+6\.10\.2-to-6\.10\.3\) +node_modules\/qs +\d+: qs\//m,
    );
  } finally {
    await p.stop();
    apps.remove();
  }
});

test('"behaves as" the new release only while every changed module the process loaded is patched', async () => {
  const apps = makeApps('qs', { qs: '6.10.2' }, '6.10.3');
  const { p, run } = await start(here('cases/qs.mjs'), apps.app, apps.next);
  try {
    await run('setup', 'old');
    await run('probe', 'old');
    const out = join(apps.tmp, 'qs.mjs');
    const b = await p.cli(
      'build',
      '--package',
      'qs@6.10.3',
      '--root',
      apps.app,
      '--new',
      releaseDir('qs', '6.10.3'),
      '-o',
      out,
    );
    assert.equal(b.code, 0, b.stderr);
    const code = readFileSync(out, 'utf8');
    // the patch names the files the release changes, by their path in the package
    const bumps = /export const livepatchPackages = (.*);\n/.exec(code);
    const changed = (JSON.parse(bumps![1]!) as { changed: string[] }[])[0]!.changed;
    assert.ok(changed.includes('lib/parse.js') && changed.includes('lib/stringify.js'), changed.join(', '));
    assert.ok(changed.includes('dist/qs.js'), 'a changed file left out is named too');
    // a patch whose lib/stringify.js object has another module's id: lib/parse.js is patched, lib/stringify.js not
    const doctored = join(apps.tmp, 'qs-doctored.mjs');
    writeFileSync(
      doctored,
      code.replace('$lpobjects.push({ name: "qs/lib/stringify.js"', '$lpobjects.push({ name: "lib/stringify.js"'),
    );
    const load = await p.cli('load', doctored, '--wait');
    assert.equal(load.code, 0, load.stderr);
    assert.match(
      load.stdout,
      /^ {2}lib\/stringify\.js: waiting for a module that is not loaded and has no module file/m,
    );
    const st = await p.cli('status');
    assert.doesNotMatch(st.stdout, /behaves as/);
    assert.match(
      st.stdout,
      /^ {2}package qs \(node_modules\/qs\): installed 6\.10\.2; not 6\.10\.3: the patch does not patch qs\/lib\/stringify\.js, which the release changes and the process has loaded$/m,
    );
    const pkgs = (await p.json('packages', 'qs')) as { path: string; patchedTo: unknown }[];
    assert.deepEqual(
      pkgs.filter((x) => x.path === 'node_modules/qs').map((x) => x.patchedTo),
      [null],
    );
    // the patch as built: every changed module loaded is patched
    assert.equal((await p.cli('disable', 'qs@6.10.2-to-6.10.3')).code, 0);
    for (let i = 0; i < 50 && ((await p.json('status')) as { transition: unknown }).transition !== null; i++)
      await new Promise((r) => setTimeout(r, 100));
    assert.equal((await p.cli('unload', 'qs@6.10.2-to-6.10.3')).code, 0);
    assert.equal((await p.cli('load', out, '--wait')).code, 0);
    assert.match(
      (await p.cli('status')).stdout,
      /^ {2}package qs \(node_modules\/qs\): installed 6\.10\.2, the process behaves as 6\.10\.3$/m,
    );
  } finally {
    await p.stop();
    apps.remove();
  }
});

test('a new CommonJS export is added while the patch is on, and removed when it is disabled', async () => {
  const apps = makeApps('ejs', { ejs: '3.1.6' }, '3.1.7');
  const { p, run } = await start(here('ejs-export-case.mjs'), apps.app, apps.next);
  try {
    const old = (await run('probe', 'old')).answer;
    assert.deepEqual(old, { export: 'undefined', out: '1', pwned: true });
    const out = join(apps.tmp, 'ejs.mjs');
    const b = await p.cli(
      'build',
      '--package',
      'ejs@3.1.7',
      '--root',
      apps.app,
      '--new',
      releaseDir('ejs', '3.1.7'),
      '-o',
      out,
    );
    assert.equal(b.code, 0, b.stderr);
    assert.match(
      b.stdout,
      /new export +node_modules\/ejs\/lib\/utils\.js:194 exports\.createNullProtoObjWherePossible/,
    );
    assert.equal((await p.cli('load', out, '--wait')).code, 0);
    assert.deepEqual((await run('probe', 'old')).answer, {
      export: 'function',
      out: 'outputFunctionName is not a valid JS identifier.',
      pwned: false,
    });
    const d = await p.cli('disable', 'ejs@3.1.6-to-3.1.7');
    assert.equal(d.code, 0, d.stderr);
    for (let i = 0; i < 50 && ((await p.json('status')) as { transition: unknown }).transition !== null; i++)
      await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual((await run('probe', 'old')).answer, old, 'disabled: the export is gone and the old code runs');
    assert.doesNotMatch((await p.cli('status')).stdout, /behaves as/);
  } finally {
    await p.stop();
    apps.remove();
  }
});

test('the same patch from --package, from --old/--new on the package directories, and from a tarball', async () => {
  const apps = makeApps('cookie', { cookie: '0.6.0' }, '0.7.0');
  try {
    const viaPackage = join(apps.tmp, 'a.mjs');
    const r1 = await lp([
      'build',
      '--package',
      'cookie@0.7.0',
      '--root',
      apps.app,
      '--new',
      releaseDir('cookie', '0.7.0'),
      '-o',
      viaPackage,
    ]);
    assert.equal(r1.code, 0, r1.stderr);
    // two package directories: the installed copy (inside node_modules: its application is found) and the new release
    const viaDirs = join(apps.tmp, 'b.mjs');
    const r2 = await lp([
      'build',
      '--old',
      join(apps.app, 'node_modules/cookie'),
      '--new',
      releaseDir('cookie', '0.7.0'),
      '-o',
      viaDirs,
    ]);
    assert.equal(r2.code, 0, r2.stderr);
    assert.equal(body(readFileSync(viaDirs, 'utf8')), body(readFileSync(viaPackage, 'utf8')));
    // npm pack of the release directory (offline), given as --new
    const packed = spawnSync(
      'npm',
      ['pack', releaseDir('cookie', '0.7.0'), '--pack-destination', apps.tmp, '--ignore-scripts', '--loglevel=error'],
      { encoding: 'utf8' },
    );
    assert.equal(packed.status, 0, packed.stderr);
    const tgz = join(
      apps.tmp,
      readdirSync(apps.tmp).find((f) => f.endsWith('.tgz'))!,
    );
    const viaTarball = join(apps.tmp, 'c.mjs');
    const r3 = await lp(['build', '--package', 'cookie@0.7.0', '--root', apps.app, '--new', tgz, '-o', viaTarball]);
    assert.equal(r3.code, 0, r3.stderr);
    assert.match(r3.stdout, /^cookie: 0\.7\.0 from .*cookie-0\.7\.0\.tgz$/m);
    assert.equal(body(readFileSync(viaTarball, 'utf8')), body(readFileSync(viaPackage, 'utf8')));
    assert.match(readFileSync(viaPackage, 'utf8'), /name: "cookie@0\.6\.0-to-0\.7\.0"/);
  } finally {
    apps.remove();
  }
});

test('the registry, as npm pack reaches it (a local one): the release is fetched; an unknown version or package is bad input', async () => {
  const apps = makeApps('word-wrap', { 'word-wrap': '1.2.3' }, '1.2.4');
  const packed = spawnSync(
    'npm',
    ['pack', releaseDir('word-wrap', '1.2.4'), '--pack-destination', apps.tmp, '--ignore-scripts', '--loglevel=error'],
    { encoding: 'utf8' },
  );
  assert.equal(packed.status, 0, packed.stderr);
  const tgz = readFileSync(join(apps.tmp, 'word-wrap-1.2.4.tgz'));
  const served: string[] = [];
  const server = createServer((req, res) => {
    served.push(req.url!);
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    if (req.url === '/word-wrap') {
      const dist = {
        tarball: `${base}/word-wrap/-/word-wrap-1.2.4.tgz`,
        shasum: createHash('sha1').update(tgz).digest('hex'),
        integrity: `sha512-${createHash('sha512').update(tgz).digest('base64')}`,
      };
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          name: 'word-wrap',
          'dist-tags': { latest: '1.2.4' },
          versions: { '1.2.4': { name: 'word-wrap', version: '1.2.4', dist } },
        }),
      );
    } else if (req.url === '/word-wrap/-/word-wrap-1.2.4.tgz') res.end(tgz);
    else {
      res.statusCode = 404;
      res.end('{"error":"Not found"}');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const env = {
    npm_config_registry: `http://127.0.0.1:${(server.address() as { port: number }).port}/`,
    npm_config_cache: join(apps.tmp, 'npm-cache'),
    npm_config_fetch_retries: '0',
    npm_config_update_notifier: 'false',
  };
  try {
    const out = join(apps.tmp, 'ww.mjs');
    const ok = await lp(['build', '--package', 'word-wrap@1.2.4', '--root', apps.app, '-o', out], env);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^word-wrap: 1\.2\.4 from npm:word-wrap@1\.2\.4$/m);
    assert.ok(served.includes('/word-wrap/-/word-wrap-1.2.4.tgz'), served.join(' '));
    assert.match(readFileSync(out, 'utf8'), /name: "word-wrap@1\.2\.3-to-1\.2\.4"/);

    const noVersion = await lp(
      ['build', '--package', 'word-wrap@9.9.9', '--root', apps.app, '-o', join(apps.tmp, 'x.mjs')],
      env,
    );
    assert.equal(noVersion.code, 66, noVersion.stderr);
    assert.match(
      noVersion.stderr,
      /livepatch build: npm cannot fetch word-wrap@9\.9\.9: .*(No matching version|ETARGET|9\.9\.9)/,
    );
    const noPackage = await lp(
      ['build', '--package', 'word-wrap-nope@1.0.0', '--root', apps.app, '-o', join(apps.tmp, 'x.mjs')],
      env,
    );
    assert.equal(noPackage.code, 66, noPackage.stderr);
    assert.match(noPackage.stderr, /word-wrap-nope is not installed in /);
    assert.equal(existsSync(join(apps.tmp, 'x.mjs')), false);
  } finally {
    server.close();
    apps.remove();
  }
});

test('bad input: clear errors and exit codes, nothing written', async () => {
  const apps = makeApps('minimist', { minimist: '1.2.5' }, '1.2.6');
  const tmp = mkdtempSync(join(tmpdir(), 'lp-bad-'));
  const out = join(tmp, 'x.mjs');
  const build = (...args: string[]) => lp(['build', ...args, '-o', out]);
  try {
    writeFileSync(join(tmp, 'not.tgz'), 'this is not a tarball\n');
    const cases: [string[], number, RegExp][] = [
      [
        ['--package', 'left-pad@1.3.0', '--root', apps.app, '--new', releaseDir('minimist', '1.2.6')],
        66,
        /left-pad is not installed in .*app \(no node_modules\/left-pad there or below\)/,
      ],
      [
        ['--package', 'minimist@1.2.6', '--root', apps.app, '--new', join(tmp, 'not.tgz')],
        66,
        /not\.tgz is not a package tarball: not a gzip file/,
      ],
      [
        ['--package', 'minimist@1.2.6', '--root', apps.app, '--new', releaseDir('qs', '6.10.3')],
        66,
        /is the package 'qs', not 'minimist'/,
      ],
      [
        ['--package', 'minimist@1.2.7', '--root', apps.app, '--new', releaseDir('minimist', '1.2.6')],
        66,
        /is minimist@1\.2\.6, not the version asked for \(1\.2\.7\)/,
      ],
      [
        ['--package', 'minimist@1.2.6', '--root', join(tmp, 'nowhere'), '--new', releaseDir('minimist', '1.2.6')],
        66,
        /the application root .*nowhere does not exist/,
      ],
      [
        ['--package', 'minimist', '--root', apps.app],
        64,
        /--package minimist needs the fixed version \(minimist@<version>\) or --new/,
      ],
      [
        ['--package', 'minimist@1.2.5', '--root', apps.app, '--new', releaseDir('minimist', '1.2.5')],
        1,
        /no installed copy of minimist needs 1\.2\.5: nothing to patch/,
      ],
      [['--old', join(apps.app, 'node_modules/minimist'), '--new', join(tmp, 'not.tgz')], 66, /not a package tarball/],
    ];
    for (const [args, code, message] of cases) {
      const r = await build(...args);
      assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.equal(existsSync(out), false);
    }
  } finally {
    apps.remove();
    rmSync(tmp, { recursive: true, force: true });
  }
});
