/**
 * What the control socket shows of a runtime: status (patches, the
 * transition and every task that holds it open, with the frames that block
 * it) and symbol tables. Plain data, ready for JSON.
 */

import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KlpError, ENOENT, type ObjectInfo, type PatchInfo } from '../core/index.ts';
import type { ObjectState, PackageBump } from '../runtime/patch-modules.ts';
import type { Runtime } from '../runtime/runtime.ts';

// Builtins through getBuiltinModule, not `import`: an ES import of node:fs or
// node:crypto evaluates every lazy export (fs.promises, webcrypto…), ms of each start.
const { readFileSync } = process.getBuiltinModule('node:fs');

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
  /** how long the task has run (null when the runtime does not know its start) */
  readonly ageMs: number | null;
  /** under 'request': a unit of work that switches when it ends, not when it leaves the patched functions */
  readonly waitsForEnd: boolean;
  readonly blocking: readonly BlockerView[];
}

/** A patch's object, with where its module stands in the process (loaded, or waited for). */
export type ObjectView = ObjectInfo & { readonly state: ObjectState };

/**
 * A package copy a patch brings to another version, and the modules of the
 * copy that the release changes, the process has loaded, and the patch does
 * not patch: while there is one, the process does not behave as `to`.
 */
export type PackageBumpView = PackageBump & { readonly unpatched: readonly string[] };

export interface StatusView {
  /** `packages`: for a patch built from a version bump, the package copies it brings to another version */
  readonly patches: (Omit<PatchInfo, 'objects'> & {
    readonly objects: readonly ObjectView[];
    readonly file: string | null;
    readonly packages: readonly PackageBumpView[];
  })[];
  /** loaded patch modules, including those whose patch is gone (disabled or replaced) */
  readonly modules: readonly {
    readonly name: string;
    readonly file: string;
    readonly state: 'enabled' | 'transition' | 'gone';
    readonly forced: boolean;
  }[];
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
  const now = rt.api.monotonicNow();
  const files = new Map(rt.patchModules.list().map((m) => [m.name, m]));
  const forced = new Set(core.forcedPatches());
  const patches = core
    .patches()
    .filter((p) => name === undefined || p.name === name)
    .map((p) => ({
      ...p,
      objects: p.objects.map((o) => ({
        ...o,
        state: o.loaded ? ('loaded' as const) : rt.patchModules.objectState(o.name),
      })),
      file: files.get(p.name)?.file ?? null,
      packages: (files.get(p.name)?.packages ?? []).map((b) => ({ ...b, unpatched: unpatchedOf(rt, p, b) })),
    }));
  const modules = rt.patchModules
    .list()
    .filter((m) => name === undefined || m.name === name)
    .map((m) => {
      const p = core.patch(m.name);
      return {
        name: m.name,
        file: m.file,
        state: p === null ? ('gone' as const) : p.transition ? ('transition' as const) : ('enabled' as const),
        forced: forced.has(m.name) || p?.forced === true,
      };
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
        waitingMs: now - Math.max(t.startedAt, started.get(p.id) ?? p.startedAt ?? t.startedAt),
        ageMs: p.startedAt === null ? null : now - p.startedAt,
        waitsForEnd: p.waitsForEnd,
        blocking: p.blocking.map((b) => {
          const cs = rt.objects.byCoreId.get(b.slot);
          return {
            function: b.function,
            module: b.object,
            line: cs?.symbol.line ?? null,
            version: b.version,
            expected: b.expected,
          };
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
    throw new KlpError(
      ENOENT,
      `livepatch: no module '${moduleId}' is loaded${near.length > 0 ? ` (did you mean ${near.join(', ')}?)` : ''}`,
    );
  }
  const plan = record.plan();
  return plan.symbols.symbols.map((s) => ({
    name: s.name,
    sympos: s.sympos,
    kind: s.kind,
    async: s.async,
    generator: s.generator,
    line: s.line,
    hash: s.hash,
    captures: s.captures,
    unpatchable: s.unpatchable,
  }));
}

/** A package the process has loaded modules of. */
export interface PackageView {
  readonly name: string;
  readonly version: string | null;
  /** its directory, relative to the application root (POSIX); '.' for the application itself */
  readonly path: string;
  readonly dir: string;
  /** the loaded modules: id, and file inside the package */
  readonly modules: readonly { readonly id: string; readonly file: string }[];
  /** an enabled patch built from a version bump of this copy: the version the process now behaves as */
  readonly patchedTo: { readonly patch: string; readonly version: string; readonly transition: boolean } | null;
}

/**
 * The packages loaded in the process: the runtime's module records grouped
 * by the nearest package.json that has a name (a nested `{"type": ...}`
 * package.json does not make a package), with versions and paths, so they
 * can be matched against an advisory.
 */
export function packages(rt: Runtime): PackageView[] {
  const byDir = new Map<string, { name: string; version: string | null; modules: { id: string; file: string }[] }>();
  const owner = new Map<string, { dir: string; name: string; version: string | null } | null>();
  const find = (start: string): { dir: string; name: string; version: string | null } | null => {
    const trail: string[] = [];
    let dir = start;
    let found: { dir: string; name: string; version: string | null } | null = null;
    for (;;) {
      const known = owner.get(dir);
      if (known !== undefined) {
        found = known;
        break;
      }
      trail.push(dir);
      let pj: { name?: unknown; version?: unknown } | null = null;
      try {
        pj = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      } catch {
        // none here, or not JSON
      }
      if (pj !== null && typeof pj.name === 'string' && pj.name !== '') {
        found = { dir, name: pj.name, version: typeof pj.version === 'string' ? pj.version : null };
        break;
      }
      const up = dirname(dir);
      if (up === dir) break;
      dir = up;
    }
    for (const d of trail) owner.set(d, found);
    return found;
  };
  for (const r of rt.slots.all()) {
    if (!r.url.startsWith('file:')) continue;
    const file = fileURLToPath(r.url);
    const pkg = find(dirname(file));
    if (pkg === null) continue;
    let entry = byDir.get(pkg.dir);
    if (entry === undefined) byDir.set(pkg.dir, (entry = { name: pkg.name, version: pkg.version, modules: [] }));
    const rel = relative(pkg.dir, file).split(sep).join('/');
    if (!entry.modules.some((m) => m.id === r.id && m.file === rel)) entry.modules.push({ id: r.id, file: rel });
  }
  // version bumps of enabled patches that patch every changed module loaded, by the copy's path
  const bumps = new Map<string, PackageView['patchedTo']>();
  for (const m of rt.patchModules.list()) {
    const p = rt.core.patch(m.name);
    if (p === null || !p.enabled) continue;
    for (const b of m.packages)
      if (unpatchedOf(rt, p, b).length === 0)
        bumps.set(`${b.name}\0${b.path}`, { patch: m.name, version: b.to, transition: p.transition });
  }
  return [...byDir]
    .map(([dir, e]) => {
      const path = relative(rt.root, dir).split(sep).join('/') || '.';
      return {
        name: e.name,
        version: e.version,
        path,
        dir,
        modules: e.modules.sort((a, b) => a.id.localeCompare(b.id)),
        patchedTo: bumps.get(`${e.name}\0${path}`) ?? null,
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name) || a.path.localeCompare(b.path));
}

/**
 * The modules of a package copy that a version-bump patch should patch, that
 * the process has loaded, and that the patch does not patch (an object of
 * another id, or none: a changed file the build left out). The patch names
 * the changed files by their path in the package; their module ids are the
 * loader's for the copy's place, whatever ids the patch's objects have.
 */
function unpatchedOf(rt: Runtime, p: PatchInfo, b: PackageBump): string[] {
  const dir = resolve(rt.root, b.path);
  const prefix = rt.api.moduleId(join(dir, 'x'), rt.root).slice(0, -2);
  // a patch built before it named the changed files: the objects it has for the copy
  const ids =
    b.changed !== undefined
      ? b.changed.map((f) => rt.api.moduleId(join(dir, f), rt.root))
      : p.objects.flatMap((o) => (o.name !== null && o.name.startsWith(prefix + '/') ? [o.name] : []));
  const patched = new Set(p.objects.filter((o) => o.patched).map((o) => o.name));
  return ids.filter((id) => rt.slots.modules(id).length > 0 && !patched.has(id));
}
