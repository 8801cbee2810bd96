/*
 * free.ts — the end of a patch's life (R8.3, R11): unpatching replaced
 * patches, discarding nops, and freeing.
 *
 * Invariants:
 * - A freed patch is out of klp_patches, has no func on any stack and no
 *   resolved slot; its sysfs directory is gone with it (the tree is derived
 *   from klp_patches).
 * - A forced patch's name stays in `forcedGone`: its module reference is
 *   never dropped (R11.3).
 * - A disabled or replaced patch's states stay readable by getState under
 *   its name until another patch of that name is freed (R14.2); a failed
 *   enable leaves nothing behind.
 * - Static objects survive nop discarding even when they carry only
 *   callbacks (seed 002): only nop funcs and dynamic objects go.
 */

import type { Klp } from './context.ts';
import { freeObjectLoaded } from './init.ts';
import type { KlpPatch } from './model.ts';
import { unpatchObjects } from './patch.ts';

/** klp_free_patch_start + finish. */
export function freePatch(klp: Klp, patch: KlpPatch, reason: 'disabled' | 'replaced' | 'failed'): void {
  const i = klp.patches.indexOf(patch);
  if (i >= 0) klp.patches.splice(i, 1);
  unpatchObjects(klp, patch, false);
  for (const obj of patch.objects) freeObjectLoaded(obj);
  if (patch.forced) klp.forcedGone.add(patch.name);
  if (reason !== 'failed') klp.freedStates.set(patch.name, patch.states);
  klp.log.publish({ type: 'patch-freed', patch: patch.name, forced: patch.forced, reason });
}

/** klp_unpatch_replaced_patches (R8.3): every patch older than `patch`. */
export function unpatchReplacedPatches(klp: Klp, patch: KlpPatch): void {
  for (const old of klp.patches) {
    if (old === patch) break;
    old.enabled = false;
    unpatchObjects(klp, old, false);
  }
}

/** klp_free_replaced_patches_async. */
export function freeReplacedPatches(klp: Klp, patch: KlpPatch): void {
  const replaced: KlpPatch[] = [];
  for (const old of klp.patches) {
    if (old === patch) break;
    replaced.push(old);
  }
  for (const old of replaced) freePatch(klp, old, 'replaced');
}

/** klp_discard_nops (R8.3). */
export function discardNops(klp: Klp, patch: KlpPatch): void {
  unpatchObjects(klp, patch, true);
  for (const obj of patch.objects) {
    for (const f of obj.funcs) if (f.nop) f.slot = null;
    obj.funcs = obj.funcs.filter((f) => !f.nop);
  }
  patch.objects = patch.objects.filter((o) => !o.dynamic);
}
