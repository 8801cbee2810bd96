/**
 * The arrows of docs/architecture.md, checked on the source: no import
 * cycle between two files of src/ (type-only imports count: a cycle of
 * types is still two files that cannot be read one without the other), and
 * every import between layers runs the way the layer table allows. The
 * import graph comes from the parser the loader already uses (oxc's module
 * record: static imports, re-exports and literal dynamic imports).
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { globSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseSync } from 'oxc-parser';

const root = fileURLToPath(new URL('../../', import.meta.url));

/**
 * The layers, and what each may import (docs/architecture.md). A layer is a
 * folder of src/, or one of the package's entry files at its top.
 */
const ALLOWED: Record<string, readonly string[]> = {
  core: [],
  instrument: [],
  runtime: ['core', 'instrument'],
  control: ['core', 'runtime'],
  generator: ['instrument'],
  cli: ['control', 'core', 'generator', 'runtime'],
  index: ['core', 'runtime'],
  register: ['control', 'core', 'runtime'],
};

function layerOf(file: string): string {
  const parts = file.split('/');
  return parts.length > 2 ? parts[1]! : parts[1]!.replace(/\.ts$/, '');
}

/** file -> the src files it imports (repository-relative POSIX paths) */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of globSync('src/**/*.ts', { cwd: root })
    .map((f) => f.split('\\').join('/'))
    .sort()) {
    const text = readFileSync(join(root, file), 'utf8');
    const { module, errors } = parseSync(file, text);
    assert.deepEqual(errors, [], `${file} parses`);
    const specifiers = [
      ...module.staticImports.map((i) => i.moduleRequest.value),
      ...module.staticExports.flatMap((e) =>
        e.entries.flatMap((x) => (x.moduleRequest ? [x.moduleRequest.value] : [])),
      ),
      ...module.dynamicImports
        .map((d) => text.slice(d.moduleRequest.start, d.moduleRequest.end))
        .filter((s) => /^(['"]).*\1$/.test(s))
        .map((s) => s.slice(1, -1)),
    ];
    const deps = specifiers
      .filter((s) => s.startsWith('.'))
      .map((s) =>
        normalize(join(dirname(file), s))
          .split('\\')
          .join('/'),
      );
    graph.set(file, [...new Set(deps)]);
  }
  return graph;
}

/** The strongly connected components with more than one file (Tarjan), and files that import themselves. */
function cycles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

const graph = importGraph();

test('the import graph is read: every relative import names a file of src/', () => {
  assert.ok(graph.size > 50, `${graph.size} files`);
  for (const [file, deps] of graph) {
    for (const d of deps) assert.ok(graph.has(d), `${file} imports ${d}, which is not a source file`);
  }
});

test('no import cycle between files of src/, type-only imports included', () => {
  assert.deepEqual(cycles(graph), []);
});

test('the cycle finder finds a cycle (a check that cannot fail is no check)', () => {
  const g = new Map([
    ['a', ['b']],
    ['b', ['c']],
    ['c', ['a']],
    ['d', ['a']],
  ]);
  assert.deepEqual(cycles(g), [['a', 'b', 'c']]);
});

test('imports between layers run the way docs/architecture.md says', () => {
  const wrong: string[] = [];
  for (const [file, deps] of graph) {
    const from = layerOf(file);
    assert.ok(from in ALLOWED, `${file}: layer '${from}' is not in the layer table`);
    for (const d of deps) {
      const to = layerOf(d);
      if (to !== from && !ALLOWED[from]!.includes(to)) wrong.push(`${file} -> ${d}`);
    }
  }
  assert.deepEqual(wrong, []);
});

test('src/core is pure: it imports no Node module and nothing outside itself', () => {
  for (const file of globSync('src/core/**/*.ts', { cwd: root })) {
    const { module } = parseSync(file, readFileSync(join(root, file), 'utf8'));
    for (const i of module.staticImports) {
      const s = i.moduleRequest.value;
      assert.ok(s.startsWith('./'), `${relative(root, join(root, file))} imports '${s}'`);
    }
  }
});
