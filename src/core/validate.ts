/*
 * validate.ts — the checks klp_enable_patch and klp_init_patch make on a
 * patch definition (R2.1 steps 1–2, R3.2, R3.3), with clear messages.
 *
 * Invariants:
 * - Nothing here logs or changes state: the kernel returns these errors
 *   silently, and a rejected definition leaves the core untouched.
 * - validateShape runs before the state compatibility check (R14.4) and
 *   covers what the kernel checks before it (and what that check reads);
 *   validateNames runs after it, like klp_init_object/klp_init_func.
 */

import { KlpError } from './errors.ts';
import { EEXIST, EINVAL } from './errno.ts';
import type { Klp } from './context.ts';
import { KSYM_NAME_LEN, NAME_MAX, badDirName, funcDirName, objectDirName } from './sysfs-names.ts';
import type { PatchDef } from './types.ts';

const CONSISTENCIES = new Set(['task', 'function', 'global']);

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
    fail(EINVAL, `${p}: 'consistency' must be 'task', 'function' or 'global', got ${JSON.stringify(consistency)}`);
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

/** After the compatibility check: names, funcs and callbacks (R3.2, R3.3). */
export function validateNames(def: PatchDef): void {
  const p = `patch '${def.name}'`;
  const bad = badDirName(def.name, true);
  if (bad !== null) fail(EINVAL, `patch name '${def.name}' cannot be a sysfs directory: ${bad}`);
  const objectDirs = new Set<string>();
  for (const obj of def.objects) {
    const oname = obj.name ?? null;
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
    if (objectDirs.has(dir)) fail(EEXIST, `${o} is listed twice`);
    objectDirs.add(dir);
    const cbs: unknown = obj.callbacks;
    if (cbs !== undefined && cbs !== null) {
      if (!isObject(cbs)) fail(EINVAL, `${o}: 'callbacks' must be an object`);
      for (const k of ['prePatch', 'postPatch', 'preUnpatch', 'postUnpatch']) {
        if (cbs[k] !== undefined && typeof cbs[k] !== 'function')
          fail(EINVAL, `${o}: callback '${k}' must be a function`);
      }
    }
    const funcDirs = new Set<string>();
    obj.funcs.forEach((func: unknown, i: number) => {
      if (!isObject(func)) fail(EINVAL, `${o}: func #${i} must be an object`);
      const oldName = func['oldName'];
      if (typeof oldName !== 'string' || oldName.length === 0) fail(EINVAL, `${o}: func #${i} has no 'oldName'`);
      const f = `${o}: func '${oldName}'`;
      if (typeof func['newFunc'] !== 'function') fail(EINVAL, `${f} has no 'newFunc' function`);
      if (oldName.length >= KSYM_NAME_LEN)
        fail(EINVAL, `${f}: 'oldName' must be shorter than ${KSYM_NAME_LEN} characters`);
      const sympos = func['oldSympos'];
      if (sympos !== undefined && (typeof sympos !== 'number' || !Number.isSafeInteger(sympos) || sympos < 0)) {
        fail(EINVAL, `${f}: 'oldSympos' must be a non-negative integer, got ${String(sympos)}`);
      }
      const why = badDirName(funcDirName(oldName, (sympos as number | undefined) ?? 0), false);
      if (why !== null) fail(EINVAL, `${f}: the name cannot be a sysfs directory: ${why}`);
      if (func['immediate'] !== undefined && typeof func['immediate'] !== 'boolean')
        fail(EINVAL, `${f}: 'immediate' must be a boolean`);
      if (func['oldHash'] !== undefined && (typeof func['oldHash'] !== 'string' || func['oldHash'].length === 0)) {
        fail(EINVAL, `${f}: 'oldHash' must be a non-empty string`);
      }
      const dir = funcDirName(oldName, (sympos as number | undefined) ?? 0);
      if (funcDirs.has(dir)) fail(EEXIST, `${f} (position ${sympos ?? 0}) is listed twice`);
      funcDirs.add(dir);
    });
  }
}
