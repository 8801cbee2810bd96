/*
 * callbacks.ts — the callback wrappers of kernel/livepatch/core.h (R9.1).
 *
 * Invariants:
 * - post_unpatch runs iff pre_patch ran and succeeded (or was absent) since
 *   the object was last set up, and at most once per such pre_patch (the
 *   `postUnpatchEnabled` gate).
 * - pre_patch fails by throwing or by returning a non-zero number; the
 *   failure is returned as a KlpError carrying the errno (R9.3).
 * - The kernel's other callbacks return void and cannot fail; a JavaScript
 *   one that throws is caught, logged and published, never propagated, so
 *   the transition that called it always finishes.
 */

import { KlpError, isKlpError } from './errors.ts';
import { EINVAL } from './errno.ts';
import type { Klp } from './context.ts';
import type { KlpObject } from './model.ts';
import { callbackThrew, objName } from './messages.ts';
import type { CallbackObject } from './types.ts';

function view(obj: KlpObject): CallbackObject {
  // R9.4: LIVE for vmlinux and normal enable/disable, COMING/GOING during
  // module load/unload — whatever the module's state is now.
  return Object.freeze({ name: obj.name, state: obj.mod !== null ? obj.mod.state : 'live', patch: obj.patch.name });
}

function errnoOf(error: unknown): number {
  if (isKlpError(error)) return error.errno;
  const e = (error as { errno?: unknown } | null)?.errno;
  return typeof e === 'number' && Number.isInteger(e) && e < 0 ? e : EINVAL;
}

/** klp_pre_patch_callback: throws a KlpError on failure. */
export function prePatch(obj: KlpObject): void {
  const cb = obj.callbacks?.prePatch;
  let errno = 0;
  let cause: unknown;
  if (cb !== undefined) {
    try {
      const ret: unknown = cb.call(obj.callbacks, view(obj));
      if (typeof ret === 'number' && ret !== 0) errno = ret < 0 && Number.isInteger(ret) ? ret : EINVAL;
      else if (ret !== null && typeof ret === 'object' && typeof (ret as { then?: unknown }).then === 'function') {
        errno = EINVAL;
        cause = new TypeError('pre-patch callbacks must be synchronous (it returned a Promise)');
      }
    } catch (error) {
      errno = errnoOf(error);
      cause = error;
    }
  }
  obj.postUnpatchEnabled = errno === 0;
  if (errno !== 0) {
    const detail = cause instanceof Error ? `: ${cause.message}` : ` (returned ${errno})`;
    throw new KlpError(
      errno,
      `livepatch: pre-patch callback failed for object '${objName(obj.name)}' of patch '${obj.patch.name}'${detail}`,
      { cause },
    );
  }
}

function callVoid(klp: Klp, obj: KlpObject, which: 'postPatch' | 'preUnpatch' | 'postUnpatch', label: string): void {
  const cb = obj.callbacks?.[which];
  if (cb === undefined) return;
  try {
    cb.call(obj.callbacks, view(obj));
  } catch (error) {
    klp.log.err(
      callbackThrew(obj.patch.name, label, objName(obj.name), error instanceof Error ? error.message : String(error)),
    );
    klp.log.publish({ type: 'callback-error', patch: obj.patch.name, object: obj.name, callback: label, error });
  }
}

export function postPatch(klp: Klp, obj: KlpObject): void {
  callVoid(klp, obj, 'postPatch', 'post_patch');
}

export function preUnpatch(klp: Klp, obj: KlpObject): void {
  callVoid(klp, obj, 'preUnpatch', 'pre_unpatch');
}

/** klp_post_unpatch_callback: gated by a successful pre_patch, then disarmed. */
export function postUnpatch(klp: Klp, obj: KlpObject): void {
  if (obj.postUnpatchEnabled) callVoid(klp, obj, 'postUnpatch', 'post_unpatch');
  obj.postUnpatchEnabled = false;
}
