/**
 * Frames: which task is inside which function, and which version of it. The
 * kernel walks a task's stack; JavaScript has no walkable stack for suspended
 * async functions and generators, so their entry and exit are recorded here
 * (by the loader's `$lpE`/`$lpX` in original code and by the dispatcher for
 * replacements). Synchronous frames need no record: a transition is checked
 * only when the stack is empty, or at a safepoint, which reads the stack.
 *
 * A frame table is a slab of parallel arrays with a free list and one doubly
 * linked list per task: entering and leaving cost O(1) and allocate nothing.
 *
 * Invariants:
 * - a live frame is on exactly one task's list; `task.frameCount` is its length;
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
  private next = new Int32Array(1024);
  private prev = new Int32Array(1024);
  private task: (Task | undefined)[] = new Array(1024).fill(undefined);
  private freeHead = -1;
  private used = 0;
  /** called when a task leaves its last frame while a switch is pending */
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
    const head = task.frameHead;
    this.next[i] = head;
    this.prev[i] = -1;
    if (head !== -1) this.prev[head] = i;
    task.frameHead = i;
    task.frameCount++;
    return i;
  }

  exit(i: number): void {
    const task = this.task[i];
    if (task === undefined) return; // already released (a generator closed twice)
    const n = this.next[i]!;
    const p = this.prev[i]!;
    if (p !== -1) this.next[p] = n;
    else task.frameHead = n;
    if (n !== -1) this.prev[n] = p;
    this.task[i] = undefined;
    this.next[i] = this.freeHead;
    this.freeHead = i;
    task.frameCount--;
    if (task.pending && this.onLeave !== null) this.onLeave(task);
  }

  *framesOf(task: Task): Generator<FrameView> {
    for (let i = task.frameHead; i !== -1; i = this.next[i]!) {
      yield { slot: this.slot[i]!, version: this.version[i]! };
    }
  }

  /** Number of live frames (for tests and status). */
  get size(): number {
    let free = 0;
    for (let i = this.freeHead; i !== -1; i = this.next[i]!) free++;
    return this.used - free;
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
    this.prev = copy(this.prev);
    for (let i = this.task.length; i < n; i++) this.task.push(undefined);
  }
}
