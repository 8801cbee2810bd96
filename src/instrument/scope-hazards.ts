/**
 * Scope hazards: where one of the loader's rewrites would change what a
 * function's declarations mean. Two rewrites move code across a scope
 * boundary:
 *
 * - frame records wrap the body of an async function or generator in
 *   `try{…}finally{…}`, a block: at a function body's top level a function
 *   declaration is var-scoped, in a block it is lexical (ECMA-262 §8.2.4
 *   and §B.3.2);
 * - an arrow's destructured parameter becomes a temporary, destructured
 *   again by a `var` at the top of the body.
 *
 * A function with such a hazard is left unarmed (unpatchable, with the
 * reason): its text stays as written, so it means what it meant — and an
 * early error in it is still V8's to report, where the rewrite would have
 * hidden it (a program that does not load plain must not load armed).
 * test262's parser tests run through the transform found the hidden early
 * errors (test/instrument/syntax-corpus.test.ts); every hazard has a case
 * in test/instrument/transform.test.ts.
 */

import type { Node } from './estree.ts';
import { boundNames } from './syntax.ts';

/**
 * Why the body of this function cannot be wrapped (`wrapped`: an async
 * function or generator) or armed at all, or null. `declarations`: the
 * function, class and let/const declarations at the top of the body (the
 * analysis notes them while hoisting, so a function without any costs
 * nothing here); `strict`: the function's code is strict.
 */
export function bodyHazard(
  params: readonly Node[],
  declarations: readonly Node[],
  body: Node,
  source: string,
  strict: boolean,
  wrapped: boolean,
): string | null {
  const statements = body.body as Node[];
  let functions: Node[] | undefined;
  let lexical: string[] | undefined;
  for (const st of declarations) {
    if (st.type === 'FunctionDeclaration') {
      if (st.id && st.body) (functions ??= []).push(st);
    } else if (wrapped) {
      lexical ??= [];
      if (st.type === 'ClassDeclaration') {
        if (st.id) lexical.push((st.id as Node).name as string);
      } else for (const d of st.declarations as Node[]) boundNames(d.id as Node, lexical);
    }
  }
  if (functions === undefined && lexical === undefined) return null;
  const paramNames = new Set<string>();
  for (const p of params) boundNames(p, paramNames);
  if (functions !== undefined) {
    // before the entry check runs, the declaration has replaced the argument
    for (const f of functions) {
      const name = (f.id as Node).name as string;
      if (paramNames.has(name))
        return `a function declaration in its body replaces parameter ${name} before the entry check can forward it`;
    }
  }
  if (!wrapped) return null;
  if (lexical !== undefined) {
    // an early error (§15.2.1): the block would hide it
    for (const name of lexical)
      if (paramNames.has(name)) return `its body redeclares parameter ${name} (a syntax error)`;
  }
  if (functions === undefined) return null;
  const seen = new Map<string, Node>();
  for (const f of functions) {
    const name = (f.id as Node).name as string;
    const other = seen.get(name);
    // in a block, two declarations of one name are an error but in sloppy code between plain functions (§B.3.2.4)
    if (other !== undefined && (strict || isSpecial(f) || isSpecial(other))) return wrapMessage(name);
    seen.set(name, f);
  }
  const vars = new Set<string>();
  for (const st of statements) varNames(st, vars);
  for (const name of seen.keys()) if (vars.has(name)) return wrapMessage(name);
  // a direct eval's `var` of the same name would meet the block's function at run time
  if (!strict && source.slice(body.start as number, body.end as number).includes('eval')) {
    return 'its body declares a function and may call eval, whose declarations a block (where the loader records its frames) could make fail';
  }
  return null;
}

function wrapMessage(name: string): string {
  return `its body declares ${name} both as a function and again, which a block (where the loader records its frames) does not allow`;
}

function isSpecial(f: Node): boolean {
  return f.async === true || f.generator === true;
}

/**
 * Why moving an arrow's destructured parameters into its body would change
 * what they mean, or null: an early error of the parameter list the move
 * would hide (duplicate names, `"use strict"` with a non-simple list, `yield`
 * or `await` in a default), or a name the body declares too (a function
 * declaration would be overwritten by the moved `var`).
 */
export function paramMoveHazard(
  params: readonly Node[],
  body: Node,
  declaredInBody: ReadonlySet<string>,
  source: string,
): string | null {
  const seen = new Set<string>();
  for (const p of params) {
    const names: string[] = [];
    boundNames(p, names);
    for (const name of names) {
      if (seen.has(name)) return `its parameter ${name} is declared twice (a syntax error)`;
      seen.add(name);
      if (movesIntoBody(p) && declaredInBody.has(name)) return `its body declares ${name} too`;
    }
  }
  if (body.type === 'BlockStatement') {
    for (const st of body.body as Node[]) {
      if (st.type !== 'ExpressionStatement' || typeof st.directive !== 'string') break;
      if (st.directive === 'use strict')
        return `"use strict" in a function with destructured parameters (a syntax error)`;
    }
  }
  for (const p of params) {
    if (/\b(?:yield|await)\b/.test(source.slice(p.start as number, p.end as number)))
      return 'yield or await in its parameters';
  }
  return null;
}

/** A parameter the rewrite moves into the body: a pattern, not a plain name (with a default or rest). */
export function movesIntoBody(p: Node): boolean {
  const target =
    p.type === 'AssignmentPattern' ? (p.left as Node) : p.type === 'RestElement' ? (p.argument as Node) : p;
  return target.type !== 'Identifier';
}

/** The names `var` declares in a statement, nested blocks included, nested functions not. */
function varNames(st: Node, out: Set<string>): void {
  switch (st.type) {
    case 'VariableDeclaration':
      if (st.kind === 'var') for (const d of st.declarations as Node[]) boundNames(d.id as Node, out);
      return;
    case 'IfStatement':
      varNames(st.consequent as Node, out);
      if (st.alternate) varNames(st.alternate as Node, out);
      return;
    case 'ForStatement':
      if (st.init) varNames(st.init as Node, out);
      varNames(st.body as Node, out);
      return;
    case 'ForInStatement':
    case 'ForOfStatement':
      varNames(st.left as Node, out);
      varNames(st.body as Node, out);
      return;
    case 'WhileStatement':
    case 'DoWhileStatement':
    case 'LabeledStatement':
    case 'WithStatement':
      varNames(st.body as Node, out);
      return;
    case 'BlockStatement':
      for (const s of st.body as Node[]) varNames(s, out);
      return;
    case 'TryStatement':
      varNames(st.block as Node, out);
      if (st.handler) varNames((st.handler as Node).body as Node, out);
      if (st.finalizer) varNames(st.finalizer as Node, out);
      return;
    case 'SwitchStatement':
      for (const c of st.cases as Node[]) for (const s of c.consequent as Node[]) varNames(s, out);
      return;
  }
}
