/**
 * `Function.prototype.toString` shows the source a program wrote, not the
 * loader's entry checks: code that serializes a function and evaluates it
 * elsewhere (a worker's `eval`, a browser's `evaluate`, a DI container that
 * reads parameter names) must keep working. Every inserted fragment names its
 * function's slot, so the fragments are regenerated from the module's plan and
 * removed exactly — no pattern guessing.
 */

import { functionEdits } from '../instrument/fragments.ts';
import type { SlotTable } from './slots.ts';

const SLOT_NAME = /\$lp([0-9a-z]{7})_([0-9a-z]+)/g;

export function restoreSource(text: string, slots: SlotTable): string {
  if (!text.includes('$lp')) return text;
  const seen = new Set<string>();
  let out = text;
  for (const m of text.matchAll(SLOT_NAME)) {
    const name = m[0];
    if (seen.has(name)) continue;
    seen.add(name);
    const record = slots.byModuleKey(m[1]!);
    if (record === undefined) continue;
    const plan = record.plan();
    const fn = plan.functions[parseInt(m[2]!, 36)];
    if (fn === undefined) continue;
    // Last edit first: a function's body fragment mentions its parameter temporaries.
    const edits = functionEdits(fn, plan.options);
    for (let i = edits.length - 1; i >= 0; i--) {
      const e = edits[i]!;
      const at = out.indexOf(e.text);
      if (at !== -1) out = out.slice(0, at) + e.original + out.slice(at + e.text.length);
    }
  }
  return out;
}

let installed = false;

export function installToString(slots: SlotTable): void {
  if (installed) return;
  installed = true;
  const original = Function.prototype.toString;
  const call = Function.prototype.call.bind(original) as (fn: unknown) => string;
  const nativeText = call(original);
  // programs that read a function's text tend to read it often (DI containers, validators)
  const restored = new WeakMap<object, string>();
  const replacement = {
    toString(this: unknown): string {
      if (this === replacement) return nativeText;
      const text = call(this);
      if (!text.includes('$lp')) return text;
      const fn = this as object;
      let out = restored.get(fn);
      if (out === undefined) {
        out = restoreSource(text, slots);
        restored.set(fn, out);
      }
      return out;
    },
  }.toString;
  Object.defineProperty(Function.prototype, 'toString', {
    value: replacement,
    writable: true,
    configurable: true,
    enumerable: false,
  });
}
