/*
 * sysfs.ts — /sys/kernel/livepatch (R12), derived from klp_patches.
 *
 *   <patch>/                      enabled (rw) transition (ro) force (wo)
 *                                 replace (ro) stack_order (ro)
 *   <patch>/<object>/             patched (ro)
 *   <patch>/<object>/<func>,<n>/  (no attributes)
 *
 * Invariants:
 * - The tree is computed from the core's state on every call, so a patch's
 *   directory exists exactly while the patch is in klp_patches (R3.1 to
 *   R11.2) and nothing can go stale.
 * - Values read as the kernel prints them: "%d\n".
 * - Writes parse with kstrtobool and fail as the kernel does: EINVAL for a
 *   bad value or a refused state change, EBUSY for another transition,
 *   EACCES for a read-only attribute (and for reading `force`), ENOENT,
 *   EISDIR, ENOTDIR for paths. A write returns the byte count.
 * - Names: '/' in a module id or a function name shows as '!'.
 */

import { KlpError } from './errors.ts';
import { EACCES, EINVAL, EISDIR, ENOENT, ENOTDIR } from './errno.ts';
import type { Klp } from './context.ts';
import type { KlpObject, KlpPatch } from './model.ts';
import { OBJECT_ATTRS, PATCH_ATTRS, funcDirName, objectDirName } from './sysfs-names.ts';

export const SYSFS_ROOT = '/sys/kernel/livepatch';

/** kstrtobool: 1/y/Y/t/T, 0/n/N/f/F, on/off; only the first one or two characters count. */
export function kstrtobool(s: string): boolean | null {
  switch (s[0]) {
    case 'y':
    case 'Y':
    case 't':
    case 'T':
    case '1':
      return true;
    case 'n':
    case 'N':
    case 'f':
    case 'F':
    case '0':
      return false;
    case 'o':
    case 'O':
      switch (s[1]) {
        case 'n':
        case 'N':
          return true;
        case 'f':
        case 'F':
          return false;
        default:
          return null;
      }
    default:
      return null;
  }
}

export interface SysfsOps {
  setEnabled(name: string, value: boolean): void;
  force(name: string): void;
}

type Node =
  | { kind: 'root' }
  | { kind: 'patch'; patch: KlpPatch }
  | { kind: 'object'; patch: KlpPatch; obj: KlpObject }
  | { kind: 'func' }
  | { kind: 'attr'; patch: KlpPatch; obj: KlpObject | null; attr: string };

function b(v: boolean): string {
  return v ? '1\n' : '0\n';
}

export class Sysfs {
  private readonly klp: Klp;
  private readonly ops: SysfsOps;

  constructor(klp: Klp, ops: SysfsOps) {
    this.klp = klp;
    this.ops = ops;
  }

  /** Split a path relative to the root (the absolute form is accepted too). */
  static split(path: string): string[] {
    let p = String(path);
    if (p === SYSFS_ROOT || p.startsWith(SYSFS_ROOT + '/')) p = p.slice(SYSFS_ROOT.length);
    return p.split('/').filter((c) => c.length > 0 && c !== '.');
  }

  private resolve(path: string): Node {
    const parts = Sysfs.split(path);
    const enoent = (): never => {
      throw new KlpError(ENOENT, `${SYSFS_ROOT}/${parts.join('/')}: No such file or directory`);
    };
    const enotdir = (): never => {
      throw new KlpError(ENOTDIR, `${SYSFS_ROOT}/${parts.join('/')}: Not a directory`);
    };
    if (parts.length === 0) return { kind: 'root' };
    const patch = this.klp.findPatch(parts[0]!);
    if (patch === undefined) return enoent();
    if (parts.length === 1) return { kind: 'patch', patch };
    const second = parts[1]!;
    if ((PATCH_ATTRS as readonly string[]).includes(second)) {
      if (parts.length > 2) return enotdir();
      return { kind: 'attr', patch, obj: null, attr: second };
    }
    const obj = patch.objects.find((o) => objectDirName(o.name) === second);
    if (obj === undefined) return enoent();
    if (parts.length === 2) return { kind: 'object', patch, obj };
    const third = parts[2]!;
    if ((OBJECT_ATTRS as readonly string[]).includes(third)) {
      if (parts.length > 3) return enotdir();
      return { kind: 'attr', patch, obj, attr: third };
    }
    if (!obj.funcs.some((f) => funcDirName(f.oldName, f.oldSympos) === third)) return enoent();
    if (parts.length > 3) return enoent(); // func directories have no attributes (R12.8)
    return { kind: 'func' };
  }

  /** `ls`: the entries of a directory, attributes first, then subdirectories in list order. */
  list(path = ''): string[] {
    const node = this.resolve(path);
    switch (node.kind) {
      case 'root':
        return this.klp.patches.map((p) => p.name);
      case 'patch':
        return [...PATCH_ATTRS, ...node.patch.objects.map((o) => objectDirName(o.name))];
      case 'object':
        return [...OBJECT_ATTRS, ...node.obj.funcs.map((f) => funcDirName(f.oldName, f.oldSympos))];
      case 'func':
        return [];
      case 'attr':
        throw new KlpError(ENOTDIR, `${SYSFS_ROOT}/${Sysfs.split(path).join('/')}: Not a directory`);
    }
  }

  exists(path: string): boolean {
    try {
      this.resolve(path);
      return true;
    } catch {
      return false;
    }
  }

  isDirectory(path: string): boolean {
    return this.resolve(path).kind !== 'attr';
  }

  /** `cat`. */
  read(path: string): string {
    const node = this.resolve(path);
    const full = `${SYSFS_ROOT}/${Sysfs.split(path).join('/')}`;
    if (node.kind !== 'attr') throw new KlpError(EISDIR, `${full}: Is a directory`);
    const { patch, obj, attr } = node;
    if (obj !== null) return b(obj.patched); // R12.7
    switch (attr) {
      case 'enabled':
        return b(patch.enabled); // R12.1
      case 'transition':
        return b(this.klp.transition?.patch === patch); // R12.3
      case 'replace':
        return b(patch.replace); // R12.5
      case 'stack_order':
        return `${this.klp.patches.indexOf(patch) + 1}\n`; // R12.6
      default:
        throw new KlpError(EACCES, `${full}: Permission denied`); // force is 0200
    }
  }

  /** `echo value > path`; returns the number of bytes written. */
  write(path: string, value: string): number {
    const node = this.resolve(path);
    const full = `${SYSFS_ROOT}/${Sysfs.split(path).join('/')}`;
    if (node.kind !== 'attr') throw new KlpError(EISDIR, `${full}: Is a directory`);
    const text = String(value);
    if (node.obj !== null || (node.attr !== 'enabled' && node.attr !== 'force')) {
      throw new KlpError(EACCES, `${full}: Permission denied`);
    }
    const v = kstrtobool(text);
    if (v === null) throw new KlpError(EINVAL, `${full}: Invalid argument (${JSON.stringify(text)} is not a boolean)`);
    if (node.attr === 'enabled') this.ops.setEnabled(node.patch.name, v);
    else if (v) this.ops.force(node.patch.name); // R12.4: writing false is a no-op
    return text.length;
  }
}
