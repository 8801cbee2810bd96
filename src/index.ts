/**
 * livepatch — what patch authors and programs import.
 *
 *   import { definePatch, printk, closure, moduleScope, shadow, task, safepoint } from 'livepatch';
 *
 * Everything reaches the runtime of the current realm through a global
 * symbol, so it works even if the program and the loader resolved two
 * copies of this package. Outside the loader (plain `node`), definePatch
 * still validates nothing more than a plain object, `task` just runs its
 * function, and `safepoint` returns true.
 */

import type { Callbacks, Consistency, KlpState, ObjectDef, PatchDef, StateDef } from './core/index.ts';
import type { Runtime } from './runtime/runtime.ts';
import type { RuntimeCode } from './runtime/errors.ts';

export type { Callbacks, Consistency, KlpState, ObjectDef, PatchDef, StateDef };
export type { CallbackObject, FuncDef } from './core/index.ts';
export { KlpError } from './core/index.ts';

function rt(): Runtime | undefined {
  return (globalThis as Record<symbol, Runtime | undefined>)[Symbol.for('livepatch.runtime')];
}

/** An error of the runtime's, coded as a RuntimeError is, without its module: see runtime/errors.ts. */
function runtimeError(code: RuntimeCode, message: string): Error & { readonly code: RuntimeCode } {
  return Object.assign(new Error(message), { code });
}

function required(what: string): Runtime {
  const r = rt();
  if (r === undefined) {
    const message = `livepatch: ${what} needs the loader: run with node --import livepatch/register`;
    throw runtimeError('LP_ERR_NEEDS_LOADER', message);
  }
  return r;
}

/** A patch module's default export (the kernel's struct klp_patch). `name` defaults to the file's name. */
export function definePatch(def: Omit<PatchDef, 'name'> & { name?: string }): PatchDef {
  return def as PatchDef;
}

/** Write a line into the process's log (its dmesg). */
export function printk(text: string, level?: number): void {
  const r = rt();
  if (r !== undefined) r.core.printk(text, level);
  else console.log(text);
}

/**
 * Run `fn` as a new task, a unit of work that ends when `fn` returns or the
 * promise it returns settles: the unit of per-task consistency, and under
 * `consistency: 'request'` the unit that runs entirely on the old code or
 * entirely on the new. Use it where a program starts work by itself (a
 * queue consumer's message, a job); HTTP requests, HTTP/2 streams, net
 * connections and worker messages get a task automatically. When `fn`
 * returns a promise, `task` returns one that settles as it does.
 */
export function task<T>(name: string, fn: () => T): T {
  const r = rt();
  return r === undefined ? fn() : r.api.runUnit(r.newUnit(name), fn, (t) => r.endTask(t));
}

/**
 * A point where the current task provably holds no frame of a patched
 * function it should leave (the kernel's klp_update_patch_state, with a
 * stack check): a long-running loop calls it so a transition can switch it.
 * Returns true when the task is not (or no longer) waiting to switch.
 */
export function safepoint(): boolean {
  const r = rt();
  return r === undefined ? true : r.safepoint();
}

/** The current task: its id, name and patch state (-1 idle, 0 unpatched, 1 patched). */
export function currentTaskInfo(): { id: number; name: string; patchState: number; pending: boolean } {
  const r = rt();
  if (r === undefined) return { id: 0, name: 'init', patchState: -1, pending: false }; // the root task, which outside the loader never changes
  const t = r.api.currentTask();
  return { id: t.id, name: t.name, patchState: t.patchState, pending: t.pending };
}

/** The fake signal of the current task (R5.14): aborted when a transition waits for it too long. */
export function taskSignal(): AbortSignal {
  const r = rt();
  return r === undefined ? (neverSignaled ??= new AbortController().signal) : r.api.currentTask().signal;
}

/** outside the loader no transition ever waits for a task */
let neverSignaled: AbortSignal | undefined;

/**
 * Inside a replacement: the variables the replaced closure captured, as an
 * object with one property per variable (read and, if the original code
 * assigns it, write). Read it synchronously at the replacement's start.
 */
export function closure(): Record<string, unknown> {
  const r = rt();
  const { acc, slot } = r?.api.closureState ?? { acc: undefined, slot: undefined };
  if (slot === undefined || r === undefined) {
    const message = 'livepatch: closure() is only available at the start of a replacement of a closure';
    throw runtimeError('LP_ERR_NO_CLOSURE', message);
  }
  const sym = slot.symbol;
  const views: ScopeView[] = [];
  if (acc !== undefined && sym.captures.length > 0) {
    views.push({
      names: sym.captures,
      writable: sym.writable,
      get: (i) => (acc(-1) as unknown[])[i],
      set: (i, v) => void acc(i, v),
    });
  }
  // variables of enclosing functions that run once (a bundle's wrapper): their own accessors
  const found = r.slots.lookup(slot.members[0] ?? -1);
  if (found !== undefined) {
    const symbols = found.record.plan().symbols.symbols;
    for (const index of sym.scopes) {
      const sacc = found.record.handle.scopes[index];
      const owner = symbols[index];
      if (sacc !== undefined && owner?.scope !== undefined) {
        views.push({
          names: owner.scope,
          writable: owner.scopeWritable ?? [],
          get: (i) => sacc(i),
          set: (i, v) => void sacc(i, v, true),
        });
      }
    }
  }
  return scopeObject(views);
}

/**
 * A module's top-level bindings (and `require`, `module`, `exports`,
 * `__filename`, `__dirname` in CommonJS), by module id: read any of them;
 * write those the module's own code assigns.
 */
export function moduleScope(moduleId: string): Record<string, unknown> {
  const r = required('moduleScope()');
  const record = r.slots.modules(moduleId)[0];
  if (record === undefined) {
    throw runtimeError('LP_ERR_MODULE_NOT_LOADED', `livepatch: module '${moduleId}' is not loaded`);
  }
  const acc = record.handle.scope;
  if (acc === undefined) {
    throw runtimeError('LP_ERR_MODULE_NOT_STARTED', `livepatch: module '${moduleId}' has not started running yet`);
  }
  const { scope, scopeWritable } = record.plan().symbols;
  return scopeObject([
    { names: scope, writable: scopeWritable, get: (i) => acc(i), set: (i, v) => void acc(i, v, true) },
  ]);
}

interface ScopeView {
  readonly names: readonly string[];
  readonly writable: readonly string[];
  get(i: number): unknown;
  set(i: number, v: unknown): void;
}

/** One object over several scopes, nearest first: a nearer variable hides a farther one of the same name. */
function scopeObject(views: readonly ScopeView[]): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const view of views) {
    view.names.forEach((n, i) => {
      if (Object.prototype.hasOwnProperty.call(o, n)) return;
      const canWrite = view.writable.includes(n);
      Object.defineProperty(o, n, {
        get: () => view.get(i),
        set: (v: unknown) => {
          if (!canWrite)
            throw new TypeError(`livepatch: '${n}' is not assigned by the original code, so it cannot be written`);
          view.set(i, v);
        },
        enumerable: true,
      });
    });
  }
  return Object.freeze(o);
}

/** Shadow variables (the kernel's klp_shadow_*): data attached to objects the patch did not create. */
export const shadow = {
  get: (obj: object, id: number | string) => required('shadow').core.shadow.get(obj, id),
  alloc: (...a: Parameters<Runtime['core']['shadow']['alloc']>) => required('shadow').core.shadow.alloc(...a),
  getOrAlloc: (...a: Parameters<Runtime['core']['shadow']['getOrAlloc']>) =>
    required('shadow').core.shadow.getOrAlloc(...a),
  free: (...a: Parameters<Runtime['core']['shadow']['free']>) => required('shadow').core.shadow.free(...a),
  freeAll: (...a: Parameters<Runtime['core']['shadow']['freeAll']>) => required('shadow').core.shadow.freeAll(...a),
};

/** klp_get_state: a system state of a patch. */
export function getState(patch: string, id: number): KlpState | null {
  return required('getState()').core.getState(patch, id);
}

/** klp_get_prev_state: during a transition, the newest state `id` of the patches before it. */
export function getPrevState(id: number): KlpState | null {
  return required('getPrevState()').core.getPrevState(id);
}
