/**
 * The plan for one changed module: which functions are replaced, how the
 * new code reaches what the old code saw (the kernel's `.klp.rela`: module
 * bindings through `moduleScope`, closure variables through `closure()`, new
 * helpers and imports in the patch module), and every refusal.
 *
 * The rules for a changed function, each with its refusal:
 * - the loader armed it (`unpatchable`), and which running function it is
 *   can be told (`ambiguous`);
 * - it keeps its kind: an arrow stays an arrow, a generator a generator (`kind`);
 * - its entry check forwards what it needs: no more parameters than the
 *   running function forwards, `arguments` only if it forwards them all (`signature`);
 * - a closure reaches only variables the running closure captures, and
 *   writes only those the running code writes (`closure-captures`,
 *   `readonly-binding`); the same for module bindings;
 * - `super` has a home: the class is a top-level binding (`super`);
 *   `#private` names are not used (`private-name`); an arrow does not use
 *   its enclosing function's `arguments`/`new.target`/`super` (`lexical-arrow`);
 * - nothing depends on the module it runs in: `import.meta` (except
 *   url/filename/dirname, which become constants), computed `import()`,
 *   direct `eval`, `with` (`module-context`, `dynamic-scope`); no JSX (`syntax`).
 */

import type { Binding, FunctionInfo } from '../instrument/analyze.ts';
import type { SymbolInfo } from '../instrument/symbol-table.ts';
import { sameStructure, unwrap, type FunctionSite, type Node } from './ast.ts';
import { constantUses, loadTimeFunctions } from './constants.ts';
import { isPlain } from './data.ts';
import { instanceInits } from './instances.ts';
import { matchFunctions, type Pair } from './match.ts';
import { refusal, type Refusal, type Rule } from './refusals.ts';
import { codeUses, functionUses, type FreeRef, type FunctionUses } from './scope.ts';
import { diffStructure, type ChangedConstant, type NewDeclaration, type NewExport, type NewImport, type StructureDiff, type VersionStrings } from './structure.ts';
import { lineAt, type ModuleVersion } from './version.ts';

/** How replacement code reaches a name it does not declare. */
export type Access =
  /** a binding of the running module: `$lpM<k>().name` */
  | { readonly kind: 'module' }
  /** a variable the running closure captured: `$lpC.name` */
  | { readonly kind: 'closure' }
  /** a declaration the fix adds, declared in the patch module under its own name */
  | { readonly kind: 'helper' }
  /** an import the fix adds, imported by the patch module under a new name */
  | { readonly kind: 'import' }
  /** a `require()` the fix adds to a CommonJS module: required by the patch, lazily, from the running module */
  | { readonly kind: 'require' }
  /** not declared by the module: a global */
  | { readonly kind: 'global' };

/** Code copied from the new version, with how each free name is reached. */
export interface Rewrite {
  readonly uses: FunctionUses;
  readonly access: Map<FreeRef, Access>;
}

export interface Replacement extends Rewrite {
  readonly old: FunctionInfo;
  readonly oldSymbol: SymbolInfo;
  readonly new: FunctionInfo;
  readonly newSymbol: SymbolInfo;
  readonly site: FunctionSite;
  readonly shape: 'function' | 'arrow' | 'method' | 'constructor';
  /** reads `closure()` at its start */
  readonly closure: boolean;
  /** the top-level class whose parent `super` refers to, when it uses `super` */
  readonly superClass: string | null;
  /**
   * An arrow that can run before `super()` in a derived constructor: its
   * `this` may not exist yet, and reading it must throw as it would there
   * (the entry check then forwards a marker instead of the receiver).
   */
  readonly thisGuard: boolean;
  /** a constructor's copied instance fields (their rewrites are in `fields`) */
  readonly fields: { readonly node: Node; readonly rewrite: Rewrite }[];
  readonly matchedBy: Pair['by'];
  /** why it is safe, for the manifest */
  readonly why: string[];
}

export interface Helper extends Rewrite {
  readonly decl: NewDeclaration;
  /** a changed constant the patch defines anew (not a new declaration) */
  readonly changed: boolean;
}

/** A new export of a CommonJS module, with how its value's code reaches what it needs. */
export interface ExportPlan extends Rewrite {
  readonly export: NewExport;
}

export interface ModulePlan {
  readonly old: ModuleVersion;
  readonly next: ModuleVersion;
  readonly structure: StructureDiff;
  readonly replacements: Replacement[];
  /** new declarations the patch uses, in source order */
  readonly helpers: Helper[];
  /** new imports the patch uses */
  readonly imports: NewImport[];
  /** new exports of a CommonJS module: added while the patch is enabled */
  readonly exports: ExportPlan[];
  /** changed constants the patch defines anew, with the functions that read them (all replaced) */
  readonly constants: { readonly constant: ChangedConstant; readonly readers: string[] }[];
  readonly refusals: Refusal[];
  readonly notes: string[];
  /** changed functions left out: only comments or formatting differ */
  readonly formattingOnly: FunctionInfo[];
  /**
   * changed functions left out because only functions inside them changed:
   * those are patched in every instance, the ones that exist and the ones
   * the unchanged outer code makes later (they are armed like the old ones)
   */
  readonly innerOnly: FunctionInfo[];
  /** changed functions that cannot be replaced, with their refusals */
  readonly refused: RefusedFunction[];
}

export interface RefusedFunction {
  readonly old: FunctionInfo;
  readonly oldSymbol: SymbolInfo;
  readonly new: FunctionInfo;
  readonly newSymbol: SymbolInfo;
  readonly refusals: Refusal[];
}

const CJS_EXTRAS = new Set(['require', 'module', 'exports', '__filename', '__dirname']);
const META_CONSTANTS = new Set(['url', 'filename', 'dirname']);

export function planModule(old: ModuleVersion, next: ModuleVersion, versions: VersionStrings | null = null): ModulePlan {
  const path = next.file.path;
  const structure = diffStructure(old, next, versions);
  const refusals: Refusal[] = [...structure.refusals];
  const notes: string[] = [...structure.notes];
  // one refusal per reason: the first place it applies (a name used ten times is one problem)
  const reported = new Set<string>();
  const refuse = (rule: Rule, pos: number, reason: string) => {
    if (reported.has(rule + '\0' + reason)) return;
    reported.add(rule + '\0' + reason);
    refusals.push(refusal(rule, path, lineAt(next, pos), reason));
  };
  const matching = matchFunctions(old, next);
  const replacements: Replacement[] = [];
  const formattingOnly: FunctionInfo[] = [];
  const innerOnly: FunctionInfo[] = [];
  const refused: RefusedFunction[] = [];
  const usedHelpers = new Set<string>();
  const usedImports = new Set<string>();
  const cjs = next.file.sourceType === 'commonjs';
  const loadOld = loadTimeFunctions(old);
  const loadNew = loadTimeFunctions(next);

  // Changed constants: defined anew by the patch, and every function that reads them replaced;
  // refused if the running value got anywhere else (see constants.ts).
  const constants = new Map(structure.constants);
  const readsOf = new Map<number, string[]>();
  if (constants.size > 0) {
    const kinds = new Map([...constants].map(([name, c]) => [name, c.value] as const));
    const refusedHere = new Set<string>();
    for (const [v, label] of [[old, ' of the running version'], [next, '']] as const) {
      for (const u of constantUses(v, kinds, v === old ? loadOld : loadNew)) {
        if (u.kind === 'read') {
          if (v === next) readsOf.set(u.fn!.start, [...(readsOf.get(u.fn!.start) ?? []), u.name]);
          continue;
        }
        if (refusedHere.has(u.name)) continue;
        refusedHere.add(u.name);
        const c = constants.get(u.name)!;
        refusals.push(refusal('module-data', path, c.decl.line, `changes the module-level value '${u.name}', and ${u.fn !== null && u.kind !== 'init' ? `'${u.fn.name}' ` : ''}${u.what.replace(/^'[^']*' /, '')} (line ${u.line}${label}): the running value cannot be replaced`));
      }
    }
    for (const name of refusedHere) constants.delete(name);
  }

  /**
   * How code reaches `ref`. `near` are the variables of enclosing functions
   * the new function sees (its captures, and the scopes of enclosing
   * functions that run once); `running` what `closure()` offers in the
   * running function (null outside closures).
   */
  const resolve = (ref: FreeRef, what: string, near: ReadonlyMap<string, Binding> | null, running: ClosureView | null, classBinding: string | null): Access => {
    const name = ref.name;
    const captured = near?.get(name);
    if (captured !== undefined && !(captured.kind === 'name' && name === classBinding && old.scope.names.has(name))) {
      if (running === null || !running.names.has(name)) {
        refuse('closure-captures', ref.start, `${what} uses '${name}' of the function around it, which the running closure does not capture`);
      } else if (ref.write && !running.writable.has(name)) {
        refuse('readonly-binding', ref.start, `${what} writes '${name}', which the running code never writes`);
      }
      return { kind: 'closure' };
    }
    if (next.topLevel.has(name) || (cjs && CJS_EXTRAS.has(name))) {
      if (constants.has(name)) {
        usedHelpers.add(name);
        return { kind: 'helper' };
      }
      if (old.scope.names.has(name) && (old.topLevel.has(name) || !next.topLevel.has(name))) {
        if (ref.write && !old.scope.writable.has(name)) refuse('readonly-binding', ref.start, `${what} writes the module binding '${name}', which the running code never writes`);
        return { kind: 'module' };
      }
      if (structure.declarations.has(name)) {
        if (ref.write) refuse('new-data', ref.start, `${what} assigns '${name}', a declaration the fix adds: module-level state cannot be added`);
        usedHelpers.add(name);
        return { kind: 'helper' };
      }
      const imp = structure.imports.get(name);
      if (imp !== undefined) {
        usedImports.add(name);
        return { kind: imp.kind };
      }
    }
    return { kind: 'global' };
  };

  /** Refusals any copied code shares. */
  const checkCode = (uses: FunctionUses, what: string): void => {
    for (const p of uses.privateAt) refuse('private-name', p.start, `${what} uses the private name #${p.name}`);
    for (const m of uses.importMeta) {
      if (m.property === null || !META_CONSTANTS.has(m.property)) refuse('module-context', m.start, `${what} uses import.meta${m.property ? '.' + m.property : ''}`);
    }
    for (const d of uses.dynamicImports) if (d.literal === null) refuse('module-context', d.start, `${what} calls import() with a computed specifier`);
    for (const at of uses.evalAt) refuse('dynamic-scope', at, `${what} calls eval directly`);
    for (const at of uses.withAt) refuse('dynamic-scope', at, `${what} uses a with statement`);
    for (const at of uses.jsxAt) refuse('syntax', at, `${what} contains JSX`);
  };

  const rewrite = (node: Node, what: string, own: boolean, near: ReadonlyMap<string, Binding> | null, running: ClosureView | null, classBinding: string | null): Rewrite => {
    const uses = node.type.startsWith('Function') || node.type === 'ArrowFunctionExpression' ? functionUses(node) : codeUses(node, own);
    checkCode(uses, what);
    const access = new Map<FreeRef, Access>();
    for (const ref of uses.refs) access.set(ref, resolve(ref, what, near, running, classBinding));
    return { uses, access };
  };

  const oldNames = namesByStart(old);
  const newNames = namesByStart(next);
  const sameVersion = versions === null || versions.old === versions.new ? undefined : (x: string, y: string) => x === versions.old && y === versions.new;
  for (const pair of matching.pairs) {
    const oldSymbol = old.symbols[pair.old.index]!;
    const newSymbol = next.symbols[pair.new.index]!;
    const reads = readsOf.get(pair.new.start);
    if (oldSymbol.hash === newSymbol.hash && reads === undefined) continue;
    const oSite = old.sites.get(pair.old.start)!;
    const nSite = next.sites.get(pair.new.start)!;
    if (reads === undefined) {
      // its own code (nested functions abstracted) is the same: only what is inside changed
      const oName = nestedName(oldNames, oSite.node);
      const nName = nestedName(newNames, nSite.node);
      if (sameStructure(oSite.node, nSite.node, oName, nName)) {
        innerOnly.push(pair.new);
        continue;
      }
      if (sameVersion !== undefined && sameStructure(oSite.node, nSite.node, oName, nName, sameVersion)) {
        notes.push(`${path}:${newSymbol.line}: '${pair.new.name}' differs only by the version string ('${versions!.old}' → '${versions!.new}'): left as it is`);
        innerOnly.push(pair.new);
        continue;
      }
      if (loadOld.has(pair.old.start)) {
        refuse('module-init', pair.new.start, `changes the code of '${pair.new.name}', a function that runs when the module loads (a bundle's wrapper or factory, an immediately invoked function): the change would never run`);
        refused.push({ old: pair.old, oldSymbol, new: pair.new, newSymbol, refusals: refusals.slice(-1) });
        continue;
      }
    }
    const r = planFunction(pair, oldSymbol, newSymbol, nSite, reads ?? []);
    if (r !== null) replacements.push(r);
  }
  // an outer function none of whose inner functions really changed only changed its formatting
  for (let i = innerOnly.length - 1; i >= 0; i--) {
    const f = innerOnly[i]!;
    const inside = (g: FunctionInfo) => g.start > f.start && g.end <= f.end;
    if (!replacements.some((r) => inside(r.new)) && !refused.some((r) => inside(r.new)) && !innerOnly.some((g) => g !== f && inside(g))) {
      formattingOnly.push(f);
      innerOnly.splice(i, 1);
    }
  }
  for (const name of matching.ambiguous) {
    const left = matching.added.filter((f) => f.name === name);
    const oldLeft = matching.removed.filter((f) => f.name === name).length;
    refuse('ambiguous', left[0]!.start, `the functions named '${name}' (${left.length} new, ${oldLeft} running, left unpaired) cannot be matched to the running ones`);
  }
  for (const f of matching.removed) {
    if (!matching.ambiguous.has(f.name)) notes.push(`${path}: '${f.name}' (old line ${lineAt(old, f.start)}) is gone from the new version; running instances keep their code`);
  }

  function planFunction(pair: Pair, oldSymbol: SymbolInfo, newSymbol: SymbolInfo, site: FunctionSite, reads: readonly string[]): Replacement | null {
    const fn = pair.new;
    const what = `'${fn.name}'`;
    const before = refusals.length;
    const at = fn.start;
    if (oldSymbol.unpatchable !== null) {
      // nothing else matters: there is no entry check to take the call
      refuse('unpatchable', at, `${what} cannot be patched: ${oldSymbol.unpatchable}`);
      refused.push({ old: pair.old, oldSymbol, new: fn, newSymbol, refusals: refusals.slice(before) });
      return null;
    }
    const oldArrow = pair.old.kind === 'arrow';
    const newArrow = fn.kind === 'arrow';
    if (oldArrow !== newArrow) refuse('kind', at, `${what} was ${oldArrow ? 'an arrow function' : 'a function'} and is now ${newArrow ? 'an arrow function' : 'a function'}: \`this\` would change meaning`);
    if (pair.old.isGenerator !== fn.isGenerator) refuse('kind', at, `${what} ${fn.isGenerator ? 'became' : 'is no longer'} a generator`);

    // what the entry check forwards (see docs/loader.md)
    const params = (site.node.params as Node[]).filter((p) => !(p.type === 'Identifier' && p.name === 'this'));
    if (oldSymbol.arity !== -1 && !oldSymbol.rest) {
      const hasRest = params.length > 0 && params[params.length - 1]!.type === 'RestElement';
      if (hasRest) refuse('signature', at, `${what} now takes a rest parameter; the running function forwards only its ${oldSymbol.arity} declared parameter(s)`);
      else if (params.length > oldSymbol.arity) refuse('signature', at, `${what} now takes ${params.length} parameters; the running function forwards ${oldSymbol.arity}`);
    }

    const main = rewrite(site.node, what, true, nearBindings(next, fn), closureView(old, oldSymbol), site.classBinding);
    const uses = main.uses;
    if (uses.argumentsAt.length > 0) {
      if (newArrow) refuse('lexical-arrow', uses.argumentsAt[0]!, `the arrow function ${what} uses \`arguments\` of the function around it`);
      else if (oldSymbol.arity !== -1 && !oldSymbol.rest) refuse('signature', uses.argumentsAt[0]!, `${what} reads \`arguments\`, but the running function forwards only its declared parameters`);
    }
    if (uses.newTargetAt.length > 0 && fn.kind !== 'constructor') {
      if (newArrow) refuse('lexical-arrow', uses.newTargetAt[0]!, `the arrow function ${what} uses \`new.target\` of the function around it`);
      else refuse('new-target', uses.newTargetAt[0]!, `${what} reads \`new.target\`, which is undefined in a replacement`);
    }
    let superClass: string | null = null;
    if (uses.superAt.length > 0) {
      if (newArrow) refuse('lexical-arrow', uses.superAt[0]!, `the arrow function ${what} uses \`super\` of the method around it`);
      else if (site.classNode === null || site.classBinding === null || !old.topLevel.has(site.classBinding)) {
        refuse('super', uses.superAt[0]!, site.classNode === null
          ? `${what} uses \`super\` in a method of an object literal, whose home object a replacement cannot have`
          : `${what} uses \`super\`, and its class is not a top-level binding of the module`);
      } else superClass = site.classBinding;
    }

    const shape: Replacement['shape'] = newArrow ? 'arrow' : fn.kind === 'constructor' ? 'constructor' : fn.kind === 'function' ? 'function' : 'method';
    const fields: Replacement['fields'] = [];
    if (shape === 'constructor') {
      const klass = site.classNode!;
      const derived = klass.superClass != null;
      if (derived && (site.classBinding === null || !old.topLevel.has(site.classBinding))) {
        refuse('super', at, `the constructor of a derived class is replaced by a class whose parent is found at run time, and this class is not a top-level binding of the module`);
      } else if (derived) superClass = site.classBinding;
      for (const m of (klass.body as Node).body as Node[]) {
        const key = m.key as Node | undefined;
        if (key?.type === 'PrivateIdentifier') {
          refuse('constructor', m.start, `the constructor ${what} is in a class with #private members, which a replacement cannot install`);
          break;
        }
        if ((m.type === 'PropertyDefinition' || m.type === 'AccessorProperty') && !m.static && m.declare !== true) {
          if (m.computed || m.type === 'AccessorProperty') { refuse('constructor', m.start, `the constructor ${what} is in a class with a computed or accessor field`); continue; }
          if (!derived && m.value != null && !isPlain(m.value as Node)) {
            refuse('constructor', m.start, `the constructor ${what} is in a base class whose field initializer runs code: it would run twice (once before the replacement takes over)`);
            continue;
          }
          if (m.value != null && fn.parent !== -1) {
            // the variables a field initializer sees in a class inside a function are not the constructor's to hand over
            refuse('constructor', m.start, `the constructor ${what} is in a class inside a function, with field initializers`);
            continue;
          }
          const rw = m.value ? rewrite(m.value as Node, what, false, null, null, site.classBinding) : { uses: codeUses(m.key as Node), access: new Map<FreeRef, Access>() };
          fields.push({ node: m, rewrite: rw });
        }
      }
    }
    // the initial state every instance gets: objects made before the patch keep the old one
    if (shape === 'constructor' || isConstructorFunction(next, fn, site)) {
      const before = instanceInits(old.sites.get(pair.old.start)!.node);
      for (const [prop, init] of instanceInits(site.node)) {
        if (!init.fixed) continue;
        const was = before.get(prop);
        if (was === undefined) {
          // like a new field: the objects made from now on have it, the others do not (new code must not count on it)
          if (!before.has(prop)) notes.push(`${path}: the constructor ${what} now sets this.${prop}; objects made before the patch do not have it`);
          continue;
        }
        if (was.key === init.key) continue;
        const oldText = old.source.slice(was.node.start, was.node.end).replace(/\s+/g, ' ');
        refuse('instance-state', init.node.start, `the constructor ${what} changes the initial value of this.${prop}, which every object made before the patch keeps (\`${oldText}\`)`);
      }
    }
    for (const [ref, a] of main.access) {
      // an ES module is strict: an implicit global of sloppy code would throw there
      if (a.kind === 'global' && ref.write && !fn.strict) refuse('syntax', ref.start, `${what} assigns the undeclared variable '${ref.name}' (an implicit global in sloppy mode; replacements run in strict mode)`);
    }
    if (refusals.length > before) {
      refused.push({ old: pair.old, oldSymbol, new: fn, newSymbol, refusals: refusals.slice(before) });
      return null;
    }
    const closure = [...main.access.values()].some((a) => a.kind === 'closure');
    const why: string[] = [];
    why.push(pair.by === 'name' ? 'same qualified name' : `matched among namesakes by ${pair.by}`);
    if (reads.length > 0) why.push(`reads the changed constant${reads.length > 1 ? 's' : ''} ${[...new Set(reads)].join(', ')}, which the patch defines anew${oldSymbol.hash === newSymbol.hash ? ' (its own code is unchanged)' : ''}`);
    const reach = (kind: Access['kind']) => [...new Set([...main.access].filter(([, a]) => a.kind === kind).map(([r]) => r.name))];
    const viaModule = reach('module');
    if (viaModule.length > 0) why.push(`module bindings through moduleScope(): ${viaModule.join(', ')}`);
    const viaClosure = reach('closure');
    if (viaClosure.length > 0) why.push(`captured variables through closure(), all captured by the running closure: ${viaClosure.join(', ')}`);
    const viaHelper = [...reach('helper').filter((n) => !constants.has(n)), ...reach('import'), ...reach('require')];
    if (viaHelper.length > 0) why.push(`new declarations in the patch module: ${viaHelper.join(', ')}`);
    if (superClass !== null) why.push(`super: through the parent of class ${superClass}, found at run time`);
    if (pair.old.isAsync !== fn.isAsync) notes.push(`${path}: ${what} ${fn.isAsync ? 'became' : 'is no longer'} async: its callers must expect ${fn.isAsync ? 'a promise' : 'a plain value'}`);
    const thisGuard = newArrow && pair.old.thisBeforeSuper && uses.thisAt.length > 0;
    return { ...main, old: pair.old, oldSymbol, new: fn, newSymbol, site, shape, closure, superClass, thisGuard, fields, matchedBy: pair.by, why };
  }

  // new exports of a CommonJS module: their values are copied like new declarations
  const exportPlans: ExportPlan[] = [];
  for (const e of structure.exports) {
    const rw = rewrite(e.value, `the new export '${e.name}'`, true, null, null, null);
    const v = unwrap(e.value);
    // a value the patch can make: a name, a function, plain data, or a function called at once that reaches nothing of the module
    const callee = v.type === 'CallExpression' && (v.arguments as Node[]).length === 0 ? unwrap(v.callee as Node) : null;
    const selfContained = callee !== null && (callee.type === 'FunctionExpression' || callee.type === 'ArrowFunctionExpression')
      && [...rw.access.values()].every((a) => a.kind === 'global' || a.kind === 'helper');
    if (v.type === 'Identifier' || isPlain(v) || selfContained) exportPlans.push({ export: e, ...rw });
    else refusals.push(refusal('export', path, e.line, `adds the export '${e.name}' with a value computed by code that runs when the module loads (it would run again, in the patch)`));
  }

  // new declarations the replacements use, and the ones those use
  const helpers: Helper[] = [];
  const done = new Set<string>();
  for (let grew = true; grew;) {
    grew = false;
    for (const name of [...usedHelpers]) {
      if (done.has(name)) continue;
      done.add(name);
      grew = true;
      const changed = constants.get(name);
      const decl = changed?.decl ?? structure.declarations.get(name)!;
      const node = declarationNode(next, decl);
      helpers.push({ decl, changed: changed !== undefined, ...rewrite(node, changed !== undefined ? `the new value of '${name}'` : `the new ${decl.kind} '${name}'`, true, null, null, null) });
    }
  }
  helpers.sort((a, b) => a.decl.start - b.decl.start);
  const imports = [...usedImports].map((n) => structure.imports.get(n)!);
  const constantPlans = [...constants.values()].map((constant) => ({
    constant,
    readers: replacements.filter((r) => readsOf.get(r.new.start)?.includes(constant.name) === true).map((r) => r.oldSymbol.name),
  }));
  return { old, next, structure, replacements, helpers, imports, exports: exportPlans, constants: constantPlans, refusals, notes, formattingOnly, innerOnly, refused };
}

/**
 * A function written as a constructor (ES5): a top-level function whose name
 * starts with a capital letter, used with `new` or given a prototype in its
 * module.
 */
function isConstructorFunction(v: ModuleVersion, fn: FunctionInfo, site: FunctionSite): boolean {
  if (fn.parent !== -1 || fn.kind !== 'function' || site.node.type !== 'FunctionDeclaration') return false;
  const name = fn.name;
  if (!/^[A-Z][\w$]*$/.test(name)) return false;
  return new RegExp(`\\b${name.replace(/\$/g, '\\$')}\\.prototype\\b|\\bnew ${name.replace(/\$/g, '\\$')}\\b`).test(v.source);
}

/** Function names by start offset. */
function namesByStart(v: ModuleVersion): Map<number, string> {
  const byStart = new Map<number, string>();
  for (const f of v.analysis.functions) byStart.set(f.start, f.name);
  return byStart;
}

/** Names of the functions nested in `root` (not of `root` itself), for a comparison of its own code. */
function nestedName(byStart: ReadonlyMap<number, string>, root: Node): (n: Node) => string | undefined {
  return (n) => (n === root ? undefined : byStart.get(n.start));
}

/** What `closure()` offers in a replacement of the running function: its names, and those it can write. */
interface ClosureView {
  readonly names: ReadonlySet<string>;
  readonly writable: ReadonlySet<string>;
}

function closureView(v: ModuleVersion, sym: SymbolInfo): ClosureView {
  const names = new Set(sym.captures);
  const writable = new Set(sym.writable);
  // enclosing functions that run once (a bundle's wrapper) lend their scope accessors
  for (const i of sym.scopes) {
    for (const n of v.symbols[i]?.scope ?? []) names.add(n);
    for (const n of v.symbols[i]?.scopeWritable ?? []) writable.add(n);
  }
  return { names, writable };
}

/** The variables of enclosing functions a function sees, nearest first: its captures, then run-once scopes. */
function nearBindings(v: ModuleVersion, fn: FunctionInfo): Map<string, Binding> {
  const m = new Map<string, Binding>();
  for (const b of fn.captures) if (!m.has(b.name)) m.set(b.name, b);
  for (const i of fn.scopes) for (const b of v.analysis.functions[i]?.scopeBindings ?? []) if (!m.has(b.name)) m.set(b.name, b);
  return m;
}

/** The code of a new declaration: the function or class, or a constant's initializer. */
function declarationNode(v: ModuleVersion, decl: NewDeclaration): Node {
  let found: Node | null = null;
  const visit = (n: Node) => {
    if (found !== null) return;
    if (n.start === decl.start && n.end === decl.end && (n.type === 'FunctionDeclaration' || n.type === 'ClassDeclaration' || n.type === 'ClassExpression' || n.type === 'VariableDeclarator')) { found = n; return; }
    for (const k of ['declaration', 'declarations', 'body']) {
      const c = n[k];
      if (Array.isArray(c)) for (const x of c) visit(x as Node);
      else if (c && typeof c === 'object' && k !== 'body') visit(c as Node);
    }
  };
  for (const st of v.program.body) visit(st);
  if (found === null) throw new Error(`livepatch build: internal error: declaration '${decl.name}' not found`);
  const f = found as Node;
  return f.type === 'VariableDeclarator' ? unwrap(f.init as Node) : f;
}
