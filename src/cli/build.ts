/**
 * `livepatch build`: a patch module from two versions of the program.
 *
 *   livepatch build --old <dir|git-rev> --new <dir|git-rev> [-o out.mjs] [--root dir]
 *   livepatch build --diff fix.diff [-p N] [--root dir] [-o out.mjs]
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
import { build } from '../build/build.ts';
import { InputError } from '../build/errors.ts';
import { formatRefusal } from '../build/refusals.ts';
import { openDiff, openVersion } from '../build/sources.ts';
import type { SourceTree } from '../build/tree.ts';
import type { Manifest } from '../build/manifest.ts';
import { connectTo, EXIT, UsageError } from './common.ts';

export const BUILD_EXIT = { ok: 0, nothing: 1, refused: 65, input: 66 } as const;

export async function buildCommand(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        old: { type: 'string' }, new: { type: 'string' }, diff: { type: 'string' }, p: { type: 'string' },
        root: { type: 'string' }, o: { type: 'string', short: 'o' }, output: { type: 'string' }, name: { type: 'string' },
        replace: { type: 'boolean', default: false }, manifest: { type: 'string' }, pid: { type: 'string' }, json: { type: 'boolean', default: false },
      },
      allowPositionals: false,
      strict: true,
    }));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const out = (s: string) => process.stdout.write(s + '\n');
  const err = (s: string) => process.stderr.write(s + '\n');
  const useDiff = values.diff !== undefined;
  if (useDiff && (values.old !== undefined || values.new !== undefined)) throw new UsageError('build takes either --diff or --old and --new');
  if (!useDiff && (values.old === undefined || values.new === undefined)) throw new UsageError('build needs --old and --new (directories or git revisions), or --diff');
  const strip = values.p === undefined ? undefined : Number(values.p);
  if (strip !== undefined && (!Number.isInteger(strip) || strip < 0)) throw new UsageError(`-p takes a number of path components, not '${values.p}'`);

  try {
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
      root = values.root !== undefined ? repo : old.dir ?? repo;
    }
    const output = resolve(values.o ?? values.output ?? defaultOutput(values.diff, values.name));
    const manifestFile = resolve(values.manifest ?? output.replace(/\.[cm]?[jt]s$/, '') + '.manifest.json');
    const result = build({ old, new: next, root, name: values.name, replace: values.replace, output });

    if (result.refusals.length > 0) {
      writeJson(manifestFile, result.manifest);
      for (const r of result.refusals) err(formatRefusal(r));
      err(`livepatch build: refused: ${result.refusals.length} change(s) cannot be patched safely; no patch written (manifest: ${manifestFile})`);
      if (values.json) out(JSON.stringify(result.manifest, null, 2));
      return BUILD_EXIT.refused;
    }
    if (result.code === null) {
      err(`livepatch build: no function changed between ${old.label} and ${next.label}: nothing to patch`);
      if (values.json) out(JSON.stringify(result.manifest, null, 2));
      return BUILD_EXIT.nothing;
    }
    if (values.pid !== undefined) await checkRunning(values.pid, result.manifest);
    mkdirSync(dirname(output), { recursive: true });
    writeFileSync(output, result.code);
    writeJson(manifestFile, result.manifest);
    if (values.json) {
      out(JSON.stringify(result.manifest, null, 2));
    } else {
      const modules = new Set(result.manifest.functions.filter((f) => f.status === 'patched').map((f) => f.module));
      out(`built ${output}: ${result.patched} function(s) in ${modules.size} module(s); manifest ${manifestFile}`);
      for (const f of result.manifest.functions) out(`  ${f.status.padEnd(15)} ${f.file}:${f.newLine} ${f.name}${f.sympos > 1 ? ` (sympos ${f.sympos})` : ''}`);
      for (const n of result.manifest.notes) out(`  note: ${n}`);
    }
    return EXIT.ok;
  } catch (e) {
    if (e instanceof InputError) {
      err(`livepatch build: ${e.message}`);
      return BUILD_EXIT.input;
    }
    throw e;
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
  const { client } = await connectTo(pid);
  try {
    const byModule = new Map<string, Manifest['functions']>();
    for (const f of manifest.functions) if (f.status === 'patched') byModule.set(f.module, [...(byModule.get(f.module) ?? []), f]);
    for (const [module, funcs] of byModule) {
      let syms: { name: string; sympos: number; hash: string }[];
      try {
        syms = (await client.request('symbols', { module })) as typeof syms;
      } catch {
        continue; // not loaded yet: the runtime checks the hashes when it loads
      }
      for (const f of funcs) {
        const s = syms.find((x) => x.name === f.name && x.sympos === f.sympos);
        if (s === undefined) throw new InputError(`the old version is not what process ${pid} runs: ${module} has no function '${f.name}' (sympos ${f.sympos})`);
        if (s.hash !== f.oldHash) throw new InputError(`the old version is not what process ${pid} runs: '${f.name}' in ${module} has hash ${s.hash} there and ${f.oldHash} in the old version`);
      }
    }
  } finally {
    client.close();
  }
}
