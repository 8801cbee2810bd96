/*
 * errno.ts — the negative errno values the core returns, as the kernel does.
 *
 * Invariant: every value is the negated Linux errno of the same name, so a
 * caller that prints `strerror(-errno)` or compares with the kernel's
 * selftests sees the same numbers (-19 "No such device", -16 "Device or
 * resource busy", ...).
 */

export const EPERM = -1;
export const ENOENT = -2;
export const EIO = -5;
export const EAGAIN = -11;
export const ENOMEM = -12;
export const EACCES = -13;
export const EFAULT = -14;
export const EBUSY = -16;
export const EEXIST = -17;
export const ENODEV = -19;
export const ENOTDIR = -20;
export const EISDIR = -21;
export const EINVAL = -22;
export const EDEADLK = -35;
export const ENAMETOOLONG = -36;
export const ENOSYS = -38;
export const EADDRINUSE = -98;
export const ECANCELED = -125;

/** errno value → symbolic name ('EINVAL'), for KlpError.code. */
const NAMES: ReadonlyMap<number, string> = new Map([
  [EPERM, 'EPERM'],
  [ENOENT, 'ENOENT'],
  [EIO, 'EIO'],
  [EAGAIN, 'EAGAIN'],
  [ENOMEM, 'ENOMEM'],
  [EACCES, 'EACCES'],
  [EFAULT, 'EFAULT'],
  [EBUSY, 'EBUSY'],
  [EEXIST, 'EEXIST'],
  [ENODEV, 'ENODEV'],
  [ENOTDIR, 'ENOTDIR'],
  [EISDIR, 'EISDIR'],
  [EINVAL, 'EINVAL'],
  [EDEADLK, 'EDEADLK'],
  [ENAMETOOLONG, 'ENAMETOOLONG'],
  [ENOSYS, 'ENOSYS'],
  [EADDRINUSE, 'EADDRINUSE'],
  [ECANCELED, 'ECANCELED'],
]);

/** Human text as strerror(3) prints it, for the errnos a user is likely to meet. */
const TEXTS: ReadonlyMap<number, string> = new Map([
  [EPERM, 'Operation not permitted'],
  [ENOENT, 'No such file or directory'],
  [EIO, 'Input/output error'],
  [EAGAIN, 'Resource temporarily unavailable'],
  [ENOMEM, 'Cannot allocate memory'],
  [EACCES, 'Permission denied'],
  [EFAULT, 'Bad address'],
  [EBUSY, 'Device or resource busy'],
  [EEXIST, 'File exists'],
  [ENODEV, 'No such device'],
  [ENOTDIR, 'Not a directory'],
  [EISDIR, 'Is a directory'],
  [EINVAL, 'Invalid argument'],
  [EDEADLK, 'Resource deadlock avoided'],
  [ENAMETOOLONG, 'File name too long'],
  [ENOSYS, 'Function not implemented'],
  [EADDRINUSE, 'Address already in use'],
  [ECANCELED, 'Operation canceled'],
]);

export function errnoName(errno: number): string {
  return NAMES.get(errno) ?? `E${-errno}`;
}

export function strerror(errno: number): string {
  return TEXTS.get(errno) ?? `Unknown error ${-errno}`;
}
