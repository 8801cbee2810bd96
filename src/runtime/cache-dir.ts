/**
 * Where livepatch keeps what it writes to disk, and the rule every such
 * directory must pass before it is used (docs/security.md, "Directories"):
 * a cache entry is code the process runs, so a directory another user can
 * write is never read from.
 *
 * The transform cache: `LIVEPATCH_CACHE_DIR`, else `node_modules/.cache/livepatch`
 * under the app root (the convention of babel, eslint and others), else
 * `livepatch/transform` in the user's cache directory (`$XDG_CACHE_HOME`, or
 * `~/.cache`). Node's compile cache (register.ts): `NODE_COMPILE_CACHE`, else
 * `livepatch/node-compile-cache` there.
 *
 * A directory is used only if it is a directory (lstat: not a symbolic
 * link), owned by the process's effective user, and neither group- nor
 * world-writable; one that does not exist is created 0700. Otherwise the
 * process warns once, naming the directory, its owner and mode, and runs
 * without that cache. livepatch never changes the mode of a directory.
 */

import { isAbsolute, join } from 'node:path';
import { isMainThread } from './thread.ts';

// Builtins through getBuiltinModule, not `import`: an ES import of node:fs or
// node:crypto evaluates every lazy export (fs.promises, webcrypto…), ms of each start.
// Fetched when first needed: register.ts imports this module before it checks
// the Node version, and an older Node has no getBuiltinModule.
const fs = () => process.getBuiltinModule('node:fs');

/** The code of the warning a process emits for a directory it refuses. */
export const UNSAFE_DIR_WARNING = 'LIVEPATCH_UNSAFE_DIR';

export function cacheDir(root: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  let dir: string | undefined;
  if (env.LIVEPATCH_CACHE_DIR) dir = env.LIVEPATCH_CACHE_DIR;
  else if (fs().existsSync(join(root, 'node_modules'))) dir = join(root, 'node_modules', '.cache', 'livepatch');
  else {
    const home = cacheHome(env);
    dir = home === undefined ? undefined : join(home, 'livepatch', 'transform');
  }
  return dir !== undefined && usableDir(dir, 'transform cache', 'runs without the transform cache') ? dir : undefined;
}

/** The directory for Node's compile cache, checked (created if it is absent); undefined: run without it. */
export function compileCacheDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  let dir: string | undefined = env.NODE_COMPILE_CACHE || undefined;
  if (dir === undefined) {
    const home = cacheHome(env);
    dir = home === undefined ? undefined : join(home, 'livepatch', 'node-compile-cache');
  }
  return dir !== undefined && usableDir(dir, 'compile cache', "runs without Node's compile cache") ? dir : undefined;
}

/** `$XDG_CACHE_HOME` (absolute, as the XDG spec requires), else `~/.cache`; undefined without a home directory. */
export function cacheHome(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.XDG_CACHE_HOME && isAbsolute(env.XDG_CACHE_HOME)) return env.XDG_CACHE_HOME;
  let home: string;
  try {
    home = process.getBuiltinModule('node:os').homedir();
  } catch {
    return undefined;
  }
  return home !== '' && isAbsolute(home) ? join(home, '.cache') : undefined;
}

/** The effective uid (undefined where there are none: Windows). */
export function euid(): number | undefined {
  return process.geteuid?.();
}

/**
 * Why `dir` must not be used, or undefined if it may: it is a directory (not
 * a symbolic link to one), owned by the effective user, and others may not
 * write it (`private`: may not enter it either). I/O errors (ENOENT…) are thrown.
 */
export function unsafeDir(dir: string, closed = false): string | undefined {
  const st = fs().lstatSync(dir);
  const me = euid();
  const mode = (st.mode & 0o7777).toString(8).padStart(4, '0');
  const what = `owner uid ${st.uid}, mode ${mode}`;
  if (st.isSymbolicLink()) return `${dir} is a symbolic link (${what})`;
  if (!st.isDirectory()) return `${dir} is not a directory (${what})`;
  if (me !== undefined && st.uid !== me)
    return `${dir} belongs to uid ${st.uid}, not to this user (uid ${me}; mode ${mode})`;
  if ((st.mode & (closed ? 0o077 : 0o022)) !== 0) {
    return `${dir} is ${closed ? 'open' : 'writable'} to other users (${what})`;
  }
  return undefined;
}

/**
 * Make sure `dir` passes unsafeDir: an absent directory is created 0700
 * (with its absent parents); an existing one is checked, never changed.
 * Returns why it must not be used, or undefined; I/O errors are thrown.
 */
export function ensurePrivateDir(dir: string, closed = false): string | undefined {
  try {
    return unsafeDir(dir, closed);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  fs().mkdirSync(dir, { recursive: true, mode: 0o700 });
  return unsafeDir(dir, closed);
}

const warned = new Set<string>();

/** Warn once per directory (in the main thread: a worker's loader sees the same directories). */
export function warnUnsafeDir(message: string): void {
  if (!isMainThread || warned.has(message)) return;
  warned.add(message);
  process.emitWarning(message, { code: UNSAFE_DIR_WARNING });
}

/** Whether a cache directory may be used; a refused one is warned about, one that cannot be made is silently not used. */
function usableDir(dir: string, what: string, consequence: string): boolean {
  let unsafe: string | undefined;
  try {
    unsafe = ensurePrivateDir(dir);
  } catch {
    return false; // cannot be created or read (read-only, no home): the cache is best effort
  }
  if (unsafe === undefined) return true;
  warnUnsafeDir(`livepatch: the ${what} directory ${unsafe}: livepatch ${consequence}`);
  return false;
}
