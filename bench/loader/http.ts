/**
 * The loader's idle cost on an HTTP API with async handlers: requests per
 * second of the same server plain and under the loader (with and without
 * frame tracking), from a plain client process, variants interleaved round
 * by round; medians of per-round ratios.
 *
 *   node bench/loader/http.ts [--rounds 5] [--requests 20000]
 */

import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const register = process.env.BENCH_REGISTER ?? fileURLToPath(new URL('../../dist/register.js', import.meta.url));
const server = fileURLToPath(new URL('./workloads/http-server.mjs', import.meta.url));
const client = fileURLToPath(new URL('./workloads/http-client.mjs', import.meta.url));
const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '5' }, requests: { type: 'string', default: '20000' } },
});

const variants: Record<string, { args: string[]; env: Record<string, string> }> = {
  plain: { args: [], env: {} },
  armed: { args: ['--import', register], env: {} },
  'armed-noframes': { args: ['--import', register], env: { LIVEPATCH_FRAMES: '0' } },
};

async function once(name: string): Promise<number> {
  const v = variants[name]!;
  const child = spawn(process.execPath, [...v.args, server], {
    env: { ...process.env, NODE_OPTIONS: '', LIVEPATCH_CONTROL: '0', ...v.env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const { port } = await new Promise<{ port: number }>((resolve) =>
    createInterface({ input: child.stdout }).once('line', (l) => resolve(JSON.parse(l))),
  );
  const r = spawnSync(process.execPath, [client, String(port)], {
    encoding: 'utf8',
    env: { ...process.env, REQUESTS: values.requests },
  });
  child.kill('SIGTERM');
  const out = JSON.parse(r.stdout) as { rps: number; failed: number };
  if (out.failed > 0) throw new Error(`${name}: ${out.failed} failed requests`);
  return out.rps;
}

const names = Object.keys(variants);
const rps: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
for (const n of names) await once(n); // warm the transform cache and the OS
for (let r = 0; r < Number(values.rounds); r++) {
  for (let i = 0; i < names.length; i++) {
    const n = names[(i + r) % names.length]!;
    rps[n]!.push(await once(n));
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
console.log('| variant | requests/s (median) | throughput ratio to plain (median of rounds) |');
console.log('|---|---:|---:|');
for (const n of names) {
  const ratios = rps[n]!.map((x, i) => x / rps.plain![i]!);
  console.log(`| ${n} | ${median(rps[n]!).toFixed(0)} | ${median(ratios).toFixed(3)} |`);
}
