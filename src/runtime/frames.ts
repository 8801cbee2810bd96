/**
 * Frames: which task is inside which function, and which version of it. The
 * kernel walks a task's stack; JavaScript has no walkable stack for suspended
 * async functions and generators, so their entry and exit are recorded here
 * (by the loader's `$lpE`/`$lpX` in original code and by the dispatcher for
 * replacements). Synchronous frames need no record: a transition is checked
 * only when the stack is empty, or at a safepoint, which reads the stack.
 *
 * Entering and leaving run in every async call of the program, so they do
 * the least: a frame is a slot in parallel arrays (function, version, task)
 * taken from a free list. Grouping frames by task is left to the rare reader
 * (a transition attempt), which regroups only when frames changed since the
 * last time it looked.
 *
 * Invariants:
 * - a live frame has its task set; a free one has `undefined`;
 * - `task.frameCount` is the number of live frames of the task;
 * - a frame's `version` is 0 for original code, else the version of the func
 *   that runs (see docs/architecture.md).
 */

import type { Task } from './tasks.ts';

export interface FrameView {
  readonly slot: number;
  readonly version: number;
}

export class FrameTable {
  private slot = new Int32Array(1024);
  private version = new Int32Array(1024);
  /** free list links (only meaningful for free entries) */
  private next = new Int32Array(1024);
  private task: (Task | undefined)[] = new Array<Task | undefined>(1024).fill(undefined);
  private freeHead = -1;
  private used = 0;
  /** changes whenever a frame is entered or left */
  private generation = 0;
  private grouped: Map<Task, FrameView[]> | undefined;
  private groupedAt = -1;
  /** called when a task leaves a frame while a switch is pending for it */
  onLeave: ((task: Task) => void) | null = null;

  enter(slotId: number, version: number, task: Task): number {
    let i = this.freeHead;
    if (i !== -1) this.freeHead = this.next[i]!;
    else {
      if (this.used === this.slot.length) this.grow();
      i = this.used++;
    }
    this.slot[i] = slotId;
    this.version[i] = version;
    this.task[i] = task;
    task.frameCount++;
    this.generation++;
    return i;
  }

  exit(i: number): void {
    const task = this.task[i];
    if (task === undefined) return; // already released (a generator closed twice)
    this.task[i] = undefined;
    this.next[i] = this.freeHead;
    this.freeHead = i;
    task.frameCount--;
    this.generation++;
    if (task.pending && this.onLeave !== null) this.onLeave(task);
  }

  /** The frames a task holds (the reader of a transition attempt). */
  framesOf(task: Task): readonly FrameView[] {
    if (task.frameCount === 0) return [];
    return this.regroup().get(task) ?? [];
  }

  /** The tasks that hold frames. */
  tasks(): IterableIterator<Task> {
    return this.regroup().keys();
  }

  /** Frames by task, rebuilt only if frames were entered or left since the last time. */
  private regroup(): Map<Task, FrameView[]> {
    if (this.grouped !== undefined && this.groupedAt === this.generation) return this.grouped;
    const g = new Map<Task, FrameView[]>();
    for (let i = 0; i < this.used; i++) {
      const t = this.task[i];
      if (t === undefined) continue;
      const list = g.get(t);
      const f = { slot: this.slot[i]!, version: this.version[i]! };
      if (list === undefined) g.set(t, [f]);
      else list.push(f);
    }
    this.grouped = g;
    this.groupedAt = this.generation;
    return g;
  }

  /** Number of live frames (for tests and status). */
  get size(): number {
    let n = 0;
    for (let i = 0; i < this.used; i++) if (this.task[i] !== undefined) n++;
    return n;
  }

  private grow(): void {
    const n = this.slot.length * 2;
    const copy = (a: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> => {
      const b = new Int32Array(n);
      b.set(a);
      return b;
    };
    this.slot = copy(this.slot);
    this.version = copy(this.version);
    this.next = copy(this.next);
    for (let i = this.task.length; i < n; i++) this.task.push(undefined);
  }
}
