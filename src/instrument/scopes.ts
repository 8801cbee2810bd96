/**
 * Lexical scopes of one module, for the loader's analysis: analyze.ts walks
 * the tree and tells this file where scopes open and close, what is declared
 * and what is referenced. Every scope declares all it will ever hold when it
 * opens (hoisting), so each reference is resolved at once, to the binding it
 * reads or writes. What comes out is per binding and per function: whether a
 * binding is written after its declaration, which bindings of enclosing
 * functions each function captures, and which bindings of functions that
 * run once it reaches through their accessor (the targets of `closure()` and
 * `moduleScope()`).
 *
 * The patch generator resolves names too (src/generator/scope.ts), for
 * another question: where, in the text of one function cut from its module,
 * each free name occurs, so that it can be rewritten. This file answers per
 * binding, for a whole module, in the one pass the loader makes over every
 * module it loads, and records no reference: answering per reference here
 * would cost every load. The generator uses the answers of this file (a
 * function's captures, the module's top-level bindings) to tell what each
 * of its free names is.
 */

import type { Binding, FunctionInfo } from './analysis-types.ts';
import type { Node } from './estree.ts';

export const ScopeKind = { Top: 0, Function: 1, Block: 2, Class: 3, Catch: 4 } as const;
export type ScopeKind = (typeof ScopeKind)[keyof typeof ScopeKind];

export interface Scope {
  readonly kind: ScopeKind;
  readonly parent: Scope | null;
  /** the function this scope belongs to (null at top level) */
  readonly fn: FnRecord | null;
  /** made on the first declaration: many function scopes declare nothing */
  decls: Map<string, Binding> | null;
}

/** A function as its scopes see it: what it captures, and what scope-hazards.ts needs of its body. */
export interface FnRecord {
  readonly info: FunctionInfo;
  readonly parent: FnRecord | null;
  readonly isArrow: boolean;
  /** made on first use: most functions capture nothing */
  captureSet: Set<Binding> | null;
  scopeSet: Set<Binding> | null;
  scopeRefs: Set<FnRecord> | null;
  /** the function and lexical declarations at the top of its body (for scope-hazards.ts), made when there are any */
  topDeclarations: Node[] | null;
}

export function fnRecord(info: FunctionInfo, parent: FnRecord | null, isArrow: boolean): FnRecord {
  return { info, parent, isArrow, captureSet: null, scopeSet: null, scopeRefs: null, topDeclarations: null };
}

/**
 * Once every scope has closed, each function's captures are known: write
 * them into its FunctionInfo (`records` in pre-order, as the functions are).
 */
export function publishCaptures(records: readonly FnRecord[]): void {
  for (const rec of records) {
    if (rec.captureSet !== null) rec.info.captures = [...rec.captureSet];
    if (rec.scopeSet !== null) rec.info.scopeBindings = [...rec.scopeSet];
    // nearest first: records are in pre-order, so a deeper function has a larger index
    if (rec.scopeRefs !== null) {
      rec.info.scopes = [...rec.scopeRefs].sort((x, y) => y.info.index - x.info.index).map((o) => o.info.index);
    }
  }
}

export class Scopes {
  readonly top: Scope;
  /** the innermost open scope */
  private scope: Scope;
  /** the innermost function being walked (null at top level) */
  fn: FnRecord | null = null;
  /** the function whose body's top-level declarations are being hoisted */
  private topOf: FnRecord | null = null;

  constructor() {
    this.top = this.scope = { kind: ScopeKind.Top, parent: null, fn: null, decls: new Map() };
  }

  /** The module's top-level bindings, in order of declaration. */
  topLevel(): Binding[] {
    return this.top.decls === null ? [] : [...this.top.decls.values()];
  }

  open(kind: ScopeKind): Scope {
    const s: Scope = { kind, parent: this.scope, fn: this.fn, decls: null };
    this.scope = s;
    return s;
  }

  close(s: Scope): void {
    if (s.parent !== null) this.scope = s.parent;
  }

  bind(name: string, kind: Binding['kind'], scope: Scope = this.scope): void {
    const decls = (scope.decls ??= new Map());
    if (!decls.has(name)) decls.set(name, { name, kind, assigned: false });
  }

  /** `var` and function-level declarations go to the nearest function (or top) scope. */
  private varScope(): Scope {
    let s = this.scope;
    while (s.kind !== ScopeKind.Function && s.kind !== ScopeKind.Top) s = s.parent!;
    return s;
  }

  /**
   * Resolve a reference at once. Every scope declares all it will ever hold
   * on entry (hoisting is done before its body is walked), so the innermost
   * declaration visible now is the one the reference binds to.
   */
  reference(name: string, write: boolean): void {
    for (let s: Scope | null = this.scope; s !== null; s = s.parent) {
      const b = s.decls?.get(name);
      if (b === undefined) continue;
      if (write) b.assigned = true;
      // A reference from a function nested below the declaring function is
      // a capture for it and for every function between. Bindings of the
      // top scope itself are reached through the module accessor instead, and
      // those of a function that runs once through that function's accessor.
      if (s === this.top || this.fn === s.fn) return;
      const owner = s.fn;
      if (owner !== null && owner.info.runsOnce && s.kind === ScopeKind.Function) {
        (owner.scopeSet ??= new Set()).add(b);
        for (let f = this.fn; f !== null && f !== owner; f = f.parent) (f.scopeRefs ??= new Set()).add(owner);
      } else {
        for (let f = this.fn; f !== null && f !== owner; f = f.parent) (f.captureSet ??= new Set()).add(b);
      }
      return;
    }
    // not declared anywhere: a global
  }

  /** Declare the lexical declarations of a statement list before walking it (hoisting). */
  hoistBlock(body: Node[]): void {
    for (const st of body) this.hoistStatement(st);
  }

  /** The same for a function's body, noting its top-level declarations on `rec` (scope-hazards.ts reads them). */
  hoistBody(body: Node[], rec: FnRecord): void {
    this.topOf = rec;
    this.hoistBlock(body);
    this.topOf = null;
  }

  hoistStatement(st: Node): void {
    switch (st.type) {
      case 'VariableDeclaration': {
        const kind = st.kind as string;
        if (kind !== 'var' && this.topOf !== null) (this.topOf.topDeclarations ??= []).push(st);
        const scope = kind === 'var' ? this.varScope() : this.scope;
        const k = kind === 'var' ? 'var' : kind === 'const' ? 'const' : 'let';
        for (const d of st.declarations as Node[]) this.declarePattern(d.id as Node, k, scope);
        break;
      }
      case 'FunctionDeclaration':
        if (st.id) this.bind((st.id as Node).name as string, 'function');
        if (this.topOf !== null) (this.topOf.topDeclarations ??= []).push(st);
        break;
      case 'ClassDeclaration':
        if (st.id) this.bind((st.id as Node).name as string, 'class');
        if (this.topOf !== null) (this.topOf.topDeclarations ??= []).push(st);
        break;
      case 'ExportNamedDeclaration':
      case 'ExportDefaultDeclaration':
        if (st.declaration) this.hoistStatement(st.declaration as Node);
        break;
      case 'ImportDeclaration':
        if (st.importKind === 'type') break;
        for (const sp of st.specifiers as Node[]) {
          if (sp.importKind === 'type') continue;
          this.bind((sp.local as Node).name as string, 'import');
        }
        break;
      case 'TSEnumDeclaration':
      case 'TSModuleDeclaration':
        if (!st.declare && st.id && (st.id as Node).type === 'Identifier') {
          this.bind((st.id as Node).name as string, 'let');
        }
        break;
      default:
        // `var` inside nested statements (if/for/try/...) hoists to the function.
        this.hoistVarsIn(st);
    }
  }

  /** Find `var` declarations nested in non-function statements. */
  private hoistVarsIn(st: Node): void {
    switch (st.type) {
      case 'IfStatement':
        this.hoistVarsIn(st.consequent as Node);
        if (st.alternate) this.hoistVarsIn(st.alternate as Node);
        break;
      case 'ForStatement':
        if (st.init && (st.init as Node).type === 'VariableDeclaration' && (st.init as Node).kind === 'var') {
          this.hoistStatement(st.init as Node);
        }
        this.hoistVarsIn(st.body as Node);
        break;
      case 'ForInStatement':
      case 'ForOfStatement':
        if ((st.left as Node).type === 'VariableDeclaration' && (st.left as Node).kind === 'var') {
          this.hoistStatement(st.left as Node);
        }
        this.hoistVarsIn(st.body as Node);
        break;
      case 'WhileStatement':
      case 'DoWhileStatement':
      case 'LabeledStatement':
      case 'WithStatement':
        this.hoistVarsIn(st.body as Node);
        break;
      case 'BlockStatement':
      case 'StaticBlock':
        for (const s of st.body as Node[]) this.hoistVarsIn(s);
        break;
      case 'TryStatement':
        this.hoistVarsIn(st.block as Node);
        if (st.handler) this.hoistVarsIn((st.handler as Node).body as Node);
        if (st.finalizer) this.hoistVarsIn(st.finalizer as Node);
        break;
      case 'SwitchStatement':
        for (const c of st.cases as Node[]) for (const s of c.consequent as Node[]) this.hoistVarsIn(s);
        break;
      case 'VariableDeclaration':
        if (st.kind === 'var') this.hoistStatement(st);
        break;
    }
  }

  /** Block-level declarations (`var`s were hoisted to the function already); `strict`: the block's code is strict. */
  hoistLexical(st: Node, strict: boolean): void {
    if (st.type === 'VariableDeclaration') {
      if (st.kind !== 'var') {
        const kind = st.kind === 'const' ? 'const' : 'let';
        for (const d of st.declarations as Node[]) this.declarePattern(d.id as Node, kind, this.scope);
      }
    } else if (st.type === 'FunctionDeclaration') {
      if (st.id) {
        const name = (st.id as Node).name as string;
        this.bind(name, 'function');
        // Annex B: in sloppy code a function in a block is also var-scoped.
        if (!strict) this.bind(name, 'var', this.varScope());
      }
    } else if (st.type === 'ClassDeclaration') {
      if (st.id) this.bind((st.id as Node).name as string, 'class');
    }
  }

  /**
   * Declare the names of a binding pattern: the walk of syntax.ts's
   * boundNames, binding as it goes (a TypeScript `this` parameter too,
   * harmlessly: no reference reads a binding by that name).
   */
  declarePattern(p: Node, kind: Binding['kind'], scope: Scope): void {
    switch (p.type) {
      case 'Identifier':
        this.bind(p.name as string, kind, scope);
        break;
      case 'ObjectPattern':
        for (const prop of p.properties as Node[]) {
          this.declarePattern((prop.type === 'RestElement' ? prop.argument : prop.value) as Node, kind, scope);
        }
        break;
      case 'ArrayPattern':
        for (const el of p.elements as (Node | null)[]) if (el) this.declarePattern(el, kind, scope);
        break;
      case 'RestElement':
        this.declarePattern(p.argument as Node, kind, scope);
        break;
      case 'AssignmentPattern':
        this.declarePattern(p.left as Node, kind, scope);
        break;
      case 'TSParameterProperty':
        this.declarePattern(p.parameter as Node, kind, scope);
        break;
    }
  }
}
