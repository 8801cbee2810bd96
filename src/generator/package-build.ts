/**
 * A dependency's fix, from a version bump: `livepatch build --package
 * qs@6.10.3`. The installed copies of the package are found in the
 * application (nested ones and several versions too); each copy the fix
 * release applies to — an older version on the same release line — is
 * compared with the new version, file by file over what the process can
 * load (reach.ts), function by function with the build's comparison, under
 * that copy's module ids; one patch carries them all, and records the
 * version the process then behaves as.
 *
 * `--old <dir> --new <dir|tarball>` on two versions of a package is the
 * same with one copy: the old directory's place in its application (or, if
 * it is not inside a node_modules, a top-level install of the package).
 */

import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { build, type BuildResult } from './generate.ts';
import type { LeftOut, PackageBump } from './manifest.ts';
import { InputError } from './errors.ts';
import { findCopies, placeOf, posixRelative, type InstalledCopy } from './installed.ts';
import { isModulePath, moduleIdOf } from './modules.ts';
import { fetchPackage, openPackage, packageDir, type PackageFiles } from './package-files.ts';
import { reachedFiles } from './reach.ts';
import { compareVersions, releaseLine } from './semver.ts';
import type { VersionStrings } from './structure.ts';
import { mountTree, unionTree, type SourceTree } from './tree.ts';

export interface PackageBuildOptions {
  readonly name: string;
  /** the fixed release (null: the version of `newSource`) */
  readonly version: string | null;
  /** the application's root: module ids are relative to it */
  readonly root: string;
  /** the new version as a directory or tarball, instead of the registry */
  readonly newSource: string | null;
  /** only these copies (paths relative to the root, or directories) */
  readonly only?: readonly string[];
  /** copies the running process has loaded, and the files it loaded of each (by module id prefix) */
  readonly running?: RunningPackages;
  readonly patchName?: string | undefined;
  readonly replace?: boolean;
  readonly output?: string | null;
}

/** What `--pid` tells about a process: the copies of packages it loaded, and which of their files. */
export interface RunningPackages {
  /** directories of the copies the process loaded */
  readonly dirs: ReadonlySet<string>;
  /** files loaded, by module id prefix of the copy: paths inside the package */
  readonly loaded: ReadonlyMap<string, readonly string[]>;
}

export type CopyStatus = 'patched' | 'current' | 'newer' | 'other-line' | 'not-chosen';

export interface CopyReport {
  readonly copy: InstalledCopy;
  readonly status: CopyStatus;
  readonly why: string;
}

export interface PackageBuild {
  /** null when no copy needs the fix */
  readonly result: BuildResult | null;
  readonly name: string;
  /** the new version and where it came from */
  readonly next: { readonly version: string; readonly label: string };
  readonly copies: readonly CopyReport[];
  /** the patch's default name: `<name>@<old>-to-<new>` */
  readonly defaultName: string;
}

export function buildPackage(opts: PackageBuildOptions): PackageBuild {
  const root = resolve(opts.root);
  if (!existsSync(root)) throw new InputError(`the application root ${root} does not exist`);
  const copies = findCopies(root, opts.name);
  for (const dir of opts.running?.dirs ?? []) {
    // a copy the process loaded from outside node_modules (a workspace, a link)
    if (copies.some((c) => c.dir === dir)) continue;
    const pj = readJson(join(dir, 'package.json'));
    if (pj?.name === opts.name && typeof pj.version === 'string') copies.push(copyAt(root, dir, opts.name, pj.version));
  }
  if (copies.length === 0)
    throw new InputError(`${opts.name} is not installed in ${root} (no node_modules/${opts.name} there or below)`);
  const next = opts.newSource !== null ? openPackage(opts.newSource) : fetchPackage(opts.name, opts.version!);
  if (next.name !== opts.name) throw new InputError(`${next.label} is the package '${next.name}', not '${opts.name}'`);
  if (opts.version !== null && next.version !== opts.version)
    throw new InputError(`${next.label} is ${next.name}@${next.version}, not the version asked for (${opts.version})`);

  for (const o of opts.only ?? []) {
    if (!copies.some((c) => chosenBy(o, c, root)))
      throw new InputError(
        `--copy ${o}: no installed copy of ${opts.name} there (${copies.map((c) => c.path).join(', ')})`,
      );
  }
  const reports = copies.map((copy) => classify(copy, next.version, root, opts.only));
  const chosen = reports.filter((r) => r.status === 'patched').map((r) => r.copy);
  const from = [...new Set(chosen.map((c) => c.version))].sort(compareVersions);
  const defaultName = `${opts.name}@${from.join('+') || 'none'}-to-${next.version}`.replace(/[^A-Za-z0-9_.@+-]/g, '_');
  if (chosen.length === 0)
    return {
      result: null,
      name: opts.name,
      next: { version: next.version, label: next.label },
      copies: reports,
      defaultName,
    };
  const result = compareCopies(chosen, next, root, opts, opts.patchName ?? defaultName);
  return { result, name: opts.name, next: { version: next.version, label: next.label }, copies: reports, defaultName };
}

/**
 * `--old <package dir> --new <package dir|tarball>`: one copy, named by the
 * old directory's place (inside a node_modules: that installed copy;
 * elsewhere: a top-level install, `node_modules/<name>`).
 */
export function buildPackagePair(
  oldDir: string,
  newArg: string,
  rootArg: string | undefined,
  opts: Omit<PackageBuildOptions, 'name' | 'version' | 'root' | 'newSource'>,
): PackageBuild {
  const old = packageDir(oldDir);
  const next = openPackage(newArg);
  if (next.name !== old.name) throw new InputError(`--old is the package '${old.name}' and --new '${next.name}'`);
  const real = realpathSync(old.dir!);
  const place = placeOf(real);
  const root = resolve(rootArg ?? place?.appRoot ?? '.');
  let copies: InstalledCopy[];
  if (place !== null || real.startsWith(root + sep)) {
    // installed (in a node_modules), or inside the application: the module ids of that place
    copies = [copyAt(root, real, old.name, old.version)];
  } else {
    // a copy elsewhere: compared under the ids of the application's installed copies of its version
    // (a fix made by hand on a copy of the installed package), else of a top-level install
    const installed = rootArg !== undefined ? findCopies(root, old.name).filter((c) => c.version === old.version) : [];
    copies =
      installed.length > 0
        ? installed.map((c) => ({ ...c, dir: real }))
        : [{ name: old.name, version: old.version, dir: real, path: `node_modules/${old.name}`, idPrefix: old.name }];
  }
  // a copy changed by hand keeps its version: `<name>@<version>-fix`
  const to = old.version === next.version ? 'fix' : `to-${next.version}`;
  const defaultName = `${old.name}@${old.version}-${to}`.replace(/[^A-Za-z0-9_.@+-]/g, '_');
  const result = compareCopies(
    copies,
    next,
    root,
    { ...opts, name: old.name, version: null, root, newSource: newArg },
    opts.patchName ?? defaultName,
  );
  return {
    result,
    name: old.name,
    next: { version: next.version, label: next.label },
    copies: copies.map((copy) => ({
      copy,
      status: 'patched' as const,
      why:
        old.version === next.version
          ? `${old.version}, changed by hand (the same version: the patch names no version)`
          : `${old.version} → ${next.version}`,
    })),
    defaultName,
  };
}

/** Whether a fix release applies to a copy: an older version on the same release line (or one the user chose). */
function classify(copy: InstalledCopy, to: string, root: string, only: readonly string[] | undefined): CopyReport {
  if (only !== undefined && only.length > 0) {
    const chosen = only.some((o) => chosenBy(o, copy, root));
    if (!chosen) return { copy, status: 'not-chosen', why: 'not chosen with --copy' };
    if (copy.version === to) return { copy, status: 'current', why: `already ${to}` };
    return { copy, status: 'patched', why: `${copy.version} → ${to} (chosen with --copy)` };
  }
  const c = compareVersions(copy.version, to);
  if (c === 0) return { copy, status: 'current', why: `already ${to}` };
  if (c > 0) return { copy, status: 'newer', why: `${copy.version} is newer than ${to}: left as it is` };
  if (releaseLine(copy.version) !== releaseLine(to)) {
    return {
      copy,
      status: 'other-line',
      why: `${copy.version} is on another release line than ${to} (an upgrade, not a fix): left as it is; --copy ${copy.path} to patch it anyway`,
    };
  }
  return { copy, status: 'patched', why: `${copy.version} → ${to}` };
}

/** `--copy <path>`: a copy's directory, relative to the root or absolute. */
function chosenBy(o: string, copy: InstalledCopy, root: string): boolean {
  const p = resolve(root, o);
  return p === copy.dir || posixRelative(root, p) === copy.path || o.replace(/\/+$/, '') === copy.path;
}

function compareCopies(
  chosen: readonly InstalledCopy[],
  next: PackageFiles,
  root: string,
  opts: PackageBuildOptions,
  name: string,
): BuildResult {
  const olds: SourceTree[] = [];
  const news: SourceTree[] = [];
  const leftOut: LeftOut[] = [];
  const notes: string[] = [];
  const versions = new Map<string, VersionStrings>();
  const newFiles = new Set(next.list());
  for (const copy of chosen) {
    const old = packageDir(copy.dir, copy.path);
    const loaded = opts.running?.loaded.get(copy.idPrefix) ?? [];
    const reachOld = reachedFiles(old, loaded);
    const reachNew = reachedFiles(
      next,
      loaded.filter((f) => newFiles.has(f)),
    );
    const include = new Set([...reachOld.files, ...reachNew.files]);
    // what changed but the process cannot load: reported, not compared
    let other = 0;
    const oldFiles = new Set(old.list());
    for (const p of new Set([...oldFiles, ...newFiles])) {
      if (include.has(p) || p === 'package.json' || p.endsWith('/package.json')) continue;
      if (old.read(p) === next.read(p)) continue;
      if (!isModulePath(p)) {
        other++;
        continue;
      }
      const where = !oldFiles.has(p)
        ? 'new in ' + next.version
        : !newFiles.has(p)
          ? 'removed in ' + next.version
          : 'changed';
      leftOut.push({
        path: `${copy.path}/${p}`,
        reason: `${where}; not reached from the package's ${old.json.exports !== undefined ? 'exports' : 'main'}${opts.running !== undefined ? ' and not loaded by the process' : ''}`,
      });
    }
    if (other > 0)
      notes.push(`${copy.path}: ${other} other changed file(s) are not code (docs, types, maps, manifests)`);
    if (opts.running === undefined && old.json.exports === undefined) {
      notes.push(
        `${copy.path}: the package has no "exports", so a dependent may require any of its files; without --pid, only what its main reaches was compared`,
      );
    }
    notes.push(...dependencyNotes(copy, old.json.dependencies, next.json.dependencies, next.version));
    olds.push(mountTree(old, copy.path, include, copy.path));
    news.push(mountTree(next, copy.path, include, next.label));
    versions.set(copy.path + '/', { old: copy.version, new: next.version });
  }
  const packages: PackageBump[] = chosen.map((c) => ({
    name: c.name,
    from: c.version,
    to: next.version,
    path: c.path,
    idPrefix: c.idPrefix,
  }));
  const label = (side: 'old' | 'new') =>
    chosen.map((c) => `${c.name}@${side === 'old' ? c.version : next.version} (${c.path})`).join(', ');
  return build({
    old: unionTree(olds, label('old')),
    new: unionTree(news, label('new')),
    root,
    name,
    replace: opts.replace ?? false,
    output: opts.output ?? null,
    versions: (path) => [...versions].find(([prefix]) => path.startsWith(prefix))?.[1] ?? null,
    leftOut,
    packages,
    notes,
  });
}

/** A dependency whose range the new version changed: the running copy still resolves the installed one. */
function dependencyNotes(
  copy: InstalledCopy,
  before: Record<string, string> | undefined,
  after: Record<string, string> | undefined,
  to: string,
): string[] {
  const out: string[] = [];
  for (const [dep, range] of Object.entries(after ?? {})) {
    const was = before?.[dep];
    if (was === range) continue;
    out.push(
      `${copy.path}: ${copy.name}@${to} ${was === undefined ? 'adds the dependency' : 'depends on'} ${dep}@${range}${was === undefined ? '' : ` (was ${was})`}: the running copy keeps what is installed; if the fix needs it, patch ${dep} too`,
    );
  }
  return out;
}

function copyAt(root: string, dir: string, name: string, version: string): InstalledCopy {
  const path = posixRelative(root, dir);
  return { name, version, dir, path, idPrefix: moduleIdOf(`${path}/x`).slice(0, -2) };
}

function readJson(file: string): { name?: unknown; version?: unknown } | null {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown; version?: unknown };
  } catch {
    return null;
  }
}
