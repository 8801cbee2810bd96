/**
 * Tasks: the unit of per-task consistency (the kernel's task_struct). A task
 * is an async context carried by AsyncLocalStorage: the root context is the
 * init task, and the runtime starts a new task for each unit of outside work.
 * Continuations (promises, timers, callbacks) stay in the task that scheduled
 * them, because AsyncLocalStorage propagates through them.
 */

import { AsyncLocalStorage } from 'node:async_hooks';

export type PatchState = -1 | 0 | 1;

export class Task {
  static #nextId = 1;
  readonly id: number;
  readonly name: string;
  readonly startedAt: number;
  /** KLP_TRANSITION_IDLE (-1), UNPATCHED (0) or PATCHED (1); written by the core */
  patchState: PatchState = -1;
  /** TIF_PATCH_PENDING; written by the core */
  pending = false;
  /** head of this task's list of frames in the frame table (-1: none) */
  frameHead = -1;
  frameCount = 0;

  constructor(name: string, id?: number) {
    this.id = id ?? Task.#nextId++;
    this.name = name;
    this.startedAt = performance.now();
  }
}

const storage = new AsyncLocalStorage<Task>();

/** The root async context: code that runs outside any task the runtime started. */
export const initTask = new Task('init', 0);

export function currentTask(): Task {
  return storage.getStore() ?? initTask;
}

/** Run `fn` as a new task (the runtime's fork). */
export function runInTask<T>(task: Task, fn: () => T): T {
  return storage.run(task, fn);
}
