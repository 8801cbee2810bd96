/**
 * What a start under the loader loads, and the integrations that wait for
 * the program: node:net, node:worker_threads, node:crypto, Node's streams
 * and perf_hooks are loaded only once the program needs them (each costs
 * milliseconds of every start: docs/benchmarks.md, "Start-up"); the control
 * socket opens once the program has run 100 ms.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInstrumented, runNode } from '../support/node.ts';

const F = 'test/runtime/fixtures/start/';

test('a start under the loader loads no builtin the program does not (net, worker_threads, crypto, streams, perf_hooks, cluster)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lp-start-'));
  try {
    const env = { LIVEPATCH_SOCKET_DIR: dir };
    const plain = await runNode([F + 'builtins.cjs']);
    await runInstrumented([F + 'builtins.cjs'], { env }); // a cold start transforms (and loads crypto for the symbol hashes)
    const armed = await runInstrumented([F + 'builtins.cjs'], { env });
    assert.equal(armed.code, 0, armed.stderr);
    const before = new Set(JSON.parse(plain.stdout) as string[]);
    const extra = (JSON.parse(armed.stdout) as string[]).filter((m) => !before.has(m));
    const heavy = extra.filter((m) =>
      /^(net|worker_threads|crypto|stream|perf_hooks|cluster|child_process|internal\/worker\/io|internal\/crypto\/.*|internal\/streams\/.*|internal\/perf\/.*)$/.test(
        m,
      ),
    );
    // the control socket is not open yet either: it would have loaded net and cluster
    assert.deepEqual(heavy, [], `loaded at start: ${extra.join(', ')}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the thread test agrees with worker_threads in both kinds of thread; worker messages run as tasks when worker_threads comes through getBuiltinModule', async () => {
  const r = await runInstrumented([F + 'threads.mjs'], { env: { LIVEPATCH_CONTROL: '0' } });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), {
    main: { ours: true, node: true },
    portMessageTask: 'worker message',
    worker: { ours: false, node: false, task: 'worker message' },
  });
});
