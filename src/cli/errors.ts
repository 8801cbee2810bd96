/**
 * The CLI's errors, and the one table that turns an error into the exit
 * status of `livepatch`: every code of every layer (src/runtime/errors.ts,
 * src/control/errors.ts, src/generator/errors.ts, and this file's) has a row,
 * and the type of the table makes the compiler check that none is missing.
 * The core's KlpError carries the kernel's errno: its exit status is the
 * errno itself (22 EINVAL, 16 EBUSY, 2 ENOENT, 17 EEXIST, 13 EACCES).
 * Anything else (a bug, a Node error) exits 1.
 */

import { isKlpError } from '../core/index.ts';
import type { ControlCode } from '../control/errors.ts';
import type { GeneratorCode } from '../generator/errors.ts';
import type { RuntimeCode } from '../runtime/errors.ts';

/** Every code, and when it is thrown. */
export const CLI_CODES = {
  LP_ERR_USAGE: 'a command line the command does not take: unknown command or option, missing or extra argument',
} as const;

export type CliCode = keyof typeof CLI_CODES;

/** The codes of every layer but the core's. */
export type LayerCode = CliCode | ControlCode | GeneratorCode | RuntimeCode;

export class CliError extends Error {
  readonly code: CliCode;

  constructor(code: CliCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/** A command line that the command does not take: the CLI prints the usage with it. */
export class UsageError extends CliError {
  override readonly name = 'UsageError';

  constructor(message: string) {
    super('LP_ERR_USAGE', message);
  }
}

/**
 * The exit statuses, after sysexits.h where one fits. Some are outcomes
 * rather than errors, returned by a command: `load --wait` that timed out
 * while the transition goes on (timeout), a build with nothing to patch
 * (failure) or one that refused a change (refused).
 */
export const EXIT = { ok: 0, failure: 1, usage: 64, refused: 65, input: 66, unavailable: 69, timeout: 75 } as const;

/** The exit status of an error, by its code. */
export const EXIT_STATUS: { readonly [C in LayerCode]: number } = {
  LP_ERR_USAGE: EXIT.usage,
  // the process cannot be reached: nothing was asked of it
  LP_ERR_NO_PROCESS: EXIT.unavailable,
  LP_ERR_CONNECT: EXIT.unavailable,
  LP_ERR_NOT_CONTROL_SOCKET: EXIT.unavailable,
  LP_ERR_SOCKET_DIR_UNSAFE: EXIT.unavailable,
  // the build's input is bad: the user's to fix (a tarball error reaches here as LP_ERR_BUILD_INPUT)
  LP_ERR_BUILD_INPUT: EXIT.input,
  LP_ERR_TARBALL: EXIT.input,
  LP_ERR_BUILD_INTERNAL: EXIT.failure,
  // the runtime's errors are thrown in the program's process, not in the CLI's: a patch module's load that
  // meets one is reported over the control socket as EIO (a KlpError); listed so that no code goes unmapped
  LP_ERR_NODE_VERSION: EXIT.failure,
  LP_ERR_NEEDS_LOADER: EXIT.failure,
  LP_ERR_NO_CLOSURE: EXIT.failure,
  LP_ERR_MODULE_NOT_LOADED: EXIT.failure,
  LP_ERR_MODULE_NOT_STARTED: EXIT.failure,
  LP_ERR_SYMBOLS_LOST: EXIT.failure,
  LP_ERR_TASK_SIGNAL: EXIT.failure,
  LP_ERR_INTERNAL: EXIT.failure,
};

/** The layer code an error carries, or null (a KlpError's code is an errno name, a Node error's its own). */
export function errorCode(error: unknown): LayerCode | null {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' && Object.hasOwn(EXIT_STATUS, code) ? (code as LayerCode) : null;
}

/** The exit status for an error that ends a command. */
export function exitStatus(error: unknown): number {
  if (isKlpError(error)) return -error.errno;
  const code = errorCode(error);
  return code === null ? EXIT.failure : EXIT_STATUS[code];
}
