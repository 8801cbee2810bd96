/**
 * The runtime of one realm (the main thread, or a worker): the kernel's
 * livepatch core bound to Node. It owns the slot and frame tables, the
 * loader, the program's objects as the core sees them, the dispatcher, and
 * the patch modules loaded into this realm.
 */

import { fileURLToPath } from 'node:url';
import { dirname, join, sep } from 'node:path';
import { EventEmitter } from 'node:events';
import { Livepatch, type Frame, type LivepatchOptions, type Timer } from '../core/index.ts';
import { SlotTable, type ModuleRecord } from './slots.ts';
import { FrameTable } from './frames.ts';
import { installAbi } from './abi.ts';
import { installToString } from './tostring.ts';
import { installStackPositions } from './stack-positions.ts';
import { installLoader } from './loader.ts';
import { appRoot, moduleId } from './module-id.ts';
import { compileFilter } from './filter.ts';
import { TransformCache } from '../instrument/cache.ts';
import { cacheDir } from './cache-dir.ts';
import { SlotManifest } from './slot-manifest.ts';
import { ProgramObjects } from './objects.ts';
import { closureState, Dispatcher } from './dispatch.ts';
import { currentTask, monotonicNow, runInTask, runUnit, setFrameSource, Task } from './tasks.ts';
import { syncFrames } from './stack.ts';
import { PatchModules } from './patch-modules.ts';
import { installIntegrations } from './integrations.ts';
import { hubOnFirstWorker, followMainThread, type WorkerHub } from './workers.ts';
import { isMainThread } from './thread.ts';
import { LivepatchSignal } from './errors.ts';

export { isMainThread };

const { existsSync } = process.getBuiltinModule('node:fs');

export interface RuntimeOptions {
  readonly root: string;
  readonly core?: LivepatchOptions;
  /** multiplies the core's delays (retries every ~1 s, signals after 15): for tests and demonstrations */
  readonly clockScale?: number;
}

export class Runtime {
  readonly root: string;
  readonly slots = new SlotTable();
  readonly frames = new FrameTable();
  readonly objects: ProgramObjects;
  readonly dispatcher: Dispatcher;
  readonly core: Livepatch;
  readonly patchModules: PatchModules;
  /** the main thread's link to the workers' runtimes, from its first worker on */
  hub: WorkerHub | undefined;
  /** in a worker: settled once the process's live patches are applied here */
  ready: Promise<void> = Promise.resolve();
  /** 'signal' (task), 'task' (task) and the core's events ('klp') */
  readonly events = new EventEmitter();
  private readonly switchQueued = new WeakSet<Task>();
  /**
   * Units of work that have started and not ended (requests, messages,
   * jobs): a 'request' transition waits for every one that started before it
   * (the others hold no frame the core would otherwise see).
   */
  private readonly liveUnits = new Set<Task>();
  /**
   * What the public API (src/index.ts) and the control server reach through
   * the runtime, never by importing these modules themselves: a program that
   * imports `livepatch` then shares this runtime's instances even if it
   * resolved another copy of the package, and the bundle keeps the runtime
   * in one chunk, so a start loads three modules, not five (index.js needs
   * only the core's chunk).
   */
  readonly api = { currentTask, runInTask, runUnit, closureState, monotonicNow, moduleId } as const;

  constructor(options: RuntimeOptions) {
    this.root = options.root;
    this.objects = new ProgramObjects(this.slots);
    this.dispatcher = new Dispatcher(this.slots, this.frames);
    const scale = options.clockScale ?? 1;
    const clock = {
      now: monotonicNow,
      schedule: (ms: number, fn: () => void): Timer => {
        const t = setTimeout(fn, ms * scale);
        t.unref(); // a transition never keeps a process alive
        return { cancel: () => clearTimeout(t) };
      },
    };
    this.core = new Livepatch(
      {
        clock,
        tasks: { [Symbol.iterator]: () => this.listedTasks(), signal: (t) => this.signal(t as Task) },
        sink: this.dispatcher,
        modules: { find: (name) => this.objects.module(name) },
      },
      options.core,
    );
    this.dispatcher.core = this.core;
    this.dispatcher.adopt = (task) => this.adopt(task);
    setFrameSource((task) => this.framesOf(task));
    // A pending task that leaves its last frame tries to switch once its
    // synchronous stack has unwound (the kernel switches at the next
    // schedule; switching inside the frame's caller would be too early).
    this.frames.onLeave = (task) => {
      if (task.frameCount !== 0 || this.switchQueued.has(task)) return;
      this.switchQueued.add(task);
      queueMicrotask(() => {
        this.switchQueued.delete(task);
        if (task.pending && this.core.trySwitchTask(task)) this.completeIfNonePending();
      });
    };
    this.core.subscribe((event) => this.events.emit('klp', event));
    this.patchModules = new PatchModules(this);
  }

  /**
   * The tasks shown to the core: those that hold frames, and the current
   * one (its synchronous stack may hold some). Each is stamped with the
   * core's transitionSeq: the core sets their states now.
   */
  private *listedTasks(): Generator<Task> {
    const seq = this.core.transitionSeq;
    const current = currentTask();
    let sawCurrent = false;
    for (const t of this.frames.tasks()) {
      t.seq = seq;
      if (t === current) sawCurrent = true;
      yield t;
    }
    if (this.core.transitionConsistency === 'request') {
      // every unit of work that has not ended, frames or not; those with frames were listed above
      for (const t of this.liveUnits) {
        if (t.frameCount !== 0) continue;
        t.seq = seq;
        if (t === current) sawCurrent = true;
        yield t;
      }
    }
    if (!sawCurrent) {
      current.seq = seq;
      yield current;
    }
  }

  /**
   * A task the core has not seen since its last transition-wide change: give
   * it the state the kernel would have given it then (the core's fork rule
   * for a task with no parent, which switches a frameless task at once).
   */
  adopt(task: Task): void {
    task.seq = this.core.transitionSeq;
    this.core.taskCreated(task);
  }

  /** The frames a task holds, as the core sees them (R5.6). */
  private *framesOf(task: Task): Generator<Frame> {
    for (const f of this.frames.framesOf(task)) {
      const cs = this.objects.bySlotId.get(f.slot);
      if (cs !== undefined) yield { slot: cs, version: f.version };
    }
    if (task === currentTask()) yield* syncFrames(this.slots, this.objects);
  }

  /**
   * The last pending task switched: complete now rather than at the next
   * retry (docs/semantics.md). Checked once per turn of the event loop.
   */
  private completeQueued = false;
  private completeIfNonePending(): void {
    if (this.completeQueued) return;
    this.completeQueued = true;
    setImmediate(() => {
      this.completeQueued = false;
      const seq = this.core.transitionSeq;
      for (const t of this.frames.tasks()) if (t.pending && t.seq === seq) return;
      for (const t of this.liveUnits) if (t.pending && t.seq === seq) return;
      this.core.tryComplete();
    }).unref();
  }

  /** The loader declared a module instance; its body has not run yet (R10.3). */
  moduleLoaded(record: ModuleRecord): void {
    const { module, joined } = this.objects.instanceLoaded(record);
    if (module.primary === record) {
      try {
        this.core.moduleComing(module);
      } catch (error) {
        this.objects.forget(module);
        throw error;
      }
      module.state = 'live';
    } else {
      for (const cs of joined) this.dispatcher.refresh(cs);
    }
  }

  /**
   * Start a unit of work (a request, a message, a job): a task with an end,
   * which the caller reports with `endTask`. Under the 'request' model it
   * runs entirely on the code it started on.
   */
  newUnit(name: string): Task {
    return this.newTask(name, true);
  }

  /** A unit of work ended: forget it, and under 'request' switch it now (kGraft: it left the kernel). */
  endTask(task: Task): void {
    if (task.ended) return;
    task.ended = true;
    this.liveUnits.delete(task);
    if (task.pending && task.seq === this.core.transitionSeq && this.core.taskEnded(task)) this.completeIfNonePending();
  }

  /** Start a task (the kernel's fork): it inherits the current task's state, then switches if it can. */
  newTask(name: string, unit = false): Task {
    const task = new Task(name);
    if (unit) {
      task.unit = true;
      this.liveUnits.add(task);
    }
    const parent = currentTask();
    if (parent.seq !== this.core.transitionSeq) this.adopt(parent);
    task.seq = this.core.transitionSeq;
    this.core.taskCreated(task, parent);
    this.events.emit('task', task);
    return task;
  }

  /** R5.14: a pending task is told, so a long-lived loop can unwind and re-enter. */
  private signal(task: Task): void {
    const patch = this.core.transitionStatus()?.patch ?? '';
    const controller = (task.controller ??= new AbortController());
    if (!controller.signal.aborted) controller.abort(new LivepatchSignal(patch));
    this.events.emit('signal', task);
  }

  /** `safepoint()`: the kernel's klp_update_patch_state, with a stack check. */
  safepoint(): boolean {
    const task = currentTask();
    if (!task.pending) return true;
    return this.core.trySwitchTask(task);
  }
}

let current: Runtime | undefined;

export function runtime(): Runtime | undefined {
  return current;
}

/**
 * Declare the slots of last run's modules ahead (one script, not one per
 * module), and remember this run's when modules were declared one by one: at
 * exit, or once loading has been quiet for a second (a service never exits).
 */
function keepSlotManifest(rt: Runtime, dir: string): () => void {
  const manifest = new SlotManifest(dir, process.argv[1] ?? '');
  rt.slots.predeclare(manifest.read());
  let scheduled = false;
  const save = (): void => {
    scheduled = false;
    if (rt.slots.fresh === 0) return;
    rt.slots.fresh = 0;
    manifest.write(rt.slots.all().map((r) => ({ key: r.key, count: r.count })));
  };
  process.once('exit', save);
  return () => {
    if (scheduled || rt.slots.fresh === 0) return;
    scheduled = true;
    setTimeout(save, 1000).unref();
  };
}

/** livepatch's own files, in dist/ or src/ (built one by one, or bundled): never instrumented */
function selfDirs(): string[] {
  let root = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(root, 'package.json')) && dirname(root) !== root) root = dirname(root);
  return [join(root, 'dist') + sep, join(root, 'src') + sep];
}

/**
 * The packages livepatch runs on (the parser and its platform binding), by
 * name, wherever installed: never instrumented. Resolving where they are
 * (import.meta.resolve) cost ≈ 1.5 ms of every start.
 */
const SELF_PACKAGES = ['oxc-parser', '@oxc-parser'].map(
  (name) => `${sep}node_modules${sep}${name.split('/').join(sep)}${sep}`,
);

export function startRuntime(env: NodeJS.ProcessEnv = process.env): Runtime {
  if (current !== undefined) return current;
  const rt = new Runtime({
    root: appRoot(process.argv[1], env),
    core: {
      debug: env.LIVEPATCH_DEBUG === '1' || env.LIVEPATCH_DEBUG === 'all',
      debugSwitchTask: env.LIVEPATCH_DEBUG === 'all',
    },
    clockScale: env.LIVEPATCH_CLOCK_SCALE !== undefined ? Number(env.LIVEPATCH_CLOCK_SCALE) : 1,
  });
  current = rt;
  // For tools and tests in the same process (the control socket is the way in from outside).
  Object.defineProperty(globalThis, Symbol.for('livepatch.runtime'), { value: rt });
  installAbi(rt.frames);
  installToString(rt.slots);
  installStackPositions(rt.slots);
  const dir = env.LIVEPATCH_CACHE === '0' ? undefined : cacheDir(rt.root, env);
  const cache = dir === undefined ? undefined : new TransformCache(dir);
  const noteSlots = dir !== undefined && isMainThread ? keepSlotManifest(rt, dir) : undefined;
  const builtinLoaded = installIntegrations(rt);
  installLoader({
    root: rt.root,
    slots: rt.slots,
    cache,
    include: compileFilter(env.LIVEPATCH_INCLUDE, true),
    exclude: compileFilter(env.LIVEPATCH_EXCLUDE, false),
    selfDirs: selfDirs(),
    selfPackages: SELF_PACKAGES,
    frames: env.LIVEPATCH_FRAMES !== '0',
    binding: env.LIVEPATCH_BINDING === 'module' ? 'module' : 'script',
    onBuiltin: builtinLoaded,
    onModule: (record) => {
      rt.moduleLoaded(record);
      noteSlots?.();
    },
  });
  if (isMainThread) hubOnFirstWorker(rt);
  else rt.ready = followMainThread(rt);
  return rt;
}
