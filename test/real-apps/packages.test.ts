/**
 * Real packages from npm, loaded plain and under the loader (issue 15: "the
 * loader on real apps"). The loader promises that a program cannot tell it is
 * there, so every package must look the same to a program either way: the
 * names `import * as ns` gives and what each is, the names a static
 * `import { x }` can link to, and what `require()` returns (or the error it
 * throws). The packages cover the ways npm code is built — tsc, Babel,
 * esbuild, Rollup, tsdown/rolldown, hand-written CommonJS, UMD, dual packages
 * with `exports` maps, ES-module-only packages — since each compiler writes
 * its exports differently, and Node finds the names of a CommonJS module's
 * exports by reading its source (cjs-module-lexer), so the loader's rewrite
 * of that source decides which names an ES module can import.
 */

import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { repoRoot, runInstrumented, runNode, type RunResult } from '../support/node.ts';

interface Pkg {
  /** what the program imports: a package name or one of its subpaths */
  readonly spec: string;
  /** how its entry points are built (what makes it a different case for the loader) */
  readonly how: string;
}

const packages: readonly Pkg[] = [
  // tsc: CommonJS with getter re-exports (__createBinding/__exportStar) or `exports.x = ...`
  { spec: 'rxjs', how: 'tsc CommonJS, __exportStar re-exports; exports map with an ESM build' },
  { spec: 'rxjs/operators', how: 'tsc CommonJS subpath through the exports map' },
  { spec: 'tslib', how: "tsc's helpers: a UMD-style script plus an ES-module wrapper" },
  { spec: 'class-validator', how: 'tsc CommonJS, __exportStar of many files' },
  { spec: 'class-transformer', how: 'tsc CommonJS, __exportStar' },
  { spec: 'ioredis', how: 'tsc CommonJS, `exports.x = void 0` then getters for re-exports' },
  { spec: '@nestjs/common', how: 'tsc CommonJS with tslib.__exportStar' },
  { spec: '@nestjs/core', how: 'tsc CommonJS with tslib.__exportStar' },
  { spec: '@nestjs/platform-express', how: 'tsc CommonJS with tslib.__exportStar' },
  { spec: 'zod', how: 'tsc (zshy) dual package: index.cjs and index.js through an exports map' },
  { spec: 'fp-ts', how: 'tsc CommonJS, a namespace object per module (__importStar)' },
  { spec: '@sinclair/typebox', how: 'tsc dual package, cjs and esm builds' },
  { spec: 'ajv', how: 'tsc CommonJS with a default export object' },
  { spec: 'inversify', how: 'tsc ES module only, re-exports from scoped packages' },
  // Babel
  { spec: 'graphql', how: 'Babel CommonJS with getter re-exports, `module` field, no exports map (issue 15)' },
  { spec: 'graphql/language/index.js', how: 'Babel CommonJS subpath with getter re-exports' },
  { spec: 'date-fns', how: 'Babel CommonJS using @babel/runtime helpers, getter re-exports' },
  { spec: 'uuid', how: 'Babel CommonJS + an ESM wrapper.mjs chosen by the exports map' },
  { spec: 'polished', how: 'Rollup CommonJS importing @babel/runtime helpers' },
  { spec: 'ramda', how: 'Babel CommonJS built as `module.exports.x = require(...)`' },
  { spec: 'history', how: 'Babel + @babel/runtime, a CommonJS switch between UMD builds' },
  // hand-written CommonJS, and lodash beside lodash-es
  { spec: 'lodash', how: 'hand-written CommonJS, one big function with properties' },
  { spec: 'lodash/fp.js', how: 'CommonJS subpath that converts lodash at load time' },
  { spec: 'lodash-es', how: 'ES modules, one file per function' },
  { spec: 'winston', how: 'hand-written CommonJS with lazy getters on exports (issue 15)' },
  { spec: 'express', how: 'hand-written CommonJS exporting a function' },
  { spec: 'fastify', how: 'hand-written CommonJS, module.exports.default and named' },
  { spec: 'koa', how: 'CommonJS class plus an ESM wrapper by the exports map' },
  { spec: 'koa-bodyparser', how: 'hand-written CommonJS exporting a function' },
  { spec: 'pino', how: 'hand-written CommonJS, function with properties' },
  { spec: 'ws', how: 'CommonJS plus a wrapper.mjs' },
  { spec: 'joi', how: 'hand-written CommonJS, an object with getters' },
  { spec: 'jsonwebtoken', how: 'CommonJS object literal of requires' },
  { spec: 'undici', how: 'large hand-written CommonJS' },
  { spec: 'semver', how: 'CommonJS object literal' },
  { spec: 'eventemitter3', how: 'CommonJS class plus index.mjs' },
  { spec: 'bluebird', how: 'browserify-era CommonJS that replaces itself' },
  { spec: 'prop-types', how: 'CommonJS with process.env.NODE_ENV switch' },
  { spec: 'react', how: 'CommonJS switching on process.env.NODE_ENV' },
  { spec: 'react/jsx-runtime', how: 'CommonJS subpath' },
  { spec: 'reflect-metadata', how: 'a script that installs a global (empty exports)' },
  // esbuild (tsup), rolldown (tsdown), microbundle
  { spec: 'esbuild', how: 'esbuild-bundled CommonJS (__toCommonJS, `0 && (module.exports = {...})`)' },
  { spec: 'redux', how: 'tsup (esbuild) dual package' },
  { spec: 'immer', how: 'tsup dual package, CommonJS switching on NODE_ENV' },
  { spec: '@koa/router', how: 'tsup (esbuild) CommonJS, __export + __toCommonJS' },
  { spec: 'dotenv', how: 'esbuild-minified CommonJS plus ESM' },
  { spec: 'hono', how: 'tsdown (rolldown) dual package, Symbol.toStringTag exports' },
  { spec: 'hono/cors', how: 'tsdown subpath' },
  { spec: '@tanstack/query-core', how: 'tsdown (rolldown) CommonJS with require_* re-exports' },
  { spec: 'valibot', how: 'tsdown dual package, one big module' },
  { spec: 'fast-check', how: 'rolldown CommonJS with Object.defineProperties exports' },
  { spec: 'ts-pattern', how: 'microbundle: minified CommonJS and ESM' },
  // Rollup, UMD
  { spec: 'yaml', how: 'Rollup CommonJS (preserveModules) plus ESM' },
  { spec: 'luxon', how: 'Rollup CommonJS with __esModule' },
  { spec: 'axios', how: 'Rollup CommonJS bundle plus ESM, a large exports map' },
  { spec: 'superstruct', how: 'Rollup UMD as .cjs plus ESM' },
  { spec: 'async', how: 'Rollup UMD plus an ESM build' },
  { spec: 'acorn', how: 'Rollup UMD plus .mjs' },
  { spec: 'underscore', how: 'Rollup CommonJS plus ESM through an exports map' },
  { spec: 'dayjs', how: 'minified UMD' },
  { spec: 'nanoid', how: 'dual package: index.cjs and index.js by the exports map' },
  { spec: 'marked', how: 'ESM plus UMD CommonJS' },
  // ES modules only: require() loads them on Node 24, or fails the same way
  { spec: 'chalk', how: 'ESM only, subpath imports (#ansi-styles)' },
  { spec: 'execa', how: 'ESM only, many modules' },
  { spec: 'p-limit', how: 'ESM only, default export' },
  { spec: 'ky', how: 'ESM only' },
  { spec: 'escape-string-regexp', how: 'ESM only, default export function' },
  { spec: 'strip-ansi', how: 'ESM only, importing another ESM-only package' },
  { spec: 'commander', how: 'ESM only' },
  { spec: 'yargs', how: 'ESM only, built by tsc' },
  { spec: 'yargs/helpers', how: 'ESM only subpath' },
];

const probe = fileURLToPath(new URL('probe.mjs', import.meta.url));
const MARK = '@@real-apps-probe@@';

// One cold transform cache for the file (the loader's first start of each package is the one that matters), and
// a directory whose node_modules is the repository's, for the generated `import { ... }` modules.
const work = mkdtempSync(join(tmpdir(), 'lp-real-apps-'));
const cache = join(work, 'cache');
symlinkSync(join(repoRoot, 'node_modules'), join(work, 'node_modules'), 'dir');
after(() => rmSync(work, { recursive: true, force: true }));

interface Probe {
  readonly namespace: unknown;
  readonly defaultExport?: unknown;
  readonly named: unknown;
  readonly require: unknown;
}

function parse(r: RunResult, what: string): { out: string; probe: Probe } {
  const at = r.stdout.lastIndexOf(MARK);
  assert.ok(r.code === 0 && at >= 0, `${what}: exit ${r.code} ${r.signal ?? ''}\n${r.stderr}`);
  return { out: r.stdout.slice(0, at), probe: JSON.parse(r.stdout.slice(at + MARK.length)) as Probe };
}

function devDependencies(): Record<string, string> {
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as Record<string, unknown>;
  return pkg.devDependencies as Record<string, string>;
}

const packageName = (spec: string) =>
  spec
    .split('/')
    .slice(0, spec.startsWith('@') ? 2 : 1)
    .join('/');

/** At most a dozen names, and how many more: a failure message says what differs without printing 600 names. */
const some = (names: string[]) =>
  names.slice(0, 12).join(', ') + (names.length > 12 ? `, ... (${names.length} in all)` : '');

const isMap = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !('threw' in v);

const isError = (v: unknown): v is { threw: string } => typeof v === 'object' && v !== null && 'threw' in v;

/** The members a program sees under the loader (`armed`) against plain: names lost, names gained, values changed. */
function sameMembers(armed: unknown, plain: unknown, what: string): void {
  if (!isMap(armed) || !isMap(plain)) return assert.deepEqual(armed, plain, what);
  const missing = Object.keys(plain).filter((k) => !(k in armed));
  const extra = Object.keys(armed).filter((k) => !(k in plain));
  const changed = Object.keys(plain).filter((k) => k in armed && armed[k] !== plain[k]);
  const lines = [
    missing.length ? `missing under the loader: ${some(missing)}` : '',
    extra.length ? `only under the loader: ${some(extra)}` : '',
    ...changed.slice(0, 12).map((k) => `${k}: ${String(plain[k])} plain, ${String(armed[k])} under the loader`),
  ].filter(Boolean);
  assert.ok(lines.length === 0, `${what}: ${Object.keys(plain).length} names plain\n${lines.join('\n')}`);
}

/** A description from probe.mjs: `{ value, members }` or `{ threw }`. */
function sameValue(armed: unknown, plain: unknown, what: string): void {
  const a = armed as { value?: unknown; members?: unknown } | undefined;
  const p = plain as { value?: unknown; members?: unknown } | undefined;
  if (!a || !p || !('value' in a) || !('value' in p)) return assert.deepEqual(armed, plain, what);
  assert.equal(a.value, p.value, what);
  sameMembers(a.members, p.members, `${what}'s members`);
}

test('the corpus: at least 40 packages, each pinned exactly, installed at that version', () => {
  const names = [...new Set(packages.map((p) => packageName(p.spec)))];
  assert.ok(names.length >= 40, `${names.length} packages`);
  const dev = devDependencies();
  for (const name of names) {
    // Pinned exactly: a range would let a new release change what these tests check.
    assert.match(dev[name] ?? '(missing)', /^\d+\.\d+\.\d+$/, `${name} in devDependencies`);
    const installed = JSON.parse(readFileSync(join(repoRoot, 'node_modules', name, 'package.json'), 'utf8'));
    assert.equal((installed as { version: string }).version, dev[name], name);
  }
  // The two the issue names, at the versions it names.
  assert.equal(dev.graphql, '16.11.0');
  assert.equal(dev.winston, '3.17.0');
});

describe('each package looks the same to a program plain and under the loader', { concurrency: 2 }, () => {
  packages.forEach((p, i) => {
    test(`${p.spec}: ${p.how}`, async (t) => {
      const named = join(work, `named-${i}.mjs`);
      // Plain first: it writes the `import { ... }` module from the names plain Node sees.
      const plainRun = await runNode([probe, p.spec, named, 'write'], { timeoutMs: 60_000 });
      const armedRun = await runInstrumented([probe, p.spec, named, 'read'], {
        env: { LIVEPATCH_CACHE_DIR: cache },
        timeoutMs: 60_000,
      });
      const plain = parse(plainRun, 'plain');
      const armed = parse(armedRun, 'under the loader');
      // A package that does not load plain would make the comparison empty.
      assert.ok(isMap(plain.probe.namespace), `plain import failed: ${JSON.stringify(plain.probe.namespace)}`);
      await t.test('import { every name plain Node sees } links and gives the same typeofs', () => {
        const { named } = armed.probe;
        // The link error itself is the message: it names the first export the loader lost.
        if (isError(named) && !isError(plain.probe.named)) assert.fail(`under the loader: ${named.threw}`);
        assert.deepEqual(named, plain.probe.named);
      });
      await t.test('import * as ns: same names, same values', () => {
        sameMembers(armed.probe.namespace, plain.probe.namespace, 'the namespace');
        sameValue(armed.probe.defaultExport, plain.probe.defaultExport, 'the default export');
      });
      await t.test('require(): same result or the same error', () =>
        sameValue(armed.probe.require, plain.probe.require, 'require()'),
      );
      await t.test('same output', () => assert.equal(armed.out, plain.out));
    });
  });
});

test('the loader instrumented what the packages loaded', () => {
  // Without this the comparisons above could pass with a loader that did nothing: every module it instruments
  // leaves a file in its transform cache (docs/loader.md), and the packages load more than 5,000 modules.
  const entries = readdirSync(cache).length;
  assert.ok(entries > 3000, `${entries} modules in the loader's cache`);
});

/** A throwaway app: the given files (its node_modules among them) in a new directory. */
function app(files: Record<string, string>): string {
  const dir = mkdtempSync(join(work, 'app-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

async function bothWays(dir: string, entry: string): Promise<{ plain: RunResult; armed: RunResult }> {
  const plain = await runNode([entry], { cwd: dir });
  const armed = await runInstrumented([entry], { cwd: dir, env: { LIVEPATCH_CACHE_DIR: cache } });
  return { plain, armed };
}

test("issue 15: import { a } from a package that re-exports a CommonJS package's export the way tsc does", async () => {
  const dir = app({
    'package.json': '{ "name": "repro", "private": true, "type": "module" }\n',
    'node_modules/p1/package.json': '{ "name": "p1", "version": "1.0.0", "main": "index.js" }\n',
    'node_modules/p1/index.js': "function a(){return 'a'} exports.a = a;\n",
    'node_modules/p2/package.json': '{ "name": "p2", "version": "1.0.0", "main": "index.js" }\n',
    // Exactly what tsc emits for `export { a } from 'p1'` in CommonJS: Node's cjs-module-lexer
    // recognizes the getter and so offers `a` as a named export to ES modules.
    'node_modules/p2/index.js': [
      '"use strict";',
      'Object.defineProperty(exports, "__esModule", { value: true });',
      'var m = require("p1");',
      'Object.defineProperty(exports, "a", { enumerable: true, get: function () { return m.a; } });',
      '',
    ].join('\n'),
    'main.mjs': "import { a } from 'p2';\nconsole.log(a());\n",
  });
  const { plain, armed } = await bothWays(dir, 'main.mjs');
  assert.equal(plain.code, 0, plain.stderr);
  assert.equal(plain.stdout, 'a\n');
  assert.equal(armed.code, 0, armed.stderr);
  assert.equal(armed.stdout, plain.stdout);
});

test("issue 15: import { graphql, buildSchema } from 'graphql' and run a query", async () => {
  const dir = app({
    'package.json': '{ "name": "repro-graphql", "private": true, "type": "module" }\n',
    'main.mjs': [
      "import { graphql, buildSchema } from 'graphql';",
      "const schema = buildSchema('type Query { hello(name: String): String }');",
      "const rootValue = { hello: async ({ name }) => 'Hello, ' + name };",
      'console.log(JSON.stringify(await graphql({ schema, rootValue, source: \'{ hello(name: "Ada") }\' })));',
      '',
    ].join('\n'),
  });
  symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'), 'dir');
  const { plain, armed } = await bothWays(dir, 'main.mjs');
  assert.equal(plain.code, 0, plain.stderr);
  assert.equal(plain.stdout, '{"data":{"hello":"Hello, Ada"}}\n');
  assert.equal(armed.code, 0, armed.stderr);
  assert.equal(armed.stdout, plain.stdout);
});
