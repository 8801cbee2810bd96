/*
 * errors.ts — KlpError, the one error type the core throws for kernel-level
 * failures.
 *
 * Invariants: `errno` is negative (as the kernel returns it), `code` is its
 * symbolic name, and the message names the thing that is wrong (patch,
 * object, function, attribute). A KlpError is thrown only after the core has
 * restored its state (see core.ts); programming errors of the caller that the
 * kernel would not even compile (a non-object shadow key) are TypeErrors.
 */

import { errnoName } from './errno.ts';

export class KlpError extends Error {
  readonly errno: number;
  readonly code: string;

  constructor(errno: number, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KlpError';
    this.errno = errno;
    this.code = errnoName(errno);
  }
}

export function isKlpError(e: unknown): e is KlpError {
  return e instanceof KlpError;
}
