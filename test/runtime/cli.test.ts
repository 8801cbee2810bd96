/**
 * The runtime, the control socket and the CLI, end to end (issue 4): a real
 * program under `livepatch run`, patched only through the `livepatch` CLI.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LpProcess, cliPath } from '../support/lp-process.ts';
import { runNode } from '../support/node.ts';

const app = 'test/runtime/fixtures/app/main.mjs';
const P = 'test/runtime/fixtures/patches/';

test('load fixes a function in the running process; list, status, sysfs, dmesg and symbols show it', async () => {
  const p = await LpProcess.start(app);
  try {
    assert.equal(await p.call('greet', 'Ada'), 'Hello, Ada');
    const loaded = await p.cli('load', P + 'fix_greet.mjs');
    assert.equal(loaded.code, 0, loaded.stderr);
    assert.match(loaded.stdout, /loaded patch 'fix_greet': enabled/);
    assert.equal(await p.call('greet', 'Ada'), 'Hello, Ada!');

    const list = (await p.json('list')) as { patches: { name: string; enabled: boolean; stackOrder: number }[] };
    assert.deepEqual(
      list.patches.map((x) => [x.name, x.enabled, x.stackOrder]),
      [['fix_greet', true, 1]],
    );
    assert.equal((await p.cli('sysfs', 'read', 'fix_greet/enabled')).stdout, '1\n');
    assert.equal((await p.cli('sysfs', 'read', '/sys/kernel/livepatch/fix_greet/transition')).stdout, '0\n');
    const ls = await p.cli('sysfs', 'ls', 'fix_greet');
    assert.deepEqual(ls.stdout.trim().split('\n'), [
      'enabled',
      'transition',
      'force',
      'replace',
      'stack_order',
      'test!runtime!fixtures!app!lib.mjs',
    ]);
    assert.deepEqual(
      (await p.cli('sysfs', 'ls', 'fix_greet/test!runtime!fixtures!app!lib.mjs')).stdout.trim().split('\n'),
      ['patched', 'greet,1'],
    );
    const dmesg = await p.cli('dmesg');
    assert.match(dmesg.stdout, /^\[ *\d+\.\d{6}\] livepatch: enabling patch 'fix_greet'$/m);
    assert.match(
      dmesg.stdout,
      /livepatch: 'fix_greet': starting patching transition\n.*livepatch: 'fix_greet': patching complete/,
    );
    const status = await p.cli('status');
    assert.match(status.stdout, /patch fix_greet: enabled/);
    assert.match(status.stdout, /no transition in progress/);
    const syms = (await p.json('symbols', 'test/runtime/fixtures/app/lib.mjs')) as { name: string; sympos: number }[];
    assert.ok(syms.some((s) => s.name === 'greet' && s.sympos === 1));
    assert.deepEqual(
      syms.filter((s) => s.name === '<anonymous>').map((s) => s.sympos),
      [1, 2, 3, 4],
    );
    const ps = await p.cli('ps');
    assert.match(ps.stdout, new RegExp(`^${p.pid}\\s`, 'm'));

    // disable: the original runs again; the patch is gone, its module stays until unloaded
    assert.equal((await p.cli('disable', 'fix_greet')).code, 0);
    assert.equal(await p.call('greet', 'Ada'), 'Hello, Ada');
    assert.equal((await p.cli('sysfs', 'read', 'fix_greet/enabled')).code, 2); // ENOENT: the directory is gone
    const again = await p.cli('load', P + 'fix_greet.mjs');
    assert.equal(again.code, 17, again.stderr); // EEXIST: the module is still loaded
    assert.match(again.stderr, /already loaded; unload it first/);
    assert.equal((await p.cli('unload', 'fix_greet')).code, 0);
    assert.equal((await p.cli('load', P + 'fix_greet.mjs')).code, 0);
    assert.equal(await p.call('greet', 'Ada'), 'Hello, Ada!');

    // dmesg -C clears
    assert.equal((await p.cli('dmesg', '-C')).code, 0);
    assert.equal((await p.cli('dmesg')).stdout, '');
  } finally {
    await p.stop();
  }
});

test('a patch written in TypeScript', async () => {
  const p = await LpProcess.start(app);
  try {
    const r = await p.cli('load', P + 'fix_greet.ts');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await p.call('greet', 'Ada'), 'Hello, Ada! (ts)');
  } finally {
    await p.stop();
  }
});

test('dmesg --follow streams log lines as they are written', async () => {
  const { spawn } = await import('node:child_process');
  const p = await LpProcess.start(app);
  try {
    const follower = spawn(process.execPath, [cliPath, 'dmesg', '--follow', '--pid', String(p.pid)], { env: p.env });
    let seen = '';
    follower.stdout.setEncoding('utf8').on('data', (d: string) => (seen += d));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await p.cli('load', P + 'fix_greet.mjs')).code, 0);
    for (let i = 0; i < 50 && !seen.includes('patching complete'); i++) await new Promise((r) => setTimeout(r, 50));
    follower.kill('SIGINT');
    assert.match(
      seen,
      /livepatch: enabling patch 'fix_greet'\n.*'fix_greet': starting patching transition\n.*'fix_greet': patching complete/,
    );
  } finally {
    await p.stop();
  }
});

test('a process just started is found before its control socket opens: with --pid, and as the only process', async () => {
  const p = await LpProcess.start(app); // its ready line comes before the socket opens (100 ms after start)
  try {
    const alone = await runNode([cliPath, 'list', '--json'], { env: p.env });
    assert.equal(alone.code, 0, alone.stderr);
    assert.deepEqual((JSON.parse(alone.stdout) as { patches: unknown[] }).patches, []);
    assert.equal((await p.cli('list')).code, 0);
  } finally {
    await p.stop();
  }
});
