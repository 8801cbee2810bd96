/**
 * Transform throughput: megabytes of source per second through the loader's
 * transform (parse with oxc, analyse, emit), in one process, after a warm-up,
 * median of runs; next to it the parse alone (oxc's raw transfer), the floor
 * the transform stands on.
 *
 *   node bench/loader/transform.ts [--runs 7]
 */

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { transform } from '../../dist/instrument/transform.js';
import { parse } from '../../dist/instrument/parse.js';

const require = createRequire(import.meta.url);
const { values } = parseArgs({ options: { runs: { type: 'string', default: '7' } } });
const runs = Number(values.runs);

const inputs: { name: string; file: string; sourceType: 'module' | 'commonjs' }[] = [
  { name: 'typescript.js (TypeScript 5.9)', file: require.resolve('typescript5/lib/typescript.js'), sourceType: 'commonjs' },
  { name: 'acorn.mjs', file: new URL('../../node_modules/acorn/dist/acorn.mjs', import.meta.url).pathname, sourceType: 'module' },
  { name: 'marked.esm.js', file: new URL('../../node_modules/marked/lib/marked.esm.js', import.meta.url).pathname, sourceType: 'module' },
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
  const p = time(() => { parse(source, 'js', sourceType); });
  const t = time(() => {
    const r = transform({ source, moduleId: name, lang: 'js', sourceType });
    if (!r.ok) throw new Error(r.message);
  });
  console.log(`| ${name} | ${mb.toFixed(2)} MB | ${p.toFixed(1)} ms (${(mb / p * 1000).toFixed(0)} MB/s) | ${t.toFixed(1)} ms | ${(mb / t * 1000).toFixed(1)} |`);
}
