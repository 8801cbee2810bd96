// Smoke: the core's public surface (src/core/index.ts) driven through ports
// written by hand, without the simulator — what a runtime must provide to get
// a patch enabled, dispatched, waited for, and taken away again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Livepatch, dispatch, type Frame, type Slot, type Task } from '../../src/core/index.ts';

test('smoke: enable, dispatch, a blocked task, the retry, sysfs and disable through the public API', () => {
  let now = 0;
  const timers: { at: number; fn: () => void; cancelled: boolean }[] = [];
  const greet: Slot = { id: 1 };
  const frames: Frame[] = [];
  const task: Task = { id: 7, name: 'worker', patchState: -1, pending: false, frames: () => frames };
  const updates: number[] = [];
  const lp = new Livepatch({
    clock: {
      now: () => now,
      schedule: (ms, fn) => {
        const t = { at: now + ms, fn, cancelled: false };
        timers.push(t);
        return {
          cancel: () => {
            t.cancelled = true;
          },
        };
      },
    },
    tasks: {
      [Symbol.iterator]: () => [task][Symbol.iterator](),
      signal: () => {},
    },
    vmlinux: { lookup: (name) => (name === 'greet' ? [{ name, slot: greet }] : []) },
    sink: { update: (slot) => updates.push(slot.id) },
  });
  const runTimers = (ms: number): void => {
    now += ms;
    for (const t of timers.splice(0)) if (!t.cancelled && t.at <= now) t.fn();
  };

  // The worker sleeps inside the original greet (version 0): it blocks (R5.6).
  frames.push({ slot: greet, version: 0 });
  const newFunc = (): string => 'Hello!';
  lp.enablePatch({ name: 'fix', objects: [{ name: null, funcs: [{ oldName: 'greet', newFunc }] }] });
  assert.equal(lp.sysfs.read('fix/transition'), '1\n');
  assert.deepEqual([task.patchState, task.pending], [0, true]);
  assert.equal(dispatch(lp.stackOf(greet), task.patchState), null); // still the original for it
  assert.equal(dispatch(lp.stackOf(greet), 1)?.newFunc, newFunc); // the new code for switched tasks
  assert.deepEqual(updates, [1]);
  assert.equal(lp.transitionStatus()!.pending[0]!.blocking[0]!.function, 'greet');

  // It leaves the function; the retry a second later switches it and completes.
  frames.pop();
  runTimers(1000);
  assert.equal(lp.transitionStatus(), null);
  assert.deepEqual([task.patchState, task.pending], [-1, false]);
  assert.equal(dispatch(lp.stackOf(greet), task.patchState)?.newFunc, newFunc);
  assert.deepEqual(lp.sysfs.list('fix'), ['enabled', 'transition', 'force', 'replace', 'stack_order', 'vmlinux']);
  assert.equal(lp.sysfs.read('fix/enabled'), '1\n');

  // echo 0 > enabled: nothing blocks, so the patch is gone at once.
  assert.equal(lp.sysfs.write('fix/enabled', '0'), 1);
  assert.deepEqual(lp.sysfs.list(''), []);
  assert.equal(dispatch(lp.stackOf(greet), task.patchState), null);
  assert.deepEqual(lp.patchedSlots(), []);
  assert.equal(timers.filter((t) => !t.cancelled).length, 0);
  assert.deepEqual(lp.log.lines(), [
    "livepatch: enabling patch 'fix'",
    "livepatch: 'fix': starting patching transition",
    "livepatch: 'fix': patching complete",
    "livepatch: 'fix': starting unpatching transition",
    "livepatch: 'fix': unpatching complete",
  ]);
});
