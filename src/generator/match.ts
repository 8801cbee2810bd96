/**
 * Function matching by identity: which function of the old version each
 * function of the new version is. Identities are the loader's qualified
 * names; a function that only moved keeps its name (unchanged), a renamed
 * one is new.
 *
 * A name can occur more than once (`<anonymous>`, `makeServer/<anonymous>`,
 * duplicate declarations); the loader tells them apart by position
 * (sympos), which shifts when a fix adds or removes one. They are paired in
 * three steps, the most certain first:
 *  1. same text (unchanged functions find their old selves wherever they moved);
 *  2. same place: the statement around the function, with every function in
 *     it abstracted, and the function's rank among the namesakes there;
 *  3. by rank, only if as many remain on both sides.
 * What is left is ambiguous: such a function, if changed, is refused rather
 * than patched into the wrong closures.
 */

import type { FunctionInfo } from '../instrument/analysis-types.ts';
import { structuralKey } from './ast.ts';
import type { ModuleVersion } from './version.ts';

export interface Pair {
  readonly old: FunctionInfo;
  readonly new: FunctionInfo;
  readonly by: 'name' | 'text' | 'place' | 'rank';
}

export interface Matching {
  readonly pairs: Pair[];
  /** new functions without an old one */
  readonly added: FunctionInfo[];
  /** old functions without a new one */
  readonly removed: FunctionInfo[];
  /** names whose remaining functions could not be paired */
  readonly ambiguous: Set<string>;
}

export function matchFunctions(old: ModuleVersion, next: ModuleVersion): Matching {
  const byName = (v: ModuleVersion) => {
    const m = new Map<string, FunctionInfo[]>();
    for (const f of v.analysis.functions) {
      const list = m.get(f.name);
      if (list === undefined) m.set(f.name, [f]);
      else list.push(f);
    }
    return m;
  };
  const olds = byName(old);
  const news = byName(next);
  const pairs: Pair[] = [];
  const added: FunctionInfo[] = [];
  const removed: FunctionInfo[] = [];
  const ambiguous = new Set<string>();
  for (const [name, nl] of news) {
    const ol = olds.get(name) ?? [];
    if (ol.length === 1 && nl.length === 1) {
      pairs.push({ old: ol[0]!, new: nl[0]!, by: 'name' });
      continue;
    }
    const oLeft = new Set(ol);
    const nLeft = new Set(nl);
    const take = (o: FunctionInfo, n: FunctionInfo, by: Pair['by']) => {
      pairs.push({ old: o, new: n, by });
      oLeft.delete(o);
      nLeft.delete(n);
    };
    // 1. same text
    for (const n of nl) {
      const h = next.symbols[n.index]!.hash;
      for (const o of oLeft)
        if (old.symbols[o.index]!.hash === h) {
          take(o, n, 'text');
          break;
        }
    }
    // 2. same place
    if (nLeft.size > 0 && oLeft.size > 0) {
      const oPlaces = places(old, [...oLeft]);
      const nPlaces = places(next, [...nLeft]);
      for (const [n, key] of nPlaces) {
        const candidates = [...oPlaces].filter(([, k]) => k === key);
        const same = [...nPlaces].filter(([, k]) => k === key);
        if (candidates.length === 1 && same.length === 1) take(candidates[0]![0], n, 'place');
      }
    }
    // 3. by rank
    if (nLeft.size > 0 && nLeft.size === oLeft.size) {
      const o = [...oLeft];
      const n = [...nLeft];
      for (let i = 0; i < n.length; i++) take(o[i]!, n[i]!, 'rank');
    }
    if (nLeft.size > 0 && oLeft.size > 0) ambiguous.add(name);
    for (const n of nLeft) added.push(n);
    for (const o of oLeft) removed.push(o);
  }
  for (const [name, ol] of olds) if (!news.has(name)) for (const o of ol) removed.push(o);
  return { pairs, added, removed, ambiguous };
}

/** Each function's place: its statement with all functions abstracted, and its rank among namesakes in it. */
function places(v: ModuleVersion, fns: readonly FunctionInfo[]): Map<FunctionInfo, string> {
  const out = new Map<FunctionInfo, string>();
  const rank = new Map<string, number>();
  for (const f of fns) {
    const st = v.sites.get(f.start)?.statement ?? null;
    const key = st === null ? '' : structuralKey(st, () => '');
    const r = rank.get(key) ?? 0;
    rank.set(key, r + 1);
    out.set(f, `${r}|${key}`);
  }
  return out;
}
