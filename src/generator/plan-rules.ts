/**
 * The rule checks of plan.ts: one named check per refusal rule (two where a
 * rule is checked at two points). Each takes only what its rule looks at and
 * returns what it refuses, in source order (an empty list: accepted), so a
 * rule can be read, tested and relaxed on its own; plan.ts runs them in its
 * order, which is the order of the refusals, and assembles the plan.
 *
 * A check of code returns findings at an offset of the new source; plan.ts
 * turns each into a refusal (the line, the rule's way out from refusals.ts)
 * and reports a reason once per module. A check of a module-level declaration
 * returns refusals at the declaration's line, as structure.ts does.
 *
 * A changed function:
 * - checkUnpatchable: the loader armed the running function (`unpatchable`);
 * - checkAmbiguous: which running function it is can be told (`ambiguous`);
 * - checkRunsAtLoad: its own code does not run when the module loads (`module-init`);
 * - checkKind: an arrow stays an arrow, a generator a generator (`kind`);
 * - checkSignature, checkArguments: its entry check forwards what it needs: no
 *   more parameters than the running function forwards, `arguments` only if it
 *   forwards them all (`signature`);
 * - checkLexicalArrow: an arrow does not use its enclosing function's
 *   `arguments`/`new.target`/`super` (`lexical-arrow`);
 * - checkNewTarget: only a constructor reads `new.target` (`new-target`);
 * - checkSuper: `super` has a home, a class that is a top-level binding (`super`);
 * - checkClassMember: a replaced constructor can rebuild the instance (`constructor`);
 * - checkInstanceState: a constructor's fix does not change an initial value
 *   that every object made before the patch keeps (`instance-state`);
 * - checkImplicitGlobals: it assigns no undeclared variable (`syntax`).
 * A free name of any code the patch copies (a replacement, a new declaration,
 * a new export's value):
 * - checkClosureCaptures: a closure reaches only variables the running closure
 *   captures (`closure-captures`);
 * - checkClosureWrite, checkModuleWrite: it writes only closure variables and
 *   module bindings the running code writes (`readonly-binding`);
 * - checkNewDeclarationWrite: it does not assign a declaration the fix adds (`new-data`).
 * What any copied code uses:
 * - checkPrivateNames: no `#private` names (`private-name`);
 * - checkModuleContext: nothing of the module it runs in: `import.meta` (except
 *   url/filename/dirname, which become constants), computed `import()` (`module-context`);
 * - checkDynamicScope: no direct `eval`, no `with` (`dynamic-scope`);
 * - checkJsx: no JSX (`syntax`).
 * The module:
 * - checkConstantUses: a changed constant's running value went nowhere a patch
 *   cannot reach (`module-data`, with constants.ts);
 * - checkNewExport: a new CommonJS export's value is one the patch can make (`export`).
 */

import type { Binding, FunctionInfo } from '../instrument/analysis-types.ts';
import { unwrap } from '../instrument/syntax.ts';
import type { SymbolInfo } from '../instrument/symbol-table.ts';
import type { FunctionSite, Node } from './ast.ts';
import type { ConstantUse } from './constants.ts';
import { isPlain } from './data.ts';
import { instanceInits } from './instances.ts';
import type { Matching, Pair } from './match.ts';
import { refusal, type Refusal, type Rule } from './refusals.ts';
import type { FreeRef, FunctionUses } from './scope.ts';
import type { ChangedConstant, NewExport } from './structure.ts';

/** What a check refuses: the rule, where (an offset in the new version's source) and why. */
export interface Finding {
  readonly rule: Rule;
  readonly at: number;
  readonly reason: string;
}

/** What `closure()` offers in a replacement of the running function: its names, and those it can write. */
export interface ClosureView {
  readonly names: ReadonlySet<string>;
  readonly writable: ReadonlySet<string>;
}

/** How a changed function is named in a reason. */
export function named(fn: FunctionInfo): string {
  return `'${fn.name}'`;
}

const META_CONSTANTS = new Set(['url', 'filename', 'dirname']);

/** The entry check forwards every argument: `arguments`, or a rest parameter last. */
function forwardsAll(oldSymbol: SymbolInfo): boolean {
  return oldSymbol.arity === -1 || oldSymbol.rest;
}

// ---- a changed function and its running counterpart ----

/** `unpatchable`: the loader could not arm the running function, so no entry check takes its calls. */
export function checkUnpatchable(fn: FunctionInfo, oldSymbol: SymbolInfo): Finding[] {
  if (oldSymbol.unpatchable === null) return [];
  return [{ rule: 'unpatchable', at: fn.start, reason: `${named(fn)} cannot be patched: ${oldSymbol.unpatchable}` }];
}

/** `ambiguous`: namesakes left unpaired by match.ts, at the first new one of each name. */
export function checkAmbiguous(matching: Matching): Finding[] {
  return [...matching.ambiguous].map((name) => {
    const left = matching.added.filter((f) => f.name === name);
    const oldLeft = matching.removed.filter((f) => f.name === name).length;
    return {
      rule: 'ambiguous',
      at: left[0]!.start,
      reason:
        `the functions named '${name}' (${left.length} new, ${oldLeft} running, left unpaired)` +
        ' cannot be matched to the running ones',
    };
  });
}

/**
 * `module-init`: the changed code of a function that runs when the module
 * loads (`loadTime`: the running version's, by start offset) would never run.
 */
export function checkRunsAtLoad(pair: Pair, loadTime: ReadonlySet<number>): Finding[] {
  if (!loadTime.has(pair.old.start)) return [];
  return [
    {
      rule: 'module-init',
      at: pair.new.start,
      reason:
        `changes the code of '${pair.new.name}', a function that runs when the module loads` +
        " (a bundle's wrapper or factory, an immediately invoked function): the change would never run",
    },
  ];
}

/** `kind`: an arrow stays an arrow and a function a function (`this`), a generator a generator (`yield*`). */
export function checkKind(old: FunctionInfo, fn: FunctionInfo): Finding[] {
  const out: Finding[] = [];
  const oldArrow = old.kind === 'arrow';
  const newArrow = fn.kind === 'arrow';
  if (oldArrow !== newArrow) {
    const was = oldArrow ? 'an arrow function' : 'a function';
    const is = newArrow ? 'an arrow function' : 'a function';
    const reason = `${named(fn)} was ${was} and is now ${is}: \`this\` would change meaning`;
    out.push({ rule: 'kind', at: fn.start, reason });
  }
  if (old.isGenerator !== fn.isGenerator) {
    const reason = `${named(fn)} ${fn.isGenerator ? 'became' : 'is no longer'} a generator`;
    out.push({ rule: 'kind', at: fn.start, reason });
  }
  return out;
}

/**
 * `signature`, parameters: no rest parameter and no more parameters than the
 * running entry check forwards (`node`: the new function; see docs/loader.md).
 */
export function checkSignature(fn: FunctionInfo, node: Node, oldSymbol: SymbolInfo): Finding[] {
  if (forwardsAll(oldSymbol)) return [];
  // a TypeScript `this` parameter is a type, not a parameter
  const params = (node.params as Node[]).filter((p) => !(p.type === 'Identifier' && p.name === 'this'));
  const hasRest = params.length > 0 && params[params.length - 1]!.type === 'RestElement';
  if (hasRest) {
    const reason =
      `${named(fn)} now takes a rest parameter;` +
      ` the running function forwards only its ${oldSymbol.arity} declared parameter(s)`;
    return [{ rule: 'signature', at: fn.start, reason }];
  }
  if (params.length > oldSymbol.arity) {
    const reason =
      `${named(fn)} now takes ${params.length} parameters;` + ` the running function forwards ${oldSymbol.arity}`;
    return [{ rule: 'signature', at: fn.start, reason }];
  }
  return [];
}

/**
 * `signature`, `arguments`: read only where the running entry check forwards
 * all of them (an arrow's are its enclosing function's: `lexical-arrow`).
 */
export function checkArguments(fn: FunctionInfo, uses: FunctionUses, oldSymbol: SymbolInfo): Finding[] {
  if (uses.argumentsAt.length === 0 || fn.kind === 'arrow' || forwardsAll(oldSymbol)) return [];
  const reason = `${named(fn)} reads \`arguments\`, but the running function forwards only its declared parameters`;
  return [{ rule: 'signature', at: uses.argumentsAt[0]!, reason }];
}

/** `lexical-arrow`: an arrow's `arguments`, `new.target` and `super` are its enclosing function's. */
export function checkLexicalArrow(fn: FunctionInfo, uses: FunctionUses): Finding[] {
  if (fn.kind !== 'arrow') return [];
  const out: Finding[] = [];
  const arrow = `the arrow function ${named(fn)}`;
  const first = (at: readonly number[], reason: string) => {
    if (at.length > 0) out.push({ rule: 'lexical-arrow', at: at[0]!, reason });
  };
  first(uses.argumentsAt, `${arrow} uses \`arguments\` of the function around it`);
  first(uses.newTargetAt, `${arrow} uses \`new.target\` of the function around it`);
  first(uses.superAt, `${arrow} uses \`super\` of the method around it`);
  return out;
}

/** `new-target`: a replacement is called, not constructed (a class constructor is replaced by a class). */
export function checkNewTarget(fn: FunctionInfo, uses: FunctionUses): Finding[] {
  if (uses.newTargetAt.length === 0 || fn.kind === 'arrow' || fn.kind === 'constructor') return [];
  const reason = `${named(fn)} reads \`new.target\`, which is undefined in a replacement`;
  return [{ rule: 'new-target', at: uses.newTargetAt[0]!, reason }];
}

/**
 * The class whose parent `super` in this member refers to, when a
 * replacement can find it at run time: a class that is a top-level binding
 * of the running module (`oldTopLevel`); null otherwise.
 */
export function superHome(site: FunctionSite, oldTopLevel: ReadonlyMap<string, Binding>): string | null {
  if (site.classNode === null || site.classBinding === null || !oldTopLevel.has(site.classBinding)) return null;
  return site.classBinding;
}

/**
 * `super`: a method that uses `super`, and the constructor of a derived class
 * (replaced by a class whose parent is set at run time), need a home: a class
 * that is a top-level binding of the running module (see superHome).
 */
export function checkSuper(
  fn: FunctionInfo,
  site: FunctionSite,
  uses: FunctionUses,
  oldTopLevel: ReadonlyMap<string, Binding>,
): Finding[] {
  if (fn.kind === 'arrow' || superHome(site, oldTopLevel) !== null) return [];
  const out: Finding[] = [];
  if (uses.superAt.length > 0) {
    const reason =
      site.classNode === null
        ? `${named(fn)} uses \`super\` in a method of an object literal, whose home object a replacement cannot have`
        : `${named(fn)} uses \`super\`, and its class is not a top-level binding of the module`;
    out.push({ rule: 'super', at: uses.superAt[0]!, reason });
  }
  if (fn.kind === 'constructor' && site.classNode !== null && site.classNode.superClass != null) {
    out.push({
      rule: 'super',
      at: fn.start,
      reason:
        'the constructor of a derived class is replaced by a class whose parent is found at run time,' +
        ' and this class is not a top-level binding of the module',
    });
  }
  return out;
}

// ---- a replaced constructor ----

/** A `#private` member: a class that has one cannot be rebuilt by a replacement constructor. */
export function isPrivateMember(member: Node): boolean {
  return (member.key as Node | undefined)?.type === 'PrivateIdentifier';
}

/** An instance field (not static, not `declare`): a replacement constructor re-creates it. */
export function isInstanceField(member: Node): boolean {
  const field = member.type === 'PropertyDefinition' || member.type === 'AccessorProperty';
  return field && !member.static && member.declare !== true;
}

/**
 * `constructor`: one member of the class of a replaced constructor `fn`,
 * which the replacement must re-create: no `#private` member, no computed or
 * accessor field; in a base class (`derived` false) no field initializer
 * that runs code (it ran before the replacement took over and would run
 * again); in a class inside a function, no field initializer at all.
 */
export function checkClassMember(fn: FunctionInfo, member: Node, derived: boolean): Finding[] {
  const refuse = (reason: string): Finding[] => [
    { rule: 'constructor', at: member.start, reason: `the constructor ${named(fn)} ${reason}` },
  ];
  if (isPrivateMember(member)) return refuse('is in a class with #private members, which a replacement cannot install');
  if (!isInstanceField(member)) return [];
  if (member.computed || member.type === 'AccessorProperty') {
    return refuse('is in a class with a computed or accessor field');
  }
  const value = member.value as Node | null | undefined;
  if (!derived && value != null && !isPlain(value)) {
    return refuse(
      'is in a base class whose field initializer runs code:' +
        ' it would run twice (once before the replacement takes over)',
    );
  }
  // the variables a field initializer sees in a class inside a function are not the constructor's to hand over
  if (value != null && fn.parent !== -1) return refuse('is in a class inside a function, with field initializers');
  return [];
}

/**
 * `instance-state`: a constructor (`oldNode` running, `newNode` new) whose
 * fix changes a `this.x = <value>` that does not depend on the call: every
 * object made before the patch keeps the old value (instances.ts).
 */
export function checkInstanceState(fn: FunctionInfo, oldNode: Node, newNode: Node, oldSource: string): Finding[] {
  const before = instanceInits(oldNode);
  const out: Finding[] = [];
  for (const [prop, init] of instanceInits(newNode)) {
    const was = before.get(prop);
    // a new property is noted by plan.ts; a value from the call is per-call logic
    if (!init.fixed || was === undefined || was.key === init.key) continue;
    const oldText = oldSource.slice(was.node.start, was.node.end).replace(/\s+/g, ' ');
    out.push({
      rule: 'instance-state',
      at: init.node.start,
      reason:
        `the constructor ${named(fn)} changes the initial value of this.${prop},` +
        ` which every object made before the patch keeps (\`${oldText}\`)`,
    });
  }
  return out;
}

/**
 * `syntax`, implicit globals: a replacement runs in strict mode (the patch is
 * an ES module), where assigning an undeclared variable of sloppy code throws.
 * `access`: how the function's free names are reached (plan.ts's Access).
 */
export function checkImplicitGlobals(
  fn: FunctionInfo,
  access: ReadonlyMap<FreeRef, { readonly kind: string }>,
): Finding[] {
  if (fn.strict) return [];
  const out: Finding[] = [];
  for (const [ref, a] of access) {
    if (a.kind !== 'global' || !ref.write) continue;
    const reason =
      `${named(fn)} assigns the undeclared variable '${ref.name}'` +
      ' (an implicit global in sloppy mode; replacements run in strict mode)';
    out.push({ rule: 'syntax', at: ref.start, reason });
  }
  return out;
}

// ---- a free name of copied code (`what` names the code) ----

/** `closure-captures`: a variable of an enclosing function must be one the running closure captures (`running`). */
export function checkClosureCaptures(ref: FreeRef, what: string, running: ClosureView | null): Finding[] {
  if (running !== null && running.names.has(ref.name)) return [];
  const reason = `${what} uses '${ref.name}' of the function around it, which the running closure does not capture`;
  return [{ rule: 'closure-captures', at: ref.start, reason }];
}

/** `readonly-binding`, closures: a captured variable is written only if the running code writes it. */
export function checkClosureWrite(ref: FreeRef, what: string, running: ClosureView | null): Finding[] {
  // an uncaptured one is checkClosureCaptures's
  if (!ref.write || running === null || !running.names.has(ref.name) || running.writable.has(ref.name)) return [];
  const reason = `${what} writes '${ref.name}', which the running code never writes`;
  return [{ rule: 'readonly-binding', at: ref.start, reason }];
}

/** `readonly-binding`, modules: a module binding is written only if the running code writes it (`writable`). */
export function checkModuleWrite(ref: FreeRef, what: string, writable: ReadonlySet<string>): Finding[] {
  if (!ref.write || writable.has(ref.name)) return [];
  const reason = `${what} writes the module binding '${ref.name}', which the running code never writes`;
  return [{ rule: 'readonly-binding', at: ref.start, reason }];
}

/** `new-data`: a declaration the fix adds is declared by the patch, and module-level state cannot be added. */
export function checkNewDeclarationWrite(ref: FreeRef, what: string): Finding[] {
  if (!ref.write) return [];
  const reason = `${what} assigns '${ref.name}', a declaration the fix adds: module-level state cannot be added`;
  return [{ rule: 'new-data', at: ref.start, reason }];
}

// ---- what copied code uses ----

/** `private-name`: a `#name` is usable only inside its class body, and a replacement runs outside it. */
export function checkPrivateNames(uses: FunctionUses, what: string): Finding[] {
  return uses.privateAt.map((p): Finding => ({
    rule: 'private-name',
    at: p.start,
    reason: `${what} uses the private name #${p.name}`,
  }));
}

/**
 * `module-context`: `import.meta` (other than url/filename/dirname, which
 * become the running module's) and a computed `import()` would be the patch module's.
 */
export function checkModuleContext(uses: FunctionUses, what: string): Finding[] {
  const out: Finding[] = [];
  for (const m of uses.importMeta) {
    if (m.property !== null && META_CONSTANTS.has(m.property)) continue;
    const reason = `${what} uses import.meta${m.property ? '.' + m.property : ''}`;
    out.push({ rule: 'module-context', at: m.start, reason });
  }
  for (const d of uses.dynamicImports) {
    if (d.literal !== null) continue;
    out.push({ rule: 'module-context', at: d.start, reason: `${what} calls import() with a computed specifier` });
  }
  return out;
}

/** `dynamic-scope`: with direct `eval` or `with`, which variables are reached is not known before it runs. */
export function checkDynamicScope(uses: FunctionUses, what: string): Finding[] {
  return [
    ...uses.evalAt.map((at): Finding => ({ rule: 'dynamic-scope', at, reason: `${what} calls eval directly` })),
    ...uses.withAt.map((at): Finding => ({ rule: 'dynamic-scope', at, reason: `${what} uses a with statement` })),
  ];
}

/** `syntax`, JSX: the patch runs on Node without a build step. */
export function checkJsx(uses: FunctionUses, what: string): Finding[] {
  return uses.jsxAt.map((at) => ({ rule: 'syntax', at, reason: `${what} contains JSX` }));
}

// ---- the module ----

/**
 * `module-data`: a changed constant is refused at its first use that is not
 * a read from a function — the running version's uses first, then the new
 * one's (constants.ts classifies them): the running value went there, and a
 * patch cannot replace it. Returns the refusals by constant name, in that order.
 */
export function checkConstantUses(
  path: string,
  constants: ReadonlyMap<string, ChangedConstant>,
  oldUses: readonly ConstantUse[],
  newUses: readonly ConstantUse[],
): Map<string, Refusal> {
  const out = new Map<string, Refusal>();
  for (const [uses, label] of [
    [oldUses, ' of the running version'],
    [newUses, ''],
  ] as const) {
    for (const u of uses) {
      if (u.kind === 'read' || out.has(u.name)) continue;
      const c = constants.get(u.name)!;
      const who = u.fn !== null && u.kind !== 'init' ? `'${u.fn.name}' ` : '';
      const reason =
        `changes the module-level value '${u.name}', and ${who}${u.what.replace(/^'[^']*' /, '')}` +
        ` (line ${u.line}${label}): the running value cannot be replaced`;
      out.set(u.name, refusal('module-data', path, c.decl.line, reason));
    }
  }
  return out;
}

/**
 * `export`: a new export of a CommonJS module gets a value the patch can
 * make: a name, plain data, a function, or a function called at once whose
 * code reaches nothing of the module (`access`: how its value's free names
 * are reached, plan.ts's Access) — not code that ran when the module loaded.
 */
export function checkNewExport(
  path: string,
  e: NewExport,
  access: ReadonlyMap<FreeRef, { readonly kind: string }>,
): Refusal[] {
  const v = unwrap(e.value);
  const callee = v.type === 'CallExpression' && (v.arguments as Node[]).length === 0 ? unwrap(v.callee as Node) : null;
  const called = callee !== null && (callee.type === 'FunctionExpression' || callee.type === 'ArrowFunctionExpression');
  const selfContained = called && [...access.values()].every((a) => a.kind === 'global' || a.kind === 'helper');
  if (v.type === 'Identifier' || isPlain(v) || selfContained) return [];
  const reason =
    `adds the export '${e.name}' with a value computed by code that runs when the module loads` +
    ' (it would run again, in the patch)';
  return [refusal('export', path, e.line, reason)];
}
