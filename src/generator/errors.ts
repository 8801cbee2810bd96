/**
 * Bad input to the build (a directory or revision that does not exist, a
 * diff that does not apply, an old version that is not the running one):
 * the CLI prints the message and exits with its own code, never a stack.
 */
export class InputError extends Error {
  override readonly name = 'InputError';
}
