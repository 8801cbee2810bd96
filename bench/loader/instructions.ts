/**
 * The loader's idle cost in instructions: each workload runs under callgrind
 * in V8's predictable mode (no background threads, fixed seeds), plain and
 * armed, with N=lo and N=hi iterations; the cost of one warm iteration is the
 * difference divided by hi-lo. Deterministic to about 1e-6 for a given state
 * of Node's compile cache, where wall-clock ratios wander by ±5 %
 * (docs/benchmarks.md).
 *
 *   node bench/loader/instructions.ts [--workloads acorn,marked,typescript,http,async]
 *       [--variants plain,armed,...] [--lo N] [--hi N] [--split] [--jobs 2]
 *
 * Without --lo/--hi each workload is counted from the window where it is
 * warm: N=3 vs 8, and N=13 vs 23 for TypeScript, whose transpiler is still
 * being compiled at iteration 20 (docs/benchmarks.md).
 *
 * A variant is `name` or `name=ENV=value;ENV2=value2;--node-flag`; `armed`
 * variants load the instrumented copy, others the plain copy.
 *
 * `--split` also says where each iteration's instructions go: the program's
 * code (V8's generated code and the builtins and runtime functions it calls),
 * compiling (parser, bytecode, Sparkplug, Maglev, TurboFan) and the garbage
 * collector. Under `--predictable` the compilers and the collector run on the
 * main thread, inside the count; for a program that is still warming up
 * (TypeScript: docs/benchmarks.md) when they run decides more of the total
 * than the entry checks do, and "code" is the part the checks can change
 * directly.
 */

import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { ensurePlainCopies } from './plain-copies.ts';

const register = process.env.BENCH_REGISTER ?? fileURLToPath(new URL('../../dist/register.js', import.meta.url));
const single = fileURLToPath(new URL('./single.mjs', import.meta.url));
const execFileAsync = promisify(execFile);
const { values } = parseArgs({
  options: {
    workloads: { type: 'string', default: 'acorn,marked,typescript,http' },
    variants: { type: 'string', default: 'plain,armed' },
    lo: { type: 'string' },
    hi: { type: 'string' },
    split: { type: 'boolean', default: false },
    // callgrind counts do not depend on what else the machine runs, so runs go side by side
    jobs: { type: 'string', default: String(availableParallelism()) },
  },
});

interface Variant {
  name: string;
  which: 'armed' | 'plain';
  env: Record<string, string>;
  flags: string[];
}

function parseVariant(spec: string): Variant {
  const i = spec.indexOf('=');
  const name = i === -1 ? spec : spec.slice(0, i);
  const v: Variant = { name, which: name.startsWith('armed') ? 'armed' : 'plain', env: {}, flags: [] };
  for (const part of (i === -1 ? '' : spec.slice(i + 1)).split(';').filter(Boolean)) {
    if (part.startsWith('--')) v.flags.push(part);
    else v.env[part.slice(0, part.indexOf('='))] = part.slice(part.indexOf('=') + 1);
  }
  return v;
}

const CATEGORIES = ['code', 'compile', 'gc'] as const;
type Category = (typeof CATEGORIES)[number];
type Count = Record<Category | 'total', number>;

/** Which part of V8 a function callgrind names belongs to. JIT code has no symbol (`0x…`). */
function categoryOf(fn: string): Category {
  if (
    /Scaveng|Marking|MarkCompact|Sweep|Heap::|heap::|Evacuat|Compactor|RememberedSet|SlotSet|BodyDescriptor|Worklist|MemoryChunk|PageMetadata|MinorMS/.test(
      fn,
    )
  )
    return 'gc';
  if (
    /compiler::|[Mm]aglev|turboshaft|Scanner|Parser|AstValueFactory|PreParse|DeclarationScope|Scope::|FuncNameInferrer|interpreter::Bytecode|BytecodeGenerator|baseline::|Zone::/.test(
      fn,
    )
  )
    return 'compile';
  return 'code';
}

/** Instructions per part, from callgrind's per-function totals. */
async function splitCount(outFile: string): Promise<Omit<Count, 'total'>> {
  const { stdout } = await execFileAsync('callgrind_annotate', ['--inclusive=no', '--threshold=100', outFile], {
    maxBuffer: 1 << 28,
  });
  const count = { code: 0, compile: 0, gc: 0 };
  for (const line of stdout.split('\n')) {
    const m = /^\s*([\d,]+) \(\s*[\d.]+%\)\s+(.*)$/.exec(line);
    if (m === null || m[2]!.includes('PROGRAM TOTALS')) continue;
    count[categoryOf(m[2]!)] += Number(m[1]!.replaceAll(',', ''));
  }
  return count;
}

const outDir = mkdtempSync(join(tmpdir(), 'lp-callgrind-'));
let runs = 0;

async function instructions(workload: string, v: Variant, n: number): Promise<Count> {
  const outFile = values.split ? join(outDir, `${++runs}.out`) : '/dev/null';
  // execFile rejects with the command's stderr when it fails
  const { stderr } = await execFileAsync(
    'valgrind',
    [
      '--tool=callgrind',
      `--callgrind-out-file=${outFile}`,
      '--smc-check=all-non-file',
      process.execPath,
      '--predictable',
      ...v.flags,
      '--import',
      register,
      single,
    ],
    {
      env: {
        ...process.env,
        NODE_OPTIONS: '',
        WORKLOAD: workload,
        WHICH: v.which,
        N: String(n),
        LIVEPATCH_EXCLUDE: 'bench/loader/.plain/**',
        ...v.env,
      },
      maxBuffer: 1 << 24,
    },
  );
  const collected = /Collected : (\d+)/.exec(stderr);
  if (collected === null)
    throw new Error(`${workload}/${v.name}: no count in callgrind's output:\n${stderr.slice(-2000)}`);
  const total = Number(collected[1]);
  if (!values.split) return { total, code: 0, compile: 0, gc: 0 };
  const split = await splitCount(outFile);
  rmSync(outFile);
  return { total, ...split };
}

/** A small pool: at most `jobs` callgrind runs at once. */
function pool(jobs: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async (task) => {
    if (active >= jobs) await new Promise<void>((r) => waiting.push(r));
    active++;
    try {
      return await task();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

/** The iterations counted by default: past each workload's warm-up. */
const WINDOWS: Record<string, readonly [number, number]> = { typescript: [13, 23] };
const DEFAULT_WINDOW = [3, 8] as const;
function windowOf(workload: string): readonly [number, number] {
  const [lo, hi] = WINDOWS[workload] ?? DEFAULT_WINDOW;
  return [values.lo === undefined ? lo : Number(values.lo), values.hi === undefined ? hi : Number(values.hi)];
}

ensurePlainCopies();
const variants = values.variants.split(',').map(parseVariant);
const run = pool(Number(values.jobs));

async function perIteration(w: string, v: Variant): Promise<Count> {
  const [lo, hi] = windowOf(w);
  // the first run of a variant fills the transform cache and Node's compile cache
  await run(() => instructions(w, v, lo));
  const [a, b] = await Promise.all([run(() => instructions(w, v, lo)), run(() => instructions(w, v, hi))]);
  const per = {} as Count;
  for (const k of ['total', ...CATEGORIES] as const) per[k] = (b[k] - a[k]) / (hi - lo);
  return per;
}

const results = new Map<string, Promise<Count>>();
for (const w of values.workloads.split(','))
  for (const v of variants) results.set(`${w}\0${v.name}`, perIteration(w, v));

console.log(`instructions per warm iteration (callgrind, --predictable), node ${process.version}`);
const splitHead = values.split ? ' code | compile | gc |' : '';
console.log(`| workload | variant | N | instructions / iteration | ratio to plain |${splitHead}`);
console.log(`|---|---|---|---:|---:|${values.split ? '---:|---:|---:|' : ''}`);
const m = (x: number): string => `${(x / 1e6).toFixed(1)} M`;
for (const w of values.workloads.split(',')) {
  let base: Count | undefined;
  for (const v of variants) {
    const per = await results.get(`${w}\0${v.name}`)!;
    base ??= per;
    const split = values.split
      ? ` ${CATEGORIES.map((k) => `${m(per[k])} (${(per[k] / base![k]).toFixed(3)})`).join(' | ')} |`
      : '';
    console.log(
      `| ${w} | ${v.name} | ${windowOf(w).join(' vs ')} | ${m(per.total)} | ${(per.total / base.total).toFixed(3)} |${split}`,
    );
  }
}
rmSync(outDir, { recursive: true, force: true });
