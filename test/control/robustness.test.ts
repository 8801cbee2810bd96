/**
 * The control socket survives its clients (issue 17, "Trust"): whatever a
 * client sends — no JSON, JSON that is no request, a line of megabytes, a
 * line a byte at a time, a hundred connections at once, nothing at all, a
 * stream it never reads — the process under the loader answers with an error
 * or closes that connection, and keeps serving: its control socket, its
 * commands and its HTTP requests. Each test runs a real process.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { LpProcess } from '../support/lp-process.ts';
import { socketPath } from '../../src/control/paths.ts';

const service = 'test/control/fixtures/service.mjs';

interface Answer {
  id: unknown;
  ok?: boolean;
  result?: unknown;
  event?: unknown;
  error?: { code: string; errno: number; message: string };
}

/** every connection a test opened: closed when its test ends, failed or not, so that none keeps the runner alive */
const everyRaw = new Set<Raw>();

/** A raw connection to the control socket: what it receives, line by line. */
class Raw {
  readonly socket: Socket;
  readonly lines: Answer[] = [];
  closed = false;
  private buffer = '';
  private readonly waiters: (() => void)[] = [];

  private constructor(socket: Socket) {
    this.socket = socket;
    everyRaw.add(this);
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      this.buffer += d;
      for (let nl = this.buffer.indexOf('\n'); nl !== -1; nl = this.buffer.indexOf('\n')) {
        this.lines.push(JSON.parse(this.buffer.slice(0, nl)) as Answer);
        this.buffer = this.buffer.slice(nl + 1);
      }
      this.wake();
    });
    socket.on('error', () => {}); // ECONNRESET after a close with unread data: the lines before it count
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  static async open(p: LpProcess): Promise<Raw> {
    const path = socketPath(p.pid, p.env);
    for (let i = 0; ; i++) {
      try {
        const s = await new Promise<Socket>((resolve, reject) => {
          const s = connect(path);
          s.once('connect', () => resolve(s));
          s.once('error', reject);
        });
        return new Raw(s);
      } catch (e) {
        if (i > 100) throw e;
        await new Promise((r) => setTimeout(r, 25)); // the socket opens 100 ms after the start
      }
    }
  }

  send(text: string): void {
    this.socket.write(text);
  }

  /** Wait until `done` holds (checked on each line and at close). */
  until(done: () => boolean, what: string, ms = 5000): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const got = (): string => JSON.stringify(this.lines).slice(0, 500);
      const t = setTimeout(() => reject(new Error(`timed out: ${what}; got ${got()}`)), ms);
      const check = (): void => {
        if (done()) {
          clearTimeout(t);
          resolve();
        } else this.waiters.push(check);
      };
      this.waiters.push(check);
    });
  }

  answerTo(id: unknown, ms?: number): Promise<Answer> {
    const find = () => this.lines.find((l) => l.id === id && 'ok' in l);
    return this.until(() => find() !== undefined, `an answer to ${JSON.stringify(id)}`, ms).then(() => find()!);
  }

  close(): void {
    this.socket.destroy();
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}

/** Run `fn` against a new process; then close what the test left open and stop the process. */
async function withProcess(env: Record<string, string>, fn: (p: LpProcess) => Promise<void>): Promise<void> {
  const p = await LpProcess.start(service, { env });
  try {
    await fn(p);
  } finally {
    for (const c of everyRaw) c.close();
    everyRaw.clear();
    await p.stop();
  }
}

/** The process still serves: no exit, nothing uncaught, a new control connection, a command and an HTTP request answer. */
async function assertServing(p: LpProcess): Promise<void> {
  const c = await Raw.open(p);
  c.send('{"id":"alive","op":"hello"}\n');
  const hello = await c.answerTo('alive');
  c.close();
  assert.equal(hello.ok, true, JSON.stringify(hello));
  assert.equal((hello.result as { pid: number }).pid, p.pid);
  p.send('ping');
  await p.waitFor((o) => 'pong' in o, 5000);
  const res = await fetch(`http://127.0.0.1:${p.ready.port as number}/`);
  assert.equal(res.status, 200);
  assert.match(await res.text(), /^ok \d+$/);
  assert.equal(p.child.exitCode, null, 'the process exited');
  assert.equal(p.child.signalCode, null, 'the process was killed');
  assert.doesNotMatch(p.stderr, /uncaughtException|unhandledRejection|TypeError|Unhandled|ERR_/);
}

test(
  'a line that is no request gets an error answer (id null when it has none); the connection stays usable',
  { timeout: 30_000 },
  () =>
    withProcess({}, async (p) => {
      const cases: [string, unknown, RegExp][] = [
        ['null', null, /not an object/],
        ['[]', null, /not an object/],
        ['42', null, /not an object/],
        ['"x"', null, /not an object/],
        ['{}', null, /'id'/],
        ['{"id":1}', 1, /'op'/],
        ['{"id":{"a":1},"op":"hello"}', null, /'id'/],
        ['{"id":1,"op":"nope"}', 1, /unknown control operation 'nope'/],
        ['{"id":2,"op":"sysfs.read"}', 2, /needs a string 'path'/],
        ['{"id": 1, "op": "hel', null, /not JSON/],
        ['\u0000\u00ff not json at all', null, /not JSON/],
      ];
      const c = await Raw.open(p);
      for (const [line, id, message] of cases) {
        c.lines.length = 0;
        c.send(line + '\n{"id":99,"op":"hello"}\n');
        const after = await c.answerTo(99);
        assert.equal(after.ok, true, `hello after ${line}`);
        assert.equal(c.lines.length, 2, `${line}: ${JSON.stringify(c.lines)}`);
        const [err] = c.lines;
        assert.equal(err!.id, id, line);
        assert.equal(err!.ok, false, line);
        assert.equal(err!.error!.code, 'EINVAL', line);
        assert.match(err!.error!.message, message, line);
      }
      assert.equal(c.closed, false);
      c.close();
      await assertServing(p);
    }),
);

test('a line longer than 1 MiB gets one error answer and its connection is closed', { timeout: 30_000 }, () =>
  withProcess({}, async (p) => {
    // valid JSON, a request the server would answer if it read it whole
    const c = await Raw.open(p);
    c.send(`{"id":1,"op":"hello","pad":"${'a'.repeat(2 * 1024 * 1024)}"}\n`);
    await c.until(() => c.closed, 'the connection closed');
    assert.equal(c.lines.length, 1, JSON.stringify(c.lines));
    assert.equal(c.lines[0]!.id, null);
    assert.equal(c.lines[0]!.error!.code, 'EINVAL');
    assert.match(c.lines[0]!.error!.message, /request line longer than 1048576 bytes/);

    // no newline at all: the server stops at the limit instead of buffering without end
    const d = await Raw.open(p);
    const mib = 'b'.repeat(1024 * 1024);
    d.send(mib);
    d.send(mib);
    await d.until(() => d.closed, 'the connection closed');
    assert.match(d.lines[0]!.error!.message, /longer than/);

    // a line of exactly 1 MiB is still taken
    const e = await Raw.open(p);
    const head = '{"id":3,"op":"hello","pad":"';
    e.send(head + 'c'.repeat(1024 * 1024 - head.length - 2) + '"}\n');
    assert.equal((await e.answerTo(3)).ok, true);
    e.close();
    await assertServing(p);
  }),
);

test(
  'a request split into 1-byte writes, and many requests in one write, are each answered once',
  { timeout: 30_000 },
  () =>
    withProcess({}, async (p) => {
      const c = await Raw.open(p);
      for (const ch of '{"id":7,"op":"hello"}\n{"id":8,"op":"modules"}\n') {
        c.send(ch);
        await new Promise((r) => setImmediate(r));
      }
      assert.equal((await c.answerTo(7)).ok, true);
      assert.equal((await c.answerTo(8)).ok, true);
      let many = '';
      for (let i = 100; i < 1100; i++) many += `{"id":${i},"op":"hello"}\n`;
      c.send(many);
      await c.answerTo(1099);
      assert.equal(c.lines.filter((l) => typeof l.id === 'number' && l.id >= 100 && l.ok === true).length, 1000);
      c.close();
      await assertServing(p);
    }),
);

test('100 connections at once: 64 are served, the rest get EBUSY and are closed at once', { timeout: 30_000 }, () =>
  withProcess({}, async (p) => {
    const all = await Promise.all(Array.from({ length: 100 }, () => Raw.open(p)));
    await Promise.all(all.map((c) => c.until(() => c.closed || c.lines.length > 0, 'a verdict', 1000).catch(() => {})));
    const refused = all.filter((c) => c.lines[0]?.error?.code === 'EBUSY');
    assert.equal(refused.length, 36);
    await Promise.all(refused.map((c) => c.until(() => c.closed, 'closed')));
    const kept = all.filter((c) => !refused.includes(c));
    kept.forEach((c, i) => c.send(`{"id":${i},"op":"hello"}\n`));
    for (const [i, c] of kept.entries()) assert.equal((await c.answerTo(i)).ok, true);
    for (const c of all) c.close();
    // the slots are free again
    await new Promise((r) => setTimeout(r, 100));
    const again = await Promise.all(Array.from({ length: 64 }, () => Raw.open(p)));
    again.forEach((c, i) => c.send(`{"id":${i},"op":"hello"}\n`));
    for (const [i, c] of again.entries()) assert.equal((await c.answerTo(i)).ok, true);
    for (const c of again) c.close();
    await new Promise((r) => setTimeout(r, 100));
    await assertServing(p);
  }),
);

test('an idle connection is closed after LIVEPATCH_CONTROL_IDLE_MS; a dmesg follower is not', { timeout: 30_000 }, () =>
  withProcess({ LIVEPATCH_CONTROL_IDLE_MS: '300' }, async (p) => {
    const follower = await Raw.open(p);
    follower.send('{"id":1,"op":"dmesg","follow":true}\n');
    const idle = await Raw.open(p);
    const used = await Raw.open(p);
    used.send('{"id":1,"op":"hello"}\n');
    await used.answerTo(1);
    const t0 = Date.now();
    await idle.until(() => idle.closed, 'the idle connection closed', 5000);
    await used.until(() => used.closed, 'the used connection closed', 5000);
    assert.ok(Date.now() - t0 < 3000);
    assert.equal(idle.lines[0]?.error?.code, 'ECANCELED');
    assert.match(idle.lines[0]!.error!.message, /without a request/);

    // the follower, silent for longer than the timeout, still streams
    await new Promise((r) => setTimeout(r, 900));
    assert.equal(follower.closed, false);
    p.send('log 1 10');
    await follower.until(() => follower.lines.some((l) => l.id === 1 && 'event' in l), 'an event');
    assert.match(String(follower.lines.find((l) => 'event' in l)!.event), /0 x{10}$/);
    follower.close();
    await assertServing(p);
  }),
);

test(
  'a dmesg follower that does not read is dropped at 1 MiB unread, with a line saying why',
  { timeout: 30_000 },
  () =>
    withProcess({}, async (p) => {
      const c = await Raw.open(p);
      c.send('{"id":5,"op":"dmesg","follow":true}\n');
      await new Promise((r) => setTimeout(r, 100));
      c.socket.pause(); // reads nothing: the answers pile up in the server's write buffer
      p.send('log 40000 100'); // ~4.6 MB of events
      await p.waitFor((o) => 'logged' in o);
      await assertServing(p); // while the follower is stuck
      c.socket.resume();
      const end = await c.answerTo(5);
      assert.equal(end.ok, false);
      assert.equal(end.error!.code, 'ECANCELED');
      assert.match(end.error!.message, /stream dropped: the client left more than 1024 KiB unread/);
      const events = c.lines.filter((l) => 'event' in l).length;
      assert.ok(events > 0 && events < 40000, `${events} events`);
      // the connection itself still works
      c.send('{"id":6,"op":"hello"}\n');
      assert.equal((await c.answerTo(6)).ok, true);
      c.close();
      await assertServing(p);
    }),
);

/** mulberry32: a small seeded PRNG, so a failure replays */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('fuzz: random and truncated lines on 2,000 connections while HTTP requests are served', { timeout: 30_000 }, () =>
  withProcess({}, async (p) => {
    const rand = prng(17);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
    // no 'load', 'unload' or 'sysfs.write': the fuzz tests the socket, not what an operator may do through it
    const ops = [
      'hello',
      'status',
      'modules',
      'packages',
      'sysfs.read',
      'sysfs.list',
      'symbols',
      'dmesg',
      'events',
      'x',
    ];
    const values = [null, true, 0, -1, 1e308, '', 'a', '../..', [], {}, { id: 1 }, 'x'.repeat(300)];
    const line = (): string => {
      const r = rand();
      if (r < 0.4) {
        const req: Record<string, unknown> = { id: pick([1, 2, 'x', null, 1.5, [], undefined]), op: pick(ops) };
        for (const k of ['path', 'module', 'name', 'follow', 'clear', 'value']) if (rand() < 0.3) req[k] = pick(values);
        const text = JSON.stringify(req);
        return rand() < 0.3 ? text.slice(0, Math.floor(rand() * text.length)) : text; // truncated
      }
      if (r < 0.7) return JSON.stringify(pick(values));
      let s = '';
      const n = Math.floor(rand() * 200);
      for (let i = 0; i < n; i++) s += String.fromCharCode(Math.floor(rand() * 256));
      return s;
    };
    const base = `http://127.0.0.1:${p.ready.port as number}/`;
    let stop = false;
    let httpOk = 0;
    const httpFailures: string[] = [];
    const http = (async () => {
      while (!stop && p.child.exitCode === null) {
        try {
          const res = await fetch(base);
          if (res.status === 200 && /^ok \d+$/.test(await res.text())) httpOk++;
          else httpFailures.push(`status ${res.status}`);
        } catch (e) {
          httpFailures.push(String(e));
        }
      }
    })();
    const deadline = Date.now() + 5000;
    let opened = 0;
    const one = async (): Promise<void> => {
      const c = await Raw.open(p);
      const n = Math.floor(rand() * 4);
      let text = '';
      for (let i = 0; i < n; i++) text += line() + '\n';
      if (rand() < 0.5) text += line(); // an unfinished line, then dropped
      try {
        c.send(text);
      } catch {
        // closed by the server already
      }
      if (rand() < 0.5) await new Promise((r) => setTimeout(r, Math.floor(rand() * 20)));
      c.close();
    };
    const workers = Array.from({ length: 16 }, async () => {
      while (opened < 2000) {
        opened++;
        await one();
        if (Date.now() > deadline && opened >= 2000) break;
      }
    });
    try {
      await Promise.all(workers);
      const left = deadline - Date.now();
      if (left > 0) await new Promise((r) => setTimeout(r, left)); // the rest of the 5 s: HTTP alone
    } finally {
      stop = true; // also when a connection failed (the process died): the HTTP loop ends with the test
      await http;
    }
    assert.deepEqual(httpFailures, []);
    assert.ok(httpOk > 50, `${httpOk} HTTP requests`);
    assert.ok(opened >= 2000);
    await assertServing(p);
  }),
);
