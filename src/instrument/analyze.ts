/**
 * The loader's analysis of one module, in one walk over its ESTree: every
 * function (where its entry check goes, how its parameters are forwarded,
 * its qualified name, whether it can be armed) and, through scopes.ts, the
 * scopes the replacement code will need to reach (the kernel's `.klp.rela`
 * targets: the module's top-level bindings, and each closure's captured
 * variables). The types of what it produces are in analysis-types.ts.
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
 *
 * The walk is one switch over node types, the commonest first (a string
 * switch tests its cases in order, and this one runs over every module at
 * its first load); a node it does not name is walked through its children
 * (syntax.ts).
 */

import type { FunctionInfo, FunctionKind, ModuleAnalysis } from './analysis-types.ts';
import type { Node, Program } from './estree.ts';
import { planForwarding } from './forwarding.ts';
import { bodyHazard } from './scope-hazards.ts';
import { prologueStart } from './prologue-site.ts';
import { accessorName, join, memberName, targetName } from './qualified-names.ts';
import { fnRecord, publishCaptures, ScopeKind, Scopes, type FnRecord } from './scopes.ts';
import { eachChild, runsNothing, SCOPE_SKIP_KEYS } from './syntax.ts';

/** The empty list most functions share (frozen: nothing may add to it). */
const NONE: readonly never[] = Object.freeze([]);

export function analyze(
  program: Program,
  source: string,
  sourceType: 'module' | 'commonjs' | 'script',
): ModuleAnalysis {
  return new Analyzer(source, sourceType).run(program);
}

class Analyzer {
  private readonly functions: FunctionInfo[] = [];
  private readonly records: FnRecord[] = [];
  /** function nodes invoked where they are defined, at a level that itself runs once */
  private readonly once = new Set<Node>();
  /**
   * CommonJS only: function nodes whose text Node's export lexer reads
   * (see exportFormFunctions), and the indices of the functions found inside
   * them. Their text must stay as written: they are left unarmed.
   */
  private readonly exportForms = new Set<Node>();
  private readonly inExportForm = new Set<number>();
  private readonly scopes = new Scopes();
  private strict: boolean;
  private dynamicScope = false;
  private readonly source: string;
  private readonly isModule: boolean;
  /** a child of a node the switch does not name: it gets no contextual name (one closure per module, not per node) */
  private readonly visitChild = (child: Node): void => this.visit(child, null);

  constructor(source: string, sourceType: 'module' | 'commonjs' | 'script') {
    this.source = source;
    this.isModule = sourceType === 'module';
    this.strict = this.isModule;
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
    if (this.isModule) {
      const after = afterImports(body, this.source);
      if (after !== null) {
        prologueAt = after;
        prologueAfterBareDirective = false;
      }
    }
    const strict = this.strict;
    this.scopes.hoistBlock(body);
    for (const st of body) this.markRunsOnce(st);
    for (const st of body) this.visit(st, null);
    // Captures are known only once every enclosing scope has closed.
    publishCaptures(this.records);
    return {
      functions: this.functions,
      topLevel: this.scopes.topLevel(),
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
    else if (st.type === 'VariableDeclaration' && (st.declarations as Node[]).length === 1)
      e = ((st.declarations as Node[])[0]!.init as Node | null) ?? null;
    if (e === null) return;
    if (e.type === 'AssignmentExpression') e = e.right as Node;
    while (e.type === 'ParenthesizedExpression' || e.type === 'UnaryExpression')
      e = e.type === 'UnaryExpression' ? (e.argument as Node) : (e.expression as Node);
    if (e.type !== 'CallExpression') return;
    let callee = e.callee as Node;
    while (callee.type === 'ParenthesizedExpression') callee = callee.expression as Node;
    if (callee.type === 'MemberExpression' && !callee.computed) {
      const prop = (callee.property as Node).name;
      if (prop !== 'call' && prop !== 'apply') return;
      callee = callee.object as Node;
      while (callee.type === 'ParenthesizedExpression') callee = callee.expression as Node;
    }
    if (
      (callee.type === 'FunctionExpression' || callee.type === 'ArrowFunctionExpression') &&
      callee.async !== true &&
      callee.generator !== true
    )
      this.once.add(callee);
  }

  // ---- patterns and assignment targets ------------------------------------

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
        this.visit(
          p.right as Node,
          p.left && (p.left as Node).type === 'Identifier' ? ((p.left as Node).name as string) : null,
        );
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
        this.scopes.reference(p.name as string, true);
        if (alsoRead) this.scopes.reference(p.name as string, false);
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
        this.scopes.reference(node.name as string, false);
        return;
      // then the commonest nodes: a string switch tests its cases in order
      case 'MemberExpression':
        this.visit(node.object as Node, null);
        if (node.computed) this.visit(node.property as Node, null);
        return;
      case 'CallExpression': {
        const callee = node.callee as Node;
        if (callee.type === 'Identifier' && callee.name === 'eval') this.dynamicScope = true;
        if (!this.isModule && callee.type === 'MemberExpression') {
          exportFormFunctions(node, this.scopes.fn === null, this.source, this.exportForms);
        }
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
      case 'StaticBlock':
        this.visitStaticBlock(node);
        return;
      case 'ForStatement':
        this.visitFor(node);
        return;
      case 'ForInStatement':
      case 'ForOfStatement':
        this.visitForInOf(node);
        return;
      case 'SwitchStatement':
        this.visitSwitch(node);
        return;
      case 'TryStatement':
        this.visitTry(node);
        return;
      case 'WithStatement':
        this.dynamicScope = true;
        this.visit(node.object as Node, null);
        this.visit(node.body as Node, null);
        return;
      case 'TSEnumDeclaration':
        // not erasable: Node refuses it in strip mode; walk initialisers for references
        for (const m of (node.body as Node).members as Node[])
          if (m.initializer) this.visit(m.initializer as Node, null);
        return;
      case 'TSModuleDeclaration':
        if (!node.declare && node.body && (node.body as Node).type === 'TSModuleBlock')
          this.visitBlock((node.body as Node).body as Node[]);
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
        if (runsNothing(node.type)) return;
        eachChild(node, this.visitChild, SCOPE_SKIP_KEYS);
    }
  }

  private visitJsxName(n: Node): void {
    if (n.type === 'JSXIdentifier') {
      const name = n.name as string;
      const c = name.charCodeAt(0);
      if (c >= 65 && c <= 90) this.scopes.reference(name, false); // components start upper-case
    } else if (n.type === 'JSXMemberExpression') {
      let o = n.object as Node;
      while (o.type === 'JSXMemberExpression') o = o.object as Node;
      if (o.type === 'JSXIdentifier') this.scopes.reference(o.name as string, false);
    }
  }

  // ---- statements that open a scope ---------------------------------------

  /** A block opens a scope only if it declares something lexical (most declare nothing). */
  private visitBlock(body: Node[]): void {
    let lexical = false;
    for (const st of body) {
      const t = st.type;
      if (
        (t === 'VariableDeclaration' && st.kind !== 'var') ||
        t === 'ClassDeclaration' ||
        t === 'FunctionDeclaration'
      ) {
        lexical = true;
        break;
      }
    }
    if (!lexical) {
      for (const st of body) this.visit(st, null);
      return;
    }
    const s = this.scopes.open(ScopeKind.Block);
    for (const st of body) this.scopes.hoistLexical(st, this.strict);
    for (const st of body) this.visit(st, null);
    this.scopes.close(s);
  }

  /** A class static block is its own function-like scope for `var`. */
  private visitStaticBlock(node: Node): void {
    const saved = this.scopes.fn;
    const s = this.scopes.open(ScopeKind.Function);
    this.scopes.hoistBlock(node.body as Node[]);
    for (const st of node.body as Node[]) this.visit(st, null);
    this.scopes.close(s);
    this.scopes.fn = saved;
  }

  private visitFor(node: Node): void {
    const s = this.scopes.open(ScopeKind.Block);
    const init = node.init as Node | null;
    if (init) {
      if (init.type === 'VariableDeclaration' && init.kind !== 'var') this.scopes.hoistStatement(init);
      this.visit(init, null);
    }
    if (node.test) this.visit(node.test as Node, null);
    if (node.update) this.visit(node.update as Node, null);
    this.visit(node.body as Node, null);
    this.scopes.close(s);
  }

  private visitForInOf(node: Node): void {
    const s = this.scopes.open(ScopeKind.Block);
    const left = node.left as Node;
    if (left.type === 'VariableDeclaration') {
      if (left.kind !== 'var') this.scopes.hoistStatement(left);
      this.visit(left, null);
    } else this.visitAssignTarget(left, false);
    this.visit(node.right as Node, null);
    this.visit(node.body as Node, null);
    this.scopes.close(s);
  }

  private visitSwitch(node: Node): void {
    this.visit(node.discriminant as Node, null);
    const s = this.scopes.open(ScopeKind.Block);
    for (const c of node.cases as Node[])
      for (const st of c.consequent as Node[]) this.scopes.hoistLexical(st, this.strict);
    for (const c of node.cases as Node[]) {
      if (c.test) this.visit(c.test as Node, null);
      for (const st of c.consequent as Node[]) this.visit(st, null);
    }
    this.scopes.close(s);
  }

  private visitTry(node: Node): void {
    this.visit(node.block as Node, null);
    const h = node.handler as Node | null;
    if (h) {
      const s = this.scopes.open(ScopeKind.Catch);
      if (h.param) {
        this.scopes.declarePattern(h.param as Node, 'catch', s);
        this.visitPatternExpressions(h.param as Node);
      }
      this.visit(h.body as Node, null);
      this.scopes.close(s);
    }
    if (node.finalizer) this.visit(node.finalizer as Node, null);
  }

  // ---- what a function's code uses of its context -------------------------

  private markArguments(): void {
    for (let f = this.scopes.fn; f !== null; f = f.parent) {
      f.info.usesArguments = true;
      if (!f.isArrow) return;
    }
  }

  private markThis(): void {
    for (let f = this.scopes.fn; f !== null; f = f.parent) {
      f.info.usesThis = true;
      if (!f.isArrow) return;
    }
  }

  private markNewTarget(): void {
    for (let f = this.scopes.fn; f !== null; f = f.parent) {
      f.info.usesNewTarget = true;
      if (!f.isArrow) return;
    }
  }

  private visitClass(node: Node, hint: string | null): void {
    const id = node.id as Node | null;
    const className = id ? (id.name as string) : (hint ?? '<anonymous class>');
    if (node.decorators) for (const d of node.decorators as Node[]) this.visit(d, null);
    if (node.superClass) this.visit(node.superClass as Node, null);
    const savedStrict = this.strict;
    this.strict = true; // class bodies are strict code
    const s = this.scopes.open(ScopeKind.Class);
    if (id) this.scopes.bind(id.name as string, 'name', s);
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
          if (kind === 'get' || kind === 'set')
            this.visitFunction(value, accessorName(base, kind), kind, m.static as boolean);
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
    this.scopes.close(s);
    this.strict = savedStrict;
  }

  private visitFunction(
    node: Node,
    hint: string | null,
    kind: FunctionKind | null,
    isStatic = false,
    isDerived = false,
  ): void {
    const type = node.type as string;
    if (type === 'TSEmptyBodyFunctionExpression' || node.body == null) {
      // overload signatures, abstract members, `declare` functions: no code
      return;
    }
    const isArrow = type === 'ArrowFunctionExpression';
    const id = node.id as Node | null;
    const ownName = id ? (id.name as string) : null;
    const fkind: FunctionKind = kind ?? (isArrow ? 'arrow' : 'function');
    const local =
      kind === null || kind === 'function' || kind === 'arrow'
        ? (ownName ?? hint ?? '<anonymous>')
        : (hint ?? ownName ?? '<anonymous>');
    const parentRec = this.scopes.fn;
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
    if (this.exportForms.has(node) || (parentRec !== null && this.inExportForm.has(parentRec.info.index))) {
      this.inExportForm.add(info.index);
      info.unpatchable = EXPORT_FORM;
    }
    this.functions.push(info);
    const rec = fnRecord(info, parentRec, isArrow);
    this.records.push(rec);

    // Parameters and body share one function scope (parameter-expression
    // scopes are folded in: a lower bound for captures, never wrong for names).
    this.scopes.fn = rec;
    const s = this.scopes.open(ScopeKind.Function);
    if (ownName !== null && type === 'FunctionExpression') this.scopes.bind(ownName, 'name', s);
    const params = node.params as Node[];
    for (const p of params) this.scopes.declarePattern(p, 'param', s);
    info.forwarding = planForwarding(info, params, body, isArrow, this.source);
    for (const p of params) this.visitPatternExpressions(p);
    if (body.type === 'BlockStatement') {
      const stmts = body.body as Node[];
      // hoisting reads every top-level declaration anyway: it notes those scope-hazards.ts looks at
      this.scopes.hoistBody(stmts, rec);
      if (rec.topDeclarations !== null && info.unpatchable === null) {
        info.unpatchable = bodyHazard(
          params,
          rec.topDeclarations,
          body,
          this.source,
          this.strict,
          info.isAsync || info.isGenerator,
        );
      }
      if (info.runsOnce) for (const st of stmts) this.markRunsOnce(st);
      for (const st of stmts) this.visit(st, null);
    } else {
      this.visit(body, null);
    }
    this.scopes.close(s);
    this.scopes.fn = parentRec;
    this.strict = savedStrict;

    if (!isArrow && info.usesArguments) info.forwarding = { mode: 'arguments' };
  }
}

/**
 * In an ES module that starts with imports, the prologue goes in front of
 * the first statement after them, off the import lines: Node quotes the
 * source line of an import that fails to link, and builds its "did you mean
 * `import pkg from …`" hint from the braces on that line — a prologue there
 * corrupted both (the imports are hoisted: no code runs before that
 * statement either way). A module of imports alone gets it on the line after
 * them, when the source ends with a line break; null: keep it at the top.
 */
function afterImports(body: readonly Node[], source: string): number | null {
  let lastImportEnd = -1;
  for (const st of body) {
    const importLike =
      st.type === 'ImportDeclaration' ||
      st.type === 'ExportAllDeclaration' ||
      (st.type === 'ExportNamedDeclaration' && st.source != null);
    if (importLike) {
      lastImportEnd = st.end as number;
      continue;
    }
    if (st.type === 'ExpressionStatement' && typeof st.directive === 'string') continue;
    return lastImportEnd === -1 ? null : (st.start as number);
  }
  if (lastImportEnd === -1) return null;
  const last = source.charCodeAt(source.length - 1);
  return last === 10 || last === 13 || last === 0x2028 || last === 0x2029 ? source.length : null;
}

const EXPORT_FORM =
  "part of a CommonJS export form Node's export lexer reads (a getter in Object.defineProperty(exports, …), " +
  "a re-export's Object.keys(…).forEach callback): armed, its export would vanish for ES importers";

/**
 * The functions of a call whose text Node's CommonJS export lexer
 * (cjs-module-lexer's grammar) reads to find a module's named exports
 * without running it — an ES module's `import { x } from './cjs.js'` links
 * only to names found so:
 * - `Object.defineProperty(exports | module.exports, 'x', { get() { return a.b } })`,
 *   how tsc, Babel and Rollup re-export: a getter whose body is not the
 *   lexer's `return <member>` form makes it drop the name altogether;
 * - `Object.keys(_x).forEach(function (key) { … exports[key] = _x[key] … })`,
 *   Babel's and Rollup's `export *`, matched down to the callback's text —
 *   at the module's top level only, as the lexer looks for it there, and
 *   only a callback that reaches `exports` (a library's own
 *   `Object.keys(o).forEach` inside its functions stays armed).
 * An entry check in such a function changes its text and the export is
 * lost, so these are left as written (test/instrument/cjs-exports.test.ts
 * checks the lexer's result on every CommonJS file of node_modules).
 */
function exportFormFunctions(call: Node, topLevel: boolean, source: string, out: Set<Node>): void {
  const callee = call.callee as Node;
  const prop = callee.property as Node;
  if (callee.computed || prop.type !== 'Identifier') return;
  const args = call.arguments as Node[];
  if (prop.name === 'defineProperty') {
    const obj = callee.object as Node;
    if (obj.type !== 'Identifier' || obj.name !== 'Object' || args.length !== 3) return;
    const target = args[0]!;
    const isExports =
      (target.type === 'Identifier' && target.name === 'exports') ||
      (target.type === 'MemberExpression' &&
        !target.computed &&
        (target.object as Node).type === 'Identifier' &&
        (target.object as Node).name === 'module' &&
        (target.property as Node).name === 'exports');
    const desc = args[2]!;
    if (!isExports || desc.type !== 'ObjectExpression') return;
    for (const p of desc.properties as Node[]) {
      const key = p.key as Node | undefined;
      if (p.type !== 'Property' || key === undefined || p.computed) continue;
      if ((key.type === 'Identifier' && key.name === 'get') || (key.type === 'Literal' && key.value === 'get')) {
        out.add(p.value as Node);
      }
    }
  } else if (prop.name === 'forEach' && topLevel && args.length >= 1) {
    const keys = callee.object as Node;
    if (keys.type !== 'CallExpression') return;
    const kc = keys.callee as Node;
    if (kc.type !== 'MemberExpression' || kc.computed) return;
    if ((kc.object as Node).type !== 'Identifier' || (kc.object as Node).name !== 'Object') return;
    if ((kc.property as Node).name !== 'keys') return;
    const callback = args[0]!;
    if (source.slice(callback.start, callback.end).includes('exports')) out.add(callback);
  }
}

/** The function whose `this` an arrow in `rec` sees is a derived class's constructor. */
function lexicalThisIsDerived(rec: FnRecord | null): boolean {
  while (rec !== null && rec.isArrow) rec = rec.parent;
  return rec !== null && rec.info.kind === 'constructor' && rec.info.isDerived;
}
