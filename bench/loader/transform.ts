/**
 * Transform throughput: megabytes of source per second through the loader's
 * transform (parse with oxc, analyse, emit), in one process, after a warm-up,
 * median of runs; next to it the parse alone (oxc's raw transfer), the floor
 * the transform stands on.
 *
 *   node bench/loader/transform.ts [--runs 7]
 *   node bench/loader/transform.ts --count     instructions per transform of acorn.mjs
 *                                              (callgrind, N=2 vs N=6: repeatable where time is not)
 */

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { transform } from '../../dist/instrument/transform.js';
import { parse } from '../../dist/instrument/parse.js';

const require = createRequire(import.meta.url);
const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '7' },
    count: { type: 'boolean', default: false },
    repeat: { type: 'string' },
  },
});
const runs = Number(values.runs);
const acornFile = new URL('../../node_modules/acorn/dist/acorn.mjs', import.meta.url).pathname;

if (values.repeat !== undefined) {
  // the child of --count: transform acorn.mjs N times
  const source = readFileSync(acornFile, 'utf8');
  for (let i = 0; i < Number(values.repeat); i++)
    transform({ source, moduleId: 'acorn.mjs', lang: 'js', sourceType: 'module' });
  process.exit(0);
}
if (values.count) {
  const count = (n: number): number => {
    const r = spawnSync(
      'valgrind',
      [
        '--tool=callgrind',
        '--callgrind-out-file=/dev/null',
        process.execPath,
        '--predictable',
        new URL(import.meta.url).pathname,
        '--repeat',
        String(n),
      ],
      { encoding: 'utf8' },
    );
    const m = /Collected : (\d+)/.exec(r.stderr);
    if (r.status !== 0 || m === null) throw new Error(r.stderr.slice(-2000));
    return Number(m[1]);
  };
  const per = (count(6) - count(2)) / 4;
  console.log(`acorn.mjs (0.23 MB): ${(per / 1e6).toFixed(1)} M instructions per transform, node ${process.version}`);
  process.exit(0);
}

const inputs: { name: string; file: string; sourceType: 'module' | 'commonjs' }[] = [
  {
    name: 'typescript.js (TypeScript 5.9)',
    file: require.resolve('typescript5/lib/typescript.js'),
    sourceType: 'commonjs',
  },
  { name: 'acorn.mjs', file: acornFile, sourceType: 'module' },
  {
    name: 'marked.esm.js',
    file: new URL('../../node_modules/marked/lib/marked.esm.js', import.meta.url).pathname,
    sourceType: 'module',
  },
];

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

function time(fn: () => void): number {
  fn(); // warm-up
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    fn();
    ms.push(performance.now() - t);
  }
  return median(ms);
}

console.log(`transform throughput, median of ${runs} runs after a warm-up, node ${process.version}`);
console.log('| input | size | parse only | transform | transform MB/s |');
console.log('|---|---:|---:|---:|---:|');
for (const { name, file, sourceType } of inputs) {
  const source = readFileSync(file, 'utf8');
  const mb = Buffer.byteLength(source) / 1e6;
  const p = time(() => {
    parse(source, 'js', sourceType);
  });
  const t = time(() => {
    const r = transform({ source, moduleId: name, lang: 'js', sourceType });
    if (!r.ok) throw new Error(r.message);
  });
  console.log(
    `| ${name} | ${mb.toFixed(2)} MB | ${p.toFixed(1)} ms (${((mb / p) * 1000).toFixed(0)} MB/s) | ${t.toFixed(1)} ms | ${((mb / t) * 1000).toFixed(1)} |`,
  );
}
