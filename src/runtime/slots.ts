/**
 * Slots: the bindings the entry checks read, one per instrumented function.
 *
 * A slot is a script-scope `let` (`$lp<key>_<i>`) declared in the realm's
 * global lexical scope before the module's code runs. V8 tracks such a
 * binding as a constant until it is first written, so optimized code folds
 * the idle check away; writing a slot (patching) deoptimizes the code that
 * depended on it — the price of patching is paid once, like the kernel's
 * rewrite of the ftrace nop.
 *
 * Invariants:
 * - a module's slots and its handle (`$lp<key>`) are declared exactly once,
 *   before its body runs; a key is never declared twice in one realm;
 * - a slot holds `undefined` (idle: the original body runs) or a function the
 *   entry check calls with the receiver, the closure accessor (when the
 *   function captures variables) and the forwarded arguments.
 */

import { runInThisContext } from 'node:vm';
import { fileURLToPath } from 'node:url';
import type { SymbolInfo } from '../instrument/symbol-table.ts';
import type { Plan } from '../instrument/cache.ts';
import { moduleHandleName, slotName } from '../instrument/fragments.ts';
import { RuntimeError } from './errors.ts';

/** The object bound to `$lp<key>`: what instrumented code knows of its module. */
export interface ModuleHandle {
  /** global id of the module's first slot: slot ids are `base + index` */
  readonly base: number;
  readonly id: string;
  /** the module's scope accessor, set by its prologue when its body starts: `scope(i)`, `scope(i, v, true)` */
  scope: ScopeAccessor | undefined;
  /** accessors of the module's functions that run once, by function index, set when each runs */
  readonly scopes: Record<number, ScopeAccessor>;
}

export type ScopeAccessor = (index: number, value?: unknown, set?: boolean) => unknown;

export interface ModuleRecord {
  readonly id: string;
  readonly key: string;
  readonly url: string;
  readonly handle: ModuleHandle;
  /** number of functions: slot ids `handle.base .. handle.base + count - 1` */
  readonly count: number;
  /** functions that have no slot */
  readonly unpatchable: ReadonlySet<number>;
  /** the symbol table and what the loader inserted (read from the cache on first use) */
  plan(): Plan;
}

export interface Declaration {
  readonly url: string;
  readonly moduleId: string;
  readonly key: string;
  readonly count: number;
  readonly unpatchable: readonly number[];
  readonly plan: () => Plan;
}

export type SlotValue = ((...args: unknown[]) => unknown) | undefined;

export class SlotTable {
  private nextBase = 1;
  private readonly byKey = new Map<string, ModuleRecord>();
  private readonly byId = new Map<string, ModuleRecord[]>();
  private readonly byPath = new Map<string, ModuleRecord[]>();
  private readonly records: ModuleRecord[] = [];
  /** slot setters, compiled on first use: `(v) => { $lpK_i = v }` */
  private readonly setters = new Map<number, (v: SlotValue) => void>();
  private readonly values = new Map<number, SlotValue>();

  /** handles and slots declared ahead of their modules (see `predeclare`) */
  private readonly predeclared = new Map<string, { handle: ModuleHandle; count: number }>();
  /** modules declared one by one (not ahead): the next start should declare them ahead */
  fresh = 0;

  /**
   * Declare, in one script, the handles and slots of modules expected to
   * load (those of the last run): one script per module costs ≈ 0.1 ms, most
   * of a warm start's overhead per module. A module that loads claims its
   * handle; one that does not leaves a few unused bindings behind.
   */
  predeclare(modules: readonly { readonly key: string; readonly count: number }[]): void {
    const handles: ModuleHandle[] = [];
    const consts: string[] = [];
    const lets: string[] = [];
    for (const { key, count } of modules) {
      if (
        this.byKey.has(key) ||
        this.predeclared.has(key) ||
        !/^[0-9a-z]{7}$/.test(key) ||
        !(count >= 0 && count < 1e6)
      )
        continue;
      const handle: ModuleHandle = { base: -1, id: '', scope: undefined, scopes: {} };
      consts.push(`${moduleHandleName(key)}=globalThis.$lpDeclare[${handles.length}]`);
      handles.push(handle);
      for (let i = 0; i < count; i++) lets.push(slotName(key, i));
      this.predeclared.set(key, { handle, count });
    }
    if (handles.length === 0) return;
    const g = globalThis as { $lpDeclare?: ModuleHandle[] };
    g.$lpDeclare = handles;
    try {
      runInThisContext(`const ${consts.join(',')};` + (lets.length > 0 ? `let ${lets.join(',')};` : ''), {
        filename: 'livepatch:slots',
      });
    } catch {
      // a name already taken in this realm (another copy of livepatch?): declare one by one instead
      this.predeclared.clear();
    } finally {
      delete g.$lpDeclare;
    }
  }

  isKeyTaken(key: string): boolean {
    return this.byKey.has(key);
  }

  byModuleKey(key: string): ModuleRecord | undefined {
    return this.byKey.get(key);
  }

  /**
   * Declare a module's handle and slots in the global lexical scope. Called
   * by the loader after the transform and before the module's code runs.
   */
  declare(d: Declaration): ModuleRecord {
    const { key, moduleId, count } = d;
    if (this.byKey.has(key)) {
      throw new RuntimeError('LP_ERR_INTERNAL', `livepatch: slot key ${key} is already declared (${moduleId})`);
    }
    const unpatchable = new Set(d.unpatchable);
    /** the `let`s of this module's armed slots from number `from` on */
    const slotLets = (from: number): string => {
      const names: string[] = [];
      for (let i = from; i < count; i++) if (!unpatchable.has(i)) names.push(slotName(key, i));
      return names.length > 0 ? `let ${names.join(',')};` : '';
    };
    const pre = this.predeclared.get(key);
    let handle: ModuleHandle;
    if (pre !== undefined) {
      // declared at start-up with the modules of the last run: claim it
      this.predeclared.delete(key);
      handle = pre.handle;
      (handle as { base: number }).base = this.nextBase;
      (handle as { id: string }).id = moduleId;
      const more = slotLets(pre.count);
      if (more !== '') runInThisContext(more, { filename: `livepatch:slots/${moduleId}` });
    } else {
      handle = { base: this.nextBase, id: moduleId, scope: undefined, scopes: {} };
      const g = globalThis as { $lpDeclare?: ModuleHandle };
      g.$lpDeclare = handle;
      try {
        runInThisContext(`const ${moduleHandleName(key)}=globalThis.$lpDeclare;` + slotLets(0), {
          filename: `livepatch:slots/${moduleId}`,
        });
      } finally {
        delete g.$lpDeclare;
      }
      this.fresh++;
    }
    this.nextBase += count;
    let plan: Plan | undefined;
    const record: ModuleRecord = {
      id: moduleId,
      key,
      url: d.url,
      handle,
      count,
      unpatchable,
      plan: () => (plan ??= d.plan()),
    };
    this.byKey.set(key, record);
    const list = this.byId.get(moduleId);
    if (list === undefined) this.byId.set(moduleId, [record]);
    else list.push(record);
    this.records.push(record);
    if (d.url.startsWith('file:')) {
      const path = fileURLToPath(d.url);
      const same = this.byPath.get(path);
      if (same === undefined) this.byPath.set(path, [record]);
      else same.push(record);
    }
    return record;
  }

  /** Every loaded instance of a module id (a file can be loaded as CommonJS and as ESM). */
  modules(id: string): readonly ModuleRecord[] {
    return this.byId.get(id) ?? [];
  }

  /** Every loaded instance of the file at `path`. */
  byFile(path: string): readonly ModuleRecord[] {
    return this.byPath.get(path) ?? [];
  }

  all(): readonly ModuleRecord[] {
    return this.records;
  }

  /** The module and symbol behind a global slot id. */
  lookup(slotId: number): { record: ModuleRecord; symbol: SymbolInfo } | undefined {
    // records are in increasing `base` order
    let lo = 0;
    let hi = this.records.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const r = this.records[mid]!;
      if (slotId < r.handle.base) hi = mid - 1;
      else if (slotId >= r.handle.base + r.count) lo = mid + 1;
      else return { record: r, symbol: r.plan().symbols.symbols[slotId - r.handle.base]! };
    }
    return undefined;
  }

  get(slotId: number): SlotValue {
    return this.values.get(slotId);
  }

  /** Arm (a function) or disarm (`undefined`) one entry check. */
  set(slotId: number, value: SlotValue): void {
    let setter = this.setters.get(slotId);
    if (setter === undefined) {
      const found = this.lookup(slotId);
      if (found === undefined) throw new RuntimeError('LP_ERR_INTERNAL', `livepatch: no slot ${slotId}`);
      // unreachable: dispatch.ts refuses an unpatchable function (EINVAL) first, and its instances run the same code
      if (found.symbol.unpatchable !== null) {
        const why = found.symbol.unpatchable;
        throw new RuntimeError('LP_ERR_INTERNAL', `livepatch: ${found.symbol.name} cannot be patched: ${why}`);
      }
      setter = runInThisContext(`(function(v){${slotName(found.record.key, found.symbol.index)}=v})`) as (
        v: SlotValue,
      ) => void;
      this.setters.set(slotId, setter);
    }
    setter(value);
    if (value === undefined) this.values.delete(slotId);
    else this.values.set(slotId, value);
  }
}
