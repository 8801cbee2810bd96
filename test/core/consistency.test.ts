// Consistency models beyond the kernel (issue 2 §3, seed 001, R17.3):
// 'function' (the historic patch immediate), 'global' (kpatch), per-func
// immediate, and the fix of the flaw that got immediate removed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { basic, patchOf, recorder } from '../support/fixtures.ts';

test('consistency "function" (R17.3): every caller switches at once; no pending tasks, no transition flags; messages and callbacks unchanged', () => {
  const { w, lp, a } = basic({ debug: true, sink: true });
  const s = w.spawn('s');
  s.enter(a); // sleeping in the original a
  const calls: string[] = [];
  let flagsAtPrePatch: boolean[] = [];
  lp.enablePatch(
    patchOf('p', ['a'], {
      consistency: 'function',
      callbacks: {
        ...recorder(calls),
        prePatch: () => {
          calls.push('pre_patch:vmlinux');
          flagsAtPrePatch = lp.patch('p')!.objects[0]!.funcs.map((f) => f.transition);
        },
      },
    }),
  );
  assert.deepEqual(flagsAtPrePatch, [false]);
  assert.equal(lp.transitionStatus(), null); // completed inside the call
  assert.deepEqual([s.patchState, s.pending], [-1, false]);
  assert.equal(s.call(a), 'p:a'); // even the sleeper's next call runs the new code
  assert.equal(s.stack[0]!.version, 0); // ...while its old frame still runs the original
  lp.disable('p');
  assert.equal(s.call(a), 'original a');
  assert.deepEqual(calls, ['pre_patch:vmlinux', 'post_patch:vmlinux', 'pre_unpatch:vmlinux', 'post_unpatch:vmlinux']);
  assert.deepEqual(w.klpLines(), [
    "livepatch: enabling patch 'p'",
    "livepatch: 'p': initializing patching transition",
    "livepatch: 'p': starting patching transition",
    "livepatch: 'p': completing patching transition",
    "livepatch: 'p': patching complete",
    "livepatch: 'p': initializing unpatching transition",
    "livepatch: 'p': starting unpatching transition",
    "livepatch: 'p': completing unpatching transition",
    "livepatch: 'p': unpatching complete",
  ]);
  assert.equal(w.clock.pending, 0);
});

test('consistency "function" with replace: older patches go at once', () => {
  const { w, lp, a, b } = basic();
  lp.enablePatch(patchOf('old', ['a', 'b']));
  const s = w.spawn('s');
  s.enter(a);
  lp.enablePatch(patchOf('new', ['a'], { replace: true, consistency: 'function' }));
  assert.deepEqual(lp.sysfs.list(''), ['new']);
  assert.deepEqual([s.call(a), s.call(b)], ['new:a', 'original b']);
});

test('consistency "global": nobody switches until no task blocks, then everyone in the same attempt', () => {
  const { w, lp, a, b } = basic({ debug: true, debugSwitchTask: true });
  const blocker = w.spawn('blocker');
  blocker.enter(a);
  const free = w.spawn('free');
  lp.enablePatch(patchOf('p', ['a', 'b'], { consistency: 'global' }));
  assert.deepEqual([free.patchState, free.pending], [0, true]); // free of frames, still waiting
  assert.equal(free.call(b), 'original b'); // everyone keeps the old set
  assert.ok(w.lines().includes(`livepatch: klp_try_switch_task: blocker:${blocker.id} is sleeping on function a`));
  blocker.stack.pop();
  assert.equal(lp.trySwitchTask(free), false); // no individual switching
  assert.equal(free.patchState, 0);
  const switchedAt: number[] = [];
  lp.subscribe((e) => {
    if (e.type === 'task-switched') switchedAt.push(w.clock.now());
  });
  w.tick(1000);
  assert.equal(lp.transitionStatus(), null);
  assert.equal(new Set(switchedAt).size, 1); // all at once
  assert.equal(switchedAt.length, 3); // init, blocker, free
  assert.equal(free.call(b), 'p:b');
});

test('consistency "global": a task holding new-version frames blocks the unpatch; reverse and force work', () => {
  const { w, lp, a } = basic();
  const t = w.spawn('t');
  lp.enablePatch(patchOf('p', ['a'], { consistency: 'global' }));
  t.enter(a); // runs p:a
  lp.disable('p');
  assert.deepEqual(
    lp.transitionStatus()!.pending.map((x) => x.name),
    ['swapper', 't'],
  );
  lp.sysfs.write('p/enabled', '1'); // reverse: everybody is already patched
  w.tick(1000);
  assert.equal(lp.transitionStatus(), null);
  lp.disable('p');
  lp.force('p');
  w.tick(1000);
  assert.deepEqual(lp.sysfs.list(''), []);
  assert.deepEqual(lp.forcedPatches(), ['p']);
});

test('per-func immediate (R17.3): the func is exempt from the stack check but keeps the per-task view', () => {
  const { w, lp, a, b } = basic();
  const inA = w.spawn('inA');
  inA.enter(a);
  lp.enablePatch(patchOf('p', ['a', 'b'], { immediate: ['a'] }));
  assert.equal(lp.transitionStatus(), null); // a is immediate: inA does not block
  const inB = w.spawn('inB');
  lp.disable('p');
  lp.enablePatch(patchOf('q', ['a', 'b'], { immediate: ['a'] }));
  inB.enter(b); // runs q:b ... now disable: inB blocks on b
  lp.disable('q');
  assert.deepEqual(
    lp.transitionStatus()!.pending.map((t) => t.name),
    ['inB'],
  );
  assert.equal(lp.stackOf(a)[0]!.transition, true);
  assert.equal(inB.call(a), 'q:a'); // per-task view still applies to immediate funcs
});

test('R17.3 (differs, see docs/semantics.md): immediate patches and funcs do not pin their module after a disable', () => {
  // v4.12–v4.15 never dropped the module reference of a patch that was
  // immediate or had an immediate func (klp_complete_transition skipped
  // module_put), because a task could still be executing the module's code.
  // Here the replaced code lives as long as a frame runs it, so such a patch
  // is freed like any other: not forced, its name free to be loaded again.
  const { w, lp, a } = basic();
  const inA = w.spawn('inA');
  inA.enter(a);
  lp.enablePatch(patchOf('imm', ['a'], { immediate: ['a'] }));
  inA.stack.pop();
  inA.enter(a); // now running imm:a, which the stack check ignores
  lp.disable('imm');
  assert.equal(lp.transitionStatus(), null); // completed with inA still inside imm:a
  assert.notEqual(inA.stack[0]!.version, 0);
  assert.deepEqual(lp.sysfs.list(''), []);
  assert.deepEqual(lp.forcedPatches(), []);
  lp.enablePatch(patchOf('fn', ['a'], { consistency: 'function' }));
  lp.disable('fn');
  assert.deepEqual(lp.forcedPatches(), []);
  lp.enablePatch(patchOf('imm', ['a'], { immediate: ['a'] })); // insmod of the same name again
  lp.enablePatch(patchOf('fn', ['a'], { consistency: 'function' }));
  assert.deepEqual(lp.sysfs.list(''), ['imm', 'fn']);
  assert.ok(lp.patches().every((p) => !p.forced));
});

test('R17.3 fix: a task still running an older version blocks a later patch — not only the version directly below', () => {
  const { w, lp, a } = basic({ debug: true, debugSwitchTask: true });
  const inOriginal = w.spawn('inOriginal');
  inOriginal.enter(a);
  lp.enablePatch(patchOf('p1i', ['a'], { consistency: 'function' }));
  const in1i = w.spawn('in1i');
  in1i.enter(a); // runs p1i:a
  lp.enablePatch(patchOf('p2i', ['a'], { consistency: 'function' }));
  // The kernel's check for p3 looked only at p2i's code and switched both
  // tasks unsafely; every version other than p3's blocks here.
  lp.enablePatch(patchOf('p3', ['a']));
  const pending = lp.transitionStatus()!.pending;
  assert.deepEqual(
    pending.map((t) => [t.name, t.blocking.map((f) => [f.function, f.version === 0 ? 'original' : 'p1i'])]),
    [
      ['inOriginal', [['a', 'original']]],
      ['in1i', [['a', 'p1i']]],
    ],
  );
  assert.ok(pending.every((t) => t.blocking[0]!.expected === lp.stackOf(a)[0]!.version));
  inOriginal.leave();
  in1i.leave();
  w.settle();
  assert.equal(lp.transitionStatus(), null);
});

test('transitionStatus lists the transition, its age, retries and the frames that block each pending task', () => {
  const { w, lp, a } = basic();
  w.tick(2000);
  const s = w.spawn('worker');
  s.enter(a);
  lp.enablePatch(patchOf('p', ['a']));
  w.tick(3000);
  const st = lp.transitionStatus()!;
  assert.deepEqual(
    { ...st, pending: undefined },
    {
      patch: 'p',
      target: 1,
      direction: 'patching',
      consistency: 'task',
      startedAt: 2000,
      retries: 4,
      signalRounds: 0,
      forced: false,
      pending: undefined,
    },
  );
  assert.deepEqual(st.pending, [
    {
      id: s.id,
      name: 'worker',
      patchState: 0,
      blocking: [{ slot: a.id, version: 0, expected: lp.stackOf(a)[0]!.version, function: 'a', object: null }],
      waitsForEnd: false,
      startedAt: null,
    },
  ]);
});

// 'request': kGraft's LEAVE_KERNEL × SWITCH_THREAD (seed 001) — a unit of work switches only when it ends.

test('consistency "request": a request that ran the old a and holds no frame keeps the old code until it ends; under "task" it would switch at once', () => {
  for (const consistency of ['task', 'request'] as const) {
    const { w, lp, a, b } = basic();
    const req = w.spawnUnit('http GET /');
    assert.equal(req.call(a), 'original a'); // the first half of the request ran the old a
    lp.enablePatch(patchOf('p', ['a', 'b'], { consistency }));
    // now it awaits, holding no frame of a patched function, and calls b
    if (consistency === 'task') {
      assert.equal(req.call(b), 'p:b'); // the kernel's model: the request mixes old a and new b
      continue;
    }
    assert.deepEqual([req.patchState, req.pending], [0, true]);
    assert.equal(lp.trySwitchTask(req), false); // no stack check switches it
    assert.equal(req.call(b), 'original b'); // the whole request on the old code
    w.tick(1000);
    assert.notEqual(lp.transitionStatus(), null); // it holds the transition
    const held = lp.transitionStatus()!.pending.find((x) => x.id === req.id)!;
    assert.equal(held.waitsForEnd, true);
    assert.deepEqual(held.blocking, []);
    w.end(req);
    assert.equal(req.patchState, 1);
    w.tick(1000);
    assert.equal(lp.transitionStatus(), null);
    assert.equal(w.lines().at(-1), "livepatch: 'p': patching complete");
  }
});

test('consistency "request": a request started after the transition runs the new code from its start; one started by an old request stays with it', () => {
  const { w, lp, a } = basic();
  const old = w.spawnUnit('old');
  lp.enablePatch(patchOf('p', ['a'], { consistency: 'request' }));
  const fresh = w.spawnUnit('fresh', w.init);
  assert.deepEqual([fresh.patchState, fresh.pending], [1, false]);
  assert.equal(fresh.call(a), 'p:a');
  const child = w.spawnUnit('child of old', old); // a job the old request started: part of it
  assert.deepEqual([child.patchState, child.pending], [0, true]);
  assert.equal(child.call(a), 'original a');
  const conn = w.spawn('connection', old); // not a unit of work: switches as under 'task'
  assert.deepEqual([conn.patchState, conn.pending], [1, false]);
  w.end(old);
  assert.notEqual(lp.transitionStatus(), null); // the child has not ended yet
  w.end(child);
  w.tick(1000);
  assert.equal(lp.transitionStatus(), null);
});

test('consistency "request": tasks without an end (init, connections) switch by the stack check (R5.6), as kGraft annotated kernel threads', () => {
  const { w, lp, a } = basic();
  const conn = w.spawn('connection');
  conn.enter(a); // the connection is inside the original a
  lp.enablePatch(patchOf('p', ['a'], { consistency: 'request' }));
  assert.deepEqual([w.init.patchState, w.init.pending], [1, false]); // frameless: switched at the first attempt
  assert.equal(conn.pending, true);
  const status = lp.transitionStatus()!.pending.find((x) => x.id === conn.id)!;
  assert.equal(status.waitsForEnd, false);
  assert.equal(status.blocking[0]!.function, 'a');
  conn.leave(); // leaves a: switches at once, like a kernel thread at its annotated safe point
  assert.deepEqual([conn.patchState, conn.pending], [1, false]);
  w.tick(1000);
  assert.equal(lp.transitionStatus(), null);
});

test('consistency "request": the 15th retry signals requests that have not ended (R5.14); force switches them (R5.12)', () => {
  const { w, lp } = basic();
  const req = w.spawnUnit('slow');
  lp.enablePatch(patchOf('p', ['a'], { consistency: 'request' }));
  for (let i = 0; i < 16; i++) w.tick(1000);
  assert.equal(req.signals, 1);
  assert.ok(w.lines().includes('livepatch: signaling remaining tasks'));
  lp.force('p');
  assert.deepEqual([req.patchState, req.pending], [1, false]);
  w.tick(1000);
  assert.equal(lp.transitionStatus(), null);
});

test('consistency "request": reversed, the old requests are already where the transition goes; those started since wait for their end', () => {
  const { w, lp, a } = basic();
  const old = w.spawnUnit('old');
  lp.enablePatch(patchOf('p', ['a'], { consistency: 'request' }));
  const fresh = w.spawnUnit('fresh', w.init);
  assert.equal(fresh.call(a), 'p:a');
  lp.sysfs.write('p/enabled', '0'); // reverse
  assert.deepEqual([old.patchState, old.pending], [0, false]);
  assert.deepEqual([fresh.patchState, fresh.pending], [1, true]);
  assert.equal(fresh.call(a), 'p:a'); // the new request stays on the code it started on
  w.tick(1000);
  assert.notEqual(lp.transitionStatus(), null);
  w.end(fresh);
  w.tick(1000);
  assert.equal(lp.transitionStatus(), null);
  assert.equal(old.call(a), 'original a');
});
