/**
 * What the code of one function reaches outside itself: the free variables
 * it reads and writes (each with its position, so it can be rewritten into
 * an accessor read), and the uses whose meaning depends on where the code
 * runs — `super`, `#private` names, `arguments`, `new.target`,
 * `import.meta`, dynamic `import()`, direct `eval`, `with`, JSX.
 *
 * Resolution is lexical and complete for the function: every declaration
 * form (var/let/const/function/class/params/catch, hoisting) is honoured; a
 * name not declared inside the function is free. Whether a free name is a
 * closure variable, a module binding or a global is decided by the caller
 * from the loader's analysis (captures, top-level bindings).
 *
 * The loader resolves names too (src/instrument/scopes.ts), for another
 * question: per binding, for a whole module, in one pass at load — which
 * bindings each function captures and which are written — without
 * recording a single reference, since it runs on every module a program
 * loads. This file answers per reference, where the build must rewrite
 * each one, on a function cut from its module; it shares the loader's
 * syntax knowledge (src/instrument/syntax.ts) and uses its answers. Unlike
 * scopes.ts, it does not also bind a function declared in a block of sloppy
 * code in the enclosing function (Annex B), nor TypeScript enums and
 * namespaces: those names come out free.
 */

import { boundNames, eachChild, FUNCTION_TYPES, isTypeOnly } from '../instrument/syntax.ts';
import type { Node } from './ast.ts';

export interface FreeRef {
  readonly name: string;
  readonly start: number;
  readonly end: number;
  readonly write: boolean;
  /** `{ x }` in an object literal or pattern: it must become `x: <access>` */
  readonly shorthand: boolean;
  /** the callee of a call (or a tag): the access must not become the receiver */
  readonly callee: boolean;
}

export interface FunctionUses {
  readonly refs: FreeRef[];
  /** `super` that belongs to this function (not to a method nested in it) */
  readonly superAt: number[];
  /** `#x` not declared by a class inside the function */
  readonly privateAt: { readonly name: string; readonly start: number }[];
  /** `arguments` that belongs to this function (for an arrow: to the function around it) */
  readonly argumentsAt: number[];
  readonly newTargetAt: number[];
  /** `this` that belongs to this function (for an arrow: to the function around it) */
  readonly thisAt: { readonly start: number; readonly end: number }[];
  readonly importMeta: { readonly start: number; readonly end: number; readonly property: string | null }[];
  /** `import(x)`: the specifier's range, and its text when it is a string literal */
  readonly dynamicImports: { readonly start: number; readonly end: number; readonly literal: string | null }[];
  readonly jsxAt: number[];
  readonly evalAt: number[];
  readonly withAt: number[];
}

class Scope {
  readonly names = new Set<string>();
  readonly parent: Scope | null;
  constructor(parent: Scope | null) {
    this.parent = parent;
  }
}

export function functionUses(fn: Node): FunctionUses {
  return new Walker().run(fn);
}

/**
 * The same for any code that is copied on its own: a class, a field
 * initializer, a constant's initializer. `own`: whether `this`, `super` and
 * `arguments` at its top are the caller's concern (false for a field
 * initializer, which runs as a method of its class).
 */
export function codeUses(node: Node, own = true): FunctionUses {
  return new Walker().runCode(node, own);
}

class Walker {
  private readonly uses: FunctionUses = {
    refs: [],
    superAt: [],
    privateAt: [],
    argumentsAt: [],
    newTargetAt: [],
    thisAt: [],
    importMeta: [],
    dynamicImports: [],
    jsxAt: [],
    evalAt: [],
    withAt: [],
  };
  /** the function's own scope: resolution stops above it */
  private root: Scope | null = null;
  /** private names declared by classes inside the function */
  private readonly privates: Set<string>[] = [];
  /** still in the function's own `this`/`arguments`/`super` context (not in a nested non-arrow function) */
  private own = true;

  run(fn: Node): FunctionUses {
    this.visitFunction(fn, null, true);
    return this.uses;
  }

  runCode(node: Node, own: boolean): FunctionUses {
    if (FUNCTION_TYPES.has(node.type)) return this.run(node);
    this.root = new Scope(null);
    this.own = own;
    this.visit(node, this.root);
    return this.uses;
  }

  // ---- declarations ----------------------------------------------------------

  /** Lexical declarations of a statement list (and, for a function body, its `var`s). */
  private hoist(body: readonly Node[], scope: Scope, vars: boolean): void {
    for (const st of body) {
      const d =
        st.type === 'ExportNamedDeclaration' || st.type === 'ExportDefaultDeclaration'
          ? ((st.declaration as Node | null) ?? st)
          : st;
      if (d.type === 'VariableDeclaration') {
        if (d.kind !== 'var') for (const decl of d.declarations as Node[]) boundNames(decl.id as Node, scope.names);
      } else if ((d.type === 'FunctionDeclaration' || d.type === 'ClassDeclaration') && d.id) {
        scope.names.add((d.id as Node).name as string);
      }
      if (vars) this.hoistVars(st, scope);
    }
  }

  /** `var` declarations anywhere in a function body, not inside nested functions. */
  private hoistVars(n: Node, scope: Scope): void {
    if (FUNCTION_TYPES.has(n.type) || n.type === 'ClassDeclaration' || n.type === 'ClassExpression') return;
    if (n.type === 'VariableDeclaration') {
      if (n.kind === 'var') for (const decl of n.declarations as Node[]) boundNames(decl.id as Node, scope.names);
      return;
    }
    // statements only: expressions cannot declare a `var`
    if (!/Statement$|^SwitchCase$|^CatchClause$/.test(n.type)) return;
    eachChild(n, (c) => this.hoistVars(c, scope));
  }

  private resolves(name: string, scope: Scope): boolean {
    for (let s: Scope | null = scope; s !== null; s = s.parent) {
      if (s.names.has(name)) return true;
      if (s === this.root) return false;
    }
    return false;
  }

  private ref(id: Node, scope: Scope, write: boolean, shorthand = false, callee = false): void {
    const name = id.name as string;
    if (name === 'arguments' && !this.resolves(name, scope)) {
      if (this.own) this.uses.argumentsAt.push(id.start);
      return;
    }
    if (this.resolves(name, scope)) return;
    this.uses.refs.push({ name, start: id.start, end: id.end, write, shorthand, callee });
  }

  // ---- the walk ---------------------------------------------------------------

  private visitFunction(fn: Node, outer: Scope | null, isRoot = false): void {
    const arrow = fn.type === 'ArrowFunctionExpression';
    const savedOwn = this.own;
    if (!arrow && !isRoot) this.own = false;
    const scope = new Scope(outer);
    if (isRoot) this.root = scope;
    if (fn.type === 'FunctionExpression' && fn.id) scope.names.add((fn.id as Node).name as string);
    const params = fn.params as Node[];
    for (const p of params) boundNames(p, scope.names);
    const body = fn.body as Node | null;
    if (body?.type === 'BlockStatement') this.hoist(body.body as Node[], scope, true);
    for (const p of params) this.visitPattern(p, scope);
    if (body?.type === 'BlockStatement') for (const st of body.body as Node[]) this.visit(st, scope);
    else if (body) this.visit(body, scope);
    this.own = savedOwn;
  }

  private visitClass(n: Node, scope: Scope): void {
    const cs = new Scope(scope);
    if (n.id) cs.names.add((n.id as Node).name as string);
    for (const d of (n.decorators as Node[] | undefined) ?? []) this.visit(d, scope);
    if (n.superClass) this.visit(n.superClass as Node, cs);
    const members = (n.body as Node).body as Node[];
    const names = new Set<string>();
    for (const m of members)
      if ((m.key as Node | undefined)?.type === 'PrivateIdentifier') names.add((m.key as Node).name as string);
    this.privates.push(names);
    const savedOwn = this.own;
    for (const m of members) {
      if (isTypeOnly(m)) continue;
      for (const d of (m.decorators as Node[] | undefined) ?? []) this.visit(d, cs);
      if (m.computed) this.visit(m.key as Node, cs);
      if (m.type === 'MethodDefinition') this.visitFunction(m.value as Node, cs);
      else if (m.type === 'StaticBlock') {
        // a static block is its own function-like context
        this.own = false;
        const s = new Scope(cs);
        this.hoist(m.body as Node[], s, true);
        for (const st of m.body as Node[]) this.visit(st, s);
        this.own = savedOwn;
      } else if (m.value) {
        // a field initializer runs as a method of the class
        this.own = false;
        this.visit(m.value as Node, cs);
        this.own = savedOwn;
      }
    }
    this.privates.pop();
  }

  private privateName(n: Node): void {
    const name = n.name as string;
    if (!this.privates.some((s) => s.has(name))) this.uses.privateAt.push({ name, start: n.start });
  }

  /** A binding pattern of a declaration: names are declared already; defaults and computed keys are expressions. */
  private visitPattern(p: Node, scope: Scope): void {
    switch (p.type) {
      case 'ObjectPattern':
        for (const prop of p.properties as Node[]) {
          if (prop.type === 'RestElement') this.visitPattern(prop.argument as Node, scope);
          else {
            if (prop.computed) this.visit(prop.key as Node, scope);
            this.visitPattern(prop.value as Node, scope);
          }
        }
        break;
      case 'ArrayPattern':
        for (const el of p.elements as (Node | null)[]) if (el) this.visitPattern(el, scope);
        break;
      case 'RestElement':
        this.visitPattern(p.argument as Node, scope);
        break;
      case 'AssignmentPattern':
        this.visitPattern(p.left as Node, scope);
        this.visit(p.right as Node, scope);
        break;
      case 'TSParameterProperty':
        this.visitPattern(p.parameter as Node, scope);
        break;
      default:
        for (const d of (p.decorators as Node[] | undefined) ?? []) this.visit(d, scope);
    }
  }

  /** An assignment target: its identifiers are written. */
  private visitTarget(p: Node, scope: Scope): void {
    switch (p.type) {
      case 'Identifier':
        this.ref(p, scope, true);
        break;
      case 'ObjectPattern':
        for (const prop of p.properties as Node[]) {
          if (prop.type === 'RestElement') {
            this.visitTarget(prop.argument as Node, scope);
            continue;
          }
          if (prop.computed) this.visit(prop.key as Node, scope);
          const value = prop.value as Node;
          if (prop.shorthand && value.type === 'Identifier') this.ref(value, scope, true, true);
          else if (prop.shorthand && value.type === 'AssignmentPattern' && (value.left as Node).type === 'Identifier') {
            this.ref(value.left as Node, scope, true, true);
            this.visit(value.right as Node, scope);
          } else this.visitTarget(value, scope);
        }
        break;
      case 'ArrayPattern':
        for (const el of p.elements as (Node | null)[]) if (el) this.visitTarget(el, scope);
        break;
      case 'RestElement':
        this.visitTarget(p.argument as Node, scope);
        break;
      case 'AssignmentPattern':
        this.visitTarget(p.left as Node, scope);
        this.visit(p.right as Node, scope);
        break;
      case 'ParenthesizedExpression':
      case 'TSAsExpression':
      case 'TSSatisfiesExpression':
      case 'TSNonNullExpression':
      case 'TSTypeAssertion':
        this.visitTarget(p.expression as Node, scope);
        break;
      default:
        this.visit(p, scope);
    }
  }

  private visitBlock(body: readonly Node[], scope: Scope): void {
    const s = new Scope(scope);
    this.hoist(body, s, false);
    for (const st of body) this.visit(st, s);
  }

  private visit(n: Node, scope: Scope): void {
    if (isTypeOnly(n)) return;
    switch (n.type) {
      case 'Identifier':
        this.ref(n, scope, false);
        return;
      case 'FunctionDeclaration':
      case 'FunctionExpression':
      case 'ArrowFunctionExpression':
        this.visitFunction(n, scope);
        return;
      case 'ClassDeclaration':
      case 'ClassExpression':
        this.visitClass(n, scope);
        return;
      case 'VariableDeclaration':
        for (const d of n.declarations as Node[]) {
          this.visitPattern(d.id as Node, scope);
          if (d.init) this.visit(d.init as Node, scope);
        }
        return;
      case 'AssignmentExpression':
        this.visitTarget(n.left as Node, scope);
        this.visit(n.right as Node, scope);
        return;
      case 'UpdateExpression':
        this.visitTarget(n.argument as Node, scope);
        return;
      case 'MemberExpression': {
        const obj = n.object as Node;
        if (obj.type === 'MetaProperty' && (obj.meta as Node).name === 'import' && !n.computed) {
          this.uses.importMeta.push({ start: n.start, end: n.end, property: (n.property as Node).name as string });
          return;
        }
        this.visit(obj, scope);
        const prop = n.property as Node;
        if (n.computed) this.visit(prop, scope);
        else if (prop.type === 'PrivateIdentifier') this.privateName(prop);
        return;
      }
      case 'PrivateIdentifier':
        this.privateName(n);
        return;
      case 'Property': {
        if (n.computed) this.visit(n.key as Node, scope);
        const value = n.value as Node;
        if (n.shorthand && value.type === 'Identifier') this.ref(value, scope, false, true);
        else this.visit(value, scope);
        return;
      }
      case 'CallExpression':
      case 'TaggedTemplateExpression': {
        const callee = (n.type === 'CallExpression' ? n.callee : n.tag) as Node;
        if (callee.type === 'Identifier') {
          if (callee.name === 'eval' && n.type === 'CallExpression' && !this.resolves('eval', scope))
            this.uses.evalAt.push(callee.start);
          this.ref(callee, scope, false, false, true);
        } else this.visit(callee, scope);
        for (const a of (n.type === 'CallExpression' ? n.arguments : [n.quasi]) as Node[]) this.visit(a, scope);
        return;
      }
      case 'Super':
        if (this.own) this.uses.superAt.push(n.start);
        return;
      case 'MetaProperty': {
        const meta = (n.meta as Node).name;
        if (meta === 'new') {
          if (this.own) this.uses.newTargetAt.push(n.start);
        } else if (meta === 'import') this.uses.importMeta.push({ start: n.start, end: n.end, property: null });
        return;
      }
      case 'ImportExpression': {
        const src = n.source as Node;
        this.uses.dynamicImports.push({
          start: src.start,
          end: src.end,
          literal: src.type === 'Literal' && typeof src.value === 'string' ? src.value : null,
        });
        this.visit(src, scope);
        if (n.options) this.visit(n.options as Node, scope);
        return;
      }
      case 'LabeledStatement':
        this.visit(n.body as Node, scope);
        return;
      case 'ThisExpression':
        if (this.own) this.uses.thisAt.push({ start: n.start, end: n.end });
        return;
      case 'BreakStatement':
      case 'ContinueStatement':
      case 'Literal':
      case 'TemplateElement':
        return;
      case 'BlockStatement':
        this.visitBlock(n.body as Node[], scope);
        return;
      case 'StaticBlock':
        this.visitBlock(n.body as Node[], scope);
        return;
      case 'ForStatement': {
        const s = new Scope(scope);
        const init = n.init as Node | null;
        if (init?.type === 'VariableDeclaration') this.hoist([init], s, false);
        if (init) this.visit(init, s);
        if (n.test) this.visit(n.test as Node, s);
        if (n.update) this.visit(n.update as Node, s);
        this.visit(n.body as Node, s);
        return;
      }
      case 'ForInStatement':
      case 'ForOfStatement': {
        const s = new Scope(scope);
        const left = n.left as Node;
        if (left.type === 'VariableDeclaration') {
          this.hoist([left], s, false);
          this.visit(left, s);
        } else this.visitTarget(left, s);
        this.visit(n.right as Node, s);
        this.visit(n.body as Node, s);
        return;
      }
      case 'CatchClause': {
        const s = new Scope(scope);
        if (n.param) {
          boundNames(n.param as Node, s.names);
          this.visitPattern(n.param as Node, s);
        }
        this.visit(n.body as Node, s);
        return;
      }
      case 'SwitchStatement': {
        this.visit(n.discriminant as Node, scope);
        const s = new Scope(scope);
        const cases = n.cases as Node[];
        for (const c of cases) this.hoist(c.consequent as Node[], s, false);
        for (const c of cases) {
          if (c.test) this.visit(c.test as Node, s);
          for (const st of c.consequent as Node[]) this.visit(st, s);
        }
        return;
      }
      case 'WithStatement':
        this.uses.withAt.push(n.start);
        this.visit(n.object as Node, scope);
        this.visit(n.body as Node, scope);
        return;
      case 'JSXElement':
      case 'JSXFragment':
        this.uses.jsxAt.push(n.start);
        return;
      default:
        eachChild(n, (c) => this.visit(c, scope));
    }
  }
}
