/**
 * Real fix releases of popular npm packages (issue 7), one case each in
 * `cases/`: the versions come from the project's aliased devDependencies,
 * the case has a probe that shows the bug in the old release and not in the
 * new one (checked here, in the same process, every run).
 *
 * A patchable fix: an application with the old release installed runs under
 * the loader (`harness.mjs`), and what it made at start-up (servers,
 * middleware, compiled templates, parsers) is kept in its state. The patch
 * is built from the version bump through the CLI — `livepatch build
 * --package <name>@<new> --new <installed new release> --pid <the process>`,
 * so nothing depends on the network — loaded through the CLI, and the probe
 * must answer as the new release does, in the same process with the same
 * state; `livepatch status` and `livepatch packages` say the copy behaves as
 * the new release. The manifest must name exactly the functions the case
 * lists, and the files left out (tests, bundles) must not cause a refusal.
 *
 * A refused fix: the same build exits 65 naming each file, line and rule
 * the case lists (and nothing else), writes no patch, and the process is
 * unchanged: the probe answers as before and no patch is loaded.
 */

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { LpProcess } from '../support/lp-process.ts';
import { caseFiles, casesDir, makeApps, releaseDir, type CaseApps } from './apps.ts';

const harness = 'test/dependency-fixes/harness.mjs';

interface FixCase {
  readonly package: string;
  readonly old: string;
  readonly new: string;
  readonly advisory: string;
  readonly load: 'require' | 'import';
  readonly expect: {
    readonly patched?: readonly string[];
    readonly leftOut?: readonly string[];
    readonly constants?: readonly string[];
    readonly exports?: readonly string[];
    readonly refuse?: readonly { readonly file: string; readonly line: number; readonly rule: string }[];
  };
}

const cases = await Promise.all(
  caseFiles.map(async (f) => ({
    file: join(casesDir, f),
    spec: (await import(pathToFileURL(join(casesDir, f)).href)).default as FixCase,
  })),
);

interface Manifest {
  functions: { module: string; name: string; status: string }[];
  constants: { module: string; name: string }[];
  exports: { module: string; name: string }[];
  leftOut: { path: string }[];
  refusals: { file: string; line: number; rule: string; reason: string; wayOut: string }[];
  packages: { name: string; from: string; to: string; path: string }[];
}

interface Probe {
  answer: unknown;
  calls: number;
}

/** The case's process: the old release installed in an application under the loader. */
async function start(
  file: string,
  apps: CaseApps,
): Promise<{ p: LpProcess; run: (op: 'setup' | 'probe', side: 'old' | 'new') => Promise<unknown> }> {
  const p = await LpProcess.start(harness, {
    env: { CASE_FILE: file, APP_DIR: apps.app, NEW_DIR: apps.next, LIVEPATCH_ROOT: apps.app, LIVEPATCH_CACHE: '0' },
  });
  let id = 0;
  return {
    p,
    async run(op, side) {
      const n = ++id;
      p.send(JSON.stringify({ id: n, op, side }));
      const r = await p.waitFor((o) => o.id === n, 30_000);
      if ('error' in r) throw new Error(`${op} ${side}: ${String(r.error)}`);
      return r.result;
    },
  };
}

/**
 * Starts the case's process, sets up both releases, checks the probe tells
 * them apart, and builds the patch from the version bump through the CLI.
 */
async function startAndBuild(file: string, c: FixCase) {
  const apps = makeApps(c.package, { [c.package]: c.old }, c.new);
  const { p, run } = await start(file, apps);
  try {
    await run('setup', 'old');
    await run('setup', 'new');
    const before = (await run('probe', 'old')) as Probe;
    const expected = (await run('probe', 'new')) as Probe;
    assert.notDeepEqual(before.answer, expected.answer, 'the probe tells the old release from the new');
    const out = join(apps.tmp, 'fix.mjs');
    const b = await p.cli(
      'build',
      '--package',
      `${c.package}@${c.new}`,
      '--root',
      apps.app,
      '--new',
      releaseDir(c.package, c.new),
      '-o',
      out,
      '--json',
    );
    return { apps, p, run, before, expected, out, b };
  } catch (error) {
    await p.stop();
    apps.remove();
    throw error;
  }
}

function title(c: FixCase): string {
  return `${c.package} ${c.old} -> ${c.new} (${c.advisory.split(',')[0]})`;
}

describe(
  'dependency fixes that patch: the running process answers as the new release, with its state',
  { concurrency: 3 },
  () => {
    for (const { file, spec: c } of cases.filter((x) => x.spec.expect.refuse === undefined)) {
      test(title(c), async () => {
        const { apps, p, run, before, expected, out, b } = await startAndBuild(file, c);
        try {
          assert.equal(b.code, 0, b.stderr);
          const m = JSON.parse(b.stdout) as Manifest;
          const patched = m.functions
            .filter((f) => f.status === 'patched')
            .map((f) => `${f.module} ${f.name}`)
            .sort();
          assert.deepEqual(patched, [...(c.expect.patched ?? [])].sort());
          for (const l of c.expect.leftOut ?? [])
            assert.ok(
              m.leftOut.some((x) => x.path === l),
              `${l} is left out: ${JSON.stringify(m.leftOut)}`,
            );
          assert.deepEqual(
            m.constants.map((x) => `${x.module} ${x.name}`).sort(),
            [...(c.expect.constants ?? [])].sort(),
          );
          assert.deepEqual(m.exports.map((x) => `${x.module} ${x.name}`).sort(), [...(c.expect.exports ?? [])].sort());
          assert.deepEqual(
            m.packages.map((x) => [x.name, x.from, x.to, x.path]),
            [[c.package, c.old, c.new, `node_modules/${c.package}`]],
          );

          const load = await p.cli('load', out, '--wait');
          assert.equal(load.code, 0, load.stderr);
          const after = (await run('probe', 'old')) as Probe;
          assert.deepEqual(after.answer, expected.answer, 'the patched process answers as the new release');
          assert.equal(after.calls, before.calls + 1, 'the same process, with the state it had');

          const status = await p.cli('status');
          assert.match(
            status.stdout,
            new RegExp(
              `package ${c.package} \\(node_modules/${c.package}\\): installed ${c.old.replaceAll('.', '\\.')}, the process behaves as ${c.new.replaceAll('.', '\\.')}\\n`,
            ),
          );
          // the new release is loaded too (for the expected answers), from elsewhere: only the application's copy is patched
          const pkgs = (await p.json('packages', c.package)) as {
            version: string;
            path: string;
            patchedTo: { version: string } | null;
          }[];
          assert.deepEqual(
            pkgs.filter((x) => x.path === `node_modules/${c.package}`).map((x) => [x.version, x.patchedTo?.version]),
            [[c.old, c.new]],
          );
        } finally {
          await p.stop();
          apps.remove();
        }
      });
    }
  },
);

describe(
  'dependency fixes that are refused: file, line and rule named; no patch; the process unchanged',
  { concurrency: 3 },
  () => {
    for (const { file, spec: c } of cases.filter((x) => x.spec.expect.refuse !== undefined)) {
      test(title(c), async () => {
        const { apps, p, run, before, expected, out, b } = await startAndBuild(file, c);
        try {
          assert.equal(b.code, 65, b.stderr);
          assert.equal(existsSync(out), false, 'no patch module is written');
          const m = JSON.parse(b.stdout) as Manifest;
          const got = m.refusals.map((r) => `${r.file}:${r.line} [${r.rule}]`).sort();
          assert.deepEqual(got, c.expect.refuse!.map((r) => `${r.file}:${r.line} [${r.rule}]`).sort());
          for (const r of m.refusals) {
            assert.ok(r.wayOut.length > 40, 'a way out is given');
            assert.ok(b.stderr.includes(`${r.file}:${r.line}: ${r.reason} [${r.rule}]\n  way out: `), b.stderr);
          }

          const after = (await run('probe', 'old')) as Probe;
          assert.deepEqual(after.answer, before.answer, 'the process still answers as the old release');
          const st = (await p.json('status')) as { patches: unknown[]; modules: unknown[] };
          assert.deepEqual([st.patches, st.modules], [[], []], 'no patch is loaded');
        } finally {
          await p.stop();
          apps.remove();
        }
      });
    }
  },
);
