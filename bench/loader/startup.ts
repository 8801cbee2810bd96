/**
 * Start-up: the time for a fresh process to load a library — plain; plain
 * with Node's compile cache warm (NODE_COMPILE_CACHE); under the loader with
 * its caches cold (transform cache and the compile cache the loader enables);
 * and with both warm. Interleaved runs, medians.
 *
 *   node bench/loader/startup.ts [--runs 15] [--libs typescript5,acorn,marked,ajv,many]
 *   node bench/loader/startup.ts --count [--libs ...]
 *
 * `--count` counts instructions instead of timing (callgrind, the whole
 * process, once each: plain with Node's compile cache warm, and armed with
 * both caches warm): wall-clock start-up on this shared machine wanders by
 * more than the differences to measure.
 *
 * `many` is a generated package of 1,000 small CommonJS modules (a service's
 * dependency tree has thousands): the per-module costs of a start; `none`
 * imports nothing: the loader's own start.
 */

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

// BENCH_REGISTER: another build's register.js (to compare two builds side by side)
const register = process.env.BENCH_REGISTER ?? fileURLToPath(new URL('../../dist/register.js', import.meta.url));
const root = fileURLToPath(new URL('../../', import.meta.url));
const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '15' },
    libs: { type: 'string', default: 'typescript5,acorn,marked' },
    count: { type: 'boolean', default: false },
  },
});

/** A directory whose node_modules holds `many`: 1,000 modules of a few functions each. */
function makeMany(): string {
  const dir = mkdtempSync(join(tmpdir(), 'lp-many-'));
  const pkg = join(dir, 'node_modules', 'many');
  mkdirSync(pkg, { recursive: true });
  writeFileSync(join(dir, 'package.json'), '{"name":"app","version":"1.0.0"}');
  writeFileSync(join(pkg, 'package.json'), '{"name":"many","version":"1.0.0","main":"index.js"}');
  const requires: string[] = [];
  for (let i = 0; i < 1000; i++) {
    writeFileSync(
      join(pkg, `m${i}.js`),
      `'use strict';
function helper${i}(a, b) { return a + b * ${i}; }
class K${i} { constructor(x) { this.x = x; } get v() { return this.x; } m(y) { return helper${i}(this.x, y); } }
module.exports = { helper${i}, K${i}, f: (z) => z + ${i}, g: async function (q) { return q; } };
`,
    );
    requires.push(`require('./m${i}.js')`);
  }
  writeFileSync(join(pkg, 'index.js'), `module.exports = [${requires.join(',')}];\n`);
  return dir;
}
let manyDir: string | undefined;

/** [the import alone, the whole start: since the process began (performance.now()'s origin)] in ms */
function once(lib: string, armed: boolean, cache: string, compileCache?: string): [number, number] {
  const script = `const t=performance.now();${importOf(lib)};const e=performance.now();process.stdout.write((e-t)+' '+e)`;
  const r = run(
    [...(armed ? ['--import', register] : []), '--input-type=module', '-e', script],
    lib,
    cache,
    compileCache,
  );
  const [imp, total] = r.stdout.split(' ').map(Number);
  return [imp!, total!];
}

/** `none` imports nothing: the loader's own start. */
function importOf(lib: string): string {
  return lib === 'none' ? '0' : `await import(${JSON.stringify(lib)})`;
}

/** Instructions of a whole process that imports `lib` (callgrind). */
function count(lib: string, armed: boolean, cache: string, compileCache: string | undefined): number {
  const r = run(
    [...(armed ? ['--import', register] : []), '--input-type=module', '-e', importOf(lib)],
    lib,
    cache,
    compileCache,
    true,
  );
  const m = /Collected : (\d+)/.exec(r.stderr);
  if (m === null) throw new Error(r.stderr.slice(-2000));
  return Number(m[1]);
}

function run(
  args: string[],
  lib: string,
  cache: string,
  compileCache?: string,
  callgrind = false,
): { stdout: string; stderr: string } {
  const [cmd, argv] = callgrind
    ? [
        'valgrind',
        [
          '--tool=callgrind',
          '--callgrind-out-file=/dev/null',
          '--smc-check=all-non-file',
          process.execPath,
          '--predictable',
          ...args,
        ],
      ]
    : [process.execPath, args];
  const r = spawnSync(cmd as string, argv as string[], {
    cwd: lib === 'many' ? (manyDir ??= makeMany()) : root,
    encoding: 'utf8',
    env: {
      ...process.env,
      NODE_OPTIONS: '',
      LIVEPATCH_CACHE_DIR: cache,
      ...(compileCache !== undefined ? { NODE_COMPILE_CACHE: compileCache } : { NODE_DISABLE_COMPILE_CACHE: '1' }),
    },
  });
  if (r.status !== 0) throw new Error(r.stderr);
  return r;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
if (values.count) {
  console.log(`Instructions of the whole process (callgrind, --predictable), caches warm, node ${process.version}`);
  console.log('');
  console.log(
    '| library | plain | plain, compile cache warm | armed, caches warm | armed / plain | armed / plain with its compile cache |',
  );
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const lib of values.libs.split(',')) {
    const cache = mkdtempSync(join(tmpdir(), 'lp-warm-'));
    const cc = mkdtempSync(join(tmpdir(), 'lp-warm-cc-'));
    const plainCc = mkdtempSync(join(tmpdir(), 'lp-plain-cc-'));
    for (let i = 0; i < 2; i++) once(lib, true, cache, cc); // the second start writes nothing new
    once(lib, false, cache, plainCc);
    // under --predictable too, so that its code cache is the one the counted runs read
    count(lib, false, cache, plainCc);
    count(lib, true, cache, cc);
    const plainNoCc = count(lib, false, cache, undefined);
    const plain = count(lib, false, cache, plainCc);
    const armed = count(lib, true, cache, cc);
    for (const d of [cache, cc, plainCc]) rmSync(d, { recursive: true, force: true });
    const M = (x: number): string => `${(x / 1e6).toFixed(1)} M`;
    console.log(
      `| ${lib} | ${M(plainNoCc)} | ${M(plain)} | ${M(armed)} | ${(armed / plainNoCc).toFixed(3)} | ${(armed / plain).toFixed(3)} |`,
    );
  }
  if (manyDir !== undefined) rmSync(manyDir, { recursive: true, force: true });
  process.exit(0);
}
console.log(
  "Each cell: the import alone / the whole start (from the process's beginning: Node, the loader's start-up, the import), in ms, and ratios to plain.",
);
console.log('');
console.log('| library | plain | plain, compile cache warm | armed, caches cold | armed, caches warm |');
console.log('|---|---:|---:|---:|---:|');
for (const lib of values.libs.split(',')) {
  const runs: Record<'plain' | 'plainCc' | 'cold' | 'warm', [number, number][]> = {
    plain: [],
    plainCc: [],
    cold: [],
    warm: [],
  };
  const warmCache = mkdtempSync(join(tmpdir(), 'lp-warm-'));
  const warmCc = mkdtempSync(join(tmpdir(), 'lp-warm-cc-'));
  const plainWarmCc = mkdtempSync(join(tmpdir(), 'lp-plain-cc-'));
  once(lib, true, warmCache, warmCc);
  once(lib, true, warmCache, warmCc); // the second start writes nothing new (slot manifest, code cache)
  once(lib, false, warmCache, plainWarmCc);
  for (let i = 0; i < Number(values.runs); i++) {
    runs.plain.push(once(lib, false, warmCache));
    runs.plainCc.push(once(lib, false, warmCache, plainWarmCc));
    const c = mkdtempSync(join(tmpdir(), 'lp-cold-'));
    runs.cold.push(once(lib, true, c, join(c, 'compile')));
    rmSync(c, { recursive: true, force: true });
    runs.warm.push(once(lib, true, warmCache, warmCc));
  }
  for (const d of [warmCache, warmCc, plainWarmCc]) rmSync(d, { recursive: true, force: true });
  const m = (k: keyof typeof runs, i: 0 | 1): number => median(runs[k].map((x) => x[i]));
  const cell = (k: keyof typeof runs): string => {
    const [a, b] = [m(k, 0), m(k, 1)];
    return k === 'plain'
      ? `${a.toFixed(1)} / ${b.toFixed(1)}`
      : `${a.toFixed(1)} / ${b.toFixed(1)} (${(a / m('plain', 0)).toFixed(2)}× / ${(b / m('plain', 1)).toFixed(2)}×)`;
  };
  console.log(`| ${lib} | ${cell('plain')} | ${cell('plainCc')} | ${cell('cold')} | ${cell('warm')} |`);
}
if (manyDir !== undefined) rmSync(manyDir, { recursive: true, force: true });
