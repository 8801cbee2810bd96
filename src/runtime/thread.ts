/**
 * Which thread this is, without loading node:worker_threads: that module
 * pulls in the Worker class and Node's streams, ≈ 2.5 ms of every start, and
 * the main thread needs it only once the program starts a worker.
 *
 * A worker's `process` cannot change the process's state: Node replaces
 * `process.chdir` and `process.abort` there with functions that throw
 * ERR_WORKER_UNSUPPORTED_OPERATION (documented) and marks them `disabled`
 * (lib/internal/bootstrap/switches/does_not_own_process_state.js). Read
 * before the program runs (the loader's `--import`), so no program has
 * replaced them yet. test/runtime/thread.test.ts checks it against
 * worker_threads.isMainThread in both kinds of thread.
 */
export const isMainThread: boolean = (process.chdir as { disabled?: boolean }).disabled !== true;
