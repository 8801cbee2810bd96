/**
 * Where control sockets live: a directory only the user can enter (0700),
 * `$XDG_RUNTIME_DIR/livepatch` or `<tmpdir>/livepatch-<uid>`, one socket per
 * process, named by its pid. A directory that exists with another owner or
 * looser permissions is refused: nobody else may reach a process's control
 * socket, because loading a patch runs code in that process.
 */

import { join } from 'node:path';
import { ControlError } from './errors.ts';

// Builtins through getBuiltinModule, not `import`: an ES import of node:fs or
// node:crypto evaluates every lazy export (fs.promises, webcrypto…), ms of each start.
const { chmodSync, lstatSync, mkdirSync } = process.getBuiltinModule('node:fs');
const { tmpdir, userInfo } = process.getBuiltinModule('node:os');

export function socketDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.LIVEPATCH_SOCKET_DIR) return env.LIVEPATCH_SOCKET_DIR;
  if (env.XDG_RUNTIME_DIR) return join(env.XDG_RUNTIME_DIR, 'livepatch');
  return join(tmpdir(), `livepatch-${uid()}`);
}

export function socketPath(pid: number, env: NodeJS.ProcessEnv = process.env): string {
  return join(socketDir(env), `${pid}.sock`);
}

function uid(): number {
  try {
    return userInfo().uid;
  } catch {
    return process.getuid?.() ?? 0;
  }
}

/** Create the directory (0700) or check that the existing one is ours and private. */
export function ensureSocketDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  checkSocketDir(dir);
}

export function checkSocketDir(dir: string): void {
  const st = lstatSync(dir);
  if (!st.isDirectory()) throw new ControlError('LP_ERR_SOCKET_DIR_UNSAFE', `livepatch: ${dir} is not a directory`);
  const me = process.getuid?.();
  if (me !== undefined && st.uid !== me) {
    const message = `livepatch: ${dir} belongs to uid ${st.uid}, not to this user (${me})`;
    throw new ControlError('LP_ERR_SOCKET_DIR_UNSAFE', message);
  }
  if ((st.mode & 0o077) !== 0) {
    // created by us with a looser umask? tighten it; anything else is refused
    if (me !== undefined && st.uid === me) chmodSync(dir, 0o700);
    else {
      const mode = (st.mode & 0o777).toString(8);
      const message = `livepatch: ${dir} is accessible to other users (mode ${mode})`;
      throw new ControlError('LP_ERR_SOCKET_DIR_UNSAFE', message);
    }
  }
}
