/**
 * Errors and exit statuses (issue 14): every layer's errors carry a stable
 * code from the layer's one error file, and the CLI turns a code into its
 * exit status through one table (src/cli/errors.ts) that covers every code.
 * First the real CLI, then the table itself.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { globSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KlpError } from '../../src/core/index.ts';
import * as cliErrors from '../../src/cli/errors.ts';
import * as controlErrors from '../../src/control/errors.ts';
import * as generatorErrors from '../../src/generator/errors.ts';
import * as runtimeErrors from '../../src/runtime/errors.ts';
import { closure, moduleScope, shadow } from '../../src/index.ts';
import { LpProcess, cliPath } from '../support/lp-process.ts';
import { repoRoot, runNode } from '../support/node.ts';

const { CLI_CODES, EXIT_STATUS, exitStatus } = cliErrors;
const { CONTROL_CODES } = controlErrors;
const { GENERATOR_CODES } = generatorErrors;
const { RUNTIME_CODES } = runtimeErrors;

const app = 'test/runtime/fixtures/app/main.mjs';
const P = 'test/runtime/fixtures/patches/';

/** `livepatch ...` with a socket directory of its own (no process runs there). */
async function lp(...args: string[]): Promise<{ code: number | null; stderr: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'lp-errors-'));
  try {
    return await runNode([cliPath, ...args], { env: { LIVEPATCH_SOCKET_DIR: dir } });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('the CLI: a usage error exits 64 with the message and the usage', async () => {
  const missing = await lp('load');
  assert.equal(missing.code, 64, missing.stderr);
  assert.match(missing.stderr, /^livepatch: missing argument\n\nusage: livepatch <command> \[options\]\n/);
  const unknown = await lp('nosuch');
  assert.equal(unknown.code, 64, unknown.stderr);
  assert.match(unknown.stderr, /^livepatch: unknown command 'nosuch'\n\nusage: livepatch /);
});

test('the CLI: no process to talk to exits 69', async () => {
  const r = await lp('status');
  assert.equal(r.code, 69, r.stderr);
  assert.equal(r.stderr, 'livepatch: no process runs under the loader (start one with `livepatch run <entry>`)\n');
});

test('the CLI: an error the process reports (a KlpError) exits with its errno and names it', async () => {
  const p = await LpProcess.start(app);
  try {
    const unload = await p.cli('unload', 'nosuch');
    assert.equal(unload.code, 2, unload.stderr);
    assert.equal(unload.stderr, "livepatch: no patch module 'nosuch' is loaded (ENOENT)\n");
    const load = await p.cli('load', P + 'bad_noexport.mjs');
    assert.equal(load.code, 22, load.stderr);
    assert.match(load.stderr, /^livepatch: patch file .*bad_noexport\.mjs exports no patch: .* \(EINVAL\)\n$/);
  } finally {
    await p.stop();
  }
});

test('the CLI: bad input to a build exits 66, a tarball that is not one too', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lp-errors-'));
  try {
    const diff = join(dir, 'none.diff');
    const r = await lp('build', '--diff', diff, '-o', join(dir, 'x.mjs'));
    assert.equal(r.code, 66, r.stderr);
    assert.match(r.stderr, /^livepatch build: cannot read the diff .*none\.diff: .*no such file or directory/);

    // two versions of a package, the new one a .tgz that is not gzip
    mkdirSync(join(dir, 'old'));
    writeFileSync(join(dir, 'old/package.json'), JSON.stringify({ name: 'p', version: '1.0.0' }));
    writeFileSync(join(dir, 'new.tgz'), 'not a tarball');
    const tgz = await lp('build', '--old', join(dir, 'old'), '--new', join(dir, 'new.tgz'), '-o', join(dir, 'x.mjs'));
    assert.equal(tgz.code, 66, tgz.stderr);
    assert.match(tgz.stderr, /^livepatch build: .*new\.tgz is not a package tarball: not a gzip file \(.*\)\n$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Every layer's codes, by layer. */
const layers: Record<string, readonly string[]> = {
  cli: Object.keys(CLI_CODES),
  control: Object.keys(CONTROL_CODES),
  generator: Object.keys(GENERATOR_CODES),
  runtime: Object.keys(RUNTIME_CODES),
};

test('every code of every layer has a row in the exit table, and the table has no other', () => {
  const all = Object.values(layers).flat();
  assert.equal(new Set(all).size, all.length, 'no code belongs to two layers');
  assert.deepEqual(Object.keys(EXIT_STATUS).sort(), [...all].sort());
  for (const [layer, codes] of Object.entries(layers)) {
    assert.ok(codes.length > 0, layer);
    for (const c of codes) assert.match(c, /^LP_ERR_[A-Z][A-Z_]*[A-Z]$/, `${layer}: ${c}`);
  }
  // each code is documented: when it is thrown
  for (const table of [CLI_CODES, CONTROL_CODES, GENERATOR_CODES, RUNTIME_CODES]) {
    for (const [c, when] of Object.entries(table)) assert.ok(when.length > 20, `${c} says when it is thrown`);
  }
});

test('the exit statuses: usage 64, unreachable 69, bad build input 66, a KlpError its errno, anything else 1', () => {
  const want: Record<string, number> = {
    LP_ERR_USAGE: 64,
    LP_ERR_NO_PROCESS: 69,
    LP_ERR_CONNECT: 69,
    LP_ERR_NOT_CONTROL_SOCKET: 69,
    LP_ERR_SOCKET_DIR_UNSAFE: 69,
    LP_ERR_BUILD_INPUT: 66,
    LP_ERR_TARBALL: 66,
  };
  for (const [code, status] of Object.entries(EXIT_STATUS)) assert.equal(status, want[code] ?? 1, code);
  assert.equal(exitStatus(new cliErrors.UsageError('x')), 64);
  assert.equal(exitStatus(new controlErrors.ConnectError('LP_ERR_CONNECT', 'x')), 69);
  assert.equal(exitStatus(new generatorErrors.InputError('x')), 66);
  assert.equal(exitStatus(new generatorErrors.TarError('x')), 66);
  assert.equal(exitStatus(new KlpError(-22, 'x')), 22);
  assert.equal(exitStatus(new KlpError(-16, 'x')), 16);
  assert.equal(exitStatus(Object.assign(new Error('x'), { code: 'LP_ERR_BUILD_INTERNAL' })), 1);
  // a Node error's code is not one of ours; neither is anything thrown that is not an Error
  assert.equal(exitStatus(Object.assign(new Error('x'), { code: 'ENOENT' })), 1);
  assert.equal(exitStatus(new Error('x')), 1);
  assert.equal(exitStatus('x'), 1);
  assert.equal(exitStatus(null), 1);
});

test('every error class a layer exports carries a code of its own layer', () => {
  const made: [string, Error][] = [
    ['cli', new cliErrors.CliError('LP_ERR_USAGE', 'x')],
    ['cli', new cliErrors.UsageError('x')],
    ['control', new controlErrors.ControlError('LP_ERR_SOCKET_DIR_UNSAFE', 'x')],
    ['control', new controlErrors.ConnectError('LP_ERR_NO_PROCESS', 'x')],
    ['generator', new generatorErrors.GeneratorError('LP_ERR_BUILD_INTERNAL', 'x')],
    ['generator', new generatorErrors.InputError('x')],
    ['generator', new generatorErrors.TarError('x')],
    ['runtime', new runtimeErrors.RuntimeError('LP_ERR_INTERNAL', 'x')],
    ['runtime', new runtimeErrors.LivepatchSignal('p')],
  ];
  const modules: [string, Record<string, unknown>][] = [
    ['cli', cliErrors],
    ['control', controlErrors],
    ['generator', generatorErrors],
    ['runtime', runtimeErrors],
  ];
  // an error class added to a layer file must be added above
  for (const [layer, mod] of modules) {
    for (const [name, value] of Object.entries(mod)) {
      if (typeof value !== 'function' || !(value.prototype instanceof Error)) continue;
      assert.ok(
        made.some(([l, e]) => l === layer && e.constructor === value),
        `${layer}: ${name} is made above`,
      );
    }
  }
  for (const [layer, e] of made) {
    const code = (e as Error & { code: string }).code;
    assert.ok(layers[layer]!.includes(code), `${e.constructor.name}: ${code} is a ${layer} code`);
  }
  // names that programs and tests tell errors apart by
  assert.deepEqual(
    made.map(([, e]) => e.name),
    ['Error', 'UsageError', 'Error', 'ConnectError', 'Error', 'InputError', 'TarError', 'Error', 'LivepatchSignal'],
  );
});

test("the package's API outside the loader: coded runtime errors", () => {
  const codeOf = (fn: () => unknown): unknown => {
    try {
      fn();
    } catch (e) {
      return [(e as Error & { code?: unknown }).code, (e as Error).message];
    }
    return 'no error';
  };
  assert.deepEqual(
    codeOf(() => moduleScope('src/x.ts')),
    ['LP_ERR_NEEDS_LOADER', 'livepatch: moduleScope() needs the loader: run with node --import livepatch/register'],
  );
  assert.deepEqual(
    codeOf(() => shadow.get({}, 1)),
    ['LP_ERR_NEEDS_LOADER', 'livepatch: shadow needs the loader: run with node --import livepatch/register'],
  );
  assert.deepEqual(
    codeOf(() => closure()),
    ['LP_ERR_NO_CLOSURE', 'livepatch: closure() is only available at the start of a replacement of a closure'],
  );
});

test('outside src/core, an Error is made only with a code', () => {
  const plain: string[] = [];
  for (const file of globSync('src/**/*.ts', { cwd: repoRoot })) {
    if (file.split(/[\\/]/)[1] === 'core') continue;
    const text = readFileSync(join(repoRoot, file), 'utf8');
    for (const m of text.matchAll(/\bnew Error\(/g)) {
      const before = text.slice(0, m.index);
      // `Object.assign(new Error(...), { code })`: where a layer's class is not imported (src/index.ts)
      if (!before.trimEnd().endsWith('Object.assign(')) plain.push(`${file}:${before.split('\n').length}`);
    }
  }
  assert.deepEqual(plain, []);
});
