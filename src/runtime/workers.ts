/**
 * Worker threads. Each thread is its own isolate with its own runtime and its
 * own core (its own "kernel"); a patch loaded into the process reaches every
 * thread. The main thread's runtime is the hub: it tells the workers what it
 * loads, unloads and writes to sysfs, a worker that starts later replays the
 * patch modules whose patches are live, and `status` asks every worker.
 * The threads talk on a BroadcastChannel of their own, never on the
 * program's ports.
 */

import type { Worker } from 'node:worker_threads';
import { subscribe } from 'node:diagnostics_channel';
import type { Livepatch } from '../core/index.ts';
import type { PatchModules } from './patch-modules.ts';
import { isMainThread } from './thread.ts';

// BroadcastChannel is a global, whose module Node loads on first use: in the
// main thread, once the program starts a worker. node:worker_threads itself is
// loaded only in a worker, which needs its threadId (the main thread's is 0).
const MAIN_THREAD_ID = 0;

interface Message {
  readonly kind: 'hello' | 'replay' | 'op' | 'reply' | 'status' | 'status-reply';
  readonly from: number;
  readonly to?: number;
  readonly seq?: number;
  readonly op?: {
    readonly name: 'load' | 'unload' | 'sysfs.write';
    readonly file?: string;
    readonly patch?: string;
    readonly path?: string;
    readonly value?: string;
  };
  readonly loads?: readonly string[];
  readonly ok?: boolean;
  readonly error?: string;
  readonly status?: WorkerStatus;
}

export interface WorkerStatus {
  readonly threadId: number;
  readonly patches: readonly { readonly name: string; readonly enabled: boolean; readonly transition: boolean }[];
  readonly transition: { readonly patch: string; readonly direction: string; readonly pending: number } | null;
  readonly error?: string;
}

export interface WorkerReply {
  readonly threadId: number;
  readonly ok: boolean;
  readonly error?: string;
}

/**
 * What the worker links need of the runtime. Declared here, not imported
 * from runtime.ts, so the runtime (which starts the hub) and this file do
 * not import each other.
 */
export interface WorkerHost {
  readonly core: Pick<Livepatch, 'patches' | 'sysfs' | 'transitionStatus'>;
  readonly patchModules: Pick<PatchModules, 'list' | 'load' | 'unload'>;
  /** the main thread's hub, made when the program starts its first worker */
  hub: WorkerHub | undefined;
}

function channelName(): string {
  return `livepatch:${process.pid}`;
}

/**
 * The main thread's side, made when the program starts its first worker
 * (Node's `worker_threads` channel, published in the Worker's constructor,
 * before the worker runs and says hello).
 */
export class WorkerHub {
  private readonly rt: WorkerHost;
  private readonly channel = new BroadcastChannel(channelName());
  private readonly workers = new Set<number>();
  private seq = 0;
  private readonly waiting = new Map<number, (m: Message) => void>();

  constructor(rt: WorkerHost) {
    this.rt = rt;
    this.channel.unref();
    this.channel.onmessage = (e) => this.receive((e as { data: Message }).data);
  }

  /** A worker the program started: once it exits it answers no more, forget it at once rather than at a timeout. */
  started(worker: Worker): void {
    const id = worker.threadId;
    worker.once('exit', () => this.workers.delete(id));
  }

  get count(): number {
    return this.workers.size;
  }

  private receive(m: Message): void {
    if (m.kind === 'hello') {
      this.workers.add(m.from);
      // the patch modules whose patches are live, oldest first (their stack order)
      const live = new Set(this.rt.core.patches().map((p) => p.name));
      const loads = this.rt.patchModules
        .list()
        .filter((l) => live.has(l.name))
        .map((l) => l.file);
      this.channel.postMessage({ kind: 'replay', from: MAIN_THREAD_ID, to: m.from, loads } satisfies Message);
    } else if ((m.kind === 'reply' || m.kind === 'status-reply') && m.seq !== undefined) {
      this.waiting.get(m.seq)?.(m);
    }
  }

  /** Tell every worker; collect their answers (a worker that does not answer in time is left out). */
  async broadcast(op: NonNullable<Message['op']>, timeoutMs = 10_000): Promise<WorkerReply[]> {
    const replies = await this.ask({ kind: 'op', op }, timeoutMs);
    return replies.map((m) => ({
      threadId: m.from,
      ok: m.ok === true,
      ...(m.error !== undefined ? { error: m.error } : {}),
    }));
  }

  async status(timeoutMs = 2000): Promise<WorkerStatus[]> {
    const replies = await this.ask({ kind: 'status' }, timeoutMs);
    return replies
      .map((m) => m.status!)
      .filter(Boolean)
      .sort((a, b) => a.threadId - b.threadId);
  }

  private ask(msg: Omit<Message, 'from' | 'seq'>, timeoutMs: number): Promise<Message[]> {
    if (this.workers.size === 0) return Promise.resolve([]);
    const seq = ++this.seq;
    const expected = new Set(this.workers);
    const got: Message[] = [];
    return new Promise((resolve) => {
      const check = setInterval(() => {
        // workers that exited while we wait
        for (const id of expected) if (!this.workers.has(id)) expected.delete(id);
        if (expected.size === 0) done();
      }, 50);
      check.unref();
      const done = (): void => {
        clearInterval(check);
        clearTimeout(timer);
        this.waiting.delete(seq);
        resolve(got);
      };
      const timer = setTimeout(() => {
        // a worker that does not answer has most likely exited
        for (const id of expected) this.workers.delete(id);
        done();
      }, timeoutMs);
      timer.unref();
      this.waiting.set(seq, (m) => {
        if (!expected.delete(m.from)) return;
        got.push(m);
        if (expected.size === 0) done();
      });
      this.channel.postMessage({ ...msg, from: MAIN_THREAD_ID, seq } as Message);
    });
  }
}

/**
 * A worker thread's side: follow the main thread. Resolves once the patches
 * live in the process are applied here too (the loader's `--import` awaits
 * it, so the worker's program starts patched, as a forked task would), or
 * after `timeoutMs` if the main thread does not answer.
 */
export function followMainThread(rt: WorkerHost, timeoutMs = 5000): Promise<void> {
  if (isMainThread) return Promise.resolve();
  const { threadId } = process.getBuiltinModule('node:worker_threads');
  const channel = new BroadcastChannel(channelName());
  const { promise: ready, resolve } = Promise.withResolvers<void>();
  // Both stay referenced until the replay is done: the worker's event loop
  // must not end while its program waits for them.
  const timer = setTimeout(() => setReady(), timeoutMs);
  const setReady = (): void => {
    clearTimeout(timer);
    channel.unref();
    resolve();
  };
  let queue: Promise<unknown> = Promise.resolve();
  const reply = (m: Omit<Message, 'from'>): void => channel.postMessage({ ...m, from: threadId } as Message);
  channel.onmessage = (e) => {
    const m = (e as { data: Message }).data;
    if (m.to !== undefined && m.to !== threadId) return;
    if (m.kind === 'replay') {
      for (const file of m.loads ?? []) {
        queue = queue
          .then(() => (rt.patchModules.list().some((l) => l.file === file) ? undefined : rt.patchModules.load(file)))
          .catch((err) => warn(file, err));
      }
      void queue.then(() => setReady());
    } else if (m.kind === 'op' && m.op !== undefined) {
      const op = m.op;
      queue = queue
        .then(async () => {
          if (op.name === 'load') await rt.patchModules.load(op.file!);
          else if (op.name === 'unload') rt.patchModules.unload(op.patch!);
          else rt.core.sysfs.write(op.path!, op.value!);
          reply({ kind: 'reply', seq: m.seq!, ok: true });
        })
        .catch((err: unknown) =>
          reply({ kind: 'reply', seq: m.seq!, ok: false, error: err instanceof Error ? err.message : String(err) }),
        );
    } else if (m.kind === 'status') {
      const t = rt.core.transitionStatus();
      reply({
        kind: 'status-reply',
        seq: m.seq!,
        status: {
          threadId,
          patches: rt.core.patches().map((p) => ({ name: p.name, enabled: p.enabled, transition: p.transition })),
          transition: t === null ? null : { patch: t.patch, direction: t.direction, pending: t.pending.length },
        },
      });
    }
  };
  channel.postMessage({ kind: 'hello', from: threadId } satisfies Message);
  return ready;
}

/**
 * In the main thread, start the hub when the program starts its first
 * worker; until then the hub costs nothing (no channel, no module).
 */
export function hubOnFirstWorker(rt: WorkerHost): void {
  if (!isMainThread) return;
  subscribe('worker_threads', (msg) => {
    rt.hub ??= new WorkerHub(rt);
    rt.hub.started((msg as { worker: Worker }).worker);
  });
}

function warn(file: string, error: unknown): void {
  const { threadId } = process.getBuiltinModule('node:worker_threads');
  process.emitWarning(
    `livepatch: worker ${threadId} could not load ${file}: ${error instanceof Error ? error.message : String(error)}`,
    { code: 'LIVEPATCH_WORKER' },
  );
}
