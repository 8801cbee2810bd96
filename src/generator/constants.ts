/**
 * Who uses a module-level constant, and how: what decides whether a
 * changed constant can be defined anew by the patch.
 *
 * The patch declares the new value in the patch module, and every function
 * that reads the constant is replaced by one that reads the patch's. That is
 * sound only if the running value never got anywhere a replaced function
 * cannot reach, and nobody changes it:
 * - every use is inside a function that runs after loading (`init`: module
 *   initialization, a class's field initializer or static block, a function
 *   that runs once at load — they computed something from the old value);
 * - an object or array is only read: property reads, non-mutating methods,
 *   `in`, iteration, spreading into a new value (`mutate`: a write, a delete,
 *   `push`; `escape`: passed to a function, stored, returned — whoever got it
 *   keeps the old object);
 * - a regular expression may also be passed to a call (`str.replace(RE, …)`),
 *   its `lastIndex` is its only state;
 * - a primitive can be used in any way.
 */

import type { FunctionInfo } from '../instrument/analysis-types.ts';
import { eachChild, FUNCTION_TYPES, isTypeOnly, unwrap } from '../instrument/syntax.ts';
import type { Node } from './ast.ts';
import { codeUses } from './scope.ts';
import { lineAt, type ModuleVersion } from './version.ts';

export type UseKind = 'read' | 'mutate' | 'escape' | 'init';

export interface ConstantUse {
  readonly name: string;
  readonly start: number;
  readonly line: number;
  /** the innermost function the use is in (null: module initialization) */
  readonly fn: FunctionInfo | null;
  readonly kind: UseKind;
  /** what the use is, for a refusal */
  readonly what: string;
}

/** Methods that read an array, object, string or regular expression without changing it. */
const READING_METHODS = new Set([
  'at',
  'concat',
  'entries',
  'every',
  'filter',
  'find',
  'findIndex',
  'findLast',
  'findLastIndex',
  'flat',
  'flatMap',
  'forEach',
  'includes',
  'indexOf',
  'join',
  'keys',
  'lastIndexOf',
  'map',
  'reduce',
  'reduceRight',
  'slice',
  'some',
  'toString',
  'toLocaleString',
  'values',
  'hasOwnProperty',
  'propertyIsEnumerable',
  'isPrototypeOf',
  'valueOf',
  'toSorted',
  'toReversed',
  'toSpliced',
  'with',
  'test',
  'exec',
  'charAt',
  'charCodeAt',
  'has',
  'get',
]);

/** Static functions that only read their arguments. */
const READING_STATICS: Record<string, ReadonlySet<string>> = {
  Object: new Set([
    'keys',
    'values',
    'entries',
    'getOwnPropertyNames',
    'getOwnPropertySymbols',
    'getOwnPropertyDescriptor',
    'getOwnPropertyDescriptors',
    'getPrototypeOf',
    'isFrozen',
    'isSealed',
    'isExtensible',
    'hasOwn',
    'is',
  ]),
  Array: new Set(['isArray', 'from']),
  JSON: new Set(['stringify']),
  Reflect: new Set(['ownKeys', 'has', 'get', 'getOwnPropertyDescriptor', 'getPrototypeOf']),
};
const READING_GLOBALS = new Set([
  'String',
  'Number',
  'Boolean',
  'isNaN',
  'isFinite',
  'encodeURIComponent',
  'encodeURI',
]);

/**
 * Every use of the module-level bindings `names` in `v`, classified for a
 * value of kind `value`. `loadTime`: starts of functions that run when the
 * module loads (their uses count as initialization).
 */
export function constantUses(
  v: ModuleVersion,
  names: ReadonlyMap<string, 'primitive' | 'regexp' | 'object'>,
  loadTime: ReadonlySet<number>,
): ConstantUse[] {
  // the free references to these names, by position: a local of the same name is not one
  const refs = new Map<number, string>();
  for (const st of v.program.body) {
    if (isTypeOnly(st)) continue;
    for (const r of codeUses(st).refs) if (names.has(r.name)) refs.set(r.start, r.name);
  }
  if (refs.size === 0) return [];
  const byStart = new Map<number, FunctionInfo>();
  for (const f of v.analysis.functions) byStart.set(f.start, f);
  const out: ConstantUse[] = [];
  const stack: Node[] = [];
  const visit = (n: Node): void => {
    if (n.type === 'Identifier' && refs.has(n.start)) {
      const name = refs.get(n.start)!;
      refs.delete(n.start);
      out.push(classify(n, name, names.get(name)!));
    }
    stack.push(n);
    eachChild(n, visit);
    stack.pop();
  };

  const classify = (id: Node, name: string, value: 'primitive' | 'regexp' | 'object'): ConstantUse => {
    const line = lineAt(v, id.start);
    // the innermost function, and whether a class initializer stands between it and the use
    let fn: FunctionInfo | null = null;
    let inInit = false;
    for (let i = stack.length - 1; i >= 0; i--) {
      const a = stack[i]!;
      if (FUNCTION_TYPES.has(a.type)) {
        fn = byStart.get(a.start) ?? null;
        break;
      }
      // a field initializer runs when an instance is made, a static block or computed key when the class is
      if (
        a.type === 'StaticBlock' ||
        a.type === 'PropertyDefinition' ||
        a.type === 'AccessorProperty' ||
        (a.type === 'MethodDefinition' && a.computed === true)
      )
        inInit = true;
    }
    const use = (kind: UseKind, what: string): ConstantUse => ({ name, start: id.start, line, fn, kind, what });
    if (inInit) return use('init', `a class's initializer reads '${name}'`);
    if (fn === null) return use('init', `the module's initialization reads '${name}'`);
    if (loadTime.has(fn.start)) return use('init', `'${fn.name}', which runs when the module loads, reads '${name}'`);
    if (value === 'primitive') return use('read', 'reads it');
    return context(id, name, value, stack, use);
  };

  for (const st of v.program.body) if (!isTypeOnly(st)) visit(st);
  return out;
}

type Use = (kind: UseKind, what: string) => ConstantUse;

/** How the expression around a reference to an object or regular expression uses it. */
function context(id: Node, name: string, value: 'regexp' | 'object', stack: readonly Node[], use: Use): ConstantUse {
  let i = stack.length - 1;
  let node: Node = id;
  let parent = stack[i]!;
  // skip what does nothing at run time: (x), x as T
  while (parent.type === 'ParenthesizedExpression' || parent.type.startsWith('TS')) {
    node = parent;
    parent = stack[--i]!;
  }
  if (parent.type === 'MemberExpression' && parent.object === node) {
    // the outermost member of the chain `NAME.a.b`
    let top: Node = parent;
    let j = i - 1;
    while (j >= 0 && stack[j]!.type === 'MemberExpression' && stack[j]!.object === top) top = stack[j--]!;
    const around = stack[j];
    const method = top.computed ? null : (((top.property as Node).name as string | undefined) ?? null);
    if (around === undefined) return use('read', 'reads it');
    if (value === 'regexp') return use('read', 'reads it');
    if (
      (around.type === 'AssignmentExpression' && around.left === top) ||
      around.type === 'UpdateExpression' ||
      (around.type === 'UnaryExpression' && around.operator === 'delete')
    ) {
      return use(
        'mutate',
        `changes ${name}${top === parent ? '' : '…'} (${around.type === 'UnaryExpression' ? 'delete' : 'an assignment'})`,
      );
    }
    if ((around.type === 'ForInStatement' || around.type === 'ForOfStatement') && around.left === top)
      return use('mutate', `assigns a property of ${name} in a loop`);
    if (around.type === 'CallExpression' && around.callee === top) {
      return method !== null && READING_METHODS.has(method)
        ? use('read', `calls ${name}.${method}()`)
        : use('mutate', `calls ${name}${top === parent ? '' : '…'}.${method ?? '[…]'}(), which may change it`);
    }
    return use('read', 'reads a property');
  }
  switch (parent.type) {
    case 'BinaryExpression':
    case 'TemplateLiteral':
    case 'SpreadElement':
    case 'IfStatement':
    case 'WhileStatement':
    case 'DoWhileStatement':
    case 'SwitchStatement':
    case 'SwitchCase':
      return use('read', 'reads it');
    case 'UnaryExpression':
      return parent.operator === 'delete' ? use('mutate', 'deletes it') : use('read', 'reads it');
    case 'ConditionalExpression':
      return parent.test === node
        ? use('read', 'tests it')
        : use('escape', `passes ${name} on (a conditional expression's value)`);
    case 'ForInStatement':
    case 'ForOfStatement':
      return parent.right === node ? use('read', 'iterates over it') : use('mutate', 'assigns it');
    case 'CallExpression':
    case 'NewExpression': {
      if (parent.callee === node) return use('escape', `calls ${name}`);
      if (value === 'regexp') return use('read', 'passes the regular expression to a call');
      const callee = unwrap(parent.callee as Node);
      if (callee.type === 'Identifier' && READING_GLOBALS.has(callee.name as string)) return use('read', 'reads it');
      if (callee.type === 'MemberExpression' && !callee.computed && (callee.object as Node).type === 'Identifier') {
        const ns = (callee.object as Node).name as string;
        const fn = (callee.property as Node).name as string;
        if (READING_STATICS[ns]?.has(fn) === true) return use('read', `passes it to ${ns}.${fn}()`);
        // Object.assign(target, NAME): copies from it
        if (ns === 'Object' && fn === 'assign' && (parent.arguments as Node[])[0] !== node)
          return use('read', 'copies from it');
      }
      return use('escape', `passes ${name} to a function, which may keep or change it`);
    }
    default:
      return use('escape', `passes ${name} on (${describe(parent)})`);
  }
}

function describe(n: Node): string {
  switch (n.type) {
    case 'ReturnStatement':
      return 'returns it';
    case 'VariableDeclarator':
      return 'stores it in a variable';
    case 'AssignmentExpression':
      return 'stores it';
    case 'Property':
      return 'stores it in an object';
    case 'ArrayExpression':
      return 'stores it in an array';
    case 'LogicalExpression':
      return "a logical expression's value";
    default:
      return n.type;
  }
}

/**
 * Functions that run when the module loads: those the loader found run
 * once (immediately invoked at the top level), and the factory a UMD
 * wrapper calls (`(function (root, factory) {...})(this, function () {...})`).
 */
export function loadTimeFunctions(v: ModuleVersion): Set<number> {
  const out = new Set<number>();
  for (const f of v.analysis.functions) if (f.runsOnce) out.add(f.start);
  const calls = (n: Node): void => {
    n = unwrap(n);
    if (n.type === 'UnaryExpression' || n.type === 'SequenceExpression') {
      for (const c of (n.type === 'SequenceExpression' ? n.expressions : [n.argument]) as Node[]) calls(c);
      return;
    }
    if (n.type === 'AssignmentExpression') return calls(n.right as Node);
    if (n.type !== 'CallExpression') return;
    const callee = unwrap(n.callee as Node);
    // (function () {...}).call(this, ...)
    const fn =
      callee.type === 'MemberExpression' &&
      !callee.computed &&
      ['call', 'apply'].includes((callee.property as Node).name as string)
        ? unwrap(callee.object as Node)
        : callee;
    if (!FUNCTION_TYPES.has(fn.type)) return;
    out.add(fn.start);
    for (const a of n.arguments as Node[]) if (FUNCTION_TYPES.has(unwrap(a).type)) out.add(unwrap(a).start);
  };
  for (const st of v.program.body) {
    if (st.type === 'ExpressionStatement') calls(st.expression as Node);
  }
  return out;
}
