/**
 * The rule checks of src/generator/plan-rules.ts, each on its own: for every
 * check, a change it refuses (its rule and message, at its line) and one it
 * accepts, so that removing the check or inverting its condition fails a
 * test. Both versions are small modules read the way the build reads them
 * (readVersion: the loader's parser, analysis and symbol table), and the
 * functions are paired by match.ts, as plan.ts pairs them.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Node } from '../../src/generator/ast.ts';
import { constantUses, loadTimeFunctions } from '../../src/generator/constants.ts';
import { matchFunctions } from '../../src/generator/match.ts';
import { moduleFile, type ModuleFile } from '../../src/generator/modules.ts';
import {
  checkAmbiguous,
  checkArguments,
  checkClassMember,
  checkClosureCaptures,
  checkClosureWrite,
  checkConstantUses,
  checkDynamicScope,
  checkImplicitGlobals,
  checkInstanceState,
  checkJsx,
  checkKind,
  checkLexicalArrow,
  checkModuleContext,
  checkModuleWrite,
  checkNewDeclarationWrite,
  checkNewExport,
  checkNewTarget,
  checkPrivateNames,
  checkRunsAtLoad,
  checkSignature,
  checkSuper,
  checkUnpatchable,
  superHome,
  type ClosureView,
  type Finding,
} from '../../src/generator/plan-rules.ts';
import type { Refusal } from '../../src/generator/refusals.ts';
import { codeUses, functionUses, type FreeRef } from '../../src/generator/scope.ts';
import { diffStructure } from '../../src/generator/structure.ts';
import type { SourceTree } from '../../src/generator/tree.ts';
import { lineAt, readVersion, type ModuleVersion } from '../../src/generator/version.ts';

/** A module's text from its lines. */
function src(...lines: string[]): string {
  return lines.map((l) => l + '\n').join('');
}

/** A module as the build reads it; `.js` files are CommonJS (no "type" in package.json). */
function version(path: string, text: string): ModuleVersion {
  const files: Record<string, string> = { 'package.json': '{}', [path]: text };
  const tree: SourceTree = { label: 'mem', dir: null, paths: () => new Set(Object.keys(files)), read: (p) => files[p] };
  return read(moduleFile(tree, path, text), text);
}

function read(file: ModuleFile, text: string): ModuleVersion {
  const r = readVersion(file, text);
  if (!r.ok) throw new Error(`${file.path}:${r.line}: ${r.message}`);
  return r.version;
}

/** The changed function `name` of two versions of `m.mjs` (or `path`), paired as plan.ts pairs it. */
function change(oldText: string, newText: string, name: string, path = 'm.mjs') {
  const old = version(path, oldText);
  const next = version(path, newText);
  const matching = matchFunctions(old, next);
  const pair = matching.pairs.find((p) => p.new.name === name);
  assert.ok(pair !== undefined, `no pair named ${name}: ${matching.pairs.map((p) => p.new.name).join(', ')}`);
  const site = next.sites.get(pair.new.start)!;
  const oldSymbol = old.symbols[pair.old.index]!;
  const oldNode = old.sites.get(pair.old.start)!.node;
  // what closure() offers the replacement (no run-once scopes here)
  const running: ClosureView = { names: new Set(oldSymbol.captures), writable: new Set(oldSymbol.writable) };
  return { old, next, pair, fn: pair.new, oldSymbol, oldNode, site, uses: functionUses(site.node), running };
}

/** Findings as `line [rule] reason`, the line in the new version. */
function lines(v: ModuleVersion, findings: readonly Finding[]): string[] {
  return findings.map((f) => `${lineAt(v, f.at)} [${f.rule}] ${f.reason}`);
}

function refusals(rs: Iterable<Refusal>): string[] {
  return [...rs].map((r) => `${r.file}:${r.line} [${r.rule}] ${r.reason}`);
}

/** The first free reference to `name` that reads it (or, with `write`, that writes it). */
function ref(uses: { readonly refs: readonly FreeRef[] }, name: string, write = false): FreeRef {
  const r = uses.refs.find((x) => x.name === name && x.write === write);
  assert.ok(r !== undefined, `no ${write ? 'write' : 'read'} of ${name}`);
  return r;
}

/** How plan.ts reaches each free name, simplified: a module binding or CommonJS variable, else a global. */
function accessOf(v: ModuleVersion, refs: readonly FreeRef[]): Map<FreeRef, { kind: string }> {
  const cjs = new Set(['require', 'module', 'exports', '__filename', '__dirname']);
  return new Map(refs.map((r) => [r, { kind: v.topLevel.has(r.name) || cjs.has(r.name) ? 'module' : 'global' }]));
}

test('checkUnpatchable: a running function the loader could not arm is refused; an armed one is not', () => {
  const c = change(
    src('export function f(a) { function a() {} return a; }'),
    src('export function f(a) { function a() {} return 2; }'),
    'f',
  );
  assert.deepEqual(lines(c.next, checkUnpatchable(c.fn, c.oldSymbol)), [
    "1 [unpatchable] 'f' cannot be patched: a function declaration in its body replaces parameter a" +
      ' before the entry check can forward it',
  ]);
  const ok = change(src('export function f(a) { return a; }'), src('export function f(a) { return a + 1; }'), 'f');
  assert.deepEqual(checkUnpatchable(ok.fn, ok.oldSymbol), []);
});

test('checkAmbiguous: namesakes that cannot be paired are refused; as many on both sides pair by rank', () => {
  const old = version('m.mjs', src('export const a = [() => 1, () => 2];'));
  const next = version('m.mjs', src('export const a = [() => 3,', '  () => 4, () => 5];'));
  assert.deepEqual(lines(next, checkAmbiguous(matchFunctions(old, next))), [
    "1 [ambiguous] the functions named '<anonymous>' (3 new, 2 running, left unpaired)" +
      ' cannot be matched to the running ones',
  ]);
  const same = version('m.mjs', src('export const a = [() => 3, () => 4];'));
  assert.deepEqual(checkAmbiguous(matchFunctions(old, same)), []);
});

test('checkRunsAtLoad: the changed code of a function that runs at load is refused; one it defines is not', () => {
  const oldText = src('(function () {', '  var n = 1;', '  exports.f = function () { return n; };', '})();');
  const newText = src('(function () {', '  var n = 2;', '  exports.f = function () { return n + 1; };', '})();');
  const wrapper = change(oldText, newText, '<anonymous>', 'm.js');
  const loadTime = loadTimeFunctions(wrapper.old);
  assert.deepEqual(lines(wrapper.next, checkRunsAtLoad(wrapper.pair, loadTime)), [
    "1 [module-init] changes the code of '<anonymous>', a function that runs when the module loads" +
      " (a bundle's wrapper or factory, an immediately invoked function): the change would never run",
  ]);
  const inner = change(oldText, newText, '<anonymous>/exports.f', 'm.js');
  assert.deepEqual(checkRunsAtLoad(inner.pair, loadTime), []);
});

test('checkKind: an arrow that became a function, or a generator that is no longer one, is refused', () => {
  const arrow = change(src('export const h = (a) => a;'), src('export const h = function (a) { return a; };'), 'h');
  assert.deepEqual(lines(arrow.next, checkKind(arrow.pair.old, arrow.fn)), [
    "1 [kind] 'h' was an arrow function and is now a function: `this` would change meaning",
  ]);
  const gen = change(src('export function* g() { yield 1; }'), src('export function g() { return [1]; }'), 'g');
  assert.deepEqual(lines(gen.next, checkKind(gen.pair.old, gen.fn)), ["1 [kind] 'g' is no longer a generator"]);
  // becoming async is only noted
  const ok = change(src('export function f(x) { return x; }'), src('export async function f(x) { return x; }'), 'f');
  assert.deepEqual(checkKind(ok.pair.old, ok.fn), []);
});

test('checkSignature: more parameters, or a new rest parameter, than the running function forwards are refused', () => {
  const oldText = src('export function f(a) { return a; }');
  const more = change(oldText, src('export function f(a, b) { return a + b; }'), 'f');
  assert.deepEqual(lines(more.next, checkSignature(more.fn, more.site.node, more.oldSymbol)), [
    "1 [signature] 'f' now takes 2 parameters; the running function forwards 1",
  ]);
  const rest = change(oldText, src('export function f(a, ...r) { return a + r.length; }'), 'f');
  assert.deepEqual(lines(rest.next, checkSignature(rest.fn, rest.site.node, rest.oldSymbol)), [
    "1 [signature] 'f' now takes a rest parameter; the running function forwards only its 1 declared parameter(s)",
  ]);
  // fewer parameters; a TypeScript `this` parameter, which is no parameter; a running function that forwards all
  const fewer = change(src('export function f(a, b) { return a; }'), src('export function f(a) { return -a; }'), 'f');
  assert.deepEqual(checkSignature(fewer.fn, fewer.site.node, fewer.oldSymbol), []);
  const typed = change(
    src('export function f(a: number) { return a; }'),
    src('export function f(this: object, a: number) { return -a; }'),
    'f',
    'm.ts',
  );
  assert.deepEqual(checkSignature(typed.fn, typed.site.node, typed.oldSymbol), []);
  const all = change(
    src('export function f(...r) { return r; }'),
    src('export function f(a, b, ...r) { return a; }'),
    'f',
  );
  assert.deepEqual(checkSignature(all.fn, all.site.node, all.oldSymbol), []);
});

test('checkArguments: `arguments` is refused where the running function forwards only its declared parameters', () => {
  const c = change(
    src('export function f(a) { return a; }'),
    src('export function f(a) {', '  return arguments.length;', '}'),
    'f',
  );
  assert.deepEqual(lines(c.next, checkArguments(c.fn, c.uses, c.oldSymbol)), [
    "2 [signature] 'f' reads `arguments`, but the running function forwards only its declared parameters",
  ]);
  const all = change(
    src('export function f() { return arguments[0]; }'),
    src('export function f() { return arguments[1]; }'),
    'f',
  );
  assert.deepEqual(checkArguments(all.fn, all.uses, all.oldSymbol), []);
  // an arrow's `arguments` is checkLexicalArrow's
  const arrow = change(
    src('export function f() { return () => 1; }'),
    src('export function f() { return () => arguments.length; }'),
    'f/<anonymous>',
  );
  assert.deepEqual(checkArguments(arrow.fn, arrow.uses, arrow.oldSymbol), []);
});

test("checkLexicalArrow: an arrow that uses its enclosing function's `arguments`, `new.target`, `super`", () => {
  const c = change(
    src('class B { m() { return 0; } }', 'export class A extends B {', '  m() { return () => 1; }', '}'),
    src(
      'class B { m() { return 0; } }',
      'export class A extends B {',
      '  m() { return () => [arguments.length, new.target, super.m()]; }',
      '}',
    ),
    'A.prototype.m/<anonymous>',
  );
  const arrow = "the arrow function 'A.prototype.m/<anonymous>'";
  assert.deepEqual(lines(c.next, checkLexicalArrow(c.fn, c.uses)), [
    `3 [lexical-arrow] ${arrow} uses \`arguments\` of the function around it`,
    `3 [lexical-arrow] ${arrow} uses \`new.target\` of the function around it`,
    `3 [lexical-arrow] ${arrow} uses \`super\` of the method around it`,
  ]);
  const plain = change(
    src('export function f() { return () => 1; }'),
    src('export function f() { return () => this; }'),
    'f/<anonymous>',
  );
  assert.deepEqual(checkLexicalArrow(plain.fn, plain.uses), []);
  // a function's own `arguments` is not lexical
  const fn = change(src('export function f() { return 1; }'), src('export function f() { return arguments; }'), 'f');
  assert.deepEqual(checkLexicalArrow(fn.fn, fn.uses), []);
});

test('checkNewTarget: a function that reads `new.target` is refused; a class constructor is not', () => {
  const c = change(
    src('export function F(a) { this.a = a; }'),
    src('export function F(a) { if (!new.target) return new F(a); this.a = a; }'),
    'F',
  );
  assert.deepEqual(lines(c.next, checkNewTarget(c.fn, c.uses)), [
    "1 [new-target] 'F' reads `new.target`, which is undefined in a replacement",
  ]);
  const ctor = change(
    src('export class A { constructor() { this.k = 1; } }'),
    src('export class A { constructor() { this.k = new.target.name; } }'),
    'A',
  );
  assert.deepEqual(checkNewTarget(ctor.fn, ctor.uses), []);
});

test('checkSuper: `super` without a top-level class to find its parent through is refused', () => {
  const literal = change(
    src('export const api = { get(k) { return k; } };'),
    src('export const api = { get(k) { return super.get ? k : [k]; } };'),
    'api.get',
  );
  assert.deepEqual(lines(literal.next, checkSuper(literal.fn, literal.site, literal.uses, literal.old.topLevel)), [
    "1 [super] 'api.get' uses `super` in a method of an object literal, whose home object a replacement cannot have",
  ]);
  const nested = (x: number, m: string) =>
    src(
      'export function mk() {',
      '  class C extends Object {',
      `    constructor() { super(); this.x = ${x}; }`,
      `    m() { return ${m}; }`,
      '  }',
      '  return C;',
      '}',
    );
  const method = change(nested(1, '1'), nested(1, 'super.toString()'), 'mk/C.prototype.m');
  assert.deepEqual(lines(method.next, checkSuper(method.fn, method.site, method.uses, method.old.topLevel)), [
    "4 [super] 'mk/C.prototype.m' uses `super`, and its class is not a top-level binding of the module",
  ]);
  const ctor = change(nested(1, '1'), nested(2, '1'), 'mk/C');
  assert.deepEqual(lines(ctor.next, checkSuper(ctor.fn, ctor.site, ctor.uses, ctor.old.topLevel)), [
    "3 [super] 'mk/C' uses `super`, and its class is not a top-level binding of the module",
    '3 [super] the constructor of a derived class is replaced by a class whose parent is found at run time,' +
      ' and this class is not a top-level binding of the module',
  ]);
  // the same in a top-level class: found through it
  const top = (x: number, m: string) =>
    src(
      'class B { m() { return 0; } }',
      'export class A extends B {',
      `  constructor() { super(); this.x = ${x}; }`,
      `  m() { return ${m}; }`,
      '}',
    );
  const topMethod = change(top(1, '1'), top(1, 'super.m() + 1'), 'A.prototype.m');
  assert.deepEqual(checkSuper(topMethod.fn, topMethod.site, topMethod.uses, topMethod.old.topLevel), []);
  assert.equal(superHome(topMethod.site, topMethod.old.topLevel), 'A');
  const topCtor = change(top(1, '1'), top(2, '1'), 'A');
  assert.deepEqual(checkSuper(topCtor.fn, topCtor.site, topCtor.uses, topCtor.old.topLevel), []);
});

test('checkClassMember: members a replacement constructor cannot re-create are refused; plain ones are not', () => {
  const text = (v: number) =>
    src(
      'let n = 0, k = "k";',
      'export class A {',
      '  #x = 1;',
      '  [k] = 1;',
      '  accessor q = 1;',
      '  id = n++;',
      '  a = 1;',
      '  static s = n++;',
      '  m() {}',
      `  constructor() { this.v = ${v}; }`,
      '}',
    );
  const c = change(text(1), text(2), 'A');
  const members = (c.site.classNode!.body as Node).body as Node[];
  const check = (i: number, derived = false) => lines(c.next, checkClassMember(c.fn, members[i]!, derived));
  const ctor = "[constructor] the constructor 'A'";
  assert.deepEqual(check(0), [`3 ${ctor} is in a class with #private members, which a replacement cannot install`]);
  assert.deepEqual(check(1), [`4 ${ctor} is in a class with a computed or accessor field`]);
  assert.deepEqual(check(2), [`5 ${ctor} is in a class with a computed or accessor field`]);
  assert.deepEqual(check(3), [
    `6 ${ctor} is in a base class whose field initializer runs code:` +
      ' it would run twice (once before the replacement takes over)',
  ]);
  // a derived class's fields run in the replacement only; a plain field, a static one and a method are no problem
  assert.deepEqual(check(3, true), []);
  assert.deepEqual(check(4), []);
  assert.deepEqual(check(5), []);
  assert.deepEqual(check(6), []);
  const inFunction = (v: number) =>
    src(
      'export function mk() {',
      '  class C {',
      '    a = 1;',
      `    constructor() { this.v = ${v}; }`,
      '  }',
      '  return C;',
      '}',
    );
  const nested = change(inFunction(1), inFunction(2), 'mk/C');
  const field = ((nested.site.classNode!.body as Node).body as Node[])[0]!;
  assert.deepEqual(lines(nested.next, checkClassMember(nested.fn, field, false)), [
    "3 [constructor] the constructor 'mk/C' is in a class inside a function, with field initializers",
  ]);
});

test('checkInstanceState: a changed initial value every object gets is refused; a value from the call is not', () => {
  const store = (...body: string[]) =>
    src(
      'function Store(o) {',
      ...body,
      '}',
      'Store.prototype.put = function (k, v) { this.idx[k] = v; };',
      'module.exports = Store;',
    );
  const oldText = store('  this.idx = {};', '  this.limit = o.limit;');
  const c = change(oldText, store('  this.idx = Object.create(null);', '  this.limit = o.limit;'), 'Store', 'm.js');
  assert.deepEqual(lines(c.next, checkInstanceState(c.fn, c.oldNode, c.site.node, c.old.source)), [
    "2 [instance-state] the constructor 'Store' changes the initial value of this.idx," +
      ' which every object made before the patch keeps (`{}`)',
  ]);
  // per-call logic, and a new property (plan.ts notes it)
  const newText = store('  this.idx = {};', '  this.limit = Math.min(o.limit, 100);', '  this.kind = "s";');
  const ok = change(oldText, newText, 'Store', 'm.js');
  assert.deepEqual(checkInstanceState(ok.fn, ok.oldNode, ok.site.node, ok.old.source), []);
});

test('checkImplicitGlobals: sloppy code that assigns an undeclared variable is refused; strict code is not', () => {
  const sloppy = change(
    src('var n = 0;', 'exports.f = function () { return 1; };'),
    src('var n = 0;', 'exports.f = function () {', '  leaked = 1; n = 2; return 1;', '};'),
    'exports.f',
    'm.js',
  );
  // `n` is declared: only `leaked` is refused
  assert.deepEqual(lines(sloppy.next, checkImplicitGlobals(sloppy.fn, accessOf(sloppy.next, sloppy.uses.refs))), [
    "3 [syntax] 'exports.f' assigns the undeclared variable 'leaked'" +
      ' (an implicit global in sloppy mode; replacements run in strict mode)',
  ]);
  const strict = change(src('export function f() { return 1; }'), src('export function f() { leaked = 1; }'), 'f');
  assert.deepEqual(checkImplicitGlobals(strict.fn, accessOf(strict.next, strict.uses.refs)), []);
});

test('checkClosureCaptures: a closure that uses a variable the running closure does not capture is refused', () => {
  const c = change(
    src('export function f() { let c = 0; return () => c; }'),
    src('export function f() { let c = 0, d = 1; return () => c + d; }'),
    'f/<anonymous>',
  );
  assert.deepEqual(lines(c.next, checkClosureCaptures(ref(c.uses, 'd'), "'f/<anonymous>'", c.running)), [
    "1 [closure-captures] 'f/<anonymous>' uses 'd' of the function around it," +
      ' which the running closure does not capture',
  ]);
  assert.deepEqual(checkClosureCaptures(ref(c.uses, 'c'), "'f/<anonymous>'", c.running), []);
  // outside a closure nothing is captured
  assert.deepEqual(
    checkClosureCaptures(ref(c.uses, 'c'), "'x'", null).map((f) => f.rule),
    ['closure-captures'],
  );
});

test('checkClosureWrite: a closure that writes a captured variable the running code never writes is refused', () => {
  const c = change(
    src('export function f() { let c = 0, e = 0; return () => c + e++; }'),
    src('export function f() { let c = 0, e = 0, d = 1; return () => { c = d; e += 2; return c; }; }'),
    'f/<anonymous>',
  );
  assert.deepEqual(lines(c.next, checkClosureWrite(ref(c.uses, 'c', true), "'f/<anonymous>'", c.running)), [
    "1 [readonly-binding] 'f/<anonymous>' writes 'c', which the running code never writes",
  ]);
  // written by the running code too; only read; not captured (checkClosureCaptures refuses that)
  assert.deepEqual(checkClosureWrite(ref(c.uses, 'e', true), "'f/<anonymous>'", c.running), []);
  assert.deepEqual(checkClosureWrite(ref(c.uses, 'c'), "'f/<anonymous>'", c.running), []);
  const d = change(
    src('export function f() { return () => 1; }'),
    src('export function f() { let d; return () => { d = 1; }; }'),
    'f/<anonymous>',
  );
  assert.deepEqual(checkClosureWrite(ref(d.uses, 'd', true), "'f/<anonymous>'", d.running), []);
});

test('checkModuleWrite: writing a module binding the running code never writes is refused', () => {
  const c = change(
    src('let y = 0, z = 0;', 'export function g() { return y + z; }', 'export function h() { z++; }'),
    src(
      'let y = 0, z = 0;',
      'export function g() {',
      '  y = 1; z = 2; return y + z;',
      '}',
      'export function h() { z++; }',
    ),
    'g',
  );
  assert.deepEqual(lines(c.next, checkModuleWrite(ref(c.uses, 'y', true), "'g'", c.old.scope.writable)), [
    "3 [readonly-binding] 'g' writes the module binding 'y', which the running code never writes",
  ]);
  assert.deepEqual(checkModuleWrite(ref(c.uses, 'z', true), "'g'", c.old.scope.writable), []);
  assert.deepEqual(checkModuleWrite(ref(c.uses, 'y'), "'g'", c.old.scope.writable), []);
});

test('checkNewDeclarationWrite: assigning a declaration the fix adds is refused; reading it is not', () => {
  const c = change(
    src('export function g() { return 1; }'),
    src('const H = 2;', 'export function g() { H = 3; return H; }'),
    'g',
  );
  assert.deepEqual(lines(c.next, checkNewDeclarationWrite(ref(c.uses, 'H', true), "'g'")), [
    "2 [new-data] 'g' assigns 'H', a declaration the fix adds: module-level state cannot be added",
  ]);
  assert.deepEqual(checkNewDeclarationWrite(ref(c.uses, 'H'), "'g'"), []);
});

test('checkPrivateNames: code that uses a #private name of its class is refused; one of its own class is not', () => {
  const c = change(
    src('export class K { #p() { return 1; } q() { return this.#p(); } }'),
    src('export class K { #p() { return 1; } q() { return this.#p() + 1; } }'),
    'K.prototype.q',
  );
  assert.deepEqual(lines(c.next, checkPrivateNames(c.uses, "'K.prototype.q'")), [
    "1 [private-name] 'K.prototype.q' uses the private name #p",
  ]);
  const own = change(
    src('export function f() { return 1; }'),
    src('export function f() { class C { #x = 1; g() { return this.#x; } } return new C().g(); }'),
    'f',
  );
  assert.deepEqual(checkPrivateNames(own.uses, "'f'"), []);
});

test('checkModuleContext: import.meta other than url/filename/dirname, and a computed import(), are refused', () => {
  const c = change(
    src('export function f(b) { return b; }'),
    src(
      'export function f(b) {',
      '  return [import.meta.foo, import.meta, import(b), import.meta.url, import.meta.dirname];',
      '}',
    ),
    'f',
  );
  assert.deepEqual(lines(c.next, checkModuleContext(c.uses, "'f'")), [
    "2 [module-context] 'f' uses import.meta.foo",
    "2 [module-context] 'f' uses import.meta",
    "2 [module-context] 'f' calls import() with a computed specifier",
  ]);
  const ok = change(
    src('export function f() { return 1; }'),
    src('export function f() { return [import.meta.filename, import("node:fs")]; }'),
    'f',
  );
  assert.deepEqual(checkModuleContext(ok.uses, "'f'"), []);
});

test('checkDynamicScope: direct eval and with are refused; an indirect eval is not', () => {
  const c = change(
    src('exports.f = function (o) { return o; };'),
    src('exports.f = function (o) {', '  with (o) { return eval("x"); }', '};'),
    'exports.f',
    'm.js',
  );
  assert.deepEqual(lines(c.next, checkDynamicScope(c.uses, "'exports.f'")), [
    "2 [dynamic-scope] 'exports.f' calls eval directly",
    "2 [dynamic-scope] 'exports.f' uses a with statement",
  ]);
  const ok = change(
    src('export function f(s) { return s; }'),
    src('export function f(s) { return (0, eval)(s); }'),
    'f',
  );
  assert.deepEqual(checkDynamicScope(ok.uses, "'f'"), []);
});

test('checkJsx: JSX is refused; plain JavaScript is not', () => {
  // no module file of a tree is read as JSX (modules.ts): read one as the loader's parser reads a .jsx file
  const file: ModuleFile = { path: 'm.jsx', id: 'm.jsx', lang: 'jsx', sourceType: 'module' };
  const v = read(file, src('export function f(x) {', '  return <div>{x}</div>;', '}'));
  const node = v.sites.get(v.analysis.functions[0]!.start)!.node;
  assert.deepEqual(lines(v, checkJsx(functionUses(node), "'f'")), ["2 [syntax] 'f' contains JSX"]);
  const ok = change(src('export function f(x) { return x; }'), src('export function f(x) { return [x]; }'), 'f');
  assert.deepEqual(checkJsx(ok.uses, "'f'"), []);
});

test('checkConstantUses: a changed constant whose running value is mutated is refused; one only read is not', () => {
  const check = (oldText: string, newText: string) => {
    const old = version('m.mjs', oldText);
    const next = version('m.mjs', newText);
    const constants = diffStructure(old, next).constants;
    const kinds = new Map([...constants].map(([name, c]) => [name, c.value] as const));
    const oldUses = constantUses(old, kinds, loadTimeFunctions(old));
    return checkConstantUses('m.mjs', constants, oldUses, constantUses(next, kinds, loadTimeFunctions(next)));
  };
  const functions = src('export function f() { return R.a; }', 'export function g() { R.a = 2; }');
  const mutated = check('const R = { a: 1 };\n' + functions, 'const R = { a: 2 };\n' + functions);
  assert.deepEqual(refusals(mutated.values()), [
    "m.mjs:1 [module-data] changes the module-level value 'R', and 'g' changes R (an assignment)" +
      ' (line 3 of the running version): the running value cannot be replaced',
  ]);
  assert.deepEqual([...mutated.keys()], ['R']);
  const reader = src('export function f() { return R[0]; }');
  assert.equal(check('const R = [1];\n' + reader, 'const R = [2];\n' + reader).size, 0);
});

test('checkNewExport: a new CommonJS export computed by code that reaches the module is refused', () => {
  const old = version('m.js', src('exports.f = function () { return 1; };'));
  const next = version(
    'm.js',
    src(
      'exports.f = function () { return 1; };',
      'module.exports.b = Date.now();',
      'exports.k = (() => exports.f)();',
      'exports.n = (() => 5)();',
      'exports.p = { a: [1] };',
      'exports.g = function () { return 2; };',
    ),
  );
  const results = diffStructure(old, next).exports.map((e) => {
    return [e.name, refusals(checkNewExport('m.js', e, accessOf(next, codeUses(e.value).refs)))];
  });
  const computed = 'with a value computed by code that runs when the module loads (it would run again, in the patch)';
  // a function called at once that reaches nothing of the module, plain data and a function are values the patch makes
  assert.deepEqual(results, [
    ['b', [`m.js:2 [export] adds the export 'b' ${computed}`]],
    ['k', [`m.js:3 [export] adds the export 'k' ${computed}`]],
    ['n', []],
    ['p', []],
    ['g', []],
  ]);
});
