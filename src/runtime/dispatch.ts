/**
 * The dispatcher: turns a core slot's func stack into the value its entry
 * checks read (the kernel's klp_ftrace_handler, split in two):
 *
 * - no func on the stack: `undefined` — the check stays idle;
 * - nothing on the stack in transition: a fixed trampoline to the func that
 *   every task runs (or `undefined` again if that is the original: a nop);
 * - the top func in transition: a trampoline that asks, per call, which func
 *   the calling task runs (R4.5 with the task's patch state), and returns
 *   `$lpO` when that is the original so the original body runs.
 *
 * Trampolines also keep what the core needs to know of replacement code:
 * frames of async and generator replacements (which version a task is
 * suspended in), the synchronous dispatch stack (for safepoints), and the
 * closure accessor the replacement reads with `closure()`.
 */

import { KlpError, EINVAL, dispatch, type Func, type Livepatch, type Slot, type SlotSink } from '../core/index.ts';
import { RUN_ORIGINAL } from './abi.ts';
import type { FrameTable } from './frames.ts';
import type { CoreSlot } from './objects.ts';
import type { SlotTable, SlotValue } from './slots.ts';
import { currentTask, type Task } from './tasks.ts';

/** The name of the functions entry checks call, for stack readers. */
export const ENTRY_NAME = '$lpDispatchEntry';

/** A closure's accessor (see instrument/fragments.ts): `acc(-1)` gives the captured values in order, `acc(i, v)` writes number i. */
export type Accessor = (index?: number, value?: unknown) => unknown;
/** One call of a replacement: the func, the receiver (or new.target), the closure accessor, the arguments. */
type Invoke = (f: Func, recv: unknown, acc: Accessor | undefined, args: unknown[]) => unknown;

/** The call being replaced, for `closure()`: valid in the replacement's synchronous part. */
export const closureState: { acc: Accessor | undefined; slot: CoreSlot | undefined } = {
  acc: undefined,
  slot: undefined,
};

/**
 * Replacement calls on the current synchronous stack, innermost last:
 * pairs of (instance slot id, version). A safepoint reads it with the stack.
 */
export const dispatchStack: number[] = [];

export class Dispatcher implements SlotSink {
  private readonly slots: SlotTable;
  private readonly frames: FrameTable;
  core: Livepatch | undefined;
  /** called for a task whose state is stale (see Runtime.adopt) */
  adopt: ((task: Task) => void) | undefined;

  constructor(slots: SlotTable, frames: FrameTable) {
    this.slots = slots;
    this.frames = frames;
  }

  update(slot: Slot): void {
    const cs = slot as CoreSlot;
    const core = this.core!;
    const stack = core.stackOf(cs);
    if (stack.length > 0 && cs.symbol.unpatchable !== null) {
      throw new KlpError(EINVAL, `${cs.symbol.name} cannot be patched: ${cs.symbol.unpatchable}`);
    }
    const value = this.valueFor(cs, stack);
    for (const id of cs.members) this.slots.set(id, value);
  }

  /** Re-arm instances that joined a core slot after it was armed. */
  refresh(cs: CoreSlot): void {
    if (this.core!.stackOf(cs).length > 0) this.update(cs);
  }

  private valueFor(cs: CoreSlot, stack: readonly Func[]): SlotValue {
    if (stack.length === 0) return undefined;
    const top = stack[0]!;
    if (!top.transition) {
      const f = dispatch(stack, 1);
      return f === null ? undefined : this.entry(cs, () => f);
    }
    // During the transition every call picks by the calling task's state.
    const adopt = this.adopt!;
    const core = this.core!;
    return this.entry(cs, () => {
      const task = currentTask();
      // a task the core has not seen since the transition began: bring it up to date first
      if (task.seq !== core.transitionSeq) adopt(task);
      return dispatch(stack, task.patchState);
    });
  }

  /** The function the entry check calls: (receiver or new.target, [accessor], ...args). */
  private entry(cs: CoreSlot, pick: () => Func | null): SlotValue {
    const invoke = this.invoker(cs);
    const run = (recv: unknown, acc: Accessor | undefined, args: unknown[]): unknown => {
      const f = pick();
      return f === null ? RUN_ORIGINAL : invoke(f, recv, acc, args);
    };
    // named ENTRY_NAME: the stack reader skips the original function's frame below it
    if (cs.symbol.captures.length > 0) {
      return function $lpDispatchEntry(recv: unknown, acc?: unknown, ...args: unknown[]) {
        return run(recv, acc as Accessor, args);
      };
    }
    return function $lpDispatchEntry(recv: unknown, ...args: unknown[]) {
      return run(recv, undefined, args);
    };
  }

  /** How one call of a replacement is made for this function's kind. */
  private invoker(cs: CoreSlot): Invoke {
    const sym = cs.symbol;
    const slotId = cs.members[0] ?? 0;
    const frames = this.frames;

    const construct = sym.kind === 'constructor';
    const track = sym.generator ? (sym.async ? 'agen' : 'gen') : sym.async ? 'promise' : 'none';
    return (f, recv, acc, args) => {
      const fn = f.newFunc as (...a: unknown[]) => unknown;
      const prevAcc = closureState.acc;
      const prevSlot = closureState.slot;
      closureState.acc = acc;
      closureState.slot = cs;
      dispatchStack.push(slotId, f.version);
      try {
        if (construct) return Reflect.construct(fn, args, recv as Function);
        if (track === 'none') return Reflect.apply(fn, recv, args);
        // An async or generator replacement holds a frame until it settles or closes.
        const frame = frames.enter(slotId, f.version, currentTask());
        let result: unknown;
        try {
          result = Reflect.apply(fn, recv, args);
        } catch (error) {
          frames.exit(frame);
          throw error;
        }
        if (track === 'promise') return Promise.resolve(result).finally(() => frames.exit(frame));
        if (track === 'gen') return trackGenerator(result as Generator, () => frames.exit(frame));
        return trackAsyncGenerator(result as AsyncGenerator, () => frames.exit(frame));
      } finally {
        dispatchStack.length -= 2;
        closureState.acc = prevAcc;
        closureState.slot = prevSlot;
      }
    };
  }
}

function* trackGenerator(it: Generator, done: () => void): Generator {
  try {
    return yield* it;
  } finally {
    done();
  }
}

async function* trackAsyncGenerator(it: AsyncGenerator, done: () => void): AsyncGenerator {
  try {
    return yield* it;
  } finally {
    done();
  }
}
