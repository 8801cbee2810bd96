/**
 * The client side of the control socket: find processes under the loader,
 * and send them requests.
 */

import { connect, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { KlpError } from '../core/index.ts';
import { ConnectError, ControlError } from './errors.ts';
import { checkSocketDir, socketDir, socketPath } from './paths.ts';
import { PROTOCOL, type Hello, type Request, type Response } from './protocol.ts';

// Builtins through getBuiltinModule, not `import`: an ES import of node:fs or
// node:crypto evaluates every lazy export (fs.promises, webcrypto…), ms of each start.
const { readdirSync } = process.getBuiltinModule('node:fs');

export class ControlClient {
  private readonly socket: Socket;
  private nextId = 1;
  private buffer = '';
  private readonly waiting = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: unknown) => void; onEvent?: (e: unknown) => void }
  >();
  private closed: Error | undefined;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.data(chunk));
    const fail = (e: Error) => {
      this.closed = e;
      for (const w of this.waiting.values()) w.reject(e);
      this.waiting.clear();
    };
    socket.on('error', (e) => fail(new ConnectError('LP_ERR_CONNECT', `livepatch: connection lost: ${e.message}`)));
    socket.on('close', () => fail(new ConnectError('LP_ERR_CONNECT', 'livepatch: the process closed the connection')));
  }

  /**
   * Connect to the process `pid` and check that it speaks our protocol. A
   * live process that has not opened its socket yet (it does so once it has
   * run 100 ms: src/register.ts) is waited for, up to `waitMs`.
   */
  static async open(
    pid: number,
    env: NodeJS.ProcessEnv = process.env,
    waitMs = 3000,
  ): Promise<{ client: ControlClient; hello: Hello }> {
    return ControlClient.openPath(socketPath(pid, env), pid, waitMs);
  }

  /** Connect to the socket at `path`; with `pid`, wait for it as `open` does. */
  static async openPath(
    path: string,
    pid?: number,
    waitMs = pid !== undefined ? 3000 : 0,
  ): Promise<{ client: ControlClient; hello: Hello }> {
    const deadline = Date.now() + waitMs;
    let socket: Socket;
    for (;;) {
      try {
        // before every connect: a socket in a directory another user controls may be theirs (paths.ts)
        checkSocketDir(dirname(path));
        socket = await connectSocket(path);
        break;
      } catch (e) {
        if (e instanceof ControlError) throw e;
        const code = (e as NodeJS.ErrnoException).code;
        const absent = code === 'ENOENT' || code === 'ECONNREFUSED';
        if (absent && pid !== undefined && isAlive(pid) && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 25));
          continue;
        }
        const who = pid !== undefined ? `process ${pid}` : path;
        const cause = (e as Error).message;
        if (!absent) throw new ConnectError('LP_ERR_CONNECT', `livepatch: cannot reach ${who}: ${cause}`);
        const why = `no control socket at ${path}; has it exited, or was it started without the loader?`;
        const message = `livepatch: no livepatch process ${pid ?? ''} (${why})`.replace('  ', ' ');
        throw new ConnectError('LP_ERR_NO_PROCESS', message);
      }
    }
    const client = new ControlClient(socket);
    let hello: Hello;
    try {
      hello = (await withTimeout(
        client.request('hello'),
        3000,
        `livepatch: ${path} does not answer as a livepatch process`,
      )) as Hello;
    } catch (e) {
      client.close();
      throw notControlSocket(path, (e as Error).message.replace(/^livepatch: /, ''));
    }
    if (hello?.protocol !== PROTOCOL) {
      client.close();
      throw notControlSocket(path, `protocol ${String(hello?.protocol)}`);
    }
    return { client, hello };
  }

  request(op: string, args: Record<string, unknown> = {}, onEvent?: (event: unknown) => void): Promise<unknown> {
    if (this.closed) return Promise.reject(this.closed);
    const id = this.nextId++;
    const req: Request = { id, op, ...args };
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject, ...(onEvent !== undefined ? { onEvent } : {}) });
      this.socket.write(JSON.stringify(req) + '\n');
    });
  }

  close(): void {
    this.socket.end();
    this.socket.destroy();
  }

  private data(chunk: string): void {
    this.buffer += chunk;
    for (let nl = this.buffer.indexOf('\n'); nl !== -1; nl = this.buffer.indexOf('\n')) {
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 1);
      let msg: Response;
      try {
        msg = JSON.parse(line) as Response;
      } catch {
        continue;
      }
      const w = this.waiting.get(msg.id);
      if (w === undefined) continue;
      if ('event' in msg) {
        w.onEvent?.(msg.event);
        continue;
      }
      this.waiting.delete(msg.id);
      if (msg.ok) w.resolve(msg.result);
      else w.reject(new KlpError(msg.error.errno, msg.error.message));
    }
  }
}

function connectSocket(path: string): Promise<Socket> {
  return new Promise<Socket>((resolve, reject) => {
    const s = connect(path);
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

function notControlSocket(path: string, why: string): ConnectError {
  return new ConnectError('LP_ERR_NOT_CONTROL_SOCKET', `livepatch: ${path} is not a livepatch control socket (${why})`);
}

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new ConnectError('LP_ERR_NOT_CONTROL_SOCKET', message)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}

export interface ProcessEntry {
  readonly pid: number;
  readonly path: string;
}

/** The control sockets in the directory: one per process under the loader (live or stale); an unsafe directory throws (paths.ts). */
export function listSockets(env: NodeJS.ProcessEnv = process.env): ProcessEntry[] {
  let dir: string;
  let names: string[];
  try {
    dir = socketDir(env);
    checkSocketDir(dir);
    names = readdirSync(dir);
  } catch (e) {
    if (e instanceof ControlError) throw e; // another user's directory: refused, not taken for an empty one
    return [];
  }
  const out: ProcessEntry[] = [];
  for (const n of names) {
    const m = /^(\d+)\.sock$/.exec(n);
    if (m !== null) out.push({ pid: Number(m[1]), path: join(dir, n) });
  }
  return out.sort((a, b) => a.pid - b.pid);
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The processes under the loader that answer. */
export async function discover(env: NodeJS.ProcessEnv = process.env): Promise<Hello[]> {
  const found: Hello[] = [];
  for (const s of listSockets(env)) {
    if (!isAlive(s.pid)) continue;
    try {
      const { client, hello } = await ControlClient.openPath(s.path, s.pid);
      client.close();
      found.push(hello);
    } catch {
      // not answering: skip
    }
  }
  return found;
}
