/**
 * What the loader's analysis of a module produces (analyze.ts), as types of
 * their own: the functions it found, how each forwards its call, the
 * bindings replacement code reaches. The emitter (fragments.ts), the symbol
 * table, the transform cache and the patch generator read them; the files
 * that compute them (analyze.ts, scopes.ts, forwarding.ts) import them from
 * here, so none of those has to import another's types back.
 *
 * The transform cache stores the module's plan, whose shape these types
 * describe: this file is one of the TRANSFORM_FILES (cache.ts).
 */

export type FunctionKind = 'function' | 'arrow' | 'method' | 'get' | 'set' | 'constructor';

/** How the entry check forwards the call to a replacement. */
export type Forwarding =
  /** explicit parameters (and `...rest`), in order */
  | { readonly mode: 'params'; readonly names: readonly string[] }
  /** `arguments` (non-simple parameter lists of non-arrow functions, or functions that already use it) */
  | { readonly mode: 'arguments' };

export interface Binding {
  readonly name: string;
  readonly kind: 'var' | 'let' | 'const' | 'function' | 'class' | 'param' | 'import' | 'catch' | 'name';
  /** written somewhere other than its declaration */
  assigned: boolean;
}

export interface FunctionInfo {
  /** index in source order; also the slot index within the module */
  readonly index: number;
  /** qualified name: `parse`, `Router.prototype.handle`, `makeServer/onRequest` */
  readonly name: string;
  readonly kind: FunctionKind;
  readonly isAsync: boolean;
  readonly isGenerator: boolean;
  readonly isStatic: boolean;
  /** a constructor of a class with `extends` */
  readonly isDerived: boolean;
  /** index of the enclosing function, or -1 at module level */
  readonly parent: number;
  /** the function's source range (for hashes and locations) */
  readonly start: number;
  readonly end: number;
  /** where the entry check goes: after `{` and the directive prologue */
  readonly insertAt: number;
  /** the directive prologue ends without `;`: inserted code must start with one (no ASI on one line) */
  readonly afterBareDirective: boolean;
  /** for an arrow with an expression body: that body's range (it becomes a block) */
  readonly exprBody: { readonly start: number; readonly end: number } | null;
  readonly strict: boolean;
  forwarding: Forwarding;
  /** destructured arrow parameters rewritten to temporaries: [start, end, pattern text, default text] */
  paramRewrites: readonly ParamRewrite[];
  usesArguments: boolean;
  usesThis: boolean;
  /** an arrow whose `this` is a derived constructor's: it can run before `super()`, while `this` cannot be read */
  thisBeforeSuper: boolean;
  usesNewTarget: boolean;
  /** variables of enclosing function scopes this function can see and V8 already context-allocates */
  captures: readonly Binding[];
  /**
   * The function runs once per module evaluation (an immediately invoked
   * function at the top level of the module or of another such function, as
   * bundlers emit): its own variables that nested functions capture are
   * reached through one accessor made when it runs, not one per closure.
   */
  runsOnce: boolean;
  /** for a function that runs once: its variables that nested functions capture */
  scopeBindings: readonly Binding[];
  /** functions that run once whose scope accessors this function reaches, nearest first */
  scopes: readonly number[];
  /** why this function cannot be patched (null: it can) */
  unpatchable: string | null;
}

export interface ParamRewrite {
  readonly start: number;
  readonly end: number;
  /** the parameter's original text */
  readonly original: string;
  readonly temp: string;
  /** the destructuring pattern printed on one line, without types */
  readonly pattern: string;
  readonly init: string | null;
  /**
   * For an object pattern: a pattern with only its first key (`{x:$lpz}`,
   * `{}` when it has none), destructured as a parameter on the error path,
   * so that a null or undefined argument fails with V8's own message for a
   * parameter (the moved `var` would name the temporary). Null for an array
   * pattern, whose message a comma expression keeps.
   */
  readonly errorPattern: string | null;
  /** line breaks in the original parameter */
  readonly newlines: number;
}

export interface ModuleAnalysis {
  readonly functions: FunctionInfo[];
  /** top-level bindings of the module (or the CommonJS wrapper's body) */
  readonly topLevel: Binding[];
  /** where the module prologue goes: after a `#!` line and the directive prologue (see prologueStart) */
  readonly prologueAt: number;
  /** the module's directive prologue ends without `;` */
  readonly prologueAfterBareDirective: boolean;
  readonly strict: boolean;
  /** direct `eval` or `with` somewhere: scope analysis is a lower bound there */
  readonly dynamicScope: boolean;
}
