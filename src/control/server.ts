/**
 * The control socket of one process: the sysfs tree (the kernel's
 * /sys/kernel/livepatch), the log (dmesg), status, symbol tables, and the
 * patch modules (insmod/rmmod). The only way into a running process from
 * outside; it serves the user who owns the socket directory and nobody else.
 */

import { createServer, type Server, type Socket } from 'node:net';
import { KlpError, formatRecord, isKlpError, errnoName, type LogRecord } from '../core/index.ts';
import type { Runtime } from '../runtime/runtime.ts';
import { ensureSocketDir, socketDir, socketPath } from './paths.ts';
import { PROTOCOL, type ErrorInfo, type Hello, type Request, type Response } from './protocol.ts';
import { packages, status, symbols } from './views.ts';

// Builtins through getBuiltinModule, not `import`: an ES import of node:fs or
// node:crypto evaluates every lazy export (fs.promises, webcrypto…), ms of each start.
const { unlinkSync } = process.getBuiltinModule('node:fs');

export class ControlServer {
  private readonly rt: Runtime;
  private server: Server | undefined;
  readonly path: string;
  /** when the process started (the server itself starts later: see register.ts) */
  private readonly startedAt = Date.now() - process.uptime() * 1000;

  constructor(rt: Runtime, env: NodeJS.ProcessEnv = process.env) {
    this.rt = rt;
    this.path = socketPath(process.pid, env);
    ensureSocketDir(socketDir(env));
  }

  start(): void {
    try {
      unlinkSync(this.path); // a stale socket of a dead process with our pid
    } catch {
      // none
    }
    const server = createServer((socket) => this.connection(socket));
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
    socket.setEncoding('utf8');
    socket.unref();
    const task = this.rt.newTask('livepatch-control');
    let buffer = '';
    const cleanups: (() => void)[] = [];
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      for (let nl = buffer.indexOf('\n'); nl !== -1; nl = buffer.indexOf('\n')) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (line.trim() === '') continue;
        let req: Request;
        try {
          req = JSON.parse(line) as Request;
        } catch {
          socket.end(
            JSON.stringify({
              id: 0,
              ok: false,
              error: { code: 'EINVAL', errno: -22, message: 'livepatch: bad request (not JSON)' },
            }) + '\n',
          );
          return;
        }
        void this.rt.api.runInTask(task, () => this.handle(req, socket, cleanups));
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      for (const c of cleanups) c();
    });
  }

  private async handle(req: Request, socket: Socket, cleanups: (() => void)[]): Promise<void> {
    const send = (r: Response): void => {
      if (!socket.destroyed) socket.write(JSON.stringify(r) + '\n');
    };
    try {
      const result = await this.op(req, (event) => send({ id: req.id, event }), cleanups);
      send({ id: req.id, ok: true, result: result ?? null });
    } catch (error) {
      send({ id: req.id, ok: false, error: errorInfo(error) });
    }
  }

  private async op(req: Request, emit: (event: unknown) => void, cleanups: (() => void)[]): Promise<unknown> {
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
          // stream what comes next until the client goes away
          const off = core.subscribe((e) => {
            if (e.type === 'log') emit(formatRecord(e.record as LogRecord));
          });
          cleanups.push(off);
          await new Promise<void>((resolve) => cleanups.push(resolve));
        }
        return lines;
      }
      case 'events': {
        // the core's structured events (not log lines), as they happen, until the client goes away
        const off = core.subscribe((e) => {
          if (e.type !== 'log') emit({ at: this.rt.api.monotonicNow(), ...e });
        });
        cleanups.push(off);
        await new Promise<void>((resolve) => cleanups.push(resolve));
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
        throw new KlpError(-22, `livepatch: unknown control operation '${req.op}'`);
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
