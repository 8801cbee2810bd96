/**
 * The installed copies of a package in an application: every
 * `node_modules/<name>` under the application root, nested ones too
 * (`express/node_modules/qs`), scoped names, pnpm's `.pnpm` store and
 * linked packages (followed to their real directory, as Node does). Each
 * copy is named by where it is — its directory relative to the root — and
 * its module ids are the loader's for that place.
 */

import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { moduleIdOf } from './modules.ts';

export interface InstalledCopy {
  readonly name: string;
  readonly version: string;
  /** the real directory */
  readonly dir: string;
  /** that directory relative to the application root, POSIX (`node_modules/express/node_modules/qs`) */
  readonly path: string;
  /** what the loader's module ids of its files start with (`express/node_modules/qs`) */
  readonly idPrefix: string;
}

/** Every installed copy of `name` under `root/node_modules`. */
export function findCopies(root: string, name: string): InstalledCopy[] {
  const out: InstalledCopy[] = [];
  const seen = new Set<string>();
  const visitModules = (nm: string): void => {
    let entries: string[];
    try {
      entries = readdirSync(nm);
    } catch {
      return;
    }
    for (const e of entries) {
      if (e === '.bin' || e === '.cache' || e.endsWith('.json') || e.endsWith('.yaml')) continue;
      if (e === '.pnpm') {
        // pnpm's store: .pnpm/<name>@<version>/node_modules/<name>
        let stores: string[] = [];
        try {
          stores = readdirSync(join(nm, e));
        } catch {
          // none
        }
        for (const s of stores) visitModules(join(nm, e, s, 'node_modules'));
        continue;
      }
      if (e.startsWith('@')) {
        let scoped: string[] = [];
        try {
          scoped = readdirSync(join(nm, e));
        } catch {
          // not a directory
        }
        for (const s of scoped) visitPackage(join(nm, e, s));
        continue;
      }
      visitPackage(join(nm, e));
    }
  };
  const visitPackage = (dir: string): void => {
    let real: string;
    try {
      real = realpathSync(dir);
      if (!statSync(real).isDirectory()) return;
    } catch {
      return;
    }
    if (seen.has(real)) return;
    seen.add(real);
    // the name in package.json decides (an alias `qs-old@npm:qs@6.10.2` sits in node_modules/qs-old)
    const json = readPackageJson(real);
    if (json !== null && json.name === name && typeof json.version === 'string') {
      const path = posixRelative(root, real);
      const id = moduleIdOf(`${path}/x`);
      out.push({ name, version: json.version, dir: real, path, idPrefix: id.slice(0, -2) });
    }
    visitModules(join(real, 'node_modules'));
  };
  visitModules(join(root, 'node_modules'));
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

export function readPackageJson(dir: string): { name?: unknown; version?: unknown } | null {
  try {
    const v = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as unknown;
    return v !== null && typeof v === 'object' ? (v as { name?: unknown; version?: unknown }) : null;
  } catch {
    return null;
  }
}

export function posixRelative(from: string, to: string): string {
  return relative(from, to).split(sep).join('/');
}

/**
 * Where a directory inside a `node_modules` sits in its application: the
 * application's root (the directory above the first `node_modules` of its
 * real path, as the loader's module ids count from there) and the
 * directory's path from it (`node_modules/hono`). Null for a directory in
 * no node_modules.
 */
export function placeOf(dir: string): { readonly appRoot: string; readonly path: string } | null {
  let real: string;
  try {
    real = realpathSync(dir);
  } catch {
    return null;
  }
  const nm = real.indexOf(`${sep}node_modules${sep}`);
  if (nm === -1) return null;
  const appRoot = real.slice(0, nm) || sep;
  return { appRoot, path: posixRelative(appRoot, real) };
}
