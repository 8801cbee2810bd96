/**
 * Patch modules: the analog of livepatch kernel modules. `load` is insmod —
 * import the file and enable its patch (klp_enable_patch runs from the
 * module's init); `unload` is rmmod — refused while the patch exists (R11.1)
 * and forever once it was forced (R11.3). A module that is loaded but whose
 * patch was disabled (or replaced) stays loaded until unloaded, and its name
 * cannot be loaded again meanwhile (insmod's EEXIST).
 *
 * An ES module cannot be taken out of memory; unloading forgets it, and a
 * later load of the same file imports a fresh instance.
 */

import { basename, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { KlpError, EBUSY, EEXIST, EINVAL, ENOENT, type PatchDef } from '../core/index.ts';
import { PATCH_QUERY } from './loader.ts';
import { moduleFileExists } from './module-id.ts';
import type { Livepatch } from '../core/index.ts';

// Builtins through getBuiltinModule, not `import`: an ES import of node:fs or
// node:crypto evaluates every lazy export (fs.promises, webcrypto…), ms of each start.
const { existsSync } = process.getBuiltinModule('node:fs');
const { registerHooks } = process.getBuiltinModule('node:module');

export interface LoadedPatch {
  readonly name: string;
  readonly file: string;
  readonly loadedAt: number;
  /**
   * What a patch built from a version bump brings (its `livepatchPackages`
   * export, next to the patch: the core never sees it): which installed
   * copy of which package the process behaves as which version of.
   */
  readonly packages: readonly PackageBump[];
}

export interface PackageBump {
  readonly name: string;
  readonly from: string;
  readonly to: string;
  /** the copy's directory, relative to the application root */
  readonly path: string;
  /**
   * The copy's files (paths in the package) that the release changes in code:
   * the process behaves as `to` only while every one of them it has loaded
   * is patched. Absent in patches built before it was recorded.
   */
  readonly changed?: readonly string[];
}

/**
 * Where the module a patch object names stands in this process: loaded
 * (the object is patched now), waiting (not loaded, but a module file of
 * that id is there to load: it is patched when it loads), or unknown (not
 * loaded, and no such file under the application root or a node_modules
 * above it: nothing of the process has that id, as far as can be seen).
 */
export type ObjectState = 'loaded' | 'waiting' | 'unknown';

export interface LoadOptions {
  /**
   * Load a patch even when no module it names is loaded or known to the
   * process (the kernel's behaviour for a module not loaded yet). Default
   * true; the control socket's `load` passes false unless the operator
   * chose it (`livepatch load --allow-pending`).
   */
  readonly allowPending?: boolean;
}

let nonce = 0;

/**
 * What patch modules need of the runtime: its core. Declared here, not
 * imported from runtime.ts, so the runtime (which owns a PatchModules) and
 * this file do not import each other.
 */
export interface PatchModulesHost {
  readonly core: Pick<Livepatch, 'enablePatch' | 'forcedPatches' | 'patch'>;
  /** the application root: module ids are paths from it (module-id.ts) */
  readonly root: string;
  /** the modules loaded, by id */
  readonly slots: {
    modules(id: string): readonly unknown[];
    all(): readonly { readonly id: string }[];
  };
}

export class PatchModules {
  private readonly rt: PatchModulesHost;
  private readonly loaded = new Map<string, LoadedPatch>();
  /**
   * The package entry patch modules get for `import ... from 'livepatch'`:
   * from src/, the sources' entry; built (one by one, or bundled), the
   * package's own by its name. Resolved when the first patch loads, not at
   * start (resolving costs ≈ 2 ms).
   */
  private get entry(): string {
    return (this.#entry ??= import.meta.url.endsWith('.ts')
      ? new URL('../index.ts', import.meta.url).href
      : import.meta.resolve('livepatch'));
  }
  #entry: string | undefined;

  constructor(rt: PatchModulesHost) {
    this.rt = rt;
  }

  private resolving = false;

  /**
   * A patch module's `import ... from 'livepatch'` is the running runtime's
   * package, wherever the patch file is. The resolve hook is registered when
   * the first patch module loads, not at start: any resolve hook takes every
   * require() of the program off Node's fast path.
   */
  private ensureResolveHook(): void {
    if (this.resolving) return;
    this.resolving = true;
    const entry = this.entry;
    registerHooks({
      resolve(specifier, context, nextResolve) {
        if (specifier !== 'livepatch' || context.parentURL === undefined || !context.parentURL.includes(PATCH_QUERY))
          return nextResolve(specifier, context);
        return { url: entry, format: entry.endsWith('.ts') ? 'module-typescript' : 'module', shortCircuit: true };
      },
    });
  }

  list(): LoadedPatch[] {
    return [...this.loaded.values()];
  }

  /**
   * insmod: import the patch module and enable its patch. Without
   * `allowPending`, a patch none of whose objects names a module that is
   * loaded or could load (ObjectState 'unknown' for all) fails with ENOENT
   * before anything is enabled: it would be believed live and change nothing.
   */
  async load(path: string, options: LoadOptions = {}): Promise<LoadedPatch> {
    const file = resolve(path);
    if (!existsSync(file)) throw new KlpError(ENOENT, `livepatch: patch file ${file} does not exist`);
    const url = `${pathToFileURL(file).href}?${PATCH_QUERY}=${++nonce}`;
    this.ensureResolveHook();
    let mod: { default?: unknown; livepatchPackages?: unknown };
    try {
      mod = (await import(url)) as { default?: unknown; livepatchPackages?: unknown };
    } catch (error) {
      const why = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      throw new KlpError(EINVAL, `livepatch: patch file ${file} cannot be loaded: ${why}`, { cause: error });
    }
    const def = mod.default;
    if (def === null || typeof def !== 'object' || !Array.isArray((def as { objects?: unknown }).objects)) {
      throw new KlpError(
        EINVAL,
        `livepatch: patch file ${file} exports no patch: its default export must be definePatch({ objects: [...] })`,
      );
    }
    const patch = { ...(def as PatchDef) };
    if (patch.name === undefined) patch.name = defaultName(file);
    if (this.loaded.has(patch.name)) {
      throw new KlpError(EEXIST, `livepatch: a patch module named '${patch.name}' is already loaded; unload it first`);
    }
    if (this.rt.core.forcedPatches().includes(patch.name)) {
      throw new KlpError(
        EEXIST,
        `livepatch: patch '${patch.name}' was forced; its module can never be unloaded, so it cannot be loaded again`,
      );
    }
    if (options.allowPending === false) this.checkTargets(patch);
    this.rt.core.enablePatch(patch);
    const loaded: LoadedPatch = {
      name: patch.name,
      file,
      loadedAt: Date.now(),
      packages: packageBumps(mod.livepatchPackages),
    };
    this.loaded.set(patch.name, loaded);
    return loaded;
  }

  /** Where the module an object names stands in this process (null: the process itself, always loaded). */
  objectState(name: string | null): ObjectState {
    if (name === null || this.rt.slots.modules(name).length > 0) return 'loaded';
    return moduleFileExists(this.rt.root, name) ? 'waiting' : 'unknown';
  }

  /** ENOENT when no object of the patch names a module that is loaded or that the process could load. */
  private checkTargets(patch: PatchDef): void {
    const objects = patch.objects as readonly unknown[];
    const names: string[] = [];
    for (const o of objects) {
      const name = (o as { name?: unknown } | null)?.name;
      // the process itself (null) is always there; a malformed object is the core's to refuse (EINVAL)
      if (typeof name !== 'string') return;
      names.push(name);
    }
    if (names.length === 0 || names.some((n) => this.objectState(n) !== 'unknown')) return;
    const loadedIds = [...new Set(this.rt.slots.all().map((r) => r.id))];
    const near = [
      ...new Set(names.flatMap((n) => loadedIds.filter((id) => id.endsWith('/' + n) || n.endsWith('/' + id)))),
    ].slice(0, 5);
    const list = names.map((n) => `'${n}'`).join(', ');
    throw new KlpError(
      ENOENT,
      `livepatch: patch '${patch.name}' patches no module of this process: ` +
        (names.length === 1 ? `module ${list} is not loaded` : `none of the modules ${list} is loaded`) +
        `, and no such module file is under ${this.rt.root} or in a node_modules above it` +
        (near.length > 0 ? ` (loaded, with a similar id: ${near.join(', ')})` : '') +
        `; module ids are paths from the application root, and in a node_modules <package>/<path in the package>. ` +
        `Nothing was changed; \`livepatch load --allow-pending\` loads it anyway, to wait for modules of these ids`,
    );
  }

  /** rmmod. */
  unload(name: string): void {
    if (!this.loaded.has(name)) throw new KlpError(ENOENT, `livepatch: no patch module '${name}' is loaded`);
    const info = this.rt.core.patch(name);
    if (info !== null) {
      throw new KlpError(
        EBUSY,
        `livepatch: patch '${name}' is ${info.transition ? 'in transition' : 'enabled'}; disable it before unloading its module`,
      );
    }
    if (this.rt.core.forcedPatches().includes(name)) {
      throw new KlpError(
        EBUSY,
        `livepatch: patch '${name}' was forced; its module can never be unloaded (the kernel's R11.3)`,
      );
    }
    this.loaded.delete(name);
  }
}

/** The `livepatchPackages` export, if it has the expected shape (anything else is ignored: it is only shown). */
function packageBumps(v: unknown): PackageBump[] {
  if (!Array.isArray(v)) return [];
  const str = (x: unknown): x is string => typeof x === 'string' && x.length > 0 && x.length < 512;
  return v
    .filter(
      (b): b is PackageBump =>
        b !== null && typeof b === 'object' && str(b.name) && str(b.from) && str(b.to) && str(b.path),
    )
    .map((b) => {
      const changed = (b as { changed?: unknown }).changed;
      return {
        name: b.name,
        from: b.from,
        to: b.to,
        path: b.path,
        ...(Array.isArray(changed) && changed.every(str) ? { changed: changed as string[] } : {}),
      };
    });
}

/** The patch's name when it gives none: the file's base name, as a kernel module's. */
export function defaultName(file: string): string {
  return basename(file)
    .replace(/\.(?:[cm]?[jt]s)$/, '')
    .replace(/[^A-Za-z0-9_.@+-]/g, '_');
}
