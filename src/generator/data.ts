/**
 * What a module-level initializer is, as far as a patch may evaluate it a
 * second time, in the patch module, when the patch loads:
 *
 * - plain (`isPlain`): runs no program code and reads no module state —
 *   literals, regular expressions, templates, arrays and objects of those,
 *   functions, a few built-in constructors (`new Map()`), reads of built-in
 *   constants. A new `const` with such an initializer becomes a helper of
 *   the patch.
 * - data (`isData`): plain, and moreover holds no state of its own and no
 *   code: no functions, no Map or Set. Only data can replace a *changed*
 *   constant (the running code's value is dropped for the patch's), or be
 *   added by a new `var`/`let` that nothing reassigns.
 * - primitive (`isPrimitive`): data whose value is a string, number,
 *   boolean, bigint or undefined: it cannot be mutated or shared, so any use
 *   of it is a read.
 */

import { unwrap } from '../instrument/syntax.ts';
import type { Node } from './ast.ts';

const PLAIN_CALLS = new Set(['Set', 'Map', 'WeakMap', 'WeakSet', 'RegExp', 'Array', 'Symbol']);
const PLAIN_NAMESPACES = new Set(['Math', 'Number', 'Object', 'String', 'Symbol']);

/**
 * Built-ins whose properties (and their prototypes' methods) can be read
 * when the patch loads: `String.prototype.split`, `Math.PI`,
 * `Object.prototype.hasOwnProperty`. The values are the realm's own, the
 * same the running module read.
 */
const BUILTIN_ROOTS = new Set([
  'Math',
  'Number',
  'Object',
  'String',
  'Symbol',
  'Array',
  'Boolean',
  'Function',
  'RegExp',
  'Date',
  'JSON',
  'Reflect',
  'Promise',
  'BigInt',
  'Error',
  'TypeError',
  'RangeError',
]);

/** String methods that compute a value from the string and their arguments, nothing else. */
const PURE_STRING_METHODS = new Set([
  'charCodeAt',
  'codePointAt',
  'charAt',
  'toUpperCase',
  'toLowerCase',
  'repeat',
  'slice',
  'substring',
  'trim',
  'padStart',
  'padEnd',
  'concat',
  'indexOf',
  'split',
  'normalize',
]);

/** Static functions that build a primitive or a fresh value from their (data) arguments. */
const PURE_STATICS: Record<string, ReadonlySet<string>> = {
  String: new Set(['fromCharCode', 'fromCodePoint', 'raw']),
  Number: new Set(['parseInt', 'parseFloat']),
  Math: new Set(['pow', 'max', 'min', 'floor', 'ceil', 'round', 'abs', 'trunc']),
  Object: new Set(['freeze']),
};

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
      return (n.elements as (Node | null)[]).every(
        (e) => e === null || isPlain(e.type === 'SpreadElement' ? (e.argument as Node) : e),
      );
    case 'ObjectExpression':
      return (n.properties as Node[]).every(
        (p) => p.type === 'Property' && (!p.computed || (p.key as Node).type === 'Literal') && isPlain(p.value as Node),
      );
    case 'UnaryExpression':
      return n.operator !== 'delete' && isPlain(n.argument as Node);
    case 'BinaryExpression':
    case 'LogicalExpression':
      return isPlain(n.left as Node) && isPlain(n.right as Node);
    case 'ConditionalExpression':
      return isPlain(n.test as Node) && isPlain(n.consequent as Node) && isPlain(n.alternate as Node);
    case 'MemberExpression': {
      const obj = n.object as Node;
      if (!n.computed && obj.type === 'Identifier' && PLAIN_NAMESPACES.has(obj.name as string)) return true;
      return builtinRead(n);
    }
    case 'NewExpression':
    case 'CallExpression': {
      const callee = unwrap(n.callee as Node);
      const args = (n.arguments as Node[]).every((a) => isPlain(a.type === 'SpreadElement' ? (a.argument as Node) : a));
      if (callee.type === 'Identifier') return PLAIN_CALLS.has(callee.name as string) && args;
      return args && pureCall(n, isPlain);
    }
    default:
      return false;
  }
}

export function isData(n: Node): boolean {
  n = unwrap(n);
  switch (n.type) {
    case 'Literal':
      return true;
    case 'Identifier':
      return n.name === 'undefined' || n.name === 'NaN' || n.name === 'Infinity';
    case 'TemplateLiteral':
      return (n.expressions as Node[]).every(isData);
    case 'ArrayExpression':
      return (n.elements as (Node | null)[]).every(
        (e) => e === null || isData(e.type === 'SpreadElement' ? (e.argument as Node) : e),
      );
    case 'ObjectExpression':
      return (n.properties as Node[]).every(
        (p) =>
          p.type === 'Property' &&
          p.kind === 'init' &&
          p.method !== true &&
          (!p.computed || (p.key as Node).type === 'Literal') &&
          isData(p.value as Node),
      );
    case 'UnaryExpression':
      return n.operator !== 'delete' && isData(n.argument as Node);
    case 'BinaryExpression':
    case 'LogicalExpression':
      return isData(n.left as Node) && isData(n.right as Node);
    case 'ConditionalExpression':
      return isData(n.test as Node) && isData(n.consequent as Node) && isData(n.alternate as Node);
    case 'MemberExpression':
      return builtinRead(n);
    case 'NewExpression':
    case 'CallExpression': {
      const callee = unwrap(n.callee as Node);
      const args = (n.arguments as Node[]).every((a) => a.type !== 'SpreadElement' && isData(a));
      // a regular expression built from literals is one
      if (callee.type === 'Identifier') return callee.name === 'RegExp' && args;
      return args && pureCall(n, isData);
    }
    default:
      return false;
  }
}

/** Data whose value is a primitive: any use of it is a read. */
export function isPrimitive(n: Node): boolean {
  n = unwrap(n);
  switch (n.type) {
    case 'Literal':
      return n.regex === undefined || n.regex === null;
    case 'Identifier':
      return n.name === 'undefined' || n.name === 'NaN' || n.name === 'Infinity';
    case 'TemplateLiteral':
      return (n.expressions as Node[]).every(isData);
    case 'UnaryExpression':
      return n.operator !== 'delete' && isData(n.argument as Node);
    case 'BinaryExpression':
      // arithmetic, comparison and string concatenation of data give primitives
      return isData(n.left as Node) && isData(n.right as Node);
    case 'LogicalExpression':
      return isPrimitive(n.left as Node) && isPrimitive(n.right as Node);
    case 'ConditionalExpression':
      return isData(n.test as Node) && isPrimitive(n.consequent as Node) && isPrimitive(n.alternate as Node);
    case 'MemberExpression': {
      // Math.PI, Number.MAX_SAFE_INTEGER: constants of the realm
      const obj = n.object as Node;
      return !n.computed && obj.type === 'Identifier' && (obj.name === 'Math' || obj.name === 'Number');
    }
    case 'CallExpression': {
      const callee = unwrap(n.callee as Node);
      if (callee.type !== 'MemberExpression' || callee.computed) return false;
      const name = (callee.property as Node).name as string;
      return isData(n) && name !== 'split' && name !== 'freeze';
    }
    default:
      return false;
  }
}

/** `String.prototype.split`, `Math.PI`: a non-computed property chain from a built-in global. */
function builtinRead(n: Node): boolean {
  let cur = n;
  while (cur.type === 'MemberExpression') {
    if (cur.computed || (cur.property as Node).type !== 'Identifier') return false;
    cur = unwrap(cur.object as Node);
  }
  return cur.type === 'Identifier' && BUILTIN_ROOTS.has(cur.name as string);
}

/** `"0".charCodeAt(0)`, `String.fromCharCode(9)`, `Object.freeze({...})`: calls that only compute from their arguments. */
function pureCall(n: Node, ok: (x: Node) => boolean): boolean {
  if (n.type !== 'CallExpression') return false;
  const callee = unwrap(n.callee as Node);
  if (callee.type !== 'MemberExpression' || callee.computed) return false;
  const prop = (callee.property as Node).name as string;
  const obj = unwrap(callee.object as Node);
  if (obj.type === 'Literal' && typeof obj.value === 'string') return PURE_STRING_METHODS.has(prop);
  if (obj.type === 'Identifier') return PURE_STATICS[obj.name as string]?.has(prop) === true;
  return ok(obj) && obj.type === 'TemplateLiteral' && PURE_STRING_METHODS.has(prop);
}
