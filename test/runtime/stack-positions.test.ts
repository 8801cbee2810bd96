/**
 * Stack positions under the loader are plain Node's (issue 15): the line and
 * column of every frame, in `error.stack` and in the call sites a program's
 * own `Error.prepareStackTrace` receives, for every kind of function, in ES
 * modules, CommonJS and TypeScript, with source maps on and off. Each
 * fixture runs plain and under the loader and prints what it saw; the two
 * must be equal.
 *
 * Node's own frames (`node:…`) are left out of the comparison: `--import`
 * itself, whatever it imports, runs a CommonJS entry point through the ES
 * module loader and a worker's entry through other internal functions, so
 * those frames differ with an empty `--import` too.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInstrumented, runNode, type RunResult } from '../support/node.ts';

const F = 'test/runtime/fixtures/stack-positions/';
const env = { LIVEPATCH_CONTROL: '0' };
const MAPS = '--enable-source-maps';

interface Report {
  readonly armed: boolean;
  readonly cases: Record<string, { stack: string[]; sites: { fileName: string | null }[] | string }>;
}

const NODE_FRAME = /^ {4}at (?:async )?(?:[^\n]* \()?node:/;

function programFrames(report: Report): Report['cases'] {
  const out: Report['cases'] = {};
  for (const [name, c] of Object.entries(report.cases)) {
    out[name] = {
      stack: c.stack.filter((l) => !NODE_FRAME.test(l)),
      sites: typeof c.sites === 'string' ? c.sites : c.sites.filter((s) => !String(s.fileName).startsWith('node:')),
    };
  }
  return out;
}

function parse(r: RunResult, what: string): Report {
  assert.equal(r.code, 0, `${what}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Report;
}

async function compare(args: readonly string[], opts: { env?: Record<string, string> } = {}): Promise<Report> {
  const [plain, armed] = await Promise.all([runNode(args), runInstrumented(args, { env: { ...env, ...opts.env } })]);
  const a = parse(plain, 'plain');
  const b = parse(armed, 'under the loader');
  assert.equal(a.armed, false);
  assert.equal(b.armed, true, 'the fixture and its reporter were instrumented');
  assert.ok(Object.keys(a.cases).length > 0);
  assert.deepEqual(programFrames(b), programFrames(a));
  return a;
}

const FIXTURES = {
  'kinds.mjs': 'an ES module',
  'kinds.cjs': 'CommonJS (sloppy)',
  'kinds.ts': 'TypeScript, an ES module by its package type',
  'kinds.cts': 'CommonJS TypeScript',
  'typed.mts': 'a TypeScript ES module (.mts)',
  'minified.mjs': 'a minified one-line module: every column after the first function shifted',
};

for (const [file, what] of Object.entries(FIXTURES)) {
  for (const flags of [[], [MAPS]]) {
    const name = `${what} (${file}${flags.length > 0 ? `, ${MAPS}` : ''}): every frame's line and column as plain`;
    test(name, async () => {
      const report = await compare([...flags, F + file]);
      if (file.startsWith('kinds')) assert.equal(Object.keys(report.cases).length, 41);
    });
  }
}

test('the same positions whether the module was transformed now or read from the transform cache', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lp-stack-'));
  try {
    for (const run of ['cold', 'warm']) {
      const r = await runInstrumented([F + 'kinds.mjs'], { env: { ...env, LIVEPATCH_CACHE_DIR: dir } });
      const plain = parse(await runNode([F + 'kinds.mjs']), 'plain');
      assert.deepEqual(programFrames(parse(r, run)), programFrames(plain), run);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

for (const flags of [[], [MAPS]]) {
  const name = `a program's own Error.prepareStackTrace${flags.length > 0 ? `, ${MAPS}` : ''}`;
  test(`${name}: reads give back what was set; its functions get mapped call sites`, async () => {
    const args = [...flags, F + 'api.mjs'];
    const [plain, armed] = await Promise.all([runNode(args), runInstrumented(args, { env })]);
    assert.equal(armed.code, 0, armed.stderr);
    const { armed: plainArmed, ...a } = JSON.parse(plain.stdout) as Record<string, unknown>;
    const { armed: wasArmed, ...b } = JSON.parse(armed.stdout) as Record<string, unknown>;
    assert.deepEqual([plainArmed, wasArmed], [false, true]);
    assert.ok(Object.keys(a).length >= 20);
    for (const k of Object.keys(a)) assert.deepEqual(b[k], a[k], k);
    // the cases really ran: identity, depd's location, a delegating formatter that reads the property
    assert.deepEqual([a.identity, a.restored, a.depdRestored, a.inside], [true, true, true, true]);
    assert.match(JSON.stringify(a.depd), /api\.mjs",21,\d+,"caller"/);
  });
}

test('a worker thread maps its own frames', async () => {
  await compare([F + 'worker.mjs']);
});

test('a module with its own source map: with source maps on, Node maps the frames through it, as plain', async () => {
  const report = await compare([MAPS, F + 'mapped.cjs']);
  assert.match(report.cases.parse!.stack[1]!, /at parse \(.*mapped-src\.ts:5:30\)$/);
  await compare([F + 'mapped.cjs']);
});

test("an uncaught exception: the stack Node prints is plain Node's (not the source line above it)", async () => {
  for (const flags of [[], [MAPS]]) {
    const args = [...flags, F + 'uncaught.mjs'];
    const [plain, armed] = await Promise.all([runNode(args), runInstrumented(args, { env })]);
    assert.equal(armed.code, plain.code);
    const frames = (r: RunResult): string[] =>
      r.stderr.split('\n').filter((l) => l.startsWith('    at ') && !NODE_FRAME.test(l));
    assert.equal(frames(plain).length, 4);
    assert.deepEqual(frames(armed), frames(plain));
    // where it was thrown: the first line Node prints; the line under it is the code V8 ran (docs/loader.md),
    // which shows that the module was armed
    assert.equal(armed.stderr.split('\n')[0], plain.stderr.split('\n')[0]);
    assert.match(armed.stderr.split('\n')[1]!, /\$lp/);
  }
});
