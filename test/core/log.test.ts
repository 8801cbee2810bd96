// R15: the log — a bounded ring buffer with the kernel's texts and levels,
// a dmesg formatter, clear(), printk, debug switches and structured events.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimWorld } from '../support/sim.ts';
import { basic, patchOf } from '../support/fixtures.ts';
import { formatRecord, type KlpEvent } from '../../src/core/index.ts';

test('R15: the ring buffer keeps the newest records; seq never rewinds, not even after clear()', () => {
  const w = new SimWorld({ logSize: 3 });
  for (let i = 0; i < 5; i++) w.lp.printk(`line ${i}`);
  assert.deepEqual(
    w.lp.log.records().map((r) => [r.seq, r.text]),
    [
      [2, 'line 2'],
      [3, 'line 3'],
      [4, 'line 4'],
    ],
  );
  w.lp.log.clear();
  assert.deepEqual(w.lp.log.records(), []);
  w.lp.printk('after');
  assert.deepEqual(
    w.lp.log.records().map((r) => r.seq),
    [5],
  );
});

test('R15: printk splits lines, defaults to KERN_WARNING (4) and validates the level', () => {
  const w = new SimWorld();
  w.lp.printk('one\ntwo\n');
  w.lp.printk('info', 6);
  assert.deepEqual(
    w.lp.log.records().map((r) => [r.text, r.level]),
    [
      ['one', 4],
      ['two', 4],
      ['info', 6],
    ],
  );
  assert.throws(() => w.lp.printk('x', 8), RangeError);
});

test('R15: the levels of the messages', () => {
  const { w, lp, a } = basic({ debug: true });
  assert.throws(() => lp.enablePatch(patchOf('bad', ['nope'])));
  assert.throws(() => lp.enablePatch(patchOf('cb', ['a'], { callbacks: { prePatch: () => -1 } })));
  const s = w.spawn('s');
  s.enter(a);
  lp.enablePatch(patchOf('p', ['a']));
  lp.force('p');
  const level = (text: string) => lp.log.records().find((r) => r.text === `livepatch: ${text}`)?.level;
  assert.equal(level("symbol 'nope' not found in symbol table"), 3);
  assert.equal(level("enabling patch 'cb'"), 5);
  assert.equal(level("'cb': initializing patching transition"), 7);
  assert.equal(level("pre-patch callback failed for object 'vmlinux'"), 4);
  assert.equal(level("failed to enable patch 'cb'"), 4);
  assert.equal(level("'cb': canceling patching transition, going to unpatch"), 7);
  assert.equal(level("'p': starting patching transition"), 5);
  assert.equal(level('forcing remaining tasks to the patched state'), 4);
});

test('R15: pr_debug lines only with dynamic debug on (kernel default off)', () => {
  const off = basic({});
  off.lp.enablePatch(patchOf('p', ['a']));
  assert.deepEqual(off.w.lines(), [
    "livepatch: enabling patch 'p'",
    "livepatch: 'p': starting patching transition",
    "livepatch: 'p': patching complete",
  ]);
  const on = basic({ debug: true });
  on.lp.enablePatch(patchOf('p', ['a']));
  assert.equal(on.w.lines().length, 5);
  on.lp.log.debugOn = false; // switchable at run time, like dynamic_debug/control
  on.lp.disable('p');
  assert.equal(on.w.lines().length, 7);
});

test('R15: dmesg format "[%5lu.%06lu] text"', () => {
  assert.equal(formatRecord({ seq: 0, time: 5244.332, level: 5, text: 'livepatch: x' }), '[    5.244332] livepatch: x');
  assert.equal(formatRecord({ seq: 0, time: 0, level: 5, text: 'y' }), '[    0.000000] y');
  assert.equal(formatRecord({ seq: 0, time: 123456789.5, level: 5, text: 'z' }), '[123456.789500] z');
});

test('R15: structured events for the lifecycle, and a throwing subscriber changes nothing', () => {
  const { w, lp, a } = basic();
  const events: KlpEvent[] = [];
  lp.subscribe(() => {
    throw new Error('bad listener');
  });
  const off = lp.subscribe((e) => {
    if (e.type !== 'log') events.push(e);
  });
  const s = w.spawn('s');
  s.enter(a);
  lp.enablePatch(patchOf('p', ['a']));
  s.leave();
  w.settle();
  lp.disable('p');
  off();
  lp.enablePatch(patchOf('q', ['a']));
  const init = w.init.id;
  assert.deepEqual(events, [
    { type: 'transition-started', patch: 'p', target: 1 },
    { type: 'patch-enabled', patch: 'p' },
    { type: 'task-switched', task: init, name: 'swapper', state: 1 },
    { type: 'task-switched', task: s.id, name: 's', state: 1 },
    { type: 'transition-completed', patch: 'p', target: 1, forced: false },
    { type: 'transition-started', patch: 'p', target: 0 },
    { type: 'task-switched', task: init, name: 'swapper', state: 0 },
    { type: 'task-switched', task: s.id, name: 's', state: 0 },
    { type: 'transition-completed', patch: 'p', target: 0, forced: false },
    { type: 'patch-freed', patch: 'p', forced: false, reason: 'disabled' },
  ]);
  const logs: string[] = [];
  lp.subscribe((e) => {
    if (e.type === 'log') logs.push(e.record.text);
  });
  lp.printk('hello from a patch');
  assert.deepEqual(logs, ['hello from a patch']);
});
