/**
 * The versions `livepatch build` compares, from what the user gives: a
 * directory, a git revision (read in place: nothing is checked out), or the
 * running tree with a unified diff applied.
 */

import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { InputError } from './errors.ts';
import { gitTree } from './git.ts';
import { dirTree, type SourceTree } from './tree.ts';
import { applyDiff, parseDiff } from './unified-diff.ts';

/** A directory, or else a revision of the git repository around `repoDir`. */
export function openVersion(arg: string, repoDir: string): SourceTree {
  if (existsSync(arg)) {
    if (!statSync(arg).isDirectory())
      throw new InputError(`'${arg}' is a file; --old and --new take a directory or a git revision`);
    return dirTree(resolve(arg), arg);
  }
  if (!existsSync(repoDir)) throw new InputError(`the root directory ${repoDir} does not exist`);
  return gitTree(repoDir, arg);
}

/** The tree at `root` with `diffFile` applied. */
export function openDiff(diffFile: string, root: string, strip?: number): { old: SourceTree; new: SourceTree } {
  if (!existsSync(root) || !statSync(root).isDirectory())
    throw new InputError(`the root directory ${root} does not exist`);
  let text: string;
  try {
    text = readFileSync(diffFile, 'utf8');
  } catch (e) {
    throw new InputError(`cannot read the diff ${diffFile}: ${(e as Error).message}`);
  }
  const old = dirTree(resolve(root), root);
  return { old, new: applyDiff(old, parseDiff(text, basename(diffFile), strip), basename(diffFile)) };
}
