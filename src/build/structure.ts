/**
 * The module diff outside functions: everything a module did when it loaded
 * (imports, exports, top-level data, classes and their fields, top-level
 * statements). That code ran long ago in the running process and does not
 * run again, so a change there cannot be patched: it is refused with the
 * way out. What can be added safely is collected for the patch module:
 * new imports, new helper functions and classes, new constants with a plain
 * initializer.
 *
 * Code is compared by meaning (structural keys: no positions, comments,
 * formatting or types), with every function abstracted by its identity, so
 * a change inside a function is the function's, not its statement's.
 */

import { memberName } from '../instrument/analyze.ts';
import { isTypeOnly, structuralKey, unwrap, type Node } from './ast.ts';
import { refusal, type Refusal, type Rule } from './refusals.ts';
import { lineAt, type ModuleVersion } from './version.ts';

/** A top-level declaration of the new version that the old one lacks: it goes into the patch module. */
export interface NewDeclaration {
  readonly kind: 'function' | 'class' | 'const';
  readonly name: string;
  /** the range of code to copy: the function or class declaration, or `name = init` of a const */
  readonly start: number;
  readonly end: number;
  readonly line: number;
}

/** An import binding the new version adds. */
export interface NewImport {
  readonly local: string;
  readonly source: string;
  /** the imported name, `default`, or `*` for a namespace */
  readonly imported: string;
  readonly line: number;
}

export interface StructureDiff {
  readonly refusals: Refusal[];
  readonly declarations: Map<string, NewDeclaration>;
  readonly imports: Map<string, NewImport>;
  readonly notes: string[];
}

interface ClassItem { readonly node: Node; readonly line: number }
interface DataItem { readonly kind: string; readonly key: string; readonly line: number; readonly decl: Node; readonly stmt: Node }

interface Items {
  readonly imports: Map<string, { source: string; imported: string; line: number }>;
  readonly exports: Map<string, { desc: string; line: number }>;
  readonly functions: Map<string, { node: Node; line: number }>;
  readonly classes: Map<string, ClassItem>;
  readonly data: Map<string, DataItem>;
  readonly statements: { key: string; line: number; exportish: boolean }[];
}

export function diffStructure(old: ModuleVersion, next: ModuleVersion): StructureDiff {
  const path = next.file.path;
  const refusals: Refusal[] = [];
  const notes: string[] = [];
  const declarations = new Map<string, NewDeclaration>();
  const imports = new Map<string, NewImport>();
  const refuse = (rule: Rule, line: number, reason: string) => refusals.push(refusal(rule, path, line, reason));
  const o = items(old);
  const n = items(next);

  for (const [local, imp] of n.imports) {
    const was = o.imports.get(local);
    if (was === undefined) {
      if (o.data.has(local) || o.functions.has(local) || o.classes.has(local)) refuse('import', imp.line, `'${local}' was a module-level declaration and is now an import`);
      else imports.set(local, { local, source: imp.source, imported: imp.imported, line: imp.line });
    } else if (was.source !== imp.source || was.imported !== imp.imported) {
      refuse('import', imp.line, `changes the import '${local}' (was '${was.imported}' from '${was.source}', now '${imp.imported}' from '${imp.source}')`);
    }
  }

  for (const [name, e] of n.exports) {
    const was = o.exports.get(name);
    if (was === undefined) refuse('export', e.line, `adds the export '${name}'`);
    else if (was.desc !== e.desc) refuse('export', e.line, `changes what the export '${name}' is`);
  }
  for (const [name, e] of o.exports) if (!n.exports.has(name)) refuse('export', e.line, `removes the export '${name}' (line ${e.line} of the old version)`);

  const oldBinding = (name: string) => o.functions.has(name) || o.classes.has(name) || o.data.has(name) || o.imports.has(name);
  for (const [name, f] of n.functions) {
    if (o.functions.has(name)) continue;
    if (oldBinding(name)) refuse('module-data', f.line, `'${name}' was another kind of declaration and is now a function`);
    else declarations.set(name, { kind: 'function', name, start: f.node.start, end: f.node.end, line: f.line });
  }

  for (const [name, c] of n.classes) {
    const was = o.classes.get(name);
    if (was !== undefined) diffClass(old, was, next, c, name, refuse, notes);
    else if (oldBinding(name)) refuse('module-data', c.line, `'${name}' was another kind of declaration and is now a class`);
    else if (n.data.has(name)) refuse('new-data', c.line, `adds the class expression '${name}' as module-level data`);
    else declarations.set(name, { kind: 'class', name, start: c.node.start, end: c.node.end, line: c.line });
  }

  for (const [name, d] of n.data) {
    const was = o.data.get(name);
    if (was !== undefined) {
      if (was.kind !== d.kind || was.key !== d.key) {
        // a class bound by `const X = class {...}` is compared member by member above
        if (!(n.classes.has(name) && o.classes.has(name) && was.kind === d.kind)) refuse('module-data', d.line, `changes the module-level value '${name}'`);
      }
    } else if (oldBinding(name)) {
      refuse('module-data', d.line, `'${name}' was another kind of declaration and is now a ${d.kind}`);
    } else if (n.classes.has(name)) {
      // reported with the classes
    } else if (d.kind === 'const' && (d.decl.id as Node).type === 'Identifier' && d.decl.init != null && isPlain(d.decl.init as Node)) {
      declarations.set(name, { kind: 'const', name, start: d.decl.start, end: d.decl.end, line: d.line });
    } else {
      refuse('new-data', d.line, `adds the module-level ${d.kind} '${name}', whose initializer runs code or holds state`);
    }
  }

  diffStatements(o.statements, n.statements, refuse);
  return { refusals, declarations, imports, notes };
}

/** Top-level statements other than declarations: in order, by meaning. */
function diffStatements(old: Items['statements'], next: Items['statements'], refuse: (rule: Rule, line: number, reason: string) => void): void {
  // longest common subsequence of keys: what is left on either side changed
  const n = old.length;
  const m = next.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i]![j] = old[i]!.key === next[j]!.key ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && old[i]!.key === next[j]!.key) { i++; j++; continue; }
    // one statement replaced by another: one change, not a removal and an addition
    if (i < n && j < m && lcs[i]![j]! === lcs[i + 1]![j + 1]!) {
      const s = next[j]!;
      if (s.exportish || old[i]!.exportish) refuse('export', s.line, 'changes a top-level assignment to the module\'s exports');
      else refuse('module-init', s.line, 'changes a top-level statement (module initialization)');
      i++;
      j++;
      continue;
    }
    if (j < m && (i >= n || lcs[i]![j + 1]! >= lcs[i + 1]![j]!)) {
      const s = next[j]!;
      if (s.exportish) refuse('export', s.line, 'adds a top-level assignment to the module\'s exports');
      else refuse('module-init', s.line, 'adds a top-level statement (module initialization)');
      j++;
    } else {
      const s = old[i]!;
      refuse(s.exportish ? 'export' : 'module-init', s.line, `removes the top-level statement at line ${s.line} of the old version`);
      i++;
    }
  }
}

function diffClass(
  old: ModuleVersion, was: ClassItem, next: ModuleVersion, now: ClassItem, name: string,
  refuse: (rule: Rule, line: number, reason: string) => void, notes: string[],
): void {
  const oNames = fnName(old);
  const nNames = fnName(next);
  const oKey = (n: Node) => structuralKey(n, oNames);
  const nKey = (n: Node) => structuralKey(n, nNames);
  const oc = was.node;
  const nc = now.node;
  const heritage = (c: Node, key: (n: Node) => string) => (c.superClass ? key(c.superClass as Node) : '') + '|' + ((c.decorators as Node[] | undefined) ?? []).map(key).join(',');
  if (heritage(oc, oKey) !== heritage(nc, nKey)) refuse('class-shape', now.line, `changes what class '${name}' extends or its decorators`);
  const members = (v: ModuleVersion, c: Node, key: (n: Node) => string) => {
    const out = new Map<string, { kind: 'method' | 'field' | 'block'; key: string; line: number }>();
    let blocks = 0;
    for (const m of (c.body as Node).body as Node[]) {
      if (isTypeOnly(m)) continue;
      const line = lineAt(v, m.start);
      const prefix = m.static ? 'static ' : '';
      if (m.type === 'StaticBlock') out.set(`static block #${++blocks}`, { kind: 'block', key: key(m), line });
      else if (m.type === 'MethodDefinition') {
        const label = m.kind === 'constructor' ? 'constructor' : `${prefix}${m.kind === 'method' ? '' : (m.kind as string) + ' '}${memberName(m.key as Node, m.computed as boolean, v.source)}`;
        out.set(label, { kind: 'method', key: m.computed ? key(m.key as Node) : '', line });
      } else if (m.type === 'PropertyDefinition' || m.type === 'AccessorProperty') {
        const label = `${prefix}field ${memberName(m.key as Node, m.computed as boolean, v.source)}`;
        out.set(label, { kind: 'field', key: (m.computed ? key(m.key as Node) : '') + '=' + (m.value ? key(m.value as Node) : '') + (m.type === 'AccessorProperty' ? 'accessor' : ''), line });
      }
    }
    return out;
  };
  const om = members(old, oc, oKey);
  const nm = members(next, nc, nKey);
  for (const [label, m] of nm) {
    const p = om.get(label);
    if (p === undefined) {
      if (m.kind === 'field') refuse('class-field', m.line, `adds the ${label} to class '${name}': instances made before the patch do not have it`);
      else if (m.kind === 'block') refuse('module-init', m.line, `adds a ${label} to class '${name}'`);
      else if (label === 'constructor') refuse('class-shape', m.line, `adds a constructor to class '${name}': a class without an explicit constructor has no constructor to patch`);
      else refuse('class-shape', m.line, `adds the method '${label}' to class '${name}'`);
    } else if (p.key !== m.key) {
      if (m.kind === 'field') refuse('class-field', m.line, `changes the initializer of ${label} of class '${name}'`);
      else if (m.kind === 'block') refuse('module-init', m.line, `changes the ${label} of class '${name}'`);
      else refuse('class-shape', m.line, `changes the computed key of '${label}' of class '${name}'`);
    }
  }
  for (const [label, m] of om) {
    if (nm.has(label)) continue;
    if (m.kind === 'field') refuse('class-field', now.line, `removes the ${label} from class '${name}' (line ${m.line} of the old version)`);
    else if (m.kind === 'block') refuse('module-init', now.line, `removes the ${label} from class '${name}'`);
    else notes.push(`${next.file.path}: '${label}' of class '${name}' is gone from the new version; the running one stays`);
  }
}

function fnName(v: ModuleVersion): (n: Node) => string | undefined {
  const byStart = new Map<number, string>();
  for (const f of v.analysis.functions) byStart.set(f.start, f.name);
  return (n) => byStart.get(n.start);
}

function items(v: ModuleVersion): Items {
  const names = fnName(v);
  const key = (n: Node) => structuralKey(n, names);
  const it: Items = { imports: new Map(), exports: new Map(), functions: new Map(), classes: new Map(), data: new Map(), statements: [] };
  const declare = (d: Node, line: number): void => {
    if (d.type === 'FunctionDeclaration' && d.id) it.functions.set((d.id as Node).name as string, { node: d, line });
    else if (d.type === 'ClassDeclaration' && d.id) it.classes.set((d.id as Node).name as string, { node: d, line });
    else if (d.type === 'VariableDeclaration') {
      for (const decl of d.declarations as Node[]) {
        const id = decl.id as Node;
        const dl = lineAt(v, decl.start);
        const init = decl.init ? unwrap(decl.init as Node) : null;
        const item: DataItem = { kind: d.kind as string, key: decl.init ? key(decl.init as Node) : '', line: dl, decl, stmt: d };
        if (id.type === 'Identifier') {
          it.data.set(id.name as string, item);
          if (init?.type === 'ClassExpression') it.classes.set(id.name as string, { node: init, line: dl });
        } else {
          // destructuring: compared as a whole, by every name it declares
          it.statements.push({ key: `${d.kind} ${key(id)}=${item.key}`, line: dl, exportish: false });
          for (const nm of patternNames(id)) it.data.set(nm, { ...item, key: key(decl) });
        }
      }
    } else it.statements.push({ key: key(d), line, exportish: false });
  };
  for (const st of v.program.body) {
    if (isTypeOnly(st)) continue;
    const line = lineAt(v, st.start);
    switch (st.type) {
      case 'ImportDeclaration': {
        const specs = (st.specifiers as Node[]).filter((s) => s.importKind !== 'type');
        const source = (st.source as Node).value as string;
        if ((st.specifiers as Node[]).length === 0) it.statements.push({ key: `import ${JSON.stringify(source)}`, line, exportish: false });
        for (const s of specs) {
          const imported = s.type === 'ImportDefaultSpecifier' ? 'default' : s.type === 'ImportNamespaceSpecifier' ? '*' : moduleExportName(s.imported as Node);
          it.imports.set((s.local as Node).name as string, { source, imported, line });
        }
        break;
      }
      case 'ExportNamedDeclaration': {
        const d = st.declaration as Node | null;
        if (d) {
          for (const nm of declaredNames(d)) it.exports.set(nm, { desc: `local ${nm}`, line });
          declare(d, line);
        } else {
          const source = st.source ? ((st.source as Node).value as string) : null;
          for (const s of st.specifiers as Node[]) {
            if (s.exportKind === 'type') continue;
            const local = moduleExportName(s.local as Node);
            it.exports.set(moduleExportName(s.exported as Node), { desc: source === null ? `local ${local}` : `from ${source} ${local}`, line });
          }
        }
        break;
      }
      case 'ExportDefaultDeclaration': {
        const d = st.declaration as Node;
        if ((d.type === 'FunctionDeclaration' || d.type === 'ClassDeclaration') && d.id) {
          it.exports.set('default', { desc: `local ${(d.id as Node).name as string}`, line });
          declare(d, line);
        } else if (d.type === 'ClassDeclaration' || d.type === 'ClassExpression') {
          it.exports.set('default', { desc: 'class', line });
          it.classes.set('default', { node: d, line });
        } else {
          // a function (compared as a function) or an expression (compared here)
          it.exports.set('default', { desc: key(d), line });
        }
        break;
      }
      case 'ExportAllDeclaration': {
        const name = st.exported ? moduleExportName(st.exported as Node) : '*';
        it.exports.set(`${name} from ${(st.source as Node).value as string}`, { desc: 'all', line });
        break;
      }
      case 'FunctionDeclaration':
      case 'ClassDeclaration':
      case 'VariableDeclaration':
        declare(st, line);
        break;
      default:
        it.statements.push({ key: key(st), line, exportish: v.file.sourceType === 'commonjs' && isExportsAssignment(st) });
    }
  }
  return it;
}

function declaredNames(d: Node): string[] {
  if ((d.type === 'FunctionDeclaration' || d.type === 'ClassDeclaration') && d.id) return [(d.id as Node).name as string];
  if (d.type === 'VariableDeclaration') return (d.declarations as Node[]).flatMap((x) => patternNames(x.id as Node));
  return [];
}

function patternNames(p: Node): string[] {
  switch (p.type) {
    case 'Identifier': return [p.name as string];
    case 'ObjectPattern': return (p.properties as Node[]).flatMap((q) => patternNames((q.type === 'RestElement' ? q.argument : q.value) as Node));
    case 'ArrayPattern': return (p.elements as (Node | null)[]).flatMap((e) => (e ? patternNames(e) : []));
    case 'RestElement': return patternNames(p.argument as Node);
    case 'AssignmentPattern': return patternNames(p.left as Node);
    default: return [];
  }
}

function moduleExportName(n: Node): string {
  return n.type === 'Identifier' ? (n.name as string) : String(n.value);
}

/** `module.exports = ...`, `exports.x = ...`, `module.exports.x = ...` */
function isExportsAssignment(st: Node): boolean {
  if (st.type !== 'ExpressionStatement') return false;
  const e = unwrap(st.expression as Node);
  if (e.type !== 'AssignmentExpression') return false;
  let t = e.left as Node;
  while (t.type === 'MemberExpression') {
    const obj = t.object as Node;
    if (obj.type === 'Identifier' && (obj.name === 'exports' || obj.name === 'module')) return true;
    t = obj;
  }
  return false;
}

const PLAIN_CALLS = new Set(['Set', 'Map', 'WeakMap', 'WeakSet', 'RegExp', 'Array', 'Symbol']);
const PLAIN_NAMESPACES = new Set(['Math', 'Number', 'Object', 'String', 'Symbol']);

/**
 * An initializer that runs no program code and reads no module state, so it
 * can run in the patch module when the patch loads: literals, regular
 * expressions, templates, arrays and objects of those, functions, and a few
 * built-in constructors.
 */
export function isPlain(n: Node): boolean {
  n = unwrap(n);
  switch (n.type) {
    case 'Literal':
    case 'FunctionExpression':
    case 'ArrowFunctionExpression':
      return true;
    case 'Identifier':
      return n.name === 'undefined' || n.name === 'NaN' || n.name === 'Infinity';
    case 'TemplateLiteral':
      return (n.expressions as Node[]).every(isPlain);
    case 'ArrayExpression':
      return (n.elements as (Node | null)[]).every((e) => e === null || isPlain(e.type === 'SpreadElement' ? (e.argument as Node) : e));
    case 'ObjectExpression':
      return (n.properties as Node[]).every((p) => p.type === 'Property' && (!p.computed || (p.key as Node).type === 'Literal') && isPlain(p.value as Node));
    case 'UnaryExpression':
      return n.operator !== 'delete' && isPlain(n.argument as Node);
    case 'BinaryExpression':
    case 'LogicalExpression':
      return isPlain(n.left as Node) && isPlain(n.right as Node);
    case 'ConditionalExpression':
      return isPlain(n.test as Node) && isPlain(n.consequent as Node) && isPlain(n.alternate as Node);
    case 'MemberExpression': {
      const obj = n.object as Node;
      return !n.computed && obj.type === 'Identifier' && PLAIN_NAMESPACES.has(obj.name as string);
    }
    case 'NewExpression':
    case 'CallExpression': {
      const callee = unwrap(n.callee as Node);
      const args = (n.arguments as Node[]).every((a) => isPlain(a.type === 'SpreadElement' ? (a.argument as Node) : a));
      if (callee.type === 'Identifier') return PLAIN_CALLS.has(callee.name as string) && args;
      // Object.freeze({...})
      return callee.type === 'MemberExpression' && !callee.computed && (callee.object as Node).type === 'Identifier' && (callee.object as Node).name === 'Object' && ((callee.property as Node).name === 'freeze') && args;
    }
    default:
      return false;
  }
}
