/**
 * CommonJS exports exactly as plain Node sees them (issue 15). An ES module
 * that imports a CommonJS module by name links only to the names Node's
 * export lexer finds in the module's source, and under the loader that
 * source is the instrumented text: the lexer's result on it must equal its
 * result on the original, for every file, or `import { x } from 'pkg'`
 * fails at link time where plain Node runs.
 *
 * The oracle is the lexer Node itself runs (test/support/cjs-lexer-child.ts,
 * through `--expose-internals`), over two corpora: every CommonJS file of
 * this repository's node_modules (tsc, Babel, esbuild, Rollup builds and
 * hand-written code from the real-app suite's packages), and the CommonJS
 * output of each compiler — tsc, Babel, esbuild, Rollup, SWC — for ES
 * modules written to use every export form.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runNode, repoRoot } from '../support/node.ts';

interface LexReport {
  readonly compared: number;
  readonly withExports: number;
  readonly notInstrumented: number;
  readonly differ: readonly { file: string; original: unknown; instrumented: unknown }[];
}

async function lexCorpus(paths: readonly string[]): Promise<LexReport> {
  const r = await runNode(
    ['--expose-internals', '--no-warnings', join(repoRoot, 'test/support/cjs-lexer-child.ts'), ...paths],
    {
      timeoutMs: 300_000,
    },
  );
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as LexReport;
}

test('every CommonJS file in node_modules: the same export names and re-exports instrumented as plain', async () => {
  const report = await lexCorpus([join(repoRoot, 'node_modules')]);
  assert.deepEqual(report.differ, []);
  // the corpus is what makes the check worth anything: thousands of files, thousands with exports
  assert.ok(report.compared > 5000, `${report.compared} files compared`);
  assert.ok(report.withExports > 2000, `${report.withExports} files with exports`);
});

/** ES modules that use every export form a compiler turns into CommonJS. */
const SOURCES: Record<string, string> = {
  declarations: `
export const a = 1;
export let b = () => a;
export var v1 = 1, v2 = function () { return v1; };
export function f(x) { return x + a; }
export async function af() { return f(1); }
export function* gen() { yield a; }
export class C { m() { return a; } static s() { return 1; } get g() { return 2; } }
export default function main() { return new C(); }
`,
  reexports: `
export { named, other as renamed } from './dep.js';
export * from './dep2.js';
export * as ns from './dep3.js';
export { default } from './dep4.js';
export { default as d5, x5 } from './dep5.js';
`,
  imports: `
import dflt, { y, z as zz } from 'dep';
import * as all from 'dep-all';
export { dflt, y, zz, all };
export const useAll = () => all.k + y;
export const obj = { m() { return zz; }, arrow: () => dflt };
`,
  mixed: `
import { helper } from './helper.js';
export * from './star.js';
export const value = helper(1);
export function run(cb) { return Promise.resolve().then(() => cb(value)); }
export class Thing extends Array { constructor(...a) { super(...a); this.tag = 'x'; } }
`,
};

async function compileAll(dir: string): Promise<number> {
  let count = 0;
  const write = (name: string, code: string): void => {
    writeFileSync(join(dir, `${name}.js`), code);
    count++;
  };
  const ts = (await import('typescript5')).default;
  const babel = await import('@babel/core');
  const esbuild = await import('esbuild');
  const swc = await import('@swc/core');
  const { rollup } = await import('rollup');
  for (const [name, source] of Object.entries(SOURCES)) {
    for (const [variant, options] of Object.entries({
      plain: {},
      interop: { esModuleInterop: true },
      helpers: { esModuleInterop: true, importHelpers: true },
    })) {
      const out = ts.transpileModule(source, {
        compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, ...options },
      });
      write(`tsc-${variant}-${name}`, out.outputText);
    }
    const es5 = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES5, downlevelIteration: true },
    });
    write(`tsc-es5-${name}`, es5.outputText);
    for (const loose of [false, true]) {
      const out = babel.transformSync(source, {
        babelrc: false,
        configFile: false,
        // what `loose` was before Babel 8
        assumptions: loose ? { constantReexports: true, enumerableModuleMeta: true } : {},
        plugins: ['@babel/plugin-transform-export-namespace-from', '@babel/plugin-transform-modules-commonjs'],
      });
      write(`babel-${loose ? 'loose' : 'strict'}-${name}`, out!.code!);
    }
    write(`esbuild-${name}`, esbuild.transformSync(source, { format: 'cjs', loader: 'js', platform: 'node' }).code);
    write(`swc-${name}`, swc.transformSync(source, { module: { type: 'commonjs' }, jsc: { target: 'es2022' } }).code);
    for (const interop of ['auto', 'compat', 'esModule'] as const) {
      const bundle = await rollup({
        input: name,
        external: () => true,
        plugins: [
          {
            name: 'source',
            resolveId: (id) => (id === name ? id : null),
            load: (id) => (id === name ? source : null),
          },
        ],
        onwarn: () => {},
      });
      const { output } = await bundle.generate({ format: 'cjs', exports: 'named', interop });
      write(`rollup-${interop}-${name}`, output[0].code);
      await bundle.close();
    }
  }
  return count;
}

test("each compiler's CommonJS output: the same export names and re-exports instrumented as plain", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lp-cjs-exports-'));
  try {
    const written = await compileAll(dir);
    const report = await lexCorpus([dir]);
    assert.equal(report.notInstrumented, 0, 'every compiled module is instrumented');
    assert.equal(report.compared, written);
    assert.equal(report.withExports, written, 'the lexer finds exports in every compiled module');
    assert.deepEqual(report.differ, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
