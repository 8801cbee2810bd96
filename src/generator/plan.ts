/**
 * The plan for one changed module: which functions are replaced, how the
 * new code reaches what the old code saw (the kernel's `.klp.rela`: module
 * bindings through `moduleScope`, closure variables through `closure()`, new
 * helpers and imports in the patch module), and every refusal.
 *
 * planModule is the sequence: match the functions, run the rule checks of
 * plan-rules.ts on each changed one and on all code the patch copies (the
 * rules and their checks are listed there), and assemble the plan from what
 * they accept. The order the checks run in is the order of the refusals.
 */

import { GeneratorError } from './errors.ts';
import type { Binding, FunctionInfo } from '../instrument/analysis-types.ts';
import { unwrap } from '../instrument/syntax.ts';
import type { SymbolInfo } from '../instrument/symbol-table.ts';
import { sameStructure, type FunctionSite, type Node } from './ast.ts';
import { constantUses, loadTimeFunctions } from './constants.ts';
import { instanceInits } from './instances.ts';
import { matchFunctions, type Pair } from './match.ts';
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
  isInstanceField,
  isPrivateMember,
  named,
  superHome,
  type ClosureView,
  type Finding,
} from './plan-rules.ts';
import { refusal, type Refusal } from './refusals.ts';
import { codeUses, functionUses, type FreeRef, type FunctionUses } from './scope.ts';
import {
  diffStructure,
  type ChangedConstant,
  type NewDeclaration,
  type NewExport,
  type NewImport,
  type StructureDiff,
  type VersionStrings,
} from './structure.ts';
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

export function planModule(
  old: ModuleVersion,
  next: ModuleVersion,
  versions: VersionStrings | null = null,
  /**
   * Unchanged functions to replace anyway, by qualified name (`--hold`):
   * seed 001's "extending the patched set" — a task inside one stays on the
   * old code until it returns, so a caller that awaits between two changed
   * calls never mixes them, even under 'task'.
   */
  hold: ReadonlySet<string> = new Set(),
): ModulePlan {
  const path = next.file.path;
  const structure = diffStructure(old, next, versions);
  const refusals: Refusal[] = [...structure.refusals];
  const notes: string[] = [...structure.notes];
  // one refusal per reason: the first place it applies (a name used ten times is one problem)
  const reported = new Set<string>();
  const report = (findings: readonly Finding[]) => {
    for (const { rule, at, reason } of findings) {
      if (reported.has(rule + '\0' + reason)) continue;
      reported.add(rule + '\0' + reason);
      refusals.push(refusal(rule, path, lineAt(next, at), reason));
    }
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
    const oldUses = constantUses(old, kinds, loadOld);
    const newUses = constantUses(next, kinds, loadNew);
    for (const u of newUses) {
      if (u.kind === 'read') readsOf.set(u.fn!.start, [...(readsOf.get(u.fn!.start) ?? []), u.name]);
    }
    const refusedHere = checkConstantUses(path, constants, oldUses, newUses);
    refusals.push(...refusedHere.values());
    for (const name of refusedHere.keys()) constants.delete(name);
  }

  /**
   * How code reaches `ref`. `near` are the variables of enclosing functions
   * the new function sees (its captures, and the scopes of enclosing
   * functions that run once); `running` what `closure()` offers in the
   * running function (null outside closures).
   */
  const resolve = (
    ref: FreeRef,
    what: string,
    near: ReadonlyMap<string, Binding> | null,
    running: ClosureView | null,
    classBinding: string | null,
  ): Access => {
    const name = ref.name;
    const captured = near?.get(name);
    if (captured !== undefined && !(captured.kind === 'name' && name === classBinding && old.scope.names.has(name))) {
      report(checkClosureCaptures(ref, what, running));
      report(checkClosureWrite(ref, what, running));
      return { kind: 'closure' };
    }
    if (next.topLevel.has(name) || (cjs && CJS_EXTRAS.has(name))) {
      if (constants.has(name)) {
        usedHelpers.add(name);
        return { kind: 'helper' };
      }
      if (old.scope.names.has(name) && (old.topLevel.has(name) || !next.topLevel.has(name))) {
        report(checkModuleWrite(ref, what, old.scope.writable));
        return { kind: 'module' };
      }
      if (structure.declarations.has(name)) {
        report(checkNewDeclarationWrite(ref, what));
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

  /** The checks any copied code shares. */
  const checkCode = (uses: FunctionUses, what: string): void => {
    report(checkPrivateNames(uses, what));
    report(checkModuleContext(uses, what));
    report(checkDynamicScope(uses, what));
    report(checkJsx(uses, what));
  };

  const rewrite = (
    node: Node,
    what: string,
    own: boolean,
    near: ReadonlyMap<string, Binding> | null,
    running: ClosureView | null,
    classBinding: string | null,
  ): Rewrite => {
    const uses =
      node.type.startsWith('Function') || node.type === 'ArrowFunctionExpression'
        ? functionUses(node)
        : codeUses(node, own);
    checkCode(uses, what);
    const access = new Map<FreeRef, Access>();
    for (const ref of uses.refs) access.set(ref, resolve(ref, what, near, running, classBinding));
    return { uses, access };
  };

  const oldNames = namesByStart(old);
  const newNames = namesByStart(next);
  const sameVersion =
    versions === null || versions.old === versions.new
      ? undefined
      : (x: string, y: string) => x === versions.old && y === versions.new;
  for (const pair of matching.pairs) {
    const oldSymbol = old.symbols[pair.old.index]!;
    const newSymbol = next.symbols[pair.new.index]!;
    const reads = readsOf.get(pair.new.start);
    const held = hold.has(pair.new.name) && oldSymbol.hash === newSymbol.hash;
    if (oldSymbol.hash === newSymbol.hash && reads === undefined && !held) continue;
    const oSite = old.sites.get(pair.old.start)!;
    const nSite = next.sites.get(pair.new.start)!;
    if (reads === undefined && !held) {
      // its own code (nested functions abstracted) is the same: only what is inside changed
      const oName = nestedName(oldNames, oSite.node);
      const nName = nestedName(newNames, nSite.node);
      if (sameStructure(oSite.node, nSite.node, oName, nName)) {
        innerOnly.push(pair.new);
        continue;
      }
      if (sameVersion !== undefined && sameStructure(oSite.node, nSite.node, oName, nName, sameVersion)) {
        notes.push(
          `${path}:${newSymbol.line}: '${pair.new.name}' differs only by the version string ('${versions!.old}' → '${versions!.new}'): left as it is`,
        );
        innerOnly.push(pair.new);
        continue;
      }
      const atLoad = checkRunsAtLoad(pair, loadOld);
      if (atLoad.length > 0) {
        report(atLoad);
        refused.push({ old: pair.old, oldSymbol, new: pair.new, newSymbol, refusals: refusals.slice(-1) });
        continue;
      }
    }
    const r = planFunction(pair, oldSymbol, newSymbol, nSite, reads ?? []);
    if (r !== null) {
      if (held) r.why.unshift('held (--hold): unchanged, replaced by itself to widen the patched set');
      replacements.push(r);
    }
  }
  // an outer function none of whose inner functions really changed only changed its formatting
  for (let i = innerOnly.length - 1; i >= 0; i--) {
    const f = innerOnly[i]!;
    const inside = (g: FunctionInfo) => g.start > f.start && g.end <= f.end;
    if (
      !replacements.some((r) => inside(r.new)) &&
      !refused.some((r) => inside(r.new)) &&
      !innerOnly.some((g) => g !== f && inside(g))
    ) {
      formattingOnly.push(f);
      innerOnly.splice(i, 1);
    }
  }
  report(checkAmbiguous(matching));
  for (const f of matching.removed) {
    if (!matching.ambiguous.has(f.name))
      notes.push(
        `${path}: '${f.name}' (old line ${lineAt(old, f.start)}) is gone from the new version; running instances keep their code`,
      );
  }

  function planFunction(
    pair: Pair,
    oldSymbol: SymbolInfo,
    newSymbol: SymbolInfo,
    site: FunctionSite,
    reads: readonly string[],
  ): Replacement | null {
    const fn = pair.new;
    const what = named(fn);
    const before = refusals.length;
    const unpatchable = checkUnpatchable(fn, oldSymbol);
    if (unpatchable.length > 0) {
      // nothing else matters: there is no entry check to take the call
      report(unpatchable);
      refused.push({ old: pair.old, oldSymbol, new: fn, newSymbol, refusals: refusals.slice(before) });
      return null;
    }
    report(checkKind(pair.old, fn));
    report(checkSignature(fn, site.node, oldSymbol));

    const main = rewrite(site.node, what, true, nearBindings(next, fn), closureView(old, oldSymbol), site.classBinding);
    const uses = main.uses;
    report(checkLexicalArrow(fn, uses));
    report(checkArguments(fn, uses, oldSymbol));
    report(checkNewTarget(fn, uses));
    report(checkSuper(fn, site, uses, old.topLevel));

    const newArrow = fn.kind === 'arrow';
    const shape: Replacement['shape'] = newArrow
      ? 'arrow'
      : fn.kind === 'constructor'
        ? 'constructor'
        : fn.kind === 'function'
          ? 'function'
          : 'method';
    const derived = shape === 'constructor' && site.classNode!.superClass != null;
    // the class whose parent `super` refers to (checkSuper refused it if there is none)
    const superClass = (uses.superAt.length > 0 && !newArrow) || derived ? superHome(site, old.topLevel) : null;
    const fields: Replacement['fields'] = [];
    if (shape === 'constructor') {
      for (const m of (site.classNode!.body as Node).body as Node[]) {
        const found = checkClassMember(fn, m, derived);
        report(found);
        // a class with #private members cannot be rebuilt: its other members do not matter
        if (isPrivateMember(m)) break;
        if (found.length > 0 || !isInstanceField(m)) continue;
        const rw = m.value
          ? rewrite(m.value as Node, what, false, null, null, site.classBinding)
          : { uses: codeUses(m.key as Node), access: new Map<FreeRef, Access>() };
        fields.push({ node: m, rewrite: rw });
      }
    }
    // the initial state every instance gets: objects made before the patch keep the old one
    if (shape === 'constructor' || isConstructorFunction(next, fn, site)) {
      const oldNode = old.sites.get(pair.old.start)!.node;
      // like a new field: the objects made from now on have it, the others do not (new code must not count on it)
      for (const prop of newInstanceProperties(oldNode, site.node)) {
        notes.push(
          `${path}: the constructor ${what} now sets this.${prop};` + ' objects made before the patch do not have it',
        );
      }
      report(checkInstanceState(fn, oldNode, site.node, old.source));
    }
    report(checkImplicitGlobals(fn, main.access));
    if (refusals.length > before) {
      refused.push({ old: pair.old, oldSymbol, new: fn, newSymbol, refusals: refusals.slice(before) });
      return null;
    }
    const closure = [...main.access.values()].some((a) => a.kind === 'closure');
    const why: string[] = [];
    why.push(pair.by === 'name' ? 'same qualified name' : `matched among namesakes by ${pair.by}`);
    if (reads.length > 0)
      why.push(
        `reads the changed constant${reads.length > 1 ? 's' : ''} ${[...new Set(reads)].join(', ')}, which the patch defines anew${oldSymbol.hash === newSymbol.hash ? ' (its own code is unchanged)' : ''}`,
      );
    const reach = (kind: Access['kind']) => [
      ...new Set([...main.access].filter(([, a]) => a.kind === kind).map(([r]) => r.name)),
    ];
    const viaModule = reach('module');
    if (viaModule.length > 0) why.push(`module bindings through moduleScope(): ${viaModule.join(', ')}`);
    const viaClosure = reach('closure');
    if (viaClosure.length > 0)
      why.push(`captured variables through closure(), all captured by the running closure: ${viaClosure.join(', ')}`);
    const viaHelper = [...reach('helper').filter((n) => !constants.has(n)), ...reach('import'), ...reach('require')];
    if (viaHelper.length > 0) why.push(`new declarations in the patch module: ${viaHelper.join(', ')}`);
    if (superClass !== null) why.push(`super: through the parent of class ${superClass}, found at run time`);
    if (pair.old.isAsync !== fn.isAsync)
      notes.push(
        `${path}: ${what} ${fn.isAsync ? 'became' : 'is no longer'} async: its callers must expect ${fn.isAsync ? 'a promise' : 'a plain value'}`,
      );
    const thisGuard = newArrow && pair.old.thisBeforeSuper && uses.thisAt.length > 0;
    return {
      ...main,
      old: pair.old,
      oldSymbol,
      new: fn,
      newSymbol,
      site,
      shape,
      closure,
      superClass,
      thisGuard,
      fields,
      matchedBy: pair.by,
      why,
    };
  }

  // new exports of a CommonJS module: their values are copied like new declarations
  const exportPlans: ExportPlan[] = [];
  for (const e of structure.exports) {
    const rw = rewrite(e.value, `the new export '${e.name}'`, true, null, null, null);
    const computed = checkNewExport(path, e, rw.access);
    if (computed.length === 0) exportPlans.push({ export: e, ...rw });
    else refusals.push(...computed);
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
      helpers.push({
        decl,
        changed: changed !== undefined,
        ...rewrite(
          node,
          changed !== undefined ? `the new value of '${name}'` : `the new ${decl.kind} '${name}'`,
          true,
          null,
          null,
          null,
        ),
      });
    }
  }
  helpers.sort((a, b) => a.decl.start - b.decl.start);
  const imports = [...usedImports].map((n) => structure.imports.get(n)!);
  const constantPlans = [...constants.values()].map((constant) => ({
    constant,
    readers: replacements
      .filter((r) => readsOf.get(r.new.start)?.includes(constant.name) === true)
      .map((r) => r.oldSymbol.name),
  }));
  return {
    old,
    next,
    structure,
    replacements,
    helpers,
    imports,
    exports: exportPlans,
    constants: constantPlans,
    refusals,
    notes,
    formattingOnly,
    innerOnly,
    refused,
  };
}

/** The properties a constructor now sets to a value that does not depend on the call, and did not set before. */
function newInstanceProperties(oldNode: Node, newNode: Node): string[] {
  const before = instanceInits(oldNode);
  return [...instanceInits(newNode)].filter(([prop, init]) => init.fixed && !before.has(prop)).map(([prop]) => prop);
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
  return new RegExp(`\\b${name.replace(/\$/g, '\\$')}\\.prototype\\b|\\bnew ${name.replace(/\$/g, '\\$')}\\b`).test(
    v.source,
  );
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
  for (const i of fn.scopes)
    for (const b of v.analysis.functions[i]?.scopeBindings ?? []) if (!m.has(b.name)) m.set(b.name, b);
  return m;
}

/** The code of a new declaration: the function or class, or a constant's initializer. */
function declarationNode(v: ModuleVersion, decl: NewDeclaration): Node {
  let found: Node | null = null;
  const visit = (n: Node) => {
    if (found !== null) return;
    if (
      n.start === decl.start &&
      n.end === decl.end &&
      (n.type === 'FunctionDeclaration' ||
        n.type === 'ClassDeclaration' ||
        n.type === 'ClassExpression' ||
        n.type === 'VariableDeclarator')
    ) {
      found = n;
      return;
    }
    for (const k of ['declaration', 'declarations', 'body']) {
      const c = n[k];
      if (Array.isArray(c)) for (const x of c) visit(x as Node);
      else if (c && typeof c === 'object' && k !== 'body') visit(c as Node);
    }
  };
  for (const st of v.program.body) visit(st);
  if (found === null) {
    throw new GeneratorError(
      'LP_ERR_BUILD_INTERNAL',
      `livepatch build: internal error: declaration '${decl.name}' not found`,
    );
  }
  const f = found as Node;
  return f.type === 'VariableDeclarator' ? unwrap(f.init as Node) : f;
}
