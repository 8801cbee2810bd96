/**
 * The runtime's errors: what the runtime, the package's API (src/index.ts)
 * and the loader's entry (src/register.ts) throw, each with a stable code, in
 * the style of Node's lib/internal/errors.js and undici's lib/core/errors.js.
 * A failure of the kernel's own rules is the core's KlpError, not one of these.
 *
 * These stay inside the process: one that reaches the control socket is
 * reported to the CLI as EIO (control/server.ts, errorInfo), so its exit
 * status is 5; the CLI still lists every code here (cli/errors.ts).
 *
 * `name` stays `Error` (what these printed before they had codes) but for
 * LivepatchSignal, which programs may tell apart by its name.
 *
 * index.ts and register.ts throw errors of these codes as plain Errors with
 * the code set, not as RuntimeErrors: importing this module from them would
 * put it in a bundle chunk of its own, one more ES module at every start
 * (docs/benchmarks.md, "Start-up": three ES modules, not four).
 */

/** Every code, and when it is thrown. */
export const RUNTIME_CODES = {
  LP_ERR_NODE_VERSION: 'register.ts: the Node running the program has no synchronous module hooks (before Node 24)',
  LP_ERR_NEEDS_LOADER: 'index.ts: moduleScope(), shadow or the state API in a process not started under the loader',
  LP_ERR_NO_CLOSURE: 'index.ts: closure() other than at the start of a replacement of a closure',
  LP_ERR_MODULE_NOT_LOADED: 'index.ts: moduleScope() of a module id the process has not loaded',
  LP_ERR_MODULE_NOT_STARTED: 'index.ts: moduleScope() of a module whose body has not started running',
  LP_ERR_SYMBOLS_LOST:
    "loader.ts: a module's symbol table is gone from the transform cache and cannot be made again from its file",
  LP_ERR_TASK_SIGNAL:
    "runtime.ts: the abort reason of a pending task's taskSignal() (the kernel's fake signal, R5.14); never thrown",
  LP_ERR_INTERNAL: 'slots.ts: a slot declared twice, or one that does not exist or cannot be armed; a bug',
} as const;

export type RuntimeCode = keyof typeof RUNTIME_CODES;

export class RuntimeError extends Error {
  readonly code: RuntimeCode;

  constructor(code: RuntimeCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/** The fake signal (R5.14) a pending task receives: the reason its AbortSignal aborts with. */
export class LivepatchSignal extends RuntimeError {
  readonly patch: string;

  constructor(patch: string) {
    super('LP_ERR_TASK_SIGNAL', `livepatch: patch '${patch}' is waiting for this task to leave the patched functions`);
    this.name = 'LivepatchSignal';
    this.patch = patch;
  }
}
