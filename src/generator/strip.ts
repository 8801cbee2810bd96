/**
 * TypeScript to JavaScript for the patch module, with Node's own type
 * stripper: the same transformation Node applies to the running program,
 * and it replaces types by blanks, so every offset of the TypeScript parse
 * is still right in the output (and so is the source map).
 */

import { stripTypeScriptTypes } from 'node:module';
import { lineColumn, lineStarts } from '../instrument/transform.ts';
import { eachChild, NON_ERASABLE_TYPES } from '../instrument/syntax.ts';
import type { Node, Program } from './ast.ts';

export type Stripped =
  | { readonly ok: true; readonly code: string }
  | { readonly ok: false; readonly line: number; readonly message: string };

export function stripTypes(source: string, program: Program): Stripped {
  // Node warns once per process that the function is experimental: not the user's concern here
  const emit = process.emitWarning;
  process.emitWarning = (() => {}) as typeof process.emitWarning;
  try {
    return { ok: true, code: stripTypeScriptTypes(source, { mode: 'strip' }) };
  } catch (e) {
    const at = firstNonErasable(program);
    return {
      ok: false,
      line: at === null ? 1 : lineColumn(lineStarts(source), at).line,
      message: (e as Error).message,
    };
  } finally {
    process.emitWarning = emit;
  }
}

/** Where Node's stripper gives up, for the message (it gives no position). */
function firstNonErasable(n: Node): number | null {
  if (NON_ERASABLE_TYPES.has(n.type) && n.declare !== true) return n.start;
  let found: number | null = null;
  eachChild(n, (c) => {
    if (found === null) found = firstNonErasable(c);
  });
  return found;
}
