/*
 * log.ts — the process's dmesg: a bounded ring buffer of records plus a bus
 * of structured events.
 *
 * Invariants:
 * - `seq` grows by one per record and never resets (clear() empties the
 *   buffer, as `dmesg -C` does, without rewinding the sequence);
 * - at most `size` records are kept; the oldest are overwritten;
 * - pr_debug records exist only when the matching switch is on (the kernel's
 *   dynamic debug): `debug` for kernel/livepatch/*, `debugSwitchTask` for
 *   klp_try_switch_task's per-task lines;
 * - a subscriber that throws never disturbs the core or other subscribers.
 */

import type { Clock, KlpEvent, LogRecord } from './types.ts';
import { KERN_DEBUG, KERN_ERR, KERN_NOTICE, KERN_WARNING, PREFIX } from './messages.ts';

const DEFAULT_LOGLEVEL = 4; // MESSAGE_LOGLEVEL_DEFAULT

export type Listener = (event: KlpEvent) => void;

export class KernelLog {
  readonly size: number;
  debugOn: boolean;
  switchDebugOn: boolean;
  private readonly clock: Clock;
  private readonly ring: (LogRecord | undefined)[];
  private head = 0; // index of the oldest record
  private count = 0;
  private seq = 0;
  private readonly listeners = new Set<Listener>();

  constructor(clock: Clock, size = 4096, debug = false, debugSwitchTask = false) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`log size must be a positive integer, got ${size}`);
    this.clock = clock;
    this.size = size;
    this.ring = new Array<LogRecord | undefined>(size);
    this.debugOn = debug;
    this.switchDebugOn = debugSwitchTask;
  }

  /** printk: one record per line of `text`, verbatim. */
  printk(text: string, level = DEFAULT_LOGLEVEL): void {
    if (!Number.isInteger(level) || level < 0 || level > 7) throw new RangeError(`loglevel must be 0..7, got ${level}`);
    const lines = String(text).split('\n');
    if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
    for (const line of lines) this.push(level, line);
  }

  // pr_* with the livepatch prefix.
  err(text: string): void {
    this.push(KERN_ERR, PREFIX + text);
  }
  warn(text: string): void {
    this.push(KERN_WARNING, PREFIX + text);
  }
  notice(text: string): void {
    this.push(KERN_NOTICE, PREFIX + text);
  }
  debug(text: string): void {
    if (this.debugOn) this.push(KERN_DEBUG, PREFIX + text);
  }
  switchDebug(text: string): void {
    if (this.switchDebugOn) this.push(KERN_DEBUG, PREFIX + text);
  }
  /** WARN(), or another subsystem's pr_warn: no livepatch pr_fmt prefix. */
  warnRaw(text: string): void {
    this.push(KERN_WARNING, text);
  }
  /** Another subsystem's pr_err: no livepatch pr_fmt prefix. */
  errRaw(text: string): void {
    this.push(KERN_ERR, text);
  }

  records(): LogRecord[] {
    const out: LogRecord[] = [];
    for (let i = 0; i < this.count; i++) out.push(this.ring[(this.head + i) % this.size]!);
    return out;
  }

  /** The text of every record, oldest first (what `dmesg -t` prints). */
  lines(): string[] {
    return this.records().map((r) => r.text);
  }

  /** `dmesg` with timestamps: "[    5.244332] livepatch: ...". */
  dmesg(): string {
    return this.records().map(formatRecord).join('\n');
  }

  clear(): void {
    this.ring.fill(undefined);
    this.head = 0;
    this.count = 0;
  }

  subscribe(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => {
      this.listeners.delete(fn);
    };
  }

  get hasListeners(): boolean {
    return this.listeners.size > 0;
  }

  publish(event: KlpEvent): void {
    for (const fn of this.listeners) {
      try {
        fn(event);
      } catch {
        /* a listener never breaks the core */
      }
    }
  }

  private push(level: number, text: string): void {
    const record: LogRecord = { seq: this.seq++, time: this.clock.now(), level, text };
    if (this.count < this.size) {
      this.ring[(this.head + this.count) % this.size] = record;
      this.count++;
    } else {
      this.ring[this.head] = record;
      this.head = (this.head + 1) % this.size;
    }
    if (this.listeners.size > 0) this.publish({ type: 'log', record });
  }
}

/** "[%5lu.%06lu] text" from a time in ms. */
export function formatRecord(r: LogRecord): string {
  const us = Math.max(0, Math.round(r.time * 1000));
  const sec = Math.floor(us / 1e6);
  const frac = String(us % 1e6).padStart(6, '0');
  return `[${String(sec).padStart(5, ' ')}.${frac}] ${r.text}`;
}
