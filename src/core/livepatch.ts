/*
 * livepatch.ts — the Livepatch class: one instance is one "kernel".
 *
 * Invariants: every method is a thin door onto the kernel-shaped functions
 * of core.ts, transition.ts, patch.ts, state.ts; mutating doors take
 * klp_mutex (EDEADLK when re-entered from a callback); the lock-free ones
 * are those the kernel runs without it (dispatch, trySwitchTask,
 * taskCreated, the shadow API, printk, reads).
 */

import { Klp } from './context.ts';
import { KlpError } from './errors.ts';
import { EINVAL, ENOENT } from './errno.ts';
import * as core from './core.ts';
import { KernelLog, type Listener } from './log.ts';
import { isLoaded } from './model.ts';
import { dispatch, dispatchVersion } from './patch.ts';
import { Shadow } from './shadow.ts';
import { getPrevState, getState } from './state.ts';
import { Sysfs } from './sysfs.ts';
import { taskCreated, taskEnded, transitionStatus, tryCompleteTransition, trySwitchTask } from './transition.ts';
import type {
  Consistency,
  Func,
  KlpState,
  LivepatchOptions,
  ModuleHandle,
  PatchDef,
  PatchInfo,
  PatchState,
  Ports,
  Slot,
  Task,
  TransitionStatus,
} from './types.ts';

const NO_FUNCS: readonly Func[] = Object.freeze([]);

export class Livepatch {
  readonly log: KernelLog;
  readonly sysfs: Sysfs;
  readonly shadow: Shadow;
  readonly #klp: Klp;

  constructor(ports: Ports, options: LivepatchOptions = {}) {
    if (ports === null || typeof ports !== 'object' || ports.clock === undefined || ports.tasks === undefined) {
      throw new TypeError('Livepatch: ports must provide at least a clock and a task source');
    }
    this.log = new KernelLog(
      ports.clock,
      options.logSize ?? 4096,
      options.debug === true,
      options.debugSwitchTask === true,
    );
    this.#klp = new Klp(ports, this.log);
    this.sysfs = new Sysfs(this.#klp, {
      setEnabled: (name, value) => core.setEnabled(this.#klp, name, value),
      force: (name) => core.force(this.#klp, name),
    });
    this.shadow = new Shadow(this.log);
  }

  // ------------------------------------------------------------ patches

  /** klp_enable_patch: throws a KlpError and leaves the core as it was on failure. */
  enablePatch(def: PatchDef): void {
    core.enablePatch(this.#klp, def);
  }

  /** echo 0 > <patch>/enabled (reverses a patching transition). */
  disable(name: string): void {
    core.setEnabled(this.#klp, name, false);
  }

  /** echo <the other value> > <patch>/enabled, for the patch in transition (R5.13). */
  reverse(name: string): void {
    const patch = this.#klp.findPatch(name);
    if (patch === undefined) throw new KlpError(ENOENT, `livepatch: no patch '${name}'`);
    if (this.#klp.transition?.patch !== patch)
      throw new KlpError(EINVAL, `livepatch: patch '${name}' is not in transition`);
    core.setEnabled(this.#klp, name, !patch.enabled);
  }

  /** echo 1 > <patch>/force. */
  force(name: string): void {
    core.force(this.#klp, name);
  }

  patches(): PatchInfo[] {
    const klp = this.#klp;
    return klp.patches.map((p, i) => ({
      name: p.name,
      enabled: p.enabled,
      transition: klp.transition?.patch === p,
      forced: p.forced,
      replace: p.replace,
      stackOrder: i + 1,
      consistency: p.consistency,
      objects: p.objects.map((o) => ({
        name: o.name,
        loaded: isLoaded(o),
        patched: o.patched,
        dynamic: o.dynamic,
        funcs: o.funcs.map((f) => ({
          oldName: f.oldName,
          oldSympos: f.oldSympos,
          version: f.version,
          nop: f.nop,
          immediate: f.immediate,
          patched: f.patched,
          transition: f.transition,
          slot: f.slot?.id ?? null,
        })),
      })),
    }));
  }

  patch(name: string): PatchInfo | null {
    return this.patches().find((p) => p.name === name) ?? null;
  }

  /** Names of freed patches that were forced: their modules must never be unloaded (R11.3). */
  forcedPatches(): string[] {
    const names = new Set(this.#klp.forcedGone);
    for (const p of this.#klp.patches) if (p.forced) names.add(p.name);
    return [...names];
  }

  // ------------------------------------------------------------ modules

  moduleComing(mod: ModuleHandle): void {
    core.moduleComing(this.#klp, mod);
  }

  moduleGoing(mod: ModuleHandle): void {
    core.moduleGoing(this.#klp, mod);
  }

  // -------------------------------------------------------------- tasks

  taskCreated(task: Task, parent?: Task): void {
    taskCreated(this.#klp, task, parent);
  }

  trySwitchTask(task: Task): boolean {
    return trySwitchTask(this.#klp, task);
  }

  /** A unit of work ended: under 'request' it switches now (see Task.unit). Lock-free, like trySwitchTask. */
  taskEnded(task: Task): boolean {
    return taskEnded(this.#klp, task);
  }

  /**
   * Attempt to complete the transition now instead of at the next retry: the
   * runtime calls it when a switch left no task pending. (The kernel waits
   * for its delayed work; see docs/semantics.md.) Returns true when no
   * transition remains.
   */
  tryComplete(): boolean {
    const klp = this.#klp;
    if (klp.transition === null) return true;
    if (klp.locked) return false;
    klp.withLock('tryComplete', () => tryCompleteTransition(klp, true));
    return klp.transition === null;
  }

  transitionStatus(): TransitionStatus | null {
    return transitionStatus(this.#klp);
  }

  /**
   * Changes whenever every task's state is set at once (a transition's init,
   * reverse and completion). A runtime that lists to the core only the tasks
   * that hold frames stamps each task it lists with this number; a task with
   * an older stamp has not been seen since, and is initialised with
   * `taskCreated(task)` before its state is read — what the kernel does for
   * every task at those points.
   */
  get transitionSeq(): number {
    return this.#klp.transitionSeq;
  }

  /** The consistency model of the transition in progress, or null. */
  get transitionConsistency(): Consistency | null {
    return this.#klp.transition?.patch.consistency ?? null;
  }

  /** The target state of the transition in progress, or IDLE. */
  get targetState(): PatchState {
    return this.#klp.transition?.target ?? -1;
  }

  // ---------------------------------------------------------- dispatch

  /** R4.5; allocation-free. */
  dispatch(stack: readonly Func[], patchState: PatchState): Func | null {
    return dispatch(stack, patchState);
  }

  dispatchVersion(stack: readonly Func[], patchState: PatchState): number {
    return dispatchVersion(stack, patchState);
  }

  /** The func stack of a slot, newest first; empty if nothing patches it. */
  stackOf(slot: Slot): readonly Func[] {
    return this.#klp.stacks.get(slot) ?? NO_FUNCS;
  }

  /** Every slot with a non-empty stack. */
  patchedSlots(): Slot[] {
    return [...this.#klp.stacks.keys()];
  }

  // ------------------------------------------------------------- states

  getState(patchName: string, id: number): KlpState | null {
    return getState(this.#klp, patchName, id);
  }

  getPrevState(id: number): KlpState | null {
    return getPrevState(this.#klp, id);
  }

  // ---------------------------------------------------------------- log

  printk(text: string, level?: number): void {
    this.log.printk(text, level);
  }

  subscribe(fn: Listener): () => void {
    return this.log.subscribe(fn);
  }
}
