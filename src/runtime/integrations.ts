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
import { MessagePort, Worker } from 'node:worker_threads';
import { Server as NetServer, type Socket } from 'node:net';
import type { Runtime } from './runtime.ts';
import { enterTask, runInTask } from './tasks.ts';

let installed = false;

export function installIntegrations(rt: Runtime): void {
  if (installed) return;
  installed = true;
  const serverEmit = NetServer.prototype.emit as (this: NetServer, event: string | symbol, ...args: unknown[]) => boolean;
  NetServer.prototype.emit = function (this: NetServer, event: string | symbol, ...args: unknown[]): boolean {
    if (event !== 'connection') return serverEmit.call(this, event, ...args);
    const socket = args[0] as Socket;
    const task = rt.newTask(`net ${socket.remoteAddress ?? ''}:${socket.remotePort ?? ''}`);
    const socketEmit = socket.emit;
    socket.emit = function (this: Socket, ...a: Parameters<Socket['emit']>): boolean {
      return runInTask(task, () => socketEmit.apply(this, a));
    } as Socket['emit'];
    return runInTask(task, () => serverEmit.call(this, event, ...args));
  };
  subscribe('http.server.request.start', (msg) => {
    const { request } = msg as { request: { method?: string; url?: string } };
    enterTask(rt.newTask(`http ${request.method ?? ''} ${request.url ?? ''}`));
  });
  subscribe('http2.server.stream.start', (msg) => {
    const { headers } = msg as { headers: Record<string, string | undefined> };
    enterTask(rt.newTask(`http2 ${headers[':method'] ?? ''} ${headers[':path'] ?? ''}`));
  });
  wrapMessageListeners(rt, MessagePort.prototype as unknown as Listenable, 'worker message');
  wrapMessageListeners(rt, Worker.prototype as unknown as Listenable, 'worker message');
}

interface Listenable {
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  addListener(event: string, listener: (...args: unknown[]) => void): unknown;
  once(event: string, listener: (...args: unknown[]) => void): unknown;
  off(event: string, listener: (...args: unknown[]) => void): unknown;
  removeListener(event: string, listener: (...args: unknown[]) => void): unknown;
}

/** Each 'message' delivered to a wrapped listener runs as a new task. */
function wrapMessageListeners(rt: Runtime, proto: Listenable, name: string): void {
  const wrapped = new WeakMap<Function, (...args: unknown[]) => unknown>();
  const wrap = (listener: (...args: unknown[]) => void): ((...args: unknown[]) => unknown) => {
    let w = wrapped.get(listener);
    if (w === undefined) {
      w = function (this: unknown, ...args: unknown[]) {
        return runInTask(rt.newTask(name), () => listener.apply(this, args));
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
        return original.call(this, event, event === 'message' && typeof listener === 'function' ? wrap(listener) : listener);
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
