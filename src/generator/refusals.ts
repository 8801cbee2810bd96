/**
 * What `livepatch build` refuses, and the way out of each refusal: the
 * patch author guide of kpatch, as data. Every refusal names the file, the
 * line, the rule and the reason; the way out is the rule's.
 *
 * Rules are kept in one table so messages stay consistent and a later issue
 * can relax one by changing its entry or the one check that raises it (as
 * issue 7 did for changed constants and CommonJS exports).
 */

export type Rule =
  | 'module-init'
  | 'class-field'
  | 'export'
  | 'module-data'
  | 'new-data'
  | 'import'
  | 'closure-captures'
  | 'readonly-binding'
  | 'private-name'
  | 'class-shape'
  | 'signature'
  | 'kind'
  | 'super'
  | 'lexical-arrow'
  | 'new-target'
  | 'unpatchable'
  | 'dynamic-scope'
  | 'new-module'
  | 'module-context'
  | 'ambiguous'
  | 'syntax'
  | 'constructor'
  | 'instance-state';

export interface Refusal {
  /** path of the file in the tree (the module's file) */
  readonly file: string;
  /** 1-based line in the new version (or the old one, for something removed) */
  readonly line: number;
  readonly rule: Rule;
  readonly reason: string;
  readonly wayOut: string;
}

const STATE =
  'keep the running data as it is and change only functions; new state goes in shadow variables (`shadow.getOrAlloc(obj, id, init)`), and one-time work (migrating existing data) in a `postPatch` callback of a hand-written patch';

/** The way out of each rule. */
export const WAY_OUT: Record<Rule, string> = {
  'module-init': "a module's top-level code ran when it loaded and does not run again: " + STATE,
  'class-field': 'field initializers ran for every instance made before the patch and are not run again: ' + STATE,
  export:
    "the importing modules bound these names when they loaded: keep the exports as they are, put the new code in a function that is not exported and call it from the changed functions; a CommonJS module can gain a new `exports.name = value` (the patch adds it while it is enabled), an ES module's namespace cannot",
  'module-data':
    'a module-level value was computed when the module loaded and is in use: ' +
    STATE +
    '; a constant whose value is data (literals, regular expressions, arrays and objects of those) that only functions read, and that nobody changes or hands on, is redefined by the patch — otherwise add the new value under a new name (it goes into the patch) and use it in the changed functions',
  'new-data':
    'only constants with a plain initializer (literals, regular expressions, arrays and objects of those, functions), and `var`/`let` bindings that nothing reassigns whose initializer is data, can be added: ' +
    STATE,
  import:
    'an import binding of the running module cannot point somewhere else: import under a new name (a new import goes into the patch module)',
  'closure-captures':
    "instances of this closure made before the patch keep the variables they captured and cannot be given new ones: keep the closure's variables as they were (attach new state to an object with shadow variables), or change the signature of the function that creates it so that its callers join the patch (extending the patched set)",
  'readonly-binding':
    "the loader's accessors can write only variables the running code already writes: keep the state in an object property, or in a shadow variable",
  'private-name':
    '#private names are reachable only from inside their class body, and a replacement runs outside it: move the logic that changes into a function that takes the private values as arguments (the function reading `this.#x` stays as it was), or make the member non-private in a release that restarts',
  'class-shape':
    'the class object and its prototype were built when the module loaded: keep the members as they are and put new behaviour in a helper function that takes the instance',
  signature:
    "the running function's entry check forwards only the parameters it declared: give the new signature a new name (a new function of the patch) and change the callers to call it, so that they join the patch (extending the patched set)",
  kind: 'a function cannot become a generator, an arrow a function, or the reverse: give the new function a new name and change the callers to call it, so that they join the patch',
  super:
    "`super` needs the object the method belongs to: a replacement can have it for a class bound at the top level of its module, not for another class or an object literal: avoid `super` in the changed method (call the parent's method through its prototype), or bind the class at top level",
  'lexical-arrow':
    "an arrow function's `arguments`, `new.target` and `super` belong to the function around it, which a replacement of the arrow cannot reach: pass the value in a variable the arrow captures, or patch the enclosing function",
  'new-target':
    'a replacement of a function is called, not constructed, so `new.target` is undefined in it: patch the class constructor, or test `this instanceof`',
  unpatchable:
    'the loader could not arm this function: change its callers instead (give the fixed code a new name and call it from them)',
  'dynamic-scope':
    'with direct `eval` or `with` the variables a function reaches are not known before it runs: remove the `eval`/`with` from the module in a release that restarts, or change the callers instead',
  'new-module':
    'the running program does not have this file: deploy it next to the running code first (the patch imports it from there), or move the new code into the changed module, where it becomes a helper of the patch',
  'module-context':
    "a replacement runs from the patch module, where `import.meta` and a computed `import()` specifier are the patch's: read `import.meta` at the top level of the module (unchanged code) and use that binding, or import by a literal specifier",
  ambiguous:
    'several functions share this name (anonymous ones, or duplicates) and their number changed, so which running one this replaces cannot be told: give the function a name (a named function expression, or assign it to a variable)',
  syntax:
    'the patch runs on Node without a build step, so new code may use only erasable TypeScript syntax (no enums, namespaces or parameter properties) and no JSX',
  constructor:
    "a replacement constructor builds the instance itself, so the class's fields must be re-created by it: this is not possible for #private members or for field initializers with side effects; give the new construction a new function (a factory) and change the callers",
  'instance-state':
    'objects made before the patch were initialized by the old constructor and keep the old value (the fix would not reach them): migrate them in a `postPatch` callback of a hand-written patch (find them through a registry the program keeps, or give them new state with shadow variables), or restart',
};

export function refusal(rule: Rule, file: string, line: number, reason: string): Refusal {
  return { file, line, rule, reason, wayOut: WAY_OUT[rule] };
}

/** `src/cart.ts:12: [module-data] ...` and the way out on the next line. */
export function formatRefusal(r: Refusal): string {
  return `${r.file}:${r.line}: ${r.reason} [${r.rule}]\n  way out: ${r.wayOut}`;
}
