/**
 * The build's rules, one at a time, on small in-memory versions: how new
 * code is rewritten to reach what the old code saw, what is left out, and
 * each refusal that the corpus does not already show on a running process.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { build, type BuildResult } from '../../src/generator/generate.ts';
import type { SourceTree } from '../../src/generator/tree.ts';

function memTree(files: Record<string, string>): SourceTree {
  const all: Record<string, string> = { 'package.json': '{ "type": "module" }', ...files };
  return { label: 'mem', dir: null, paths: () => new Set(Object.keys(all)), read: (p) => all[p] };
}

function buildOf(old: Record<string, string>, next: Record<string, string>): BuildResult {
  return build({ old: memTree(old), new: memTree({ ...old, ...next }), root: '/srv/app' });
}

/** The patch, with the source map comment left out. */
function patch(r: BuildResult): string {
  assert.deepEqual(
    r.refusals.map((x) => `${x.file}:${x.line}: ${x.reason} [${x.rule}]`),
    [],
  );
  assert.ok(r.code !== null);
  return r.code.replace(/\/\/# sourceMappingURL=.*\n$/, '');
}

function refusals(r: BuildResult): string[] {
  assert.equal(r.code, null, 'no patch when something is refused');
  return r.refusals.map((x) => `${x.file}:${x.line} [${x.rule}] ${x.reason}`);
}

test('free names become accessor reads; locals, parameters and shadowing names stay', () => {
  const code = patch(
    buildOf(
      {
        'm.mjs':
          'import { helper } from "./h.mjs";\nconst TAX = 2;\nlet hits = 0;\nclass Box {}\nexport function f(a) {\n  hits++;\n  return a * TAX;\n}\nexport function g() { hits = 0; return [Box, helper]; }\n',
      },
      {
        'm.mjs':
          'import { helper } from "./h.mjs";\nconst TAX = 2;\nlet hits = 0;\nclass Box {}\nexport function f(a) {\n  hits += 1;\n  const o = { TAX, a };\n  const TAX2 = ((TAX) => TAX * 2)(a);\n  return [helper(o), new Box(), TAX2, typeof missing];\n}\nexport function g() { hits = 0; return [Box, helper]; }\n',
      },
    ),
  );
  assert.match(code, /\$lpM0\(\)\.hits \+= 1;/, 'writes go through the module accessor');
  assert.match(code, /const o = \{ TAX: \$lpM0\(\)\.TAX, a \};/, 'a shorthand property keeps its key');
  assert.match(code, /\(\(TAX\) => TAX \* 2\)\(a\)/, 'a parameter shadows the module binding');
  assert.match(code, /\(0, \$lpM0\(\)\.helper\)\(o\)/, 'a call does not pass the scope object as `this`');
  assert.match(code, /new \(\$lpM0\(\)\.Box\)\(\)/, '`new` of an accessor read is parenthesized');
  assert.match(code, /typeof missing/, 'globals stay');
});

test('only what changed is patched: moved functions, formatting, comments, types and top-level comments are not changes', () => {
  const r = buildOf(
    {
      'm.ts':
        'interface A { x: number }\n// one\nexport function a(x: number) { return x + 1; }\nexport function b(s: string) { return s; }\nexport function c() { return 3; }\n',
    },
    {
      'm.ts':
        'interface A { x: number; y?: string }\n// two\n\nexport function c() { return 4; }\nexport function b(s: string) {\n  // same code\n  return s;\n}\nexport function a(x: number) { return x + 1; }\n',
    },
  );
  assert.deepEqual(
    r.manifest.functions.map((f) => [f.name, f.status]),
    [
      ['c', 'patched'],
      ['b', 'formatting-only'],
    ],
  );
  assert.match(patch(r), /oldName: "c"/);
  assert.doesNotMatch(patch(r), /oldName: "[ab]"/);
});

test('a renamed function is a new one: it goes into the patch, and the callers that call it by its new name are patched', () => {
  const r = buildOf(
    {
      'm.mjs':
        'function calc(x) { return x * 2; }\nexport function total(xs) { return xs.map(calc); }\nexport function other() { return calc(1); }\n',
    },
    {
      'm.mjs':
        'function double(x) { return x * 2; }\nexport function total(xs) { return xs.map(double); }\nexport function other() { return double(1); }\n',
    },
  );
  const code = patch(r);
  assert.deepEqual(
    r.manifest.functions.map((f) => [f.name, f.status]),
    [
      ['total', 'patched'],
      ['other', 'patched'],
    ],
  );
  assert.deepEqual(
    r.manifest.helpers.map((h) => h.name),
    ['double'],
  );
  assert.match(code, /^function double\(x\) \{ return x \* 2; \}$/m);
  assert.deepEqual(r.manifest.notes, [
    "m.mjs: 'calc' (old line 1) is gone from the new version; running instances keep their code",
  ]);
});

test('a change of the text of a template or a regular expression is a change, not formatting', () => {
  const r = buildOf(
    {
      'm.mjs':
        "export const hi = (n) => `Hello, ${n}`;\nexport const re = (s) => /a+/.test(s);\nexport const q = (s) => 'x' + s;\n",
    },
    {
      'm.mjs':
        'export const hi = (n) => `Hello, ${n}!`;\nexport const re = (s) => /a+/i.test(s);\nexport const q = (s) => "x" + s;\n',
    },
  );
  assert.deepEqual(
    r.manifest.functions.map((f) => [f.name, f.status]),
    [
      ['hi', 'patched'],
      ['re', 'patched'],
      ['q', 'formatting-only'],
    ],
  );
});

test('a namesake inserted before a changed closure does not take its place (matched by text, then place)', () => {
  const r = buildOf(
    {
      'm.mjs': 'export function run(xs) {\n  return xs.map((x) => x + 1);\n}\n',
    },
    {
      'm.mjs':
        'export function run(xs) {\n  console.log(xs.filter((x) => x != null));\n  return xs.map((x) => x + 2);\n}\n',
    },
  );
  const fns = r.manifest.functions.map((f) => [f.name, f.sympos, f.oldLine]);
  // the old map callback (sympos 1) is replaced by the new map callback (sympos 2), not by the new filter callback
  assert.deepEqual(fns, [
    ['run', 1, 1],
    ['run/<anonymous>', 1, 2],
  ]);
  assert.match(
    patch(r),
    /oldName: "run\/<anonymous>", oldHash: "[0-9a-f]+", newFunc: function\(x\) \{ return \(x \+ 2\); \}/,
  );
  // when neither text nor place tells, and the numbers differ, it is refused
  assert.deepEqual(
    refusals(
      buildOf(
        { 'm.mjs': 'export function run(xs) {\n  return xs.map((x) => x + 1);\n}\n' },
        { 'm.mjs': 'export function run(xs) {\n  return xs.filter((x) => x).map((x) => x + 2);\n}\n' },
      ),
    ),
    [
      "m.mjs:2 [ambiguous] the functions named 'run/<anonymous>' (2 new, 1 running, left unpaired) cannot be matched to the running ones",
    ],
  );
});

test('closures: captured variables through closure(), read at the start; a generator is wrapped so it reads them synchronously', () => {
  const code = patch(
    buildOf(
      {
        'm.mjs':
          'export function make(n) {\n  let i = 0;\n  return { *take() { while (i < n) yield i++; }, next: () => i++ };\n}\n',
      },
      {
        'm.mjs':
          'export function make(n) {\n  let i = 0;\n  return { *take() { while (i < n) yield (i += 2); }, next: () => (i += 1) };\n}\n',
      },
    ),
  );
  assert.match(
    code,
    /oldName: "make\/take", oldHash: "[0-9a-f]+", newFunc: function \(\.\.\.\$lpa\) \{ const \$lpC = \$lpclosure\(\); return \(\(\{ \*take\(\) \{ while \(\(\$lpC\.i\) < \(\$lpC\.n\)\) yield \(\$lpC\.i \+= 2\); \} \}\)\["take"\]\)\.apply\(this, \$lpa\); \}/,
  );
  assert.match(
    code,
    /oldName: "make\/next", oldHash: "[0-9a-f]+", newFunc: function next\(\) \{ const \$lpC = \$lpclosure\(\); return \(\(\$lpC\.i \+= 1\)\); \}/,
  );
});

test("what depends on the module: import.meta.url becomes the running module's, import() of a literal resolves from it", () => {
  const code = patch(
    buildOf(
      {
        'src/m.mjs': 'export function where() { return "?"; }\nexport async function load() { return 1; }\n',
        'src/dep.mjs': 'export const x = 1;\n',
      },
      {
        'src/m.mjs':
          'export function where() { return import.meta.url; }\nexport async function load() { return (await import("./dep.mjs")).x; }\n',
      },
    ),
  );
  assert.match(code, /return "file:\/\/\/srv\/app\/src\/m\.mjs";/);
  assert.match(code, /await import\("file:\/\/\/srv\/app\/src\/dep\.mjs"\)/);
});

test('new imports are imported by the patch under their own names, from where the running module would load them', () => {
  const code = patch(
    buildOf(
      {
        'src/m.mjs': 'export function f() { return 1; }\n',
        'src/util.mjs': 'export default 1; export const two = 2;\n',
      },
      {
        'src/m.mjs':
          'import one, { two as deux } from "./util.mjs";\nimport * as path from "node:path";\nexport function f() { return one + deux + path.sep.length; }\n',
      },
    ),
  );
  assert.match(code, /^import \$lpi0_one from "file:\/\/\/srv\/app\/src\/util\.mjs";$/m);
  assert.match(code, /^import \{ two as \$lpi0_deux \} from "file:\/\/\/srv\/app\/src\/util\.mjs";$/m);
  assert.match(code, /^import \* as \$lpi0_path from "node:path";$/m);
  assert.match(code, /return \(\$lpi0_one\) \+ \(\$lpi0_deux\) \+ \(\$lpi0_path\)\.sep\.length;/);
});

test('refused: changes to what a function means in its place', () => {
  assert.deepEqual(
    refusals(
      buildOf(
        { 'm.mjs': 'export const api = { get(k) { return k; } };\n' },
        { 'm.mjs': 'export const api = { get(k) { return super.get ? k : [k]; } };\n' },
      ),
    ),
    [
      "m.mjs:1 [super] 'api.get' uses `super` in a method of an object literal, whose home object a replacement cannot have",
    ],
  );
  assert.deepEqual(
    refusals(
      buildOf(
        { 'm.mjs': 'export function f() { return () => 1; }\n' },
        { 'm.mjs': 'export function f() { return () => arguments.length; }\n' },
      ),
    ),
    ["m.mjs:1 [lexical-arrow] the arrow function 'f/<anonymous>' uses `arguments` of the function around it"],
  );
  assert.deepEqual(
    refusals(
      buildOf(
        { 'm.mjs': 'export function F(a) { this.a = a; }\n' },
        { 'm.mjs': 'export function F(a) { if (!new.target) return new F(a); this.a = a; }\n' },
      ),
    ),
    ["m.mjs:1 [new-target] 'F' reads `new.target`, which is undefined in a replacement"],
  );
  assert.deepEqual(
    refusals(
      buildOf(
        { 'm.mjs': 'export function f(a) { return a; }\n' },
        { 'm.mjs': 'export function f(a) { return arguments.length; }\n' },
      ),
    ),
    ["m.mjs:1 [signature] 'f' reads `arguments`, but the running function forwards only its declared parameters"],
  );
  assert.deepEqual(
    refusals(
      buildOf(
        { 'm.mjs': 'export function f(x) { return x; }\n' },
        { 'm.mjs': 'export function f(x) { return eval("x"); }\n' },
      ),
    ),
    ["m.mjs:1 [dynamic-scope] 'f' calls eval directly"],
  );
  assert.deepEqual(
    refusals(
      buildOf(
        { 'm.cjs': 'exports.f = function () { return 1; };\n' },
        { 'm.cjs': 'exports.f = function () { leaked = 1; return 1; };\n' },
      ),
    ),
    [
      "m.cjs:1 [syntax] 'exports.f' assigns the undeclared variable 'leaked' (an implicit global in sloppy mode; replacements run in strict mode)",
    ],
  );
  assert.deepEqual(
    refusals(
      buildOf({ 'm.mjs': 'export function* g() { yield 1; }\n' }, { 'm.mjs': 'export function g() { return [1]; }\n' }),
    ),
    ["m.mjs:1 [kind] 'g' is no longer a generator"],
  );
});

test('refused: constructors whose replacement could not rebuild the instance', () => {
  assert.deepEqual(
    refusals(
      buildOf(
        { 'm.mjs': 'let n = 0;\nexport class A {\n  id = n++;\n  constructor(v) { this.x = v; }\n}\n' },
        { 'm.mjs': 'let n = 0;\nexport class A {\n  id = n++;\n  constructor(v) { this.x = v * 2; }\n}\n' },
      ),
    ),
    [
      "m.mjs:3 [constructor] the constructor 'A' is in a base class whose field initializer runs code: it would run twice (once before the replacement takes over)",
    ],
  );
  assert.deepEqual(
    refusals(
      buildOf(
        { 'm.mjs': 'export class A {\n  #x = 1;\n  constructor(v) { this.y = v; }\n}\n' },
        { 'm.mjs': 'export class A {\n  #x = 1;\n  constructor(v) { this.y = -v; }\n}\n' },
      ),
    ),
    [
      "m.mjs:2 [constructor] the constructor 'A' is in a class with #private members, which a replacement cannot install",
    ],
  );
});

test('refused: module initialization, exports and data, in ES modules and CommonJS', () => {
  assert.deepEqual(
    refusals(
      buildOf(
        { 'm.mjs': 'export function a() {}\nexport function b() {}\n' },
        { 'm.mjs': 'export function a() {}\nfunction b() {}\n' },
      ),
    ),
    ["m.mjs:2 [export] removes the export 'b' (line 2 of the old version)"],
  );
  assert.deepEqual(
    refusals(
      buildOf(
        { 'm.cjs': 'exports.a = function () { return 1; };\n' },
        {
          'm.cjs':
            'exports.a = function () { return 1; };\nmodule.exports.b = Date.now();\nexports.c = exports.d = 1;\n',
        },
      ),
    ),
    [
      "m.cjs:2 [export] adds the export 'b' with a value computed by code that runs when the module loads (it would run again, in the patch)",
      "m.cjs:3 [export] adds the export 'c' with a value computed by code that runs when the module loads (it would run again, in the patch)",
    ],
  );
  assert.deepEqual(
    refusals(
      buildOf(
        { 'm.mjs': 'export function f() { return 1; }\n' },
        { 'm.mjs': 'const started = Date.now();\nexport function f() { return started; }\n' },
      ),
    ),
    ["m.mjs:1 [new-data] adds the module-level const 'started', whose initializer runs code or holds state"],
  );
  assert.deepEqual(
    refusals(
      buildOf(
        {
          'm.mjs': 'import { a } from "./a.mjs";\nexport function f() { return a; }\n',
          'a.mjs': 'export const a = 1, b = 2;\n',
        },
        { 'm.mjs': 'import { b as a } from "./a.mjs";\nexport function f() { return a; }\n' },
      ),
    ),
    ["m.mjs:1 [import] changes the import 'a' (was 'a' from './a.mjs', now 'b' from './a.mjs')"],
  );
  assert.deepEqual(
    refusals(
      buildOf(
        { 'm.ts': 'export function f(x: number) { return x; }\n' },
        { 'm.ts': 'enum E { A }\nexport function f(x: number) { return x + 1; }\n' },
      ),
    ),
    [
      'm.ts:1 [module-init] adds a top-level statement (module initialization)',
      'm.ts:1 [syntax] types cannot be stripped from the new version: TypeScript enum is not supported in strip-only mode',
    ],
  );
});

test('the manifest says why each patched function is safe and what the patch carries', () => {
  const r = buildOf(
    {
      'm.mjs': 'const K = 1;\nexport function f(x) { return x + K; }\n',
    },
    {
      'm.mjs':
        'const K = 1;\nconst LIMIT = 10;\nfunction clamp(x) { return Math.min(x, LIMIT); }\nexport async function f(x) { return clamp(x + K); }\n',
    },
  );
  patch(r);
  const f = r.manifest.functions[0]!;
  assert.equal(f.status, 'patched');
  assert.deepEqual(f.why, [
    'same qualified name',
    'module bindings through moduleScope(): K',
    'new declarations in the patch module: clamp',
  ]);
  assert.deepEqual(
    r.manifest.helpers.map((h) => [h.name, h.kind, h.line]),
    [
      ['LIMIT', 'const', 2],
      ['clamp', 'function', 3],
    ],
  );
  assert.deepEqual(r.manifest.notes, ["m.mjs: 'f' became async: its callers must expect a promise"]);
});

/** A CommonJS version of buildOf (a package.json without "type"). */
function buildCjs(
  old: Record<string, string>,
  next: Record<string, string>,
  versions?: { old: string; new: string },
): BuildResult {
  const tree = (files: Record<string, string>): SourceTree => {
    const all: Record<string, string> = { 'package.json': '{}', ...files };
    return { label: 'mem', dir: null, paths: () => new Set(Object.keys(all)), read: (p) => all[p] };
  };
  return build({
    old: tree(old),
    new: tree({ ...old, ...next }),
    root: '/srv/app',
    ...(versions ? { versions: () => versions } : {}),
  });
}

test('a changed constant whose value is data: the patch defines it anew and replaces every function that reads it, changed or not', () => {
  const r = buildOf(
    {
      'm.mjs':
        'const LIMIT = 10;\nvar PATTERN = /^a+$/;\nconst NAMES = ["a", "b"];\nexport function check(s) { return PATTERN.test(s) && s.length < LIMIT; }\nexport function names() { return NAMES.map((n) => n.toUpperCase()).join(); }\nexport function make() { return () => LIMIT; }\nexport function other() { return 1; }\n',
    },
    {
      'm.mjs':
        'const LIMIT = 5;\nvar PATTERN = /^a{1,4}$/;\nconst NAMES = ["a", "b", "c"];\nexport function check(s) { return PATTERN.test(s) && s.length < LIMIT; }\nexport function names() { return NAMES.map((n) => n.toUpperCase()).join(); }\nexport function make() { return () => LIMIT; }\nexport function other() { return 1; }\n',
    },
  );
  const code = patch(r);
  assert.match(code, /\/\/ m\.mjs:1 \(changed constant: the new value\)\nconst LIMIT = 5;/);
  assert.match(code, /const PATTERN = \/\^a\{1,4\}\$\/;/, 'a `var` nothing reassigns is a constant too');
  assert.match(code, /const NAMES = \["a", "b", "c"\];/);
  assert.match(
    code,
    /return PATTERN\.test\(s\) && s\.length < LIMIT;/,
    "the readers read the patch's values, not the module's",
  );
  assert.deepEqual(
    r.manifest.functions.map((f) => [f.name, f.status]),
    [
      ['check', 'patched'],
      ['names', 'patched'],
      ['make/<anonymous>', 'patched'],
    ],
  );
  assert.deepEqual(
    r.manifest.constants.map((c) => [c.name, c.readers]),
    [
      ['LIMIT', ['check', 'make/<anonymous>']],
      ['PATTERN', ['check']],
      ['NAMES', ['names']],
    ],
  );
  assert.ok(
    r.manifest.functions[0]!.why.some((w) =>
      /reads the changed constants PATTERN, LIMIT, which the patch defines anew \(its own code is unchanged\)/.test(w),
    ),
  );
});

test('refused: a changed constant whose running value got somewhere a patch cannot reach', () => {
  const pair = (oldDecl: string, newDecl: string, rest: string) =>
    buildOf({ 'm.mjs': `${oldDecl}\n${rest}` }, { 'm.mjs': `${newDecl}\n${rest}` });
  assert.deepEqual(
    refusals(pair('const D = { a: 1 };', 'const D = { a: 2 };', 'export function set(v) { D.a = v; }\n')),
    [
      "m.mjs:1 [module-data] changes the module-level value 'D', and 'set' changes D (an assignment) (line 2 of the running version): the running value cannot be replaced",
    ],
  );
  assert.deepEqual(refusals(pair('const D = [1];', 'const D = [1, 2];', 'export function add(v) { D.push(v); }\n')), [
    "m.mjs:1 [module-data] changes the module-level value 'D', and 'add' calls D.push(), which may change it (line 2 of the running version): the running value cannot be replaced",
  ]);
  assert.deepEqual(
    refusals(pair('const D = { a: 1 };', 'const D = { a: 2 };', 'export function get() { return D; }\n')),
    [
      "m.mjs:1 [module-data] changes the module-level value 'D', and 'get' passes D on (returns it) (line 2 of the running version): the running value cannot be replaced",
    ],
  );
  assert.deepEqual(
    refusals(pair('const D = "x";', 'const D = "y";', 'const E = D + "!";\nexport function f() { return E; }\n')),
    [
      "m.mjs:1 [module-data] changes the module-level value 'D', and the module's initialization reads 'D' (line 2 of the running version): the running value cannot be replaced",
    ],
  );
  assert.deepEqual(
    refusals(pair('export const D = 1;', 'export const D = 2;', 'export function f() { return D; }\n')),
    [
      "m.mjs:1 [module-data] changes the module-level value 'D', which the module exports: importers hold the running value",
    ],
  );
  assert.deepEqual(refusals(pair('let D = 1;', 'let D = 2;', 'export function f() { D++; return D; }\n')), [
    "m.mjs:1 [module-data] changes the module-level value 'D', which the module reassigns",
  ]);
  assert.deepEqual(
    refusals(
      pair('const D = new Map();', 'const D = new Map([[1, 2]]);', 'export function f() { return D.get(1); }\n'),
    ),
    ["m.mjs:1 [module-data] changes the module-level value 'D', whose initializer runs code or holds state"],
  );
  assert.deepEqual(refusals(pair('let n = 0;', 'let n = 1;', 'export class A { id = n; }\n')), [
    "m.mjs:1 [module-data] changes the module-level value 'n', and a class's initializer reads 'n' (line 2 of the running version): the running value cannot be replaced",
  ]);
});

test("a CommonJS module's new exports: added by the patch before its transition, removed after it is disabled; an ES module's are refused", () => {
  const code = patch(
    buildCjs(
      {
        'm.js': 'function a() { return 1; }\nmodule.exports = { a };\n',
        'n.js': 'exports.x = function () { return 1; };\n',
      },
      {
        'm.js':
          'function a() { return helper(); }\nfunction helper() { return 2; }\nmodule.exports = { a, helper, LIMIT: 3 };\n',
        'n.js':
          'exports.x = function () { return 1; };\nexports.y = function y(v) { return v * 2; };\nexports.z = (function () { return Object.create(null); })();\n',
      },
    ),
  );
  assert.match(code, /const \$lpexports = \(M, values, targets\) => \{/);
  assert.match(code, /prePatch\(obj\) \{ if \(obj\.state === 'coming'\) queueMicrotask\(add\); else add\(\); \}/);
  assert.match(code, /postUnpatch\(\) \{/);
  assert.match(
    code,
    /callbacks: \$lpexports\(\$lpM0, \(\) => \(\{\n {2}\/\/ m\.js:3 \(new export of module\.exports\)\n {2}"helper": helper,\n {2}\/\/ m\.js:3 \(new export of module\.exports\)\n {2}"LIMIT": 3,\n\}\), \[\["helper","module\.exports"\],\["LIMIT","module\.exports"\]\]\)/,
  );
  assert.match(code, /"y": function y\(v\) \{ return v \* 2; \},/);
  assert.match(code, /"z": \(function \(\) \{ return Object\.create\(null\); \}\)\(\),/);
  assert.match(code, /\["y","exports"\],\["z","exports"\]/);
  assert.deepEqual(
    refusals(
      buildOf(
        { 'm.mjs': 'export function a() { return 1; }\n' },
        { 'm.mjs': 'export function a() { return 1; }\nexport function b() { return 2; }\n' },
      ),
    ),
    [
      "m.mjs:2 [export] adds the export 'b' (an ES module's namespace is sealed: a new export cannot be added to a running module)",
    ],
  );
});

test("a new require() of a CommonJS module: required by the patch, lazily, from the running module's file", () => {
  const code = patch(
    buildCjs(
      {
        'm.js': 'const path = require("node:path");\nexports.f = function (x) { return path.basename(x); };\n',
        'u.js': 'exports.clean = (s) => s.trim();\n',
      },
      {
        'm.js':
          'const path = require("node:path");\nconst { clean } = require("./u");\nconst util = require("node:util").format;\nexports.f = function (x) { return util("%s", path.basename(clean(x))); };\n',
      },
    ),
  );
  assert.match(code, /import \{ createRequire as \$lpcreateRequire \} from 'node:module';/);
  assert.match(
    code,
    /let \$lpr0_cleanv; const \$lpr0_clean = \(\) => \$lpr0_cleanv \?\?= \$lpcreateRequire\("file:\/\/\/srv\/app\/m\.js"\)\("\.\/u"\)\.clean;/,
  );
  assert.match(code, /\$lpcreateRequire\("file:\/\/\/srv\/app\/m\.js"\)\("node:util"\)\.format;/);
  assert.match(
    code,
    /return \(0, \$lpr0_util\(\)\)\("%s", \(\$lpM0\(\)\.path\)\.basename\(\(0, \$lpr0_clean\(\)\)\(x\)\)\);/,
  );
  assert.deepEqual(
    refusals(
      buildCjs(
        { 'm.js': 'exports.f = function () { return 1; };\n' },
        { 'm.js': 'const x = require("./missing");\nexports.f = function () { return x; };\n' },
      ),
    ),
    ["m.js:1 [new-module] requires './missing', a file the running program does not have"],
  );
});

test("a version bump's own version string is no change: noted, left as it is", () => {
  const r = buildCjs(
    {
      'm.js':
        'var VERSION = "1.0.0";\nexports.version = "1.0.0";\nfunction about() { return "lib " + "1.0.0"; }\nexports.f = function (x) { return x + 1; };\n',
    },
    {
      'm.js':
        'var VERSION = "1.0.1";\nexports.version = "1.0.1";\nfunction about() { return "lib " + "1.0.1"; }\nexports.f = function (x) { return x + 2; };\n',
    },
    { old: '1.0.0', new: '1.0.1' },
  );
  assert.deepEqual(
    r.manifest.functions.filter((f) => f.status === 'patched').map((f) => f.name),
    ['exports.f'],
  );
  assert.deepEqual(r.manifest.constants, []);
  assert.equal(
    r.manifest.notes.filter((n) => /differs only by the version string \('1\.0\.0' → '1\.0\.1'\)/.test(n)).length,
    3,
    r.manifest.notes.join('\n'),
  );
  patch(r);
});

test("refused: the changed code of a function that runs when the module loads (a bundle's wrapper or UMD factory)", () => {
  assert.deepEqual(
    refusals(
      buildCjs(
        {
          'b.js':
            '(function (root, factory) { module.exports = factory(); })(this, function () {\n  var n = 1;\n  function f() { return n; }\n  return { f };\n});\n',
        },
        {
          'b.js':
            '(function (root, factory) { module.exports = factory(); })(this, function () {\n  var n = 2;\n  function f() { return n; }\n  return { f };\n});\n',
        },
      ),
    ),
    [
      "b.js:1 [module-init] changes the code of '<anonymous>', a function that runs when the module loads (a bundle's wrapper or factory, an immediately invoked function): the change would never run",
    ],
  );
});

test('refused: a constructor that changes the initial state every object gets; a value from the arguments is per-call logic', () => {
  assert.deepEqual(
    refusals(
      buildCjs(
        {
          'm.js':
            'function Store() { this.idx = {}; }\nStore.prototype.put = function (k, v) { this.idx[k] = v; };\nmodule.exports = Store;\n',
        },
        {
          'm.js':
            'function Store() { this.idx = Object.create(null); }\nStore.prototype.put = function (k, v) { this.idx[k] = v; };\nmodule.exports = Store;\n',
        },
      ),
    ),
    [
      "m.js:1 [instance-state] the constructor 'Store' changes the initial value of this.idx, which every object made before the patch keeps (`{}`)",
    ],
  );
  const r = buildCjs(
    {
      'm.js':
        'function Store(o) { this.limit = o.limit; }\nStore.prototype.get = function () { return this.limit; };\nmodule.exports = Store;\n',
    },
    {
      'm.js':
        'function Store(o) { this.limit = Math.min(o.limit, 100); this.kind = "store"; }\nStore.prototype.get = function () { return this.limit; };\nmodule.exports = Store;\n',
    },
  );
  patch(r);
  assert.deepEqual(r.manifest.notes, [
    "m.js: the constructor 'Store' now sets this.kind; objects made before the patch do not have it",
  ]);
});
