/**
 * Qualified names: how a function's place in the program names it (the
 * symbol table's identities, R3.5's names before sympos): `parse`,
 * `Router.prototype.handle`, `Cache.prototype.get size`, `api.get`,
 * `exports.parse`, `["content-type"]`.
 */

import type { Node } from './estree.ts';

export function join(base: string, key: string): string {
  return key.startsWith('[') ? base + key : base + '.' + key;
}

export function accessorName(full: string, kind: string): string {
  const i = Math.max(full.lastIndexOf('.'), full.lastIndexOf('/'));
  return full.slice(0, i + 1) + kind + ' ' + full.slice(i + 1);
}

/** The name a property key gives a member: `m`, `#m`, `["content-type"]`, `[Symbol.iterator]`. */
export function memberName(key: Node, computed: boolean, source: string): string {
  if (!computed) {
    if (key.type === 'Identifier') return key.name as string;
    if (key.type === 'PrivateIdentifier') return '#' + (key.name as string);
    if (key.type === 'Literal') {
      const v = key.value;
      if (typeof v === 'string') return /^[A-Za-z_$][\w$]*$/.test(v) ? v : '[' + JSON.stringify(v) + ']';
      return '[' + String(v) + ']';
    }
  }
  const text = source.slice(key.start as number, key.end as number);
  return '[' + (text.length <= 60 ? text.replace(/\s+/g, ' ') : '<computed>') + ']';
}

/** The name of an assignment target that names the value: `exports.parse`, `Foo.prototype.bar`. */
export function targetName(left: Node, source: string): string | null {
  if (left.type === 'Identifier') return left.name as string;
  if (left.type === 'MemberExpression') {
    const obj = left.object as Node;
    const objName = obj.type === 'ThisExpression' ? 'this' : targetName(obj, source);
    if (objName === null) return null;
    return join(objName, memberName(left.property as Node, left.computed as boolean, source));
  }
  return null;
}
