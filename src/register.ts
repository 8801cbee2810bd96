/**
 * `node --import livepatch/register app.js`: arm every function the program
 * loads from here on, and start the runtime that patches them. The main
 * thread also opens the process's control socket; a worker thread gets its
 * own runtime, which follows the main thread's patches.
 */

import { isMainThread } from 'node:worker_threads';
import { startRuntime } from './runtime/runtime.ts';
import { ControlServer } from './control/server.ts';

const rt = startRuntime();
// A worker's program starts only once the patches live in the process apply here too.
await rt.ready;
if (isMainThread && process.env.LIVEPATCH_CONTROL !== '0') {
  try {
    new ControlServer(rt).start();
  } catch (error) {
    process.emitWarning(`livepatch: no control socket: ${(error as Error).message}`, { code: 'LIVEPATCH_NO_CONTROL' });
  }
}
