/**
 * What the control socket shows of a runtime: status (patches, the
 * transition and every task that holds it open, with the frames that block
 * it) and symbol tables. Plain data, ready for JSON.
 */

import { KlpError, ENOENT, type PatchInfo } from '../core/index.ts';
import type { Runtime } from '../runtime/runtime.ts';

export interface BlockerView {
  readonly function: string;
  readonly module: string | null;
  readonly line: number | null;
  /** the version the frame runs (0: original) and the one the task will run */
  readonly version: number;
  readonly expected: number;
}

export interface PendingTaskView {
  readonly id: number;
  readonly name: string;
  readonly waitingMs: number;
  readonly blocking: readonly BlockerView[];
}

export interface StatusView {
  readonly patches: (PatchInfo & { readonly file: string | null })[];
  /** loaded patch modules, including those whose patch is gone (disabled or replaced) */
  readonly modules: readonly { readonly name: string; readonly file: string; readonly state: 'enabled' | 'transition' | 'gone'; readonly forced: boolean }[];
  readonly transition: {
    readonly patch: string;
    readonly direction: 'patching' | 'unpatching';
    readonly consistency: string;
    readonly elapsedMs: number;
    readonly retries: number;
    readonly signalRounds: number;
    readonly forced: boolean;
    readonly pending: readonly PendingTaskView[];
  } | null;
  /** tasks that hold frames (are inside async functions or generators) */
  readonly tasks: number;
}

export function status(rt: Runtime, name?: string): StatusView {
  const core = rt.core;
  const now = performance.now();
  const files = new Map(rt.patchModules.list().map((m) => [m.name, m.file]));
  const forced = new Set(core.forcedPatches());
  const patches = core.patches().filter((p) => name === undefined || p.name === name).map((p) => ({ ...p, file: files.get(p.name) ?? null }));
  const modules = rt.patchModules.list().filter((m) => name === undefined || m.name === name).map((m) => {
    const p = core.patch(m.name);
    return { name: m.name, file: m.file, state: p === null ? ('gone' as const) : p.transition ? ('transition' as const) : ('enabled' as const), forced: forced.has(m.name) || p?.forced === true };
  });
  const t = core.transitionStatus();
  let transition: StatusView['transition'] = null;
  if (t !== null && (name === undefined || t.patch === name)) {
    const started = new Map<number, number>();
    for (const task of rt.frames.tasks()) started.set(task.id, task.startedAt);
    transition = {
      patch: t.patch,
      direction: t.direction,
      consistency: t.consistency,
      elapsedMs: now - t.startedAt,
      retries: t.retries,
      signalRounds: t.signalRounds,
      forced: t.forced,
      pending: t.pending.map((p) => ({
        id: p.id,
        name: p.name,
        waitingMs: now - Math.max(t.startedAt, started.get(p.id) ?? t.startedAt),
        blocking: p.blocking.map((b) => {
          const cs = rt.objects.byCoreId.get(b.slot);
          return { function: b.function, module: b.object, line: cs?.symbol.line ?? null, version: b.version, expected: b.expected };
        }),
      })),
    };
  }
  let tasks = 0;
  for (const _ of rt.frames.tasks()) tasks++;
  return { patches, modules, transition, tasks };
}

export function symbols(rt: Runtime, moduleId: string): unknown {
  const record = rt.slots.modules(moduleId)[0];
  if (record === undefined) {
    const known = rt.slots.all().map((r) => r.id);
    const near = known.filter((id) => id.endsWith(moduleId) || moduleId.endsWith(id)).slice(0, 5);
    throw new KlpError(ENOENT, `livepatch: no module '${moduleId}' is loaded${near.length > 0 ? ` (did you mean ${near.join(', ')}?)` : ''}`);
  }
  const plan = record.plan();
  return plan.symbols.symbols.map((s) => ({
    name: s.name, sympos: s.sympos, kind: s.kind, async: s.async, generator: s.generator,
    line: s.line, hash: s.hash, captures: s.captures, unpatchable: s.unpatchable,
  }));
}
