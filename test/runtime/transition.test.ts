/**
 * Transitions in a real process (issue 4): a task asleep in a patched async
 * function holds the transition open, reverse, force, a module loaded after
 * the patch, atomic replace, closures, and per-task consistency.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LpProcess } from '../support/lp-process.ts';

const app = 'test/runtime/fixtures/app/main.mjs';
const P = 'test/runtime/fixtures/patches/';

interface Status {
  transition: null | {
    patch: string;
    direction: string;
    pending: {
      id: number;
      name: string;
      waitingMs: number;
      blocking: { function: string; module: string; line: number }[];
    }[];
  };
}

test('a task asleep in a patched async function holds the transition open until it leaves', async () => {
  const p = await LpProcess.start(app);
  try {
    p.send('hold 1');
    await p.waitFor((o) => o.held === '1');
    const load = await p.cli('load', P + 'fix_slow.mjs', '--wait', '--timeout', '1.5');
    assert.equal(load.code, 75, load.stderr);
    assert.match(load.stdout, /transition in progress/);
    assert.match(
      load.stderr,
      /still in transition after 1\.5 s; these tasks block it:\n  task cmd hold 1:\d+, waiting [\d.]+ s: in slowGreet \(test\/runtime\/fixtures\/app\/lib\.mjs:5\)/,
    );
    const st = (await p.json('status')) as Status;
    assert.equal(st.transition?.patch, 'fix_slow');
    assert.deepEqual(
      st.transition?.pending.map((t) => [t.name, t.blocking.map((b) => b.function)]),
      [['cmd hold 1', ['slowGreet']]],
    );
    assert.equal((await p.cli('sysfs', 'read', 'fix_slow/transition')).stdout, '1\n');
    // a second load while the transition runs: EBUSY
    const busy = await p.cli('load', P + 'fix_greet.mjs');
    assert.equal(busy.code, 16, busy.stderr);
    // new work switches at once (a new task holds no frame) and runs the new code
    p.send('hold 2');
    await p.waitFor((o) => o.held === '2');
    p.send('release 2');
    assert.deepEqual(await p.waitFor((o) => o.released === '2'), { released: '2', result: 'new 2' });
    // the old task finishes on the old code, and then the transition completes —
    // right away, not at the next retry a second later
    const released = performance.now();
    p.send('release 1');
    assert.deepEqual(await p.waitFor((o) => o.released === '1'), { released: '1', result: 'Hello, 1' });
    await waitForNoTransition(p);
    assert.ok(
      performance.now() - released < 900,
      `completed ${performance.now() - released} ms after the last task left`,
    );
    assert.equal((await p.cli('sysfs', 'read', 'fix_slow/transition')).stdout, '0\n');
    assert.match((await p.cli('dmesg')).stdout, /'fix_slow': patching complete/);
  } finally {
    await p.stop();
  }
});

async function waitForNoTransition(p: LpProcess): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const st = (await p.json('status')) as Status;
    if (st.transition === null) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the transition did not complete');
}

test('reverse: writing 0 to enabled during the patching transition takes it back', async () => {
  const p = await LpProcess.start(app);
  try {
    p.send('hold 1');
    await p.waitFor((o) => o.held === '1');
    assert.equal((await p.cli('load', P + 'fix_slow.mjs')).code, 0);
    assert.equal((await p.cli('disable', 'fix_slow')).code, 0);
    const st = (await p.json('status')) as Status;
    assert.equal(st.transition?.direction, 'unpatching');
    assert.equal((await p.cli('sysfs', 'read', 'fix_slow/enabled')).stdout, '0\n');
    // the held task never switched: it is already where the reversed transition goes
    await waitForNoTransition(p);
    p.send('release 1');
    assert.deepEqual(await p.waitFor((o) => o.released === '1'), { released: '1', result: 'Hello, 1' });
    const dmesg = (await p.cli('dmesg')).stdout;
    assert.match(
      dmesg,
      /'fix_slow': starting patching transition\n.*'fix_slow': starting unpatching transition\n.*'fix_slow': unpatching complete/,
    );
    assert.equal(((await p.json('list')) as { patches: unknown[] }).patches.length, 0);
  } finally {
    await p.stop();
  }
});

test('force completes a blocked transition; a patch forced out can never be unloaded (R5.12, R11.3)', async () => {
  const p = await LpProcess.start(app);
  try {
    p.send('hold 1'); // asleep in the old slowGreet
    await p.waitFor((o) => o.held === '1');
    assert.equal((await p.cli('load', P + 'fix_slow.mjs')).code, 0);
    assert.equal((await p.cli('force', 'fix_slow')).code, 0);
    await waitForNoTransition(p);
    assert.match((await p.cli('dmesg')).stdout, /livepatch: forcing remaining tasks to the patched state/);
    // forcing a patching transition of a non-replace patch marks nobody (modern R5.12)
    assert.equal(((await p.json('list')) as { patches: { forced: boolean }[] }).patches[0]!.forced, false);
    p.send('hold 2'); // asleep in the new slowGreet
    await p.waitFor((o) => o.held === '2');
    assert.equal((await p.cli('disable', 'fix_slow')).code, 0);
    const st = (await p.json('status')) as Status;
    // only task 2 blocks the unpatching: task 1 sleeps in the version it will run again
    assert.deepEqual(
      st.transition?.pending.map((t) => t.name),
      ['cmd hold 2'],
    );
    assert.equal((await p.cli('force', 'fix_slow')).code, 0);
    await waitForNoTransition(p);
    p.send('release 1');
    p.send('release 2');
    assert.equal((await p.waitFor((o) => o.released === '1')).result, 'Hello, 1');
    assert.equal((await p.waitFor((o) => o.released === '2')).result, 'new 2');
    const unload = await p.cli('unload', 'fix_slow');
    assert.equal(unload.code, 16);
    assert.match(unload.stderr, /was forced; its module can never be unloaded/);
    assert.equal((await p.cli('load', P + 'fix_slow.mjs')).code, 17);
  } finally {
    await p.stop();
  }
});

test('a patch for a module that loads later applies when it loads, with its callbacks', async () => {
  const p = await LpProcess.start(app);
  try {
    assert.equal((await p.cli('load', P + 'later.mjs')).code, 0);
    const list = (await p.json('list')) as {
      patches: { objects: { name: string; loaded: boolean; patched: boolean }[] }[];
    };
    assert.deepEqual(
      list.patches[0]!.objects.map((o) => [o.loaded, o.patched]),
      [[false, false]],
    );
    assert.equal((await p.cli('sysfs', 'read', 'later/test!runtime!fixtures!app!later.mjs/patched')).stdout, '0\n');
    p.send('import later');
    assert.deepEqual(await p.waitFor((o) => o.imported === 'later'), { imported: 'later', result: 'later-v2' });
    assert.equal((await p.cli('sysfs', 'read', 'later/test!runtime!fixtures!app!later.mjs/patched')).stdout, '1\n');
    const dmesg = (await p.cli('dmesg')).stdout.split('\n').map((l) => l.replace(/^\[[^\]]*\] /, ''));
    const i = dmesg.indexOf(
      "livepatch: applying patch 'later' to loading module 'test/runtime/fixtures/app/later.mjs'",
    );
    assert.ok(i > 0, dmesg.join('\n'));
    assert.deepEqual(dmesg.slice(i + 1, i + 3), [
      'later: pre_patch test/runtime/fixtures/app/later.mjs coming',
      'later: post_patch test/runtime/fixtures/app/later.mjs coming',
    ]);
  } finally {
    await p.stop();
  }
});

test('atomic replace: a cumulative patch replaces the others; what it does not carry runs original code', async () => {
  const p = await LpProcess.start(app);
  try {
    assert.equal((await p.cli('load', P + 'v2.mjs')).code, 0);
    assert.equal(await p.call('version'), 'v2');
    assert.equal(await p.call('greet', 'Ada'), 'Hi, Ada');
    assert.equal((await p.cli('load', P + 'v3_replace.mjs')).code, 0);
    assert.equal(await p.call('version'), 'v3');
    assert.equal(await p.call('greet', 'Ada'), 'Hello, Ada');
    const list = (await p.json('list')) as {
      patches: { name: string; replace: boolean }[];
      modules: { name: string; state: string }[];
    };
    assert.deepEqual(
      list.patches.map((x) => [x.name, x.replace]),
      [['v3_replace', true]],
    );
    assert.deepEqual(
      list.modules.map((m) => [m.name, m.state]),
      [
        ['v2', 'gone'],
        ['v3_replace', 'enabled'],
      ],
    );
    assert.equal((await p.cli('unload', 'v2')).code, 0); // replaced: its module can go without an echo 0
    assert.match((await p.cli('dmesg')).stdout, /v3_replace: post_patch test\/runtime\/fixtures\/app\/lib\.mjs live/);
  } finally {
    await p.stop();
  }
});

test('a closure created before the patch reaches its captured variables through closure()', async () => {
  const p = await LpProcess.start(app);
  try {
    await p.call('counter');
    await p.call('counter');
    assert.equal(await p.call('counter'), 3);
    assert.equal((await p.cli('load', P + 'counter.mjs')).code, 0);
    assert.equal(await p.call('counter'), 103);
    assert.equal((await p.cli('disable', 'counter')).code, 0);
    assert.equal(await p.call('counter'), 104); // the state the patch changed is kept
  } finally {
    await p.stop();
  }
});

test("closure() inside a bundler-style wrapper reaches the wrapper's variables (one accessor for a function that runs once)", async () => {
  const p = await LpProcess.start(app);
  try {
    assert.equal(await p.call('hitBundled'), 'bundled 1');
    assert.equal((await p.cli('load', P + 'bundled.mjs')).code, 0);
    assert.equal(await p.call('hitBundled'), 'bundled patched 11');
    const syms = (await p.json('symbols', 'test/runtime/fixtures/app/lib.mjs')) as { name: string }[];
    assert.ok(syms.some((s) => s.name === '<anonymous>/hit'));
  } finally {
    await p.stop();
  }
});

test('per-task consistency under concurrent work: a task never mixes old and new functions of one patch', async () => {
  const p = await LpProcess.start(app);
  try {
    const ids = Array.from({ length: 24 }, (_, i) => String(i));
    const results = new Map<string, unknown>();
    const collect = Promise.all(
      ids.map(async (id) => results.set(id, (await p.waitFor((o) => o.pair === id, 20_000)).result)),
    );
    for (const id of ids) {
      p.send(`pair ${id}`);
      if (id === '10') {
        const r = await p.cli('load', P + 'fix_pair.mjs');
        assert.equal(r.code, 0, r.stderr);
      } else await new Promise((r) => setTimeout(r, 5));
    }
    await collect;
    const seen = new Set([...results.values()].map((r) => JSON.stringify(r)));
    assert.ok(
      [...seen].every((s) => s === '["old","old"]' || s === '["new","new"]'),
      [...seen].join(' '),
    );
    assert.ok(seen.has('["old","old"]') && seen.has('["new","new"]'), 'both worlds were seen');
  } finally {
    await p.stop();
  }
});

test('a worker thread is patched with its process, and one that starts later catches up', async () => {
  const p = await LpProcess.start(app);
  try {
    p.send('worker Ada'); // starts the worker
    assert.deepEqual(await p.waitFor((o) => 'worker' in o), { worker: 'Hello, Ada' });
    const load = await p.cli('load', P + 'fix_greet.mjs');
    assert.equal(load.code, 0, load.stderr);
    assert.match(load.stdout, /worker \d+: ok/);
    p.send('worker Ada');
    assert.deepEqual(await p.waitFor((o) => 'worker' in o), { worker: 'Hello, Ada!' });
    const st = (await p.json('status')) as { workers: { threadId: number; patches: { name: string }[] }[] };
    assert.deepEqual(
      st.workers.map((w) => w.patches.map((x) => x.name)),
      [['fix_greet']],
    );
    // a worker that starts after the load replays the live patches
    p.send('newworker Bob');
    assert.deepEqual(await p.waitFor((o) => 'newworker' in o), { newworker: 'Hello, Bob!' });
    assert.equal((await p.cli('disable', 'fix_greet')).code, 0);
    p.send('worker Ada');
    assert.deepEqual(await p.waitFor((o) => 'worker' in o), { worker: 'Hello, Ada' });
  } finally {
    await p.stop();
  }
});
