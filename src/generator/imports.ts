/**
 * Where the patch module imports what the fix's code imports. The patch
 * file can be anywhere, so a relative specifier is made absolute: the file
 * the running module would load, under the application root — the same URL,
 * so the same module instance the process already has. A file only the new
 * version has is refused unless it was deployed there. Builtins stay as they
 * are; a package name stays too and resolves from the patch file's
 * directory (write the patch inside the application's tree).
 */

import { existsSync } from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import { posix, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { SourceTree } from './tree.ts';

export type ImportTarget =
  | { readonly ok: true; readonly specifier: string; readonly note: string | null }
  | { readonly ok: false; readonly reason: string };

export function importTarget(specifier: string, fromPath: string, root: string, old: SourceTree): ImportTarget {
  if (specifier.startsWith('node:') || isBuiltin(specifier) || /^[a-z][a-z0-9+.-]*:/i.test(specifier))
    return { ok: true, specifier, note: null };
  if (specifier.startsWith('./') || specifier.startsWith('../') || specifier.startsWith('/')) {
    const clean = specifier.split(/[?#]/)[0]!;
    const target = clean.startsWith('/') ? null : posix.normalize(posix.join(posix.dirname(fromPath), clean));
    const file = target === null ? clean : resolve(root, target);
    if (target !== null && target.startsWith('../'))
      return { ok: true, specifier: pathToFileURL(file).href, note: `'${specifier}' is outside the application root` };
    if ((target === null || old.read(target) === undefined) && !existsSync(file)) {
      return { ok: false, reason: `imports '${specifier}', a file the running program does not have (${file})` };
    }
    return { ok: true, specifier: pathToFileURL(file).href + specifier.slice(clean.length), note: null };
  }
  return { ok: true, specifier, note: `the package '${specifier}' resolves from the patch file's directory` };
}

/**
 * A `require()` the fix adds to a CommonJS module: the patch requires the
 * same specifier from the running module's file (`createRequire`), so it
 * gets what the running module would — the same instance from the
 * require cache. It must resolve there: a file or package the running
 * program does not have is refused.
 */
export function requireTarget(specifier: string, fromPath: string, root: string, old: SourceTree): ImportTarget {
  if (specifier.startsWith('node:') || isBuiltin(specifier)) return { ok: true, specifier, note: null };
  const running = resolve(root, fromPath);
  if (existsSync(running)) {
    try {
      createRequire(running).resolve(specifier);
      return { ok: true, specifier, note: null };
    } catch {
      return { ok: false, reason: `requires '${specifier}', which the running module cannot resolve (${running})` };
    }
  }
  // a tree that is not on disk: look for the file the way require() would
  if (specifier.startsWith('./') || specifier.startsWith('../')) {
    const base = posix.normalize(posix.join(posix.dirname(fromPath), specifier));
    const found = ['', '.js', '.cjs', '.json', '/index.js', '/index.cjs'].some(
      (ext) => old.read(base + ext) !== undefined || existsSync(resolve(root, base + ext)),
    );
    if (!found) return { ok: false, reason: `requires '${specifier}', a file the running program does not have` };
    return { ok: true, specifier, note: null };
  }
  return { ok: true, specifier, note: `the package '${specifier}' is required from ${fromPath}` };
}
