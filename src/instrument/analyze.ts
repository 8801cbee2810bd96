/**
 * One walk over a module's ESTree: every function (where its entry check goes,
 * how its parameters are forwarded, its qualified name) and the scopes the
 * replacement code will need to reach (the kernel's `.klp.rela` targets: the
 * module's top-level bindings, and each closure's captured variables).
 *
 * Invariants:
 * - Functions are listed in source order of their start (pre-order), which is
 *   also symbol-table order: sympos counts duplicates in this order (R3.5).
 * - A function's `captures` are exactly the variables of enclosing *function*
 *   scopes it (or a function nested in it) references: those V8 already keeps
 *   in a context, so an accessor over them changes no allocation decision.
 * - A binding is `assigned` iff some code other than its declaration writes
 *   it. Accessors offer a setter only for assigned bindings, so V8's
 *   "maybe assigned" analysis of the program stays what it was.
 */

import type { Node, Program } from './estree.ts';
import { planForwarding } from './forwarding.ts';
import { bodyHazard } from './scope-hazards.ts';
import { prologueStart } from './prologue-site.ts';
import { accessorName, join, memberName, targetName } from './qualified-names.ts';

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

const ScopeKind = { Top: 0, Function: 1, Block: 2, Class: 3, Catch: 4 } as const;
type ScopeKind = (typeof ScopeKind)[keyof typeof ScopeKind];

interface Scope {
  readonly kind: ScopeKind;
  readonly parent: Scope | null;
  /** the function this scope belongs to (null at top level) */
  readonly fn: FnRecord | null;
  /** made on the first declaration: many function scopes declare nothing */
  decls: Map<string, Binding> | null;
}

interface FnRecord {
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

const FUNCTION_TYPES = new Set(['FunctionDeclaration', 'FunctionExpression', 'ArrowFunctionExpression']);

/** The empty list most functions share (frozen: nothing may add to it). */
const NONE: readonly never[] = Object.freeze([]);

/** Keys that hold TypeScript types or other non-runtime data: never walked. */
const SKIP_KEYS = new Set([
  'typeAnnotation', 'returnType', 'typeParameters', 'typeArguments', 'superTypeArguments', 'implements',
  'name', 'label', 'key', 'attributes', 'regex',
]);

const TYPE_ONLY = new Set([
  'TSInterfaceDeclaration', 'TSTypeAliasDeclaration', 'TSDeclareFunction', 'TSEmptyBodyFunctionExpression',
  'TSAbstractMethodDefinition', 'TSAbstractPropertyDefinition', 'TSAbstractAccessorProperty', 'TSIndexSignature',
  'TSImportEqualsDeclaration', 'TSNamespaceExportDeclaration', 'TSExportAssignment',
]);

export function analyze(program: Program, source: string, sourceType: 'module' | 'commonjs' | 'script'): ModuleAnalysis {
  return new Analyzer(source, sourceType).run(program);
}

class Analyzer {
  private readonly functions: FunctionInfo[] = [];
  private readonly records: FnRecord[] = [];
  /** function nodes invoked where they are defined, at a level that itself runs once */
  private readonly once = new Set<Node>();
  private scope: Scope;
  private fn: FnRecord | null = null;
  private strict: boolean;
  private dynamicScope = false;
  /** the function whose body's top-level declarations are being hoisted */
  private topOf: FnRecord | null = null;
  private readonly top: Scope;
  private readonly source: string;
  private readonly isModule: boolean;

  constructor(source: string, sourceType: 'module' | 'commonjs' | 'script') {
    this.source = source;
    this.isModule = sourceType === 'module';
    this.strict = this.isModule;
    this.top = this.scope = { kind: ScopeKind.Top, parent: null, fn: null, decls: new Map() };
  }

  run(program: Program): ModuleAnalysis {
    const body = program.body as Node[];
    let prologueAt = prologueStart(this.source, this.isModule);
    let prologueAfterBareDirective = false;
    for (const st of body) {
      if (st.type === 'ExpressionStatement' && typeof st.directive === 'string') {
        if (st.directive === 'use strict') this.strict = true;
        prologueAt = st.end as number;
        prologueAfterBareDirective = this.source.charCodeAt(prologueAt - 1) !== 59; // ';'
      } else break;
    }
    const strict = this.strict;
    this.hoistBlock(body);
    for (const st of body) this.markRunsOnce(st);
    for (const st of body) this.visit(st, null);
    this.closeScope(this.top);
    // Captures are known only once every enclosing scope has closed.
    for (const rec of this.records) {
      if (rec.captureSet !== null) rec.info.captures = [...rec.captureSet];
      if (rec.scopeSet !== null) rec.info.scopeBindings = [...rec.scopeSet];
      // nearest first: records are in pre-order, so a deeper function has a larger index
      if (rec.scopeRefs !== null) rec.info.scopes = [...rec.scopeRefs].sort((x, y) => y.info.index - x.info.index).map((o) => o.info.index);
    }
    return {
      functions: this.functions,
      topLevel: this.top.decls === null ? [] : [...this.top.decls.values()],
      prologueAt,
      prologueAfterBareDirective,
      strict,
      dynamicScope: this.dynamicScope,
    };
  }

  /**
   * A statement that calls a function it defines — `(function () {...})()`,
   * `!function () {...}()`, `(() => {...})()`, `(function () {...}).call(this)`,
   * `var x = (function () {...})()`, `module.exports = (() => {...})()` —
   * runs that function once each time the enclosing level runs.
   */
  private markRunsOnce(st: Node): void {
    if (st.type === 'ExportNamedDeclaration' && st.declaration) st = st.declaration as Node;
    let e: Node | null = null;
    if (st.type === 'ExpressionStatement') e = st.expression as Node;
    else if (st.type === 'VariableDeclaration' && (st.declarations as Node[]).length === 1) e = ((st.declarations as Node[])[0]!.init as Node | null) ?? null;
    if (e === null) return;
    if (e.type === 'AssignmentExpression') e = e.right as Node;
    while (e.type === 'ParenthesizedExpression' || e.type === 'UnaryExpression') e = e.type === 'UnaryExpression' ? (e.argument as Node) : (e.expression as Node);
    if (e.type !== 'CallExpression') return;
    let callee = e.callee as Node;
    while (callee.type === 'ParenthesizedExpression') callee = callee.expression as Node;
    if (callee.type === 'MemberExpression' && !callee.computed) {
      const prop = (callee.property as Node).name;
      if (prop !== 'call' && prop !== 'apply') return;
      callee = callee.object as Node;
      while (callee.type === 'ParenthesizedExpression') callee = callee.expression as Node;
    }
    if ((callee.type === 'FunctionExpression' || callee.type === 'ArrowFunctionExpression') && callee.async !== true && callee.generator !== true) this.once.add(callee);
  }

  // ---- scopes -------------------------------------------------------------

  private openScope(kind: ScopeKind): Scope {
    const s: Scope = { kind, parent: this.scope, fn: this.fn, decls: null };
    this.scope = s;
    return s;
  }

  private closeScope(s: Scope): void {
    if (s.parent !== null) this.scope = s.parent;
  }

  private bind(name: string, kind: Binding['kind'], scope: Scope = this.scope): void {
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
  private reference(name: string, write: boolean): void {
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
  private hoistBlock(body: Node[]): void {
    for (const st of body) this.hoistStatement(st);
  }

  private hoistStatement(st: Node): void {
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
        if (!st.declare && st.id && (st.id as Node).type === 'Identifier') this.bind((st.id as Node).name as string, 'let');
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
        if (st.init && (st.init as Node).type === 'VariableDeclaration' && (st.init as Node).kind === 'var') this.hoistStatement(st.init as Node);
        this.hoistVarsIn(st.body as Node);
        break;
      case 'ForInStatement':
      case 'ForOfStatement':
        if ((st.left as Node).type === 'VariableDeclaration' && (st.left as Node).kind === 'var') this.hoistStatement(st.left as Node);
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
        for (const s of st.body as Node[]) {
          if (s.type === 'VariableDeclaration') { if (s.kind === 'var') this.hoistStatement(s); } else this.hoistVarsIn(s);
        }
        break;
      case 'TryStatement':
        this.hoistVarsIn(st.block as Node);
        if (st.handler) this.hoistVarsIn((st.handler as Node).body as Node);
        if (st.finalizer) this.hoistVarsIn(st.finalizer as Node);
        break;
      case 'SwitchStatement':
        for (const c of st.cases as Node[]) for (const s of c.consequent as Node[]) {
          if (s.type === 'VariableDeclaration') { if (s.kind === 'var') this.hoistStatement(s); } else this.hoistVarsIn(s);
        }
        break;
      case 'VariableDeclaration':
        if (st.kind === 'var') this.hoistStatement(st);
        break;
    }
  }

  private declarePattern(p: Node, kind: Binding['kind'], scope: Scope): void {
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

  /** Walk a binding pattern in a declaration: its defaults and computed keys are expressions. */
  private visitPatternExpressions(p: Node): void {
    switch (p.type) {
      case 'ObjectPattern':
        for (const prop of p.properties as Node[]) {
          if (prop.type === 'RestElement') this.visitPatternExpressions(prop.argument as Node);
          else {
            if (prop.computed) this.visit(prop.key as Node, null);
            this.visitPatternExpressions(prop.value as Node);
          }
        }
        break;
      case 'ArrayPattern':
        for (const el of p.elements as (Node | null)[]) if (el) this.visitPatternExpressions(el);
        break;
      case 'RestElement':
        this.visitPatternExpressions(p.argument as Node);
        break;
      case 'AssignmentPattern':
        this.visitPatternExpressions(p.left as Node);
        this.visit(p.right as Node, p.left && (p.left as Node).type === 'Identifier' ? ((p.left as Node).name as string) : null);
        break;
      case 'TSParameterProperty':
        this.visitPatternExpressions(p.parameter as Node);
        break;
      case 'Identifier':
        if (p.decorators) for (const d of p.decorators as Node[]) this.visit(d, null);
        break;
      default:
        // MemberExpression targets in for-in/of heads and assignments
        this.visit(p, null);
    }
  }

  /** An assignment target: identifiers in it are writes. */
  private visitAssignTarget(p: Node, alsoRead: boolean): void {
    switch (p.type) {
      case 'Identifier':
        this.reference(p.name as string, true);
        if (alsoRead) this.reference(p.name as string, false);
        break;
      case 'ObjectPattern':
        for (const prop of p.properties as Node[]) {
          if (prop.type === 'RestElement') this.visitAssignTarget(prop.argument as Node, false);
          else {
            if (prop.computed) this.visit(prop.key as Node, null);
            this.visitAssignTarget(prop.value as Node, false);
          }
        }
        break;
      case 'ArrayPattern':
        for (const el of p.elements as (Node | null)[]) if (el) this.visitAssignTarget(el, false);
        break;
      case 'RestElement':
        this.visitAssignTarget(p.argument as Node, false);
        break;
      case 'AssignmentPattern':
        this.visitAssignTarget(p.left as Node, false);
        this.visit(p.right as Node, null);
        break;
      case 'ParenthesizedExpression':
      case 'TSAsExpression':
      case 'TSSatisfiesExpression':
      case 'TSNonNullExpression':
      case 'TSTypeAssertion':
        this.visitAssignTarget(p.expression as Node, alsoRead);
        break;
      default:
        this.visit(p, null);
    }
  }

  // ---- the walk -----------------------------------------------------------

  /** `hint` is the contextual name an anonymous function in this position gets. */
  private visit(node: Node, hint: string | null): void {
    switch (node.type) {
      case 'Identifier':
        if (node.name === 'arguments') this.markArguments();
        this.reference(node.name as string, false);
        return;
      // then the commonest nodes: a string switch tests its cases in order
      case 'MemberExpression':
        this.visit(node.object as Node, null);
        if (node.computed) this.visit(node.property as Node, null);
        return;
      case 'CallExpression': {
        const callee = node.callee as Node;
        if (callee.type === 'Identifier' && callee.name === 'eval') this.dynamicScope = true;
        this.visit(callee, null);
        for (const a of node.arguments as Node[]) this.visit(a, null);
        return;
      }
      case 'ExpressionStatement':
        this.visit(node.expression as Node, null);
        return;
      case 'BlockStatement':
        this.visitBlock(node.body as Node[]);
        return;
      case 'BinaryExpression':
      case 'LogicalExpression':
        this.visit(node.left as Node, null);
        this.visit(node.right as Node, null);
        return;
      case 'ThisExpression':
        this.markThis();
        return;
      case 'MetaProperty':
        if ((node.meta as Node).name === 'new') this.markNewTarget();
        return;
      case 'Literal':
      case 'Super':
      case 'PrivateIdentifier':
      case 'TemplateElement':
      case 'EmptyStatement':
      case 'DebuggerStatement':
      case 'BreakStatement':
      case 'ContinueStatement':
      case 'JSXText':
      case 'JSXClosingElement':
      case 'JSXClosingFragment':
      case 'JSXOpeningFragment':
        return;
      case 'FunctionDeclaration':
      case 'FunctionExpression':
      case 'ArrowFunctionExpression':
        this.visitFunction(node, hint, null);
        return;
      case 'ClassDeclaration':
      case 'ClassExpression':
        this.visitClass(node, hint);
        return;
      case 'VariableDeclaration':
        for (const d of node.declarations as Node[]) {
          const id = d.id as Node;
          this.visitPatternExpressions(id);
          // An initialiser is not an assignment (the binding stays "never assigned").
          if (d.init) this.visit(d.init as Node, id.type === 'Identifier' ? (id.name as string) : null);
        }
        return;
      case 'ParenthesizedExpression':
      case 'TSAsExpression':
      case 'TSSatisfiesExpression':
      case 'TSNonNullExpression':
      case 'TSTypeAssertion':
      case 'TSInstantiationExpression':
      case 'ChainExpression':
        this.visit(node.expression as Node, hint);
        return;
      case 'AssignmentExpression': {
        const left = node.left as Node;
        this.visitAssignTarget(left, node.operator !== '=');
        this.visit(node.right as Node, targetName(left, this.source));
        return;
      }
      case 'UpdateExpression':
        this.visitAssignTarget(node.argument as Node, true);
        return;
      case 'Property': {
        // object literal member (patterns are handled by the pattern visitors)
        if (node.computed) this.visit(node.key as Node, null);
        const name = memberName(node.key as Node, node.computed as boolean, this.source);
        const full = hint !== null ? join(hint, name) : name;
        const kind = node.kind as string;
        const value = node.value as Node;
        if (kind === 'get' || kind === 'set') this.visitFunction(value, accessorName(full, kind), kind);
        else if (node.method) this.visitFunction(value, full, 'method');
        else this.visit(value, full);
        return;
      }
      case 'ObjectExpression':
        for (const p of node.properties as Node[]) this.visit(p, hint);
        return;
      case 'SpreadElement':
        this.visit(node.argument as Node, null);
        return;
      case 'ExportDefaultDeclaration': {
        const d = node.declaration as Node;
        this.visit(d, 'default');
        return;
      }
      case 'ExportNamedDeclaration':
        if (node.declaration) this.visit(node.declaration as Node, null);
        else if (!node.source && node.exportKind !== 'type') {
          for (const sp of node.specifiers as Node[]) if (sp.exportKind !== 'type') this.visit(sp.local as Node, null);
        }
        return;
      case 'ExportAllDeclaration':
      case 'ImportDeclaration':
        return;
      case 'ImportExpression':
        this.visit(node.source as Node, null);
        if (node.options) this.visit(node.options as Node, null);
        return;
      case 'LabeledStatement':
        this.visit(node.body as Node, null);
        return;
      case 'StaticBlock': {
        // A class static block is its own function-like scope for `var`.
        const saved = this.fn;
        const s = this.openScope(ScopeKind.Function);
        this.hoistBlock(node.body as Node[]);
        for (const st of node.body as Node[]) this.visit(st, null);
        this.closeScope(s);
        this.fn = saved;
        return;
      }
      case 'ForStatement': {
        const s = this.openScope(ScopeKind.Block);
        const init = node.init as Node | null;
        if (init) {
          if (init.type === 'VariableDeclaration' && init.kind !== 'var') this.hoistStatement(init);
          this.visit(init, null);
        }
        if (node.test) this.visit(node.test as Node, null);
        if (node.update) this.visit(node.update as Node, null);
        this.visit(node.body as Node, null);
        this.closeScope(s);
        return;
      }
      case 'ForInStatement':
      case 'ForOfStatement': {
        const s = this.openScope(ScopeKind.Block);
        const left = node.left as Node;
        if (left.type === 'VariableDeclaration') {
          if (left.kind !== 'var') this.hoistStatement(left);
          this.visit(left, null);
        } else this.visitAssignTarget(left, false);
        this.visit(node.right as Node, null);
        this.visit(node.body as Node, null);
        this.closeScope(s);
        return;
      }
      case 'SwitchStatement': {
        this.visit(node.discriminant as Node, null);
        const s = this.openScope(ScopeKind.Block);
        for (const c of node.cases as Node[]) for (const st of c.consequent as Node[]) this.hoistLexical(st);
        for (const c of node.cases as Node[]) {
          if (c.test) this.visit(c.test as Node, null);
          for (const st of c.consequent as Node[]) this.visit(st, null);
        }
        this.closeScope(s);
        return;
      }
      case 'TryStatement': {
        this.visit(node.block as Node, null);
        const h = node.handler as Node | null;
        if (h) {
          const s = this.openScope(ScopeKind.Catch);
          if (h.param) {
            this.declarePattern(h.param as Node, 'catch', s);
            this.visitPatternExpressions(h.param as Node);
          }
          this.visit(h.body as Node, null);
          this.closeScope(s);
        }
        if (node.finalizer) this.visit(node.finalizer as Node, null);
        return;
      }
      case 'WithStatement':
        this.dynamicScope = true;
        this.visit(node.object as Node, null);
        this.visit(node.body as Node, null);
        return;
      case 'TSEnumDeclaration':
        // not erasable: Node refuses it in strip mode; walk initialisers for references
        for (const m of (node.body as Node).members as Node[]) if (m.initializer) this.visit(m.initializer as Node, null);
        return;
      case 'TSModuleDeclaration':
        if (!node.declare && node.body && (node.body as Node).type === 'TSModuleBlock') this.visitBlock((node.body as Node).body as Node[]);
        return;
      // the most common nodes, walked without going through their keys
      case 'ConditionalExpression':
      case 'IfStatement':
        this.visit(node.test as Node, null);
        this.visit(node.consequent as Node, null);
        if (node.alternate) this.visit(node.alternate as Node, null);
        return;
      case 'ReturnStatement':
      case 'ThrowStatement':
      case 'UnaryExpression':
      case 'AwaitExpression':
      case 'YieldExpression':
        if (node.argument) this.visit(node.argument as Node, null);
        return;
      case 'NewExpression':
        this.visit(node.callee as Node, null);
        for (const a of node.arguments as Node[]) this.visit(a, null);
        return;
      case 'ArrayExpression':
        for (const e of node.elements as (Node | null)[]) if (e !== null) this.visit(e, null);
        return;
      case 'SequenceExpression':
        for (const e of node.expressions as Node[]) this.visit(e, null);
        return;
      case 'TemplateLiteral':
        for (const e of node.expressions as Node[]) this.visit(e, null);
        return;
      case 'WhileStatement':
      case 'DoWhileStatement':
        this.visit(node.test as Node, null);
        this.visit(node.body as Node, null);
        return;
      case 'JSXOpeningElement':
        this.visitJsxName(node.name as Node);
        for (const a of node.attributes as Node[]) this.visit(a, null);
        return;
      case 'JSXAttribute':
        if (node.value) this.visit(node.value as Node, null);
        return;
      default:
        if (TYPE_ONLY.has(node.type as string) || (node.type as string).startsWith('TSType') || node.type === 'TSInterfaceBody') return;
        this.visitChildren(node);
    }
  }

  private visitChildren(node: Node): void {
    for (const key in node) {
      if (SKIP_KEYS.has(key)) continue;
      const v = node[key];
      if (v === null || typeof v !== 'object') continue;
      if (Array.isArray(v)) {
        for (const c of v) if (c !== null && typeof c === 'object' && typeof (c as Node).type === 'string') this.visit(c as Node, null);
      } else if (typeof (v as Node).type === 'string') this.visit(v as Node, null);
    }
  }

  private visitJsxName(n: Node): void {
    if (n.type === 'JSXIdentifier') {
      const name = n.name as string;
      const c = name.charCodeAt(0);
      if (c >= 65 && c <= 90) this.reference(name, false); // components start upper-case
    } else if (n.type === 'JSXMemberExpression') {
      let o = n.object as Node;
      while (o.type === 'JSXMemberExpression') o = o.object as Node;
      if (o.type === 'JSXIdentifier') this.reference(o.name as string, false);
    }
  }

  private visitBlock(body: Node[]): void {
    let lexical = false;
    for (const st of body) {
      const t = st.type;
      if ((t === 'VariableDeclaration' && st.kind !== 'var') || t === 'ClassDeclaration' || t === 'FunctionDeclaration') { lexical = true; break; }
    }
    if (!lexical) {
      for (const st of body) this.visit(st, null);
      return;
    }
    const s = this.openScope(ScopeKind.Block);
    for (const st of body) this.hoistLexical(st);
    for (const st of body) this.visit(st, null);
    this.closeScope(s);
  }

  /** Block-level declarations (`var`s were hoisted to the function already). */
  private hoistLexical(st: Node): void {
    if (st.type === 'VariableDeclaration') {
      if (st.kind !== 'var') for (const d of st.declarations as Node[]) this.declarePattern(d.id as Node, st.kind === 'const' ? 'const' : 'let', this.scope);
    } else if (st.type === 'FunctionDeclaration') {
      if (st.id) {
        const name = (st.id as Node).name as string;
        this.bind(name, 'function');
        // Annex B: in sloppy code a function in a block is also var-scoped.
        if (!this.strict) this.bind(name, 'var', this.varScope());
      }
    } else if (st.type === 'ClassDeclaration') {
      if (st.id) this.bind((st.id as Node).name as string, 'class');
    }
  }

  private markArguments(): void {
    for (let f = this.fn; f !== null; f = f.parent) {
      f.info.usesArguments = true;
      if (!f.isArrow) return;
    }
  }

  private markThis(): void {
    for (let f = this.fn; f !== null; f = f.parent) {
      f.info.usesThis = true;
      if (!f.isArrow) return;
    }
  }

  private markNewTarget(): void {
    for (let f = this.fn; f !== null; f = f.parent) {
      f.info.usesNewTarget = true;
      if (!f.isArrow) return;
    }
  }

  private visitClass(node: Node, hint: string | null): void {
    const id = node.id as Node | null;
    const className = id ? (id.name as string) : hint ?? '<anonymous class>';
    if (node.decorators) for (const d of node.decorators as Node[]) this.visit(d, null);
    if (node.superClass) this.visit(node.superClass as Node, null);
    const savedStrict = this.strict;
    this.strict = true; // class bodies are strict code
    const s = this.openScope(ScopeKind.Class);
    if (id) this.bind(id.name as string, 'name', s);
    const derived = node.superClass != null;
    for (const m of (node.body as Node).body as Node[]) {
      if (m.decorators) for (const d of m.decorators as Node[]) this.visit(d, null);
      switch (m.type) {
        case 'MethodDefinition': {
          if (m.computed) this.visit(m.key as Node, null);
          const kind = m.kind as string;
          const value = m.value as Node;
          if (kind === 'constructor') {
            this.visitFunction(value, className, 'constructor', false, derived);
            break;
          }
          const key = memberName(m.key as Node, m.computed as boolean, this.source);
          const base = m.static ? join(className, key) : join(className + '.prototype', key);
          if (kind === 'get' || kind === 'set') this.visitFunction(value, accessorName(base, kind), kind, m.static as boolean);
          else this.visitFunction(value, base, 'method', m.static as boolean);
          break;
        }
        case 'PropertyDefinition':
        case 'AccessorProperty': {
          if (m.computed) this.visit(m.key as Node, null);
          if (m.value) {
            const key = memberName(m.key as Node, m.computed as boolean, this.source);
            const base = m.static ? join(className, key) : join(className + '.prototype', key);
            // Field initialisers run as methods of the class: `this` is the instance.
            this.visit(m.value as Node, base);
          }
          break;
        }
        case 'StaticBlock':
          this.visit(m, null);
          break;
        default:
          // TS-only members (index signatures, abstract members)
          break;
      }
    }
    this.closeScope(s);
    this.strict = savedStrict;
  }

  private visitFunction(node: Node, hint: string | null, kind: FunctionKind | null, isStatic = false, isDerived = false): void {
    const type = node.type as string;
    if (type === 'TSEmptyBodyFunctionExpression' || node.body == null) {
      // overload signatures, abstract members, `declare` functions: no code
      return;
    }
    const isArrow = type === 'ArrowFunctionExpression';
    const id = node.id as Node | null;
    const ownName = id ? (id.name as string) : null;
    const fkind: FunctionKind = kind ?? (isArrow ? 'arrow' : 'function');
    const local = kind === null || kind === 'function' || kind === 'arrow' ? (ownName ?? hint ?? '<anonymous>') : (hint ?? ownName ?? '<anonymous>');
    const parentRec = this.fn;
    const name = parentRec !== null ? parentRec.info.name + '/' + local : local;

    const body = node.body as Node;
    const savedStrict = this.strict;
    let insertAt: number;
    let afterBareDirective = false;
    let exprBody: FunctionInfo['exprBody'] = null;
    if (body.type === 'BlockStatement') {
      insertAt = (body.start as number) + 1;
      for (const st of body.body as Node[]) {
        if (st.type === 'ExpressionStatement' && typeof st.directive === 'string') {
          if (st.directive === 'use strict') this.strict = true;
          insertAt = st.end as number;
          afterBareDirective = this.source.charCodeAt(insertAt - 1) !== 59; // ';'
        } else break;
      }
    } else {
      insertAt = body.start as number;
      exprBody = { start: body.start as number, end: body.end as number };
    }

    const info: FunctionInfo = {
      index: this.functions.length,
      name,
      kind: fkind,
      isAsync: node.async === true,
      isGenerator: node.generator === true,
      isStatic,
      isDerived,
      parent: parentRec !== null ? parentRec.info.index : -1,
      start: node.start as number,
      end: node.end as number,
      insertAt,
      afterBareDirective,
      exprBody,
      strict: this.strict,
      forwarding: { mode: 'arguments' },
      paramRewrites: NONE,
      usesArguments: false,
      usesThis: false,
      thisBeforeSuper: isArrow && lexicalThisIsDerived(parentRec),
      usesNewTarget: false,
      captures: NONE,
      runsOnce: body.type === 'BlockStatement' && this.once.has(node),
      scopeBindings: NONE,
      scopes: NONE,
      unpatchable: null,
    };
    this.functions.push(info);
    const rec: FnRecord = { info, parent: parentRec, isArrow, captureSet: null, scopeSet: null, scopeRefs: null, topDeclarations: null };
    this.records.push(rec);

    // Parameters and body share one function scope (parameter-expression
    // scopes are folded in: a lower bound for captures, never wrong for names).
    this.fn = rec;
    const s = this.openScope(ScopeKind.Function);
    if (ownName !== null && type === 'FunctionExpression') this.bind(ownName, 'name', s);
    const params = node.params as Node[];
    for (const p of params) this.declarePattern(p, 'param', s);
    info.forwarding = planForwarding(info, params, body, isArrow, this.source);
    for (const p of params) this.visitPatternExpressions(p);
    if (body.type === 'BlockStatement') {
      const stmts = body.body as Node[];
      // hoisting reads every top-level declaration anyway: it notes those scope-hazards.ts looks at
      this.topOf = rec;
      this.hoistBlock(stmts);
      this.topOf = null;
      if (rec.topDeclarations !== null && info.unpatchable === null) {
        info.unpatchable = bodyHazard(params, rec.topDeclarations, body, this.source, this.strict, info.isAsync || info.isGenerator);
      }
      if (info.runsOnce) for (const st of stmts) this.markRunsOnce(st);
      for (const st of stmts) this.visit(st, null);
    } else {
      this.visit(body, null);
    }
    this.closeScope(s);
    this.fn = parentRec;
    this.strict = savedStrict;

    if (!isArrow && info.usesArguments) info.forwarding = { mode: 'arguments' };
  }
}

/** The function whose `this` an arrow in `rec` sees is a derived class's constructor. */
function lexicalThisIsDerived(rec: FnRecord | null): boolean {
  while (rec !== null && rec.isArrow) rec = rec.parent;
  return rec !== null && rec.info.kind === 'constructor' && rec.info.isDerived;
}
