/**
 * The generator's errors (`livepatch build`), each with a stable code, in
 * the style of Node's lib/internal/errors.js and undici's lib/core/errors.js.
 * Bad input is the user's to fix: the CLI prints the message and exits with
 * its own status (cli/errors.ts), never a stack. A change the build refuses
 * is no error: it is a refusal in the manifest (refusals.ts).
 */

/** Every code, and when it is thrown. */
export const GENERATOR_CODES = {
  LP_ERR_BUILD_INPUT:
    'a directory, revision, diff, package or tarball that does not exist or does not apply, ' +
    'or an old version that is not what the process (--pid) runs',
  LP_ERR_TARBALL: 'tar.ts: a package tarball that is not a gzipped tar (package-files.ts makes it LP_ERR_BUILD_INPUT)',
  LP_ERR_BUILD_INTERNAL:
    'plan.ts, generate.ts: the generator broke its own invariant (a declaration is not found again, ' +
    'the patch module it wrote does not parse); a bug',
} as const;

export type GeneratorCode = keyof typeof GENERATOR_CODES;

export class GeneratorError extends Error {
  readonly code: GeneratorCode;

  constructor(code: GeneratorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/** Bad input to the build: no such directory or revision, a diff that does not apply, the wrong old version. */
export class InputError extends GeneratorError {
  override readonly name = 'InputError';

  constructor(message: string, options?: ErrorOptions) {
    super('LP_ERR_BUILD_INPUT', message, options);
  }
}

/** A package tarball that cannot be read: never a partial result. */
export class TarError extends GeneratorError {
  override readonly name = 'TarError';

  constructor(message: string, options?: ErrorOptions) {
    super('LP_ERR_TARBALL', message, options);
  }
}
