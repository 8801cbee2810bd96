/**
 * The control layer's errors: failures to reach a process over its control
 * socket, as opposed to an error the process reports (that one is the core's
 * KlpError, rebuilt from the answer). Each has a stable code, in the style of
 * Node's lib/internal/errors.js and undici's lib/core/errors.js; the CLI
 * turns a code into its exit status (cli/errors.ts).
 */

/** Every code, and when it is thrown. */
export const CONTROL_CODES = {
  LP_ERR_NO_PROCESS: 'no process runs under the loader, or the one asked for has no control socket (it exited)',
  LP_ERR_CONNECT: 'the control socket cannot be reached, or the connection to it was lost or closed',
  LP_ERR_NOT_CONTROL_SOCKET: 'the socket does not answer hello (in 3 s) with the livepatch control protocol',
  LP_ERR_SOCKET_DIR_UNSAFE: 'paths.ts: the socket directory is no directory, has another owner, or others may enter it',
} as const;

export type ControlCode = keyof typeof CONTROL_CODES;

export class ControlError extends Error {
  readonly code: ControlCode;

  constructor(code: ControlCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/** A failure to reach a process (as opposed to an error the process reported). */
export class ConnectError extends ControlError {
  override readonly name = 'ConnectError';

  constructor(code: Exclude<ControlCode, 'LP_ERR_SOCKET_DIR_UNSAFE'>, message: string) {
    super(code, message);
  }
}
