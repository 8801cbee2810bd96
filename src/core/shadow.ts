/*
 * shadow.ts — shadow variables (kernel/livepatch/shadow.c, R13) for
 * JavaScript objects.
 *
 * Invariants:
 * - At most one variable per <obj, id>; the data of a variable is a fresh
 *   object handed to the ctor, and is the same object every later get()
 *   returns until it is freed.
 * - Keys are held weakly: the table is a WeakMap, so shadowing an object
 *   never keeps it alive. free_all needs to enumerate, so the table also
 *   keeps a WeakRef per shadowed object, dropped when its last variable is
 *   freed or (FinalizationRegistry) when the object is collected.
 * - A failing ctor leaves nothing behind; alloc on an existing <obj, id>
 *   leaves the existing variable untouched (R13.3, R13.4).
 * - Everything is synchronous: there is no window between the existence
 *   check and the insert, so the kernel's re-check under the lock is moot.
 */

import { isKlpError } from './errors.ts';
import { EINVAL } from './errno.ts';
import type { KernelLog } from './log.ts';
import { duplicateShadow, shadowCtorFailed } from './messages.ts';

export type ShadowId = number | string;
export type ShadowData = Record<PropertyKey, unknown>;
/** Returns 0 (or nothing) on success; non-zero or a throw means failure. */
export type ShadowCtor<C = unknown> = (obj: object, data: ShadowData, ctorData: C) => number | void;
export type ShadowDtor = (obj: object, data: ShadowData) => void;

interface Entry {
  readonly ref: WeakRef<object>;
  readonly vars: Map<ShadowId, ShadowData>;
}

function checkKey(obj: unknown, fn: string): asserts obj is object {
  if ((typeof obj !== 'object' && typeof obj !== 'function') || obj === null) {
    throw new TypeError(
      `${fn}: a shadow variable's obj must be an object or a function, got ${obj === null ? 'null' : typeof obj}`,
    );
  }
}

function checkId(id: unknown, fn: string): asserts id is ShadowId {
  if (typeof id === 'string') return;
  if (typeof id === 'number' && Number.isSafeInteger(id) && id >= 0) return;
  throw new TypeError(`${fn}: a shadow variable's id must be a non-negative integer or a string, got ${String(id)}`);
}

export class Shadow {
  private readonly log: KernelLog;
  private readonly table = new WeakMap<object, Entry>();
  private readonly refs = new Set<WeakRef<object>>();
  private readonly registry = new FinalizationRegistry<WeakRef<object>>((ref) => {
    this.refs.delete(ref);
  });
  /** Stand-ins for %p: a number per object, never an address. */
  private readonly pointers = new WeakMap<object, number>();
  private nextPointer = 1;

  constructor(log: KernelLog) {
    this.log = log;
  }

  private ptr(obj: object): string {
    let n = this.pointers.get(obj);
    if (n === undefined) {
      n = this.nextPointer++;
      this.pointers.set(obj, n);
    }
    return n.toString(16).padStart(16, '0');
  }

  private static idText(id: ShadowId): string {
    return typeof id === 'number' ? id.toString(16) : id;
  }

  /** klp_shadow_get (R13.2). */
  get(obj: object, id: ShadowId): ShadowData | null {
    checkKey(obj, 'shadow.get');
    checkId(id, 'shadow.get');
    return this.table.get(obj)?.vars.get(id) ?? null;
  }

  /** klp_shadow_alloc (R13.3): null (and a WARN) if it exists, null if ctor fails. */
  alloc<C>(obj: object, id: ShadowId, ctor?: ShadowCtor<C>, ctorData?: C): ShadowData | null {
    checkKey(obj, 'shadow.alloc');
    checkId(id, 'shadow.alloc');
    return this.getOrAllocInner(obj, id, ctor, ctorData, true);
  }

  /** klp_shadow_get_or_alloc (R13.4): the existing data, ctor not called. */
  getOrAlloc<C>(obj: object, id: ShadowId, ctor?: ShadowCtor<C>, ctorData?: C): ShadowData | null {
    checkKey(obj, 'shadow.getOrAlloc');
    checkId(id, 'shadow.getOrAlloc');
    return this.getOrAllocInner(obj, id, ctor, ctorData, false);
  }

  private getOrAllocInner<C>(
    obj: object,
    id: ShadowId,
    ctor: ShadowCtor<C> | undefined,
    ctorData: C | undefined,
    warnOnExist: boolean,
  ): ShadowData | null {
    const existing = this.table.get(obj)?.vars.get(id);
    if (existing !== undefined) {
      if (!warnOnExist) return existing;
      this.log.warnRaw(duplicateShadow(this.ptr(obj), Shadow.idText(id)));
      return null;
    }
    const data: ShadowData = {};
    if (ctor !== undefined) {
      let err = 0;
      try {
        const ret: unknown = ctor(obj, data, ctorData as C);
        if (typeof ret === 'number' && ret !== 0) err = ret;
      } catch (error) {
        const e = isKlpError(error) ? error.errno : (error as { errno?: unknown } | null)?.errno;
        err = typeof e === 'number' && e < 0 ? e : EINVAL;
      }
      if (err !== 0) {
        this.log.err(shadowCtorFailed(this.ptr(obj), Shadow.idText(id), err));
        return null;
      }
    }
    let entry = this.table.get(obj);
    if (entry === undefined) {
      const ref = new WeakRef(obj);
      entry = { ref, vars: new Map() };
      this.table.set(obj, entry);
      this.refs.add(ref);
      this.registry.register(obj, ref, ref);
    }
    entry.vars.set(id, data);
    return data;
  }

  private drop(obj: object, entry: Entry, id: ShadowId, dtor: ShadowDtor | undefined): void {
    const data = entry.vars.get(id);
    if (data === undefined) return;
    entry.vars.delete(id);
    if (entry.vars.size === 0) {
      this.table.delete(obj);
      this.refs.delete(entry.ref);
      this.registry.unregister(entry.ref);
    }
    if (dtor !== undefined) dtor(obj, data);
  }

  /** klp_shadow_free (R13.5): dtor once, if it existed. */
  free(obj: object, id: ShadowId, dtor?: ShadowDtor): void {
    checkKey(obj, 'shadow.free');
    checkId(id, 'shadow.free');
    const entry = this.table.get(obj);
    if (entry !== undefined) this.drop(obj, entry, id, dtor);
  }

  /** klp_shadow_free_all (R13.6): every <*, id>. */
  freeAll(id: ShadowId, dtor?: ShadowDtor): void {
    checkId(id, 'shadow.freeAll');
    for (const ref of [...this.refs]) {
      const obj = ref.deref();
      if (obj === undefined) {
        this.refs.delete(ref);
        continue;
      }
      const entry = this.table.get(obj);
      if (entry !== undefined) this.drop(obj, entry, id, dtor);
    }
  }

  /** How many objects are tracked (live or awaiting finalization). */
  get trackedObjects(): number {
    return this.refs.size;
  }

  /** How many variables exist on live objects. */
  count(id?: ShadowId): number {
    let n = 0;
    for (const ref of this.refs) {
      const obj = ref.deref();
      if (obj === undefined) continue;
      const vars = this.table.get(obj)?.vars;
      if (vars === undefined) continue;
      n += id === undefined ? vars.size : vars.has(id) ? 1 : 0;
    }
    return n;
  }
}
