// Property-based tests: random sequences of enable, disable, replace,
// reverse, force, module loads and unloads, tasks entering and leaving
// functions, forks and time, checked against the invariants of docs/kernel-rules.md §18 and
// R5.1 after every step.
//
// Which version of a function a task runs, and whether a task may switch, are
// checked against an oracle written here from the rules (R4.4–R4.6, R5.6 and
// the R17.3 fix), computed from the observable patch list alone: it calls no
// core helper, so a bug in dispatch/dispatchVersion/checkStack cannot hide
// behind itself. Frames record the oracle's version, not the core's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SimWorld, type SimModule, type SimSlot, type SimTask } from '../support/sim.ts';
import {
  dispatch,
  KlpError,
  type Consistency,
  type Frame,
  type ObjectDef,
  type PatchDef,
  type PatchInfo,
  type PatchState,
} from '../../src/core/index.ts';

const NAMES = ['P0', 'P1', 'P2', 'P3', 'P4'];
const VM_FUNCS = 5; // f0..f4 in vmlinux
const MOD_FUNCS = 2; // g0, g1 in module m

type Action =
  | { k: 'enable'; p: number; fns: number[]; replace: boolean; consistency: Consistency; imm: number[] }
  | { k: 'disable' | 'reverse' | 'force'; p: number }
  | { k: 'load' | 'unload' }
  | { k: 'enter' | 'leave' | 'pop' | 'exit'; t: number; f: number }
  | { k: 'spawn'; t: number }
  | { k: 'tick'; ms: number };

const fnIdx = fc.integer({ min: 0, max: VM_FUNCS + MOD_FUNCS - 1 });
const actionArb: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      k: fc.constant('enable' as const),
      p: fc.integer({ min: 0, max: 4 }),
      fns: fc.uniqueArray(fnIdx, { maxLength: 4 }),
      replace: fc.boolean(),
      consistency: fc.constantFrom<Consistency>('task', 'task', 'function', 'global'),
      imm: fc.uniqueArray(fnIdx, { maxLength: 2 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      k: fc.constantFrom('disable' as const, 'reverse' as const, 'force' as const),
      p: fc.integer({ min: 0, max: 4 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ k: fc.constantFrom('load' as const, 'unload' as const) }) },
  {
    weight: 5,
    arbitrary: fc.record({
      k: fc.constantFrom('enter' as const, 'enter' as const, 'leave' as const, 'pop' as const, 'exit' as const),
      t: fc.integer({ min: 0, max: 4 }),
      f: fnIdx,
    }),
  },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('spawn' as const), t: fc.integer({ min: 0, max: 4 }) }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('tick' as const), ms: fc.constantFrom(1, 999, 1000, 15_000) }) },
);

/** What the random runs exercised (checked at the end so the properties cannot pass vacuously). */
export const stats = {
  enabled: 0,
  completed: 0,
  reversed: 0,
  forced: 0,
  blocked: 0,
  replaced: 0,
  switchedChecked: 0,
  keptChecked: 0,
  moduleLoads: 0,
  errors: 0,
};

/**
 * The oracle's R4.4–R4.6, per patch instead of per stack entry: a task sees
 * every listed patch, except that the patch in transition is seen only by a
 * task already in state PATCHED (1) — during patching the switched tasks,
 * during unpatching those not switched yet; with no per-task state (-1),
 * everybody sees it. On a function the task runs the func of the newest
 * patch it sees that has one there (the newest wins, R4.4), or the original
 * — version 0 — when that func is a nop (R8.2) or no patch it sees has one.
 */
function modelVersion(patches: readonly PatchInfo[], slot: number, state: PatchState): number {
  for (let i = patches.length - 1; i >= 0; i--) {
    const p = patches[i]!;
    if (p.transition && state === 0) continue;
    for (const o of p.objects) for (const f of o.funcs) if (f.patched && f.slot === slot) return f.nop ? 0 : f.version;
  }
  return 0;
}

/**
 * The oracle's R5.6 with the R17.3 fix: the frame that keeps a task from
 * switching to `target`, or null. A frame blocks when its function carries a
 * non-immediate func of the patch in transition (of a patched object) and it
 * runs any version other than the one the task will run there once switched.
 */
function modelBlocker(patches: readonly PatchInfo[], frames: readonly Frame[], target: 0 | 1): Frame | null {
  const tp = patches.find((p) => p.transition);
  if (tp === undefined) return null;
  const guarded = new Set<number>();
  for (const o of tp.objects)
    if (o.patched) for (const f of o.funcs) if (f.patched && !f.immediate && f.slot !== null) guarded.add(f.slot);
  for (const fr of frames)
    if (guarded.has(fr.slot.id) && fr.version !== modelVersion(patches, fr.slot.id, target)) return fr;
  return null;
}

class Harness {
  readonly w = new SimWorld();
  readonly vm: SimSlot[] = [];
  mod: SimModule | null = null;
  tasks: SimTask[] = [];
  /** Tasks that passed a stack check into the current target (not forced). */
  switched = new Set<number>();
  forcing = false;
  forcedEver = new Set<string>();
  errors: string[] = [];

  constructor() {
    for (let i = 0; i < VM_FUNCS; i++) this.vm.push(this.w.vmlinux.define(`f${i}`));
    for (let i = 0; i < 4; i++) this.tasks.push(this.w.spawn(`t${i}`));
    this.w.lp.subscribe((e) => {
      if (e.type === 'transition-started' || e.type === 'transition-completed') this.switched.clear();
      if (e.type === 'patch-enabled') stats.enabled++;
      if (e.type === 'transition-completed') stats.completed++;
      if (e.type === 'transition-reversed') stats.reversed++;
      if (e.type === 'transition-forced') stats.forced++;
      if (e.type === 'patch-freed' && e.reason === 'replaced') stats.replaced++;
      if (e.type === 'module-patched') stats.moduleLoads++;
      if (e.type === 'task-switched' && !this.forcing) {
        this.switched.add(e.task);
        stats.switchedChecked++;
        this.checkSwitchedTask(e.task);
      }
    });
  }

  slot(f: number): SimSlot | null {
    if (f < VM_FUNCS) return this.vm[f]!;
    return this.mod?.loaded === true ? this.mod.slot(`g${f - VM_FUNCS}`) : null;
  }

  task(t: number): SimTask | undefined {
    return this.tasks[t % Math.max(1, this.tasks.length)];
  }

  def(a: Extract<Action, { k: 'enable' }>): PatchDef {
    const name = NAMES[a.p]!;
    const vm: ObjectDef = { name: null, funcs: [] };
    const m: ObjectDef = { name: 'm', funcs: [] };
    for (const f of a.fns) {
      const obj = f < VM_FUNCS ? vm : m;
      const oldName = f < VM_FUNCS ? `f${f}` : `g${f - VM_FUNCS}`;
      obj.funcs.push({
        oldName,
        newFunc: () => `${name}:${oldName}`,
        ...(a.imm.includes(f) ? { immediate: true } : {}),
      });
    }
    const objects = [vm];
    if (m.funcs.length > 0 || a.fns.length === 0) objects.push(m);
    return { name, objects, replace: a.replace, consistency: a.consistency };
  }

  /** Index 4 stands for "the patch in transition", so force and reverse often hit it. */
  target(p: number): string {
    return p === 4 ? (this.w.lp.transitionStatus()?.patch ?? NAMES[p]!) : NAMES[p]!;
  }

  run(a: Action): void {
    const { w } = this;
    const lp = w.lp;
    try {
      switch (a.k) {
        case 'enable':
          lp.enablePatch(this.def(a));
          break;
        case 'disable':
          lp.sysfs.write(`${NAMES[a.p]}/enabled`, '0');
          break;
        case 'reverse':
          lp.reverse(this.target(a.p));
          break;
        case 'force':
          this.forcing = true;
          try {
            lp.force(this.target(a.p));
          } finally {
            this.forcing = false;
          }
          break;
        case 'load':
          if (this.mod?.loaded !== true) {
            const mod = w.module('m', true);
            for (let i = 0; i < MOD_FUNCS; i++) mod.define(`g${i}`);
            this.mod = mod;
            w.load(mod, { log: false });
          }
          break;
        case 'unload': {
          const mod = this.mod;
          // Code cannot be running in a module that goes away.
          const busy =
            mod !== null &&
            this.tasks.some((t) => t.stack.some((fr) => mod.symbols.entries.some((e) => e.slot === fr.slot)));
          if (mod?.loaded === true && !busy) w.unload(mod, { log: false });
          break;
        }
        case 'enter': {
          const t = this.task(a.t);
          const s = this.slot(a.f);
          // The frame runs what the oracle says (check() holds the core's dispatch to the same).
          if (t !== undefined && s !== null && t.stack.length < 6)
            t.stack.push({ slot: s, version: modelVersion(lp.patches(), s.id, t.patchState) });
          break;
        }
        case 'leave': {
          const t = this.task(a.t);
          if (t !== undefined && t.stack.length > 0) t.leave();
          break;
        }
        case 'pop': {
          const t = this.task(a.t);
          if (t !== undefined) t.stack.pop();
          break;
        }
        case 'exit': {
          const t = this.task(a.t);
          if (t !== undefined && this.tasks.length > 1) {
            w.exit(t);
            this.tasks = this.tasks.filter((x) => x !== t);
          }
          break;
        }
        case 'spawn':
          if (this.tasks.length < 8) this.tasks.push(w.spawn(`t${this.tasks.length}`, this.task(a.t)));
          break;
        case 'tick':
          w.tick(a.ms);
          // A tick of a second or more holds a retry, and no frame moved since.
          if (a.ms >= 1000) this.checkKeptTasks();
          break;
      }
    } catch (e) {
      if (!(e instanceof KlpError)) throw e; // only the kernel's errors are acceptable
      stats.errors++;
    }
    for (const p of lp.patches()) if (p.forced) this.forcedEver.add(p.name);
    this.check();
  }

  /** A task that passed the stack check holds no frame that the oracle says blocks it. */
  checkSwitchedTask(id: number): void {
    const lp = this.w.lp;
    const st = lp.transitionStatus();
    if (st === null || st.consistency === 'function') return;
    const task = [...this.w.tasks.set].find((t) => t.id === id);
    if (task === undefined) return;
    const fr = modelBlocker(lp.patches(), task.stack, st.target);
    if (fr !== null)
      this.errors.push(
        `task ${task.name} switched to ${st.target} holding version ${fr.version} of ${(fr.slot as SimSlot).name}`,
      );
  }

  /**
   * After a retry: under 'task' every task still pending is one the oracle
   * says is blocked; under 'global' (all or none) at least one is.
   */
  checkKeptTasks(): void {
    const lp = this.w.lp;
    const st = lp.transitionStatus();
    if (st === null || st.consistency === 'function') return;
    const patches = lp.patches();
    const kept = [...this.w.tasks.set].filter((t) => t.patchState !== st.target);
    const free = kept.filter((t) => modelBlocker(patches, t.stack, st.target) === null);
    stats.keptChecked += kept.length;
    if (st.consistency === 'task' && free.length > 0)
      this.errors.push(`tasks ${free.map((t) => t.name).join(', ')} hold no blocking frame but were not switched`);
    if (st.consistency === 'global' && kept.length > 0 && free.length === kept.length)
      this.errors.push(`no pending task is blocked but the 'global' transition did not switch them`);
  }

  check(): void {
    const { w } = this;
    const lp = w.lp;
    assert.deepEqual(this.errors, []);
    const patches = lp.patches();
    const st = lp.transitionStatus();
    // At most one transition (R5.1, §18.1).
    const inTransition = patches.filter((p) => p.transition);
    assert.ok(inTransition.length <= 1);
    assert.equal(inTransition[0]?.name ?? null, st?.patch ?? null);
    assert.equal(
      lp.sysfs.list('').filter((n) => lp.sysfs.read(`${n}/transition`) === '1\n').length,
      inTransition.length,
    );
    // The tree is the patch list; stack_order is the position.
    assert.deepEqual(
      lp.sysfs.list(''),
      patches.map((p) => p.name),
    );
    patches.forEach((p, i) => assert.equal(p.stackOrder, i + 1));
    // enabled is 1 except for the patch in an unpatching transition.
    for (const p of patches) assert.equal(p.enabled, !(p.transition && st!.target === 0), p.name);
    if (st === null) {
      // After completion every task is idle, nothing is in transition, no retry is pending.
      for (const t of w.tasks.set) assert.deepEqual([t.patchState, t.pending], [-1, false], t.name);
      assert.equal(w.clock.pending, 0);
      for (const p of patches) for (const o of p.objects) for (const f of o.funcs) assert.equal(f.transition, false);
      for (const p of patches) for (const o of p.objects) assert.ok(!o.dynamic && o.funcs.every((f) => !f.nop));
    } else if (st.consistency !== 'function') {
      // During a started transition pending ⇔ not in the target state; a retry is pending.
      for (const t of w.tasks.set) {
        assert.ok(t.patchState === 0 || t.patchState === 1);
        assert.equal(t.pending, t.patchState !== st.target, t.name);
      }
      assert.equal(w.clock.pending, 1);
      if (st.pending.some((t) => t.blocking.length > 0)) stats.blocked++;
      // `livepatch status` names blocking frames exactly when the oracle sees one.
      for (const p of st.pending) {
        const t = [...w.tasks.set].find((x) => x.id === p.id)!;
        assert.equal(p.blocking.length > 0, modelBlocker(patches, t.stack, st.target) !== null, t.name);
      }
    }
    // Every task runs, on every patched function, the version the oracle
    // says (R4.5/R4.6: all old or all new for the transition patch).
    for (const slot of lp.patchedSlots())
      for (const t of w.tasks.set) {
        const got = dispatch(lp.stackOf(slot), t.patchState);
        assert.equal(
          got === null ? 0 : got.version,
          modelVersion(patches, slot.id, t.patchState),
          `${t.name} (state ${t.patchState}) on ${(slot as SimSlot).name}`,
        );
      }
    // Stacks: exactly the patched funcs of listed patches, newest patch on top; no stale slots.
    const expected = new Map<number, [number, number][]>();
    for (const p of patches)
      for (const o of p.objects)
        for (const f of o.funcs) {
          if (!f.patched) continue;
          assert.ok(o.patched && o.loaded && f.slot !== null);
          const list = expected.get(f.slot!) ?? [];
          list.push([p.stackOrder, f.version]);
          expected.set(f.slot!, list);
        }
    const slots = lp.patchedSlots();
    assert.equal(slots.length, expected.size);
    for (const s of slots) {
      const stack = lp.stackOf(s);
      const want = expected
        .get(s.id)!
        .sort((x, y) => y[0] - x[0])
        .map((x) => x[1]);
      assert.deepEqual(
        stack.map((f) => f.version),
        want,
        `stack of ${(s as SimSlot).name}`,
      );
    }
    if (patches.length === 0) assert.deepEqual(slots, []);
    // Forced stays forced (R11.3).
    for (const n of this.forcedEver) assert.ok(lp.forcedPatches().includes(n));
  }

  /** Tear everything down the way an operator would; nothing may be left. */
  drain(): void {
    const { w } = this;
    const lp = w.lp;
    for (const t of this.tasks) t.unwind();
    for (let round = 0; round < 10 && (lp.patches().length > 0 || lp.transitionStatus() !== null); round++) {
      w.tick(1000);
      const st = lp.transitionStatus();
      if (st !== null) continue;
      const last = lp.patches().at(-1);
      if (last !== undefined) lp.disable(last.name);
    }
    if (this.mod?.loaded === true) w.unload(this.mod, { log: false });
    this.check();
    assert.deepEqual(lp.patches(), []);
    assert.deepEqual(lp.patchedSlots(), []);
    assert.equal(w.clock.pending, 0);
    assert.deepEqual(lp.sysfs.list(''), []);
  }
}

test('property: invariants hold after every step of random sequences (R5.1, §18)', () => {
  fc.assert(
    fc.property(fc.array(actionArb, { minLength: 10, maxLength: 60, size: 'max' }), (actions) => {
      const h = new Harness();
      for (const a of actions) h.run(a);
      h.drain();
    }),
    { numRuns: 250 },
  );
});

test('property: with tasks that hold frames, a task switches exactly when the oracle says no frame blocks it (R5.6)', () => {
  // A denser mix: fewer functions, more entering; no force.
  const dense = fc.array(
    fc.oneof(
      fc.record({
        k: fc.constant('enable' as const),
        p: fc.integer({ min: 0, max: 2 }),
        fns: fc.uniqueArray(fc.integer({ min: 0, max: 2 }), { minLength: 1, maxLength: 3 }),
        replace: fc.boolean(),
        consistency: fc.constantFrom<Consistency>('task', 'global', 'function'),
        imm: fc.constant([]),
      }),
      fc.record({ k: fc.constantFrom('disable' as const, 'reverse' as const), p: fc.integer({ min: 0, max: 2 }) }),
      fc.record({
        k: fc.constantFrom('enter' as const, 'leave' as const, 'pop' as const),
        t: fc.integer({ min: 0, max: 3 }),
        f: fc.integer({ min: 0, max: 2 }),
      }),
      fc.record({ k: fc.constant('tick' as const), ms: fc.constant(1000) }),
    ) as fc.Arbitrary<Action>,
    { minLength: 10, maxLength: 80, size: 'max' },
  );
  fc.assert(
    fc.property(dense, (actions) => {
      const h = new Harness();
      for (const a of actions) h.run(a);
      h.drain();
    }),
    { numRuns: 200 },
  );
});

test('the random runs exercised the machinery', () => {
  for (const [k, v] of Object.entries(stats)) assert.ok(v > 0, `${k} never happened`);
});
