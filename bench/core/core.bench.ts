// Core benchmarks: enable of a patch with 1,000 funcs, a transition over
// 10,000 tasks, and the dispatch decision (time and allocations).
//
//   node_modules/.bin/node --expose-gc bench/core/core.bench.ts
//
// Prints a table; see docs/benchmarks.md ("Core") for recorded figures.
import { PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';
import vm from 'node:vm';
import os from 'node:os';
import {
  Livepatch,
  dispatch,
  type Frame,
  type Func,
  type PatchDef,
  type PatchState,
  type Slot,
  type SymbolEntry,
  type Task,
  type Timer,
} from '../../src/core/index.ts';

v8.setFlagsFromString('--expose-gc');
const gc = (globalThis as { gc?: () => void }).gc ?? (vm.runInNewContext('gc') as () => void);

// ------------------------------------------------------------ a bare world

class Clock {
  t = 0;
  timers: { at: number; fn: () => void; dead: boolean }[] = [];
  now(): number {
    return this.t;
  }
  schedule(ms: number, fn: () => void): Timer {
    const x = { at: this.t + ms, fn, dead: false };
    this.timers.push(x);
    return {
      cancel: () => {
        x.dead = true;
      },
    };
  }
  advance(ms: number): void {
    this.t += ms;
    const due = this.timers.filter((x) => !x.dead && x.at <= this.t);
    this.timers = this.timers.filter((x) => !x.dead && x.at > this.t);
    for (const x of due) x.fn();
  }
}

class BenchTask implements Task {
  patchState: PatchState = -1;
  pending = false;
  readonly stack: Frame[] = [];
  readonly id: number;
  readonly name: string;
  constructor(id: number) {
    this.id = id;
    this.name = `task${id}`;
  }
  frames(): Iterable<Frame> {
    return this.stack;
  }
}

function world(nFuncs: number, nTasks: number) {
  const clock = new Clock();
  const slots: Slot[] = [];
  const table = new Map<string, SymbolEntry[]>();
  for (let i = 0; i < nFuncs; i++) {
    const slot = { id: i + 1 };
    slots.push(slot);
    table.set(`fn${i}`, [{ name: `fn${i}`, slot }]);
  }
  const tasks: BenchTask[] = [];
  for (let i = 0; i < nTasks; i++) tasks.push(new BenchTask(i + 1));
  let sinkCalls = 0;
  const lp = new Livepatch(
    {
      clock,
      tasks: { [Symbol.iterator]: () => tasks[Symbol.iterator](), signal: () => {} },
      vmlinux: { lookup: (name) => table.get(name) ?? [] },
      sink: {
        update: () => {
          sinkCalls++;
        },
      },
    },
    { logSize: 256 },
  );
  return { lp, clock, slots, tasks, sinkCalls: () => sinkCalls };
}

function patch(name: string, from: number, count: number): PatchDef {
  const funcs = [];
  for (let i = from; i < from + count; i++) funcs.push({ oldName: `fn${i}`, newFunc: () => i });
  return { name, objects: [{ name: null, funcs }] };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function time(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

const rows: [string, string, string][] = [];

// --------------------------------------------------- 1. enable 1,000 funcs
{
  const { lp } = world(2000, 10);
  const enable: number[] = [];
  const disable: number[] = [];
  for (let i = 0; i < 30; i++) {
    const def = patch(`p${i}`, 0, 1000);
    gc();
    enable.push(time(() => lp.enablePatch(def)));
    disable.push(time(() => lp.disable(`p${i}`)));
  }
  rows.push([
    'enable, 1,000 funcs, 10 idle tasks (init → complete)',
    `${median(enable).toFixed(2)} ms`,
    'median of 30',
  ]);
  rows.push(['disable, 1,000 funcs (→ freed)', `${median(disable).toFixed(2)} ms`, 'median of 30']);
}

// ------------------------------------------- 2. a transition over 10,000 tasks
{
  const N = 10_000;
  const { lp, clock, slots, tasks } = world(200, N);
  // Every task holds three frames in functions the patch does not touch.
  for (const t of tasks)
    for (let k = 0; k < 3; k++) t.stack.push({ slot: slots[100 + ((t.id + k) % 100)]!, version: 0 });
  const full: number[] = [];
  for (let i = 0; i < 15; i++) {
    gc();
    full.push(time(() => lp.enablePatch(patch(`t${i}`, 0, 50))));
    lp.disable(`t${i}`);
  }
  rows.push([
    `transition over ${N.toLocaleString('en')} tasks, 3 frames each, none blocking (enable → complete)`,
    `${median(full).toFixed(2)} ms`,
    'median of 15; target ≤ 10 ms',
  ]);

  // 10 % of the tasks sleep in a patched function: the first attempt fails,
  // a retry is scheduled; then they leave and the retry completes.
  const blockers = tasks.filter((t) => t.id % 10 === 0);
  const firstAttempt: number[] = [];
  const retry: number[] = [];
  for (let i = 0; i < 15; i++) {
    for (const t of blockers) t.stack.push({ slot: slots[i % 50]!, version: 0 });
    gc();
    firstAttempt.push(time(() => lp.enablePatch(patch(`b${i}`, 0, 50))));
    for (const t of blockers) t.stack.pop();
    retry.push(time(() => clock.advance(1000)));
    if (lp.transitionStatus() !== null) throw new Error('transition did not complete');
    lp.disable(`b${i}`);
  }
  rows.push([
    `enable with ${blockers.length.toLocaleString('en')} of ${N.toLocaleString('en')} tasks blocked (first attempt)`,
    `${median(firstAttempt).toFixed(2)} ms`,
    'median of 15',
  ]);
  rows.push(['retry that switches the rest and completes', `${median(retry).toFixed(2)} ms`, 'median of 15']);
}

// --------------------------------------------------------- 3. dispatch
{
  const { lp, slots, tasks } = world(4, 1);
  lp.enablePatch(patch('low', 0, 1));
  tasks[0]!.stack.push({ slot: slots[0]!, version: 0 }); // hold the transition of the next patch open
  lp.enablePatch(patch('high', 0, 1));
  const stack = lp.stackOf(slots[0]!) as readonly Func[];
  if (stack.length !== 2 || !stack[0]!.transition) throw new Error('setup: expected a stack of two, top in transition');
  let sink = 0;
  const loop = (n: number): void => {
    for (let i = 0; i < n; i++) {
      const f = dispatch(stack, (i & 1) as PatchState);
      sink += f === null ? 0 : 1;
    }
  };
  loop(5_000_000); // warm up (optimize)
  let gcs = 0;
  const obs = new PerformanceObserver((list) => {
    gcs += list.getEntries().length;
  });
  obs.observe({ entryTypes: ['gc'] });
  // Allocation check: heap growth and GC count over n and 10·n calls. A
  // per-call allocation of even 8 bytes would grow with n (and force
  // scavenges); a constant is the harness's own noise.
  const measure = async (n: number): Promise<[number, number, number]> => {
    gc();
    await new Promise((r) => setImmediate(r));
    gcs = 0;
    const before = v8.getHeapStatistics().used_heap_size;
    const t0 = performance.now();
    loop(n);
    const ms = performance.now() - t0;
    const after = v8.getHeapStatistics().used_heap_size;
    const seen = gcs;
    return [ms, after - before, seen];
  };
  const [ms1, grow1, gc1] = await measure(10_000_000);
  const [ms2, grow2, gc2] = await measure(100_000_000);
  obs.disconnect();
  rows.push([
    'dispatch (stack of 2, top in transition, both task states)',
    `${((ms2 * 1e6) / 1e8).toFixed(2)} ns/call`,
    '100 M calls',
  ]);
  rows.push([
    'dispatch allocations: heap growth / GCs over 10 M calls',
    `${Math.max(0, grow1)} B / ${gc1}`,
    'zero allocation: no growth with 10× the calls',
  ]);
  rows.push([
    'dispatch allocations: heap growth / GCs over 100 M calls',
    `${Math.max(0, grow2)} B / ${gc2}`,
    `(${((ms1 * 1e6) / 1e7).toFixed(2)} ns/call over 10 M)`,
  ]);
  if (sink === -1) console.log('');
}

// --------------------------------------------------------------- table
const w0 = Math.max(...rows.map((r) => r[0].length));
const w1 = Math.max(...rows.map((r) => r[1].length));
console.log(
  `node ${process.version}, ${os.cpus()[0]?.model ?? 'cpu'} ×${os.cpus().length}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB`,
);
console.log(`${'benchmark'.padEnd(w0)}  ${'result'.padEnd(w1)}  note`);
console.log(`${'-'.repeat(w0)}  ${'-'.repeat(w1)}  ----`);
for (const [a, b, c] of rows) console.log(`${a.padEnd(w0)}  ${b.padEnd(w1)}  ${c}`);
