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

import type { FunctionInfo, ModuleAnalysis, Binding } from './analyze.ts';

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
    const text = (r.init === null ? tempName(r.temp, slot) : tempName(r.temp, slot) + '=' + r.init) + '\n'.repeat(r.newlines);
    edits.push({ at: r.start, remove: r.end - r.start, text, original: r.original, order: open });
  }
  const rewrites = fn.paramRewrites.map((r) => `var ${r.pattern}=${tempName(r.temp, slot).replace('...', '')};`).join('');
  const call = callExpression(fn, slot);
  const EXP = (process.env.LIVEPATCH_EXP ?? '').split(',');
  const check = EXP.includes('nosentinel') ? `if(${slot}!==void 0)return ${fn.isGenerator ? 'yield* ' : ''}${call};` : EXP.includes('empty') ? `if(${slot}!==void 0){}` : `if(${slot}!==void 0){const $lpr=${call};if($lpr!==$lpO)return ${fn.isGenerator ? 'yield* ' : ''}$lpr}`;
  const enter = tracked ? `const ${frameVar(slot)}=$lpE(${moduleHandleName(opts.key)},${fn.index});try{` : '';
  const exit = tracked ? `}finally{$lpX(${frameVar(slot)})}` : '';
  if (fn.exprBody !== null) {
    edits.push({ at: fn.exprBody.start, remove: 0, text: `{${check}${rewrites}${enter}return `, original: '', order: open });
    edits.push({ at: fn.exprBody.end, remove: 0, text: `${exit}/*${slot}*/}`, original: '', order: close });
  } else {
    edits.push({ at: fn.insertAt, remove: 0, text: check + rewrites + enter, original: '', order: open });
    if (tracked) edits.push({ at: fn.end - 1, remove: 0, text: exit, original: '', order: close });
  }
  return edits;
}

/** The module prologue: the module's accessor, and `var` slots when not script-scope. */
export function prologue(analysis: ModuleAnalysis, opts: EmitOptions): string {
  const handle = moduleHandleName(opts.key);
  let text = '';
  if (opts.binding === 'module') {
    // Measurements only: module-local slots the runtime cannot write (see docs/loader.md).
    const names: string[] = [];
    for (const fn of analysis.functions) if (fn.unpatchable === null) names.push(slotName(opts.key, fn.index));
    if (names.length > 0) text += `var ${names.join(',')};`;
  }
  const bindings: Binding[] = analysis.topLevel.filter((b) => b.kind !== 'name');
  const extra = opts.sourceType === 'commonjs' ? ['require', 'module', 'exports', '__filename', '__dirname'] : [];
  text += `${handle}.scope=${accessor(bindings, extra)};`;
  return text;
}

/**
 * `($lpk,$lpv,$lps)=>...`: reads binding `$lpk`, or with `$lps` writes `$lpv`
 * to it. The parameter names cannot shadow a program's variables.
 */
export function accessor(bindings: readonly Binding[], extraReadOnly: readonly string[] = []): string {
  let get = 'void 0';
  let set = 'void 0';
  const names = new Set<string>();
  for (let i = bindings.length - 1; i >= 0; i--) {
    const b = bindings[i]!;
    if (names.has(b.name)) continue;
    names.add(b.name);
    const is = `$lpk===${JSON.stringify(b.name)}`;
    get = `${is}?${b.name}:${get}`;
    if (b.assigned && b.kind !== 'const' && b.kind !== 'import' && b.kind !== 'name') set = `${is}?${b.name}=$lpv:${set}`;
  }
  for (const n of extraReadOnly) if (!names.has(n)) get = `$lpk===${JSON.stringify(n)}?${n}:${get}`;
  return `($lpk,$lpv,$lps)=>$lps?${set}:${get}`;
}

function callExpression(fn: FunctionInfo, slot: string): string {
  const args: string[] = [fn.kind === 'constructor' ? 'new.target' : 'this'];
  if (fn.captures.length > 0 && !(process.env.LIVEPATCH_EXP ?? '').includes('noacc')) args.push(accessor(fn.captures));
  if (fn.forwarding.mode === 'arguments') args.push('...arguments');
  else for (const n of fn.forwarding.names) args.push(n.startsWith('...$lpp') ? '...' + tempName(n.slice(3), slot) : n.startsWith('$lpp') ? tempName(n, slot) : n);
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
