/**
 * Start-up: the time for a fresh process to load a library, plain, under the
 * loader with a cold transform cache, and with a warm one. Interleaved runs,
 * medians.
 *
 *   node bench/loader/startup.ts [--runs 15] [--libs typescript5,acorn,marked]
 */

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const register = fileURLToPath(new URL('../../dist/register.js', import.meta.url));
const root = fileURLToPath(new URL('../../', import.meta.url));
const { values } = parseArgs({ options: { runs: { type: 'string', default: '15' }, libs: { type: 'string', default: 'typescript5,acorn,marked' } } });

function once(lib: string, armed: boolean, cache: string): number {
  const script = `const t=performance.now();await import(${JSON.stringify(lib)});process.stdout.write(String(performance.now()-t))`;
  const r = spawnSync(process.execPath, [...(armed ? ['--import', register] : []), '--input-type=module', '-e', script], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '', LIVEPATCH_CACHE_DIR: cache, LIVEPATCH_CONTROL: '0' },
  });
  if (r.status !== 0) throw new Error(r.stderr);
  return Number(r.stdout);
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
console.log('| library | plain ms | armed, cold cache | armed, warm cache |');
console.log('|---|---:|---:|---:|');
for (const lib of values.libs.split(',')) {
  const plain: number[] = [];
  const cold: number[] = [];
  const warm: number[] = [];
  const warmCache = mkdtempSync(join(tmpdir(), 'lp-warm-'));
  once(lib, true, warmCache);
  for (let i = 0; i < Number(values.runs); i++) {
    plain.push(once(lib, false, warmCache));
    const c = mkdtempSync(join(tmpdir(), 'lp-cold-'));
    cold.push(once(lib, true, c));
    rmSync(c, { recursive: true, force: true });
    warm.push(once(lib, true, warmCache));
  }
  rmSync(warmCache, { recursive: true, force: true });
  const p = median(plain);
  console.log(`| ${lib} | ${p.toFixed(1)} | ${median(cold).toFixed(1)} (${(median(cold) / p).toFixed(2)}×) | ${median(warm).toFixed(1)} (${(median(warm) / p).toFixed(2)}×) |`);
}
