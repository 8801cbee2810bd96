/*
 * core.ts — kernel/livepatch/core.c: enable (R2, R6), disable (R7), the
 * `enabled`/`force` stores (R12.2, R12.4), and the module hooks (R10).
 *
 * Invariants:
 * - Every entry point runs under klp_mutex (Klp.withLock).
 * - enablePatch either leaves an enabled patch in klp_patches (in
 *   transition or complete) or throws a KlpError with the core as it was:
 *   no patch, no sysfs directory, stacks and task states untouched; the
 *   log holds only the lines the kernel prints on that path.
 * - moduleComing either patches the module into every patch that has an
 *   object for it, or throws with all of them reverted (R10.3).
 * - moduleGoing never fails and never blocks (R10.4).
 */

import { KlpError } from './errors.ts';
import { EBUSY, EEXIST, EINVAL, ENOENT, errnoName } from './errno.ts';
import type { Klp } from './context.ts';
import { freePatch } from './free.ts';
import { freeObjectLoaded, initObjectLoaded, initPatch } from './init.ts';
import { isLoaded, type KlpObject, type KlpPatch } from './model.ts';
import * as msg from './messages.ts';
import { patchObject, unpatchObject } from './patch.ts';
import { postPatch, postUnpatch, prePatch, preUnpatch } from './callbacks.ts';
import { isCompatible } from './state.ts';
import {
  cancelTransition,
  forceTransition,
  initTransition,
  reverseTransition,
  startTransition,
  tryCompleteTransition,
} from './transition.ts';
import { validateShape } from './validate.ts';
import type { ModuleHandle } from './types.ts';

function errnoOf(error: unknown): number {
  return error instanceof KlpError ? error.errno : EINVAL;
}

/** __klp_enable_patch (R6.1). */
function enable(klp: Klp, patch: KlpPatch): void {
  const busy = klp.transition;
  if (busy !== null) {
    throw new KlpError(
      EBUSY,
      `livepatch: cannot enable patch '${patch.name}': patch '${busy.patch.name}' is in transition`,
    );
  }
  klp.log.notice(msg.enablingPatch(patch.name));
  initTransition(klp, patch, 1);
  try {
    for (const obj of patch.objects) {
      if (!isLoaded(obj)) continue; // R6.3
      try {
        prePatch(obj);
      } catch (error) {
        klp.log.warn(msg.prePatchFailed(msg.objName(obj.name)));
        throw error;
      }
      try {
        patchObject(klp, obj);
      } catch (error) {
        klp.log.warn(msg.failedToPatchObject(msg.objName(obj.name)));
        throw error;
      }
    }
  } catch (error) {
    klp.log.warn(msg.failedToEnable(patch.name));
    cancelTransition(klp);
    throw error;
  }
  startTransition(klp);
  patch.enabled = true;
  klp.log.publish({ type: 'patch-enabled', patch: patch.name });
  tryCompleteTransition(klp);
}

/** klp_enable_patch (R2.1). */
export function enablePatch(klp: Klp, def: unknown): void {
  klp.withLock('enablePatch', () => {
    validateShape(klp, def);
    // R14.4 / R2.1 step 7: before anything else is logged for this patch.
    if (!isCompatible(klp, def)) {
      klp.log.err(msg.notCompatible(def.name));
      throw new KlpError(
        EINVAL,
        `livepatch: patch '${def.name}' is not compatible with the already installed livepatches (system states, R14.4)`,
      );
    }
    // R2.1 step 9 / R3: names, funcs and symbols, object by object.
    const patch = initPatch(klp, def);
    try {
      enable(klp, patch);
    } catch (error) {
      freePatch(klp, patch, 'failed');
      throw error;
    }
  });
}

/** __klp_disable_patch (R7.1). */
function disable(klp: Klp, patch: KlpPatch): void {
  if (!patch.enabled) throw new KlpError(EINVAL, `livepatch: patch '${patch.name}' is not enabled`);
  const busy = klp.transition;
  if (busy !== null) {
    throw new KlpError(
      EBUSY,
      `livepatch: cannot disable patch '${patch.name}': patch '${busy.patch.name}' is in transition`,
    );
  }
  initTransition(klp, patch, 0);
  for (const obj of patch.objects) if (obj.patched) preUnpatch(klp, obj);
  startTransition(klp);
  patch.enabled = false;
  tryCompleteTransition(klp);
}

function lookup(klp: Klp, name: string): KlpPatch {
  const patch = klp.findPatch(name);
  if (patch === undefined) throw new KlpError(ENOENT, `livepatch: no patch '${name}'`);
  return patch;
}

/** enabled_store (R12.2), after kstrtobool. */
export function setEnabled(klp: Klp, name: string, enabled: boolean): void {
  klp.withLock('enabled', () => {
    const patch = lookup(klp, name);
    if (patch.enabled === enabled) {
      throw new KlpError(EINVAL, `livepatch: patch '${name}' is already ${enabled ? 'enabled' : 'disabled'}`);
    }
    if (klp.transition?.patch === patch) reverseTransition(klp);
    else if (!enabled) disable(klp, patch);
    else throw new KlpError(EINVAL, `livepatch: patch '${name}' cannot be re-enabled; load it again`);
  });
}

/** force_store (R12.4), after kstrtobool said true. */
export function force(klp: Klp, name: string): void {
  klp.withLock('force', () => {
    const patch = lookup(klp, name);
    if (klp.transition?.patch !== patch) throw new KlpError(EINVAL, `livepatch: patch '${name}' is not in transition`);
    forceTransition(klp);
  });
}

function firstObjectFor(patch: KlpPatch, module: string): KlpObject | undefined {
  for (const obj of patch.objects) if (obj.name === module) return obj;
  return undefined;
}

/** klp_cleanup_module_patches_limited (R10.4). */
function cleanupModulePatches(klp: Klp, module: string, limit: KlpPatch | null): void {
  for (const patch of klp.patches) {
    if (patch === limit) break;
    const obj = firstObjectFor(patch, module);
    // An object that never bound to this module has nothing to revert.
    if (obj === undefined || obj.mod === null) continue;
    if (patch !== klp.transition?.patch) preUnpatch(klp, obj);
    klp.log.notice(msg.revertingOnUnload(patch.name, module));
    unpatchObject(klp, obj, false);
    postUnpatch(klp, obj);
    freeObjectLoaded(obj);
    klp.log.publish({ type: 'module-reverted', patch: patch.name, module });
  }
}

/** klp_module_coming (R10.3). */
export function moduleComing(klp: Klp, mod: ModuleHandle): void {
  klp.withLock('moduleComing', () => {
    if (mod.state !== 'coming') {
      throw new KlpError(EINVAL, `livepatch: module '${mod.name}' must be in state 'coming', not '${mod.state}'`);
    }
    if (mod.name === 'vmlinux') {
      klp.log.err(msg.invalidModuleName());
      throw new KlpError(EINVAL, "livepatch: a module cannot be named 'vmlinux'");
    }
    if (klp.alive.has(mod.name)) throw new KlpError(EEXIST, `livepatch: module '${mod.name}' is already loaded`);
    klp.alive.set(mod.name, mod);
    klp.seen.add(mod);
    for (const patch of [...klp.patches]) {
      const obj = firstObjectFor(patch, mod.name);
      if (obj === undefined) continue;
      obj.mod = mod;
      let step = '';
      try {
        step = 'init';
        try {
          initObjectLoaded(klp, obj);
        } catch (error) {
          klp.log.warn(msg.failedToInitForModule(patch.name, mod.name, errnoOf(error)));
          throw error;
        }
        klp.log.notice(msg.applyingToLoading(patch.name, mod.name));
        step = 'pre-patch';
        try {
          prePatch(obj);
        } catch (error) {
          klp.log.warn(msg.prePatchFailed(mod.name));
          throw error;
        }
        step = 'patch';
        try {
          patchObject(klp, obj);
        } catch (error) {
          klp.log.warn(msg.failedToApplyToModule(patch.name, mod.name, errnoOf(error)));
          postUnpatch(klp, obj);
          throw error;
        }
      } catch (error) {
        klp.log.warn(msg.refusingToLoad(patch.name, mod.name));
        klp.alive.delete(mod.name);
        freeObjectLoaded(obj);
        cleanupModulePatches(klp, mod.name, patch);
        const errno = errnoOf(error);
        const why = error instanceof Error ? error.message.replace(/^livepatch: /, '') : String(error);
        throw new KlpError(
          errno,
          `livepatch: patch '${patch.name}' failed for module '${mod.name}' (${step}: ${why}); refusing to load module '${mod.name}' (${errnoName(errno)})`,
          { cause: error },
        );
      }
      // Inside a transition post_patch waits for its completion (R10.5).
      if (patch !== klp.transition?.patch) postPatch(klp, obj);
      klp.log.publish({ type: 'module-patched', patch: patch.name, module: mod.name });
    }
  });
}

/** klp_module_going (R10.4). */
export function moduleGoing(klp: Klp, mod: ModuleHandle): void {
  if (mod.state !== 'going' && mod.state !== 'coming') {
    // WARN_ON and return, as the kernel does.
    klp.log.publish({ type: 'warning', message: `moduleGoing('${mod.name}') in state '${mod.state}' ignored` });
    return;
  }
  klp.withLock('moduleGoing', () => {
    if (klp.alive.get(mod.name) === mod) klp.alive.delete(mod.name);
    klp.seen.add(mod);
    cleanupModulePatches(klp, mod.name, null);
  });
}
