/**
 * Where the module prologue goes: the one place the loader inserts code
 * outside any function (see fragments.ts, `prologue`), before the module's own
 * code runs.
 */

/**
 * Where the module prologue goes when the module has no directives: at the
 * start of the first line that is code. Not on a `#!` line (it is a comment
 * to its end: the prologue would be commented out), and in a script not in
 * front of an HTML-like `-->` comment (Annex B B.1.1: one is a comment only
 * at the start of a line; behind the prologue it would be a syntax error).
 * Lines never move, so the prologue cannot go on a line of its own.
 */
export function prologueStart(source: string, isModule: boolean): number {
  let at = 0;
  if (source.startsWith('#!')) at = afterLine(source, 0);
  if (!isModule)
    while (at < source.length && HTML_CLOSE_COMMENT.test(source.slice(at, at + 4096))) at = afterLine(source, at);
  return at;
}

/** whitespace and one-line block comments, then `-->` (ECMA-262 B.1.1 SingleLineHTMLCloseComment) */
const HTML_CLOSE_COMMENT = /^(?:[\t\v\f \u00a0\ufeff\p{Zs}]|\/\*(?:[^*\n\r\u2028\u2029]|\*(?!\/))*\*\/)*-->/u;

/** The start of the line after the one `at` is on (the end of the source on the last line). */
function afterLine(source: string, at: number): number {
  for (let i = at; i < source.length; i++) {
    const c = source.charCodeAt(i);
    if (c === 13) return source.charCodeAt(i + 1) === 10 ? i + 2 : i + 1;
    if (c === 10 || c === 0x2028 || c === 0x2029) return i + 1;
  }
  return source.length;
}
