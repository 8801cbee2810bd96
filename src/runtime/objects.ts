/**
 * What the core sees of the loaded program: one module handle (the kernel's
 * struct module) per module id, its symbol table (kallsyms), and one core
 * slot per function (the ftrace location).
 *
 * A module id can be loaded more than once in a process — as CommonJS and as
 * an ES module, or again after its `require.cache` entry was deleted. The
 * core knows one module per name, so a core slot stands for the function in
 * every instance whose code is the same (same name, sympos and hash); an
 * instance that loads later joins the slots that exist and is armed at once.
 *
 * Invariants:
 * - one CoreSlot per (module id, name, sympos): the core keys func stacks by
 *   slot identity, and frames map back to the same objects;
 * - `members` are instance slot ids (SlotTable) whose function has the
 *   slot's hash; `bySlotId` maps every member back to its CoreSlot.
 */

import type { ModuleHandle as CoreModuleHandle, ModuleState, Slot, SymbolEntry, SymbolTable } from '../core/index.ts';
import type { SymbolInfo } from '../instrument/symbol-table.ts';
import type { ModuleRecord, SlotTable } from './slots.ts';

export class CoreSlot implements Slot {
  static #next = 1;
  readonly id = CoreSlot.#next++;
  readonly moduleId: string;
  readonly symbol: SymbolInfo;
  readonly members: number[] = [];

  constructor(moduleId: string, symbol: SymbolInfo) {
    this.moduleId = moduleId;
    this.symbol = symbol;
  }
}

class ModuleSymbolTable implements SymbolTable {
  private byName: Map<string, SymbolInfo[]> | undefined;
  private readonly objects: ProgramObjects;
  private readonly record: ModuleRecord;

  constructor(objects: ProgramObjects, record: ModuleRecord) {
    this.objects = objects;
    this.record = record;
  }

  lookup(name: string): readonly SymbolEntry[] {
    if (this.byName === undefined) {
      this.byName = new Map();
      for (const s of this.record.plan().symbols.symbols) {
        const list = this.byName.get(s.name);
        if (list === undefined) this.byName.set(s.name, [s]);
        else list.push(s);
      }
    }
    const list = this.byName.get(name);
    if (list === undefined) return [];
    return list.map((s) => ({ name: s.name, slot: this.objects.slotFor(this.record.id, s), hash: s.hash }));
  }
}

export class RuntimeModule implements CoreModuleHandle {
  readonly name: string;
  state: ModuleState = 'coming';
  readonly symbols: SymbolTable;
  /** the first instance: its symbol table is the module's */
  readonly primary: ModuleRecord;

  constructor(objects: ProgramObjects, primary: ModuleRecord) {
    this.name = primary.id;
    this.primary = primary;
    this.symbols = new ModuleSymbolTable(objects, primary);
  }
}

export class ProgramObjects {
  private readonly slots: SlotTable;
  private readonly modules = new Map<string, RuntimeModule>();
  private readonly coreSlots = new Map<string, CoreSlot>();
  /** instance slot id -> core slot, for every member */
  readonly bySlotId = new Map<number, CoreSlot>();
  /** core slot id -> core slot */
  readonly byCoreId = new Map<number, CoreSlot>();

  constructor(slots: SlotTable) {
    this.slots = slots;
  }

  /** A module whose coming hook refused it: it never loaded. */
  forget(module: RuntimeModule): void {
    if (this.modules.get(module.name) === module) this.modules.delete(module.name);
  }

  module(id: string): RuntimeModule | undefined {
    return this.modules.get(id);
  }

  allModules(): IterableIterator<RuntimeModule> {
    return this.modules.values();
  }

  /**
   * A module instance was declared. Returns the new module handle when this
   * is the module id's first instance (the core must hear "coming"), or
   * undefined when it joined an existing module (its slots are joined to
   * the core slots that exist; the caller re-arms them).
   */
  instanceLoaded(record: ModuleRecord): { module: RuntimeModule; joined: CoreSlot[] } {
    const existing = this.modules.get(record.id);
    if (existing === undefined) {
      const module = new RuntimeModule(this, record);
      this.modules.set(record.id, module);
      return { module, joined: [] };
    }
    const joined: CoreSlot[] = [];
    for (const cs of this.coreSlots.values()) {
      if (cs.moduleId !== record.id) continue;
      const index = this.matchIn(record, cs.symbol);
      if (index === undefined) continue;
      const id = record.handle.base + index;
      cs.members.push(id);
      this.bySlotId.set(id, cs);
      joined.push(cs);
    }
    return { module: existing, joined };
  }

  /** The core slot of a function, with every instance that runs the same code. */
  slotFor(moduleId: string, symbol: SymbolInfo): CoreSlot {
    const key = `${moduleId}\0${symbol.name}\0${symbol.sympos}`;
    let cs = this.coreSlots.get(key);
    if (cs !== undefined) return cs;
    cs = new CoreSlot(moduleId, symbol);
    for (const record of this.slots.modules(moduleId)) {
      const index = this.matchIn(record, symbol);
      if (index === undefined) continue;
      const id = record.handle.base + index;
      cs.members.push(id);
      this.bySlotId.set(id, cs);
    }
    this.coreSlots.set(key, cs);
    this.byCoreId.set(cs.id, cs);
    return cs;
  }

  /** The index of the function in `record` with the same name, sympos and code. */
  private matchIn(record: ModuleRecord, symbol: SymbolInfo): number | undefined {
    for (const s of record.plan().symbols.symbols) {
      if (s.name === symbol.name && s.sympos === symbol.sympos) return s.hash === symbol.hash ? s.index : undefined;
    }
    return undefined;
  }
}
