/**
 * `node --import livepatch/register app.js`: arm every function the program
 * loads from here on, and start the runtime that patches them. The main
 * thread also opens the process's control socket; a worker thread gets its
 * own runtime, which follows the main thread's patches.
 *
 * Everything here is on the path of every start, so this loads only what
 * arming needs (docs/benchmarks.md, "Start-up"): no node:net, no
 * node:worker_threads, no node:crypto, no perf_hooks.
 */

import * as nodeModule from 'node:module';
import { dirname } from 'node:path';
import { compileCacheDir, unsafeDir, warnUnsafeDir } from './runtime/cache-dir.ts';
import type { RuntimeCode } from './runtime/errors.ts';

// Checked before the runtime is imported: on an older Node its imports would fail with a less helpful message.
if (typeof (nodeModule as { registerHooks?: unknown }).registerHooks !== 'function') {
  // coded as a RuntimeError is, without its module: see runtime/errors.ts
  const code: RuntimeCode = 'LP_ERR_NODE_VERSION';
  const message = `livepatch needs Node 24 or later (synchronous module hooks); this is Node ${process.version}`;
  throw Object.assign(new Error(message), { code });
}

// V8's code cache on disk, as Node offers it to tools (module.enableCompileCache;
// NODE_COMPILE_CACHE chooses the directory, NODE_DISABLE_COMPILE_CACHE=1 turns it
// off): instrumented code is larger than the original, and compiling it again at
// every start would be most of the loader's start-up cost (docs/loader.md).
// Enabled before the runtime loads, so livepatch's own modules are cached too.
// Never in a directory another user can write, which would decide what code
// this process runs: Node's own default, <tmpdir>/node-compile-cache, is
// whoever's made it first. The directory is checked (runtime/cache-dir.ts) and
// passed explicitly; a refused one is warned about and the cache stays off.
if (!process.env.NODE_DISABLE_COMPILE_CACHE && nodeModule.enableCompileCache !== undefined) {
  const enabled = nodeModule.getCompileCacheDir?.();
  if (enabled === undefined) {
    const dir = compileCacheDir();
    if (dir !== undefined) nodeModule.enableCompileCache(dir);
  } else {
    // NODE_COMPILE_CACHE: Node turned it on before this ran, and cannot turn it off; say so if it is unsafe
    const unsafe = unsafeDirOrError(dirname(enabled));
    if (unsafe !== undefined) {
      warnUnsafeDir(
        `livepatch: the compile cache directory ${unsafe}: Node enabled it from NODE_COMPILE_CACHE; ` +
          'set NODE_DISABLE_COMPILE_CACHE=1 or choose a directory of your own',
      );
    }
  }
}

const { startRuntime, isMainThread } = await import('./runtime/runtime.ts');
const rt = startRuntime();
// A worker's program starts only once the patches live in the process apply here too.
await rt.ready;

/**
 * The control socket opens once the program has run for CONTROL_DELAY_MS.
 * Opening it costs ≈ 6 ms (node:net, and node:cluster, which every listen()
 * loads), most of a small program's start under the loader; a program that
 * ends sooner is never patched, and one that runs longer pays it once, off
 * its start. No request could be served earlier anyway: the socket is
 * served by the event loop, which a starting program is not yet running.
 * The timer is unref'd: it never keeps a program alive. The CLI waits for
 * the socket of a process that is alive but has not opened it yet.
 */
const CONTROL_DELAY_MS = 100;
if (isMainThread && process.env.LIVEPATCH_CONTROL !== '0') {
  setTimeout(() => {
    import('./control/server.ts')
      .then(({ ControlServer }) => new ControlServer(rt).start())
      .catch((error: unknown) => {
        process.emitWarning(`livepatch: no control socket: ${(error as Error).message}`, {
          code: 'LIVEPATCH_NO_CONTROL',
        });
      });
  }, CONTROL_DELAY_MS).unref();
}

/** Why a directory must not be used (cache-dir.ts), or undefined; one that cannot be read is not warned about. */
function unsafeDirOrError(dir: string): string | undefined {
  try {
    return unsafeDir(dir);
  } catch {
    return undefined;
  }
}
