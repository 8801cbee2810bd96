/**
 * The transform cache on disk: a warm start reads the instrumented code
 * instead of parsing again. An entry is one file, named by a hash of what
 * the output depends on besides the text (loader version, options, module
 * key, language, the file's path and its length in bytes):
 *
 *   <name>.lpc   a header line ({"n":<functions>,"u":[<unpatchable>],"s":…,"b":<source bytes>,"c":<code bytes>}),
 *                the source's bytes, the instrumented code, then the plan
 *                (symbol table and function records, read only when needed:
 *                a patch resolves a symbol, `toString`, `livepatch symbols`)
 *
 * An entry is used only if the source it holds is, byte for byte, the
 * source being loaded. Comparing bytes is exact and costs a memcmp; hashing
 * each source to find its entry cost more than the rest of a warm start:
 * node:crypto takes ≈ 6 ms to load, and a hash written in JavaScript runs
 * cold in every process (docs/benchmarks.md, "Start-up"). One file, not
 * several, because creating files is most of what a first start spends on
 * small modules.
 *
 * The cache is best effort: any I/O error means a miss, never a failure.
 * Its directory is used only if it is the user's own and others cannot
 * write it (runtime/cache-dir.ts); an entry is read only if the file is the
 * user's too (docs/security.md, "Directories").
 */

import { join } from 'node:path';
import type { FunctionInfo } from './analysis-types.ts';
import type { EmitOptions } from './fragments.ts';
import type { SourceType } from './parse.ts';
import type { ModuleSymbols } from './symbol-table.ts';
import { nameHash } from './name-hash.ts';

// Builtins through getBuiltinModule, not `import`: an ES import of node:fs
// evaluates every lazy export (fs.promises…), ms of each start.
const { closeSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, renameSync, writeFileSync } =
  process.getBuiltinModule('node:fs');

/**
 * The files whose code decides the transform's output (the bundler hashes the
 * same): every file transform.ts reaches, types included, since the cache
 * stores the plan whose shape they define (test/instrument/transform-files.test.ts).
 */
export const TRANSFORM_FILES = [
  'analyze',
  'analysis-types',
  'scopes',
  'syntax',
  'qualified-names',
  'prologue-site',
  'forwarding',
  'scope-hazards',
  'fragments',
  'symbol-table',
  'estree',
  'transform',
  'parse',
  'cache',
  'name-hash',
] as const;

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
  return 'lp-' + nameHash(all).slice(0, 12);
})();

export interface CachedHeader {
  /** number of functions (slots `0..n-1`) */
  readonly n: number;
  /** indices of functions that are not armed */
  readonly u: readonly number[];
  /** the source type the module was read as (an undeclared `.js` is decided by parsing) */
  readonly s?: SourceType;
  /** the source's length in bytes (the code follows it) */
  readonly b: number;
  /** which write made this entry (process, time, count, a random part): entries are replaced, never changed */
  readonly w: string;
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
  /** entryName's hash of each set of options */
  private readonly tags = new Map<string, string>();

  constructor(dir: string) {
    this.dir = dir;
  }

  /**
   * The name of the entry for a module of this key (which stands for its id,
   * see moduleKey), this many bytes long, transformed with these options:
   * `<key>-<bytes>-<options>`, the options as a hash of the loader's version
   * and the options (made once per set of options).
   */
  entryName(key: string, byteLength: number, options: readonly string[]): string {
    const joined = options.join('\0');
    let tag = this.tags.get(joined);
    if (tag === undefined) this.tags.set(joined, (tag = nameHash(LOADER_VERSION + '\0' + joined).slice(0, 12)));
    return `${key}-${byteLength}-${tag}`;
  }

  /**
   * The instrumented code of an entry, if the source it was made from is
   * `source`, and the entry's stamp (which file it was: entries are
   * replaced, never changed). A small module's header, source and code come
   * in one read.
   */
  readCode(name: string, source: Uint8Array): { header: CachedHeader; code: string; stamp: string } | undefined {
    let fd: number;
    try {
      fd = openSync(join(this.dir, name + ENTRY), 'r');
    } catch {
      return undefined;
    }
    try {
      if (!ownEntry(fd)) return undefined;
      const at = readHeader(fd);
      if (at === undefined) return undefined;
      const { header, bodyAt } = at;
      if (header.b !== source.length) return undefined;
      const end = bodyAt + header.b + header.c;
      let body = at.chunk;
      if (end > at.chunkLen) {
        body = Buffer.allocUnsafe(end);
        if (!readFully(fd, body, at.chunk.copy(body, 0, 0, at.chunkLen), 0)) return undefined;
      }
      if (Buffer.compare(source, body.subarray(bodyAt, bodyAt + header.b)) !== 0) return undefined;
      return { header, code: body.toString('utf8', bodyAt + header.b, end), stamp: header.w };
    } catch {
      return undefined;
    } finally {
      closeSync(fd);
    }
  }

  /** The source an entry was made from, if it is still the entry `stamp` says (readCode's). */
  readSource(name: string, stamp: string): Buffer | undefined {
    let fd: number | undefined;
    try {
      fd = openSync(join(this.dir, name + ENTRY), 'r');
      if (!ownEntry(fd)) return undefined;
      const at = readHeader(fd);
      if (at === undefined || at.header.w !== stamp) return undefined;
      const out = Buffer.allocUnsafe(at.header.b);
      return readFully(fd, out, 0, at.bodyAt) ? out : undefined;
    } catch {
      return undefined;
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }

  /** The plan of an entry, if it is still the entry `stamp` says (readCode's). */
  readPlan(name: string, stamp: string): Plan | undefined {
    let fd: number | undefined;
    try {
      fd = openSync(join(this.dir, name + ENTRY), 'r');
      if (!ownEntry(fd)) return undefined;
      const data = readFileSync(fd);
      const nl = data.indexOf(10);
      const header = JSON.parse(data.toString('utf8', 0, nl)) as CachedHeader;
      if (header.w !== stamp) return undefined;
      return JSON.parse(data.toString('utf8', nl + 1 + header.b + header.c)) as Plan;
    } catch {
      return undefined;
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }

  write(name: string, header: Omit<CachedHeader, 'b' | 'c' | 'w'>, source: Uint8Array, code: string, plan: Plan): void {
    try {
      if (!this.made) {
        mkdirSync(this.dir, { recursive: true, mode: 0o700 });
        this.made = true;
      }
      const codeBytes = Buffer.from(code, 'utf8');
      const full: CachedHeader = {
        ...header,
        b: source.length,
        c: codeBytes.length,
        w: `${process.pid}.${Date.now()}.${++writes}.${Math.random().toString(36).slice(2, 10)}`,
      };
      const file = name + ENTRY;
      const tmp = join(this.dir, `.${file}.${process.pid}.tmp`);
      const head = Buffer.from(JSON.stringify(full) + '\n', 'utf8');
      const tail = Buffer.from(JSON.stringify(plan, planReplacer), 'utf8');
      writeFileSync(tmp, Buffer.concat([head, source, codeBytes, tail]), { mode: 0o600 });
      renameSync(tmp, join(this.dir, file));
    } catch {
      // read-only or full disk: run without the cache
    }
  }
}

const ENTRY = '.lpc';

const EUID = process.geteuid?.();

/**
 * Whether the entry open at `fd` is the user's own file: the directory is
 * checked before it is used (runtime/cache-dir.ts), and an entry is code the
 * process runs, so one another user made (a hard link, a file left from
 * before) is a miss, never read.
 */
function ownEntry(fd: number): boolean {
  if (EUID === undefined) return true;
  const st = fstatSync(fd);
  return st.isFile() && st.uid === EUID;
}

/** entries this process wrote: part of each one's stamp */
let writes = 0;

/** Fill `buf` from index `from` to its end with the file's bytes from `position + from` on; false if the file ends first. */
function readFully(fd: number, buf: Buffer, from: number, position: number): boolean {
  for (let off = from; off < buf.length;) {
    const got = readSync(fd, buf, off, buf.length - off, position + off);
    if (got === 0) return false; // truncated
    off += got;
  }
  return true;
}

/** One buffer for every first read: reads are synchronous, and a start reads hundreds. */
const scratch = Buffer.allocUnsafe(65536);

/**
 * The header line of an entry, where its body (source, code, plan) starts,
 * and the bytes read so far (in `scratch` unless the header is longer);
 * undefined if it is not a valid entry.
 */
function readHeader(fd: number): { header: CachedHeader; bodyAt: number; chunk: Buffer; chunkLen: number } | undefined {
  let chunk = scratch;
  let len = 0;
  for (;;) {
    const got = readSync(fd, chunk, len, chunk.length - len, len);
    if (got === 0) return undefined;
    const nl = chunk.indexOf(10, len);
    len += got;
    if (nl !== -1 && nl < len) {
      const header = JSON.parse(chunk.toString('utf8', 0, nl)) as CachedHeader;
      if (
        typeof header.n !== 'number' ||
        !Array.isArray(header.u) ||
        typeof header.b !== 'number' ||
        typeof header.c !== 'number' ||
        typeof header.w !== 'string'
      )
        return undefined;
      return { header, bodyAt: nl + 1, chunk, chunkLen: len };
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
    return (value as { name: string; kind: string; assigned: boolean }[]).map((b) => ({
      name: b.name,
      kind: b.kind,
      assigned: b.assigned,
    }));
  }
  return value;
}
