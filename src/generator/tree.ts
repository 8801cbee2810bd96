/**
 * A version of the program's source: a set of files by path (POSIX, relative
 * to the application root) and their text. Versions come from a directory,
 * a git revision (`git.ts`) or another version with a diff applied
 * (`unified-diff.ts`); the build compares two of them and never writes to
 * either.
 */

import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { cachedReader, walkFiles } from './text-files.ts';

export interface SourceTree {
  /** what the user gave: a directory, `git:<rev>`, `<dir> + fix.diff` */
  readonly label: string;
  /** a directory where the files really are, if any (for source maps and new imports) */
  readonly dir: string | null;
  /** every file's path */
  paths(): ReadonlySet<string>;
  /** a file's text, or undefined if the tree has no such file */
  read(path: string): string | undefined;
  /**
   * Whether `path` is known to have the same text here and in `other`
   * without reading it (git blob ids; an overlay over `other`), or
   * undefined when only reading tells.
   */
  sameAs?(other: SourceTree, path: string): boolean | undefined;
  /** where the file really is, as a URL (for source maps), when `dir` does not say it */
  url?(path: string): string;
}

/** Directories never part of a version of the program. */
const SKIP_DIRS = new Set(['.git', '.hg', '.svn', '.cache']);

/** Files the build can compare: the module formats the loader instruments, and package.json for "type". */
export function isRelevant(path: string): boolean {
  return (
    (/\.(?:[cm]?js|[cm]?ts)$/.test(path) && !/\.d\.[cm]?ts$/.test(path)) ||
    path === 'package.json' ||
    path.endsWith('/package.json')
  );
}

export function dirTree(dir: string, label = dir): SourceTree {
  let paths: Set<string> | undefined;
  return {
    label,
    dir,
    paths() {
      if (paths === undefined) {
        paths = new Set();
        const out = paths;
        walkFiles(dir, SKIP_DIRS, true, (p) => {
          if (isRelevant(p)) out.add(p);
        });
      }
      return paths;
    },
    read: cachedReader(dir),
  };
}

/** `base` with some files replaced, added (a string) or deleted (null). */
export function overlayTree(base: SourceTree, changes: ReadonlyMap<string, string | null>, label: string): SourceTree {
  let paths: Set<string> | undefined;
  return {
    label,
    dir: null,
    paths() {
      if (paths === undefined) {
        paths = new Set(base.paths());
        for (const [p, text] of changes) {
          if (text === null) paths.delete(p);
          else if (isRelevant(p)) paths.add(p);
        }
      }
      return paths;
    },
    read(path) {
      const c = changes.get(path);
      if (c === null) return undefined;
      return c ?? base.read(path);
    },
    sameAs(other, path) {
      // a file the diff did not touch is the base's own
      return other === base && !changes.has(path) ? true : undefined;
    },
  };
}

/**
 * One package's files placed where a copy of it is installed (`prefix`,
 * e.g. `node_modules/express/node_modules/qs`): the paths, and so the
 * module ids, are the running copy's. Only the files in `include` are part
 * of it (what the process can load), with every package.json (for "type").
 */
export function mountTree(
  pkg: { list(): readonly string[]; read(path: string): string | undefined; url(path: string): string },
  prefix: string,
  include: ReadonlySet<string>,
  label: string,
): SourceTree {
  const base = prefix === '' ? '' : prefix + '/';
  let paths: Set<string> | undefined;
  const inside = (path: string): string | undefined => (path.startsWith(base) ? path.slice(base.length) : undefined);
  return {
    label,
    dir: null,
    paths() {
      if (paths === undefined) {
        paths = new Set();
        for (const p of pkg.list()) {
          const keep = p === 'package.json' || p.endsWith('/package.json') || include.has(p);
          if (keep && isRelevant(p)) paths.add(base + p);
        }
      }
      return paths;
    },
    read(path) {
      const rel = inside(path);
      return rel === undefined || !this.paths().has(path) ? undefined : pkg.read(rel);
    },
    url(path) {
      return pkg.url(inside(path) ?? path);
    },
  };
}

/** Several trees whose paths do not overlap (copies of a package in different places), as one. */
export function unionTree(trees: readonly SourceTree[], label: string): SourceTree {
  let paths: Set<string> | undefined;
  const owner = (path: string) => trees.find((t) => t.paths().has(path));
  return {
    label,
    dir: null,
    paths() {
      if (paths === undefined) {
        paths = new Set();
        for (const t of trees) for (const p of t.paths()) paths.add(p);
      }
      return paths;
    },
    read: (path) => owner(path)?.read(path),
    url(path) {
      const t = owner(path);
      return t?.url?.(path) ?? path;
    },
  };
}

const placedInner = new WeakMap<SourceTree, SourceTree>();

/**
 * A tree whose paths are relative to a package directory, placed where that
 * directory sits in its application (`prefix`, e.g. `node_modules/hono`):
 * its paths, and so its module ids, are the ones the loader gives the
 * running files. Reads, comparisons and bulk reads go to the tree itself.
 */
export function placeTree(tree: SourceTree, prefix: string): SourceTree {
  const base = prefix + '/';
  const inside = (path: string): string | undefined => (path.startsWith(base) ? path.slice(base.length) : undefined);
  let paths: Set<string> | undefined;
  const placed: SourceTree & { prefetch(paths: readonly string[]): void } = {
    label: tree.label,
    dir: null,
    paths() {
      if (paths === undefined) {
        paths = new Set();
        for (const p of tree.paths()) paths.add(base + p);
      }
      return paths;
    },
    read(path) {
      const rel = inside(path);
      return rel === undefined ? undefined : tree.read(rel);
    },
    sameAs(other, path) {
      const rel = inside(path);
      const theirs = placedInner.get(other);
      if (rel === undefined || theirs === undefined) return undefined;
      return tree.sameAs?.(theirs, rel);
    },
    url(path) {
      const rel = inside(path) ?? path;
      if (tree.url !== undefined) return tree.url(rel);
      return tree.dir !== null ? pathToFileURL(join(tree.dir, rel)).href : rel;
    },
    prefetch(wanted) {
      const rels = wanted.map(inside).filter((p): p is string => p !== undefined);
      (tree as { prefetch?: (p: readonly string[]) => void }).prefetch?.(rels);
    },
  };
  placedInner.set(placed, tree);
  return placed;
}
