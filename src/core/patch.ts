/*
 * patch.ts — func stacks and the redirect decision (kernel/livepatch/patch.c).
 *
 * Invariants:
 * - One stack per slot (R4.1), newest func first; created with its first
 *   func, deleted with its last (R4.2). A func is on a stack iff `patched`.
 * - The SlotSink hears about every change to a stack and to the
 *   `transition` flag of a func on a stack, after the change.
 * - dispatch() is R4.5: pure and allocation-free; only the top func's
 *   `transition` flag is consulted, and a nop means the original.
 */

import { KlpError } from './errors.ts';
import { EBUSY, EINVAL } from './errno.ts';
import type { Klp } from './context.ts';
import type { KlpFunc, KlpObject, KlpPatch } from './model.ts';
import { failedToFindLocation, failedToRegisterHandler } from './messages.ts';
import type { Func, PatchState } from './types.ts';

/**
 * klp_ftrace_handler's decision (R4.5): the func a task in `state` runs, or
 * null for the original code.
 */
export function dispatch<F extends Func>(stack: readonly F[], state: PatchState): F | null {
  let f = stack[0];
  if (f === undefined) return null;
  // R4.5 step 3: during a transition an unpatched task sees the entry below.
  if (f.transition && state === 0) {
    f = stack[1];
    if (f === undefined) return null;
  }
  // R4.5 step 4: a nop runs the original, never "itself".
  return f.nop ? null : f;
}

/** The version a task in `state` runs on this stack: the chosen func's, or 0 for the original. */
export function dispatchVersion(stack: readonly Func[], state: PatchState): number {
  const f = dispatch(stack, state);
  return f === null ? 0 : f.version;
}

/** klp_patch_func (R4.1). */
export function patchFunc(klp: Klp, func: KlpFunc): void {
  const slot = func.slot;
  if (slot === null || func.patched)
    throw new KlpError(EINVAL, `livepatch: function '${func.oldName}' is not resolved or already patched`);
  let stack = klp.stacks.get(slot);
  if (stack === undefined) {
    // First func on this function: "register the handler". The runtime may
    // refuse to arm the function, which is the kernel's registration failure.
    stack = [func];
    klp.stacks.set(slot, stack);
    func.patched = true;
    const sink = klp.ports.sink;
    if (sink !== undefined) {
      try {
        sink.update(slot);
      } catch (error) {
        klp.stacks.delete(slot);
        func.patched = false;
        klp.notifySlot(slot);
        // A function the runtime cannot arm at all is the kernel's untraceable
        // function (-EINVAL); any other refusal is a busy handler (-EBUSY).
        if (error instanceof KlpError && error.errno === EINVAL) {
          klp.log.err(failedToFindLocation(func.oldName));
          throw new KlpError(
            EINVAL,
            `livepatch: failed to find location for function '${func.oldName}': ${error.message}`,
            { cause: error },
          );
        }
        klp.log.err(failedToRegisterHandler(func.oldName, EBUSY));
        throw new KlpError(
          EBUSY,
          `livepatch: failed to register the handler for function '${func.oldName}': ${String(error)}`,
          { cause: error },
        );
      }
    }
    return;
  }
  stack.unshift(func);
  func.patched = true;
  klp.notifySlot(slot);
}

/** klp_unpatch_func (R4.2). */
export function unpatchFunc(klp: Klp, func: KlpFunc): void {
  if (!func.patched || func.slot === null) return;
  const slot = func.slot;
  const stack = klp.stacks.get(slot);
  func.patched = false;
  if (stack !== undefined) {
    const i = stack.indexOf(func);
    if (i >= 0) stack.splice(i, 1);
    if (stack.length === 0) klp.stacks.delete(slot);
  }
  klp.notifySlot(slot);
}

/** klp_patch_object (R4.3): all or nothing. */
export function patchObject(klp: Klp, obj: KlpObject): void {
  try {
    for (const func of obj.funcs) patchFunc(klp, func);
  } catch (error) {
    unpatchObject(klp, obj, false);
    throw error;
  }
  obj.patched = true;
}

/** klp_unpatch_object / the "dynamic" variant when nopsOnly (R4.3). */
export function unpatchObject(klp: Klp, obj: KlpObject, nopsOnly: boolean): void {
  for (const func of obj.funcs) {
    if (nopsOnly && !func.nop) continue;
    if (func.patched) unpatchFunc(klp, func);
  }
  if (obj.dynamic || !nopsOnly) obj.patched = false;
}

/** klp_unpatch_objects(_dynamic) (R4.3). */
export function unpatchObjects(klp: Klp, patch: KlpPatch, nopsOnly: boolean): void {
  for (const obj of patch.objects) if (obj.patched) unpatchObject(klp, obj, nopsOnly);
}

/** Set or clear `transition` on a func, telling the sink if the func is on a stack. */
export function setTransition(klp: Klp, func: KlpFunc, value: boolean): void {
  if (func.transition === value) return;
  func.transition = value;
  if (func.patched && func.slot !== null) klp.notifySlot(func.slot);
}
