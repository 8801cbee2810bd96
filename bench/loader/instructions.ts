/**
 * The loader's idle cost in instructions: each workload runs under callgrind
 * in V8's predictable mode (no background threads, fixed seeds), plain and
 * armed, with N=lo and N=hi iterations; the cost of one warm iteration is the
 * difference divided by hi-lo. Deterministic to about 1e-6 on this machine,
 * where wall-clock ratios wander by ±5 % (docs/benchmarks.md).
 *
 *   node bench/loader/instructions.ts [--workloads acorn,marked,typescript,http,async]
 *       [--variants plain,armed,...] [--lo 2] [--hi 5]
 *
 * A variant is `name` or `name=ENV=value;ENV2=value2;--node-flag`; `armed`
 * variants load the instrumented copy, others the plain copy.
 */

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ensurePlainCopies } from './plain-copies.ts';

const register = process.env.BENCH_REGISTER ?? fileURLToPath(new URL('../../dist/register.js', import.meta.url));
const single = fileURLToPath(new URL('./single.mjs', import.meta.url));
const { values } = parseArgs({
  options: {
    workloads: { type: 'string', default: 'acorn,marked,typescript,http' },
    variants: { type: 'string', default: 'plain,armed' },
    lo: { type: 'string', default: '2' },
    hi: { type: 'string', default: '5' },
  },
});

interface Variant { name: string; which: 'armed' | 'plain'; env: Record<string, string>; flags: string[] }

function parseVariant(spec: string): Variant {
  const i = spec.indexOf('=');
  const name = i === -1 ? spec : spec.slice(0, i);
  const v: Variant = { name, which: name.startsWith('armed') ? 'armed' : 'plain', env: {}, flags: [] };
  for (const part of (i === -1 ? '' : spec.slice(i + 1)).split(';').filter(Boolean)) {
    if (part.startsWith('--')) v.flags.push(part);
    else v.env[part.slice(0, part.indexOf('='))] = part.slice(part.indexOf('=') + 1);
  }
  return v;
}

function instructions(workload: string, v: Variant, n: number): number {
  const r = spawnSync('valgrind', [
    '--tool=callgrind', '--callgrind-out-file=/dev/null', '--smc-check=all-non-file',
    process.execPath, '--predictable', ...v.flags, '--import', register, single,
  ], {
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '', WORKLOAD: workload, WHICH: v.which, N: String(n), LIVEPATCH_EXCLUDE: 'bench/loader/.plain/**', ...v.env },
    maxBuffer: 1 << 24,
  });
  const m = /Collected : (\d+)/.exec(r.stderr);
  if (r.status !== 0 || m === null) throw new Error(`${workload}/${v.name} failed:\n${r.stderr.slice(-2000)}`);
  return Number(m[1]);
}

ensurePlainCopies();
const lo = Number(values.lo);
const hi = Number(values.hi);
const variants = values.variants.split(',').map(parseVariant);
console.log(`instructions per warm iteration (callgrind, --predictable, N=${lo} vs N=${hi}), node ${process.version}`);
console.log('| workload | variant | instructions / iteration | ratio to plain |');
console.log('|---|---|---:|---:|');
for (const w of values.workloads.split(',')) {
  let base = 0;
  for (const v of variants) {
    instructions(w, v, lo); // fill the transform cache (the first armed run transforms)
    const per = (instructions(w, v, hi) - instructions(w, v, lo)) / (hi - lo);
    if (base === 0) base = per;
    console.log(`| ${w} | ${v.name} | ${(per / 1e6).toFixed(1)} M | ${(per / base).toFixed(3)} |`);
  }
}
