/**
 * Reading a version's source files from disk: UTF-8 text without its byte
 * order mark (Node strips it before compiling), undefined for a file that
 * cannot be read, each file read once.
 */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A reader of the files under `dir` by relative path, each read at most once. */
export function cachedReader(dir: string): (path: string) => string | undefined {
  const cache = new Map<string, string | undefined>();
  return (path) => {
    if (cache.has(path)) return cache.get(path);
    let text: string | undefined;
    try {
      text = readFileSync(join(dir, path), 'utf8');
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    } catch {
      text = undefined;
    }
    cache.set(path, text);
    return text;
  };
}
