/**
 * Which files of a tree are modules, how the loader reads each (language and
 * module format), the module id a patch names it by, and which modules
 * differ between two trees. Mirrors the loader's rules (src/runtime/loader.ts
 * `formatOf`, src/runtime/module-id.ts) over a tree instead of the disk.
 */

import { parse } from '../instrument/parse.ts';
import type { Lang, SourceType } from '../instrument/parse.ts';
import type { SourceTree } from './tree.ts';

export interface ModuleFile {
  readonly path: string;
  readonly id: string;
  readonly lang: Lang;
  readonly sourceType: SourceType;
}

export interface ModuleDiff {
  /** modules in both trees whose text differs */
  readonly changed: string[];
  /** paths only in the new tree */
  readonly added: string[];
  /** paths only in the old tree */
  readonly removed: string[];
  /** how many module files were compared */
  readonly compared: number;
}

const MODULE_EXT = /\.(?:[cm]?js|[cm]?ts)$/;

export function isModulePath(path: string): boolean {
  return MODULE_EXT.test(path) && !/\.d\.[cm]?ts$/.test(path);
}

/** The loader's module id: the path from the app root, or inside node_modules the path after the first `node_modules/`. */
export function moduleIdOf(path: string): string {
  const nm = path.indexOf('node_modules/');
  if (nm !== -1 && (nm === 0 || path[nm - 1] === '/')) return path.slice(nm + 'node_modules/'.length);
  return path;
}

/** How the loader reads `path`: by extension, then by the nearest package.json's "type". */
export function moduleFile(tree: SourceTree, path: string, text: string): ModuleFile {
  const ext = path.slice(path.lastIndexOf('.'));
  const lang: Lang = ext.endsWith('ts') ? 'ts' : 'js';
  let sourceType: SourceType;
  if (ext === '.mjs' || ext === '.mts') sourceType = 'module';
  else if (ext === '.cjs' || ext === '.cts') sourceType = 'commonjs';
  else {
    const type = packageType(tree, path);
    // no "type": Node detects ES module syntax
    sourceType = type ?? (hasModuleSyntax(text, lang) ? 'module' : 'commonjs');
  }
  return { path, id: moduleIdOf(path), lang, sourceType };
}

function packageType(tree: SourceTree, path: string): 'module' | 'commonjs' | undefined {
  let dir = path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '';
  for (;;) {
    const text = tree.read(dir === '' ? 'package.json' : dir + '/package.json');
    if (text !== undefined) {
      try {
        const type = (JSON.parse(text) as { type?: unknown }).type;
        return type === 'module' ? 'module' : type === 'commonjs' ? 'commonjs' : undefined;
      } catch {
        return undefined;
      }
    }
    // Node stops looking at a node_modules directory
    if (dir === '' || dir.endsWith('node_modules')) return undefined;
    dir = dir.includes('/') ? dir.slice(0, dir.lastIndexOf('/')) : '';
  }
}

function hasModuleSyntax(text: string, lang: Lang): boolean {
  if (!/\b(?:import|export)\b/.test(text)) return false;
  const { program, error } = parse(text, lang, 'module');
  if (error !== null) return false;
  return (program.body as { type: string }[]).some((s) => s.type.startsWith('Import') || s.type.startsWith('Export'));
}

/** The modules that differ between `old` and `new`. */
export function diffModules(old: SourceTree, next: SourceTree): ModuleDiff {
  const changed: string[] = [];
  const added: string[] = [];
  const removed: string[] = [];
  const oldPaths = old.paths();
  const newPaths = next.paths();
  const both: string[] = [];
  for (const p of newPaths) {
    if (!isModulePath(p)) continue;
    if (oldPaths.has(p)) both.push(p);
    else added.push(p);
  }
  for (const p of oldPaths) if (isModulePath(p) && !newPaths.has(p)) removed.push(p);
  const unknown = both.filter((p) => (next.sameAs?.(old, p) ?? old.sameAs?.(next, p)) !== true);
  // read what must be read in bulk (one git process per tree)
  prefetch(old, unknown);
  prefetch(next, unknown);
  for (const p of unknown) if (old.read(p) !== next.read(p)) changed.push(p);
  return { changed: changed.sort(), added: added.sort(), removed: removed.sort(), compared: both.length };
}

function prefetch(tree: SourceTree, paths: readonly string[]): void {
  (tree as { prefetch?: (p: readonly string[]) => void }).prefetch?.(paths);
}
