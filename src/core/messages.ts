/*
 * messages.ts — the kernel's livepatch messages, verbatim (R15 in docs/kernel-rules.md).
 *
 * Invariants: every function returns the text after pr_fmt's "livepatch: "
 * prefix exactly as the kernel formats it; the level beside each is the
 * kernel's (N = pr_notice 5, W = pr_warn 4, E = pr_err 3, D = pr_debug 7).
 * Nothing else in the core spells a kernel message: a test that compares
 * the log with the selftests' expected output checks this file.
 */

export const KERN_ERR = 3;
export const KERN_WARNING = 4;
export const KERN_NOTICE = 5;
export const KERN_INFO = 6;
export const KERN_DEBUG = 7;

/** pr_fmt(fmt) KBUILD_MODNAME ": " fmt */
export const PREFIX = 'livepatch: ';

type Dir = 'patching' | 'unpatching';

// #1 N
export const enablingPatch = (p: string): string => `enabling patch '${p}'`;
// #2 D
export const initializingTransition = (p: string, d: Dir): string => `'${p}': initializing ${d} transition`;
// #3 N
export const startingTransition = (p: string, d: Dir): string => `'${p}': starting ${d} transition`;
// #4 D
export const completingTransition = (p: string, d: Dir): string => `'${p}': completing ${d} transition`;
// #5 N
export const transitionComplete = (p: string, d: Dir): string => `'${p}': ${d} complete`;
// #6 D
export const cancelingTransition = (p: string): string => `'${p}': canceling patching transition, going to unpatch`;
// #7 D
export const reversingTransition = (p: string, from: Dir): string =>
  `'${p}': reversing transition from ${from === 'patching' ? 'patching to unpatching' : 'unpatching to patching'}`;
// #8 W
export const forcing = (): string => 'forcing remaining tasks to the patched state';
// #9 N
export const signaling = (): string => 'signaling remaining tasks';
// #10 D (klp_try_switch_task; comm:pid are the task's name:id)
export const taskIsRunning = (comm: string, pid: number): string => `klp_try_switch_task: ${comm}:${pid} is running`;
export const taskSleepingOn = (comm: string, pid: number, fn: string): string =>
  `klp_try_switch_task: ${comm}:${pid} is sleeping on function ${fn}`;
// #11 W
export const prePatchFailed = (obj: string): string => `pre-patch callback failed for object '${obj}'`;
// #12 W
export const failedToPatchObject = (obj: string): string => `failed to patch object '${obj}'`;
// #13 W
export const failedToEnable = (p: string): string => `failed to enable patch '${p}'`;
// #14 N
export const applyingToLoading = (p: string, m: string): string => `applying patch '${p}' to loading module '${m}'`;
// #15 W
export const failedToInitForModule = (p: string, m: string, err: number): string =>
  `failed to initialize patch '${p}' for module '${m}' (${err})`;
// #16 W
export const failedToApplyToModule = (p: string, m: string, err: number): string =>
  `failed to apply patch '${p}' to module '${m}' (${err})`;
// #17 W
export const refusingToLoad = (p: string, m: string): string =>
  `patch '${p}' failed for module '${m}', refusing to load module '${m}'`;
// #18 N
export const revertingOnUnload = (p: string, m: string): string => `reverting patch '${p}' on unloading module '${m}'`;
// #19 E
export const invalidModuleName = (): string => 'vmlinux.ko: invalid module name';
// #22 E
export const notCompatible = (p: string): string =>
  `Livepatch patch (${p}) is not compatible with the already installed livepatches.`;
// #23 E — objname printed raw in the ambiguity message: "(null)" for vmlinux.
export const symbolNotFound = (s: string): string => `symbol '${s}' not found in symbol table`;
export const symbolAmbiguous = (s: string, obj: string | null): string =>
  `unresolvable ambiguity for symbol '${s}' in object '${obj ?? '(null)'}'`;
export const symposNotFound = (pos: number, s: string, obj: string | null): string =>
  `symbol position ${pos} for symbol '${s}' in object '${obj ?? 'vmlinux'}' not found`;
// Extension (oldHash), in the style of #23.
export const symbolHashMismatch = (s: string, obj: string | null, want: string, got: string | undefined): string =>
  `symbol '${s}' in object '${obj ?? 'vmlinux'}' has hash ${got ?? '(none)'}, patch expects ${want}`;
// #25 E
export const failedToFindLocation = (fn: string): string => `failed to find location for function '${fn}'`;
export const failedToRegisterHandler = (fn: string, err: number): string =>
  `failed to register ftrace handler for function '${fn}' (${err})`;
// #27 — the WARN has no pr_fmt prefix (it goes through __warn_printk).
export const duplicateShadow = (p: string, id: string): string => `Duplicate shadow variable <${p}, ${id}>`;
export const shadowCtorFailed = (p: string, id: string, err: number): string =>
  `Failed to construct shadow variable <${p}, ${id}> (${err})`;
// Not livepatch's own: what sysfs and kobject print (each with its own pr_fmt)
// when klp_init_object or klp_init_func adds a directory whose name is taken
// in its parent (kobject_add: -EEXIST). fs/sysfs/dir.c sysfs_warn_dup, W (its
// dump_stack() is not reproduced); `path` is kernfs_path(parent) + "/" + name.
export const sysfsDuplicate = (path: string): string => `sysfs: cannot create duplicate filename '${path}'`;
// lib/kobject.c kobject_add_internal, E.
export const kobjectExists = (name: string): string =>
  `kobject: kobject_add_internal failed for ${name} with -EEXIST, don't try to register things with the same name in the same directory.`;
// Extension: a callback that the kernel declares void threw in JavaScript.
export const callbackThrew = (p: string, cb: string, obj: string, msg: string): string =>
  `'${p}': ${cb} callback for object '${obj}' threw: ${msg}`;

export const dirName = (target: 0 | 1): Dir => (target === 1 ? 'patching' : 'unpatching');
/** name ?: "vmlinux" */
export const objName = (name: string | null): string => name ?? 'vmlinux';
