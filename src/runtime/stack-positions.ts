/**
 * Stack positions as on plain Node. The loader keeps every line where it
 * was, but text it inserts shifts the columns after it on the same line, and
 * V8 reports positions in the code it was given. Every way a program sees a
 * position goes through V8's call sites (CallSite objects), so they are
 * mapped back to the original source there:
 *
 * - Node's own formatting (`error.stack`, uncaught exceptions, `util.inspect`)
 *   turns each call site into text with `${callSite}`. The CallSite
 *   prototype's methods cannot be replaced (V8 makes them read-only and
 *   non-configurable), but the prototype is extensible: a
 *   `Symbol.toPrimitive` on it comes before `toString` in every string
 *   conversion, and gives the native text with its final `:line:column`
 *   mapped.
 * - A function a program sets as `Error.prepareStackTrace` calls the methods
 *   itself (`getColumnNumber()`, `toString()`…). `Error.prepareStackTrace`
 *   becomes an accessor that stores what is set and gives it back as it
 *   was (programs save and restore it). Only when Node's formatter reads it,
 *   to call it, does it get a wrapper that moves the call sites of
 *   instrumented modules onto a prototype whose position methods map (the
 *   call sites stay the same objects, in the same array). A read tells Node's
 *   formatter from a program by capturing an empty stack: while a stack is
 *   being formatted, V8 does not call the formatter again but formats a new
 *   one itself, as text; reads while the program's wrapped formatter runs are
 *   the program's. Node's default function, while source maps are off, is
 *   given back as it is: it formats with `${callSite}`, mapped already, so
 *   most programs never pay a capture.
 *
 * A module's table is built from its plan (the edits are regenerated, as
 * for `toString`) on the first stack that shows a frame of it. Columns come
 * from `getPosition()` (an offset in the code V8 ran): the original offset
 * of the position and of its line's start, so no source text is needed. The
 * start of another line (`getEnclosingColumnNumber()` on a function that
 * starts on an earlier line, an `eval` origin) comes from the symbol table,
 * else from the file, read once and checked against the symbol table.
 *
 * With source maps on, the loader attaches none: Node would map frames
 * through it (twice, with mapped call sites) and print file paths where
 * plain Node prints the `file:` URL of an ES module. A module's own source
 * map still applies, to the mapped positions, as it would on plain Node.
 */

import { fileURLToPath } from 'node:url';
import { planEdits } from '../instrument/transform.ts';
import type { ModuleRecord, SlotTable } from './slots.ts';

const { readFileSync } = process.getBuiltinModule('node:fs');

type Site = NodeJS.CallSite;
type Method<T> = (this: Site) => T;

/** Where a module's inserted text is, in the code V8 ran and in the original source. */
class Positions {
  /** per edit, in source order: where its text starts and ends in the code V8 ran */
  private readonly genStart: number[] = [];
  private readonly genEnd: number[] = [];
  /** where it was inserted in the original source, and the end of the original text it replaced */
  private readonly origAt: number[] = [];
  private readonly origEnd: number[] = [];
  /** original offset = generated offset − shift, after this edit */
  private readonly shift: number[] = [];
  /**
   * For a replacement whose original text spans lines (a multi-line parameter: its text keeps the line
   * breaks, at its end): where the original's last line starts, else -1. The generated line that starts
   * right after the replacement starts there in the original.
   */
  private readonly lastLine: number[] = [];
  /** original line (1-based) → offset of its start */
  private readonly lineStarts = new Map<number, number>();
  private fileLines: number[] | null | undefined;
  private readonly record: ModuleRecord;

  constructor(record: ModuleRecord) {
    this.record = record;
    const plan = record.plan();
    let shift = 0;
    for (const e of planEdits(plan.functions, plan.options, plan.prologue)) {
      if (e.text.length === 0 && e.remove === 0) continue;
      this.genStart.push(e.at + shift);
      this.genEnd.push(e.at + shift + e.text.length);
      this.origAt.push(e.at);
      this.origEnd.push(e.at + e.remove);
      shift += e.text.length - e.remove;
      this.shift.push(shift);
      const nl = e.original.lastIndexOf('\n');
      this.lastLine.push(nl < 0 ? -1 : e.at + nl + 1);
    }
    this.lineStarts.set(1, 0);
    for (const s of plan.symbols.symbols) {
      const fn = plan.functions[s.index];
      if (fn !== undefined && !this.lineStarts.has(s.line)) this.lineStarts.set(s.line, fn.start - s.column);
    }
  }

  /** The original offset of generated offset `g`; inside inserted text, where it was inserted. */
  original(g: number): number {
    return this.originalAfter(this.editBefore(g), g);
  }

  /** The original offset of the start of the generated line that starts at `g`. */
  private originalLineStart(g: number): number {
    const i = this.editBefore(g);
    return i >= 0 && g === this.genEnd[i] && this.lastLine[i]! >= 0 ? this.lastLine[i]! : this.originalAfter(i, g);
  }

  private originalAfter(i: number, g: number): number {
    if (i < 0) return g;
    return g < this.genEnd[i]! ? this.origAt[i]! : g - this.shift[i]!;
  }

  /** the last edit whose text starts at or before generated offset `g`, or -1 */
  private editBefore(g: number): number {
    let lo = 0;
    let hi = this.genStart.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.genStart[mid]! <= g) lo = mid + 1;
      else hi = mid - 1;
    }
    return hi;
  }

  /** The generated offset of original line start `o` (text inserted at `o` starts the line). */
  private generated(o: number): number {
    let lo = 0;
    let hi = this.origAt.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.origAt[mid]! < o) lo = mid + 1;
      else hi = mid - 1;
    }
    if (hi < 0) return o;
    // a line that starts inside a replaced multi-line parameter starts after the replacement's line breaks
    return o <= this.origEnd[hi]! ? this.genEnd[hi]! : o + this.shift[hi]!;
  }

  /** The original column (1-based) of a generated position and its column. */
  column(position: number, column: number): number {
    return this.original(position) - this.originalLineStart(position - (column - 1)) + 1;
  }

  /** The original column of generated column `column` on line `line`, or undefined if that line's start is unknown. */
  columnOnLine(line: number, column: number): number | undefined {
    const start = this.lineStart(line);
    if (start === undefined) return undefined;
    return this.original(this.generated(start) + column - 1) - start + 1;
  }

  private lineStart(line: number): number | undefined {
    const known = this.lineStarts.get(line);
    if (known !== undefined) return known;
    if (this.fileLines === undefined) this.fileLines = this.readLines();
    return this.fileLines?.[line - 1];
  }

  /**
   * Line starts of the file as V8 counts lines, or null when the file no
   * longer holds the source the module was loaded from (checked against
   * where the symbol table says each function starts).
   */
  private readLines(): number[] | null {
    try {
      let text = readFileSync(fileURLToPath(this.record.url), 'utf8');
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      const starts = [0];
      for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i);
        if (c === 13 && text.charCodeAt(i + 1) === 10) continue;
        if (c === 10 || c === 13 || c === 0x2028 || c === 0x2029) starts.push(i + 1);
      }
      for (const [line, start] of this.lineStarts) if (starts[line - 1] !== start) return null;
      return starts;
    } catch {
      return null;
    }
  }
}

let installed = false;

export function installStackPositions(slots: SlotTable): void {
  if (installed) return;
  installed = true;
  const proto = callSitePrototype();
  if (proto === undefined) return;
  // the native methods, called as functions (every formatted frame calls a few of them)
  const uncurry = <T>(name: string): ((site: Site) => T) => Function.prototype.call.bind(proto[name] as Method<T>);
  const fileNameOf = uncurry<string | null | undefined>('getFileName');
  const lineOf = uncurry<number | null>('getLineNumber');
  const columnOf = uncurry<number | null>('getColumnNumber');
  const positionOf = uncurry<number | null>('getPosition');
  const enclosingLineOf = uncurry<number | null>('getEnclosingLineNumber');
  const enclosingColumnOf = uncurry<number | null>('getEnclosingColumnNumber');
  const evalOriginOf = uncurry<string | undefined>('getEvalOrigin');
  const isEval = uncurry<boolean>('isEval');
  const nativeText = uncurry<string>('toString');

  // file name (a path for CommonJS, a URL for ES modules) → the module's positions, or null (not instrumented)
  const byName = new Map<string, Positions | null>();
  const tables = new WeakMap<ModuleRecord, Positions | null>();
  let indexed = 0;
  let lastName: unknown;
  let last: Positions | undefined;
  const positionsOf = (name: unknown): Positions | undefined => {
    // a stack's frames are mostly of one file in a row
    if (name === lastName && indexed === slots.all().length) return last;
    lastName = name;
    return (last = lookup(name));
  };
  const lookup = (name: unknown): Positions | undefined => {
    if (typeof name !== 'string' || name.startsWith('node:')) return undefined;
    const count = slots.all().length;
    if (count !== indexed) {
      // a module loaded since: a name not known then may be known now, or be a newer instance
      byName.clear();
      indexed = count;
    }
    let found = byName.get(name);
    if (found === undefined) {
      const record = recordOf(slots, name);
      found = record === undefined ? null : tableOf(record, tables);
      byName.set(name, found);
    }
    return found ?? undefined;
  };

  /** the mapped column of a site's position, or the native one */
  const column = (site: Site): number | null => {
    const col = columnOf(site);
    const table = positionsOf(fileNameOf(site));
    if (table === undefined || col === null) return col;
    const pos = positionOf(site);
    return pos === null ? col : table.column(pos, col);
  };
  const evalOrigin = (origin: string): string =>
    // innermost `(file:line:column)`: where the eval was called; nested origins wrap it in more parentheses
    origin.replace(/\(([^()]+):(\d+):(\d+)\)/g, (all: string, name: string, line: string, col: string) => {
      const mapped = positionsOf(name)?.columnOnLine(Number(line), Number(col));
      return mapped === undefined ? all : `(${name}:${line}:${mapped})`;
    });
  /** the native text with its final column mapped: `fn (file:line:column)` or `file:line:column` */
  const text = (site: Site): string => {
    const s = nativeText(site);
    const name = fileNameOf(site);
    // eval code has no file name; where the eval was called is in its origin
    if (typeof name !== 'string') return s.includes('eval at ') ? evalOrigin(s) : s;
    const table = positionsOf(name);
    if (table === undefined) return s;
    // the column is the text's last number, before a `)` or at the end (asking V8 for it would cost as much
    // again as the text's own lookup of the position)
    const end = s.charCodeAt(s.length - 1) === 41 ? s.length - 1 : s.length;
    let start = end;
    while (start > 0 && isDigit(s.charCodeAt(start - 1))) start--;
    const pos = start < end && s.charCodeAt(start - 1) === 58 ? positionOf(site) : null;
    if (pos === null) return s;
    const col = Number(s.slice(start, end));
    const mapped = table.column(pos, col);
    return mapped === col ? s : `${s.slice(0, start)}${mapped}${s.slice(end)}`;
  };

  // Every string conversion of a call site (Node's formatting joins them) asks Symbol.toPrimitive first.
  Object.defineProperty(proto, Symbol.toPrimitive, {
    value: function (this: Site): string {
      try {
        return text(this);
      } catch {
        // never worse than without the mapping: a stack must always format
        return nativeText(this);
      }
    },
    writable: false,
    enumerable: false,
    configurable: true,
  });

  // What a formatter that calls the methods sees: the same call sites, moved onto this prototype.
  const mappedMethods = {
    getColumnNumber(this: Site): number | null {
      return column(this);
    },
    getEnclosingColumnNumber(this: Site): number | null {
      const col = enclosingColumnOf(this);
      const line = enclosingLineOf(this);
      const table = positionsOf(fileNameOf(this));
      if (table === undefined || col === null || line === null) return col;
      // on the position's own line, its start is known exactly; else from the symbol table or the file
      if (line === lineOf(this)) {
        const pos = positionOf(this);
        const here = columnOf(this);
        if (pos !== null && here !== null) return table.column(pos - here + col, col);
      }
      return table.columnOnLine(line, col) ?? col;
    },
    getPosition(this: Site): number | null {
      const pos = positionOf(this);
      const table = positionsOf(fileNameOf(this));
      return table === undefined || pos === null ? pos : table.original(pos);
    },
    getEvalOrigin(this: Site): string | undefined {
      const origin = evalOriginOf(this);
      return typeof origin === 'string' ? evalOrigin(origin) : origin;
    },
    toString(this: Site): string {
      return text(this);
    },
  };
  const mapped: object = Object.create(proto);
  for (const [name, value] of Object.entries(mappedMethods)) {
    Object.defineProperty(mapped, name, { value, writable: false, enumerable: false, configurable: false });
  }
  const mapSites = (trace: unknown): void => {
    if (!Array.isArray(trace)) return;
    for (const site of trace as unknown[]) {
      if (typeof site !== 'object' || site === null || Object.getPrototypeOf(site) !== proto) continue;
      const s = site as Site;
      if (positionsOf(fileNameOf(s)) !== undefined || isEval(s)) Object.setPrototypeOf(s, mapped);
    }
  };

  installAccessor(mapSites);
}

/** The prototype V8 gives call sites in this realm. */
function callSitePrototype(): Record<string, unknown> | undefined {
  const prepare = Error.prepareStackTrace;
  const holder: { stack?: unknown } = {};
  try {
    Error.prepareStackTrace = (_error, sites) => sites;
    Error.captureStackTrace(holder);
    const sites = holder.stack;
    return Array.isArray(sites) && sites.length > 0
      ? (Object.getPrototypeOf(sites[0]) as Record<string, unknown>)
      : undefined;
  } finally {
    Error.prepareStackTrace = prepare;
  }
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function recordOf(slots: SlotTable, name: string): ModuleRecord | undefined {
  let path: string;
  const url = name.startsWith('file:');
  try {
    path = url ? fileURLToPath(name) : name;
  } catch {
    return undefined;
  }
  // an ES module's frames show its URL, CommonJS's its path (a file can be loaded both ways); the newest first
  const records = slots.byFile(path);
  for (let i = records.length - 1; i >= 0; i--) {
    const r = records[i]!;
    if (url ? r.url === name : sourceTypeOf(r) === 'commonjs') return r;
  }
  return undefined;
}

function sourceTypeOf(record: ModuleRecord): string | undefined {
  try {
    return record.plan().options.sourceType;
  } catch {
    return undefined;
  }
}

function tableOf(record: ModuleRecord, tables: WeakMap<ModuleRecord, Positions | null>): Positions | null {
  let table = tables.get(record);
  if (table === undefined) {
    try {
      table = new Positions(record);
    } catch {
      // its plan is lost (the cache entry and the file both changed): positions stay as V8 gives them
      table = null;
    }
    tables.set(record, table);
  }
  return table;
}

/**
 * `Error.prepareStackTrace` as an accessor: reads give back what was set; the
 * function Node's formatter calls receives mapped call sites.
 */
function installAccessor(mapSites: (trace: unknown) => void): void {
  const descriptor = Object.getOwnPropertyDescriptor(Error, 'prepareStackTrace');
  if (descriptor === undefined || !('value' in descriptor) || descriptor.configurable !== true) return;
  let current: unknown = descriptor.value;
  // Node's default formats with `${callSite}`, which maps already: no wrapper needed while source maps are off
  const nodeDefault = typeof current === 'function' && current.name === 'ErrorPrepareStackTrace' ? current : undefined;
  const capture = Error.captureStackTrace;
  const structured = (_error: unknown, sites: unknown): unknown => sites;
  const wrappers = new WeakMap<object, (...args: unknown[]) => unknown>();
  const originals = new WeakMap<object, unknown>();
  let detecting = false;
  // a read found to be the formatter's: its next read (Node checks typeof, then calls) needs no capture
  let armed = false;
  // a wrapped formatter is running: every read is the program's (V8 formats nested stacks itself, without Node)
  let running = 0;

  const wrap = (fn: (...args: unknown[]) => unknown): ((...args: unknown[]) => unknown) => {
    let w = wrappers.get(fn);
    if (w === undefined) {
      w = function prepareStackTrace(this: unknown, error: unknown, trace: unknown): unknown {
        armed = false;
        mapSites(trace);
        running++;
        try {
          return Reflect.apply(fn, this, arguments);
        } finally {
          running--;
        }
      };
      wrappers.set(fn, w);
      originals.set(w, fn);
    }
    return w;
  };

  /**
   * Is a stack being formatted? Then the reader is Node's formatter (the program's own formatter runs
   * wrapped, and reads while it runs are the program's): V8 formats a stack made meanwhile itself, as
   * text, where otherwise Node's formatter asks this accessor and gets `structured`.
   */
  const formatting = (): boolean => {
    detecting = true;
    const hadLimit = Object.prototype.hasOwnProperty.call(Error, 'stackTraceLimit');
    const limit = Error.stackTraceLimit;
    try {
      Error.stackTraceLimit = 0;
      const holder: { stack?: unknown } = {};
      capture(holder);
      return typeof holder.stack === 'string';
    } catch {
      return false;
    } finally {
      try {
        if (hadLimit) Error.stackTraceLimit = limit;
        else delete (Error as { stackTraceLimit?: number }).stackTraceLimit;
      } catch {
        // a frozen Error: the limit could not have been changed either
      }
      detecting = false;
    }
  };

  function get(this: unknown): unknown {
    if (detecting) return structured;
    const value = current;
    if (typeof value !== 'function' || (value === nodeDefault && !process.sourceMapsEnabled)) return value;
    if (running > 0 || (!armed && !formatting())) return value;
    armed = true;
    return wrap(value as (...args: unknown[]) => unknown);
  }

  function set(this: unknown, value: unknown): void {
    if (this !== Error) {
      // assigning through a subclass (or another object inheriting from Error) makes an own property, as it would
      if ((typeof this === 'object' && this !== null) || typeof this === 'function') {
        Object.defineProperty(this, 'prepareStackTrace', {
          value,
          writable: true,
          enumerable: true,
          configurable: true,
        });
      }
      return;
    }
    current = typeof value === 'function' && originals.has(value) ? originals.get(value) : value;
  }

  Object.defineProperty(Error, 'prepareStackTrace', {
    get,
    set,
    enumerable: descriptor.enumerable,
    configurable: true,
  });
}
