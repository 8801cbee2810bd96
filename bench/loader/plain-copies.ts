/**
 * The plain copies the in-process benches compare against: the same files as
 * the armed workloads load, in `.plain/` (gitignored), which the benches
 * exclude from instrumentation (`LIVEPATCH_EXCLUDE=bench/loader/.plain/**`),
 * so one process under one loader runs both, and the only difference is the
 * entry checks. Made on first use from node_modules and workloads/.
 */

import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = new URL('./', import.meta.url);
const copies: Record<string, string> = {
  'acorn/acorn.mjs': '../../node_modules/acorn/dist/acorn.mjs',
  'marked/marked.esm.js': '../../node_modules/marked/lib/marked.esm.js',
  'typescript/typescript.cjs': '../../node_modules/typescript5/lib/typescript.js',
  'async-lib.mjs': 'workloads/async-lib.mjs',
  'http-app.mjs': 'workloads/http-app.mjs',
};

export function ensurePlainCopies(): void {
  for (const [to, from] of Object.entries(copies)) {
    const dest = fileURLToPath(new URL(`.plain/${to}`, here));
    // the workloads/ files may change: always copy them; the packages' are pinned
    if (existsSync(dest) && from.startsWith('../')) continue;
    mkdirSync(dirname(dest), { recursive: true });
    copyFileSync(fileURLToPath(new URL(from, here)), dest);
  }
}
