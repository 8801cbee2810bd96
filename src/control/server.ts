/**
 * The control socket of one process: the sysfs tree (the kernel's
 * /sys/kernel/livepatch), the log (dmesg), status, symbol tables, and the
 * patch modules (insmod/rmmod). The only way into a running process from
 * outside; it serves the user who owns the socket directory and nobody else.
 */

import { createServer, type Server, type Socket } from 'node:net';
import {
  EBUSY,
  ECANCELED,
  EINVAL,
  KlpError,
  formatRecord,
  isKlpError,
  errnoName,
  type LogRecord,
} from '../core/index.ts';
import type { Runtime } from '../runtime/runtime.ts';
import { ensureSocketDir, socketDir, socketPath } from './paths.ts';
import { PROTOCOL, type ErrorInfo, type Hello, type Request, type RequestId } from './protocol.ts';
import { packages, status, symbols } from './views.ts';

// Builtins through getBuiltinModule, not `import`: an ES import of node:fs or
// node:crypto evaluates every lazy export (fs.promises, webcrypto…), ms of each start.
const { unlinkSync } = process.getBuiltinModule('node:fs');

/*
 * Limits. The socket is reachable only by the user who owns the process, but
 * a client of that user can still be buggy or hostile (a fuzzer, a script
 * that connects and never reads): none of them may take the service down or
 * make it spend memory or CPU without bound. docs/security.md describes them.
 */

/** The longest request line, in bytes without its newline: a longer one is answered with an error and the connection closed. */
export const MAX_LINE_BYTES = 1024 * 1024;
/** Concurrent control connections; one more is answered with EBUSY and closed at once. */
export const MAX_CONNECTIONS = 64;
/** Unread answer bytes a connection may queue: past this a stream (dmesg --follow, events) is dropped and reading pauses. */
export const MAX_WRITE_BUFFER = 1024 * 1024;
/** A connection without a request in flight is closed after this long without one (LIVEPATCH_CONTROL_IDLE_MS; 0: never). */
export const DEFAULT_IDLE_MS = 60_000;

/** Every operation `op` knows: anything else is refused before a handler runs. */
const OPS: ReadonlySet<string> = new Set([
  'hello',
  'sysfs.read',
  'sysfs.write',
  'sysfs.list',
  'dmesg',
  'events',
  'status',
  'symbols',
  'modules',
  'packages',
  'load',
  'unload',
]);

/** What a handler needs of its connection. */
interface Conn {
  /** Write one answer line; nothing once the connection is closing. */
  answer(id: RequestId | null, body: { ok: true; result: unknown } | { ok: false; error: ErrorInfo }): void;
  /**
   * Stream what `subscribe` emits as `{ id, event }` lines until the client
   * goes away (resolves) or stops reading (rejects with ECANCELED: the answer
   * that follows tells it why its stream ended).
   */
  stream(id: RequestId, subscribe: (emit: (event: unknown) => void) => () => void): Promise<void>;
}

export class ControlServer {
  private readonly rt: Runtime;
  private server: Server | undefined;
  readonly path: string;
  /** when the process started (the server itself starts later: see register.ts) */
  private readonly startedAt = Date.now() - process.uptime() * 1000;
  private readonly idleMs: number;
  private connections = 0;

  constructor(rt: Runtime, env: NodeJS.ProcessEnv = process.env) {
    this.rt = rt;
    this.path = socketPath(process.pid, env);
    ensureSocketDir(socketDir(env));
    const idle = Number(env.LIVEPATCH_CONTROL_IDLE_MS);
    this.idleMs =
      env.LIVEPATCH_CONTROL_IDLE_MS !== undefined && Number.isInteger(idle) && idle >= 0 ? idle : DEFAULT_IDLE_MS;
  }

  start(): void {
    try {
      unlinkSync(this.path); // a stale socket of a dead process with our pid
    } catch {
      // none
    }
    const server = createServer((socket) => this.connection(socket));
    // a failed accept (EMFILE…) must not become an uncaught 'error' in the program
    server.on('error', () => {});
    server.listen(this.path);
    server.unref(); // never keeps the program alive
    this.server = server;
    process.once('exit', () => {
      try {
        unlinkSync(this.path);
      } catch {
        // already gone
      }
    });
  }

  close(): void {
    this.server?.close();
  }

  private connection(socket: Socket): void {
    socket.unref();
    socket.on('error', () => {}); // a client that goes away mid-answer: nothing to report
    if (this.connections >= MAX_CONNECTIONS) {
      // refused before anything is read: one short line (it fits the socket's buffer), then closed
      closeWith(socket, EBUSY, `livepatch: too many control connections (at most ${MAX_CONNECTIONS})`);
      return;
    }
    this.connections++;
    socket.once('close', () => this.connections--);

    const task = this.rt.newTask('livepatch-control');
    const cleanups: (() => void)[] = [];
    let closing = false;
    let inflight = 0;

    // The idle timer runs only while no request is in flight, so a stream
    // (dmesg --follow, events) or a long load is never cut by it.
    const armIdle = (): void => {
      socket.setTimeout(inflight === 0 && !closing ? this.idleMs : 0);
    };
    const shut = (errno: number, message: string): void => {
      if (closing) return;
      closing = true;
      armIdle();
      closeWith(socket, errno, message);
    };

    socket.on('timeout', () => {
      if (inflight === 0)
        shut(ECANCELED, `livepatch: control connection closed after ${this.idleMs} ms without a request`);
    });
    armIdle();

    const write = (text: string): void => {
      if (closing || socket.destroyed) return;
      socket.write(text + '\n');
      // backpressure: a client that sends requests without reading the answers is not read from either
      if (socket.writableLength > MAX_WRITE_BUFFER && !socket.isPaused()) {
        socket.pause();
        socket.once('drain', () => socket.resume());
      }
    };

    const conn: Conn = {
      answer(id, body) {
        let text: string;
        try {
          text = JSON.stringify({ id, ...body });
        } catch (error) {
          // a result JSON cannot carry (a BigInt, a cycle): the request fails instead
          text = JSON.stringify({ id, ok: false, error: safeErrorInfo(error) });
        }
        write(text);
      },
      stream(id, subscribe) {
        return new Promise<void>((resolve, reject) => {
          if (closing || socket.destroyed) return resolve();
          let off = (): void => {};
          const stop = (): void => {
            off();
            off = () => {};
          };
          cleanups.push(() => {
            stop();
            resolve();
          });
          off = subscribe((event) => {
            let text: string;
            try {
              text = JSON.stringify({ id, event });
            } catch {
              return; // an event JSON cannot carry: skipped, the stream goes on
            }
            write(text);
            if (socket.writableLength > MAX_WRITE_BUFFER) {
              // a follower that does not read: dropped rather than buffered without bound
              stop();
              const kib = Math.round(MAX_WRITE_BUFFER / 1024);
              reject(new KlpError(ECANCELED, `livepatch: stream dropped: the client left more than ${kib} KiB unread`));
            }
          });
        });
      },
    };

    const request = (text: string): void => {
      if (text.trim() === '') return;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        conn.answer(null, { ok: false, error: info(EINVAL, 'livepatch: bad request (not JSON)') });
        return;
      }
      const checked = validate(value);
      if ('error' in checked) {
        conn.answer(checked.id, { ok: false, error: info(EINVAL, checked.error) });
        return;
      }
      inflight++;
      armIdle();
      let done: unknown;
      try {
        done = this.rt.api.runInTask(task, () => this.handle(checked.req, conn));
      } catch {
        done = undefined; // handle catches everything; runInTask itself throwing would be a bug, not the client's
      }
      // handle never rejects; the catch is the last guard against an unhandled rejection
      void Promise.resolve(done)
        .catch(() => {})
        .finally(() => {
          inflight--;
          armIdle();
        });
    };

    // Lines are split in linear time: each chunk is searched for a newline
    // once, and the bytes of an unfinished line are appended to one buffer
    // that grows by doubling, up to MAX_LINE_BYTES (the concatenate-and-rescan
    // of a string buffer was quadratic in the line's length).
    let pending = EMPTY;
    let pendingLength = 0;
    const tooLong = (): void => {
      pending = EMPTY;
      pendingLength = 0;
      shut(EINVAL, `livepatch: request line longer than ${MAX_LINE_BYTES} bytes`);
    };
    socket.on('data', (chunk: Buffer) => {
      let start = 0;
      for (let nl = chunk.indexOf(10); nl !== -1 && !closing; nl = chunk.indexOf(10, start)) {
        if (pendingLength + (nl - start) > MAX_LINE_BYTES) return tooLong();
        const tail = chunk.subarray(start, nl);
        const line = pendingLength === 0 ? tail : Buffer.concat([pending.subarray(0, pendingLength), tail]);
        pendingLength = 0;
        if (pending.length > 64 * 1024) pending = EMPTY; // a long line's buffer is not kept by an idle connection
        start = nl + 1;
        request(line.toString('utf8'));
      }
      if (closing || start === chunk.length) return;
      const rest = chunk.length - start;
      if (pendingLength + rest > MAX_LINE_BYTES) return tooLong();
      if (pendingLength + rest > pending.length) {
        const grown = Buffer.allocUnsafe(
          Math.min(MAX_LINE_BYTES, Math.max(256, 2 * pending.length, pendingLength + rest)),
        );
        pending.copy(grown, 0, 0, pendingLength);
        pending = grown;
      }
      chunk.copy(pending, pendingLength, start);
      pendingLength += rest;
    });
    socket.on('close', () => {
      closing = true;
      for (const c of cleanups) c();
    });
  }

  /** Run one validated request; never rejects, whatever the operation throws. */
  private async handle(req: Request, conn: Conn): Promise<void> {
    try {
      const result = await this.op(req, conn);
      conn.answer(req.id, { ok: true, result: result ?? null });
    } catch (error) {
      conn.answer(req.id, { ok: false, error: safeErrorInfo(error) });
    }
  }

  private async op(req: Request, conn: Conn): Promise<unknown> {
    const { core, patchModules } = this.rt;
    switch (req.op) {
      case 'hello':
        return this.hello();
      case 'sysfs.read':
        return core.sysfs.read(str(req, 'path'));
      case 'sysfs.write': {
        const n = core.sysfs.write(str(req, 'path'), str(req, 'value'));
        return {
          written: n,
          workers: await this.rt.hub?.broadcast({
            name: 'sysfs.write',
            path: str(req, 'path'),
            value: str(req, 'value'),
          }),
        };
      }
      case 'sysfs.list':
        return core.sysfs.list(typeof req.path === 'string' ? req.path : '');
      case 'dmesg': {
        const lines = core.log.records().map((r) => formatRecord(r));
        if (req.clear === true) core.log.clear();
        if (req.follow === true) {
          // stream what comes next until the client goes away (or stops reading)
          await conn.stream(req.id, (emit) =>
            core.subscribe((e) => {
              if (e.type === 'log') emit(formatRecord(e.record as LogRecord));
            }),
          );
        }
        return lines;
      }
      case 'events': {
        // the core's structured events (not log lines), as they happen, until the client goes away
        await conn.stream(req.id, (emit) =>
          core.subscribe((e) => {
            if (e.type !== 'log') emit({ at: this.rt.api.monotonicNow(), ...e });
          }),
        );
        return null;
      }
      case 'status':
        return {
          ...status(this.rt, typeof req.name === 'string' ? req.name : undefined),
          workers: (await this.rt.hub?.status()) ?? [],
        };
      case 'symbols':
        return symbols(this.rt, str(req, 'module'));
      case 'modules':
        return this.rt.slots.all().map((r) => ({ id: r.id, url: r.url, functions: r.count }));
      case 'packages':
        return packages(this.rt);
      case 'load': {
        // a patch that patches nothing the process has or can load is refused unless asked for (ENOENT)
        const loaded = await patchModules.load(str(req, 'file'), { allowPending: req.allowPending === true });
        const workers = await this.rt.hub?.broadcast({ name: 'load', file: loaded.file });
        const patch = core.patch(loaded.name);
        return {
          name: loaded.name,
          patch,
          // per object: whether its module is loaded (patched now), or the patch waits for it
          objects: (patch?.objects ?? []).map((o) => ({
            name: o.name,
            state: o.loaded ? 'loaded' : patchModules.objectState(o.name),
          })),
          workers: workers ?? [],
        };
      }
      case 'unload':
        patchModules.unload(str(req, 'name'));
        return { workers: (await this.rt.hub?.broadcast({ name: 'unload', patch: str(req, 'name') })) ?? [] };
      default:
        throw new KlpError(EINVAL, `livepatch: unknown control operation '${req.op}'`);
    }
  }

  private hello(): Hello {
    const t = this.rt.core.transitionStatus();
    return {
      protocol: PROTOCOL,
      pid: process.pid,
      node: process.version,
      argv: process.argv,
      root: this.rt.root,
      startedAt: this.startedAt,
      patches: this.rt.core.patches().length,
      transition: t === null ? null : t.patch,
      workers: this.rt.hub?.count ?? 0,
    };
  }
}

function str(req: Request, key: string): string {
  const v = req[key];
  if (typeof v !== 'string') throw new KlpError(-22, `livepatch: '${req.op}' needs a string '${key}'`);
  return v;
}

export function errorInfo(error: unknown): ErrorInfo {
  if (isKlpError(error)) return { code: error.code, errno: error.errno, message: error.message };
  const message = error instanceof Error ? error.message : String(error);
  return { code: errnoName(-5), errno: -5, message };
}

const EMPTY = Buffer.alloc(0);

function info(errno: number, message: string): ErrorInfo {
  return { code: errnoName(errno), errno, message };
}

/**
 * A parsed line as a request: an object with a number or string id and a
 * known op. Otherwise the error to answer, with the id when there is a usable
 * one (null when there is none), so a client can still match it.
 */
function validate(value: unknown): { req: Request } | { id: RequestId | null; error: string } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { id: null, error: 'livepatch: bad request (not an object { id, op, ... })' };
  }
  const v = value as Record<string, unknown>;
  const id = v.id;
  if (!((typeof id === 'number' && Number.isFinite(id)) || typeof id === 'string')) {
    return { id: null, error: "livepatch: bad request (needs a number or string 'id')" };
  }
  if (typeof v.op !== 'string') return { id, error: "livepatch: bad request (needs a string 'op')" };
  // the message the handler's default case gave before requests were checked here
  if (!OPS.has(v.op)) return { id, error: `livepatch: unknown control operation '${v.op}'` };
  return { req: v as unknown as Request };
}

/** Answer one line without an id and close: the line is flushed first, and a client that never reads is cut off after 1 s. */
function closeWith(socket: Socket, errno: number, message: string): void {
  if (socket.destroyed) return;
  // Closed gracefully: what the client still sends is read and dropped (the
  // connection's 'data' handler ignores it once closing) until the client
  // closes too, or for a second at most. Destroying a socket with unread
  // data sends a reset, and a reset can make the client's kernel drop the
  // error line before the client has read it.
  socket.resume();
  socket.end(JSON.stringify({ id: null, ok: false, error: info(errno, message) }) + '\n');
  setTimeout(() => socket.destroy(), 1000).unref();
}

/** errorInfo that cannot throw: an error from a patch module may be any value, with a throwing getter. */
function safeErrorInfo(error: unknown): ErrorInfo {
  try {
    return errorInfo(error);
  } catch {
    return info(-5, 'livepatch: the operation failed (its error cannot be described)');
  }
}
