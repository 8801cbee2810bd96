/**
 * The syntax knowledge of src/instrument/syntax.ts against the parser's own:
 * the child walk (a node's node-valued keys in order, but types) visits what
 * oxc-parser's `visitorKeys` lists for each node type without its type keys,
 * in the same order, with one known difference (`Program.hashbang`, which
 * the table leaves out); and every node type syntax.ts names is one the
 * parser knows. A parser upgrade that adds, renames or reorders keys fails
 * here, before it changes which functions the loader finds or in which order
 * it numbers them (sympos).
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { globSync, readFileSync } from 'node:fs';
import { visitorKeys } from 'oxc-parser';
import type { Node } from '../../src/instrument/estree.ts';
import { parse, type Lang, type SourceType } from '../../src/instrument/parse.ts';
import {
  eachChild,
  FUNCTION_TYPES,
  isNode,
  NOT_RUN_TYPES,
  TRANSPARENT_TYPES,
  TYPE_KEYS,
  TYPE_ONLY_TYPES,
} from '../../src/instrument/syntax.ts';

const root = new URL('../../', import.meta.url);
const keysOf = visitorKeys as Readonly<Record<string, readonly string[] | undefined>>;

/** Code with the syntax the libraries below lack: JSX, TypeScript's classes and declarations, a `#!` line. */
const SNIPPETS: { source: string; lang: Lang; sourceType: SourceType }[] = [
  {
    lang: 'tsx',
    sourceType: 'module',
    source: `import type { FC } from 'react';
export const C: FC<{ a: number }> = ({ a }: { a: number }) =>
  <div key="k" {...rest}>{a}<Other.Inner x={a} /><></></div>;
export const D = <T,>(x: T) => <ns:tag attr="v">{/* empty */}{...children}</ns:tag>;
`,
  },
  {
    lang: 'ts',
    sourceType: 'module',
    source: `#!/usr/bin/env node
import json from './data.json' with { type: 'json' };
enum E { A = 1, B = A * 2 }
namespace N { export function f(): E { return E.A; } }
declare namespace D { function h(): void; }
declare function overload(a: string): void;
function overload(a: unknown) { return a; }
@sealed abstract class A<T> extends Base<T> implements I {
  abstract m(): void;
  abstract p: number;
  private readonly q: number = 1;
  declare r: string;
  [key: string]: unknown;
  constructor(public x: number, private y = () => x) { super(); }
  @dec method(@dec2 a: number): this { return this; }
  static { var z = 1; }
  accessor acc = () => 1;
  get g(): number { return this.q; }
}
const sat = { f() { return 1; } } satisfies object;
const nn = maybe!.call(null as any, <T>value);
const inst = fn<string>;
type Alias = { m(): void };
interface I2 { n: number }
function withThis(this: Window, a: number) {
  label: for (const k in this) { if (k) continue label; else break label; }
  return a;
}
export default class { m() { return import.meta.url ?? import('./x.ts'); } }
`,
  },
  {
    lang: 'js',
    sourceType: 'commonjs',
    source: [
      'function f(a) { with (a) { if (b) { function g() {} } } try { throw 1; } catch ({ message }) { debugger; } }',
      'switch (x) { case 1: let y = () => x; default: ; }',
      'var t = tag`a${b}c`, n = new.target, r = /re/g, big = 1n;',
      'for (var i = 0; i < 1; i++) do { yield: while (0); } while (0);',
    ].join('\n'),
  },
];

function* corpus(): Generator<{ name: string; source: string; lang: Lang; sourceType: SourceType }> {
  yield* SNIPPETS.map((s, i) => ({ name: `snippet ${i}`, ...s }));
  for (const f of ['acorn/dist/acorn.mjs', 'marked/lib/marked.esm.js']) {
    const source = readFileSync(new URL(`node_modules/${f}`, root), 'utf8');
    yield { name: f, source, lang: 'js', sourceType: 'module' };
  }
  // this repository's own TypeScript
  for (const f of globSync('src/**/*.ts', { cwd: root })) {
    yield { name: f, source: readFileSync(new URL(f, root), 'utf8'), lang: 'ts', sourceType: 'module' };
  }
}

test("the child walk is oxc's visitorKeys without the type keys: the same children, in the same order", () => {
  const wrong = new Map<string, string>();
  const unknown = new Set<string>();
  let nodes = 0;
  const check = (n: Node): void => {
    nodes++;
    const table = keysOf[n.type];
    if (table === undefined) unknown.add(n.type);
    else {
      const holdsNode = (key: string): boolean => {
        const v = n[key];
        return Array.isArray(v) ? v.some(isNode) : isNode(v);
      };
      const expected = table.filter((key) => !TYPE_KEYS.has(key) && holdsNode(key));
      // the one key the table leaves out: a `#!` line (a node without children)
      if (n.type === 'Program' && isNode(n.hashbang)) expected.push('hashbang');
      const walked: string[] = [];
      eachChild(n, (_, key) => {
        if (walked[walked.length - 1] !== key) walked.push(key);
      });
      if (walked.join() !== expected.join()) {
        wrong.set(n.type, `walked ${walked.join()}; visitorKeys ${expected.join()}`);
      }
    }
    eachChild(n, check);
  };
  for (const { name, source, lang, sourceType } of corpus()) {
    const r = parse(source, lang, sourceType);
    assert.equal(r.error, null, `${name}: ${r.error?.message}`);
    check(r.program);
  }
  assert.deepEqual(Object.fromEntries(wrong), {});
  assert.deepEqual([...unknown], ['Hashbang'], 'node types the table lacks');
  assert.ok(nodes > 100_000, `${nodes} nodes`);
});

test('every node type and key syntax.ts names is one the parser has', () => {
  const named = [...FUNCTION_TYPES, ...TYPE_ONLY_TYPES, ...NOT_RUN_TYPES, ...TRANSPARENT_TYPES];
  assert.deepEqual(
    named.filter((t) => keysOf[t] === undefined),
    [],
  );
  const keys = new Set(Object.values(keysOf).flatMap((k) => k ?? []));
  assert.deepEqual(
    [...TYPE_KEYS].filter((k) => !keys.has(k)),
    [],
  );
});
