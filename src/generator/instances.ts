/**
 * The initial state a constructor gives every object: `this.x = <value>`
 * statements at the top of its body. When a fix changes one whose value
 * does not depend on the call (no parameter, no local, no `this`), every
 * object made before the patch keeps the old initial value — the fix would
 * not reach them (`this.idx = {}` becoming `Object.create(null)` leaves the
 * running stores open to prototype pollution): plan.ts refuses it. A value
 * computed from the arguments is per-call logic, which a replaced
 * constructor applies to the objects it makes from then on; a new property
 * is noted (the objects made before do not have it, like a new field).
 */

import { boundNames, eachChild, FUNCTION_TYPES, unwrap } from '../instrument/syntax.ts';
import { structuralKey, type Node } from './ast.ts';

export interface InstanceInit {
  /** the value's expression */
  readonly node: Node;
  /** what the value is (structural key, functions abstracted) */
  readonly key: string;
  /** the value depends on nothing of the call: every object gets the same */
  readonly fixed: boolean;
}

export function instanceInits(fn: Node): Map<string, InstanceInit> {
  const out = new Map<string, InstanceInit>();
  const body = fn.body as Node | null;
  if (body?.type !== 'BlockStatement') return out;
  const locals = new Set<string>(['arguments']);
  for (const p of fn.params as Node[]) boundNames(p, locals);
  for (const st of body.body as Node[]) {
    if (st.type === 'VariableDeclaration') for (const d of st.declarations as Node[]) boundNames(d.id as Node, locals);
    else if ((st.type === 'FunctionDeclaration' || st.type === 'ClassDeclaration') && st.id)
      locals.add((st.id as Node).name as string);
  }
  for (const st of body.body as Node[]) {
    if (st.type !== 'ExpressionStatement') continue;
    const e = unwrap(st.expression as Node);
    if (e.type !== 'AssignmentExpression' || e.operator !== '=') continue;
    const left = unwrap(e.left as Node);
    if (left.type !== 'MemberExpression' || unwrap(left.object as Node).type !== 'ThisExpression') continue;
    const p = left.property as Node;
    const prop =
      !left.computed && p.type === 'Identifier'
        ? (p.name as string)
        : p.type === 'Literal' && typeof p.value === 'string'
          ? p.value
          : null;
    if (prop === null) continue;
    const value = e.right as Node;
    out.set(prop, { node: value, key: structuralKey(value, () => 'ƒ'), fixed: !dependsOnCall(value, locals) });
  }
  return out;
}

/** Whether an expression reads a parameter, a local, `this` or `arguments` (functions inside it do not count: they are values). */
function dependsOnCall(n: Node, locals: ReadonlySet<string>): boolean {
  let found = false;
  const visit = (x: Node, parent: Node | null): void => {
    if (found) return;
    if (FUNCTION_TYPES.has(x.type)) return;
    if (x.type === 'ThisExpression' || x.type === 'Super') {
      found = true;
      return;
    }
    if (x.type === 'Identifier') {
      // a property name (`a.b`, `{ b: 1 }`) is not a variable
      const isKey =
        parent !== null &&
        ((parent.type === 'MemberExpression' && parent.property === x && !parent.computed) ||
          (parent.type === 'Property' && parent.key === x && !parent.computed && !parent.shorthand));
      if (!isKey && locals.has(x.name as string)) found = true;
      return;
    }
    eachChild(x, (c) => visit(c, x));
  };
  visit(n, null);
  return found;
}
