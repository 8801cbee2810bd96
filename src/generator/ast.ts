/**
 * What the build reads off the ESTree oxc produces, beyond the syntax
 * knowledge it shares with the loader (src/instrument/syntax.ts: children,
 * function and type-only nodes, wrappers): a structural key (what a piece of
 * code means, without positions, comments, formatting or types), and the
 * place of every function in its module (the node, the member it defines,
 * its class).
 */

import type { Node, Program } from '../instrument/estree.ts';
import {
  eachChild,
  FUNCTION_TYPES,
  isNode,
  isTypeOnly,
  NOT_CODE_KEYS,
  TRANSPARENT_TYPES,
  unwrap,
} from '../instrument/syntax.ts';

export type { Node, Program };

/**
 * A string that is equal for two pieces of code iff they do the same thing
 * as far as a patch is concerned: positions, comments, formatting, quotes and
 * types do not count; a function inside counts by its identity (`fn`
 * returns a name for it), so a change inside a function is not a change of
 * the code around it.
 */
export function structuralKey(node: Node, fn: (n: Node) => string | undefined): string {
  const parts: string[] = [];
  const visit = (n: Node): void => {
    if (TRANSPARENT_TYPES.has(n.type)) return visit(n.expression as Node);
    if (isTypeOnly(n)) {
      parts.push('~');
      return;
    }
    if (FUNCTION_TYPES.has(n.type)) {
      const name = fn(n);
      if (name !== undefined) {
        parts.push(`ƒ(${name})`);
        return;
      }
    }
    if (n.type === 'TemplateElement') {
      // raw, not cooked: String.raw and other tags see the escapes
      parts.push(`\`${JSON.stringify((n.value as { raw: string }).raw)}`);
      return;
    }
    if (n.type === 'Literal') {
      const regex = n.regex as { pattern: string; flags: string } | undefined;
      if (regex) parts.push(`/${regex.pattern}/${regex.flags}`);
      else if (typeof n.bigint === 'string') parts.push(`${n.bigint}n`);
      else parts.push(typeof n.value === 'string' ? JSON.stringify(n.value) : String(n.value));
      return;
    }
    parts.push(n.type, '{');
    for (const key in n) {
      if (NOT_CODE_KEYS.has(key)) continue;
      // `optional` is TypeScript's `x?:` on identifiers and members, but `?.` on calls and members
      if (key === 'optional' && n.type !== 'MemberExpression' && n.type !== 'CallExpression') continue;
      const v = n[key];
      if (key === 'type' || v === undefined) continue;
      parts.push(key, ':');
      if (Array.isArray(v)) {
        parts.push('[');
        for (const c of v) {
          if (isNode(c)) visit(c);
          else parts.push(JSON.stringify(c) ?? 'u');
          parts.push(',');
        }
        parts.push(']');
      } else if (isNode(v)) visit(v);
      else if (v === null || typeof v !== 'object')
        parts.push(typeof v === 'bigint' ? `${v}n` : (JSON.stringify(v) ?? 'u'));
      else parts.push(JSON.stringify(v) ?? 'o');
      parts.push(';');
    }
    parts.push('}');
  };
  visit(node);
  return parts.join('');
}

/**
 * `structuralKey(a, fa) === structuralKey(b, fb)`, without building the keys:
 * both trees are walked together and the walk stops at the first
 * difference (a large function that changed in one place is not read to its
 * end, twice, as strings).
 */
export function sameStructure(
  a: Node,
  b: Node,
  fa: (n: Node) => string | undefined,
  fb: (n: Node) => string | undefined,
  /** string literals that count as the same (a version bump's own version string) */
  sameString?: (x: string, y: string) => boolean,
): boolean {
  const same = (x: Node, y: Node): boolean => {
    while (TRANSPARENT_TYPES.has(x.type)) x = x.expression as Node;
    while (TRANSPARENT_TYPES.has(y.type)) y = y.expression as Node;
    const tx = isTypeOnly(x);
    if (tx || isTypeOnly(y)) return tx && isTypeOnly(y);
    if (FUNCTION_TYPES.has(x.type) || FUNCTION_TYPES.has(y.type)) {
      const nx = FUNCTION_TYPES.has(x.type) ? fa(x) : undefined;
      const ny = FUNCTION_TYPES.has(y.type) ? fb(y) : undefined;
      if (nx !== undefined || ny !== undefined) return nx === ny;
    }
    if (x.type !== y.type) return false;
    if (x.type === 'TemplateElement') return (x.value as { raw: string }).raw === (y.value as { raw: string }).raw;
    if (x.type === 'Literal') {
      const rx = x.regex as { pattern: string; flags: string } | undefined;
      const ry = y.regex as { pattern: string; flags: string } | undefined;
      if (rx || ry) return rx !== undefined && ry !== undefined && rx.pattern === ry.pattern && rx.flags === ry.flags;
      if (typeof x.bigint === 'string' || typeof y.bigint === 'string') return x.bigint === y.bigint;
      if (
        sameString !== undefined &&
        typeof x.value === 'string' &&
        typeof y.value === 'string' &&
        sameString(x.value, y.value)
      )
        return true;
      return Object.is(x.value, y.value);
    }
    for (const key in x) {
      if (NOT_CODE_KEYS.has(key) || key === 'type') continue;
      if (key === 'optional' && x.type !== 'MemberExpression' && x.type !== 'CallExpression') continue;
      const vx = x[key];
      const vy = y[key];
      if (Array.isArray(vx)) {
        if (!Array.isArray(vy) || vx.length !== vy.length) return false;
        for (let i = 0; i < vx.length; i++) {
          const cx = vx[i] as unknown;
          const cy = vy[i] as unknown;
          if (isNode(cx) && isNode(cy)) {
            if (!same(cx, cy)) return false;
          } else if (cx !== cy && !(cx == null && cy == null)) return false;
        }
      } else if (isNode(vx)) {
        if (!isNode(vy) || !same(vx, vy)) return false;
      } else if (vx !== vy && !(vx == null && vy == null)) {
        // a plain object that is not a node (none is expected besides the ones handled above): compare its data
        if (typeof vx !== 'object' || typeof vy !== 'object' || JSON.stringify(vx) !== JSON.stringify(vy)) return false;
      }
    }
    return true;
  };
  return same(a, b);
}

/** Where a function sits: what the build needs beyond the loader's FunctionInfo. */
export interface FunctionSite {
  readonly node: Node;
  /** the MethodDefinition, Property or PropertyDefinition whose value it is, if any */
  readonly owner: Node | null;
  /** the class whose member it is (a method, accessor, constructor or field initializer) */
  readonly classNode: Node | null;
  /** that class's name as a top-level binding of the module, if it has one */
  readonly classBinding: string | null;
  /** the nearest statement around it (for telling apart functions that share a name) */
  readonly statement: Node | null;
}

/** Every function node of a module by its start offset (the loader's FunctionInfo.start). */
export function functionSites(program: Program): Map<number, FunctionSite> {
  const sites = new Map<number, FunctionSite>();
  const topClass = new Map<Node, string>();
  for (const st of program.body) {
    const d =
      st.type === 'ExportNamedDeclaration' || st.type === 'ExportDefaultDeclaration'
        ? (st.declaration as Node | null)
        : st;
    if (d === null || d === undefined) continue;
    if (d.type === 'ClassDeclaration' && d.id) topClass.set(d, (d.id as Node).name as string);
    if (d.type === 'VariableDeclaration') {
      for (const decl of d.declarations as Node[]) {
        const init = decl.init ? unwrap(decl.init as Node) : null;
        if (init?.type === 'ClassExpression' && (decl.id as Node).type === 'Identifier')
          topClass.set(init, (decl.id as Node).name as string);
      }
    }
  }
  const visit = (n: Node, parent: Node | null, klass: Node | null, statement: Node | null): void => {
    if (FUNCTION_TYPES.has(n.type)) {
      const owner =
        parent !== null &&
        (parent.type === 'MethodDefinition' ||
          parent.type === 'Property' ||
          parent.type === 'PropertyDefinition' ||
          parent.type === 'AccessorProperty')
          ? parent
          : null;
      const inClass = owner !== null && owner.type !== 'Property' ? klass : null;
      sites.set(n.start, {
        node: n,
        owner,
        classNode: inClass,
        classBinding: inClass !== null ? (topClass.get(inClass) ?? null) : null,
        statement,
      });
    }
    const isClass = n.type === 'ClassDeclaration' || n.type === 'ClassExpression';
    const st = n.type.endsWith('Statement') || n.type.endsWith('Declaration') ? n : statement;
    eachChild(n, (c) => {
      // members of a class body see that class; anything deeper (inside a method) does not
      const k = isClass
        ? n
        : n.type === 'ClassBody' ||
            n.type === 'MethodDefinition' ||
            n.type === 'PropertyDefinition' ||
            n.type === 'AccessorProperty'
          ? klass
          : null;
      visit(c, n, k, st);
    });
  };
  visit(program, null, null, null);
  return sites;
}
