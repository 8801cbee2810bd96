/**
 * Parsing, through oxc-parser. Raw transfer (the AST built in a shared buffer
 * and deserialised in one pass) is 5x faster than oxc's JSON path and 2x
 * faster than meriyah or acorn on large files (docs/benchmarks.md, "Parsing");
 * it needs a large virtual reservation, so a platform that refuses it falls
 * back to the ordinary path.
 */

import type { ParserOptions } from 'oxc-parser';
import type { Program } from './estree.ts';

// Builtins through getBuiltinModule, not `import`: an ES import of node:fs or
// node:crypto evaluates every lazy export (fs.promises, webcrypto…), ms of each start.
const { createRequire } = process.getBuiltinModule('node:module');

type Oxc = typeof import('oxc-parser');

/**
 * oxc-parser is loaded on the first parse: a start with a warm transform
 * cache never parses, and should not pay for loading a native addon.
 */
let oxc: Oxc | undefined;
let raw = false;
function parser(): Oxc {
  if (oxc === undefined) {
    oxc = createRequire(import.meta.url)('oxc-parser') as Oxc;
    raw = oxc.rawTransferSupported();
  }
  return oxc;
}

export type Lang = 'js' | 'jsx' | 'ts' | 'tsx';
export type SourceType = 'module' | 'commonjs' | 'script';

export interface ParseResult {
  readonly program: Program;
  /** the first error oxc reports, if any (the module then loads uninstrumented) */
  readonly error: { readonly message: string; readonly start: number } | null;
}

export function parse(source: string, lang: Lang, sourceType: SourceType): ParseResult {
  // oxc's 'commonjs' allows top-level return and treats the file as a function body.
  // `experimentalRawTransfer` is read by oxc-parser's JS wrapper but missing from its typings.
  const { parseSync } = parser();
  const options = { lang, sourceType, preserveParens: true, experimentalRawTransfer: raw } as ParserOptions;
  let result;
  try {
    result = parseSync(fileNameFor(lang), source, options);
  } catch (e) {
    if (!raw) throw e;
    // e.g. the 6 GiB reservation refused (ulimit -v, overcommit off): fall back for good
    raw = false;
    result = parseSync(fileNameFor(lang), source, { ...options, experimentalRawTransfer: false } as ParserOptions);
  }
  const errors = result.errors;
  const first = errors.length > 0 ? errors[0]! : null;
  return {
    program: result.program as unknown as Program,
    error: first === null ? null : { message: first.message, start: first.labels[0]?.start ?? 0 },
  };
}

function fileNameFor(lang: Lang): string {
  return 'input.' + lang;
}
