/*
 * init.ts — klp_init_patch and its helpers (R3, R8.1): build the internal
 * patch from a definition whose shape is validated, add nops for atomic
 * replace, then object by object check it, bind it to its module if that
 * is alive and resolve it if it is loaded.
 *
 * Invariants:
 * - initPatch either returns a patch appended to the tail of klp_patches
 *   (R3.1) or throws leaving `klp.patches`, every stack and every module
 *   untouched; only the lines the kernel prints on that path are logged
 *   (symbol lookups, R3.5; a taken directory name, R3.2/R3.3).
 * - The checks run in the kernel's order (klp_init_patch → klp_init_object
 *   → klp_init_func, then klp_init_object_loaded, object after object): the
 *   first failure in that order is the one reported.
 * - Every func gets a fresh version number; numbers are never reused, even
 *   after a failure, so a frame recorded for a func can never be mistaken
 *   for another func's.
 * - initObjectLoaded either resolves every func of the object or clears
 *   them all again.
 */

import type { Klp } from './context.ts';
import { findObjectSymbol } from './find-symbol.ts';
import { KlpFunc, KlpObject, KlpPatch, isLoaded, renumber } from './model.ts';
import type { FuncDef, KlpState, PatchDef } from './types.ts';
import { checkObjectDir, checkObjectFuncs, checkPatchDir, patchDirEntries } from './validate.ts';

function newFunc(
  klp: Klp,
  obj: KlpObject,
  oldName: string,
  oldSympos: number,
  fn: Function | null,
  nop: boolean,
  immediate: boolean,
  oldHash: string | undefined,
): KlpFunc {
  const func = new KlpFunc(obj, klp.nextVersion++, oldName, oldSympos, fn, nop, immediate, oldHash);
  obj.funcs.push(func);
  return func;
}

/** klp_find_object: same module name, or both the process itself. */
function findObject(patch: KlpPatch, name: string | null): KlpObject | undefined {
  for (const obj of patch.objects) if (obj.name === name) return obj;
  return undefined;
}

/**
 * klp_add_nops (R8.1). A func matches when old_name and the effective
 * position agree: sympos 0 ("the only one") and 1 name the same function,
 * where the kernel's strict comparison would add a nop whose sysfs
 * directory collides with the real func's (see docs/semantics.md).
 */
function addNops(klp: Klp, patch: KlpPatch): void {
  for (const old of klp.patches) {
    for (const oldObj of old.objects) {
      let obj = findObject(patch, oldObj.name);
      if (obj === undefined) {
        obj = new KlpObject(patch, oldObj.name, null, true);
        patch.objects.push(obj);
      }
      for (const oldFunc of oldObj.funcs) {
        const pos = oldFunc.oldSympos || 1;
        if (obj.funcs.some((f) => f.oldName === oldFunc.oldName && (f.oldSympos || 1) === pos)) continue;
        newFunc(klp, obj, oldFunc.oldName, oldFunc.oldSympos, null, true, false, undefined);
      }
    }
  }
}

/** klp_init_object_loaded (R3.4): resolve every func's slot. */
export function initObjectLoaded(klp: Klp, obj: KlpObject): void {
  const table = obj.mod !== null ? obj.mod.symbols : klp.vmlinux;
  try {
    for (const func of obj.funcs) {
      func.slot = findObjectSymbol(klp.log, table, obj.name, func.oldName, func.oldSympos, func.oldHash);
    }
  } catch (error) {
    for (const func of obj.funcs) if (!func.patched) func.slot = null;
    throw error;
  }
}

/** klp_free_object_loaded: the module went away. */
export function freeObjectLoaded(obj: KlpObject): void {
  obj.mod = null;
  for (const func of obj.funcs) func.slot = null;
}

/** klp_init_patch (R3.1): build, add nops, init objects in order, append to klp_patches. */
export function initPatch(klp: Klp, def: PatchDef): KlpPatch {
  checkPatchDir(def); // kobject_add(&patch->kobj, ...)
  const states: KlpState[] = (def.states ?? []).map((s) => ({ id: s.id, version: s.version, data: s.data }));
  const patch = new KlpPatch(def.name, def.replace === true, def.consistency ?? 'task', states);
  // klp_init_patch_early: the static objects and funcs exist before any of
  // them is checked (klp_add_nops reads them); what a malformed func holds
  // is never used, because its object's checks refuse it first.
  for (const o of def.objects) {
    const obj = new KlpObject(patch, o.name ?? null, o.callbacks ?? null, false);
    patch.objects.push(obj);
    for (const item of o.funcs as unknown[]) {
      const f = (typeof item === 'object' && item !== null ? item : {}) as Partial<FuncDef>;
      newFunc(klp, obj, f.oldName!, f.oldSympos ?? 0, f.newFunc ?? null, false, f.immediate === true, f.oldHash);
    }
  }
  if (patch.replace) addNops(klp, patch);
  renumber(patch);
  const taken = patchDirEntries();
  try {
    patch.objects.forEach((obj, i) => {
      // klp_init_object (R3.2): its name and directory, then its funcs (R3.3;
      // nops and dynamic objects copy names that were checked when their
      // patch was enabled), then the module, then the symbols (R3.4).
      checkObjectDir(klp.log, patch.name, obj.name, taken);
      const o = i < def.objects.length ? def.objects[i] : undefined;
      if (o !== undefined) checkObjectFuncs(klp.log, patch.name, obj.name, o.funcs, o.callbacks);
      // R10.2: bind to the module only if it is present and alive.
      if (obj.name !== null) obj.mod = klp.findAliveModule(obj.name);
      if (isLoaded(obj)) initObjectLoaded(klp, obj);
    });
  } catch (error) {
    for (const o of patch.objects) freeObjectLoaded(o);
    throw error;
  }
  klp.patches.push(patch);
  return patch;
}
