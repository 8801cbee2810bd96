/**
 * `livepatch build`: a patch module from two versions of the program.
 *
 *   livepatch build --old <dir|git-rev> --new <dir|git-rev> [-o out.mjs] [--root dir]
 *   livepatch build --diff fix.diff [-p N] [--root dir] [-o out.mjs]
 *   livepatch build --package <name>@<version> [--root app] [--new <dir|tarball>] [--copy <path>]... [-o out.mjs]
 *   livepatch build --old <package dir> --new <package dir|tarball>   (two versions of a package)
 *
 * A version bump (`--package`): the installed copies of the package in the
 * application (--root, default the current directory) that the release
 * applies to are compared with the new version — from the registry as
 * `npm pack` fetches it, or from --new — and one patch carries them all
 * (default name `<name>@<old>-to-<new>`). `--old`/`--new` on two package
 * directories (package.json with the same name and different versions, or
 * an old one inside node_modules, or a tarball as --new) is the same for one
 * copy; `--app` compares them as application trees instead.
 *
 * --hold <module>:<function>[,…] (repeatable) puts unchanged functions in the
 * patch too (seed 001's "extending the patched set"): a caller that awaits
 * between two changed calls, held, keeps a task inside it on the old code
 * until it returns, under consistency 'task'; the build suggests it where it
 * sees such a caller in a changed module.
 *
 * Options: --name (the patch's name; default: the output file's), --replace
 * (atomic replace), --manifest <file> (default: next to the output),
 * --pid N (check the old version against the running process's symbol
 * tables before writing), --json (print the manifest).
 *
 * Exit codes: 0 built; 1 nothing changed; 64 usage; 65 refused (nothing is
 * written but the manifest); 66 bad input (no such directory or revision, a
 * diff that does not apply, an old version that is not the running one).
 */

import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { build, type BuildResult } from '../generator/generate.ts';
import { InputError } from '../generator/errors.ts';
import { buildPackage, buildPackagePair, type PackageBuild, type RunningPackages } from '../generator/package-build.ts';
import { formatRefusal } from '../generator/refusals.ts';
import { openDiff, openVersion } from '../generator/sources.ts';
import type { Manifest } from '../generator/manifest.ts';
import { findCopies, placeOf } from '../generator/installed.ts';
import { placeTree, type SourceTree } from '../generator/tree.ts';
import { moduleFileExists } from '../runtime/module-id.ts';
import { connectTo } from './common.ts';
import { EXIT, UsageError } from './errors.ts';

/** What a build that ends without an error exits with; bad input is an InputError (cli/errors.ts: 66). */
export const BUILD_EXIT = { ok: EXIT.ok, nothing: EXIT.failure, refused: EXIT.refused } as const;

export async function buildCommand(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        old: { type: 'string' },
        new: { type: 'string' },
        diff: { type: 'string' },
        p: { type: 'string' },
        root: { type: 'string' },
        o: { type: 'string', short: 'o' },
        output: { type: 'string' },
        name: { type: 'string' },
        replace: { type: 'boolean', default: false },
        manifest: { type: 'string' },
        pid: { type: 'string' },
        json: { type: 'boolean', default: false },
        package: { type: 'string' },
        copy: { type: 'string', multiple: true },
        app: { type: 'boolean', default: false },
        hold: { type: 'string', multiple: true },
      },
      allowPositionals: false,
      strict: true,
    }));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const useDiff = values.diff !== undefined;
  if (values.package !== undefined) return packageCommand(values as PackageArgs);
  if (useDiff && (values.old !== undefined || values.new !== undefined))
    throw new UsageError('build takes either --diff or --old and --new');
  if (!useDiff && (values.old === undefined || values.new === undefined))
    throw new UsageError(
      'build needs --old and --new (directories or git revisions), --diff, or --package <name>@<version>',
    );
  if (!useDiff && !values.app && isPackagePair(values.old!, values.new!, values.root))
    return packageCommand(values as PackageArgs);
  const strip = values.p === undefined ? undefined : Number(values.p);
  if (strip !== undefined && (!Number.isInteger(strip) || strip < 0))
    throw new UsageError(`-p takes a number of path components, not '${values.p}'`);

  let old: SourceTree;
  let next: SourceTree;
  let root: string;
  if (useDiff) {
    root = resolve(values.root ?? '.');
    ({ old, new: next } = openDiff(values.diff!, root, strip));
  } else {
    // the running tree: --root, else the old version when it is a directory
    const repo = resolve(values.root ?? '.');
    old = openVersion(values.old!, repo);
    next = openVersion(values.new!, repo);
    root = values.root !== undefined ? repo : (old.dir ?? repo);
  }
  const notes: string[] = [];
  // A root inside a node_modules is a package of an application, not the application: the loader names its
  // files from the application's root (`hono/dist/index.js`), so the trees are placed where the package is.
  const place = placeOf(root);
  if (place !== null) {
    old = placeTree(old, place.path);
    next = placeTree(next, place.path);
    root = place.appRoot;
    notes.push(`${place.path} is a package of the application at ${root}: its module ids are the loader's there`);
  } else if (!useDiff && !values.app) notes.push(...lookalikePackage(values.old!, values.new!));
  const output = resolve(values.o ?? values.output ?? defaultOutput(values.diff, values.name));
  const manifestFile = resolve(values.manifest ?? output.replace(/\.[cm]?[jt]s$/, '') + '.manifest.json');
  const hold = (values.hold ?? [])
    .flatMap((h) => h.split(','))
    .map((h) => h.trim())
    .filter((h) => h !== '');
  const result = build({ old, new: next, root, name: values.name, replace: values.replace, output, notes, hold });
  return finish(result, {
    output,
    manifestFile,
    json: values.json,
    pid: values.pid,
    what: `${old.label} and ${next.label}`,
  });
}

interface PackageArgs {
  package?: string;
  old?: string;
  new?: string;
  root?: string;
  o?: string;
  output?: string;
  name?: string;
  replace: boolean;
  manifest?: string;
  pid?: string;
  json: boolean;
  copy?: string[];
}

/** `--package <name>[@<version>]`, or `--old`/`--new` on two versions of a package. */
async function packageCommand(values: PackageArgs): Promise<number> {
  const out = (s: string) => process.stdout.write(s + '\n');
  const err = (s: string) => process.stderr.write(s + '\n');
  let pb: PackageBuild;
  if (values.package !== undefined) {
    if (values.old !== undefined)
      throw new UsageError(
        '--package takes the installed copies from the application: give --new for the new version, not --old',
      );
    const at = values.package.lastIndexOf('@');
    const name = at > 0 ? values.package.slice(0, at) : values.package;
    const version = at > 0 ? values.package.slice(at + 1) : null;
    if (name === '' || version === '')
      throw new UsageError(`--package needs <name>@<version>, not '${values.package}'`);
    if (version === null && values.new === undefined)
      throw new UsageError(`--package ${name} needs the fixed version (${name}@<version>) or --new <dir|tarball>`);
    const running = values.pid !== undefined ? await runningPackages(values.pid, name) : undefined;
    pb = buildPackage({
      name,
      version,
      root: values.root ?? '.',
      newSource: values.new ?? null,
      only: values.copy,
      running,
      patchName: values.name,
      replace: values.replace,
      output: null,
    });
  } else {
    pb = buildPackagePair(values.old!, values.new!, values.root, {
      patchName: values.name,
      replace: values.replace,
      only: values.copy,
    });
  }
  const patchName = values.name ?? pb.defaultName;
  const output = resolve(values.o ?? values.output ?? `${patchName}.mjs`);
  const manifestFile = resolve(values.manifest ?? output.replace(/\.[cm]?[jt]s$/, '') + '.manifest.json');
  if (!values.json) {
    out(`${pb.name}: ${pb.next.version} from ${pb.next.label}`);
    for (const c of pb.copies)
      out(`  ${c.copy.path}: ${c.status === 'patched' ? c.why : `${c.copy.version} (${c.why})`}`);
  }
  if (pb.result === null) {
    err(`livepatch build: no installed copy of ${pb.name} needs ${pb.next.version}: nothing to patch`);
    if (values.json)
      out(
        JSON.stringify(
          {
            copies: pb.copies.map((c) => ({
              path: c.copy.path,
              version: c.copy.version,
              status: c.status,
              why: c.why,
            })),
          },
          null,
          2,
        ),
      );
    return BUILD_EXIT.nothing;
  }
  return finish(pb.result, {
    output,
    manifestFile,
    json: values.json,
    pid: values.pid,
    what: `${pb.name} ${pb.copies
      .filter((c) => c.status === 'patched')
      .map((c) => c.copy.version)
      .join(', ')} and ${pb.next.version}`,
  });
}

/** Write the patch and the manifest (or only the manifest when refused) and report. */
async function finish(
  result: BuildResult,
  o: { output: string; manifestFile: string; json: boolean; pid: string | undefined; what: string },
): Promise<number> {
  const out = (s: string) => process.stdout.write(s + '\n');
  const err = (s: string) => process.stderr.write(s + '\n');
  if (result.refusals.length > 0) {
    writeJson(o.manifestFile, result.manifest);
    for (const r of result.refusals) err(formatRefusal(r));
    err(
      `livepatch build: refused: ${result.refusals.length} change(s) cannot be patched safely; no patch written (manifest: ${o.manifestFile})`,
    );
    if (o.json) out(JSON.stringify(result.manifest, null, 2));
    return BUILD_EXIT.refused;
  }
  if (result.code === null) {
    err(`livepatch build: no function changed between ${o.what}: nothing to patch`);
    if (o.json) out(JSON.stringify(result.manifest, null, 2));
    return BUILD_EXIT.nothing;
  }
  if (o.pid !== undefined) await checkRunning(o.pid, result.manifest);
  mkdirSync(dirname(o.output), { recursive: true });
  writeFileSync(o.output, result.code);
  writeJson(o.manifestFile, result.manifest);
  if (o.json) {
    out(JSON.stringify(result.manifest, null, 2));
    return EXIT.ok;
  }
  const m = result.manifest;
  const modules = new Set([
    ...m.functions.filter((f) => f.status === 'patched').map((f) => f.module),
    ...m.exports.map((e) => e.module),
  ]);
  out(
    `built ${o.output}: ${result.patched} function(s)${result.exported > 0 ? `, ${result.exported} new export(s)` : ''} in ${modules.size} module(s); manifest ${o.manifestFile}`,
  );
  for (const f of m.functions)
    out(`  ${f.status.padEnd(15)} ${f.file}:${f.newLine} ${f.name}${f.sympos > 1 ? ` (sympos ${f.sympos})` : ''}`);
  for (const c of m.constants)
    out(
      `  ${'constant'.padEnd(15)} ${c.file}:${c.line} ${c.name} (defined anew; read by ${c.readers.join(', ') || 'no function'})`,
    );
  for (const e of m.exports) out(`  ${'new export'.padEnd(15)} ${e.file}:${e.line} ${e.target}.${e.name}`);
  for (const l of m.leftOut) out(`  ${'left out'.padEnd(15)} ${l.path} (${l.reason})`);
  for (const n of m.notes) out(`  note: ${n}`);
  return EXIT.ok;
}

/**
 * Two directories are two versions of a package, not of an application,
 * when the old one is installed (inside node_modules), when the new one is
 * a tarball, or when both package.json files name the same package, neither
 * is private (an application usually is), and either their versions differ
 * or the application at `--root` has that version of the package installed
 * (a fix made by hand on a copy of the installed package keeps its version).
 */
function isPackagePair(oldArg: string, newArg: string, rootArg: string | undefined): boolean {
  if (!existsSync(oldArg) || !existsSync(newArg) || !statSync(oldArg).isDirectory()) return false;
  if (!statSync(newArg).isDirectory()) return true;
  if (placeOf(oldArg) !== null || resolve(oldArg).split(/[\\/]/).includes('node_modules')) return true;
  const same = samePackage(oldArg, newArg);
  if (same === null) return false;
  if (same.old !== same.new) return true;
  if (rootArg === undefined || resolve(rootArg) === resolve(oldArg)) return false;
  return findCopies(resolve(rootArg), same.name).some((c) => c.version === same.old);
}

/** The package both directories are versions of (the same name, neither private), or null. */
function samePackage(oldArg: string, newArg: string): { name: string; old: string; new: string } | null {
  const pj = (dir: string): { name?: unknown; version?: unknown; private?: unknown } | null => {
    try {
      return JSON.parse(readFileSync(resolve(dir, 'package.json'), 'utf8')) as {
        name?: unknown;
        version?: unknown;
        private?: unknown;
      };
    } catch {
      return null;
    }
  };
  const a = pj(oldArg);
  const b = pj(newArg);
  if (a === null || b === null || typeof a.name !== 'string' || a.name !== b.name) return null;
  if (typeof a.version !== 'string' || typeof b.version !== 'string' || a.private === true || b.private === true)
    return null;
  return { name: a.name, old: a.version, new: b.version };
}

/**
 * Two directories compared as application trees that look like one version
 * of a package (the same name and version, not private): their module ids
 * are paths from the old one, which the loader gives only to an application.
 */
function lookalikePackage(oldArg: string, newArg: string): string[] {
  if (!existsSync(oldArg) || !existsSync(newArg) || !statSync(newArg).isDirectory()) return [];
  const same = samePackage(oldArg, newArg);
  if (same === null) return [];
  return [
    `${oldArg} and ${newArg} are both ${same.name}@${same.old}, compared as application trees: module ids are paths from ${oldArg}. ` +
      `If they are the package as an application installs it, build with --root <application> (module ids ${same.name}/...)`,
  ];
}

/** What the process at `pid` loaded of the package `name`: its copies, and their files. */
async function runningPackages(pid: string, name: string): Promise<RunningPackages> {
  const { client } = await connectTo(pid);
  try {
    const all = (await client.request('packages')) as {
      name: string;
      dir: string;
      modules: { id: string; file: string }[];
    }[];
    const dirs = new Set<string>();
    const loaded = new Map<string, string[]>();
    for (const p of all) {
      if (p.name !== name) continue;
      dirs.add(p.dir);
      for (const m of p.modules) {
        const prefix = m.id.endsWith('/' + m.file) ? m.id.slice(0, -m.file.length - 1) : null;
        if (prefix !== null) loaded.set(prefix, [...(loaded.get(prefix) ?? []), m.file]);
      }
    }
    return { dirs, loaded };
  } finally {
    client.close();
  }
}

function defaultOutput(diff: string | undefined, name: string | undefined): string {
  if (name !== undefined) return `${name}.mjs`;
  if (diff !== undefined) return basename(diff).replace(/\.(?:diff|patch)$/, '') + '.mjs';
  return 'livepatch-fix.mjs';
}

function writeJson(file: string, value: unknown): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(value, null, 2) + '\n');
}

/**
 * The exact-code check, before anything is written: each function the patch
 * replaces must have the hash the running process has for it. (The runtime
 * checks again when the patch is loaded; this catches a wrong --old early.)
 */
async function checkRunning(pid: string, manifest: Manifest): Promise<void> {
  const { client, hello } = await connectTo(pid);
  try {
    const byModule = new Map<string, Manifest['functions']>();
    for (const f of manifest.functions)
      if (f.status === 'patched') byModule.set(f.module, [...(byModule.get(f.module) ?? []), f]);
    let known = 0;
    for (const [module, funcs] of byModule) {
      let syms: { name: string; sympos: number; hash: string }[];
      try {
        syms = (await client.request('symbols', { module })) as typeof syms;
      } catch {
        // not loaded yet: the runtime checks the hashes when it loads
        if (moduleFileExists(hello.root, module)) known++;
        continue;
      }
      known++;
      for (const f of funcs) {
        const s = syms.find((x) => x.name === f.name && x.sympos === f.sympos);
        if (s === undefined)
          throw new InputError(
            `the old version is not what process ${pid} runs: ${module} has no function '${f.name}' (sympos ${f.sympos})`,
          );
        if (s.hash !== f.oldHash)
          throw new InputError(
            `the old version is not what process ${pid} runs: '${f.name}' in ${module} has hash ${s.hash} there and ${f.oldHash} in the old version`,
          );
      }
    }
    // a patch of module ids the process has nothing of would be refused by `livepatch load` (ENOENT)
    if (byModule.size > 0 && known === 0)
      throw new InputError(
        `process ${pid} has no module the patch names (${[...byModule.keys()].join(', ')}): none is loaded, and no such module file is under ${hello.root} or in a node_modules above it; module ids are paths from the application root (--root), and in a node_modules <package>/<path in the package>`,
      );
  } finally {
    client.close();
  }
}
