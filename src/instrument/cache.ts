/**
 * The transform cache on disk: a warm start reads the instrumented code
 * instead of parsing again. Entries are immutable, named by a hash of
 * everything the output depends on (loader version, options, module key,
 * language, source text). Each entry is two files:
 *
 *   <hash>.js    a one-line header (`{"n":<functions>,"u":[<unpatchable>]}`) and the code
 *   <hash>.json  the plan: symbol table and function records, read only when needed
 *                (a patch resolves a symbol, `toString`, `livepatch symbols`)
 *
 * The cache is best effort: any I/O error means a miss, never a failure.
 */

import { join } from 'node:path';
import type { FunctionInfo } from './analyze.ts';
import type { EmitOptions } from './emit.ts';
import type { SourceType } from './parse.ts';
import type { ModuleSymbols } from './symbols.ts';

// Builtins through getBuiltinModule, not `import`: an ES import of node:fs or
// node:crypto evaluates every lazy export (fs.promises, webcrypto…), ms of each start.
const { createHash, hash } = process.getBuiltinModule('node:crypto');
const { closeSync, mkdirSync, openSync, readFileSync, readSync, renameSync, writeFileSync } = process.getBuiltinModule('node:fs');

/** The files whose code decides the transform's output (the bundler hashes the same). */
export const TRANSFORM_FILES = ['analyze', 'emit', 'transform', 'parse', 'cache'] as const;

/** Set by the bundler (tools/bundle.ts): the hash of the transform's source files. */
declare const LIVEPATCH_TRANSFORM_HASH: string | undefined;

/**
 * What the cached output depends on besides the source: the code of the
 * transform itself. Hashing the transform's own files means a changed
 * emitter can never be served stale output. In the bundle, where those files
 * are not beside this one, the bundler has hashed their sources.
 */
export const LOADER_VERSION: string = (() => {
  if (typeof LIVEPATCH_TRANSFORM_HASH === 'string') return 'lp-' + LIVEPATCH_TRANSFORM_HASH;
  const h = createHash('sha256');
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  for (const f of TRANSFORM_FILES) {
    try {
      h.update(readFileSync(new URL(`./${f}${ext}`, import.meta.url)));
    } catch {
      h.update(f);
    }
  }
  return 'lp-' + h.digest('hex').slice(0, 12);
})();

export interface CachedHeader {
  /** number of functions (slots `0..n-1`) */
  readonly n: number;
  /** indices of functions that are not armed */
  readonly u: readonly number[];
  /** the source type the module was read as (an undeclared `.js` is decided by parsing) */
  readonly s?: SourceType;
  /** the code's length in bytes (the plan follows it) */
  readonly c: number;
}

/** What the runtime needs of a transform after the code is loaded. */
export interface Plan {
  readonly symbols: ModuleSymbols;
  readonly functions: readonly FunctionInfo[];
  readonly options: EmitOptions;
  /** the module prologue edit (for source maps) */
  readonly prologue: { readonly at: number; readonly text: string };
}

export class TransformCache {
  private readonly dir: string;
  private made = false;
  private pack: { data: Buffer; index: Map<string, [number, number]> } | undefined;

  constructor(dir: string) {
    this.dir = dir;
  }

  /** A hash of the source text alone: computed once per load, the other keys derive from it. */
  contentHash(source: string): string {
    return hash('sha256', source); // one-shot: no Hash object per module
  }

  keyFor(contentHash: string, parts: readonly string[]): string {
    return hash('sha256', LOADER_VERSION + '\0' + parts.join('\0') + '\0' + contentHash).slice(0, 40);
  }

  /**
   * The instrumented code of an entry. An entry is one file: a header line,
   * the code, then the plan (read only when needed: a start reads the code's
   * bytes alone). One file, not two, because creating files is most of what
   * a first start spends on small modules.
   */
  readCode(hash: string): { header: CachedHeader; code: string } | undefined {
    this.used.push(hash);
    const packed = this.fromPack(hash);
    if (packed !== undefined) return packed;
    const entry = this.readEntryPrefix(hash);
    if (entry === undefined) return undefined;
    if (this.pack !== undefined) this.packMisses++;
    return { header: entry.header, code: entry.bytes.toString('utf8', entry.codeAt) };
  }

  /**
   * A pack: the header and code of every entry the last run used, in one
   * file read once at start (one read instead of one open, read and close
   * per module). Entries are named by their content hash, so a pack is never
   * stale, only incomplete; a start that used entries outside it marks it for
   * rewriting (`packStale`).
   */
  /** Whether there was a pack to read. */
  loadPack(file: string): boolean {
    try {
      const data = readFileSync(file);
      const nl = data.indexOf(10);
      const index = new Map<string, [number, number]>();
      for (const [hash, at, length] of JSON.parse(data.toString('utf8', 0, nl)) as [string, number, number][]) index.set(hash, [nl + 1 + at, length]);
      this.pack = { data, index };
      return true;
    } catch {
      this.pack = undefined;
      return false;
    }
  }

  /** The pack's memory back once the start is over: later modules read their files. */
  dropPack(): void {
    this.pack = undefined;
  }

  /** Entries used this run that the pack read at start did not hold. */
  packMisses = 0;
  /** The cache entries this process used, in order. */
  readonly used: string[] = [];

  writePack(file: string): void {
    const parts: Buffer[] = [];
    const index: [string, number, number][] = [];
    let at = 0;
    for (const hash of new Set(this.used)) {
      const entry = this.readEntryPrefix(hash);
      if (entry === undefined) continue;
      index.push([hash, at, entry.bytes.length]);
      parts.push(entry.bytes);
      at += entry.bytes.length;
      if (at > 256 * 1024 * 1024) break; // a pack is read whole at every start
    }
    try {
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, Buffer.concat([Buffer.from(JSON.stringify(index) + '\n'), ...parts]), { mode: 0o600 });
      renameSync(tmp, file);
      this.packMisses = 0;
    } catch {
      // read-only or full disk: the next start reads file by file
    }
  }

  private fromPack(hash: string): { header: CachedHeader; code: string } | undefined {
    const at = this.pack?.index.get(hash);
    if (at === undefined) return undefined;
    const data = this.pack!.data;
    const nl = data.indexOf(10, at[0]);
    try {
      const header = JSON.parse(data.toString('utf8', at[0], nl)) as CachedHeader;
      if (nl + 1 + header.c > at[0] + at[1]) return undefined;
      return { header, code: data.toString('utf8', nl + 1, nl + 1 + header.c) };
    } catch {
      return undefined;
    }
  }

  /** An entry's header and code as bytes (what a pack holds of it), and where its code starts. */
  private readEntryPrefix(hash: string): { header: CachedHeader; bytes: Buffer; codeAt: number } | undefined {
    let fd: number;
    try {
      fd = openSync(join(this.dir, hash + ENTRY), 'r');
    } catch {
      return undefined;
    }
    try {
      const at = readHeader(fd);
      if (at === undefined) return undefined;
      const { header, codeAt, chunk, chunkLen } = at;
      const end = codeAt + header.c;
      // a small module's code came with the header: one read (copied: `chunk` is reused)
      if (end <= chunkLen) return { header, bytes: Buffer.from(chunk.subarray(0, end)), codeAt };
      const bytes = Buffer.allocUnsafe(end);
      let off = chunk.copy(bytes, 0, 0, chunkLen);
      while (off < end) {
        const got = readSync(fd, bytes, off, end - off, off);
        if (got === 0) return undefined; // truncated
        off += got;
      }
      return { header, bytes, codeAt };
    } catch {
      return undefined;
    } finally {
      closeSync(fd);
    }
  }

  readPlan(hash: string): Plan | undefined {
    try {
      const data = readFileSync(join(this.dir, hash + ENTRY));
      const nl = data.indexOf(10);
      const header = JSON.parse(data.toString('utf8', 0, nl)) as CachedHeader;
      return JSON.parse(data.toString('utf8', nl + 1 + header.c)) as Plan;
    } catch {
      return undefined;
    }
  }

  write(hash: string, header: Omit<CachedHeader, 'c'>, code: string, plan: Plan): void {
    try {
      if (!this.made) {
        mkdirSync(this.dir, { recursive: true, mode: 0o700 });
        this.made = true;
      }
      const full: CachedHeader = { ...header, c: Buffer.byteLength(code) };
      const name = hash + ENTRY;
      const tmp = join(this.dir, `.${name}.${process.pid}.tmp`);
      writeFileSync(tmp, JSON.stringify(full) + '\n' + code + JSON.stringify(plan, planReplacer), { mode: 0o600 });
      renameSync(tmp, join(this.dir, name));
    } catch {
      // read-only or full disk: run without the cache
    }
  }
}

const ENTRY = '.lpc';

/** One buffer for every first read: reads are synchronous, and a start reads hundreds. */
const scratch = Buffer.allocUnsafe(65536);

/**
 * The header line of an entry, where its code starts, and the bytes read so
 * far (in `scratch` unless the header is longer); undefined if it is not a
 * valid entry.
 */
function readHeader(fd: number): { header: CachedHeader; codeAt: number; chunk: Buffer; chunkLen: number } | undefined {
  let chunk = scratch;
  let len = 0;
  for (;;) {
    const got = readSync(fd, chunk, len, chunk.length - len, len);
    if (got === 0) return undefined;
    const nl = chunk.indexOf(10, len);
    len += got;
    if (nl !== -1 && nl < len) {
      const header = JSON.parse(chunk.toString('utf8', 0, nl)) as CachedHeader;
      if (typeof header.n !== 'number' || !Array.isArray(header.u) || typeof header.c !== 'number') return undefined;
      return { header, codeAt: nl + 1, chunk, chunkLen: len };
    }
    if (len === chunk.length) {
      const bigger = Buffer.allocUnsafe(chunk.length * 4);
      chunk.copy(bigger, 0, 0, len);
      chunk = bigger;
    }
  }
}

/** Bindings are shared objects in the analysis; the plan keeps what emission reads. */
function planReplacer(key: string, value: unknown): unknown {
  if (key === 'captures' && Array.isArray(value) && value.length > 0 && typeof value[0] === 'object') {
    return (value as { name: string; kind: string; assigned: boolean }[]).map((b) => ({ name: b.name, kind: b.kind, assigned: b.assigned }));
  }
  return value;
}
