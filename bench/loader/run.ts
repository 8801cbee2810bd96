/**
 * The loader's idle cost on real workloads: each workload runs in a fresh
 * process plain and under the loader (warm transform cache), variants
 * interleaved round by round; the figure is the median over rounds of the
 * per-round ratio against plain. See docs/benchmarks.md.
 *
 *   node bench/loader/run.ts [--rounds 5] [--workloads acorn,marked,typescript]
 *       [--variants plain,armed,armed-noframes,...] [--iterations 10]
 *
 * A variant is `name` or `name=ENV=value;ENV2=value2;--node-flag`.
 */

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = fileURLToPath(new URL('.', import.meta.url));
const register = fileURLToPath(new URL('../../dist/register.js', import.meta.url));

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    workloads: { type: 'string', default: 'acorn,marked,typescript' },
    variants: { type: 'string', default: 'plain,armed' },
    iterations: { type: 'string', default: '10' },
    json: { type: 'boolean', default: false },
  },
});

interface Variant {
  name: string;
  armed: boolean;
  env: Record<string, string>;
  flags: string[];
}

const PRESETS: Record<string, string> = {
  plain: '',
  armed: 'ARMED',
  'armed-noframes': 'ARMED;LIVEPATCH_FRAMES=0',
  'armed-var': 'ARMED;LIVEPATCH_BINDING=module',
};

function parseVariant(spec: string): Variant {
  const [name, rest] = spec.includes('=')
    ? [spec.slice(0, spec.indexOf('=')), spec.slice(spec.indexOf('=') + 1)]
    : [spec, PRESETS[spec] ?? ''];
  const v: Variant = { name: name!, armed: false, env: {}, flags: [] };
  for (const part of (rest ?? '').split(';').filter(Boolean)) {
    if (part === 'ARMED') v.armed = true;
    else if (part.startsWith('--')) v.flags.push(part);
    else {
      const i = part.indexOf('=');
      v.env[part.slice(0, i)] = part.slice(i + 1);
    }
  }
  return v;
}

interface Sample {
  load: number;
  first: number;
  warm: number;
}

function runOnce(workload: string, v: Variant, cache: string): Sample {
  const args = [...v.flags, ...(v.armed ? ['--import', register] : []), join(here, 'workloads', workload + '.mjs')];
  const r = spawnSync(process.execPath, args, {
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '', LIVEPATCH_CACHE_DIR: cache, ITERATIONS: values.iterations, ...v.env },
    maxBuffer: 1 << 24,
  });
  if (r.status !== 0) throw new Error(`${workload}/${v.name} failed:\n${r.stderr}`);
  const line = r.stdout.trim().split('\n').pop()!;
  return JSON.parse(line) as Sample;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const variants = values.variants.split(',').map(parseVariant);
const workloads = values.workloads.split(',');
const rounds = Number(values.rounds);
const cache = mkdtempSync(join(tmpdir(), 'lp-bench-cache-'));
const results: Record<string, Record<string, Sample[]>> = {};
try {
  // Warm the transform cache (and the OS file cache) once per armed variant.
  for (const w of workloads) for (const v of variants) runOnce(w, v, cache);
  for (const w of workloads) {
    results[w] = Object.fromEntries(variants.map((v) => [v.name, []]));
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < variants.length; i++) {
        const v = variants[(i + r) % variants.length]!;
        results[w]![v.name]!.push(runOnce(w, v, cache));
      }
    }
  }
} finally {
  rmSync(cache, { recursive: true, force: true });
}

const base = variants[0]!.name;
const rows: string[] = [];
const out: Record<string, unknown> = {};
for (const w of workloads) {
  for (const v of variants) {
    const s = results[w]![v.name]!;
    const b = results[w]![base]!;
    const ratio = (k: keyof Sample) => s.map((x, i) => x[k] / b[i]![k]);
    const warmR = ratio('warm');
    const row = {
      workload: w,
      variant: v.name,
      warmMs: +median(s.map((x) => x.warm)).toFixed(1),
      warm: +median(warmR).toFixed(3),
      warmMin: +Math.min(...warmR).toFixed(3),
      warmMax: +Math.max(...warmR).toFixed(3),
      first: +median(ratio('first')).toFixed(3),
      load: +median(ratio('load')).toFixed(3),
    };
    out[`${w}/${v.name}`] = row;
    rows.push(
      `| ${w} | ${v.name} | ${row.warmMs} | ${row.warm} (${row.warmMin}–${row.warmMax}) | ${row.first} | ${row.load} |`,
    );
  }
}
if (values.json) process.stdout.write(JSON.stringify(out, null, 2) + '\n');
else {
  console.log(`rounds: ${rounds}, iterations per process: ${values.iterations}, node ${process.version}`);
  console.log('| workload | variant | warm ms | warm ratio (range) | first-iteration ratio | load ratio |');
  console.log('|---|---|---:|---|---:|---:|');
  for (const r of rows) console.log(r);
}
