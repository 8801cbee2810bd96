/**
 * Where the transform cache lives: `LIVEPATCH_CACHE_DIR`, else
 * `node_modules/.cache/livepatch` under the app root (the convention of
 * babel, eslint and others), else a per-user directory in the temp dir.
 */

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir, userInfo } from 'node:os';

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
