/**
 * What livepatch knows about the syntax tree oxc-parser produces (ESTree
 * with TypeScript nodes), in one place and as data: which keys of a node
 * hold its children and which of those a walk skips, which node types are
 * functions, which exist only for the type checker, which wrap an expression
 * without doing anything, what a binding pattern declares, and the walk over
 * a node's children. The loader's analysis (analyze.ts, scopes.ts,
 * forwarding.ts, scope-hazards.ts) and the patch generator (src/generator)
 * both read the tree through this file, so what a parser upgrade changes is
 * dealt with here, once (typescript-eslint keeps the same knowledge as data
 * in its visitor-keys package).
 *
 * A node's children are its node-valued properties in the order of its
 * keys, minus TYPE_KEYS. That is the parser's own table (oxc-parser's
 * `visitorKeys`) without its type keys: the same children in the same order
 * (test/instrument/syntax.test.ts checks it over a corpus), but for
 * `Program.hashbang`, which the table leaves out. The walk reads the keys off
 * the node rather than the table because this file is on the path of every
 * start, where oxc-parser is loaded only once a module must be parsed (a
 * warm start parses nothing), and because a node type a newer parser adds is
 * then walked instead of skipped, which would leave its functions unarmed.
 * The order is observable: the loader numbers functions in the order its
 * walk meets them (slot indices, sympos).
 */

import type { Node } from './estree.ts';

/** Keys that hold TypeScript types: never code, never walked. */
export const TYPE_KEYS: ReadonlySet<string> = new Set([
  'typeAnnotation',
  'returnType',
  'typeParameters',
  'typeArguments',
  'superTypeArguments',
  'implements',
]);

/**
 * What the loader's scope walk skips besides types: keys whose nodes name
 * something rather than read a variable — labels, property keys, JSX names —
 * and import attributes. Where such a name is a reference after all (a
 * computed key, a JSX component) the walk reads it itself.
 */
export const SCOPE_SKIP_KEYS: ReadonlySet<string> = new Set([...TYPE_KEYS, 'name', 'label', 'key', 'attributes']);

/**
 * Keys that are not what the code does: positions, parents, raw text, types
 * and TypeScript's modifiers. A structural comparison of code skips them
 * (src/generator/ast.ts).
 */
export const NOT_CODE_KEYS: ReadonlySet<string> = new Set([
  'start',
  'end',
  'range',
  'loc',
  'parent',
  'raw',
  ...TYPE_KEYS,
  'accessibility',
  'override',
  'readonly',
  'definite',
  'declare',
  'abstract',
]);

export const FUNCTION_TYPES: ReadonlySet<string> = new Set([
  'FunctionDeclaration',
  'FunctionExpression',
  'ArrowFunctionExpression',
]);

/** Declarations and class members that exist only for the type checker: no code at all. */
export const TYPE_ONLY_TYPES: ReadonlySet<string> = new Set([
  'TSInterfaceDeclaration',
  'TSTypeAliasDeclaration',
  'TSDeclareFunction',
  'TSIndexSignature',
  'TSAbstractMethodDefinition',
  'TSAbstractPropertyDefinition',
  'TSAbstractAccessorProperty',
  'TSEmptyBodyFunctionExpression',
]);

/**
 * TypeScript module syntax that a module Node runs cannot hold: `import x =
 * require()` and `export =`, which Node's type stripping refuses, and
 * `export as namespace`, which belongs in declaration files. It is code, and
 * the build compares it as code; the loader has nothing to arm in it.
 */
export const NOT_RUN_TYPES: ReadonlySet<string> = new Set([
  'TSImportEqualsDeclaration',
  'TSNamespaceExportDeclaration',
  'TSExportAssignment',
]);

/**
 * Syntax Node's type stripping cannot erase (it would need a transform, not
 * blanks): enums, namespaces, parameter properties, `import x = require()`,
 * `export =`; and JSX, which Node does not run at all. Declared (`declare`)
 * forms are erasable.
 */
export const NON_ERASABLE_TYPES: ReadonlySet<string> = new Set([
  'TSEnumDeclaration',
  'TSModuleDeclaration',
  'TSParameterProperty',
  'TSImportEqualsDeclaration',
  'TSExportAssignment',
  'JSXElement',
  'JSXFragment',
]);

/** Expression wrappers that do nothing at run time: parentheses, TypeScript's assertions and instantiations. */
export const TRANSPARENT_TYPES: ReadonlySet<string> = new Set([
  'ParenthesizedExpression',
  'TSAsExpression',
  'TSSatisfiesExpression',
  'TSNonNullExpression',
  'TSTypeAssertion',
  'TSInstantiationExpression',
]);

const NOT_WALKED_BY_LOADER: ReadonlySet<string> = new Set([...TYPE_ONLY_TYPES, ...NOT_RUN_TYPES]);

/**
 * A node of this type holds nothing that runs under Node: a type, a
 * type-only declaration or member, or module syntax a running module cannot
 * hold. The loader's walk does not enter it.
 */
export function runsNothing(type: string): boolean {
  if (NOT_WALKED_BY_LOADER.has(type)) return true;
  // TSTypeAnnotation, TSTypeReference…, but `<T>x` is an expression
  return (type.startsWith('TSType') && type !== 'TSTypeAssertion') || type === 'TSInterfaceBody';
}

/** Statements and members that exist only for the type checker: the build gives them no meaning. */
export function isTypeOnly(n: Node): boolean {
  const t = n.type;
  if (TYPE_ONLY_TYPES.has(t)) return true;
  if (t === 'ImportDeclaration' || t === 'ExportNamedDeclaration' || t === 'ExportAllDeclaration') {
    if (n.importKind === 'type' || n.exportKind === 'type') return true;
  }
  if (n.declare === true) return true;
  if (t === 'MethodDefinition' && (n.value as Node | null)?.type === 'TSEmptyBodyFunctionExpression') return true;
  if (t === 'ExportNamedDeclaration' || t === 'ExportDefaultDeclaration') {
    if (n.declaration != null && isTypeOnly(n.declaration as Node)) return true;
  }
  return false;
}

export function isNode(v: unknown): v is Node {
  return v !== null && typeof v === 'object' && typeof (v as Node).type === 'string';
}

/** The expression inside wrappers that do nothing at run time. */
export function unwrap(n: Node): Node {
  while (TRANSPARENT_TYPES.has(n.type)) n = n.expression as Node;
  return n;
}

/** Call `fn` on each child of `node`, in the order of its keys, but those in `skip` (by default: types). */
export function eachChild(
  node: Node,
  fn: (child: Node, key: string) => void,
  skip: ReadonlySet<string> = TYPE_KEYS,
): void {
  for (const key in node) {
    if (skip.has(key)) continue;
    const v = node[key];
    if (v === null || typeof v !== 'object') continue;
    if (Array.isArray(v)) {
      for (const c of v) if (isNode(c)) fn(c, key);
    } else if (typeof (v as Node).type === 'string') fn(v as Node, key);
  }
}

/**
 * Add the names a binding pattern declares to `out`. TypeScript's `this`
 * parameter declares none. (The loader's scopes.ts binds patterns with a
 * copy of this walk that binds as it goes: it runs on every declaration of
 * every module.)
 */
export function boundNames(p: Node, out: { add(name: string): unknown } | string[]): void {
  switch (p.type) {
    case 'Identifier':
      if (p.name === 'this') return;
      if (Array.isArray(out)) out.push(p.name as string);
      else out.add(p.name as string);
      return;
    case 'ObjectPattern':
      for (const prop of p.properties as Node[]) {
        boundNames((prop.type === 'RestElement' ? prop.argument : prop.value) as Node, out);
      }
      return;
    case 'ArrayPattern':
      for (const el of p.elements as (Node | null)[]) if (el) boundNames(el, out);
      return;
    case 'RestElement':
      boundNames(p.argument as Node, out);
      return;
    case 'AssignmentPattern':
      boundNames(p.left as Node, out);
      return;
    case 'TSParameterProperty':
      boundNames(p.parameter as Node, out);
      return;
  }
}
