/**
 * consistency: 'request' in a real HTTP service (issue 16): a request that
 * calls the patched quote(), awaits, then calls the patched total() answers
 * old/old or new/new, never a mix, however the patch lands in it; under the
 * kernel's 'task' model the same service answers mixed pairs — the
 * difference is real. A transition under 'request' completes when the last
 * request older than it has ended.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { httpLoad, mixed } from '../support/http-load.ts';
import { LpProcess } from '../support/lp-process.ts';

const server = 'test/runtime/fixtures/request/server.mjs';
const fix = (c: string): string => `test/runtime/fixtures/request/fix-${c}.mjs`;

interface Pending {
  name: string;
  waitsForEnd: boolean;
  ageMs: number | null;
}

async function transitionsUnderLoad(consistency: 'request' | 'task', rounds: number): Promise<Map<string, number>> {
  const p = await LpProcess.start(server);
  try {
    // spread the await between the two calls so that transitions land inside requests
    const traffic = httpLoad(p.ready.port as number, 8, (i) => `/?ms=${5 + ((i * 7) % 40)}`);
    for (let i = 0; i < rounds; i++) {
      await new Promise((r) => setTimeout(r, 60));
      const loaded = await p.cli('load', fix(consistency), '--wait', '--timeout', '20');
      assert.equal(loaded.code, 0, loaded.stderr);
      await new Promise((r) => setTimeout(r, 60));
      const disabled = await p.cli('disable', `fix_${consistency}`);
      assert.equal(disabled.code, 0, disabled.stderr);
      for (let t = 0; t < 200; t++) {
        const st = (await p.json('status')) as { transition: unknown };
        if (st.transition === null) break;
        await new Promise((r) => setTimeout(r, 25));
      }
      const unloaded = await p.cli('unload', `fix_${consistency}`);
      assert.equal(unloaded.code, 0, unloaded.stderr);
    }
    return await traffic.stop();
  } finally {
    await p.stop();
  }
}

test("consistency 'request': under load, every response is old/old or new/new; under 'task' the same service mixes", async () => {
  const request = await transitionsUnderLoad('request', 6);
  assert.equal(mixed(request), 0, JSON.stringify([...request]));
  assert.ok((request.get('old/old') ?? 0) > 50 && (request.get('new/new') ?? 0) > 50, JSON.stringify([...request]));
  const total = [...request.values()].reduce((a, b) => a + b, 0);
  assert.ok(total > 300, `${total} responses`);

  const task = await transitionsUnderLoad('task', 6);
  assert.ok(mixed(task) > 0, `the kernel's model mixes old and new in one request: ${JSON.stringify([...task])}`);
});

test("consistency 'request': the transition waits for the last request older than it, then completes", async () => {
  const p = await LpProcess.start(server);
  try {
    const port = p.ready.port as number;
    const slow = fetch(`http://127.0.0.1:${port}/?ms=1500`).then((r) => r.text());
    await new Promise((r) => setTimeout(r, 200)); // the slow request has run quote() and awaits
    const loaded = await p.cli('load', fix('request'), '--wait', '--timeout', '0.5');
    assert.equal(loaded.code, 75, loaded.stderr); // still waiting for the slow request
    assert.match(loaded.stderr, /a unit of work older than the transition, until it ends/);
    const st = (await p.json('status')) as { transition: { pending: Pending[] } | null };
    const held = st.transition?.pending.filter((t) => t.waitsForEnd) ?? [];
    assert.deepEqual(
      held.map((t) => t.name),
      ['http GET /?ms=1500'],
    );
    assert.ok((held[0]!.ageMs ?? 0) >= 600);
    // a request that starts now runs the new code from its first line
    assert.equal(await (await fetch(`http://127.0.0.1:${port}/?ms=1`)).text(), 'new/new');
    assert.equal(await slow, 'old/old'); // the old request ends on the old code
    let done = false;
    for (let t = 0; t < 100 && !done; t++) {
      done = ((await p.json('status')) as { transition: unknown }).transition === null;
      if (!done) await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(done, 'the transition completes once the last old request has ended');
    const dmesg = await p.cli('dmesg');
    assert.match(dmesg.stdout, /'fix_request': patching complete/);
  } finally {
    await p.stop();
  }
});
