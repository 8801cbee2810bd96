/*
 * model.ts — the core's internal patch, object and func (R1.2–R1.4).
 *
 * Invariants:
 * - A KlpFunc's `slot` (the kernel's old_func) is set only while its object
 *   is loaded and resolved; `patched` implies it is on exactly that slot's
 *   func stack; (patched, transition) only moves along R1.2's sequences.
 * - An object's funcs are its static funcs in definition order, then nops
 *   (R1.3); a patch's objects are its static objects, then dynamic ones
 *   (R1.4). `ordinal` numbers funcs in that order (klp_for_each_object ×
 *   klp_for_each_func), which the stack check uses to name the same
 *   function the kernel would.
 * - An object is loaded iff it is the null object (vmlinux) or bound to a
 *   module (R1.5).
 */

import type { Callbacks, Consistency, Func, KlpState, ModuleHandle, Slot } from './types.ts';

export class KlpFunc implements Func {
  readonly version: number;
  readonly oldName: string;
  readonly oldSympos: number;
  readonly newFunc: Function | null;
  readonly nop: boolean;
  readonly immediate: boolean;
  readonly oldHash: string | undefined;
  readonly object: KlpObject;
  readonly patch: KlpPatch;
  readonly patchName: string;
  ordinal = 0;
  slot: Slot | null = null;
  patched = false;
  transition = false;

  constructor(
    object: KlpObject,
    version: number,
    oldName: string,
    oldSympos: number,
    newFunc: Function | null,
    nop: boolean,
    immediate: boolean,
    oldHash: string | undefined,
  ) {
    this.object = object;
    this.patch = object.patch;
    this.patchName = object.patch.name;
    this.version = version;
    this.oldName = oldName;
    this.oldSympos = oldSympos;
    this.newFunc = newFunc;
    this.nop = nop;
    this.immediate = immediate;
    this.oldHash = oldHash;
  }
}

export class KlpObject {
  readonly name: string | null;
  readonly patch: KlpPatch;
  readonly callbacks: Callbacks | null;
  readonly dynamic: boolean;
  funcs: KlpFunc[] = [];
  mod: ModuleHandle | null = null;
  patched = false;
  postUnpatchEnabled = false;

  constructor(patch: KlpPatch, name: string | null, callbacks: Callbacks | null, dynamic: boolean) {
    this.patch = patch;
    this.name = name;
    this.callbacks = callbacks;
    this.dynamic = dynamic;
  }
}

export class KlpPatch {
  readonly name: string;
  readonly replace: boolean;
  readonly consistency: Consistency;
  readonly states: readonly KlpState[];
  objects: KlpObject[] = [];
  enabled = false;
  forced = false;

  constructor(name: string, replace: boolean, consistency: Consistency, states: readonly KlpState[]) {
    this.name = name;
    this.replace = replace;
    this.consistency = consistency;
    this.states = states;
  }
}

/** klp_is_object_loaded (R1.5). */
export function isLoaded(obj: KlpObject): boolean {
  return obj.name === null || obj.mod !== null;
}

/** Number the funcs of a patch in klp_for_each_object × klp_for_each_func order. */
export function renumber(patch: KlpPatch): void {
  let n = 0;
  for (const obj of patch.objects) for (const func of obj.funcs) func.ordinal = n++;
}
