/**
 * Source maps for the loader's output. The transform only inserts text (and
 * replaces multi-line parameters with as many line breaks), so lines never
 * move; only columns after an insertion shift. Node does not interpolate
 * within a segment, so the map has a segment at every token boundary (where a
 * stack frame's column can point). Built only when the process uses source
 * maps (`--enable-source-maps`): stack traces without them show the right
 * lines anyway.
 */

import { encode, type SourceMapSegment } from '@jridgewell/sourcemap-codec';
import type { Edit } from './fragments.ts';

export interface SourceMapV3 {
  version: 3;
  file?: string;
  sources: string[];
  names: string[];
  mappings: string;
}

export function buildSourceMap(source: string, edits: readonly Edit[], sourceUrl: string): SourceMapV3 {
  const lines: SourceMapSegment[][] = [[]];
  let genLine = 0;
  let genCol = 0;
  let origLine = 0;
  let origCol = 0;
  let pos = 0;

  const copy = (to: number): void => {
    // original text [pos, to) is copied unchanged: identity segments at token boundaries
    let prev = -1;
    let line = lines[genLine]!;
    for (; pos < to; pos++) {
      const c = source.charCodeAt(pos);
      if (c === 10) {
        genLine++;
        origLine++;
        genCol = 0;
        origCol = 0;
        line = [];
        lines.push(line);
        prev = -1;
        continue;
      }
      const cls = c === 32 || c === 9 || c === 13 ? 0 : isWord(c) ? 1 : 2;
      if (cls !== 0 && (cls === 2 || cls !== prev)) line.push([genCol, 0, origLine, origCol]);
      prev = cls;
      genCol++;
      origCol++;
    }
  };

  for (const e of edits) {
    copy(e.at);
    // the inserted text maps to the point where it was inserted
    lines[genLine]!.push([genCol, 0, origLine, origCol]);
    const parts = e.text.split('\n');
    if (parts.length === 1) genCol += e.text.length;
    else {
      for (let i = 1; i < parts.length; i++) lines.push([]);
      genLine += parts.length - 1;
      genCol = parts[parts.length - 1]!.length;
    }
    if (e.remove > 0) {
      const removed = source.slice(e.at, e.at + e.remove);
      const nls = removed.split('\n');
      origLine += nls.length - 1;
      origCol = nls.length === 1 ? origCol + e.remove : nls[nls.length - 1]!.length;
      pos = e.at + e.remove;
      if (nls.length > 1) lines[genLine]!.push([genCol, 0, origLine, origCol]);
    }
  }
  copy(source.length);
  return { version: 3, sources: [sourceUrl], names: [], mappings: encode(lines) };
}

function isWord(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 36 || c > 127;
}

/** The comment that attaches a map to generated code. */
export function sourceMapComment(map: SourceMapV3): string {
  return '\n//# sourceMappingURL=data:application/json;base64,' + Buffer.from(JSON.stringify(map)).toString('base64');
}
