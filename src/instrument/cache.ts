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

import { sourceHash } from './source-hash.ts';
// Builtins through getBuiltinModule, not `import`: an ES import of node:fs
// evaluates every lazy export (fs.promises…), ms of each start. node:crypto is
// not loaded at all unless a source is large (see contentHash).
const { closeSync, mkdirSync, openSync, readFileSync, readSync, renameSync, writeFileSync } = process.getBuiltinModule('node:fs');

/** The files whose code decides the transform's output (the bundler hashes the same). */
export const TRANSFORM_FILES = ['analyze', 'forwarding', 'emit', 'transform', 'parse', 'cache', 'source-hash'] as const;

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
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  let all = '';
  for (const f of TRANSFORM_FILES) {
    try {
      all += readFileSync(new URL(`./${f}${ext}`, import.meta.url), 'utf8') + '\0';
    } catch {
      all += f + '\0';
    }
  }
  return 'lp-' + sourceHash(all).slice(0, 12);
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

  constructor(dir: string) {
    this.dir = dir;
  }

  /**
   * A hash of the source text alone: computed once per load, the other keys
   * derive from it. MurmurHash3 (source-hash.ts), except for a source of
   * more than 4 M code units: there node:crypto's SHA-256, at ≈ 1.5 ns a
   * code unit against ≈ 2.4, repays the 6 ms of loading it (the TypeScript
   * compiler's 9 MB file: 14 ms against 22).
   */
  contentHash(source: string): string {
    if (source.length <= LARGE_SOURCE) return 'm' + sourceHash(source);
    return 's' + process.getBuiltinModule('node:crypto').hash('sha256', source);
  }

  keyFor(contentHash: string, parts: readonly string[]): string {
    return sourceHash(LOADER_VERSION + '\0' + parts.join('\0') + '\0' + contentHash);
  }

  /**
   * The instrumented code of an entry. An entry is one file: a header line,
   * the code, then the plan (read only when needed: a start reads the code's
   * bytes alone). One file, not two, because creating files is most of what
   * a first start spends on small modules.
   */
  readCode(hash: string): { header: CachedHeader; code: string } | undefined {
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
      // a small module's code came with the header: one read
      if (codeAt + header.c <= chunkLen) return { header, code: chunk.toString('utf8', codeAt, codeAt + header.c) };
      const code = Buffer.allocUnsafe(header.c);
      let off = chunk.copy(code, 0, codeAt, chunkLen);
      while (off < code.length) {
        const got = readSync(fd, code, off, code.length - off, codeAt + off);
        if (got === 0) return undefined; // truncated
        off += got;
      }
      return { header, code: code.toString('utf8') };
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
/** code units above which a source is hashed with SHA-256 (see contentHash) */
const LARGE_SOURCE = 1 << 22;

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
