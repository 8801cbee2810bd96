/**
 * One version of one module, read the way the loader reads it: oxc's ESTree,
 * the loader's analysis (functions, qualified names, captures, top-level
 * bindings) and its symbol table (sympos, hashes). Using the loader's own
 * code is what makes the identities and hashes in a patch the ones the
 * running process has.
 */

import type { Binding, FunctionInfo, ModuleAnalysis } from '../instrument/analysis-types.ts';
import { analyze } from '../instrument/analyze.ts';
import { parse } from '../instrument/parse.ts';
import type { SymbolInfo } from '../instrument/symbol-table.ts';
import { lineColumn, lineStarts, moduleKey, symbolTable } from '../instrument/transform.ts';
import { functionSites, type FunctionSite, type Program } from './ast.ts';
import type { ModuleFile } from './modules.ts';

export interface ModuleVersion {
  readonly file: ModuleFile;
  readonly source: string;
  readonly program: Program;
  readonly analysis: ModuleAnalysis;
  /** the symbol table, by function index */
  readonly symbols: readonly SymbolInfo[];
  readonly sites: Map<number, FunctionSite>;
  readonly topLevel: ReadonlyMap<string, Binding>;
  /** what `moduleScope(id)` offers for this version: the names, and those it can write */
  readonly scope: { readonly names: ReadonlySet<string>; readonly writable: ReadonlySet<string> };
  readonly lines: readonly number[];
}

export type ReadResult =
  | { readonly ok: true; readonly version: ModuleVersion }
  | { readonly ok: false; readonly line: number; readonly message: string };

export function readVersion(file: ModuleFile, source: string): ReadResult {
  const parsed = parse(source, file.lang, file.sourceType);
  const lines = lineStarts(source);
  if (parsed.error !== null)
    return { ok: false, line: lineColumn(lines, parsed.error.start).line, message: parsed.error.message };
  const analysis = analyze(parsed.program, source, file.sourceType);
  const table = symbolTable(file.id, moduleKey(file.id), source, analysis, file.sourceType);
  const symbols = table.symbols;
  const scope = { names: new Set(table.scope), writable: new Set(table.scopeWritable) };
  const topLevel = new Map<string, Binding>();
  for (const b of analysis.topLevel) if (!topLevel.has(b.name)) topLevel.set(b.name, b);
  return {
    ok: true,
    version: {
      file,
      source,
      program: parsed.program,
      analysis,
      symbols,
      sites: functionSites(parsed.program),
      topLevel,
      scope,
      lines,
    },
  };
}

export function lineAt(v: ModuleVersion, pos: number): number {
  return lineColumn(v.lines, pos).line;
}

export function fnText(v: ModuleVersion, fn: FunctionInfo): string {
  return v.source.slice(fn.start, fn.end);
}
