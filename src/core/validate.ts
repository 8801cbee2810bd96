/*
 * validate.ts — the checks klp_enable_patch and klp_init_patch make on a
 * patch definition (R2.1 steps 1–2, R3.1–R3.3), with clear messages.
 *
 * Invariants:
 * - Nothing here changes state; a rejected definition leaves the core as
 *   it was.
 * - validateShape runs before the state compatibility check (R14.4) and
 *   covers what klp_enable_patch checks before it (a patch, its objects,
 *   each object's funcs array) and what that check reads (states,
 *   replace); it logs nothing, as the kernel's early -EINVALs log nothing.
 * - checkPatchDir, checkObjectDir and checkObjectFuncs are klp_init_patch,
 *   klp_init_object and klp_init_func. initPatch calls them where the
 *   kernel does: the patch's directory first, then object by object in
 *   order, each object's name and funcs before its symbols are resolved
 *   (R3.1, R3.2), so a bad object after a bad symbol fails on the symbol.
 *   They log nothing, except when a directory's name is taken in its
 *   parent (an object or func listed twice, an object named like one of
 *   the patch's attribute files): kobject_add fails with EEXIST and sysfs
 *   and kobject print their lines (R3.2, R3.3).
 */

import { KlpError } from './errors.ts';
import { EEXIST, EINVAL } from './errno.ts';
import type { Klp } from './context.ts';
import type { KernelLog } from './log.ts';
import { kobjectExists, sysfsDuplicate } from './messages.ts';
import {
  KERNFS_ROOT,
  KSYM_NAME_LEN,
  NAME_MAX,
  PATCH_ATTRS,
  badDirName,
  funcDirName,
  objectDirName,
} from './sysfs-names.ts';
import type { PatchDef } from './types.ts';

const CONSISTENCIES = new Set(['task', 'function', 'global', 'request']);

function fail(errno: number, message: string): never {
  throw new KlpError(errno, `livepatch: ${message}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

/** Before the compatibility check: the definition's skeleton. */
export function validateShape(klp: Klp, def: unknown): asserts def is PatchDef {
  if (!isObject(def)) fail(EINVAL, 'patch definition must be an object');
  const name = def['name'];
  if (typeof name !== 'string' || name.length === 0) fail(EINVAL, 'patch name must be a non-empty string');
  const p = `patch '${name}'`;
  // The module loader refuses a second module of the same name before
  // klp_enable_patch runs; a forced patch's module can never leave (R11.3).
  if (klp.findPatch(name) !== undefined) fail(EEXIST, `${p} already exists`);
  if (klp.forcedGone.has(name))
    fail(
      EEXIST,
      `${p} was forced earlier; its module can never be unloaded, so a patch of that name cannot be loaded again`,
    );
  const objects = def['objects'];
  if (!Array.isArray(objects)) fail(EINVAL, `${p}: 'objects' must be an array`);
  objects.forEach((obj: unknown, i: number) => {
    if (!isObject(obj)) fail(EINVAL, `${p}: object #${i} must be an object`);
    const oname = obj['name'];
    if (oname !== null && oname !== undefined && typeof oname !== 'string') {
      fail(EINVAL, `${p}: object #${i}: 'name' must be a string (a module id) or null (the process itself)`);
    }
    if (!Array.isArray(obj['funcs'])) {
      fail(
        EINVAL,
        `${p}: object '${oname ?? 'vmlinux'}' has no 'funcs' array (use [] for an object that only carries callbacks)`,
      );
    }
  });
  const replace = def['replace'];
  if (replace !== undefined && typeof replace !== 'boolean') fail(EINVAL, `${p}: 'replace' must be a boolean`);
  const consistency = def['consistency'];
  if (consistency !== undefined && !CONSISTENCIES.has(consistency as string)) {
    fail(
      EINVAL,
      `${p}: 'consistency' must be 'task', 'request', 'function' or 'global', got ${JSON.stringify(consistency)}`,
    );
  }
  const states = def['states'];
  if (states !== undefined) {
    if (!Array.isArray(states)) fail(EINVAL, `${p}: 'states' must be an array`);
    const ids = new Set<number>();
    states.forEach((s: unknown, i: number) => {
      if (!isObject(s)) fail(EINVAL, `${p}: state #${i} must be an object`);
      const id = s['id'];
      const version = s['version'];
      // R14.1: id 0 terminates the kernel's array, so it can never be a state.
      if (typeof id !== 'number' || !Number.isSafeInteger(id) || id <= 0) {
        fail(EINVAL, `${p}: state #${i}: 'id' must be a positive integer, got ${String(id)}`);
      }
      if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 0) {
        fail(EINVAL, `${p}: state ${id}: 'version' must be a non-negative integer, got ${String(version)}`);
      }
      if (ids.has(id)) fail(EINVAL, `${p}: state ${id} is listed twice`);
      ids.add(id);
    });
  }
}

/**
 * kobject_add failing with -EEXIST under `parent` (a kernfs path): sysfs
 * warns (sysfs_warn_dup), kobject complains (kobject_add_internal).
 */
function exists(log: KernelLog, parent: string, name: string, message: string): never {
  log.warnRaw(sysfsDuplicate(`${parent}/${name}`));
  log.errRaw(kobjectExists(name));
  fail(EEXIST, message);
}

/** klp_init_patch's kobject_add of <patch> (R3.1): the name must make a directory. */
export function checkPatchDir(def: PatchDef): void {
  const bad = badDirName(def.name, true);
  if (bad !== null) fail(EINVAL, `patch name '${def.name}' cannot be a sysfs directory: ${bad}`);
}

/**
 * A new set of the names taken in <patch>/: its attribute files (R12.1–R12.6).
 * checkObjectDir adds each object's directory as it is created.
 */
export function patchDirEntries(): Set<string> {
  return new Set<string>(PATCH_ATTRS);
}

/**
 * klp_init_object's checks and its kobject_add of <patch>/<object> (R3.2):
 * `taken` holds the names already in <patch>/ and gets this one.
 */
export function checkObjectDir(log: KernelLog, patch: string, oname: string | null, taken: Set<string>): void {
  const p = `patch '${patch}'`;
  const o = `${p}: object '${oname ?? 'vmlinux'}'`;
  if (oname !== null) {
    if (oname.length === 0) fail(EINVAL, `${p}: an object's name is empty (use null for the process itself)`);
    if (oname === 'vmlinux')
      fail(EINVAL, `${p}: object name 'vmlinux' is reserved for the process itself (name: null)`);
    const why = badDirName(objectDirName(oname), false);
    if (why !== null) fail(EINVAL, `${o}: the name cannot be a sysfs directory: ${why}`);
    if (oname.length > NAME_MAX) fail(EINVAL, `${o}: the name is longer than ${NAME_MAX} characters`);
  }
  const dir = objectDirName(oname);
  if (taken.has(dir)) {
    const what = (PATCH_ATTRS as readonly string[]).includes(dir)
      ? `${o} has the name of the patch's attribute file '${dir}'`
      : `${o} is listed twice`;
    exists(log, `${KERNFS_ROOT}/${patch}`, dir, what);
  }
  taken.add(dir);
}

/**
 * The author's funcs of one object, as klp_init_func checks each in turn
 * (R3.3), and the object's callbacks. An `oldName` may be empty: the kernel
 * refuses only NULL; '' gets the directory ",1" and is then not found in
 * the symbol table like any other missing name (R3.5).
 */
export function checkObjectFuncs(
  log: KernelLog,
  patch: string,
  oname: string | null,
  funcs: readonly unknown[],
  callbacks: unknown,
): void {
  const o = `patch '${patch}': object '${oname ?? 'vmlinux'}'`;
  if (callbacks !== undefined && callbacks !== null) {
    if (!isObject(callbacks)) fail(EINVAL, `${o}: 'callbacks' must be an object`);
    for (const k of ['prePatch', 'postPatch', 'preUnpatch', 'postUnpatch']) {
      if (callbacks[k] !== undefined && typeof callbacks[k] !== 'function')
        fail(EINVAL, `${o}: callback '${k}' must be a function`);
    }
  }
  const funcDirs = new Set<string>();
  funcs.forEach((func: unknown, i: number) => {
    if (!isObject(func)) fail(EINVAL, `${o}: func #${i} must be an object`);
    const oldName = func['oldName'];
    if (typeof oldName !== 'string') fail(EINVAL, `${o}: func #${i} has no 'oldName'`);
    const f = `${o}: func '${oldName}'`;
    if (typeof func['newFunc'] !== 'function') fail(EINVAL, `${f} has no 'newFunc' function`);
    if (oldName.length >= KSYM_NAME_LEN)
      fail(EINVAL, `${f}: 'oldName' must be shorter than ${KSYM_NAME_LEN} characters`);
    const sympos = func['oldSympos'];
    if (sympos !== undefined && (typeof sympos !== 'number' || !Number.isSafeInteger(sympos) || sympos < 0)) {
      fail(EINVAL, `${f}: 'oldSympos' must be a non-negative integer, got ${String(sympos)}`);
    }
    const dir = funcDirName(oldName, (sympos as number | undefined) ?? 0);
    const why = badDirName(dir, false);
    if (why !== null) fail(EINVAL, `${f}: the name cannot be a sysfs directory: ${why}`);
    if (func['immediate'] !== undefined && typeof func['immediate'] !== 'boolean')
      fail(EINVAL, `${f}: 'immediate' must be a boolean`);
    if (func['oldHash'] !== undefined && (typeof func['oldHash'] !== 'string' || func['oldHash'].length === 0)) {
      fail(EINVAL, `${f}: 'oldHash' must be a non-empty string`);
    }
    if (funcDirs.has(dir)) {
      exists(
        log,
        `${KERNFS_ROOT}/${patch}/${objectDirName(oname)}`,
        dir,
        `${f} (position ${sympos ?? 0}) is listed twice`,
      );
    }
    funcDirs.add(dir);
  });
}
