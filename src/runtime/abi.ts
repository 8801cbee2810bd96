/**
 * The names instrumented code calls, installed once per realm as script-scope
 * constants (V8 folds them into optimized code):
 *
 *   $lpO              what an armed slot returns to let the original body run
 *   $lpE(handle, i)   enter a frame of function i of the module (async functions, generators)
 *   $lpX(frame)       leave it
 *   $lpD(fail, value) throw the error `fail(value)` throws, as if from the caller: a
 *                     destructured arrow parameter the loader moved into the body fails
 *                     with the message V8 gives for a parameter (see instrument/fragments.ts)
 *
 * Per module the loader declares `$lp<key>` (its handle) and its slots; see slots.ts.
 */

import { runInThisContext } from 'node:vm';
import type { ModuleHandle } from './slots.ts';
import type { FrameTable } from './frames.ts';
import { currentTask } from './tasks.ts';

/** The sentinel a slot returns when the original code must run. */
// registered: the same symbol in every copy of this module (the bundle, and dist/ files a test imports)
export const RUN_ORIGINAL: unique symbol = Symbol.for('livepatch.original');

let installed = false;

export function installAbi(frames: FrameTable): void {
  if (installed) return;
  installed = true;
  const enter = (handle: ModuleHandle, index: number): number => frames.enter(handle.base + index, 0, currentTask());
  const exit = (frame: number): void => frames.exit(frame);
  const g = globalThis as { $lpInstall?: unknown };
  g.$lpInstall = { enter, exit, original: RUN_ORIGINAL, destructureError };
  try {
    runInThisContext(
      'const $lpE=globalThis.$lpInstall.enter,$lpX=globalThis.$lpInstall.exit,$lpO=globalThis.$lpInstall.original,$lpD=globalThis.$lpInstall.destructureError;',
      {
        filename: 'livepatch:abi',
      },
    );
  } finally {
    delete g.$lpInstall;
  }
}

/** `$lpD`: only reached when the value is null or undefined, so `fail` throws. */
function destructureError(fail: (value: unknown) => unknown, value: unknown): never {
  try {
    fail(value);
  } catch (e) {
    // the stack as the caller's: the arrow whose parameter it was is the top frame
    if (e instanceof Error) Error.captureStackTrace(e, destructureError);
    throw e;
  }
  throw new TypeError(`Cannot destructure '${String(value)}'`);
}
