/**
 * The transform on its own: qualified names and sympos (R3.5), hashes that
 * ignore moves, captures, forwarding, and the refusals.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileFunction } from 'node:vm';
import { readFileSync } from 'node:fs';
import { transform } from '../../src/instrument/transform.ts';
import { TRANSFORM_FILES } from '../../src/instrument/cache.ts';

function symbols(source: string, sourceType: 'module' | 'commonjs' = 'module', lang: 'js' | 'ts' = 'js') {
  const r = transform({ source, moduleId: 'm.js', lang, sourceType });
  if (!r.ok) throw new Error(r.message);
  return r.symbols.symbols;
}

test('qualified names follow where a function sits in the program', () => {
  const names = symbols(
    `
    function parse() {}
    const f = () => {};
    const g = function named() {};
    class Router {
      constructor() { this.cb = () => {}; }
      handle() { function inner() {} return [1].map((x) => x); }
      static create() {}
      get size() { return 0; }
      set size(v) {}
      #check() {}
      static #s() {}
      field = () => {};
      static sfield = function () {};
      [Symbol.iterator]() {}
      'content-type'() {}
    }
    const api = { get() {}, nested: { deep() {} }, arrow: () => {} };
    exports.parse = function () {};
    Router.prototype.legacy = function () {};
    module.exports = { x() {} };
    export default function () {}
    function makeServer() { return function onRequest() {}; }
  `,
    'module',
  ).map((s) => `${s.name}#${s.sympos}:${s.kind}`);
  assert.deepEqual(names, [
    'parse#1:function',
    'f#1:arrow',
    'named#1:function',
    'Router#1:constructor',
    'Router/this.cb#1:arrow',
    'Router.prototype.handle#1:method',
    'Router.prototype.handle/inner#1:function',
    'Router.prototype.handle/<anonymous>#1:arrow',
    'Router.create#1:method',
    'Router.prototype.get size#1:get',
    'Router.prototype.set size#1:set',
    'Router.prototype.#check#1:method',
    'Router.#s#1:method',
    'Router.prototype.field#1:arrow',
    'Router.sfield#1:function',
    'Router.prototype[Symbol.iterator]#1:method',
    'Router.prototype["content-type"]#1:method',
    'api.get#1:method',
    'api.nested.deep#1:method',
    'api.arrow#1:arrow',
    'exports.parse#1:function',
    'Router.prototype.legacy#1:function',
    'module.exports.x#1:method',
    'default#1:function',
    'makeServer#1:function',
    'makeServer/onRequest#1:function',
  ]);
});

test('R3.5: duplicate names are told apart by sympos, in source order', () => {
  const s = symbols(`
    function outer() { [].map(() => 1); [].map(() => 2); }
    { function dup() {} }
    { function dup() {} }
  `);
  assert.deepEqual(
    s.map((x) => `${x.name},${x.sympos}`),
    ['outer,1', 'outer/<anonymous>,1', 'outer/<anonymous>,2', 'dup,1', 'dup,2'],
  );
});

test('a hash changes with the code, not with where the code sits', () => {
  const a = symbols('function f(x) { return x + 1; }\nfunction g() {}');
  const b = symbols('\n\n// moved\nfunction g() {}\nfunction f(x) { return x + 1; }');
  const c = symbols('function f(x) { return x + 2; }');
  const hash = (s: typeof a, n: string) => s.find((x) => x.name === n)!.hash;
  assert.equal(hash(a, 'f'), hash(b, 'f'));
  assert.notEqual(hash(a, 'f'), hash(c, 'f'));
  assert.equal(a.find((x) => x.name === 'f')!.line, 1);
  assert.equal(b.find((x) => x.name === 'f')!.line, 5);
  // the kind is part of the identity of the code: an async version is another function
  const d = symbols('async function f(x) { return x + 1; }');
  assert.notEqual(hash(a, 'f'), hash(d, 'f'));
});

test('captures are the variables of enclosing functions a closure uses', () => {
  const s = symbols(`
    let moduleLevel = 1;
    function outer(a) {
      let used = 0, unused = 1;
      const k = 2;
      return function inner(b) {
        used += b;
        return used + k + a + moduleLevel + globalThis.x;
      };
    }
  `);
  const inner = s.find((x) => x.name === 'outer/inner')!;
  assert.deepEqual([...inner.captures].sort(), ['a', 'k', 'used']);
  assert.deepEqual(s.find((x) => x.name === 'outer')!.captures, []);
});

test('forwarding: explicit parameters, rest, or arguments where needed', () => {
  const s = symbols(`
    function simple(a, b) {}
    function rest(a, ...r) {}
    function defaults(a = 1) {}
    function usesArgs(a) { return arguments; }
    const arrowDestr = ({ a }, [b]) => a;
  `);
  const by = (n: string) => s.find((x) => x.name === n)!;
  assert.deepEqual([by('simple').arity, by('simple').rest], [2, false]);
  assert.deepEqual([by('rest').arity, by('rest').rest], [-1, true]);
  assert.deepEqual([by('defaults').arity, by('defaults').rest], [-1, true]);
  assert.deepEqual([by('usesArgs').arity, by('usesArgs').rest], [-1, true]);
  assert.deepEqual([by('arrowDestr').arity, by('arrowDestr').rest], [2, false]);
});

test('an arrow whose destructured parameters have defaults is armed when its defaults can move into the body', () => {
  const armed = (source: string) => {
    const r = transform({ source, moduleId: 'm.js', lang: 'js', sourceType: 'module' });
    assert.ok(r.ok);
    return { unpatchable: r.symbols.symbols[0]!.unpatchable, armed: r.code.includes('$lp' + r.options.key + '_0') };
  };
  // ansi-regex 5.0.0: `({onlyFirst = false} = {}) => { const pattern = ...; ... }`
  assert.deepEqual(armed('const f = ({ a = 1, b: [c = a] = [] } = {}) => { const p = 1; return [a, c, p]; };'), {
    unpatchable: null,
    armed: true,
  });
  // a default that reads a name the body declares would read the body's binding once moved
  const shadowed = armed('const x = 1; const f = ({ a = x }) => { let x = 2; return a + x; };');
  assert.match(shadowed.unpatchable!, /reads a name the body declares/);
  assert.equal(shadowed.armed, false);
  // ...also through a computed key
  assert.match(
    armed('const f = ({ a = { [x]: 1 } }) => { const x = 2; return a; };').unpatchable!,
    /reads a name the body declares/,
  );
  // a function in a default is armed where it stands: it cannot be copied
  assert.match(armed('const f = ({ a = () => 1 }) => a;').unpatchable!, /holds a function/);
  // a later default could read the names the pattern binds
  assert.match(armed('const f = ({ a }, b = a) => b;').unpatchable!, /default value after a destructured parameter/);
});

test('TypeScript: overloads and abstract members have no code; types are skipped', () => {
  const s = symbols(
    `
    function over(a: string): string;
    function over(a: any): any { return a; }
    abstract class A { abstract m(): void; n(this: A, x: number): number { return x; } }
    declare function ambient(): void;
  `,
    'module',
    'ts',
  );
  assert.deepEqual(
    s.map((x) => `${x.name}:${x.arity}`),
    ['over:1', 'A.prototype.n:1'],
  );
});

test('a module that does not parse is refused with the reason and position', () => {
  const r = transform({ source: 'function (', moduleId: 'bad.js', lang: 'js', sourceType: 'module' });
  assert.equal(r.ok, false);
  assert.ok(!r.ok && r.reason === 'parse-error' && /\(1:\d+\)/.test(r.message));
});

test('instrumenting instrumented code changes nothing', () => {
  const once = transform({
    source: 'function f(a) { return a; }',
    moduleId: 'm.js',
    lang: 'js',
    sourceType: 'commonjs',
  });
  assert.ok(once.ok);
  const twice = transform({ source: once.code, moduleId: 'm.js', lang: 'js', sourceType: 'commonjs' });
  assert.equal(twice.ok, false);
  assert.ok(!twice.ok && twice.reason === 'already-instrumented');
});

test('no inserted text contains a newline: lines are preserved', () => {
  const src = 'function a(x) {\n  return x;\n}\nconst b = async (y) =>\n  y * 2;\nclass C { m() {}\n}\n';
  const r = transform({ source: src, moduleId: 'm.js', lang: 'js', sourceType: 'module' });
  assert.ok(r.ok);
  assert.equal(r.code.split('\n').length, src.split('\n').length);
  for (const e of r.edits) assert.ok(!e.text.includes('\n'));
});

test('the module prologue goes after a #! line and never in front of a --> comment', () => {
  for (const [source, sourceType] of [
    ['#!/usr/bin/env node\nfunction f() {}\n', 'commonjs'],
    ['#!/usr/bin/env node\r\nexport function f() {}\n', 'module'],
    ['--> an HTML-like comment\n  /* c */ --> another\nfunction f() {}\n', 'commonjs'],
  ] as const) {
    const r = transform({ source, moduleId: 'm.js', lang: 'js', sourceType });
    assert.ok(r.ok);
    const lines = r.code.split(/\r?\n/);
    const at = lines.findIndex((l) => l.includes('.scope=('));
    // not commented out by the line before, and the comment lines stay as written
    assert.equal(at, source.startsWith('#!') ? 1 : 2, r.code);
    assert.deepEqual(lines.slice(0, at), source.split(/\r?\n/).slice(0, at));
    if (sourceType === 'commonjs')
      assert.doesNotThrow(() => compileFunction(r.code, ['exports', 'require', 'module', '__filename', '__dirname']));
  }
});

test('a rewrite that would change what a declaration means leaves the function as written (scope hazards)', () => {
  const compile = (code: string): string | null => {
    try {
      compileFunction(code, ['exports', 'require', 'module', '__filename', '__dirname']);
      return null;
    } catch (e) {
      return (e as Error).message;
    }
  };
  const cases: [source: string, reason: RegExp | null][] = [
    // frame records wrap these bodies in a block, where a function declaration is lexical
    ['async function a() { function f() {} var f = 1; return f; }', /declares f both as a function and again/],
    ['function* a() { var f; function f() {} }', /declares f both as a function and again/],
    [
      '"use strict"; async function a() { function f() { return 1; } function f() { return 2; } return f(); }',
      /declares f both/,
    ],
    ['async function* a() { async function f() {} function f() {} }', /declares f both/],
    // sloppy code allows two plain function declarations in a block: armed
    ['async function a() { function f() { return 1; } function f() { return 2; } return f(); }', null],
    ['async function a(b) { var b; let c; function d() {} }', null],
    // a direct eval's var would meet the block's function at run time
    ['async function a() { function f() {} eval("var f = 2"); return f; }', /may call eval/],
    // the declaration replaces the argument before the entry check could forward it
    ['function a(x) { function x() {} return x; }', /replaces parameter x/],
    ['async function a(x) { function x() {} return x; }', /replaces parameter x/],
    // a moved destructured parameter would overwrite the body's function
    ['const a = ([f]) => { function f() {} return f; };', /body declares f too/],
    // early errors the rewrites would hide: the program must still not compile
    ['function* a(b) { let b; }', /redeclares parameter b/],
    ['async function a({ b }) { class b {} }', /redeclares parameter b/],
    ['const a = ([x, x]) => 1;', /declared twice/],
    ['const a = (y, ...[y]) => 1;', /declared twice/],
    ['const a = ([]) => { "use strict"; };', /"use strict"/],
    ['function* a() { ({ b = yield }) => 1; }', /yield or await/],
  ];
  for (const [source, reason] of cases) {
    const r = transform({ source, moduleId: 'm.js', lang: 'js', sourceType: 'commonjs' });
    assert.ok(r.ok, source);
    const unpatchable = r.symbols.symbols.map((s) => s.unpatchable).filter((u) => u !== null);
    if (reason === null) assert.deepEqual(unpatchable, [], source);
    else assert.ok(unpatchable.length === 1 && reason.test(unpatchable[0]!), `${source}: ${unpatchable.join('; ')}`);
    // V8's verdict does not change: a valid program stays valid, an invalid one invalid
    assert.equal(compile(r.code) === null, compile(source) === null, `${source}\n${r.code}`);
  }
});

test("the cache's loader version covers every file the transform runs (a changed transform misses the cache)", () => {
  const dir = new URL('../../src/instrument/', import.meta.url);
  const reached = new Set<string>();
  const visit = (name: string): void => {
    if (reached.has(name)) return;
    reached.add(name);
    const text = readFileSync(new URL(`${name}.ts`, dir), 'utf8');
    // value imports only: a type-only import adds no code
    for (const m of text.matchAll(/^import (?!type )[^'"]*from '\.\/([\w-]+)\.ts';/gm)) visit(m[1]!);
  };
  visit('transform');
  for (const name of reached)
    assert.ok((TRANSFORM_FILES as readonly string[]).includes(name), `${name}.ts is not in TRANSFORM_FILES`);
  assert.ok(reached.has('scope-hazards') && reached.size >= 6, [...reached].join(','));
});
