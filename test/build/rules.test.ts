/**
 * The build's rules, one at a time, on small in-memory versions: how new
 * code is rewritten to reach what the old code saw, what is left out, and
 * each refusal that the corpus does not already show on a running process.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { build, type BuildResult } from '../../src/build/build.ts';
import type { SourceTree } from '../../src/build/tree.ts';

function memTree(files: Record<string, string>): SourceTree {
  const all: Record<string, string> = { 'package.json': '{ "type": "module" }', ...files };
  return { label: 'mem', dir: null, paths: () => new Set(Object.keys(all)), read: (p) => all[p] };
}

function buildOf(old: Record<string, string>, next: Record<string, string>): BuildResult {
  return build({ old: memTree(old), new: memTree({ ...old, ...next }), root: '/srv/app' });
}

/** The patch, with the source map comment left out. */
function patch(r: BuildResult): string {
  assert.deepEqual(r.refusals.map((x) => `${x.file}:${x.line}: ${x.reason} [${x.rule}]`), []);
  assert.ok(r.code !== null);
  return r.code.replace(/\/\/# sourceMappingURL=.*\n$/, '');
}

function refusals(r: BuildResult): string[] {
  assert.equal(r.code, null, 'no patch when something is refused');
  return r.refusals.map((x) => `${x.file}:${x.line} [${x.rule}] ${x.reason}`);
}

test('free names become accessor reads; locals, parameters and shadowing names stay', () => {
  const code = patch(buildOf({
    'm.mjs': 'import { helper } from "./h.mjs";\nconst TAX = 2;\nlet hits = 0;\nclass Box {}\nexport function f(a) {\n  hits++;\n  return a * TAX;\n}\nexport function g() { hits = 0; return [Box, helper]; }\n',
  }, {
    'm.mjs': 'import { helper } from "./h.mjs";\nconst TAX = 2;\nlet hits = 0;\nclass Box {}\nexport function f(a) {\n  hits += 1;\n  const o = { TAX, a };\n  const TAX2 = ((TAX) => TAX * 2)(a);\n  return [helper(o), new Box(), TAX2, typeof missing];\n}\nexport function g() { hits = 0; return [Box, helper]; }\n',
  }));
  assert.match(code, /\$lpM0\(\)\.hits \+= 1;/, 'writes go through the module accessor');
  assert.match(code, /const o = \{ TAX: \$lpM0\(\)\.TAX, a \};/, 'a shorthand property keeps its key');
  assert.match(code, /\(\(TAX\) => TAX \* 2\)\(a\)/, 'a parameter shadows the module binding');
  assert.match(code, /\(0, \$lpM0\(\)\.helper\)\(o\)/, 'a call does not pass the scope object as `this`');
  assert.match(code, /new \(\$lpM0\(\)\.Box\)\(\)/, '`new` of an accessor read is parenthesized');
  assert.match(code, /typeof missing/, 'globals stay');
});

test('only what changed is patched: moved functions, formatting, comments, types and top-level comments are not changes', () => {
  const r = buildOf({
    'm.ts': 'interface A { x: number }\n// one\nexport function a(x: number) { return x + 1; }\nexport function b(s: string) { return s; }\nexport function c() { return 3; }\n',
  }, {
    'm.ts': 'interface A { x: number; y?: string }\n// two\n\nexport function c() { return 4; }\nexport function b(s: string) {\n  // same code\n  return s;\n}\nexport function a(x: number) { return x + 1; }\n',
  });
  assert.deepEqual(r.manifest.functions.map((f) => [f.name, f.status]), [['c', 'patched'], ['b', 'formatting-only']]);
  assert.match(patch(r), /oldName: "c"/);
  assert.doesNotMatch(patch(r), /oldName: "[ab]"/);
});

test('a renamed function is a new one: it goes into the patch, and the callers that call it by its new name are patched', () => {
  const r = buildOf({
    'm.mjs': 'function calc(x) { return x * 2; }\nexport function total(xs) { return xs.map(calc); }\nexport function other() { return calc(1); }\n',
  }, {
    'm.mjs': 'function double(x) { return x * 2; }\nexport function total(xs) { return xs.map(double); }\nexport function other() { return double(1); }\n',
  });
  const code = patch(r);
  assert.deepEqual(r.manifest.functions.map((f) => [f.name, f.status]), [['total', 'patched'], ['other', 'patched']]);
  assert.deepEqual(r.manifest.helpers.map((h) => h.name), ['double']);
  assert.match(code, /^function double\(x\) \{ return x \* 2; \}$/m);
  assert.deepEqual(r.manifest.notes, ["m.mjs: 'calc' (old line 1) is gone from the new version; running instances keep their code"]);
});

test('a change of the text of a template or a regular expression is a change, not formatting', () => {
  const r = buildOf({
    'm.mjs': 'export const hi = (n) => `Hello, ${n}`;\nexport const re = (s) => /a+/.test(s);\nexport const q = (s) => \'x\' + s;\n',
  }, {
    'm.mjs': 'export const hi = (n) => `Hello, ${n}!`;\nexport const re = (s) => /a+/i.test(s);\nexport const q = (s) => "x" + s;\n',
  });
  assert.deepEqual(r.manifest.functions.map((f) => [f.name, f.status]), [['hi', 'patched'], ['re', 'patched'], ['q', 'formatting-only']]);
});

test('a namesake inserted before a changed closure does not take its place (matched by text, then place)', () => {
  const r = buildOf({
    'm.mjs': 'export function run(xs) {\n  return xs.map((x) => x + 1);\n}\n',
  }, {
    'm.mjs': 'export function run(xs) {\n  console.log(xs.filter((x) => x != null));\n  return xs.map((x) => x + 2);\n}\n',
  });
  const fns = r.manifest.functions.map((f) => [f.name, f.sympos, f.oldLine]);
  // the old map callback (sympos 1) is replaced by the new map callback (sympos 2), not by the new filter callback
  assert.deepEqual(fns, [['run', 1, 1], ['run/<anonymous>', 1, 2]]);
  assert.match(patch(r), /oldName: "run\/<anonymous>", oldHash: "[0-9a-f]+", newFunc: function\(x\) \{ return \(x \+ 2\); \}/);
  // when neither text nor place tells, and the numbers differ, it is refused
  assert.deepEqual(refusals(buildOf(
    { 'm.mjs': 'export function run(xs) {\n  return xs.map((x) => x + 1);\n}\n' },
    { 'm.mjs': 'export function run(xs) {\n  return xs.filter((x) => x).map((x) => x + 2);\n}\n' },
  )), ["m.mjs:2 [ambiguous] the functions named 'run/<anonymous>' (2 new, 1 running, left unpaired) cannot be matched to the running ones"]);
});

test('closures: captured variables through closure(), read at the start; a generator is wrapped so it reads them synchronously', () => {
  const code = patch(buildOf({
    'm.mjs': 'export function make(n) {\n  let i = 0;\n  return { *take() { while (i < n) yield i++; }, next: () => i++ };\n}\n',
  }, {
    'm.mjs': 'export function make(n) {\n  let i = 0;\n  return { *take() { while (i < n) yield (i += 2); }, next: () => (i += 1) };\n}\n',
  }));
  assert.match(code, /oldName: "make\/take", oldHash: "[0-9a-f]+", newFunc: function \(\.\.\.\$lpa\) \{ const \$lpC = \$lpclosure\(\); return \(\(\{ \*take\(\) \{ while \(\(\$lpC\.i\) < \(\$lpC\.n\)\) yield \(\$lpC\.i \+= 2\); \} \}\)\["take"\]\)\.apply\(this, \$lpa\); \}/);
  assert.match(code, /oldName: "make\/next", oldHash: "[0-9a-f]+", newFunc: function next\(\) \{ const \$lpC = \$lpclosure\(\); return \(\(\$lpC\.i \+= 1\)\); \}/);
});

test('what depends on the module: import.meta.url becomes the running module\'s, import() of a literal resolves from it', () => {
  const code = patch(buildOf({
    'src/m.mjs': 'export function where() { return "?"; }\nexport async function load() { return 1; }\n',
    'src/dep.mjs': 'export const x = 1;\n',
  }, {
    'src/m.mjs': 'export function where() { return import.meta.url; }\nexport async function load() { return (await import("./dep.mjs")).x; }\n',
  }));
  assert.match(code, /return "file:\/\/\/srv\/app\/src\/m\.mjs";/);
  assert.match(code, /await import\("file:\/\/\/srv\/app\/src\/dep\.mjs"\)/);
});

test('new imports are imported by the patch under their own names, from where the running module would load them', () => {
  const code = patch(buildOf({
    'src/m.mjs': 'export function f() { return 1; }\n',
    'src/util.mjs': 'export default 1; export const two = 2;\n',
  }, {
    'src/m.mjs': 'import one, { two as deux } from "./util.mjs";\nimport * as path from "node:path";\nexport function f() { return one + deux + path.sep.length; }\n',
  }));
  assert.match(code, /^import \$lpi0_one from "file:\/\/\/srv\/app\/src\/util\.mjs";$/m);
  assert.match(code, /^import \{ two as \$lpi0_deux \} from "file:\/\/\/srv\/app\/src\/util\.mjs";$/m);
  assert.match(code, /^import \* as \$lpi0_path from "node:path";$/m);
  assert.match(code, /return \(\$lpi0_one\) \+ \(\$lpi0_deux\) \+ \(\$lpi0_path\)\.sep\.length;/);
});

test('refused: changes to what a function means in its place', () => {
  assert.deepEqual(refusals(buildOf(
    { 'm.mjs': 'export const api = { get(k) { return k; } };\n' },
    { 'm.mjs': 'export const api = { get(k) { return super.get ? k : [k]; } };\n' },
  )), ['m.mjs:1 [super] \'api.get\' uses `super`, and its object literal is not a top-level binding of the module']);
  assert.deepEqual(refusals(buildOf(
    { 'm.mjs': 'export function f() { return () => 1; }\n' },
    { 'm.mjs': 'export function f() { return () => arguments.length; }\n' },
  )), ['m.mjs:1 [lexical-arrow] the arrow function \'f/<anonymous>\' uses `arguments` of the function around it']);
  assert.deepEqual(refusals(buildOf(
    { 'm.mjs': 'export function F(a) { this.a = a; }\n' },
    { 'm.mjs': 'export function F(a) { if (!new.target) return new F(a); this.a = a; }\n' },
  )), ['m.mjs:1 [new-target] \'F\' reads `new.target`, which is undefined in a replacement']);
  assert.deepEqual(refusals(buildOf(
    { 'm.mjs': 'export function f(a) { return a; }\n' },
    { 'm.mjs': 'export function f(a) { return arguments.length; }\n' },
  )), ['m.mjs:1 [signature] \'f\' reads `arguments`, but the running function forwards only its declared parameters']);
  assert.deepEqual(refusals(buildOf(
    { 'm.mjs': 'export function f(x) { return x; }\n' },
    { 'm.mjs': 'export function f(x) { return eval("x"); }\n' },
  )), ['m.mjs:1 [dynamic-scope] \'f\' calls eval directly']);
  assert.deepEqual(refusals(buildOf(
    { 'm.cjs': 'exports.f = function () { return 1; };\n' },
    { 'm.cjs': 'exports.f = function () { leaked = 1; return 1; };\n' },
  )), ['m.cjs:1 [syntax] \'exports.f\' assigns the undeclared variable \'leaked\' (an implicit global in sloppy mode; replacements run in strict mode)']);
  assert.deepEqual(refusals(buildOf(
    { 'm.mjs': 'export function* g() { yield 1; }\n' },
    { 'm.mjs': 'export function g() { return [1]; }\n' },
  )), ['m.mjs:1 [kind] \'g\' is no longer a generator']);
});

test('refused: constructors whose replacement could not rebuild the instance', () => {
  assert.deepEqual(refusals(buildOf(
    { 'm.mjs': 'let n = 0;\nexport class A {\n  id = n++;\n  constructor() { this.x = 1; }\n}\n' },
    { 'm.mjs': 'let n = 0;\nexport class A {\n  id = n++;\n  constructor() { this.x = 2; }\n}\n' },
  )), ['m.mjs:3 [constructor] the constructor \'A\' is in a base class whose field initializer runs code: it would run twice (once before the replacement takes over)']);
  assert.deepEqual(refusals(buildOf(
    { 'm.mjs': 'export class A {\n  #x = 1;\n  constructor() { this.y = 1; }\n}\n' },
    { 'm.mjs': 'export class A {\n  #x = 1;\n  constructor() { this.y = 2; }\n}\n' },
  )), ['m.mjs:2 [constructor] the constructor \'A\' is in a class with #private members, which a replacement cannot install']);
});

test('refused: module initialization, exports and data, in ES modules and CommonJS', () => {
  assert.deepEqual(refusals(buildOf(
    { 'm.mjs': 'export function a() {}\nexport function b() {}\n' },
    { 'm.mjs': 'export function a() {}\nfunction b() {}\n' },
  )), ['m.mjs:2 [export] removes the export \'b\' (line 2 of the old version)']);
  assert.deepEqual(refusals(buildOf(
    { 'm.cjs': 'exports.a = function () { return 1; };\n' },
    { 'm.cjs': 'exports.a = function () { return 1; };\nmodule.exports.b = () => 2;\n' },
  )), ['m.cjs:2 [export] adds a top-level assignment to the module\'s exports']);
  assert.deepEqual(refusals(buildOf(
    { 'm.mjs': 'export function f() { return 1; }\n' },
    { 'm.mjs': 'const started = Date.now();\nexport function f() { return started; }\n' },
  )), ['m.mjs:1 [new-data] adds the module-level const \'started\', whose initializer runs code or holds state']);
  assert.deepEqual(refusals(buildOf(
    { 'm.mjs': 'import { a } from "./a.mjs";\nexport function f() { return a; }\n', 'a.mjs': 'export const a = 1, b = 2;\n' },
    { 'm.mjs': 'import { b as a } from "./a.mjs";\nexport function f() { return a; }\n' },
  )), ['m.mjs:1 [import] changes the import \'a\' (was \'a\' from \'./a.mjs\', now \'b\' from \'./a.mjs\')']);
  assert.deepEqual(refusals(buildOf(
    { 'm.ts': 'export function f(x: number) { return x; }\n' },
    { 'm.ts': 'enum E { A }\nexport function f(x: number) { return x + 1; }\n' },
  )), ['m.ts:1 [module-init] adds a top-level statement (module initialization)', 'm.ts:1 [syntax] types cannot be stripped from the new version: TypeScript enum is not supported in strip-only mode']);
});

test('the manifest says why each patched function is safe and what the patch carries', () => {
  const r = buildOf({
    'm.mjs': 'const K = 1;\nexport function f(x) { return x + K; }\n',
  }, {
    'm.mjs': 'const K = 1;\nconst LIMIT = 10;\nfunction clamp(x) { return Math.min(x, LIMIT); }\nexport async function f(x) { return clamp(x + K); }\n',
  });
  patch(r);
  const f = r.manifest.functions[0]!;
  assert.equal(f.status, 'patched');
  assert.deepEqual(f.why, ['same qualified name', 'module bindings through moduleScope(): K', 'new declarations in the patch module: clamp']);
  assert.deepEqual(r.manifest.helpers.map((h) => [h.name, h.kind, h.line]), [['LIMIT', 'const', 2], ['clamp', 'function', 3]]);
  assert.deepEqual(r.manifest.notes, ['m.mjs: \'f\' became async: its callers must expect a promise']);
});
