/**
 * Tasks in a real process: safepoints read the task's synchronous stack;
 * fake signals (R5.14) reach a task that holds a transition open; HTTP,
 * HTTP/2 and net work each run as tasks of their own.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LpProcess } from '../support/lp-process.ts';
import { runInstrumented } from '../support/node.ts';

const app = 'test/runtime/fixtures/app/main.mjs';
const P = 'test/runtime/fixtures/patches/';

test('a task that enables a patch from inside the patched set keeps the old code until it leaves (its stack is read)', async () => {
  const r = await runInstrumented(['test/runtime/fixtures/inprocess/main.mjs'], { env: { LIVEPATCH_CONTROL: '0' } });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), {
    inside: ['old', 'old'], // not ['old', 'new']: no mix within one task
    pendingAfter: ['init'],
    switched: true,
    completed: true,
    after: ['new', ['new work']],
  });
});

test('R5.14: after 15 retries the pending task is signaled (its AbortSignal aborts)', async () => {
  // the runtime's clock runs 50x faster: a retry every 20 ms
  const p = await LpProcess.start(app, { env: { LIVEPATCH_CLOCK_SCALE: '0.02' } });
  try {
    p.send('signal s');
    await p.waitFor((o) => o.held === 's');
    assert.equal((await p.cli('load', P + 'fix_slow.mjs')).code, 0);
    assert.deepEqual(await p.waitFor((o) => o.signaled === 's'), { signaled: 's', reason: 'LivepatchSignal' });
    const dmesg = (await p.cli('dmesg')).stdout;
    assert.match(dmesg, /livepatch: signaling remaining tasks/);
    const st = (await p.json('status')) as { transition: { signalRounds: number; retries: number } };
    assert.ok(st.transition.signalRounds >= 1 && st.transition.retries >= 15, JSON.stringify(st.transition));
    p.send('release s');
  } finally {
    await p.stop();
  }
});

test('each HTTP request, HTTP/2 stream and TCP connection runs as a task of its own', async () => {
  const { connect: h2connect } = await import('node:http2');
  const { connect: tcpConnect } = await import('node:net');
  const p = await LpProcess.start('test/runtime/fixtures/servers.mjs');
  try {
    const ready = p.ready as unknown as { ports: { http: number; http2: number; net: number }; main: string };
    assert.equal(ready.main, 'init');
    const viaHttp = await (await fetch(`http://127.0.0.1:${ready.ports.http}/a?b=1`)).text();
    assert.equal(viaHttp, 'http GET /a?b=1');
    const viaHttp2 = await new Promise<string>((resolve, reject) => {
      const c = h2connect(`http://127.0.0.1:${ready.ports.http2}`);
      const s = c.request({ ':path': '/two' });
      let body = '';
      s.setEncoding('utf8')
        .on('data', (d: string) => (body += d))
        .on('end', () => {
          c.close();
          resolve(body);
        })
        .on('error', reject);
    });
    assert.equal(viaHttp2, 'http2 GET /two');
    const viaNet = await new Promise<string>((resolve, reject) => {
      let body = '';
      tcpConnect(ready.ports.net, '127.0.0.1')
        .setEncoding('utf8')
        .on('data', (d: string) => (body += d))
        .on('end', () => resolve(body))
        .on('error', reject);
    });
    assert.match(viaNet, /^net 127\.0\.0\.1:\d+$/);
  } finally {
    await p.stop();
  }
});
