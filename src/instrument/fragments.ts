/**
 * The text the loader inserts: the entry check (the ftrace nop of a function),
 * frame tracking for async functions and generators, accessors for the
 * module's and each closure's bindings, and the module prologue.
 *
 * Every fragment names its function's slot (`$lp<key>_<i>`), so the runtime
 * can regenerate it from the module's plan and remove it exactly when a
 * program serializes a function with `toString()`. Line numbers of the
 * original source are preserved: no fragment contains a newline, except the
 * replacement of a multi-line parameter, which keeps exactly its line breaks.
 *
 * The entry check (see docs/loader.md for the measurements behind it):
 *
 *   if(S!==void 0){const $lpr=S(this,a,b);if($lpr!==$lpO)return $lpr}
 *
 * `S` is the function's slot: a script-scope `let` that V8 const-tracks, so
 * until a patch writes it optimized code folds the check away. An armed slot
 * is called with the receiver (`new.target` for class constructors), the
 * closure accessor when the function captures variables of enclosing
 * functions, and the forwarded arguments; it returns the replacement's result,
 * or `$lpO` to let the original body run (a task that has not switched yet,
 * or a nop). Generators delegate with `yield*` to the iterator it returns.
 * Arrows with an expression body get a block body.
 */

import type { Binding, FunctionInfo, ModuleAnalysis } from './analysis-types.ts';

export interface EmitOptions {
  /** the module's key: slot names are `$lp<key>_<index>` */
  readonly key: string;
  /**
   * 'script': slots are script-scope lets the runtime declares (the product);
   * 'module': `var`s in the module prologue, which V8 does not const-track and
   * the runtime cannot write — kept to measure the difference.
   */
  readonly binding: 'script' | 'module';
  /** track frames of async functions and generators */
  readonly frames: boolean;
  readonly sourceType: 'module' | 'commonjs' | 'script';
}

/** One insertion (or replacement of `[at, at + remove)`) into the original source. */
export interface Edit {
  readonly at: number;
  readonly remove: number;
  readonly text: string;
  /** the text `remove` took out of the original (empty for insertions) */
  readonly original: string;
  /**
   * Orders edits at one position: closing fragments (negative: inner functions
   * first) before opening ones (outer functions first).
   */
  readonly order: number;
}

export function compareEdits(a: Edit, b: Edit): number {
  return a.at - b.at || a.order - b.order;
}

export function slotName(key: string, index: number): string {
  return `$lp${key}_${index.toString(36)}`;
}

export function moduleHandleName(key: string): string {
  return `$lp${key}`;
}

/** Every edit for one function, in source order. */
export function functionEdits(fn: FunctionInfo, opts: EmitOptions): Edit[] {
  if (fn.unpatchable !== null) return [];
  const slot = slotName(opts.key, fn.index);
  const edits: Edit[] = [];
  const open = fn.index + 1;
  const close = -(fn.index + 1);
  const tracked = opts.frames && (fn.isAsync || fn.isGenerator);
  for (const r of fn.paramRewrites) {
    // `=void 0` keeps the function's length; the default applies in the body, so
    // the entry check forwards the argument as the caller gave it
    const text =
      (r.init === null ? tempName(r.temp, slot) : tempName(r.temp, slot) + '=void 0') + '\n'.repeat(r.newlines);
    edits.push({ at: r.start, remove: r.end - r.start, text, original: r.original, order: open });
  }
  const rewrites = fn.paramRewrites
    .map((r) => {
      const temp = tempName(r.temp, slot).replace('...', '');
      const value = r.init === null ? temp : `${temp}===void 0?(${r.init}):${temp}`;
      // A failed destructuring keeps the parameter's error message (see ParamRewrite.errorPattern):
      // an array pattern's through a comma expression; an object pattern's by destructuring
      // null or undefined as a parameter, on the error path only ($lpD, abi.ts).
      if (r.errorPattern === null) return `var ${r.pattern}=(0,${value});`;
      const checked = r.init === null ? temp : `(${temp}=${value})`;
      return `var ${r.pattern}=${checked}??$lpD((${r.errorPattern})=>0,${temp});`;
    })
    .join('');
  const call = callExpression(fn, slot);
  const check = `if(${slot}!==void 0){const $lpr=${call};if($lpr!==$lpO)return ${fn.isGenerator ? 'yield* ' : ''}$lpr}`;
  const enter = tracked ? `const ${frameVar(slot)}=$lpE(${moduleHandleName(opts.key)},${fn.index});try{` : '';
  // a function that runs once hands out one accessor for the variables its nested functions capture
  const scopeInit =
    fn.runsOnce && fn.scopeBindings.length > 0
      ? `${moduleHandleName(opts.key)}.scopes[${fn.index}]=${scopeAccessor(fn.scopeBindings.map(toAccessorBinding))};`
      : '';
  const exit = tracked ? `}finally{$lpX(${frameVar(slot)})}` : '';
  if (fn.exprBody !== null) {
    edits.push({
      at: fn.exprBody.start,
      remove: 0,
      text: `{${check}${rewrites}${enter}return `,
      original: '',
      order: open,
    });
    edits.push({ at: fn.exprBody.end, remove: 0, text: `${exit}/*${slot}*/}`, original: '', order: close });
  } else {
    const head = (fn.afterBareDirective ? ';' : '') + check + rewrites + scopeInit + enter;
    // an empty body (`async function () {}`): opening and closing fragments meet at
    // one position, where the ordering puts closes first — emit them as one edit
    if (tracked && fn.insertAt === fn.end - 1) {
      edits.push({ at: fn.insertAt, remove: 0, text: head + exit, original: '', order: open });
    } else {
      edits.push({ at: fn.insertAt, remove: 0, text: head, original: '', order: open });
      if (tracked) edits.push({ at: fn.end - 1, remove: 0, text: exit, original: '', order: close });
    }
  }
  return edits;
}

/** The module prologue: the module's accessor, and `var` slots when not script-scope. */
export function prologue(analysis: ModuleAnalysis, opts: EmitOptions): string {
  const handle = moduleHandleName(opts.key);
  // after `'use strict'` with no semicolon, on the same line: ASI would not end the directive
  let text = analysis.prologueAfterBareDirective ? ';' : '';
  if (opts.binding === 'module') {
    // Measurements only: module-local slots the runtime cannot write (see docs/loader.md).
    const names: string[] = [];
    for (const fn of analysis.functions) if (fn.unpatchable === null) names.push(slotName(opts.key, fn.index));
    if (names.length > 0) text += `var ${names.join(',')};`;
  }
  text += `${handle}.scope=${scopeAccessor(moduleScope(analysis, opts.sourceType))};`;
  return text;
}

/** The module's bindings its accessor reaches, in accessor order. */
export function moduleScope(analysis: ModuleAnalysis, sourceType: EmitOptions['sourceType']): AccessorBinding[] {
  const out: AccessorBinding[] = [];
  const seen = new Set<string>();
  for (const b of analysis.topLevel) {
    if (b.kind === 'name' || seen.has(b.name)) continue;
    seen.add(b.name);
    out.push({ name: b.name, writable: isWritable(b) });
  }
  if (sourceType === 'commonjs') {
    for (const n of ['require', 'module', 'exports', '__filename', '__dirname'])
      if (!seen.has(n)) out.push({ name: n, writable: false });
  }
  return out;
}

export interface AccessorBinding {
  readonly name: string;
  readonly writable: boolean;
}

/** A binding the accessor may write: one the original code already writes (so V8's "maybe assigned" is unchanged). */
export function isWritable(b: Binding): boolean {
  return b.assigned && b.kind !== 'const' && b.kind !== 'import' && b.kind !== 'name';
}

/**
 * An accessor: `()=>[a,b,c]` returns the bindings' current values, in order;
 * when some of them may be written, `($lpi,$lpv)=>$lpi<0?[a,b,c]:$lpi===1?b=$lpv:0`
 * also writes value `$lpv` to binding number `$lpi`. Each name appears once
 * (twice if writable): the text stays short, and the parameter names cannot
 * shadow a program's variables.
 */
export function accessor(bindings: readonly AccessorBinding[]): string {
  const values = `[${bindings.map((b) => b.name).join(',')}]`;
  let set = '0';
  for (let i = bindings.length - 1; i >= 0; i--)
    if (bindings[i]!.writable) set = `$lpi===${i}?${bindings[i]!.name}=$lpv:${set}`;
  return set === '0' ? `()=>${values}` : `($lpi,$lpv)=>$lpi<0?${values}:${set}`;
}

/**
 * A scope accessor (a module's, or a function's that runs once), made once:
 * `acc(i)` reads binding i, `acc(i, v, true)` writes it. A switch keeps each
 * access O(1) however many bindings the scope has.
 */
export function scopeAccessor(bindings: readonly AccessorBinding[]): string {
  let cases = '';
  for (let i = 0; i < bindings.length; i++) {
    const b = bindings[i]!;
    cases += b.writable ? `case ${i}:return $lps?${b.name}=$lpv:${b.name};` : `case ${i}:return ${b.name};`;
  }
  return `($lpi,$lpv,$lps)=>{switch($lpi){${cases}}}`;
}

function toAccessorBinding(b: Binding): AccessorBinding {
  return { name: b.name, writable: isWritable(b) };
}

/** The captured variables a closure's accessor reaches, in accessor order. */
export function closureScope(fn: FunctionInfo): AccessorBinding[] {
  return fn.captures.map(toAccessorBinding);
}

function callExpression(fn: FunctionInfo, slot: string): string {
  // Before super(), reading `this` throws: the slow path passes a marker then
  // (a replacement built by `livepatch build` throws on reading it, as the original would).
  const self =
    fn.kind === 'constructor'
      ? 'new.target'
      : fn.thisBeforeSuper
        ? '(()=>{try{return this}catch{return Symbol.for("livepatch.uninitialized")}})()'
        : 'this';
  const args: string[] = [self];
  if (fn.captures.length > 0) args.push(accessor(closureScope(fn)));
  if (fn.forwarding.mode === 'arguments') args.push('...arguments');
  else
    for (const n of fn.forwarding.names)
      args.push(
        n.startsWith('...$lpp') ? '...' + tempName(n.slice(3), slot) : n.startsWith('$lpp') ? tempName(n, slot) : n,
      );
  return `${slot}(${args.join(',')})`;
}

function tempName(temp: string, slot: string): string {
  // `$lpp0` -> `$lpp0$lpK_i`: unique per function, so toString() can undo it exactly
  const rest = temp.startsWith('...');
  const base = rest ? temp.slice(3) : temp;
  return (rest ? '...' : '') + base + slot;
}

function frameVar(slot: string): string {
  return '$lpf' + slot.slice(3);
}
