/**
 * The loader's transform of one module: parse, analyze, insert the entry
 * checks, build the symbol table. Pure apart from hashing: no file system, no
 * module registry (those are the runtime's and the cache's).
 */

import { analyze } from './analyze.ts';
import type { FunctionInfo, ModuleAnalysis } from './analysis-types.ts';
import {
  compareEdits,
  functionEdits,
  isWritable,
  moduleScope,
  prologue,
  type Edit,
  type EmitOptions,
} from './fragments.ts';
import { parse, type Lang, type SourceType } from './parse.ts';
import type { ModuleSymbols, SymbolInfo } from './symbol-table.ts';
import type { Plan } from './cache.ts';
import { nameHash } from './name-hash.ts';

// node:crypto through getBuiltinModule (an ES import evaluates every lazy
// export) and on the first transform, a cache miss, not at start: loading it
// costs ≈ 6 ms.
let crypto: typeof import('node:crypto') | undefined;
function sha256(text: string): string {
  crypto ??= process.getBuiltinModule('node:crypto');
  return crypto.hash('sha256', text);
}

export interface TransformInput {
  readonly source: string;
  readonly moduleId: string;
  readonly lang: Lang;
  readonly sourceType: SourceType;
  /** slot binding and frame tracking (defaults: script-scope slots, frames on) */
  readonly binding?: EmitOptions['binding'];
  readonly frames?: boolean;
  /** override the key derived from the module id (used to resolve key collisions) */
  readonly key?: string;
}

export type TransformResult =
  | {
      readonly ok: true;
      readonly code: string;
      readonly edits: readonly Edit[];
      readonly symbols: ModuleSymbols;
      readonly analysis: ModuleAnalysis;
      readonly options: EmitOptions;
      readonly plan: Plan;
    }
  | { readonly ok: false; readonly reason: 'parse-error' | 'already-instrumented'; readonly message: string };

export function transform(input: TransformInput): TransformResult {
  const { source } = input;
  const parsed = parse(source, input.lang, input.sourceType);
  if (parsed.error !== null) {
    const { line, column } = lineColumn(lineStarts(source), parsed.error.start);
    return { ok: false, reason: 'parse-error', message: `${parsed.error.message} (${line}:${column + 1})` };
  }
  const analysis = analyze(parsed.program, source, input.sourceType);
  if (isInstrumented(source, analysis.prologueAt)) {
    return { ok: false, reason: 'already-instrumented', message: 'already instrumented by livepatch' };
  }
  const options: EmitOptions = {
    key: input.key ?? moduleKey(input.moduleId),
    binding: input.binding ?? 'script',
    frames: input.frames ?? true,
    sourceType: input.sourceType,
  };
  const pro = { at: analysis.prologueAt, text: prologue(analysis, options) };
  const edits = planEdits(analysis.functions, options, pro);
  const code = applyEdits(source, edits);
  const symbols = symbolTable(input.moduleId, options.key, source, analysis, input.sourceType);
  return {
    ok: true,
    code,
    edits,
    symbols,
    analysis,
    options,
    plan: { symbols, functions: analysis.functions, options, prologue: pro },
  };
}

/** Every edit of a module, in the order they apply. */
export function planEdits(functions: readonly FunctionInfo[], options: EmitOptions, pro: Plan['prologue']): Edit[] {
  const edits: Edit[] = [{ at: pro.at, remove: 0, text: pro.text, original: '', order: 0 }];
  for (const fn of functions) for (const e of functionEdits(fn, options)) edits.push(e);
  edits.sort(compareEdits);
  return edits;
}

export function applyEdits(source: string, edits: readonly Edit[]): string {
  const parts: string[] = [];
  let last = 0;
  for (const e of edits) {
    parts.push(source.slice(last, e.at), e.text);
    last = e.at + e.remove;
  }
  parts.push(source.slice(last));
  return parts.join('');
}

/** A short, stable key for a module id: slot names must not depend on load order (cacheable output). */
export function moduleKey(moduleId: string): string {
  // 7 base-36 digits of the hash's first 36 bits; collisions are detected by the runtime, which re-keys
  return parseInt(nameHash(moduleId).slice(0, 9), 16).toString(36).padStart(7, '0').slice(-7);
}

const PROLOGUE_MARK = /^;?\s*(?:var \$lp[0-9a-z]+[,;][^\n]*)?\$lp[0-9a-z]+\.scope=\(\$lpi,\$lpv,\$lps\)=>/;

function isInstrumented(source: string, prologueAt: number): boolean {
  return PROLOGUE_MARK.test(source.slice(prologueAt, prologueAt + 4096));
}

export function symbolTable(
  moduleId: string,
  key: string,
  source: string,
  analysis: ModuleAnalysis,
  sourceType: SourceType = 'module',
): ModuleSymbols {
  const starts = lineStarts(source);
  const seen = new Map<string, number>();
  const symbols: SymbolInfo[] = [];
  const hashes = functionHashes(source, analysis.functions);
  for (const fn of analysis.functions) {
    const sympos = (seen.get(fn.name) ?? 0) + 1;
    seen.set(fn.name, sympos);
    const { line, column } = lineColumn(starts, fn.start);
    const forwarded = fn.forwarding.mode === 'arguments' ? null : fn.forwarding.names;
    symbols.push({
      index: fn.index,
      name: fn.name,
      sympos,
      kind: fn.kind,
      async: fn.isAsync,
      generator: fn.isGenerator,
      line,
      column,
      endLine: lineColumn(starts, fn.end).line,
      hash: hashes[fn.index]!,
      parent: fn.parent,
      captures: fn.captures.map((b) => b.name),
      writable: fn.captures.filter(isWritable).map((b) => b.name),
      scopes: fn.scopes,
      ...(fn.runsOnce && fn.scopeBindings.length > 0
        ? {
            scope: fn.scopeBindings.map((b) => b.name),
            scopeWritable: fn.scopeBindings.filter(isWritable).map((b) => b.name),
          }
        : {}),
      arity: forwarded === null ? -1 : forwarded.length,
      rest: forwarded === null || (forwarded.length > 0 && forwarded[forwarded.length - 1]!.startsWith('...')),
      unpatchable: fn.unpatchable,
    });
  }
  const scope = moduleScope(analysis, sourceType);
  return {
    moduleId,
    key,
    symbols,
    scope: scope.map((b) => b.name),
    scopeWritable: scope.filter((b) => b.writable).map((b) => b.name),
  };
}

/**
 * What decides whether a function changed: its kind and its exact source
 * text, nested functions included. Hashed bottom-up (a Merkle tree): a
 * function's text is hashed with each function directly inside it replaced
 * by that function's hash, so every byte is hashed once however deep the
 * nesting, and a change anywhere inside still changes every enclosing hash.
 */
export function functionHashes(source: string, functions: readonly FunctionInfo[]): string[] {
  const children: number[][] = functions.map(() => []);
  for (const fn of functions) if (fn.parent >= 0) children[fn.parent]!.push(fn.index);
  const out: string[] = new Array<string>(functions.length);
  // children come after their parent in source (pre-)order: go backwards
  for (let i = functions.length - 1; i >= 0; i--) {
    const fn = functions[i]!;
    let text = '';
    let at = fn.start;
    for (const c of children[i]!) {
      const child = functions[c]!;
      text += source.slice(at, child.start) + '\0' + out[c]! + '\0';
      at = child.end;
    }
    text += source.slice(at, fn.end);
    out[i] = functionHash(fn.kind, fn.isAsync, fn.isGenerator, text);
  }
  return out;
}

/** The hash of one function's kind and text (nested functions already replaced by their hashes). */
export function functionHash(kind: string, async: boolean, generator: boolean, text: string): string {
  // one-shot hashing: a Hash object per function costs more than the hashing
  return sha256(`${async ? 'async ' : ''}${generator ? '*' : ''}${kind}\n${text}`).slice(0, 16);
}

export function lineStarts(source: string): number[] {
  const starts = [0];
  let i = source.indexOf('\n');
  while (i !== -1) {
    starts.push(i + 1);
    i = source.indexOf('\n', i + 1);
  }
  return starts;
}

export function lineColumn(starts: readonly number[], pos: number): { line: number; column: number } {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= pos) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, column: pos - starts[lo]! };
}
