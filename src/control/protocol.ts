/**
 * The control protocol: newline-delimited JSON over a Unix socket. A request
 * is `{ id, op, ...args }`; the answer is `{ id, ok: true, result }` or
 * `{ id, ok: false, error: { code, errno, message } }`. A streaming request
 * (`dmesg` with `follow`) answers with `{ id, event }` messages until the
 * client closes the connection. A line that is no such request is answered
 * with an error whose id is the request's if it has a usable one, else null
 * (server.ts: validate); docs/security.md lists the server's limits.
 */

export const PROTOCOL = 'livepatch-control/1';

/** The CLI numbers its requests; the server also takes, and echoes, a string id. */
export type RequestId = number | string;

export interface Request {
  readonly id: RequestId;
  readonly op: string;
  readonly [arg: string]: unknown;
}

export interface ErrorInfo {
  readonly code: string;
  readonly errno: number;
  readonly message: string;
}

export type Response =
  | { readonly id: number; readonly ok: true; readonly result: unknown }
  | { readonly id: number; readonly ok: false; readonly error: ErrorInfo }
  | { readonly id: number; readonly event: unknown };

/** What `hello` answers: who this process is. */
export interface Hello {
  readonly protocol: string;
  readonly pid: number;
  readonly node: string;
  readonly argv: readonly string[];
  readonly root: string;
  readonly startedAt: number;
  readonly patches: number;
  readonly transition: string | null;
  readonly workers: number;
}
