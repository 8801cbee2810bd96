/**
 * Forwarding: how a function's entry check passes its call on to a
 * replacement. Explicit parameters when the list is simple; `arguments`
 * where the function already has it; for an arrow (which has no
 * `arguments`) each position, a destructured parameter becoming a temporary
 * destructured again at the top of the body — refused, and the function
 * left unarmed, where that would change what the parameter's defaults see.
 */

import type { Forwarding, FunctionInfo } from './analysis-types.ts';
import type { Node } from './estree.ts';
import { movesIntoBody, paramMoveHazard } from './scope-hazards.ts';
import { eachChild, TYPE_KEYS } from './syntax.ts';

const NO_NAMES: Set<string> = new Set();

/** Decide how the entry check passes the call on (see loader.md, "Forwarding"). */
export function planForwarding(
  info: FunctionInfo,
  params: Node[],
  body: Node,
  isArrow: boolean,
  source: string,
): Forwarding {
  const names: string[] = [];
  let simple = true;
  for (const p of params) {
    if (p.type === 'Identifier') {
      if (p.name === 'this') continue; // TypeScript's `this` parameter
      names.push(p.name as string);
    } else simple = false;
  }
  if (simple) return { mode: 'params', names };
  if (!isArrow) return { mode: 'arguments' };
  // Arrows have no `arguments`: forward each position. A destructured
  // parameter becomes a temporary destructured again at the top of the body.
  let declared: Set<string> = NO_NAMES;
  if (params.some(movesIntoBody)) {
    if (body.type === 'BlockStatement') declared = declaredNames(body, new Set());
    const hazard = paramMoveHazard(params, body, declared, source);
    if (hazard !== null) {
      info.unpatchable = `an arrow function whose destructured parameters cannot move into its body: ${hazard}`;
      return { mode: 'params', names: [] };
    }
  }
  names.length = 0;
  let k = 0;
  for (const p of params) {
    if (p.type === 'Identifier') names.push(p.name as string);
    else if (p.type === 'RestElement' && (p.argument as Node).type === 'Identifier')
      names.push('...' + ((p.argument as Node).name as string));
    else if (p.type === 'AssignmentPattern' && (p.left as Node).type === 'Identifier')
      names.push((p.left as Node).name as string);
    else {
      const pattern =
        p.type === 'AssignmentPattern' ? (p.left as Node) : p.type === 'RestElement' ? (p.argument as Node) : p;
      if (hasLaterDefault(params, p)) {
        info.unpatchable =
          'an arrow function with a default value after a destructured parameter cannot forward its call';
        return { mode: 'params', names: [] };
      }
      const temp = `$lpp${k++}`;
      // Default values move into the body as text, evaluated there in the same
      // order; they must hold no functions of their own (those are armed where
      // they stand), no line break (lines do not move), and read no name the
      // body declares (in the body it would resolve to the body's binding).
      const inBody = declared;
      const movable = (expr: Node): string | null => {
        const text = source.slice(expr.start as number, expr.end as number);
        if (/=>|function|class/.test(text) || text.includes('\n')) return null;
        for (const name of identifierNames(expr, new Set())) if (inBody.has(name)) return null;
        return text;
      };
      const init = p.type === 'AssignmentPattern' ? movable(p.right as Node) : null;
      const printed = printPattern(pattern, movable);
      if ((p.type === 'AssignmentPattern' && init === null) || printed === null) {
        info.unpatchable =
          'an arrow function whose destructured parameter cannot be moved into its body (computed keys, or a default value that holds a function, spans lines or reads a name the body declares)';
        return { mode: 'params', names: [] };
      }
      const original = strippedParameter(p, source);
      if (original === null) {
        info.unpatchable =
          'an arrow function whose destructured parameter holds TypeScript syntax besides its type annotation';
        return { mode: 'params', names: [] };
      }
      info.paramRewrites = [
        ...info.paramRewrites,
        {
          start: p.start,
          end: p.end,
          original,
          temp: p.type === 'RestElement' ? '...' + temp : temp,
          pattern: printed,
          init,
          errorPattern: pattern.type === 'ObjectPattern' ? firstKeyPattern(pattern) : null,
          // the parameter's line breaks stay where they were: lines do not move
          newlines: original.split('\n').length - 1,
        },
      ];
      names.push(p.type === 'RestElement' ? '...' + temp : temp);
    }
  }
  return { mode: 'params', names };
}

/**
 * A parameter's text as V8 sees it once Node has stripped the types: its
 * type annotation blanked (Node's stripping replaces types with spaces, so
 * toString() shows the blanks), or null when it holds other TypeScript
 * syntax (in a default value), which the rewrite does not reproduce.
 */
function strippedParameter(p: Node, source: string): string | null {
  const start = p.start as number;
  let text = source.slice(start, p.end as number);
  const holder = p.type === 'AssignmentPattern' ? (p.left as Node) : p;
  const annotation = holder.typeAnnotation as Node | null | undefined;
  if (annotation) {
    const a = (annotation.start as number) - start;
    const b = (annotation.end as number) - start;
    text = text.slice(0, a) + text.slice(a, b).replace(/[^\n\r\u2028\u2029]/g, ' ') + text.slice(b);
  }
  return hasTypeSyntax(p, annotation ?? null) ? null : text;
}

/** Some TypeScript node in the subtree, other than `except`. */
function hasTypeSyntax(node: Node, except: Node | null): boolean {
  if ((node.type as string).startsWith('TS')) return true;
  for (const key of TYPE_KEYS) {
    const v = (node as Record<string, unknown>)[key];
    if (v != null && v !== except) return true;
  }
  let found = false;
  eachChild(node, (c) => {
    if (!found) found = hasTypeSyntax(c, except);
  });
  return found;
}

/** An object pattern with only its first key, as V8 names it in a destructuring error (`{}` when there is none). */
function firstKeyPattern(p: Node): string {
  const first = (p.properties as Node[])[0];
  if (first === undefined || first.type === 'RestElement' || first.computed) return '{}';
  const key = first.key as Node;
  return `{${key.type === 'Identifier' ? (key.name as string) : JSON.stringify(key.value)}:$lpz}`;
}

/** A binding pattern on one line; default values as `movable` gives them (null: cannot be moved). */
function printPattern(p: Node, movable: (expr: Node) => string | null): string | null {
  switch (p.type) {
    case 'Identifier':
      return p.name as string;
    case 'ObjectPattern': {
      const parts: string[] = [];
      for (const prop of p.properties as Node[]) {
        if (prop.type === 'RestElement') {
          const a = printPattern(prop.argument as Node, movable);
          if (a === null) return null;
          parts.push('...' + a);
          continue;
        }
        const key = prop.key as Node;
        let keyText: string;
        if (prop.computed) return null;
        if (key.type === 'Identifier') keyText = key.name as string;
        else if (key.type === 'Literal') keyText = JSON.stringify(key.value);
        else return null;
        const v = printPattern(prop.value as Node, movable);
        if (v === null) return null;
        parts.push(prop.shorthand ? v : keyText + ':' + v);
      }
      return '{' + parts.join(',') + '}';
    }
    case 'ArrayPattern': {
      const parts: string[] = [];
      for (const el of p.elements as (Node | null)[]) {
        if (el === null) {
          parts.push('');
          continue;
        }
        const v = printPattern(el, movable);
        if (v === null) return null;
        parts.push(v);
      }
      return '[' + parts.join(',') + ']';
    }
    case 'RestElement': {
      const a = printPattern(p.argument as Node, movable);
      return a === null ? null : '...' + a;
    }
    case 'AssignmentPattern': {
      const left = printPattern(p.left as Node, movable);
      const right = movable(p.right as Node);
      return left === null || right === null ? null : left + '=' + right;
    }
    default:
      return null;
  }
}

/**
 * The names a function body declares, nested blocks included (an
 * over-approximation of what its top-level scope binds); nested functions
 * and classes are not entered.
 */
function declaredNames(node: Node, out: Set<string>): Set<string> {
  switch (node.type) {
    case 'VariableDeclarator':
      identifierNames(node.id as Node, out);
      if (node.init) declaredNames(node.init as Node, out);
      return out;
    case 'FunctionDeclaration':
    case 'ClassDeclaration':
      if (node.id) out.add((node.id as Node).name as string);
      return out;
    case 'FunctionExpression':
    case 'ArrowFunctionExpression':
    case 'ClassExpression':
      return out;
  }
  eachChild(node, (c) => declaredNames(c, out));
  return out;
}

/** Every identifier name in an expression (references and property names alike: an over-approximation). */
function identifierNames(node: Node, out: Set<string>): Set<string> {
  if (node.type === 'Identifier' || node.type === 'JSXIdentifier') out.add(node.name as string);
  eachChild(node, (c) => identifierNames(c, out));
  return out;
}

/** A default value after a destructured parameter could read the names it binds. */
function hasLaterDefault(params: Node[], p: Node): boolean {
  let after = false;
  for (const q of params) {
    if (q === p) {
      after = true;
      continue;
    }
    if (after && q.type === 'AssignmentPattern') return true;
  }
  return false;
}
