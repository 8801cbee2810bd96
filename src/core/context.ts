/*
 * context.ts — everything one "kernel" holds, as the kernel's globals do:
 * klp_patches, the klp_ops func stacks, the transition (klp_transition_patch
 * and klp_target_state), the modules' klp_alive flags, the log.
 *
 * Invariants:
 * - `patches` is klp_patches: enabled or in-transition patches, oldest first
 *   (R1.6); replaced, disabled and failed patches are never in it.
 * - `stacks` has an entry for a slot iff at least one func is patched onto
 *   it (R4.1/R4.2: the ops is freed with its last func); entries are newest
 *   first.
 * - `transition` is non-null iff a transition exists (R5.1); at most one.
 * - `locked` is klp_mutex: held for the whole of every mutating operation;
 *   re-entering one from a callback is refused with EDEADLK.
 */

import { KlpError } from './errors.ts';
import { EDEADLK } from './errno.ts';
import type { KernelLog } from './log.ts';
import type { KlpFunc, KlpPatch } from './model.ts';
import type { KlpState, ModuleHandle, Ports, Slot, SymbolTable, Timer } from './types.ts';

export interface Transition {
  readonly patch: KlpPatch;
  /** klp_target_state: 1 patched, 0 unpatched. */
  target: 0 | 1;
  /** klp_start_transition has run (TIF_PATCH_PENDING may be set). */
  started: boolean;
  startedAt: number;
  /** klp_signals_cnt (R5.14): failed attempts since the last start. */
  signalsCnt: number;
  signalRounds: number;
  forced: boolean;
  timer: Timer | null;
}

const EMPTY_TABLE: SymbolTable = { lookup: () => [] };

export class Klp {
  readonly ports: Ports;
  readonly log: KernelLog;
  readonly vmlinux: SymbolTable;
  patches: KlpPatch[] = [];
  readonly stacks = new Map<Slot, KlpFunc[]>();
  transition: Transition | null = null;
  /** klp_alive, by module name. */
  readonly alive = new Map<string, ModuleHandle>();
  /** Modules whose coming or going hook this core has seen. */
  readonly seen = new WeakSet<ModuleHandle>();
  /** Names of freed patches that were forced: their modules can never go (R11.3). */
  readonly forcedGone = new Set<string>();
  /**
   * The states of the last patch of each name that was disabled or replaced:
   * klp_get_state reads the patch's own array, which outlives klp_patches
   * (R14.2); a failed enable never lands here.
   */
  readonly freedStates = new Map<string, readonly KlpState[]>();
  nextVersion = 1;
  /**
   * Changes whenever the core sets every task's state at once (transition
   * init, reverse, completion): a runtime that does not list idle tasks to
   * the core can tell that a task's state is stale and initialise it the way
   * the core would have (Livepatch.transitionSeq).
   */
  transitionSeq = 0;
  locked = false;
  /** WARN_ON_ONCE bookkeeping. */
  readonly warned = new Set<string>();

  constructor(ports: Ports, log: KernelLog) {
    this.ports = ports;
    this.log = log;
    this.vmlinux = ports.vmlinux ?? EMPTY_TABLE;
  }

  /** Run `fn` holding klp_mutex. */
  withLock<T>(what: string, fn: () => T): T {
    if (this.locked) {
      throw new KlpError(
        EDEADLK,
        `livepatch: ${what} called while the livepatch core is busy (from a callback?); the kernel would deadlock on klp_mutex`,
      );
    }
    this.locked = true;
    try {
      return fn();
    } finally {
      this.locked = false;
    }
  }

  findPatch(name: string): KlpPatch | undefined {
    for (const p of this.patches) if (p.name === name) return p;
    return undefined;
  }

  /** klp_find_object_module + klp_alive (R10.2). */
  findAliveModule(name: string): ModuleHandle | null {
    const m = this.alive.get(name);
    if (m !== undefined) return m;
    // A module that was loaded before this core existed never passed our
    // coming hook; the runtime vouches for it by reporting it live.
    const h = this.ports.modules?.find(name);
    if (h !== undefined && h.state === 'live' && !this.seen.has(h)) return h;
    return null;
  }

  notifySlot(slot: Slot): void {
    const sink = this.ports.sink;
    if (sink === undefined) return;
    try {
      sink.update(slot);
    } catch (error) {
      this.log.publish({ type: 'warning', message: `slot sink failed for slot ${slot.id}: ${String(error)}` });
    }
  }
}
