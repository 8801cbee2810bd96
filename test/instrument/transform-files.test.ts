/**
 * The transform cache's key covers the transform's own code: TRANSFORM_FILES
 * (src/instrument/cache.ts, hashed into the loader version; tools/bundle.ts
 * hashes the same list) must name every file src/instrument/transform.ts
 * imports, directly or through another, type-only imports included — the
 * cache keeps each module's plan, whose shape those types describe. A file
 * missing from the list would let a changed transform serve output made by
 * the old one. Imports are read from oxc's module record (static imports,
 * re-exports, literal dynamic imports), not matched with a pattern, so an
 * import spread over lines or a re-export counts too.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { parseSync } from 'oxc-parser';
import { TRANSFORM_FILES } from '../../src/instrument/cache.ts';

const dir = new URL('../../src/instrument/', import.meta.url);

/** The relative specifiers a module imports or re-exports from. */
function relativeImports(fileName: string, text: string): string[] {
  const { module, errors } = parseSync(fileName, text);
  assert.deepEqual(errors, [], `${fileName} parses`);
  const specifiers = [
    ...module.staticImports.map((i) => i.moduleRequest.value),
    ...module.staticExports.flatMap((e) => e.entries.flatMap((x) => (x.moduleRequest ? [x.moduleRequest.value] : []))),
    ...module.dynamicImports
      .map((d) => text.slice(d.moduleRequest.start, d.moduleRequest.end))
      .filter((s) => /^(['"]).*\1$/.test(s))
      .map((s) => s.slice(1, -1)),
  ];
  // packages and builtins are not the transform's own code
  return specifiers.filter((s) => s.startsWith('.'));
}

/** The files of src/instrument that `name`.ts imports, by name without `.ts`. */
function importsOf(name: string): string[] {
  const out: string[] = [];
  for (const s of relativeImports(`${name}.ts`, readFileSync(new URL(`${name}.ts`, dir), 'utf8'))) {
    const m = /^\.\/([\w-]+)\.ts$/.exec(s);
    // the bundler hashes files of src/instrument only
    assert.ok(m !== null, `${name}.ts imports ${s}: the transform imports only files of src/instrument`);
    out.push(m[1]!);
  }
  return out;
}

/** Every file reached from `entry` (itself included), by name. */
function reachedFrom(entry: string): Set<string> {
  const reached = new Set<string>();
  const visit = (name: string): void => {
    if (reached.has(name)) return;
    reached.add(name);
    for (const dep of importsOf(name)) visit(dep);
  };
  visit(entry);
  return reached;
}

const listed: readonly string[] = TRANSFORM_FILES;

test('TRANSFORM_FILES names every file the transform imports, directly or not, type-only imports included', () => {
  const reached = reachedFrom('transform');
  const missing = [...reached].filter((name) => !listed.includes(name)).sort();
  assert.deepEqual(missing, [], 'imported, not in TRANSFORM_FILES');
  // and nothing else: an entry the transform no longer reaches only costs every cache entry, once
  assert.deepEqual(listed.filter((name) => !reached.has(name)).sort(), [], 'in TRANSFORM_FILES, not imported');
  // the walk itself works: it found the analysis behind analyze.ts, and a file only types lead to
  for (const name of ['analyze', 'scopes', 'syntax', 'analysis-types', 'symbol-table']) {
    assert.ok(reached.has(name), name);
  }
});

test('every file in TRANSFORM_FILES exists (the bundler reads each)', () => {
  for (const name of listed) assert.ok(existsSync(new URL(`${name}.ts`, dir)), `src/instrument/${name}.ts`);
});

test('the import reader sees what a pattern over lines would miss', () => {
  const text = [
    'import {',
    '  a,',
    '  type B,',
    "} from './spread.ts';",
    "import type { C } from './types-only.ts';",
    "export type { D } from './re-exported.ts';",
    "export * from './all.ts';",
    "import './side-effect.ts';",
    "const e = await import('./dynamic.ts');",
    "import { f } from 'a-package';",
    "// import { g } from './in-a-comment.ts';",
  ].join('\n');
  assert.deepEqual(relativeImports('x.ts', text).sort(), [
    './all.ts',
    './dynamic.ts',
    './re-exported.ts',
    './side-effect.ts',
    './spread.ts',
    './types-only.ts',
  ]);
});
