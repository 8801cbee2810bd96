/*
 * sysfs-names.ts — sysfs names for patches, objects and funcs (R12.7, R12.8),
 * and the attribute files that share a directory with them (R12.1–R12.7).
 *
 * Invariants:
 * - A name shown in the tree is the author's name with every '/' written
 *   as '!' (as kobject_set_name does for "cciss!c0d0"), so module ids such
 *   as "express/lib/router/index.js" become one directory each.
 * - PATCH_ATTRS and OBJECT_ATTRS are the kernel's klp_patch_attrs and
 *   klp_object_attrs (v6.13); funcs have no attributes, and a func's
 *   directory name always holds a ',' so it can never be an attribute's.
 */

/** klp_patch_attrs: the files of /sys/kernel/livepatch/<patch>/. */
export const PATCH_ATTRS = ['enabled', 'transition', 'force', 'replace', 'stack_order'] as const;
/** klp_object_attrs: the files of /sys/kernel/livepatch/<patch>/<object>/. */
export const OBJECT_ATTRS = ['patched'] as const;

/** The tree's root as kernfs_path() prints it (relative to /sys). */
export const KERNFS_ROOT = '/kernel/livepatch';

/** NAME_MAX: the longest directory name the tree accepts. */
export const NAME_MAX = 255;
/** KSYM_NAME_LEN: old_name must be shorter (R3.3). */
export const KSYM_NAME_LEN = 512;

export function encodeName(name: string): string {
  return name.replaceAll('/', '!');
}

/** "<object>" directory: module id or "vmlinux". */
export function objectDirName(name: string | null): string {
  return name === null ? 'vmlinux' : encodeName(name);
}

/** "<old_name>,<sympos>" directory; sympos 0 shows as 1 (R3.3). */
export function funcDirName(oldName: string, oldSympos: number): string {
  return `${encodeName(oldName)},${oldSympos === 0 ? 1 : oldSympos}`;
}

/**
 * Why `name` cannot be a directory of the tree, or null if it can. Patch
 * names (module names in the kernel) also refuse white space and are
 * limited to NAME_MAX; object and func names are checked after encoding.
 */
export function badDirName(name: string, strict: boolean): string | null {
  if (name.length === 0) return 'it is empty';
  if (name === '.' || name === '..') return `'${name}' is reserved`;
  if (name.includes('/')) return "it contains '/'";
  if (/[\u0000-\u001f\u007f]/.test(name)) return 'it contains a control character';
  if (strict && /\s/.test(name)) return 'it contains white space';
  if (strict && name.length > NAME_MAX) return `it is longer than ${NAME_MAX} characters`;
  return null;
}
