/**
 * Module ids: how patches name the code they target (the kernel's module
 * names). POSIX paths, stable across machines and load orders:
 * - inside node_modules: the path after the first `node_modules/` below the
 *   app root — `express/lib/router/index.js`, a nested copy
 *   `express/node_modules/qs/lib/parse.js`;
 * - elsewhere: the path relative to the app root — `src/db.ts`.
 */

import { dirname, isAbsolute, join, relative, sep, resolve } from 'node:path';

// Builtins through getBuiltinModule, not `import`: an ES import of node:fs or
// node:crypto evaluates every lazy export (fs.promises, webcrypto…), ms of each start.
const { existsSync, statSync } = process.getBuiltinModule('node:fs');

export function moduleId(file: string, root: string): string {
  const rel = relative(root, file).split(sep).join('/');
  const nm = rel.indexOf('node_modules/');
  if (nm !== -1 && (nm === 0 || rel[nm - 1] === '/')) return rel.slice(nm + 'node_modules/'.length);
  return rel;
}

/**
 * The app root: `LIVEPATCH_ROOT`, else the directory of the nearest
 * package.json above the entry script, else the working directory.
 */
export function appRoot(entry: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (env.LIVEPATCH_ROOT) return resolve(env.LIVEPATCH_ROOT);
  if (entry) {
    let dir = dirname(resolve(entry));
    for (;;) {
      if (existsSync(dir + sep + 'package.json')) return dir;
      const up = dirname(dir);
      if (up === dir) break;
      dir = up;
    }
    return dirname(resolve(entry));
  }
  return process.cwd();
}

/**
 * Whether the process could load a module of this id: the file the id
 * names from the application root, or inside a node_modules there or above
 * (where Node's resolution from the root looks).
 */
export function moduleFileExists(root: string, id: string): boolean {
  const isFile = (f: string): boolean => {
    try {
      return statSync(f).isFile();
    } catch {
      return false;
    }
  };
  if (isFile(resolve(root, id))) return true;
  if (isAbsolute(id) || id.startsWith('../')) return false;
  for (let dir = resolve(root); ; dir = dirname(dir)) {
    if (isFile(join(dir, 'node_modules', id))) return true;
    if (dirname(dir) === dir) return false;
  }
}
