/**
 * A git revision as a source tree, read without a checkout: `git ls-tree`
 * lists the files (with their blob ids, so two revisions' files compare
 * without being read) and `git cat-file --batch` reads the ones the build
 * needs, all in one process each. Nothing in the repository changes.
 */

import { spawnSync } from 'node:child_process';
import { isRelevant, type SourceTree } from './tree.ts';
import { InputError } from './errors.ts';

function git(cwd: string, args: readonly string[], input?: string): Buffer {
  const r = spawnSync('git', args, { cwd, input, maxBuffer: 1 << 30 });
  if (r.error) throw new InputError(`cannot run git: ${r.error.message}`);
  if (r.status !== 0) throw new InputError(`git ${args.join(' ')} failed: ${r.stderr.toString().trim()}`);
  return r.stdout;
}

/** Whether `rev` names a commit in the repository around `cwd` (its full id, or null). */
export function resolveRevision(cwd: string, rev: string): string | null {
  const r = spawnSync('git', ['rev-parse', '--verify', '--quiet', '--end-of-options', `${rev}^{commit}`], { cwd });
  if (r.error || r.status !== 0) return null;
  return r.stdout.toString().trim();
}

/**
 * The files of `rev` under the directory `cwd` stands for in the repository
 * (the application root may be a subdirectory), with paths relative to it.
 */
export function gitTree(cwd: string, rev: string): SourceTree {
  const commit = resolveRevision(cwd, rev);
  if (commit === null) {
    const inRepo = spawnSync('git', ['rev-parse', '--git-dir'], { cwd }).status === 0;
    throw new InputError(
      inRepo
        ? `'${rev}' is neither a directory nor a revision of the git repository at ${cwd}`
        : `'${rev}' is not a directory, and ${cwd} is not in a git repository`,
    );
  }
  const prefix = git(cwd, ['rev-parse', '--show-prefix']).toString().trim();
  const blobs = new Map<string, string>();
  const listing = git(cwd, [
    'ls-tree',
    '-r',
    '-z',
    '--full-tree',
    commit,
    '--',
    ...(prefix === '' ? [] : [prefix]),
  ]).toString('utf8');
  for (const entry of listing.split('\0')) {
    if (entry === '') continue;
    const tab = entry.indexOf('\t');
    const [mode, type, id] = entry.slice(0, tab).split(' ');
    const full = entry.slice(tab + 1);
    // files only: no symbolic links (mode 120000), no submodules
    if (type !== 'blob' || mode === '120000' || !full.startsWith(prefix)) continue;
    const path = full.slice(prefix.length);
    if (isRelevant(path)) blobs.set(path, id!);
  }
  const texts = new Map<string, string>();
  const paths = new Set(blobs.keys());
  const tree: SourceTree & { prefetch(paths: Iterable<string>): void; blob(path: string): string | undefined } = {
    label: `git:${rev}`,
    dir: null,
    paths: () => paths,
    blob: (path) => blobs.get(path),
    read(path) {
      if (!texts.has(path)) this.prefetch([path]);
      return texts.get(path);
    },
    sameAs(other, path) {
      const theirs = (other as Partial<typeof tree>).blob?.(path);
      const ours = blobs.get(path);
      return theirs === undefined || ours === undefined ? undefined : theirs === ours;
    },
    /** Read many files with one `git cat-file --batch`. */
    prefetch(wanted) {
      const ids: string[] = [];
      const order: string[] = [];
      for (const p of wanted) {
        const id = blobs.get(p);
        if (id !== undefined && !texts.has(p)) {
          ids.push(id);
          order.push(p);
        }
      }
      if (ids.length === 0) return;
      const out = git(cwd, ['cat-file', '--batch'], ids.join('\n') + '\n');
      let at = 0;
      for (const p of order) {
        const nl = out.indexOf(10, at);
        const size = Number(out.subarray(at, nl).toString().split(' ')[2]);
        let text = out.subarray(nl + 1, nl + 1 + size).toString('utf8');
        if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
        texts.set(p, text);
        at = nl + 1 + size + 1;
      }
    },
  };
  return tree;
}
