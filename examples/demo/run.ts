/**
 * `npm start`: the whole story in one run. A shop service runs under the
 * loader with a bug in quote() (the tax is added twice); eight clients keep
 * it busy on 127.0.0.1; a patch fixes quote() while requests are in flight
 * inside it; the report says what happened: requests before and after,
 * failures, the state that survived, which tasks switched when, and the
 * in-flight requests that finished on the old code.
 *
 * Exits non-zero if any request failed or a request that started after the
 * transition got a wrong total, so CI can run it.
 */

import { spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ControlClient } from '../../dist/control/client.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cli = join(root, 'dist/cli/main.js');
const CLIENTS = 8;
const PATCH_AT_MS = Number(process.env.DEMO_PATCH_AT_MS ?? 3000);
const RUN_MS = Number(process.env.DEMO_RUN_MS ?? 8000);
const PRICES: Record<string, number> = { tea: 350, cake: 420, scone: 275 };
const SKUS = Object.keys(PRICES);

const t0 = performance.now();
const at = (t = performance.now()): string => `[${((t - t0) / 1000).toFixed(1).padStart(4)}s]`;
const say = (line: string): void => console.log(`${at()} ${line}`);

interface Quote {
  cart: string;
  started: number;
  ended: number;
  ok: boolean;
  total?: number;
  expected: number;
  error?: string;
}

async function main(): Promise<number> {
  const sockets = mkdtempSync(join(tmpdir(), 'livepatch-demo-'));
  const env = { ...process.env, LIVEPATCH_SOCKET_DIR: sockets, PORT: '0' };
  console.log('livepatch demo: a shop service with a bug in quote() — the tax is added twice —');
  console.log('is fixed while it serves requests, without a restart.\n');
  const service = spawn(process.execPath, [cli, 'run', 'examples/demo/shop/server.mjs'], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  process.once('exit', () => service.kill('SIGTERM')); // also when the demo fails with an error
  const first = await new Promise<{ listening: number; pid: number }>((resolve, reject) => {
    createInterface({ input: service.stdout }).once('line', (l) => resolve(JSON.parse(l)));
    service.once('exit', (code) => reject(new Error(`the service exited (${code})`)));
  });
  const { listening: port, pid } = first;
  say(`$ livepatch run examples/demo/shop/server.mjs   → pid ${pid}, http://127.0.0.1:${port}`);

  const { client } = await ControlClient.openPath(join(sockets, `${pid}.sock`), pid);
  const switched = new Map<number, number>(); // task id -> when it switched
  void client.request('events', {}, (e) => {
    const ev = e as { type: string; task?: number; at?: number };
    if (ev.type === 'task-switched' && ev.task !== undefined) switched.set(ev.task, performance.now());
  });

  const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });
  const http = (method: string, path: string): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method, path, agent }, (res) => {
        let body = '';
        res
          .setEncoding('utf8')
          .on('data', (d: string) => (body += d))
          .on('end', () => {
            if (res.statusCode === 200) resolve(JSON.parse(body));
            else reject(new Error(`HTTP ${res.statusCode}: ${body}`));
          });
      });
      req.on('error', reject);
      req.end();
    });

  const quotes: Quote[] = [];
  let adds = 0;
  let failures = 0;
  let stop = false;
  say(`${CLIENTS} clients: add an item to their cart, then ask for a quote (quote() waits 1.2 s for the tax service)`);
  const clients = Array.from({ length: CLIENTS }, async (_, i) => {
    const cart = `c${i}`;
    let sub = 0;
    for (let n = 0; !stop; n++) {
      const sku = SKUS[(i + n) % SKUS.length]!;
      try {
        await http('POST', `/add?cart=${cart}&sku=${sku}&qty=1`);
        adds++;
        sub += PRICES[sku]!;
      } catch {
        failures++;
      }
      const q: Quote = { cart, started: performance.now(), ended: 0, ok: false, expected: sub + Math.round(sub * 0.2) };
      try {
        const r = (await http('GET', `/quote?cart=${cart}`)) as { total: number };
        q.ok = true;
        q.total = r.total;
      } catch (e) {
        failures++;
        q.error = String(e);
      }
      q.ended = performance.now();
      quotes.push(q);
    }
  });

  await sleep(PATCH_AT_MS);
  const loadStart = performance.now();
  say('$ livepatch load examples/demo/fix-quote.mjs --pid ' + pid);
  const loaded = (await client.request('load', { file: join(root, 'examples/demo/fix-quote.mjs') })) as {
    patch: { transition: boolean };
  };
  const status = (await client.request('status')) as {
    transition: null | {
      pending: { id: number; name: string; blocking: { function: string; line: number | null }[] }[];
    };
  };
  const pending = status.transition?.pending ?? [];
  say(
    `  patch 'fix_quote' enabled; ${pending.length} task(s) are inside quote() on the old code — the transition waits for them`,
  );
  for (const t of pending.slice(0, 3))
    say(
      `    ${t.name} (task ${t.id}) in ${t.blocking.map((b) => `${b.function}() at pricing.mjs:${b.line}`).join(', ')}`,
    );
  if (pending.length > 3) say(`    … and ${pending.length - 3} more`);
  let completeAt = loadStart;
  if (loaded.patch.transition) {
    for (;;) {
      const st = (await client.request('status')) as { transition: unknown };
      if (st.transition === null) break;
      await sleep(20);
    }
  }
  completeAt = performance.now();
  say(`  transition complete, ${((completeAt - loadStart) / 1000).toFixed(2)} s after the load`);

  await sleep(Math.max(0, RUN_MS - (performance.now() - t0)));
  stop = true;
  await Promise.all(clients);
  const state = (await http('GET', '/stats')) as { pid: number; carts: number; items: number; startedAt: number };
  const dmesg = (await client.request('dmesg')) as string[];
  client.close();
  agent.destroy();
  say('load stopped\n');

  // ---- the report
  const before = quotes.filter((q) => q.ended < loadStart);
  const inflight = quotes.filter((q) => q.started < loadStart && q.ended >= loadStart);
  const during = quotes.filter((q) => q.started >= loadStart && q.started < completeAt);
  const after = quotes.filter((q) => q.started >= completeAt);
  const wrong = (qs: Quote[]) => qs.filter((q) => q.ok && q.total !== q.expected).length;
  const row = (label: string, qs: Quote[]) =>
    `  ${label.padEnd(34)} ${String(qs.length).padStart(5)} ${String(qs.filter((q) => !q.ok).length).padStart(7)} ${String(wrong(qs)).padStart(13)}`;
  console.log('quotes                              served  failed  wrong totals');
  console.log(row('finished before the patch', before));
  console.log(row('in flight when the patch loaded', inflight));
  console.log(row('started during the transition', during));
  console.log(row('started after it completed', after));
  console.log(`  items added: ${adds}, failed requests overall: ${failures}\n`);

  const pendingIds = new Set(pending.map((t) => t.id));
  const switches = [...switched]
    .filter(([id]) => pendingIds.has(id))
    .map(([, t]) => t - loadStart)
    .sort((a, b) => a - b);
  console.log(
    `state kept: same process (pid ${state.pid}, up ${((Date.now() - state.startedAt) / 1000).toFixed(1)} s), ${state.carts} carts holding ${state.items} items`,
  );
  console.log(
    `in-flight requests: ${inflight.length} finished on the old code (${wrong(inflight)} with the old, wrong total), none was dropped`,
  );
  if (switches.length > 0) {
    console.log(
      `tasks that held the transition switched as they left quote(): ${switches.map((s) => `+${(s / 1000).toFixed(2)} s`).join(', ')}`,
    );
  }
  console.log(`time from load to complete: ${((completeAt - loadStart) / 1000).toFixed(2)} s\n`);
  console.log("the service's log (livepatch dmesg):");
  for (const l of dmesg) console.log('  ' + l);

  service.kill('SIGTERM');
  rmSync(sockets, { recursive: true, force: true });
  const bad = failures > 0 || wrong(after) > 0 || after.length === 0 || wrong(before) === 0 || state.pid !== pid;
  if (bad)
    console.log(
      '\nDEMO FAILED: ' +
        JSON.stringify({ failures, wrongAfter: wrong(after), after: after.length, wrongBefore: wrong(before) }),
    );
  return bad ? 1 : 0;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
