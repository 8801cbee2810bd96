/**
 * A corpus case's process: `harness.mjs` under `livepatch run`, with the
 * old version as the running application, driven one JSON command at a time.
 */

import { LpProcess } from '../support/lp-process.ts';

export const harness = 'test/generator-corpus/harness.mjs';

export interface CaseProcess {
  readonly p: LpProcess;
  /** run the case's `setup` or `check` on a tree ('old', 'new', 'pre') and return its result */
  run(op: 'setup' | 'check', tree: string): Promise<unknown>;
}

export async function startCase(
  caseDir: string,
  env: Record<string, string>,
  nodeArgs: string[] = [],
): Promise<CaseProcess> {
  // no transform cache: it would be written into the fixtures
  const p = await LpProcess.start(harness, { env: { CASE_DIR: caseDir, LIVEPATCH_CACHE: '0', ...env }, nodeArgs });
  let id = 0;
  return {
    p,
    async run(op, tree) {
      const n = ++id;
      p.send(JSON.stringify({ id: n, op, tree }));
      const r = await p.waitFor((o) => o.id === n, 15_000);
      if ('error' in r) throw new Error(`${op} ${tree}: ${String(r.error)}`);
      return r.result;
    },
  };
}
