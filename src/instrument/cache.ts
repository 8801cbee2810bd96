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

import { createHash, hash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FunctionInfo } from './analyze.ts';
import type { EmitOptions } from './emit.ts';
import type { SourceType } from './parse.ts';
import type { ModuleSymbols } from './symbols.ts';

/**
 * What the cached output depends on besides the source: the code of the
 * transform itself. Hashing the transform's own files means a changed
 * emitter can never be served stale output.
 */
export const LOADER_VERSION: string = (() => {
  const h = createHash('sha256');
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  for (const f of ['analyze', 'emit', 'transform', 'parse', 'cache']) {
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

  /** A hash of the source text alone: computed once per load, the other keys derive from it. */
  contentHash(source: string): string {
    return hash('sha256', source); // one-shot: no Hash object per module
  }

  keyFor(contentHash: string, parts: readonly string[]): string {
    return hash('sha256', LOADER_VERSION + '\0' + parts.join('\0') + '\0' + contentHash).slice(0, 40);
  }

  readCode(hash: string): { header: CachedHeader; code: string } | undefined {
    let text: string;
    try {
      text = readFileSync(join(this.dir, hash + '.js'), 'utf8');
    } catch {
      return undefined;
    }
    const nl = text.indexOf('\n');
    if (nl === -1) return undefined;
    try {
      const header = JSON.parse(text.slice(0, nl)) as CachedHeader;
      if (typeof header.n !== 'number' || !Array.isArray(header.u)) return undefined;
      return { header, code: text.slice(nl + 1) };
    } catch {
      return undefined;
    }
  }

  readPlan(hash: string): Plan | undefined {
    try {
      return JSON.parse(readFileSync(join(this.dir, hash + '.json'), 'utf8')) as Plan;
    } catch {
      return undefined;
    }
  }

  write(hash: string, header: CachedHeader, code: string, plan: Plan): void {
    try {
      if (!this.made) {
        mkdirSync(this.dir, { recursive: true, mode: 0o700 });
        this.made = true;
      }
      // the plan first: a code file without its plan would be a useless hit
      this.atomicWrite(hash + '.json', JSON.stringify(plan, planReplacer));
      this.atomicWrite(hash + '.js', JSON.stringify(header) + '\n' + code);
    } catch {
      // read-only or full disk: run without the cache
    }
  }

  private atomicWrite(name: string, data: string): void {
    const tmp = join(this.dir, `.${name}.${process.pid}.tmp`);
    writeFileSync(tmp, data, { mode: 0o600 });
    renameSync(tmp, join(this.dir, name));
  }
}

/** Bindings are shared objects in the analysis; the plan keeps what emission reads. */
function planReplacer(key: string, value: unknown): unknown {
  if (key === 'captures' && Array.isArray(value) && value.length > 0 && typeof value[0] === 'object') {
    return (value as { name: string; kind: string; assigned: boolean }[]).map((b) => ({ name: b.name, kind: b.kind, assigned: b.assigned }));
  }
  return value;
}
