/*
 * state.ts — system states (kernel/livepatch/state.c, R14).
 *
 * Invariants:
 * - getState answers from the patch of that name in klp_patches, or else
 *   from the last one of that name that was disabled or replaced: the
 *   kernel's klp_get_state reads the states array of the patch it is given,
 *   which lives as long as the livepatch module, not only while the patch
 *   is in klp_patches (R14.2). The returned object is the one the core
 *   keeps, so an author's change to `data` persists, as with the kernel's
 *   struct.
 * - getPrevState answers only during a transition (R14.3), from the patches
 *   older than the transition patch, newest match first.
 * - isCompatible is R14.4 and reads nothing but validated definitions.
 */

import type { Klp } from './context.ts';
import type { KlpState, PatchDef } from './types.ts';

/** klp_get_state (R14.2). */
export function getState(klp: Klp, patchName: string, id: number): KlpState | null {
  const states = klp.findPatch(patchName)?.states ?? klp.freedStates.get(patchName);
  if (states === undefined) return null;
  for (const s of states) if (s.id === id) return s;
  return null;
}

/** klp_get_prev_state (R14.3). */
export function getPrevState(klp: Klp, id: number): KlpState | null {
  const t = klp.transition;
  if (t === null) {
    // WARN_ON_ONCE: a warning event, once per core.
    if (!klp.warned.has('getPrevState')) {
      klp.warned.add('getPrevState');
      klp.log.publish({ type: 'warning', message: 'getPrevState() called outside a transition' });
    }
    return null;
  }
  let last: KlpState | null = null;
  for (const patch of klp.patches) {
    if (patch === t.patch) break;
    for (const s of patch.states) if (s.id === id) last = s;
  }
  return last;
}

/** klp_is_patch_compatible (R14.4). */
export function isCompatible(klp: Klp, def: PatchDef): boolean {
  for (const patch of klp.patches) {
    for (const old of patch.states) {
      const mine = def.states?.find((s) => s.id === old.id);
      if (mine === undefined) {
        // A cumulative patch must handle every already modified state.
        if (def.replace === true) return false;
        continue;
      }
      if (mine.version < old.version) return false;
    }
  }
  return true;
}
