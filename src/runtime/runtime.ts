/**
 * The runtime of one realm (the main thread, or a worker): the slot table,
 * the frame table and the loader, created once by `livepatch/register`.
 */

import { fileURLToPath } from 'node:url';
import { dirname, sep } from 'node:path';
import { SlotTable } from './slots.ts';
import { FrameTable } from './frames.ts';
import { installAbi } from './abi.ts';
import { installToString } from './tostring.ts';
import { installLoader } from './loader.ts';
import { appRoot } from './module-id.ts';
import { compileFilter } from './filter.ts';
import { TransformCache } from '../instrument/cache.ts';
import { cacheDir } from './cache-dir.ts';

export class Runtime {
  readonly slots = new SlotTable();
  readonly frames = new FrameTable();
  readonly root: string;

  constructor(root: string) {
    this.root = root;
  }
}

let current: Runtime | undefined;

export function runtime(): Runtime | undefined {
  return current;
}

/** livepatch's own files and the parser it runs on: never instrumented */
function selfDirs(): string[] {
  const here = dirname(dirname(fileURLToPath(import.meta.url))); // dist/ or src/
  const dirs = [here + sep];
  for (const dep of ['oxc-parser', '@jridgewell/sourcemap-codec']) {
    try {
      let dir = dirname(fileURLToPath(import.meta.resolve(dep)));
      while (!dir.endsWith(sep + dep.split('/').join(sep)) && dirname(dir) !== dir) dir = dirname(dir);
      dirs.push(dir + sep);
    } catch {
      // not resolvable from here: nothing to exclude
    }
  }
  return dirs;
}

export function startRuntime(env: NodeJS.ProcessEnv = process.env): Runtime {
  if (current !== undefined) return current;
  const rt = new Runtime(appRoot(process.argv[1], env));
  current = rt;
  // For tools and tests in the same process (the control socket is the way in from outside).
  Object.defineProperty(globalThis, Symbol.for('livepatch.runtime'), { value: rt });
  installAbi(rt.frames);
  installToString(rt.slots);
  installLoader({
    root: rt.root,
    slots: rt.slots,
    cache: env.LIVEPATCH_CACHE === '0' ? undefined : new TransformCache(cacheDir(rt.root, env)),
    include: compileFilter(env.LIVEPATCH_INCLUDE, true),
    exclude: compileFilter(env.LIVEPATCH_EXCLUDE, false),
    selfDirs: selfDirs(),
    frames: env.LIVEPATCH_FRAMES !== '0',
  });
  return rt;
}
