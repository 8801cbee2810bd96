/**
 * `node --import livepatch/register app.js`: arm every function the program
 * loads from here on, and start the runtime that patches them. The main
 * thread also opens the process's control socket; a worker thread gets its
 * own runtime, which follows the main thread's patches.
 */

import * as nodeModule from 'node:module';
import { isMainThread } from 'node:worker_threads';

// Checked before the runtime is imported: on an older Node its imports would fail with a less helpful message.
if (typeof (nodeModule as { registerHooks?: unknown }).registerHooks !== 'function') {
  throw new Error(`livepatch needs Node 24 or later (synchronous module hooks); this is Node ${process.version}`);
}

// V8's code cache on disk, as Node offers it to tools (module.enableCompileCache;
// NODE_COMPILE_CACHE chooses the directory, NODE_DISABLE_COMPILE_CACHE=1 turns it
// off): instrumented code is larger than the original, and compiling it again at
// every start would be most of the loader's start-up cost (docs/loader.md).
// Enabled before the runtime loads, so livepatch's own modules are cached too.
nodeModule.enableCompileCache?.();

const { startRuntime } = await import('./runtime/runtime.ts');
const rt = startRuntime();
// A worker's program starts only once the patches live in the process apply here too.
await rt.ready;
if (isMainThread && process.env.LIVEPATCH_CONTROL !== '0') {
  const { ControlServer } = await import('./control/server.ts');
  try {
    new ControlServer(rt).start();
  } catch (error) {
    process.emitWarning(`livepatch: no control socket: ${(error as Error).message}`, { code: 'LIVEPATCH_NO_CONTROL' });
  }
}
