/**
 * Reading a version's source files from disk: listing them (POSIX paths
 * relative to the root), and their UTF-8 text without its byte order mark
 * (Node strips it before compiling), undefined for a file that cannot be
 * read, each file read once.
 */

import { readdirSync, readFileSync, statSync } from 'node:fs';
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

/**
 * Every file under `root` (POSIX paths relative to it), skipping directories
 * named in `skip`. A link to a file counts as the file; a link to a
 * directory is followed only with `followDirLinks` (a linked package, as
 * Node follows it); a dangling link is nothing.
 */
export function walkFiles(
  root: string,
  skip: ReadonlySet<string>,
  followDirLinks: boolean,
  onFile: (path: string) => void,
  rel = '',
): void {
  let entries;
  try {
    entries = readdirSync(rel === '' ? root : join(root, rel), { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const path = rel === '' ? e.name : rel + '/' + e.name;
    if (e.isDirectory()) {
      if (!skip.has(e.name)) walkFiles(root, skip, followDirLinks, onFile, path);
    } else if (e.isFile()) onFile(path);
    else if (e.isSymbolicLink()) {
      try {
        const st = statSync(join(root, path));
        if (st.isFile()) onFile(path);
        else if (st.isDirectory() && followDirLinks) walkFiles(root, skip, followDirLinks, onFile, path);
      } catch {
        // dangling link
      }
    }
  }
}
