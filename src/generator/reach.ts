/**
 * Which files of a package a running process can load: what the package's
 * entry points reach. A published package ships more than Node loads —
 * tests, browser bundles, `dist/` copies of the same code, docs, build
 * scripts — and a change there is no change of the running program: it must
 * not be compared (a browser bundle's rebuilt closures would be refused for
 * nothing).
 *
 * The entry points are `exports` (every target under the conditions Node
 * can use: not `browser`, `types`, `deno`, `react-native`...), else `main`
 * (default `index.js`); `imports` targets too. From them, static
 * dependencies are followed: `require('<literal>')`, `import`/`export ...
 * from`, `import('<literal>')` of relative paths, of the package's own name
 * and of `#imports`, resolved the way Node would (CommonJS's extensions and
 * `index.js`, a directory's package.json `main`). Files the process has
 * loaded (known with `--pid`) are added: a dependent may require a file
 * directly when there is no `exports`.
 */

import { parse } from '../instrument/parse.ts';
import { eachChild } from '../instrument/syntax.ts';
import type { Node } from './ast.ts';
import { isModulePath } from './modules.ts';
import type { PackageFiles } from './package-files.ts';

/** Conditions Node never uses by itself: other platforms and type checkers. */
const FOREIGN_CONDITIONS = new Set([
  'browser',
  'types',
  'typings',
  'deno',
  'react-native',
  'worker',
  'worklet',
  'bun',
  'electron',
  'svelte',
  'style',
  'sass',
]);

export interface Reach {
  /** module files the process can load */
  readonly files: Set<string>;
  /** the entry points it started from */
  readonly entries: string[];
}

export function reachedFiles(pkg: PackageFiles, loaded: Iterable<string> = []): Reach {
  const all = new Set(pkg.list());
  const files = new Set<string>();
  const queue: string[] = [];
  const add = (p: string | null) => {
    if (p === null || files.has(p) || !all.has(p)) return;
    files.add(p);
    if (isModulePath(p)) queue.push(p);
  };
  const entries = entryPoints(pkg, all);
  for (const e of entries) add(e);
  for (const p of loaded) add(p);
  while (queue.length > 0) {
    const file = queue.pop()!;
    const text = pkg.read(file);
    if (text === undefined) continue;
    for (const spec of specifiers(file, text)) add(resolveSpecifier(pkg, all, file, spec));
  }
  return { files, entries };
}

/** The files `exports` (or `main`) and `imports` name. */
function entryPoints(pkg: PackageFiles, all: ReadonlySet<string>): string[] {
  const out: string[] = [];
  const targets = (v: unknown): void => {
    if (typeof v === 'string') out.push(...expand(v, all));
    else if (Array.isArray(v)) v.forEach(targets);
    else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v))
        if (k.startsWith('.') || k.startsWith('#') || !FOREIGN_CONDITIONS.has(k)) targets(x);
    }
  };
  if (pkg.json.exports !== undefined && pkg.json.exports !== null) targets(pkg.json.exports);
  else {
    const main = typeof pkg.json.main === 'string' && pkg.json.main !== '' ? pkg.json.main : 'index.js';
    const m = asFile(all, clean(main)) ?? asDirectory(pkg, all, clean(main)) ?? asFile(all, 'index.js');
    if (m !== null) out.push(m);
  }
  if (pkg.json.imports !== undefined) targets(pkg.json.imports);
  return out;
}

/** A target: a file, or every file a `*` pattern matches. */
function expand(target: string, all: ReadonlySet<string>): string[] {
  if (!target.startsWith('./')) return []; // a package name: another package
  const t = clean(target);
  if (!t.includes('*')) return all.has(t) ? [t] : [];
  const re = new RegExp(
    '^' +
      t
        .split('*')
        .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*') +
      '$',
  );
  return [...all].filter((p) => re.test(p));
}

function clean(p: string): string {
  return p.replace(/^\.\//, '').replace(/\/+$/, '');
}

/** The specifiers a module's code names statically. */
function specifiers(file: string, text: string): string[] {
  const lang = /\.[cm]?ts$/.test(file) ? 'ts' : 'js';
  let r = parse(text, lang, 'module');
  if (r.error !== null) r = parse(text, lang, 'commonjs');
  if (r.error !== null) return [];
  const out: string[] = [];
  const lit = (n: unknown): string | null => {
    const x = n as Node | null | undefined;
    return x?.type === 'Literal' && typeof x.value === 'string' ? x.value : null;
  };
  const visit = (n: Node): void => {
    switch (n.type) {
      case 'ImportDeclaration':
      case 'ExportAllDeclaration':
      case 'ExportNamedDeclaration': {
        const s = lit(n.source);
        if (s !== null) out.push(s);
        break;
      }
      case 'ImportExpression': {
        const s = lit(n.source);
        if (s !== null) out.push(s);
        break;
      }
      case 'CallExpression': {
        const callee = n.callee as Node;
        const args = n.arguments as Node[];
        if (callee.type === 'Identifier' && callee.name === 'require' && args.length >= 1) {
          const s = lit(args[0]);
          if (s !== null) out.push(s);
        }
        break;
      }
    }
    eachChild(n, visit);
  };
  visit(r.program);
  return out;
}

/** Where a specifier leads inside the package, or null (a builtin, another package, a file it lacks). */
function resolveSpecifier(pkg: PackageFiles, all: ReadonlySet<string>, from: string, spec: string): string | null {
  const path = spec.split(/[?#]/)[0]!;
  if (spec.startsWith('./') || spec.startsWith('../')) {
    const dir = from.includes('/') ? from.slice(0, from.lastIndexOf('/')) : '';
    const joined = normalize(dir === '' ? path : `${dir}/${path}`);
    return joined === null ? null : (asFile(all, joined) ?? asDirectory(pkg, all, joined));
  }
  if (spec.startsWith('#')) return firstTarget(pkg.json.imports, spec, all);
  // the package's own name: a self-reference
  if (spec === pkg.name || spec.startsWith(pkg.name + '/')) {
    const sub = '.' + spec.slice(pkg.name.length);
    if (pkg.json.exports !== undefined && pkg.json.exports !== null) return firstTarget(pkg.json.exports, sub, all);
    return sub === '.'
      ? (entryPoints(pkg, all)[0] ?? null)
      : (asFile(all, sub.slice(2)) ?? asDirectory(pkg, all, sub.slice(2)));
  }
  return null;
}

/** The first file a key of an `exports`/`imports` map leads to. */
function firstTarget(map: unknown, key: string, all: ReadonlySet<string>): string | null {
  let v: unknown = map;
  if (typeof map === 'string' || Array.isArray(map)) v = key === '.' ? map : undefined;
  else if (map !== null && typeof map === 'object') {
    const keys = Object.keys(map);
    const subpaths = keys.some((k) => k.startsWith('.') || k.startsWith('#'));
    if (!subpaths) v = key === '.' ? map : undefined;
    else v = (map as Record<string, unknown>)[key];
  }
  const found: string[] = [];
  const collect = (x: unknown): void => {
    if (typeof x === 'string') found.push(...expand(x, all));
    else if (Array.isArray(x)) x.forEach(collect);
    else if (x !== null && typeof x === 'object')
      for (const [k, y] of Object.entries(x)) if (!FOREIGN_CONDITIONS.has(k)) collect(y);
  };
  collect(v);
  return found[0] ?? null;
}

function normalize(p: string): string | null {
  const parts: string[] = [];
  for (const s of p.split('/')) {
    if (s === '' || s === '.') continue;
    if (s === '..') {
      if (parts.length === 0) return null;
      parts.pop();
    } else parts.push(s);
  }
  return parts.join('/');
}

/** CommonJS's file lookup (which also finds ESM's exact paths). */
function asFile(all: ReadonlySet<string>, p: string): string | null {
  for (const ext of ['', '.js', '.json', '.cjs', '.mjs', '.node']) if (all.has(p + ext)) return p + ext;
  return null;
}

/** A directory: its package.json's `main`, else its index. */
function asDirectory(pkg: PackageFiles, all: ReadonlySet<string>, dir: string): string | null {
  const pj = pkg.read(dir === '' ? 'package.json' : `${dir}/package.json`);
  if (pj !== undefined) {
    try {
      const main = (JSON.parse(pj) as { main?: unknown }).main;
      if (typeof main === 'string') {
        const m = normalize(`${dir}/${main}`);
        const f = m === null ? null : (asFile(all, m) ?? asFile(all, `${m}/index`));
        if (f !== null) return f;
      }
    } catch {
      // not JSON: fall back to the index
    }
  }
  return asFile(all, dir === '' ? 'index' : `${dir}/index`);
}
