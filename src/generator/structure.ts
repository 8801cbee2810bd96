/**
 * The module diff outside functions: everything a module did when it loaded
 * (imports, exports, top-level data, classes and their fields, top-level
 * statements). That code ran long ago in the running process and does not
 * run again, so a change there is refused with the way out — except what a
 * patch can do safely, collected here for the patch module:
 * - new imports (and, in CommonJS, new `require()`s of a literal specifier);
 * - new helper functions and classes, new constants with a plain initializer,
 *   and new `var`/`let` bindings that nothing reassigns and whose
 *   initializer is data (a regular expression, a literal);
 * - a changed constant whose initializers are data (`ChangedConstant`): the
 *   patch defines the new value and every function that reads it is patched
 *   to read that one (plan.ts checks that nothing else uses it);
 * - a property a CommonJS module adds to its exports (`NewExport`): the
 *   patch adds it when it is enabled and removes it when it is disabled. An
 *   ES module's namespace is sealed, so a new export there stays refused.
 * A change of nothing but the package's version string (a version bump
 * compared as a package) is noted, not refused: that data stays as it is,
 * and `livepatch status` says which version the process behaves as.
 *
 * Code is compared by meaning (structural keys: no positions, comments,
 * formatting or types), with every function abstracted by its identity, so
 * a change inside a function is the function's, not its statement's.
 * The export rules are all here (`diffExports`, `exportAddition`,
 * `exportExtension`), so they can be relaxed in one place.
 */

import { isBuiltin } from 'node:module';
import { memberName } from '../instrument/qualified-names.ts';
import { isTypeOnly, unwrap } from '../instrument/syntax.ts';
import { structuralKey, type Node } from './ast.ts';
import { isData, isPlain, isPrimitive } from './data.ts';
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
  /**
   * `import`: the imported name, `default`, or `*` for a namespace;
   * `require`: `*` for what `require()` returns, else the property read off it
   */
  readonly imported: string;
  readonly line: number;
  readonly kind: 'import' | 'require';
}

/** A changed module-level constant whose old and new values are data: the patch may define it anew. */
export interface ChangedConstant {
  readonly name: string;
  /** the new declarator: what the patch declares */
  readonly decl: NewDeclaration;
  readonly oldLine: number;
  /** a primitive cannot be mutated or shared; a regular expression keeps only `lastIndex`; an object or array can be both */
  readonly value: 'primitive' | 'regexp' | 'object';
}

/** A property the new version of a CommonJS module adds to its exports. */
export interface NewExport {
  readonly name: string;
  /** the object the new version adds it to: `exports.x = ...` or `module.exports.x = ...` / `module.exports = {..., x}` */
  readonly target: 'exports' | 'module.exports';
  /** the value's expression in the new source */
  readonly value: Node;
  readonly line: number;
}

/** The package's version before and after, when a version bump is compared. */
export interface VersionStrings {
  readonly old: string;
  readonly new: string;
}

export interface StructureDiff {
  readonly refusals: Refusal[];
  readonly declarations: Map<string, NewDeclaration>;
  readonly imports: Map<string, NewImport>;
  readonly constants: Map<string, ChangedConstant>;
  readonly exports: NewExport[];
  readonly notes: string[];
}

interface ClassItem {
  readonly node: Node;
  readonly line: number;
}
interface DataItem {
  readonly kind: string;
  readonly key: string;
  readonly line: number;
  readonly decl: Node;
  readonly stmt: Node;
}
interface Statement {
  readonly key: string;
  readonly line: number;
  readonly exportish: boolean;
  readonly node: Node;
}
interface ImportItem {
  readonly source: string;
  readonly imported: string;
  readonly line: number;
  readonly kind: 'import' | 'require';
}

interface Items {
  readonly imports: Map<string, ImportItem>;
  readonly exports: Map<string, { desc: string; line: number }>;
  readonly functions: Map<string, { node: Node; line: number }>;
  readonly classes: Map<string, ClassItem>;
  readonly data: Map<string, DataItem>;
  readonly statements: Statement[];
}

type Refuse = (rule: Rule, line: number, reason: string) => void;

export function diffStructure(
  old: ModuleVersion,
  next: ModuleVersion,
  versions: VersionStrings | null = null,
): StructureDiff {
  const path = next.file.path;
  const refusals: Refusal[] = [];
  const notes: string[] = [];
  const declarations = new Map<string, NewDeclaration>();
  const imports = new Map<string, NewImport>();
  const constants = new Map<string, ChangedConstant>();
  const exports: NewExport[] = [];
  const refuse: Refuse = (rule, line, reason) => refusals.push(refusal(rule, path, line, reason));
  const o = items(old);
  const n = items(next);
  // keys equal but for the package's version string
  const norm = versionNormalizer(versions);
  const sameButVersion = (a: string, b: string) => a !== b && norm.old(a) === norm.new(b);
  const versionNote = (line: number, what: string) =>
    notes.push(
      `${path}:${line}: ${what} differs only by the version string ('${versions!.old}' → '${versions!.new}'): that data is left as it is (the patch records the version the process behaves as)`,
    );

  for (const [local, imp] of n.imports) {
    const was = o.imports.get(local);
    if (was === undefined) {
      if (o.data.has(local) || o.functions.has(local) || o.classes.has(local))
        refuse('import', imp.line, `'${local}' was a module-level declaration and is now an import`);
      else imports.set(local, { local, source: imp.source, imported: imp.imported, line: imp.line, kind: imp.kind });
    } else if (!sameModule(was.source, imp.source) || was.imported !== imp.imported || was.kind !== imp.kind) {
      refuse(
        'import',
        imp.line,
        `changes the import '${local}' (was '${was.imported}' from '${was.source}', now '${imp.imported}' from '${imp.source}')`,
      );
    }
  }

  diffExports(o, n, refuse);

  const oldBinding = (name: string) =>
    o.functions.has(name) || o.classes.has(name) || o.data.has(name) || o.imports.has(name);
  for (const [name, f] of n.functions) {
    if (o.functions.has(name)) continue;
    if (oldBinding(name))
      refuse('module-data', f.line, `'${name}' was another kind of declaration and is now a function`);
    else declarations.set(name, { kind: 'function', name, start: f.node.start, end: f.node.end, line: f.line });
  }

  for (const [name, c] of n.classes) {
    const was = o.classes.get(name);
    if (was !== undefined) diffClass(old, was, next, c, name, refuse, notes);
    else if (oldBinding(name))
      refuse('module-data', c.line, `'${name}' was another kind of declaration and is now a class`);
    else if (n.data.has(name)) refuse('new-data', c.line, `adds the class expression '${name}' as module-level data`);
    else declarations.set(name, { kind: 'class', name, start: c.node.start, end: c.node.end, line: c.line });
  }

  const assigned = (v: ModuleVersion, name: string) => v.topLevel.get(name)?.assigned === true;
  const exported = (items: Items, name: string) => [...items.exports.values()].some((e) => e.desc === `local ${name}`);
  for (const [name, d] of n.data) {
    const was = o.data.get(name);
    if (was !== undefined) {
      if (was.key === d.key && was.kind === d.kind) continue;
      // a class bound by `const X = class {...}` is compared member by member above
      if (n.classes.has(name) && o.classes.has(name) && was.kind === d.kind) continue;
      if (was.key === d.key && !assigned(old, name) && !assigned(next, name)) {
        notes.push(
          `${path}:${d.line}: '${name}' is now declared with '${d.kind}' (was '${was.kind}'); its value is the same`,
        );
        continue;
      }
      if (sameButVersion(was.key, d.key)) {
        versionNote(d.line, `the module-level value '${name}'`);
        continue;
      }
      const why = changedConstant(name, was, d);
      if (typeof why === 'string') refuse('module-data', d.line, `changes the module-level value '${name}'${why}`);
      else constants.set(name, why);
    } else if (oldBinding(name)) {
      refuse('module-data', d.line, `'${name}' was another kind of declaration and is now a ${d.kind}`);
    } else if (n.classes.has(name)) {
      // reported with the classes
    } else if (
      (d.decl.id as Node).type === 'Identifier' &&
      d.decl.init != null &&
      (d.kind === 'const' ? isPlain(d.decl.init as Node) : !assigned(next, name) && isData(d.decl.init as Node))
    ) {
      declarations.set(name, { kind: 'const', name, start: d.decl.start, end: d.decl.end, line: d.line });
    } else {
      refuse(
        'new-data',
        d.line,
        `adds the module-level ${d.kind} '${name}', whose initializer runs code or holds state`,
      );
    }
  }

  /** Why a changed constant cannot be defined anew by the patch (a reason), or how it can. */
  function changedConstant(name: string, was: DataItem, d: DataItem): string | ChangedConstant {
    if ((was.decl.id as Node).type !== 'Identifier' || (d.decl.id as Node).type !== 'Identifier')
      return ' (a destructuring declaration)';
    if (was.decl.init == null || d.decl.init == null) return ', which has no initializer';
    if (assigned(old, name) || assigned(next, name)) return ', which the module reassigns';
    const oi = was.decl.init as Node;
    const ni = d.decl.init as Node;
    if (!isData(oi) || !isData(ni)) return ', whose initializer runs code or holds state';
    if (exported(o, name) || exported(n, name)) return ', which the module exports: importers hold the running value';
    const kind = (x: Node) => {
      const u = unwrap(x);
      if (u.type === 'Literal' && u.regex != null) return 'regexp';
      if ((u.type === 'NewExpression' || u.type === 'CallExpression') && (u.callee as Node).type === 'Identifier')
        return 'regexp';
      return isPrimitive(u) ? 'primitive' : 'object';
    };
    const ok = kind(oi);
    const nk = kind(ni);
    const value = ok === nk ? ok : 'object';
    return {
      name,
      oldLine: was.line,
      value,
      decl: { kind: 'const', name, start: d.decl.start, end: d.decl.end, line: d.line },
    };
  }

  diffStatements(
    o.statements,
    n.statements,
    refuse,
    exports,
    norm,
    (line) => versionNote(line, 'a top-level statement'),
    (pos) => lineAt(next, pos),
  );
  return { refusals, declarations, imports, constants, exports, notes };
}

/** Two specifiers of the same module: equal, or one builtin named with and without `node:`. */
function sameModule(a: string, b: string): boolean {
  if (a === b) return true;
  const bare = (x: string) => (x.startsWith('node:') ? x.slice(5) : x);
  return bare(a) === bare(b) && isBuiltin(bare(a));
}

/** Added, removed or changed exports of an ES module: importers bound them when they loaded. */
function diffExports(o: Items, n: Items, refuse: Refuse): void {
  for (const [name, e] of n.exports) {
    const was = o.exports.get(name);
    if (was === undefined)
      refuse(
        'export',
        e.line,
        `adds the export '${name}' (an ES module's namespace is sealed: a new export cannot be added to a running module)`,
      );
    else if (was.desc !== e.desc) refuse('export', e.line, `changes what the export '${name}' is`);
  }
  for (const [name, e] of o.exports)
    if (!n.exports.has(name))
      refuse('export', e.line, `removes the export '${name}' (line ${e.line} of the old version)`);
}

interface Normalizer {
  readonly old: (key: string) => string;
  readonly new: (key: string) => string;
}

/** Keys with the package's version string replaced by a marker, so a version bump's own string is no change. */
function versionNormalizer(v: VersionStrings | null): Normalizer {
  if (v === null || v.old === v.new) return { old: (k) => k, new: (k) => k };
  const marker = JSON.stringify('\u0000version');
  const swap = (s: string) => (k: string) => k.split(JSON.stringify(s)).join(marker);
  return { old: swap(v.old), new: swap(v.new) };
}

/** Top-level statements other than declarations: in order, by meaning. */
function diffStatements(
  old: readonly Statement[],
  next: readonly Statement[],
  refuse: Refuse,
  exports: NewExport[],
  norm: Normalizer,
  versionOnly: (line: number) => void,
  lineOf: (pos: number) => number,
): void {
  const ok = old.map((s) => norm.old(s.key));
  const nk = next.map((s) => norm.new(s.key));
  // longest common subsequence of keys: what is left on either side changed
  const n = old.length;
  const m = next.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i]![j] = ok[i] === nk[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && ok[i] === nk[j]) {
      if (old[i]!.key !== next[j]!.key) versionOnly(next[j]!.line);
      i++;
      j++;
      continue;
    }
    // one statement replaced by another: one change, not a removal and an addition
    if (i < n && j < m && lcs[i]![j]! === lcs[i + 1]![j + 1]!) {
      const s = next[j]!;
      const extended = s.exportish && old[i]!.exportish ? exportExtension(old[i]!.node, s.node, lineOf) : null;
      if (extended !== null) exports.push(...extended);
      else if (s.exportish || old[i]!.exportish)
        refuse('export', s.line, "changes a top-level assignment to the module's exports");
      else refuse('module-init', s.line, 'changes a top-level statement (module initialization)');
      i++;
      j++;
      continue;
    }
    if (j < m && (i >= n || lcs[i]![j + 1]! >= lcs[i + 1]![j]!)) {
      const s = next[j]!;
      const added = s.exportish ? exportAddition(s.node, s.line) : null;
      if (added !== null) exports.push(added);
      else if (s.exportish)
        refuse(
          'export',
          s.line,
          "adds a top-level assignment to the module's exports (only `exports.name = value` can be added)",
        );
      else refuse('module-init', s.line, 'adds a top-level statement (module initialization)');
      j++;
    } else {
      const s = old[i]!;
      refuse(
        s.exportish ? 'export' : 'module-init',
        s.line,
        `removes the top-level statement at line ${s.line} of the old version`,
      );
      i++;
    }
  }
}

/** The object a CommonJS export assignment writes to: `exports` or `module.exports`. */
function exportsObject(n: Node): 'exports' | 'module.exports' | null {
  n = unwrap(n);
  if (n.type === 'Identifier' && n.name === 'exports') return 'exports';
  if (
    n.type === 'MemberExpression' &&
    !n.computed &&
    (n.object as Node).type === 'Identifier' &&
    (n.object as Node).name === 'module' &&
    (n.property as Node).name === 'exports'
  )
    return 'module.exports';
  return null;
}

function propertyName(member: Node): string | null {
  const p = member.property as Node;
  if (!member.computed && p.type === 'Identifier') return p.name as string;
  if (member.computed && p.type === 'Literal' && typeof p.value === 'string') return p.value;
  return null;
}

/** `exports.name = value` / `module.exports.name = value` added at the top level: a new export. */
function exportAddition(st: Node, line: number): NewExport | null {
  if (st.type !== 'ExpressionStatement') return null;
  const e = unwrap(st.expression as Node);
  if (e.type !== 'AssignmentExpression' || e.operator !== '=') return null;
  const left = unwrap(e.left as Node);
  if (left.type !== 'MemberExpression') return null;
  const target = exportsObject(left.object as Node);
  const name = propertyName(left);
  if (target === null || name === null || name === '__proto__') return null;
  return { name, target, value: e.right as Node, line };
}

/**
 * `module.exports = { a, b }` become `module.exports = { a, b, c }`: every
 * property the running object has is there, unchanged; the others are new
 * exports of that object.
 */
function exportExtension(oldSt: Node, newSt: Node, lineOf: (pos: number) => number): NewExport[] | null {
  const literal = (st: Node): Node | null => {
    if (st.type !== 'ExpressionStatement') return null;
    const e = unwrap(st.expression as Node);
    if (e.type !== 'AssignmentExpression' || e.operator !== '=' || exportsObject(e.left as Node) !== 'module.exports')
      return null;
    const r = unwrap(e.right as Node);
    return r.type === 'ObjectExpression' ? r : null;
  };
  const o = literal(oldSt);
  const n = literal(newSt);
  if (o === null || n === null) return null;
  const props = (obj: Node): Map<string, Node> | null => {
    const m = new Map<string, Node>();
    for (const p of obj.properties as Node[]) {
      if (p.type !== 'Property' || p.kind !== 'init') return null;
      const k = p.key as Node;
      const name =
        !p.computed && k.type === 'Identifier'
          ? (k.name as string)
          : k.type === 'Literal' && typeof k.value === 'string'
            ? k.value
            : null;
      if (name === null || name === '__proto__') return null;
      m.set(name, p);
    }
    return m;
  };
  const op = props(o);
  const np = props(n);
  if (op === null || np === null) return null;
  const key = (p: Node) => structuralKey(p.value as Node, () => 'ƒ');
  for (const [name, p] of op) {
    const q = np.get(name);
    // a function value counts by its place: its changes are the function's
    if (q === undefined || key(p) !== key(q)) return null;
  }
  const added: NewExport[] = [];
  for (const [name, p] of np)
    if (!op.has(name)) added.push({ name, target: 'module.exports', value: p.value as Node, line: lineOf(p.start) });
  return added.length > 0 ? added : null;
}

function diffClass(
  old: ModuleVersion,
  was: ClassItem,
  next: ModuleVersion,
  now: ClassItem,
  name: string,
  refuse: Refuse,
  notes: string[],
): void {
  const oNames = fnName(old);
  const nNames = fnName(next);
  const oKey = (n: Node) => structuralKey(n, oNames);
  const nKey = (n: Node) => structuralKey(n, nNames);
  const oc = was.node;
  const nc = now.node;
  const heritage = (c: Node, key: (n: Node) => string) =>
    (c.superClass ? key(c.superClass as Node) : '') +
    '|' +
    ((c.decorators as Node[] | undefined) ?? []).map(key).join(',');
  if (heritage(oc, oKey) !== heritage(nc, nKey))
    refuse('class-shape', now.line, `changes what class '${name}' extends or its decorators`);
  const members = (v: ModuleVersion, c: Node, key: (n: Node) => string) => {
    const out = new Map<string, { kind: 'method' | 'field' | 'block'; key: string; line: number }>();
    let blocks = 0;
    for (const m of (c.body as Node).body as Node[]) {
      if (isTypeOnly(m)) continue;
      const line = lineAt(v, m.start);
      const prefix = m.static ? 'static ' : '';
      if (m.type === 'StaticBlock') out.set(`static block #${++blocks}`, { kind: 'block', key: key(m), line });
      else if (m.type === 'MethodDefinition') {
        const label =
          m.kind === 'constructor'
            ? 'constructor'
            : `${prefix}${m.kind === 'method' ? '' : (m.kind as string) + ' '}${memberName(m.key as Node, m.computed as boolean, v.source)}`;
        out.set(label, { kind: 'method', key: m.computed ? key(m.key as Node) : '', line });
      } else if (m.type === 'PropertyDefinition' || m.type === 'AccessorProperty') {
        const label = `${prefix}field ${memberName(m.key as Node, m.computed as boolean, v.source)}`;
        out.set(label, {
          kind: 'field',
          key:
            (m.computed ? key(m.key as Node) : '') +
            '=' +
            (m.value ? key(m.value as Node) : '') +
            (m.type === 'AccessorProperty' ? 'accessor' : ''),
          line,
        });
      }
    }
    return out;
  };
  const om = members(old, oc, oKey);
  const nm = members(next, nc, nKey);
  for (const [label, m] of nm) {
    const p = om.get(label);
    if (p === undefined) {
      if (m.kind === 'field')
        refuse(
          'class-field',
          m.line,
          `adds the ${label} to class '${name}': instances made before the patch do not have it`,
        );
      else if (m.kind === 'block') refuse('module-init', m.line, `adds a ${label} to class '${name}'`);
      else if (label === 'constructor')
        refuse(
          'class-shape',
          m.line,
          `adds a constructor to class '${name}': a class without an explicit constructor has no constructor to patch`,
        );
      else refuse('class-shape', m.line, `adds the method '${label}' to class '${name}'`);
    } else if (p.key !== m.key) {
      if (m.kind === 'field') refuse('class-field', m.line, `changes the initializer of ${label} of class '${name}'`);
      else if (m.kind === 'block') refuse('module-init', m.line, `changes the ${label} of class '${name}'`);
      else refuse('class-shape', m.line, `changes the computed key of '${label}' of class '${name}'`);
    }
  }
  for (const [label, m] of om) {
    if (nm.has(label)) continue;
    if (m.kind === 'field')
      refuse('class-field', now.line, `removes the ${label} from class '${name}' (line ${m.line} of the old version)`);
    else if (m.kind === 'block') refuse('module-init', now.line, `removes the ${label} from class '${name}'`);
    else
      notes.push(
        `${next.file.path}: '${label}' of class '${name}' is gone from the new version; the running one stays`,
      );
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
  const it: Items = {
    imports: new Map(),
    exports: new Map(),
    functions: new Map(),
    classes: new Map(),
    data: new Map(),
    statements: [],
  };
  const cjs = v.file.sourceType === 'commonjs';
  // a binding nothing reassigns, bound to `require('x')` (or a property of it): an import of CommonJS
  const fixed = (name: string) => v.topLevel.get(name)?.assigned !== true;
  const declare = (d: Node, line: number): void => {
    if (d.type === 'FunctionDeclaration' && d.id) it.functions.set((d.id as Node).name as string, { node: d, line });
    else if (d.type === 'ClassDeclaration' && d.id) it.classes.set((d.id as Node).name as string, { node: d, line });
    else if (d.type === 'VariableDeclaration') {
      for (const decl of d.declarations as Node[]) {
        const id = decl.id as Node;
        const dl = lineAt(v, decl.start);
        const init = decl.init ? unwrap(decl.init as Node) : null;
        const req = cjs && init !== null ? requireOf(init) : null;
        if (req !== null && id.type === 'Identifier' && fixed(id.name as string)) {
          it.imports.set(id.name as string, {
            source: req.source,
            imported: req.property ?? '*',
            line: dl,
            kind: 'require',
          });
          continue;
        }
        const picked = req !== null && req.property === null ? destructuredNames(id) : null;
        if (picked !== null && picked.every(([local]) => fixed(local))) {
          for (const [local, prop] of picked)
            it.imports.set(local, { source: req!.source, imported: prop, line: dl, kind: 'require' });
          continue;
        }
        const item: DataItem = {
          kind: d.kind as string,
          key: decl.init ? key(decl.init as Node) : '',
          line: dl,
          decl,
          stmt: d,
        };
        if (id.type === 'Identifier') {
          it.data.set(id.name as string, item);
          if (init?.type === 'ClassExpression') it.classes.set(id.name as string, { node: init, line: dl });
        } else {
          // destructuring: compared as a whole, by every name it declares
          it.statements.push({ key: `${d.kind} ${key(id)}=${item.key}`, line: dl, exportish: false, node: decl });
          for (const nm of patternNames(id)) it.data.set(nm, { ...item, key: key(decl) });
        }
      }
    } else it.statements.push({ key: key(d), line, exportish: false, node: d });
  };
  for (const st of v.program.body) {
    if (isTypeOnly(st)) continue;
    const line = lineAt(v, st.start);
    switch (st.type) {
      case 'ImportDeclaration': {
        const specs = (st.specifiers as Node[]).filter((s) => s.importKind !== 'type');
        const source = (st.source as Node).value as string;
        if ((st.specifiers as Node[]).length === 0)
          it.statements.push({ key: `import ${JSON.stringify(source)}`, line, exportish: false, node: st });
        for (const s of specs) {
          const imported =
            s.type === 'ImportDefaultSpecifier'
              ? 'default'
              : s.type === 'ImportNamespaceSpecifier'
                ? '*'
                : moduleExportName(s.imported as Node);
          it.imports.set((s.local as Node).name as string, { source, imported, line, kind: 'import' });
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
            it.exports.set(moduleExportName(s.exported as Node), {
              desc: source === null ? `local ${local}` : `from ${source} ${local}`,
              line,
            });
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
        it.statements.push({ key: key(st), line, exportish: cjs && isExportsAssignment(st), node: st });
    }
  }
  return it;
}

function declaredNames(d: Node): string[] {
  if ((d.type === 'FunctionDeclaration' || d.type === 'ClassDeclaration') && d.id)
    return [(d.id as Node).name as string];
  if (d.type === 'VariableDeclaration') return (d.declarations as Node[]).flatMap((x) => patternNames(x.id as Node));
  return [];
}

function patternNames(p: Node): string[] {
  switch (p.type) {
    case 'Identifier':
      return [p.name as string];
    case 'ObjectPattern':
      return (p.properties as Node[]).flatMap((q) =>
        patternNames((q.type === 'RestElement' ? q.argument : q.value) as Node),
      );
    case 'ArrayPattern':
      return (p.elements as (Node | null)[]).flatMap((e) => (e ? patternNames(e) : []));
    case 'RestElement':
      return patternNames(p.argument as Node);
    case 'AssignmentPattern':
      return patternNames(p.left as Node);
    default:
      return [];
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

/** `require('x')` or `require('x').y` with a literal specifier. */
function requireOf(init: Node): { source: string; property: string | null } | null {
  let n = init;
  let property: string | null = null;
  if (n.type === 'MemberExpression' && !n.computed && (n.property as Node).type === 'Identifier') {
    property = (n.property as Node).name as string;
    n = unwrap(n.object as Node);
  }
  if (n.type !== 'CallExpression') return null;
  const callee = n.callee as Node;
  const args = n.arguments as Node[];
  if (callee.type !== 'Identifier' || callee.name !== 'require' || args.length !== 1) return null;
  const a = args[0]!;
  return a.type === 'Literal' && typeof a.value === 'string' ? { source: a.value, property } : null;
}

/** `{ a, b: c }`: [local, property] pairs, or null for anything else (defaults, rest, nesting, computed keys). */
function destructuredNames(p: Node): [string, string][] | null {
  if (p.type !== 'ObjectPattern') return null;
  const out: [string, string][] = [];
  for (const prop of p.properties as Node[]) {
    if (prop.type !== 'Property' || prop.computed) return null;
    const k = prop.key as Node;
    const val = prop.value as Node;
    if (k.type !== 'Identifier' || val.type !== 'Identifier') return null;
    out.push([val.name as string, k.name as string]);
  }
  return out;
}

export { isPlain };
