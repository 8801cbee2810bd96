/**
 * Tasks: the unit of per-task consistency (the kernel's task_struct). A task
 * is an async context carried by AsyncLocalStorage: the root context is the
 * init task, and the runtime starts a new task for each unit of outside work
 * (integrations.ts) or when a program asks (`task(name, fn)`). Continuations
 * (promises, timers, callbacks) stay in the task that scheduled them,
 * because AsyncLocalStorage propagates through them.
 *
 * The task list is every task still reachable: a task is held by the async
 * contexts of its pending continuations and by its frames, and is forgotten
 * when the garbage collector takes it — the kernel's task exit.
 *
 * Invariants:
 * - every Task is in the registry from construction until it is collected;
 * - `frameCount` belongs to the frame table (frames.ts).
 */

import { AsyncLocalStorage } from 'node:async_hooks';
import type { Frame, Task as CoreTask, PatchState } from '../core/index.ts';

export class Task implements CoreTask {
  static #nextId = 1;
  readonly id: number;
  readonly name: string;
  readonly startedAt: number;
  /** KLP_TRANSITION_IDLE (-1), UNPATCHED (0) or PATCHED (1); written by the core */
  patchState: PatchState = -1;
  /** TIF_PATCH_PENDING; written by the core */
  pending = false;
  /** live frames of this task in the frame table */
  frameCount = 0;
  /** the fake signal (R5.14): created when a program asks for it or when it is signaled */
  controller: AbortController | undefined;

  constructor(name: string, id?: number) {
    this.id = id ?? Task.#nextId++;
    this.name = name;
    this.startedAt = performance.now();
    registry.add(this);
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

class TaskRegistry {
  private readonly refs = new Set<WeakRef<Task>>();
  private readonly finalizer = new FinalizationRegistry<WeakRef<Task>>((ref) => this.refs.delete(ref));

  add(task: Task): void {
    const ref = new WeakRef(task);
    this.refs.add(ref);
    this.finalizer.register(task, ref);
  }

  *[Symbol.iterator](): Generator<Task> {
    for (const ref of this.refs) {
      const t = ref.deref();
      if (t !== undefined) yield t;
    }
  }

  get size(): number {
    return this.refs.size;
  }
}

export const registry = new TaskRegistry();

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
 * Make `task` the current task for the rest of the current synchronous
 * execution and what it schedules (for integrations that learn about new
 * work from a diagnostics channel, inside someone else's callback).
 */
export function enterTask(task: Task): void {
  storage.enterWith(task);
}
