/**
 * Where control sockets live: a directory only the user can enter, one
 * socket per process, named by its pid: `LIVEPATCH_SOCKET_DIR`, else
 * `$XDG_RUNTIME_DIR/livepatch`, else `livepatch/run` in the user's cache
 * directory (`$XDG_CACHE_HOME`, or `~/.cache`) — never a shared name in the
 * temp dir, which another user could create first. The process and the CLI
 * follow the same rule.
 *
 * The directory must be the user's own (the effective uid), not a symbolic
 * link, and closed to group and others (0700); one that is absent is
 * created 0700, an existing one is checked and never chmodded. Anything else
 * is refused, on both sides: nobody else may reach a process's control
 * socket, because loading a patch runs code in that process; and a socket
 * in a directory another user controls may be theirs, not the process's
 * (docs/security.md, "Directories").
 */

import { join } from 'node:path';
import { cacheHome, ensurePrivateDir, unsafeDir } from '../runtime/cache-dir.ts';
import { ControlError } from './errors.ts';

export function socketDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.LIVEPATCH_SOCKET_DIR) return env.LIVEPATCH_SOCKET_DIR;
  if (env.XDG_RUNTIME_DIR) return join(env.XDG_RUNTIME_DIR, 'livepatch');
  const home = cacheHome(env);
  if (home === undefined) {
    const message = 'livepatch: no socket directory: set LIVEPATCH_SOCKET_DIR, XDG_RUNTIME_DIR or HOME';
    throw new ControlError('LP_ERR_SOCKET_DIR_UNSAFE', message);
  }
  return join(home, 'livepatch', 'run');
}

export function socketPath(pid: number, env: NodeJS.ProcessEnv = process.env): string {
  return join(socketDir(env), `${pid}.sock`);
}

/** Create the directory (0700) or check that the existing one is ours and private (the process's side). */
export function ensureSocketDir(dir: string): void {
  refuse(ensurePrivateDir(dir, true));
}

/** Check that the directory is ours and private (the CLI's side, before every connect); an absent one throws ENOENT. */
export function checkSocketDir(dir: string): void {
  refuse(unsafeDir(dir, true));
}

function refuse(unsafe: string | undefined): void {
  if (unsafe !== undefined) {
    throw new ControlError('LP_ERR_SOCKET_DIR_UNSAFE', `livepatch: unsafe socket directory: ${unsafe}`);
  }
}
