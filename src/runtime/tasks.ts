/**
 * Tasks: the unit of per-task consistency (the kernel's task_struct). A task
 * is an async context carried by AsyncLocalStorage: the root context is the
 * init task, and the runtime starts a new task for each unit of outside work
 * (integrations.ts) or when a program asks (`task(name, fn)`). Continuations
 * (promises, timers, callbacks) stay in the task that scheduled them,
 * because AsyncLocalStorage propagates through them.
 *
 * There is no list of all tasks: the core is shown the tasks that hold
 * frames (only they can block a transition), and any other task is brought
 * up to date the first time it runs patched code (`seq`, see
 * Livepatch.transitionSeq) — the kernel sets every task's state at a
 * transition's init, reverse and completion; here an idle task gets the state
 * it would have been given when it next matters.
 *
 * Invariants:
 * - `frameCount` belongs to the frame table (frames.ts);
 * - `patchState`/`pending` are meaningful only while `seq` equals the core's
 *   transitionSeq.
 */

import { AsyncLocalStorage } from 'node:async_hooks';
import type { Frame, Task as CoreTask, PatchState } from '../core/index.ts';

/**
 * Milliseconds since the process started, monotonic: the runtime's clock.
 * Not `performance.now()`: the `performance` global loads perf_hooks on
 * first use (≈ 1 ms of a start), and the root task is made at start.
 */
export function monotonicNow(): number {
  return process.uptime() * 1000;
}

export class Task implements CoreTask {
  static #nextId = 1;
  readonly id: number;
  readonly name: string;
  readonly startedAt: number;
  /** KLP_TRANSITION_IDLE (-1), UNPATCHED (0) or PATCHED (1); written by the core */
  patchState: PatchState = -1;
  /** TIF_PATCH_PENDING; written by the core */
  pending = false;
  /** the core's transitionSeq when this task's state was last set */
  seq = -1;
  /** live frames of this task in the frame table */
  frameCount = 0;
  /** the fake signal (R5.14): created when a program asks for it or when it is signaled */
  controller: AbortController | undefined;
  /**
   * A unit of work with an end — an HTTP request, an HTTP/2 stream, a worker
   * message, a `task()` — as opposed to the init task and connections. Under
   * the 'request' consistency model a unit switches only when it has ended.
   */
  unit = false;
  /** the unit of work has ended (its response finished, its callback settled) */
  ended = false;

  constructor(name: string, id?: number) {
    this.id = id ?? Task.#nextId++;
    this.name = name;
    this.startedAt = monotonicNow();
  }

  frames(): Iterable<Frame> {
    return frameSource(this);
  }

  get signal(): AbortSignal {
    return (this.controller ??= new AbortController()).signal;
  }
}

let frameSource: (task: Task) => Iterable<Frame> = () => [];

/** The runtime tells tasks where their frames are (frames.ts, stack.ts). */
export function setFrameSource(source: (task: Task) => Iterable<Frame>): void {
  frameSource = source;
}

const storage = new AsyncLocalStorage<Task>();

/** The root async context: code that runs outside any task the runtime started. */
export const initTask = new Task('init', 0);

export function currentTask(): Task {
  return storage.getStore() ?? initTask;
}

/** Run `fn` as task `task` (continuations it schedules stay in it). */
export function runInTask<T>(task: Task, fn: () => T): T {
  return storage.run(task, fn);
}

/**
 * Run `fn` as `task` and end the task when `fn` is done: when it returns, or
 * when the promise it returns settles. Returns what `fn` returns — for a
 * promise, one that settles as it does, once the task has ended: observing
 * the program's promise handles it, so the caller gets a promise of its own
 * whose rejection, if nobody handles it, is reported as the original's
 * would have been.
 */
export function runUnit<T>(task: Task, fn: () => T, end: (task: Task) => void): T {
  let result: T;
  try {
    result = storage.run(task, fn);
  } catch (error) {
    end(task);
    throw error;
  }
  if (!(result instanceof Promise)) {
    end(task);
    return result;
  }
  return result.then(
    (value: unknown) => {
      end(task);
      return value;
    },
    (error: unknown) => {
      end(task);
      throw error;
    },
  ) as T;
}

/**
 * Make `task` the current task for the rest of the current synchronous
 * execution and what it schedules (for integrations that learn about new
 * work from a diagnostics channel, inside someone else's callback).
 */
export function enterTask(task: Task): void {
  storage.enterWith(task);
}
