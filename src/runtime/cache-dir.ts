/**
 * Where the transform cache lives: `LIVEPATCH_CACHE_DIR`, else
 * `node_modules/.cache/livepatch` under the app root (the convention of
 * babel, eslint and others), else a per-user directory in the temp dir.
 */

import { join } from 'node:path';

// Builtins through getBuiltinModule, not `import`: an ES import of node:fs or
// node:crypto evaluates every lazy export (fs.promises, webcrypto…), ms of each start.
const { existsSync } = process.getBuiltinModule('node:fs');
const { tmpdir, userInfo } = process.getBuiltinModule('node:os');

export function cacheDir(root: string, env: NodeJS.ProcessEnv = process.env): string {
  if (env.LIVEPATCH_CACHE_DIR) return env.LIVEPATCH_CACHE_DIR;
  if (existsSync(join(root, 'node_modules'))) return join(root, 'node_modules', '.cache', 'livepatch');
  let user = 'user';
  try {
    user = String(userInfo().uid);
  } catch {
    // no user database entry
  }
  return join(tmpdir(), `livepatch-cache-${user}`);
}
