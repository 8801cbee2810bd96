/*
 * types.ts — the core's public vocabulary: patch states, the author-facing
 * patch definition (R1.1), the ports the runtime implements (see
 * docs/architecture.md), and what the core hands back (funcs on a stack,
 * patch info, transition status, events).
 *
 * Invariants stated here and kept by the rest of the core:
 * - PatchState is the kernel's tri-state: IDLE (-1) outside a transition,
 *   UNPATCHED (0) / PATCHED (1) during one (R1.6).
 * - A Func's `version` is > 0 and unique per func object for the lifetime of
 *   a Livepatch instance; the original code of every function is version 0.
 * - Ports are called synchronously and never re-entered by the core.
 */

// ---------------------------------------------------------------- states

export type PatchState = -1 | 0 | 1;

/** KLP_TRANSITION_* (R1.6). */
export const KLP_TRANSITION_IDLE = -1 as const;
export const KLP_TRANSITION_UNPATCHED = 0 as const;
export const KLP_TRANSITION_PATCHED = 1 as const;

/** The same three values by name: PatchState.IDLE, .UNPATCHED, .PATCHED. */
export const PatchState = {
  IDLE: KLP_TRANSITION_IDLE,
  UNPATCHED: KLP_TRANSITION_UNPATCHED,
  PATCHED: KLP_TRANSITION_PATCHED,
} as const;

/**
 * Consistency model of a patch (issue 2 §3, seed 001):
 * - 'task': the kernel's LEAVE_PATCHED_SET × SWITCH_THREAD (default);
 * - 'function': every call switches at once (the historic patch `immediate`,
 *   R17.3 first bullet);
 * - 'global': nobody switches until no task blocks, then all at once (kpatch);
 * - 'request': kGraft's LEAVE_KERNEL × SWITCH_THREAD — a task that is a unit
 *   of work (a request, a message, a job) switches only when it ends, so it
 *   runs entirely on the old code or entirely on the new; a task without an
 *   end (the init task, a connection) switches as under 'task'.
 */
export type Consistency = 'task' | 'function' | 'global' | 'request';

// ------------------------------------------------------- the definition

export type ModuleState = 'coming' | 'live' | 'going';

/** What a callback receives (R9.4): the object, the module's state, the patch. */
export interface CallbackObject {
  readonly name: string | null;
  readonly state: ModuleState;
  readonly patch: string;
}

/**
 * Object callbacks (R9). pre_patch fails by throwing or by returning a
 * non-zero number (a negative errno, as in the kernel); the others cannot
 * fail (a throw is caught and logged, see docs/semantics.md).
 */
export interface Callbacks {
  prePatch?(obj: CallbackObject): number | void;
  postPatch?(obj: CallbackObject): void;
  preUnpatch?(obj: CallbackObject): void;
  postUnpatch?(obj: CallbackObject): void;
}

/** klp_func (R1.1), plus `immediate` (R17.3) and `oldHash` (exact-code check). */
export interface FuncDef {
  oldName: string;
  oldSympos?: number;
  newFunc: Function;
  immediate?: boolean;
  oldHash?: string;
}

/** klp_object (R1.1): `name` null means the process itself ("vmlinux"). */
export interface ObjectDef {
  name: string | null;
  funcs: FuncDef[];
  callbacks?: Callbacks;
}

/** klp_state (R14.1): id must be non-zero. */
export interface StateDef {
  id: number;
  version: number;
  data?: unknown;
}

/** klp_patch (R1.1); `name` plays the livepatch module's name (R1.7). */
export interface PatchDef {
  name: string;
  objects: ObjectDef[];
  states?: StateDef[];
  replace?: boolean;
  consistency?: Consistency;
}

/** A system state as the core keeps it: `data` is the author's to change. */
export interface KlpState {
  readonly id: number;
  readonly version: number;
  data: unknown;
}

// ---------------------------------------------------------------- ports

export interface Timer {
  cancel(): void;
}

/** jiffies and delayed work. */
export interface Clock {
  /** Milliseconds, monotonic. */
  now(): number;
  /** One-shot timer. */
  schedule(ms: number, fn: () => void): Timer;
}

/** The ftrace location of one instrumented function; keyed by identity. */
export interface Slot {
  readonly id: number;
}

export interface SymbolEntry {
  readonly name: string;
  readonly slot: Slot;
  /** Hash of the original source text, compared with FuncDef.oldHash. */
  readonly hash?: string;
}

/** kallsyms for one object: every entry with that exact name, in table order. */
export interface SymbolTable {
  lookup(name: string): readonly SymbolEntry[];
}

/** struct module. The core reads `state` when it calls callbacks (R9.4). */
export interface ModuleHandle {
  readonly name: string;
  readonly state: ModuleState;
  readonly symbols: SymbolTable;
}

/** A frame a task holds: which function, and which version of it runs there. */
export interface Frame {
  readonly slot: Slot;
  readonly version: number;
}

/** task_struct, as far as livepatch cares. The core writes patchState and pending. */
export interface Task {
  readonly id: number;
  readonly name: string;
  patchState: PatchState;
  pending: boolean;
  frames(): Iterable<Frame>;
  /**
   * A unit of work with an end (a request, a message, a job): under
   * 'request' it switches only once it has ended (`Livepatch.taskEnded`),
   * the way kGraft switched a thread only when it left the kernel. A task
   * without an end (the init task, a connection) is like a kernel thread,
   * which never leaves the kernel: it switches by the stack check.
   */
  readonly unit?: boolean;
  /** the unit of work has ended (set before `taskEnded` is called) */
  readonly ended?: boolean;
  /** when the task started, on the clock's scale: `status` shows the oldest task a transition waits for */
  readonly startedAt?: number;
}

/** The task list, and the fake signal of R5.14. */
export interface TaskSource {
  [Symbol.iterator](): Iterator<Task>;
  signal(task: Task): void;
}

/** Told after every change to a slot's func stack or to a `transition` flag on it. */
export interface SlotSink {
  update(slot: Slot): void;
}

/** Modules that were loaded before this core existed (see docs/architecture.md). */
export interface ModuleLookup {
  find(name: string): ModuleHandle | undefined;
}

export interface Ports {
  clock: Clock;
  tasks: TaskSource;
  /** The process's own symbol table: the `null` object (vmlinux). Empty if absent. */
  vmlinux?: SymbolTable;
  sink?: SlotSink;
  modules?: ModuleLookup;
}

export interface LivepatchOptions {
  /** Ring buffer size in records (default 4096). */
  logSize?: number;
  /** Record pr_debug lines (dynamic debug for kernel/livepatch/*; default off). */
  debug?: boolean;
  /** Record klp_try_switch_task's per-task pr_debug lines (default off). */
  debugSwitchTask?: boolean;
}

// ------------------------------------------------------ what comes back

/** A func as it sits on a func stack (R1.2), read-only to the outside. */
export interface Func {
  readonly version: number;
  readonly oldName: string;
  readonly oldSympos: number;
  /** null for nops. */
  readonly newFunc: Function | null;
  readonly nop: boolean;
  readonly immediate: boolean;
  readonly patched: boolean;
  readonly transition: boolean;
  /** Name of the patch this func belongs to. */
  readonly patchName: string;
}

export interface FuncInfo {
  oldName: string;
  oldSympos: number;
  version: number;
  nop: boolean;
  immediate: boolean;
  patched: boolean;
  transition: boolean;
  slot: number | null;
}

export interface ObjectInfo {
  name: string | null;
  loaded: boolean;
  patched: boolean;
  dynamic: boolean;
  funcs: FuncInfo[];
}

export interface PatchInfo {
  name: string;
  enabled: boolean;
  transition: boolean;
  forced: boolean;
  replace: boolean;
  stackOrder: number;
  consistency: Consistency;
  objects: ObjectInfo[];
}

export interface BlockingFrame {
  slot: number;
  version: number;
  expected: number;
  function: string;
  object: string | null;
}

export interface PendingTask {
  id: number;
  name: string;
  patchState: PatchState;
  blocking: BlockingFrame[];
  /** under 'request': a unit of work that switches when it ends, whatever its frames */
  waitsForEnd: boolean;
  startedAt: number | null;
}

export interface TransitionStatus {
  patch: string;
  target: 0 | 1;
  direction: 'patching' | 'unpatching';
  consistency: Consistency;
  startedAt: number;
  retries: number;
  signalRounds: number;
  forced: boolean;
  pending: PendingTask[];
}

export interface LogRecord {
  readonly seq: number;
  /** Clock time in ms. */
  readonly time: number;
  /** Kernel loglevel 0 (emerg) … 7 (debug). */
  readonly level: number;
  readonly text: string;
}

export type KlpEvent =
  | { type: 'log'; record: LogRecord }
  | { type: 'patch-enabled'; patch: string }
  | { type: 'transition-started'; patch: string; target: 0 | 1 }
  | { type: 'transition-reversed'; patch: string; target: 0 | 1 }
  | { type: 'transition-forced'; patch: string; target: 0 | 1 }
  | { type: 'transition-completed'; patch: string; target: 0 | 1; forced: boolean }
  | { type: 'task-switched'; task: number; name: string; state: PatchState }
  | { type: 'tasks-signaled'; patch: string; tasks: number[] }
  | { type: 'patch-complete'; patch: string; forced: boolean }
  | { type: 'patch-freed'; patch: string; forced: boolean; reason: 'disabled' | 'replaced' | 'failed' }
  | { type: 'module-patched'; patch: string; module: string }
  | { type: 'module-reverted'; patch: string; module: string }
  | { type: 'callback-error'; patch: string; object: string | null; callback: string; error: unknown }
  | { type: 'warning'; message: string };
