/**
 * Patching a server under load: the API server of the loader benches runs
 * under `livepatch run`; 16 keep-alive clients send requests for a few
 * seconds; halfway, `livepatch load` replaces lookup(), a function every
 * request awaits. Reports failed requests (must be 0) and latency
 * percentiles before, during and after the transition.
 *
 *   node bench/runtime/patch-under-load.ts [--seconds 6] [--rounds 3]
 */

import { spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ControlClient } from '../../dist/control/client.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '6' }, rounds: { type: 'string', default: '3' } },
});

interface Sample {
  start: number;
  ms: number;
  ok: boolean;
}

async function round(): Promise<{
  before: number[];
  during: number[];
  after: number[];
  failed: number;
  transitionMs: number;
  requests: number;
}> {
  const sockets = mkdtempSync(join(tmpdir(), 'lp-bench-'));
  const env = { ...process.env, NODE_OPTIONS: '', LIVEPATCH_SOCKET_DIR: sockets };
  const child = spawn(
    process.execPath,
    [join(root, 'dist/cli/main.js'), 'run', 'bench/loader/workloads/http-server.mjs'],
    { cwd: root, env, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const { port } = await new Promise<{ port: number }>((resolve) =>
    createInterface({ input: child.stdout }).once('line', (l) => resolve(JSON.parse(l))),
  );
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  const samples: Sample[] = [];
  let stop = false;
  const one = (i: number) =>
    new Promise<void>((resolve) => {
      const start = performance.now();
      const req = request({ host: '127.0.0.1', port, agent, path: `/users/${i % 5000}` }, (res) => {
        res.resume();
        res.on('end', () => {
          samples.push({ start, ms: performance.now() - start, ok: res.statusCode === 200 });
          resolve();
        });
      });
      req.on('error', () => {
        samples.push({ start, ms: performance.now() - start, ok: false });
        resolve();
      });
      req.end();
    });
  let n = 0;
  const workers = Array.from({ length: 16 }, async () => {
    while (!stop) await one(n++);
  });
  const total = Number(values.seconds) * 1000;
  await new Promise((r) => setTimeout(r, total / 2));
  const pid = await new Promise<number>((resolve) => {
    const s = setInterval(() => {
      if (child.pid) {
        clearInterval(s);
        resolve(child.pid);
      }
    }, 5);
  });
  void pid;
  // the program's pid is the child of `livepatch run`: find its socket
  const { readdirSync } = await import('node:fs');
  const sock = readdirSync(sockets).find((f) => f.endsWith('.sock'))!;
  const { client } = await ControlClient.openPath(join(sockets, sock));
  const loadAt = performance.now();
  await client.request('load', { file: join(root, 'bench/runtime/fix-lookup.mjs') });
  for (;;) {
    const st = (await client.request('status')) as { transition: unknown };
    if (st.transition === null) break;
    await new Promise((r) => setTimeout(r, 5));
  }
  const doneAt = performance.now();
  client.close();
  await new Promise((r) => setTimeout(r, total / 2));
  stop = true;
  await Promise.all(workers);
  agent.destroy();
  child.kill('SIGTERM');
  rmSync(sockets, { recursive: true, force: true });
  const pick = (f: (s: Sample) => boolean) => samples.filter(f).map((s) => s.ms);
  return {
    before: pick((s) => s.start < loadAt),
    during: pick((s) => s.start >= loadAt && s.start < doneAt),
    after: pick((s) => s.start >= doneAt),
    failed: samples.filter((s) => !s.ok).length,
    transitionMs: doneAt - loadAt,
    requests: samples.length,
  };
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor((s.length * p) / 100))]!;
};
console.log('| round | requests | failed | load → complete | p50 / p99 before | p50 / p99 during | p50 / p99 after |');
console.log('|---|---:|---:|---:|---|---|---|');
for (let r = 1; r <= Number(values.rounds); r++) {
  const x = await round();
  const f = (xs: number[]) => `${pct(xs, 50).toFixed(2)} / ${pct(xs, 99).toFixed(2)} ms (${xs.length})`;
  console.log(
    `| ${r} | ${x.requests} | ${x.failed} | ${x.transitionMs.toFixed(1)} ms | ${f(x.before)} | ${f(x.during)} | ${f(x.after)} |`,
  );
}
