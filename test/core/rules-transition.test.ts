// R5: the transition state machine (init, start, per-task switching, the
// stack check, fork, retries, completion, cancel, force, reverse, signals).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { basic, patchOf, recorder, runs } from '../support/fixtures.ts';
import type { KlpEvent } from '../../src/core/index.ts';

test('R5.1: one transition at a time — enable and disable of others are EBUSY, silently', () => {
  const { w, lp, a } = basic();
  lp.enablePatch(patchOf('done', ['b']));
  const sleeper = w.spawn('sleeper');
  sleeper.enter(a);
  lp.enablePatch(patchOf('p1', ['a']));
  w.lp.log.clear();
  assert.throws(() => lp.enablePatch(patchOf('p2', ['c'])), {
    errno: -16,
    code: 'EBUSY',
    message: /patch 'p1' is in transition/,
  });
  assert.throws(() => lp.sysfs.write('done/enabled', '0'), { errno: -16 });
  assert.deepEqual(w.lines(), []);
  assert.deepEqual(lp.sysfs.list(''), ['done', 'p1']);
  assert.deepEqual(
    lp
      .patches()
      .filter((p) => p.transition)
      .map((p) => p.name),
    ['p1'],
  );
  sleeper.leave();
  w.settle();
  for (const t of w.tasks.set) assert.deepEqual([t.patchState, t.pending], [-1, false]);
  assert.ok(lp.patches().every((p) => p.objects.every((o) => o.funcs.every((f) => !f.transition))));
});

test('R5.2: init sets every task to the initial state and every func (unloaded objects too) in transition', () => {
  const { w, lp } = basic();
  const t2 = w.spawn('t2');
  let seen: unknown;
  lp.enablePatch({
    name: 'p',
    objects: [
      {
        name: null,
        funcs: [{ oldName: 'a', newFunc: () => 1 }],
        callbacks: {
          prePatch: () => {
            seen = {
              tasks: [...w.tasks.set].map((t) => [t.patchState, t.pending]),
              flags: lp.patch('p')!.objects.map((o) => o.funcs.map((f) => f.transition)),
            };
          },
        },
      },
      { name: 'absent', funcs: [{ oldName: 'x', newFunc: () => 2 }] },
    ],
  });
  void t2;
  assert.deepEqual(seen, {
    tasks: [
      [0, false],
      [0, false],
    ],
    flags: [[true], [true]],
  });
});

test('R5.3: start logs "starting", marks pending every task not in the target state', () => {
  const { w, lp, a } = basic();
  const sleeper = w.spawn('sleeper');
  sleeper.enter(a);
  const events: KlpEvent[] = [];
  lp.subscribe((e) => {
    if (e.type !== 'log') events.push(e);
  });
  lp.enablePatch(patchOf('p', ['a']));
  assert.deepEqual([sleeper.patchState, sleeper.pending], [0, true]);
  assert.deepEqual([w.init.patchState, w.init.pending], [1, false]); // switched in the first attempt
  assert.deepEqual(events.slice(0, 2), [
    { type: 'transition-started', patch: 'p', target: 1 },
    { type: 'patch-enabled', patch: 'p' },
  ]);
});

test('R5.4/R5.8: a pending task switches the moment it leaves the patched set; completion waits for the retry', () => {
  const { w, lp, a } = basic();
  const sleeper = w.spawn('sleeper');
  sleeper.enter(a);
  lp.enablePatch(patchOf('p', ['a']));
  assert.equal(sleeper.call(a), 'original a'); // still unpatched: old code
  sleeper.leave(); // runtime hook → trySwitchTask
  assert.deepEqual([sleeper.patchState, sleeper.pending], [1, false]);
  assert.equal(sleeper.call(a), 'p:a');
  assert.equal(lp.sysfs.read('p/transition'), '1\n');
  w.tick(1000);
  assert.equal(lp.sysfs.read('p/transition'), '0\n');
});

test('R5.5: a task that cannot switch logs the pr_debug line of klp_try_switch_task (only when enabled)', () => {
  for (const on of [false, true]) {
    const { w, lp, a } = basic({ debug: true, debugSwitchTask: on });
    const sleeper = w.spawn('kworker/0:1');
    sleeper.enter(a);
    lp.enablePatch(patchOf('p', ['a']));
    const line = `livepatch: klp_try_switch_task: kworker/0:1:${sleeper.id} is sleeping on function a`;
    assert.equal(w.lines().includes(line), on);
    assert.equal(lp.trySwitchTask(sleeper), false);
  }
});

test('R5.6: target PATCHED — a frame of the previous version blocks; frames elsewhere do not', () => {
  const { w, lp, a, b } = basic({ debug: true, debugSwitchTask: true });
  lp.enablePatch(patchOf('p1', ['a']));
  const old = w.spawn('old');
  old.enter(a); // runs p1's a
  const other = w.spawn('other');
  other.enter(b); // b is not in p2
  lp.enablePatch(patchOf('p2', ['a']));
  assert.deepEqual([old.pending, other.pending], [true, false]);
  assert.equal(other.patchState, 1);
});

test('R5.6: target UNPATCHED — a frame running the code being removed blocks', () => {
  const { w, lp, a } = basic();
  lp.enablePatch(patchOf('p', ['a']));
  const t = w.spawn('t');
  t.enter(a); // runs p's a
  lp.disable('p');
  assert.deepEqual([t.patchState, t.pending], [1, true]);
  assert.equal(t.call(a), 'p:a'); // still sees the patched set
  t.leave();
  w.settle();
  assert.equal(runs(w, a), 'original a');
});

test('R5.6: objects that are not patched are skipped; the blocker named is the first func of the patch', () => {
  const { w, lp, a, c } = basic({ debug: true, debugSwitchTask: true });
  const mod = w.module('m', true);
  const x = mod.define('x');
  w.load(mod, { log: false });
  const t = w.spawn('t');
  t.enter(c);
  t.enter(x);
  t.enter(a); // frames c, x, a (innermost)
  lp.enablePatch({
    name: 'p',
    objects: [
      {
        name: null,
        funcs: [
          { oldName: 'a', newFunc: () => 1 },
          { oldName: 'c', newFunc: () => 3 },
        ],
      },
      { name: 'm', funcs: [{ oldName: 'x', newFunc: () => 2 }] },
    ],
  });
  const sleeping = (fn: string) => `livepatch: klp_try_switch_task: t:${t.id} is sleeping on function ${fn}`;
  assert.equal(w.lines().at(-1), sleeping('a')); // a comes first in the patch, though c is met first
  t.stack.pop(); // leaves a
  w.tick(1000);
  assert.equal(w.lines().at(-1), sleeping('c'));
  w.unload(mod, { log: false }); // the object m is no longer patched
  w.tick(1000);
  assert.equal(w.lines().at(-1), sleeping('c'));
  t.stack.splice(0, 1); // leaves c but stays inside m's x
  w.tick(1000);
  assert.equal(lp.transitionStatus(), null, 'a frame of an unpatched object does not block');
  assert.equal(t.stack.length, 1);
});

test('R5.7: fork — under "global" a child inherits the parent state; under "task" it switches at once', () => {
  for (const consistency of ['task', 'global'] as const) {
    const { w, lp, a } = basic();
    const parent = w.spawn('parent');
    parent.enter(a);
    lp.enablePatch(patchOf('p', ['a'], { consistency }));
    const child = w.spawn('child', parent);
    if (consistency === 'task') assert.deepEqual([child.patchState, child.pending], [1, false]);
    else assert.deepEqual([child.patchState, child.pending], [0, true]);
    parent.leave();
    w.settle();
    const later = w.spawn('later', parent);
    assert.deepEqual([later.patchState, later.pending], [-1, false]);
  }
});

test('R5.9: failed attempts retry every second; completion comes at the retry after the last task switched', () => {
  const { w, lp, a } = basic({ debug: true });
  const sleeper = w.spawn('sleeper');
  sleeper.enter(a);
  lp.enablePatch(patchOf('p', ['a']));
  assert.equal(w.clock.pending, 1);
  w.tick(3500);
  assert.equal(lp.transitionStatus()!.retries, 4); // t=0, 1, 2, 3 s
  sleeper.stack.pop(); // leaves without the hook: only the retry notices
  w.tick(400);
  assert.equal(lp.sysfs.read('p/transition'), '1\n');
  w.tick(100);
  assert.equal(lp.sysfs.read('p/transition'), '0\n');
  const done = lp.log.records().find((r) => r.text.endsWith('patching complete'))!;
  assert.equal(done.time, 4000);
  assert.equal(w.clock.pending, 0);
});

test('R5.10: completion — replaced patches unpatched and nops gone before post_patch; tasks idle; message last', () => {
  const { w, lp, a, b } = basic({ debug: true });
  lp.enablePatch(patchOf('old', ['a', 'b']));
  let atPostPatch: unknown;
  lp.enablePatch(
    patchOf('new', ['a'], {
      replace: true,
      callbacks: {
        postPatch: () => {
          atPostPatch = {
            a: lp.stackOf(a).map((f) => f.patchName),
            b: lp.stackOf(b).length,
            tasks: [...w.tasks.set].map((t) => t.patchState),
            old: lp.sysfs.read('old/enabled'),
            flags: lp.stackOf(a).map((f) => f.transition),
          };
        },
      },
    }),
  );
  assert.deepEqual(atPostPatch, { a: ['new'], b: 0, tasks: [-1], old: '0\n', flags: [false] });
  assert.deepEqual(w.klpLines().slice(-2), [
    "livepatch: 'new': completing patching transition",
    "livepatch: 'new': patching complete",
  ]);
});

test('R5.11: cancel — a failing pre_patch runs post_unpatch only for objects whose pre_patch succeeded', () => {
  const { w, lp } = basic({ debug: true });
  const mod = w.module('m', true);
  mod.define('x');
  w.load(mod, { log: false });
  const calls: string[] = [];
  const cbs = recorder(calls, { prePatch: (n) => (n === 'm' ? -19 : 0) });
  assert.throws(
    () =>
      lp.enablePatch({
        name: 'p',
        objects: [
          { name: null, funcs: [{ oldName: 'a', newFunc: () => 1 }], callbacks: cbs },
          { name: 'm', funcs: [{ oldName: 'x', newFunc: () => 2 }], callbacks: cbs },
        ],
      }),
    { errno: -19 },
  );
  assert.deepEqual(calls, ['pre_patch:vmlinux', 'pre_patch:m', 'post_unpatch:vmlinux']);
  assert.ok(!w.klpLines().some((l) => l.includes('starting')));
  assert.deepEqual(lp.patchedSlots(), []);
});

test('R5.12: force switches every pending task, completes at the next retry and marks patches', () => {
  // Patching, not replace: nobody is marked.
  {
    const { w, lp, a } = basic();
    const s = w.spawn('s');
    s.enter(a);
    lp.enablePatch(patchOf('p', ['a']));
    lp.sysfs.write('p/force', '1');
    assert.deepEqual([s.patchState, s.pending], [1, false]);
    assert.equal(lp.sysfs.read('p/transition'), '1\n');
    w.tick(1000);
    assert.equal(lp.sysfs.read('p/transition'), '0\n');
    assert.deepEqual(
      lp.patches().map((p) => p.forced),
      [false],
    );
    assert.ok(w.lines().includes('livepatch: forcing remaining tasks to the patched state'));
  }
  // Patching with replace: every other patch is marked.
  {
    const { w, lp, a } = basic();
    lp.enablePatch(patchOf('old', ['b']));
    const s = w.spawn('s');
    s.enter(a);
    lp.enablePatch(patchOf('new', ['a'], { replace: true }));
    lp.force('new');
    assert.deepEqual(
      lp.patches().map((p) => [p.name, p.forced]),
      [
        ['old', true],
        ['new', false],
      ],
    );
    w.tick(1000);
    assert.deepEqual(lp.forcedPatches(), ['old']);
    assert.throws(() => w.unloadPatch('old'), /in use/);
  }
  // Unpatching: the transition patch is marked; same text; no callbacks.
  {
    const { w, lp, a } = basic();
    const calls: string[] = [];
    lp.enablePatch(patchOf('p', ['a'], { callbacks: recorder(calls) }));
    const s = w.spawn('s');
    s.enter(a);
    lp.disable('p');
    calls.length = 0;
    lp.force('p');
    assert.deepEqual(calls, []);
    assert.equal(lp.patch('p')!.forced, true);
    w.tick(1000);
    assert.deepEqual(calls, ['post_unpatch:vmlinux']);
    assert.deepEqual(lp.forcedPatches(), ['p']);
    assert.ok(w.lines().includes('livepatch: forcing remaining tasks to the patched state'));
    assert.throws(() => lp.enablePatch(patchOf('p', ['a'])), { code: 'EEXIST', message: /forced/ });
  }
});

test("R5.13: reverse — no callbacks at reverse, pending recomputed, completion via the retry with the final target's callbacks", () => {
  const { w, lp, a } = basic({ debug: true });
  const calls: string[] = [];
  const s = w.spawn('s');
  s.enter(a);
  lp.enablePatch(patchOf('p', ['a'], { callbacks: recorder(calls) }));
  calls.length = 0;
  w.lp.log.clear();
  lp.sysfs.write('p/enabled', '0'); // reverse patching → unpatching
  assert.deepEqual(calls, []);
  assert.deepEqual(w.klpLines(), [
    "livepatch: 'p': reversing transition from patching to unpatching",
    "livepatch: 'p': starting unpatching transition",
  ]);
  assert.equal(lp.sysfs.read('p/enabled'), '0\n');
  assert.deepEqual([s.patchState, s.pending], [0, false]); // already where it is going
  assert.deepEqual([w.init.patchState, w.init.pending], [1, true]);
  lp.sysfs.write('p/enabled', '1'); // and back: unpatching → patching
  assert.equal(lp.sysfs.read('p/enabled'), '1\n');
  assert.deepEqual([s.pending, w.init.pending], [true, false]);
  s.leave();
  w.settle();
  assert.deepEqual(calls, ['post_patch:vmlinux']);
  assert.ok(w.klpLines().includes("livepatch: 'p': reversing transition from unpatching to patching"));
  // Reverse a disable: pre_unpatch ran at disable, post_patch at completion.
  s.enter(a);
  lp.disable('p');
  lp.sysfs.write('p/enabled', 'y');
  s.leave();
  w.settle();
  assert.deepEqual(calls, ['post_patch:vmlinux', 'pre_unpatch:vmlinux', 'post_patch:vmlinux']);
  assert.equal(lp.sysfs.read('p/enabled'), '1\n');
});

test('R5.14: pending tasks are signalled at the 15th retry ("signaling remaining tasks"), then every 15', () => {
  const { w, lp, a } = basic();
  const s = w.spawn('s');
  s.enter(a);
  const idle = w.spawn('idle');
  lp.enablePatch(patchOf('p', ['a']));
  w.tick(14_000);
  assert.equal(s.signals, 0);
  w.tick(1000); // t = 15 s: the 16th attempt, klp_signals_cnt == 15
  assert.equal(s.signals, 1);
  assert.equal(idle.signals, 0); // only pending tasks
  assert.equal(w.lines().filter((l) => l === 'livepatch: signaling remaining tasks').length, 1);
  assert.equal(w.lp.log.records().find((r) => r.text === 'livepatch: signaling remaining tasks')!.time, 15_000);
  w.tick(15_000);
  assert.equal(s.signals, 2);
  assert.equal(w.lines().filter((l) => l === 'livepatch: signaling remaining tasks').length, 1);
  assert.equal(lp.transitionStatus()!.signalRounds, 2);
  // A task that unwinds when signalled lets the transition finish.
  s.onSignal = (t) => t.unwind();
  w.tick(15_000);
  w.tick(1000);
  assert.equal(lp.transitionStatus(), null);
});

test("transitionSeq changes when every task's state is set at once: init, reverse, completion", () => {
  const { w, lp, a } = basic();
  const s = w.spawn('s');
  s.enter(a);
  const seq0 = lp.transitionSeq;
  lp.enablePatch(patchOf('p', ['a']));
  const seq1 = lp.transitionSeq;
  assert.ok(seq1 > seq0, 'init');
  lp.sysfs.write('p/enabled', '0'); // reverse
  const seq2 = lp.transitionSeq;
  assert.ok(seq2 > seq1, 'reverse');
  s.leave();
  w.tick(1000);
  assert.equal(lp.transitionStatus(), null);
  assert.ok(lp.transitionSeq > seq2, 'completion');
});

test('R5.14: an opportunistic tryComplete() that fails counts as no retry and signals nobody', () => {
  const { w, lp, a } = basic();
  const s = w.spawn('s');
  s.enter(a);
  lp.enablePatch(patchOf('p', ['a']));
  for (let i = 0; i < 40; i++) assert.equal(lp.tryComplete(), false);
  assert.equal(lp.transitionStatus()!.retries, 1); // only the first, synchronous attempt
  w.tick(14_000);
  assert.equal(s.signals, 0);
  w.tick(1000);
  assert.equal(s.signals, 1); // the 15th retry, as without the extra attempts
});
