/*
 * sim.ts — a deterministic world that drives the core the way the Node
 * runtime will: a virtual clock, tasks that enter, sleep in and leave
 * functions (recording frames with the version dispatch chose for their
 * state), modules that load and unload, and the selftests' "% command"
 * lines in the log.
 *
 * Invariants: nothing here is asynchronous; time moves only through
 * clock.advance(); a task's frames are exactly the functions it is inside.
 */

import {
  Livepatch,
  dispatch,
  KlpError,
  EINVAL,
  type Clock,
  type Frame,
  type Func,
  type LivepatchOptions,
  type ModuleHandle,
  type ModuleState,
  type PatchDef,
  type PatchState,
  type Slot,
  type SymbolEntry,
  type SymbolTable,
  type Task,
  type TaskSource,
  type Timer,
} from '../../src/core/index.ts';

// ------------------------------------------------------------------ clock

interface SimTimer {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

export class VirtualClock implements Clock {
  private t = 0;
  private seq = 0;
  private timers: SimTimer[] = [];

  now(): number {
    return this.t;
  }

  schedule(ms: number, fn: () => void): Timer {
    const timer: SimTimer = { at: this.t + ms, seq: this.seq++, fn, cancelled: false };
    this.timers.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }

  /** Live (not cancelled, not fired) timers. */
  get pending(): number {
    return this.timers.filter((x) => !x.cancelled).length;
  }

  /** Move time forward by `ms`, firing due timers in order. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      this.timers = this.timers.filter((x) => !x.cancelled);
      let next: SimTimer | undefined;
      for (const x of this.timers)
        if (x.at <= end && (next === undefined || x.at < next.at || (x.at === next.at && x.seq < next.seq))) next = x;
      if (next === undefined) break;
      this.timers.splice(this.timers.indexOf(next), 1);
      this.t = next.at;
      next.fn();
    }
    this.t = end;
  }
}

// -------------------------------------------------------- slots, symbols

let slotIds = 1;

export class SimSlot implements Slot {
  readonly id: number;
  readonly name: string;
  readonly original: (...args: unknown[]) => unknown;
  constructor(name: string, original?: (...args: unknown[]) => unknown) {
    this.id = slotIds++;
    this.name = name;
    this.original = original ?? (() => `original ${name}`);
  }
}

export class SimSymbols implements SymbolTable {
  readonly entries: SymbolEntry[] = [];
  lookup(name: string): readonly SymbolEntry[] {
    return this.entries.filter((e) => e.name === name);
  }
  define(name: string, original?: (...args: unknown[]) => unknown, hash?: string): SimSlot {
    const slot = new SimSlot(name, original);
    this.entries.push(hash === undefined ? { name, slot } : { name, slot, hash });
    return slot;
  }
}

export class SimModule implements ModuleHandle {
  readonly name: string;
  state: ModuleState = 'coming';
  symbols = new SimSymbols();
  loaded = false;
  /** Printed after the coming hook, like a module's init. */
  initLine: string | null;
  exitLine: string | null;
  constructor(name: string, quiet = false) {
    this.name = name;
    this.initLine = quiet ? null : `${name}: ${name}_init`;
    this.exitLine = quiet ? null : `${name}: ${name}_exit`;
  }
  define(name: string, original?: (...args: unknown[]) => unknown, hash?: string): SimSlot {
    return this.symbols.define(name, original, hash);
  }
  /** A fresh instance of this module (reload): new slots, same names. */
  slot(name: string, pos = 1): SimSlot {
    const e = this.symbols.lookup(name)[pos - 1];
    if (e === undefined) throw new Error(`no symbol ${name},${pos} in ${this.name}`);
    return e.slot as SimSlot;
  }
}

// ------------------------------------------------------------------ tasks

let taskIds = 100;

export class SimTask implements Task {
  readonly id: number;
  readonly name: string;
  patchState: PatchState = -1;
  pending = false;
  readonly stack: Frame[] = [];
  signals = 0;
  onSignal: ((task: SimTask) => void) | null = null;
  readonly world: SimWorld;
  alive = true;
  /** a unit of work with an end (a request): under 'request' it switches only when it ends */
  unit = false;
  ended = false;
  startedAt: number | undefined;

  constructor(world: SimWorld, name: string) {
    this.world = world;
    this.id = taskIds++;
    this.name = name;
  }

  frames(): Iterable<Frame> {
    return this.stack;
  }

  /** The func this task would run on `slot` now (null: the original). */
  choose(slot: Slot): Func | null {
    return dispatch(this.world.lp.stackOf(slot), this.patchState);
  }

  /** Enter a function and stay inside it (sleeping or suspended). */
  enter(slot: Slot): Func | null {
    const f = this.choose(slot);
    this.stack.push({ slot, version: f === null ? 0 : f.version });
    return f;
  }

  /** Leave the innermost function; like the runtime, try to switch afterwards. */
  leave(): void {
    if (this.stack.pop() === undefined) throw new Error(`${this.name} holds no frame`);
    if (this.pending) this.world.lp.trySwitchTask(this);
  }

  /** Leave every function. */
  unwind(): void {
    while (this.stack.length > 0) this.leave();
  }

  /** Call a function to completion: the code dispatch chose runs. */
  call(slot: SimSlot, ...args: unknown[]): unknown {
    const f = this.enter(slot);
    try {
      const impl = f === null ? slot.original : (f.newFunc as (...a: unknown[]) => unknown);
      return impl(...args);
    } finally {
      this.leave();
    }
  }

  /** The version of the innermost frame. */
  get top(): Frame | undefined {
    return this.stack[this.stack.length - 1];
  }
}

class SimTasks implements TaskSource {
  readonly set = new Set<SimTask>();
  [Symbol.iterator](): Iterator<Task> {
    return this.set[Symbol.iterator]();
  }
  signal(task: Task): void {
    const t = task as SimTask;
    t.signals++;
    t.onSignal?.(t);
  }
}

// ------------------------------------------------------------------ world

export interface WorldOptions extends LivepatchOptions {
  /** Record sink updates. */
  sink?: boolean;
  /** A sink that refuses to arm these slots. */
  refuse?: Set<Slot>;
  /** A sink that cannot arm these slots at all (no entry check): EINVAL. */
  untraceable?: Set<Slot>;
}

export class SimWorld {
  readonly clock = new VirtualClock();
  readonly tasks = new SimTasks();
  readonly vmlinux = new SimSymbols();
  readonly modules = new Map<string, SimModule>();
  readonly lp: Livepatch;
  readonly sinkLog: Slot[] = [];
  readonly init: SimTask;

  constructor(options: WorldOptions = {}) {
    const refuse = options.refuse;
    this.lp = new Livepatch(
      {
        clock: this.clock,
        tasks: this.tasks,
        vmlinux: this.vmlinux,
        sink: {
          update: (slot) => {
            if (refuse?.has(slot) === true && this.lp.stackOf(slot).length > 0) throw new Error('cannot arm');
            if (options.untraceable?.has(slot) === true && this.lp.stackOf(slot).length > 0) {
              throw new KlpError(EINVAL, 'the function has no entry check');
            }
            if (options.sink === true) this.sinkLog.push(slot);
          },
        },
        modules: {
          find: (name) => {
            const m = this.modules.get(name);
            return m?.loaded === true ? m : undefined;
          },
        },
      },
      options,
    );
    this.init = this.spawn('swapper');
  }

  spawn(name: string, parent?: SimTask): SimTask {
    const t = new SimTask(this, name);
    this.tasks.set.add(t);
    this.lp.taskCreated(t, parent);
    return t;
  }

  /** A unit of work (a request, a job): under 'request' it switches only when it ends. */
  spawnUnit(name: string, parent?: SimTask): SimTask {
    const t = new SimTask(this, name);
    t.unit = true;
    t.startedAt = this.clock.now();
    this.tasks.set.add(t);
    this.lp.taskCreated(t, parent);
    return t;
  }

  /** The unit of work ends (its response is sent); its task goes away. */
  end(task: SimTask): void {
    task.ended = true;
    this.lp.taskEnded(task);
    this.exit(task);
  }

  exit(task: SimTask): void {
    task.alive = false;
    this.tasks.set.delete(task);
  }

  /** A module that is not loaded yet. */
  module(name: string, quiet = false): SimModule {
    const m = new SimModule(name, quiet);
    return m;
  }

  /** modprobe a target module: coming hook, then its init. Throws if refused. */
  load(mod: SimModule, opts: { log?: boolean } = {}): void {
    if (opts.log !== false) this.cmd(`modprobe ${mod.name}`);
    mod.state = 'coming';
    try {
      this.lp.moduleComing(mod);
    } catch (error) {
      mod.state = 'going';
      if (opts.log !== false && error instanceof KlpError) {
        this.lp.printk(`modprobe: ERROR: could not insert '${mod.name}': ${strerror(error.errno)}`);
      }
      throw error;
    }
    if (mod.initLine !== null) this.lp.printk(mod.initLine, 6);
    mod.state = 'live';
    mod.loaded = true;
    this.modules.set(mod.name, mod);
  }

  /** rmmod a target module: its exit, then the going hook. */
  unload(mod: SimModule, opts: { log?: boolean } = {}): void {
    if (opts.log !== false) this.cmd(`rmmod ${mod.name}`);
    mod.state = 'going';
    if (mod.exitLine !== null) this.lp.printk(mod.exitLine, 6);
    this.lp.moduleGoing(mod);
    mod.loaded = false;
    this.modules.delete(mod.name);
  }

  /** The selftests' log of the command they run. */
  cmd(line: string): void {
    this.lp.printk(`% ${line}`);
  }

  /** modprobe a livepatch module (klp_enable_patch in its init) and wait like load_lp. */
  loadPatch(def: PatchDef, opts: { wait?: boolean; args?: string } = {}): void {
    this.cmd(`modprobe ${def.name}${opts.args !== undefined ? ' ' + opts.args : ''}`);
    try {
      this.lp.enablePatch(def);
    } catch (error) {
      if (error instanceof KlpError)
        this.lp.printk(`modprobe: ERROR: could not insert '${def.name}': ${strerror(error.errno)}`);
      throw error;
    }
    if (opts.wait !== false) this.settle();
  }

  /** echo 0 > enabled, then wait like disable_lp. */
  disablePatch(name: string, opts: { wait?: boolean } = {}): void {
    this.cmd(`echo 0 > /sys/kernel/livepatch/${name}/enabled`);
    this.lp.sysfs.write(`${name}/enabled`, '0');
    if (opts.wait !== false) this.settle();
  }

  /** rmmod a livepatch module: refused while its patch exists or after it was forced. */
  unloadPatch(name: string): void {
    this.cmd(`rmmod ${name}`);
    if (this.lp.patch(name) !== null || this.lp.forcedPatches().includes(name)) {
      throw new Error(`rmmod: ERROR: Module ${name} is in use`);
    }
  }

  /** Let retries run until no transition is left (or `maxMs` passes). */
  settle(maxMs = 60_000): void {
    let waited = 0;
    while (this.lp.transitionStatus() !== null && waited < maxMs) {
      this.clock.advance(1000);
      waited += 1000;
    }
  }

  tick(ms = 1000): void {
    this.clock.advance(ms);
  }

  /** The log's text, oldest first. */
  lines(): string[] {
    return this.lp.log.lines();
  }

  /** Only the lines with the livepatch prefix. */
  klpLines(): string[] {
    return this.lines().filter((l) => l.startsWith('livepatch: '));
  }
}

export function strerror(errno: number): string {
  switch (errno) {
    case -19:
      return 'No such device';
    case -16:
      return 'Device or resource busy';
    case -22:
      return 'Invalid argument';
    case -17:
      return 'File exists';
    case -2:
      return 'No such file or directory';
    default:
      return `Unknown error ${errno}`;
  }
}

/** The kernel selftests' callback demo: prints what every callback sees. */
const MODULE_STATE: Record<ModuleState, string> = {
  live: '[MODULE_STATE_LIVE] Normal state',
  coming: '[MODULE_STATE_COMING] Full formed, running module_init',
  going: '[MODULE_STATE_GOING] Going away',
};

export function demoCallbacks(lp: Livepatch, patch: string, opts: { prePatchRet?: () => number } = {}) {
  const info = (cb: string, obj: { name: string | null; state: ModuleState }): void => {
    lp.printk(
      obj.name === null ? `${patch}: ${cb}: vmlinux` : `${patch}: ${cb}: ${obj.name} -> ${MODULE_STATE[obj.state]}`,
      6,
    );
  };
  return {
    prePatch(obj: { name: string | null; state: ModuleState }): number {
      info('pre_patch_callback', obj);
      return opts.prePatchRet?.() ?? 0;
    },
    postPatch(obj: { name: string | null; state: ModuleState }): void {
      info('post_patch_callback', obj);
    },
    preUnpatch(obj: { name: string | null; state: ModuleState }): void {
      info('pre_unpatch_callback', obj);
    },
    postUnpatch(obj: { name: string | null; state: ModuleState }): void {
      info('post_unpatch_callback', obj);
    },
  };
}

/** Everything observable about the core, for "left exactly as it was" checks. */
export function snapshot(world: SimWorld): unknown {
  const lp = world.lp;
  const tree: Record<string, string> = {};
  const walk = (path: string): void => {
    for (const name of lp.sysfs.list(path)) {
      const p = path === '' ? name : `${path}/${name}`;
      if (lp.sysfs.isDirectory(p)) {
        tree[p + '/'] = '';
        walk(p);
      } else if (name !== 'force') tree[p] = lp.sysfs.read(p);
    }
  };
  walk('');
  const stacks = lp
    .patchedSlots()
    .map((s) => [s.id, lp.stackOf(s).map((f) => [f.patchName, f.oldName, f.version, f.transition, f.nop])]);
  const tasks = [...world.tasks.set].map((t) => [t.id, t.patchState, t.pending]);
  return {
    tree,
    stacks,
    patches: lp.patches(),
    tasks,
    transition: lp.transitionStatus(),
    forced: lp.forcedPatches(),
    timers: world.clock.pending,
  };
}
