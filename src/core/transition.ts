/*
 * transition.ts — the consistency model (kernel/livepatch/transition.c, R5)
 * for the three consistency models of issue 2 §3.
 *
 * Invariants:
 * - At most one transition (R5.1). Outside it every task is IDLE and not
 *   pending and no func has `transition` set.
 * - During a started 'task' or 'global' transition a task is pending iff its
 *   state differs from the target (R5.3, R5.13), and a task switches only
 *   when no frame it holds blocks it (R5.6 with the R17.3 fix below), or by
 *   force (R5.12).
 * - 'function' transitions (the historic patch `immediate`, R17.3): no
 *   per-task state, no transition flags, no pending tasks; they complete in
 *   the first attempt, callbacks and messages unchanged.
 * - 'global' transitions (kpatch): no task switches until no pending task is
 *   blocked, then all switch in the same attempt.
 * - 'request' transitions (kGraft's LEAVE_KERNEL × SWITCH_THREAD): a task
 *   that is a unit of work (`task.unit`) switches only when it has ended
 *   (taskEnded), never at a stack check, so a request runs entirely on one
 *   side; a unit of work started after the transition started runs the
 *   target code from its start, unless an old unit of work started it (it
 *   is part of that one). Tasks without an end switch as under 'task'.
 * - The stack check (R5.6 + R17.3 fix): a frame blocks a pending task iff
 *   its slot carries a non-immediate func of the transition patch and the
 *   frame's version differs from the version a task in the target state
 *   runs there. Every older version counts, not only the one directly below.
 * - A failed attempt always leaves a retry scheduled (~1 s, R5.9); the
 *   15th failed attempt and every 15th after signals pending tasks (R5.14).
 */

import type { Klp, Transition } from './context.ts';
import { freePatch, freeReplacedPatches, discardNops, unpatchReplacedPatches } from './free.ts';
import { isLoaded, type KlpFunc } from './model.ts';
import { dispatchVersion, setTransition, unpatchObjects } from './patch.ts';
import { postPatch, postUnpatch } from './callbacks.ts';
import * as msg from './messages.ts';
import type { BlockingFrame, PatchState, PendingTask, Task, TransitionStatus } from './types.ts';

export const RETRY_MS = 1000; // round_jiffies_relative(HZ)
export const SIGNALS_TIMEOUT = 15;

const IDLE: PatchState = -1;

function current(klp: Klp): Transition {
  const t = klp.transition;
  if (t === null) throw new Error('livepatch: no transition in progress');
  return t;
}

/** klp_init_transition (R5.2). */
export function initTransition(klp: Klp, patch: Transition['patch'], target: 0 | 1): void {
  if (klp.transition !== null) throw new Error('livepatch: a transition already exists');
  klp.transitionSeq++;
  klp.transition = {
    patch,
    target,
    started: false,
    startedAt: klp.ports.clock.now(),
    signalsCnt: 0,
    signalRounds: 0,
    forced: false,
    timer: null,
  };
  klp.log.debug(msg.initializingTransition(patch.name, msg.dirName(target)));
  // R17.3: an immediate ('function') patch skips the per-task machinery.
  if (patch.consistency === 'function') return;
  const initial: PatchState = target === 1 ? 0 : 1;
  for (const task of klp.ports.tasks) task.patchState = initial;
  for (const obj of patch.objects) for (const func of obj.funcs) setTransition(klp, func, true);
}

/** klp_start_transition (R5.3). */
export function startTransition(klp: Klp): void {
  const t = current(klp);
  klp.log.notice(msg.startingTransition(t.patch.name, msg.dirName(t.target)));
  t.started = true;
  if (t.patch.consistency !== 'function') {
    for (const task of klp.ports.tasks) if (task.patchState !== t.target) task.pending = true;
  }
  t.signalsCnt = 0;
  klp.log.publish({ type: 'transition-started', patch: t.patch.name, target: t.target });
}

/**
 * The stack check: the func of the transition patch that blocks `task`, or
 * null. When several block, the one first in klp_for_each_object ×
 * klp_for_each_func order, which is the one the kernel names.
 */
export function checkStack(klp: Klp, t: Transition, task: Task): KlpFunc | null {
  let blocker: KlpFunc | null = null;
  for (const frame of task.frames()) {
    const stack = klp.stacks.get(frame.slot);
    if (stack === undefined) continue;
    let tf: KlpFunc | null = null;
    for (let i = 0; i < stack.length; i++) {
      const f = stack[i]!;
      if (f.patch === t.patch) {
        tf = f;
        break;
      }
    }
    // R5.6: only funcs of the transition patch (patched objects only, as a
    // func is on a stack only while its object is patched); R17.3: an
    // immediate func is exempt.
    if (tf === null || tf.immediate) continue;
    if (frame.version !== dispatchVersion(stack, t.target)) {
      if (blocker === null || tf.ordinal < blocker.ordinal) blocker = tf;
    }
  }
  return blocker;
}

function switchTo(klp: Klp, task: Task, target: 0 | 1): void {
  task.pending = false;
  task.patchState = target;
  if (klp.log.hasListeners) klp.log.publish({ type: 'task-switched', task: task.id, name: task.name, state: target });
}

/** Under 'request', a unit of work that has not ended: only its end switches it (kGraft: only leaving the kernel). */
function waitsForEnd(t: Transition, task: Task): boolean {
  return t.patch.consistency === 'request' && task.unit === true && task.ended !== true;
}

/** klp_try_switch_task (R5.5): switch one task if its frames allow. */
export function switchTask(klp: Klp, t: Transition, task: Task): boolean {
  if (task.patchState === t.target) return true;
  if (waitsForEnd(t, task)) return false;
  const blocker = checkStack(klp, t, task);
  if (blocker !== null) {
    if (klp.log.switchDebugOn) klp.log.switchDebug(msg.taskSleepingOn(task.name, task.id, blocker.oldName));
    return false;
  }
  switchTo(klp, task, t.target);
  return true;
}

/** The 'global' model: all pending tasks switch together, or none does. */
function switchAllOrNone(klp: Klp, t: Transition): boolean {
  let blocked = false;
  for (const task of klp.ports.tasks) {
    if (task.patchState === t.target) continue;
    const blocker = checkStack(klp, t, task);
    if (blocker !== null) {
      blocked = true;
      if (!klp.log.switchDebugOn) break;
      klp.log.switchDebug(msg.taskSleepingOn(task.name, task.id, blocker.oldName));
    }
  }
  if (blocked) return false;
  for (const task of klp.ports.tasks) if (task.patchState !== t.target) switchTo(klp, task, t.target);
  return true;
}

/** klp_send_signals (R5.14). */
function sendSignals(klp: Klp, t: Transition): void {
  if (t.signalsCnt === SIGNALS_TIMEOUT) klp.log.notice(msg.signaling());
  t.signalRounds++;
  const signaled: Task[] = [];
  for (const task of klp.ports.tasks) if (task.pending) signaled.push(task);
  if (klp.log.hasListeners)
    klp.log.publish({ type: 'tasks-signaled', patch: t.patch.name, tasks: signaled.map((x) => x.id) });
  for (const task of signaled) {
    try {
      klp.ports.tasks.signal(task);
    } catch (error) {
      klp.log.publish({ type: 'warning', message: `signal to task ${task.name}:${task.id} failed: ${String(error)}` });
    }
  }
}

function scheduleRetry(klp: Klp, t: Transition): void {
  if (t.timer !== null) return; // schedule_delayed_work on pending work is a no-op
  t.timer = klp.ports.clock.schedule(RETRY_MS, () => {
    t.timer = null;
    if (klp.transition !== t) return;
    // klp_transition_work_fn takes klp_mutex; a timer cannot fire inside
    // a synchronous operation, but if a port ran it there, try later.
    if (klp.locked) {
      scheduleRetry(klp, t);
      return;
    }
    klp.withLock('the transition retry', () => tryCompleteTransition(klp));
  });
}

/**
 * klp_try_complete_transition (R5.9). An `opportunistic` attempt (the
 * runtime's, when it believes no task is pending) neither counts as a retry
 * nor signals: the R5.14 clock runs on the retries alone.
 */
export function tryCompleteTransition(klp: Klp, opportunistic = false): void {
  const t = klp.transition;
  if (t === null) return;
  const patch = t.patch;
  let complete = true;
  if (patch.consistency === 'task' || patch.consistency === 'request') {
    for (const task of klp.ports.tasks) if (!switchTask(klp, t, task)) complete = false;
  } else if (patch.consistency === 'global') {
    complete = switchAllOrNone(klp, t);
  }
  if (!complete) {
    if (opportunistic) return;
    if (t.signalsCnt !== 0 && t.signalsCnt % SIGNALS_TIMEOUT === 0) sendSignals(klp, t);
    t.signalsCnt++;
    scheduleRetry(klp, t);
    return;
  }
  completeTransition(klp);
  // Freeing is done here rather than in complete, which cancel also uses.
  if (!patch.enabled) freePatch(klp, patch, 'disabled');
  else if (patch.replace) freeReplacedPatches(klp, patch);
}

/** klp_complete_transition (R5.10). */
export function completeTransition(klp: Klp): void {
  const t = current(klp);
  klp.transitionSeq++;
  const patch = t.patch;
  const target = t.target;
  klp.log.debug(msg.completingTransition(patch.name, msg.dirName(target)));
  if (patch.replace && target === 1) {
    unpatchReplacedPatches(klp, patch);
    discardNops(klp, patch);
  }
  if (target === 0) unpatchObjects(klp, patch, false);
  if (patch.consistency !== 'function') {
    for (const obj of patch.objects) for (const func of obj.funcs) setTransition(klp, func, false);
    for (const task of klp.ports.tasks) {
      task.patchState = IDLE;
      task.pending = false;
    }
  }
  for (const obj of patch.objects) {
    if (!isLoaded(obj)) continue;
    if (target === 1) postPatch(klp, obj);
    else postUnpatch(klp, obj);
  }
  klp.log.notice(msg.transitionComplete(patch.name, msg.dirName(target)));
  if (t.timer !== null) {
    t.timer.cancel();
    t.timer = null;
  }
  klp.transition = null;
  klp.log.publish({ type: 'transition-completed', patch: patch.name, target, forced: t.forced });
}

/** klp_cancel_transition (R5.11): only before start, only when patching. */
export function cancelTransition(klp: Klp): void {
  const t = current(klp);
  if (t.target !== 1 || t.started)
    throw new Error('livepatch: cancel is only legal before a patching transition starts');
  klp.log.debug(msg.cancelingTransition(t.patch.name));
  t.target = 0;
  completeTransition(klp);
}

/** klp_reverse_transition (R5.13): no callbacks; completion via the pending retry. */
export function reverseTransition(klp: Klp): void {
  const t = current(klp);
  klp.transitionSeq++;
  klp.log.debug(msg.reversingTransition(t.patch.name, msg.dirName(t.target)));
  for (const task of klp.ports.tasks) task.pending = false;
  t.patch.enabled = !t.patch.enabled;
  t.target = t.target === 1 ? 0 : 1;
  klp.log.publish({ type: 'transition-reversed', patch: t.patch.name, target: t.target });
  startTransition(klp);
  // A started transition always has its retry pending; keep it so.
  scheduleRetry(klp, t);
}

/** klp_force_transition (R5.12), with the modern marking of forced patches. */
export function forceTransition(klp: Klp): void {
  const t = current(klp);
  klp.log.warn(msg.forcing());
  for (const task of klp.ports.tasks) if (task.pending) switchTo(klp, task, t.target);
  t.forced = true;
  if (t.target === 0) t.patch.forced = true;
  else if (t.patch.replace) for (const p of klp.patches) if (p !== t.patch) p.forced = true;
  klp.log.publish({ type: 'transition-forced', patch: t.patch.name, target: t.target });
}

/** klp_copy_process (R5.7), adapted: see docs/semantics.md. */
export function taskCreated(klp: Klp, task: Task, parent: Task | undefined): void {
  const t = klp.transition;
  if (t === null || t.patch.consistency === 'function') {
    task.patchState = IDLE;
    task.pending = false;
    return;
  }
  if (t.patch.consistency === 'request' && parent !== undefined) {
    // A unit of work started by an old one is part of it and stays with it;
    // anything else started after the transition began runs the target
    // code from its first line (kGraft: a new thread starts in the new universe).
    if (task.unit === true && parent.unit === true && parent.ended !== true && parent.pending) {
      task.patchState = parent.patchState;
      task.pending = true;
    } else {
      task.patchState = t.target;
      task.pending = false;
    }
    return;
  }
  if (parent !== undefined && parent.patchState !== IDLE) {
    task.patchState = parent.patchState;
    task.pending = parent.pending;
  } else {
    // No (known) parent: a task born during the transition starts where
    // every task started, pending once the transition has started.
    task.patchState = t.target === 1 ? 0 : 1;
    task.pending = t.started && task.patchState !== t.target;
  }
  // A new task holds no frames: under 'task' it can switch at once (under
  // 'request' too, unless it is a unit of work, which waits for its end).
  if ((t.patch.consistency === 'task' || t.patch.consistency === 'request') && task.pending) switchTask(klp, t, task);
}

/**
 * A unit of work ended (kGraft: the thread left the kernel). Under 'request'
 * a pending one switches now; under the other models its end changes
 * nothing. Returns true when the task is not (or no longer) pending.
 */
export function taskEnded(klp: Klp, task: Task): boolean {
  const t = klp.transition;
  if (t === null || !task.pending) return true;
  if (t.patch.consistency !== 'request') return false;
  return switchTask(klp, t, task);
}

/** The scheduler hook / safepoint: switch `task` if it is pending and free to. */
export function trySwitchTask(klp: Klp, task: Task): boolean {
  const t = klp.transition;
  if (t === null || t.patch.consistency === 'function') return true;
  if (!task.pending || (t.patch.consistency !== 'task' && t.patch.consistency !== 'request')) {
    return task.patchState === t.target;
  }
  return switchTask(klp, t, task);
}

function blockingFrames(klp: Klp, t: Transition, task: Task): BlockingFrame[] {
  const out: BlockingFrame[] = [];
  for (const frame of task.frames()) {
    const stack = klp.stacks.get(frame.slot);
    if (stack === undefined) continue;
    const tf = stack.find((f) => f.patch === t.patch);
    if (tf === undefined || tf.immediate) continue;
    const expected = dispatchVersion(stack, t.target);
    if (frame.version !== expected) {
      out.push({ slot: frame.slot.id, version: frame.version, expected, function: tf.oldName, object: tf.object.name });
    }
  }
  return out;
}

/** For `livepatch status`: the transition and every task that holds it open. */
export function transitionStatus(klp: Klp): TransitionStatus | null {
  const t = klp.transition;
  if (t === null) return null;
  const pending: PendingTask[] = [];
  if (t.patch.consistency !== 'function') {
    for (const task of klp.ports.tasks) {
      if (task.patchState === t.target) continue;
      pending.push({
        id: task.id,
        name: task.name,
        patchState: task.patchState,
        blocking: blockingFrames(klp, t, task),
        waitsForEnd: waitsForEnd(t, task),
        startedAt: task.startedAt ?? null,
      });
    }
  }
  return {
    patch: t.patch.name,
    target: t.target,
    direction: msg.dirName(t.target),
    consistency: t.patch.consistency,
    startedAt: t.startedAt,
    retries: t.signalsCnt,
    signalRounds: t.signalRounds,
    forced: t.forced,
    pending,
  };
}
