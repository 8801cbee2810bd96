/**
 * Where tasks come from: a new task for each unit of outside work, so that a
 * transition can switch each request on its own (the kernel switches each
 * thread). Node announces new work on diagnostics channels, inside its own
 * callbacks, before the program's handler runs; the runtime enters the new
 * task there, and everything the handler does and schedules belongs to it.
 *
 * - HTTP and HTTPS requests: `http.server.request.start`
 * - HTTP/2 streams: `http2.server.stream.start`
 * - net connections (an HTTP connection is the parent of its requests):
 *   `net.Server`'s 'connection' event, and every later event of the socket
 *   (its 'data' callbacks come from a handle made before the task existed).
 *   Node's `net.server.socket` channel is published only after the event.
 * - worker messages: listeners for 'message' on MessagePorts and Workers are
 *   wrapped (no channel announces messages).
 */

import { subscribe } from 'node:diagnostics_channel';
import type { Server as NetServer, Socket } from 'node:net';
import { enterTask, runInTask, runUnit, type Task } from './tasks.ts';

/** What the integrations need of the runtime (declared here so runtime.ts and this file do not import each other). */
export interface TaskFactory {
  /** a new task, forked from the current one (the kernel's fork: it inherits the parent's patch state) */
  newTask(name: string): Task;
  /** a new unit of work: a task with an end, reported with endTask */
  newUnit(name: string): Task;
  endTask(task: Task): void;
}

interface Closable {
  once(event: 'close', listener: () => void): unknown;
}

let installed = false;

/**
 * Each integration is put in place when the program first needs it, so that
 * a program pays only for what it uses: node:net, node:worker_threads and
 * Node's streams are not loaded for it (≈ 2.5 ms each at start).
 *
 * Returns what the loader calls for each builtin the program imports or
 * requires (the load hook sees them).
 */
export function installIntegrations(rt: TaskFactory): (builtin: string) => void {
  if (installed) return () => {};
  installed = true;
  // net: when the first server starts listening (Node publishes it at the
  // top of Server.prototype.listen, before the server can take a connection)
  let netWrapped = false;
  subscribe('tracing:net.server.listen:asyncStart', () => {
    if (netWrapped) return;
    netWrapped = true;
    wrapConnections(rt, process.getBuiltinModule('node:net').Server);
  });
  // A request ends when its response is done: 'close' follows 'finish', or
  // comes alone when the client goes away first.
  subscribe('http.server.request.start', (msg) => {
    const { request, response } = msg as { request: { method?: string; url?: string }; response: Closable };
    const task = rt.newUnit(`http ${request.method ?? ''} ${request.url ?? ''}`);
    response.once('close', () => rt.endTask(task));
    enterTask(task);
  });
  subscribe('http2.server.stream.start', (msg) => {
    const { stream, headers } = msg as { stream: Closable; headers: Record<string, string | undefined> };
    const task = rt.newUnit(`http2 ${headers[':method'] ?? ''} ${headers[':path'] ?? ''}`);
    stream.once('close', () => rt.endTask(task));
    enterTask(task);
  });
  return watchMessaging(rt);
}

/**
 * Worker messages: MessagePort and Worker are wrapped when the program
 * first reaches node:worker_threads — an import or require (the loader's
 * hook sees builtins too) or process.getBuiltinModule.
 *
 * Not through the globals MessageChannel, MessagePort and BroadcastChannel:
 * they are V8 lazy data properties, and touching them in any way, even
 * redefining one, loads Node's messaging and its streams (≈ 1.5 ms of every
 * start). A program that uses ports only through those globals and never
 * loads worker_threads has no Worker; its port messages run in the task
 * that was current when the listener was added, not in tasks of their own
 * (docs/semantics.md).
 */
function watchMessaging(rt: TaskFactory): (builtin: string) => void {
  let wrapped = false;
  const original = process.getBuiltinModule;
  const workerThreads = (): void => {
    if (wrapped) return;
    wrapped = true;
    const wt = original.call(process, 'node:worker_threads') as typeof import('node:worker_threads');
    wrapMessageListeners(rt, wt.MessagePort.prototype as unknown as Listenable, 'worker message');
    wrapMessageListeners(rt, wt.Worker.prototype as unknown as Listenable, 'worker message');
  };
  process.getBuiltinModule = function getBuiltinModule(this: unknown, id: string) {
    if (id === 'node:worker_threads' || id === 'worker_threads') workerThreads();
    return original.call(this, id) as unknown;
  } as typeof process.getBuiltinModule;
  return (builtin) => {
    if (builtin === 'node:worker_threads') workerThreads();
  };
}

/** A connection to a server, and every later event of its socket, runs as a new task. */
function wrapConnections(rt: TaskFactory, Server: typeof NetServer): void {
  const serverEmit = Server.prototype.emit as (this: NetServer, event: string | symbol, ...args: unknown[]) => boolean;
  Server.prototype.emit = function (this: NetServer, event: string | symbol, ...args: unknown[]): boolean {
    if (event !== 'connection') return serverEmit.call(this, event, ...args);
    const socket = args[0] as Socket;
    const task = rt.newTask(`net ${socket.remoteAddress ?? ''}:${socket.remotePort ?? ''}`);
    const socketEmit = socket.emit;
    socket.emit = function (this: Socket, ...a: Parameters<Socket['emit']>): boolean {
      return runInTask(task, () => socketEmit.apply(this, a));
    } as Socket['emit'];
    return runInTask(task, () => serverEmit.call(this, event, ...args));
  };
}

interface Listenable {
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  addListener(event: string, listener: (...args: unknown[]) => void): unknown;
  once(event: string, listener: (...args: unknown[]) => void): unknown;
  off(event: string, listener: (...args: unknown[]) => void): unknown;
  removeListener(event: string, listener: (...args: unknown[]) => void): unknown;
}

/** Each 'message' delivered to a wrapped listener runs as a new task. */
function wrapMessageListeners(rt: TaskFactory, proto: Listenable, name: string): void {
  const wrapped = new WeakMap<Function, (...args: unknown[]) => unknown>();
  const wrap = (listener: (...args: unknown[]) => void): ((...args: unknown[]) => unknown) => {
    let w = wrapped.get(listener);
    if (w === undefined) {
      w = function (this: unknown, ...args: unknown[]) {
        return runUnit(
          rt.newUnit(name),
          () => listener.apply(this, args),
          (t) => rt.endTask(t),
        );
      };
      wrapped.set(listener, w);
    }
    return w;
  };
  for (const method of ['on', 'addListener', 'once', 'prependListener', 'prependOnceListener'] as const) {
    const original = (proto as unknown as Record<string, Function>)[method];
    if (typeof original !== 'function') continue;
    Object.defineProperty(proto, method, {
      value: function (this: unknown, event: string, listener: (...args: unknown[]) => void) {
        return original.call(
          this,
          event,
          event === 'message' && typeof listener === 'function' ? wrap(listener) : listener,
        );
      },
      writable: true,
      configurable: true,
    });
  }
  for (const method of ['off', 'removeListener'] as const) {
    const original = (proto as unknown as Record<string, Function>)[method];
    if (typeof original !== 'function') continue;
    Object.defineProperty(proto, method, {
      value: function (this: unknown, event: string, listener: (...args: unknown[]) => void) {
        return original.call(this, event, event === 'message' ? (wrapped.get(listener) ?? listener) : listener);
      },
      writable: true,
      configurable: true,
    });
  }
}
