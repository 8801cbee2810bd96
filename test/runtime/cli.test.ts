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

test('a patch none of whose modules the process has or can load is refused (ENOENT) and changes nothing, unless --allow-pending; status shows what a patch waits for', async () => {
  const p = await LpProcess.start(app);
  try {
    const refused = await p.cli('load', P + 'bad_unknown_module.mjs', '--wait');
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(
      refused.stderr,
      /^livepatch: patch 'bad_unknown_module' patches no module of this process: module 'no\/such\/module\.mjs' is not loaded, and no such module file is under .* or in a node_modules above it; .*Nothing was changed; `livepatch load --allow-pending` loads it anyway.* \(ENOENT\)\n$/,
    );
    const st = (await p.json('status')) as { patches: unknown[]; modules: unknown[] };
    assert.deepEqual([st.patches, st.modules], [[], []], 'nothing is loaded');
    assert.doesNotMatch((await p.cli('dmesg')).stdout, /bad_unknown_module/);
    assert.equal(await p.call('greet', 'Ada'), 'Hello, Ada');

    // chosen on purpose: the kernel's behaviour, a patch that waits for its module
    const pending = await p.cli('load', P + 'bad_unknown_module.mjs', '--allow-pending');
    assert.equal(pending.code, 0, pending.stderr);
    assert.match(pending.stdout, /^loaded patch 'bad_unknown_module': enabled$/m);
    assert.match(
      pending.stdout,
      /^ {2}no\/such\/module\.mjs: waiting for a module that is not loaded and has no module file in the application$/m,
    );
    assert.match(pending.stdout, /^ {2}no module of the patch is loaded: it changes nothing until one loads$/m);
    const status = await p.cli('status', 'bad_unknown_module');
    assert.match(
      status.stdout,
      /^ {2}no\/such\/module\.mjs: waiting for a module that is not loaded and has no module file in the application — f$/m,
    );
    const json = (await p.json('status')) as { patches: { objects: { name: string; state: string }[] }[] };
    assert.deepEqual(
      json.patches[0]!.objects.map((o) => [o.name, o.state]),
      [['no/such/module.mjs', 'unknown']],
    );
  } finally {
    await p.stop();
  }
});

test('a patch with some modules loaded and others not loaded yet loads as before; load and status say which it waits for', async () => {
  const p = await LpProcess.start(app);
  try {
    const r = await p.cli('load', P + 'partly_absent.mjs');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^ {2}test\/runtime\/fixtures\/app\/lib\.mjs: loaded, patched$/m);
    assert.match(
      r.stdout,
      /^ {2}test\/runtime\/fixtures\/app\/later\.mjs: not loaded yet: waiting for its module \(patched when it loads\)$/m,
    );
    assert.match(
      r.stdout,
      /^ {2}no\/such\/module\.mjs: waiting for a module that is not loaded and has no module file/m,
    );
    assert.doesNotMatch(r.stdout, /changes nothing/);
    assert.equal(await p.call('greet', 'Ada'), 'Hello, Ada!');
    const before = await p.cli('status');
    assert.match(
      before.stdout,
      /^ {2}test\/runtime\/fixtures\/app\/later\.mjs: not loaded yet: waiting for its module \(patched when it loads\) — value$/m,
    );
    // the module comes: patched as it loads
    p.send('import later');
    const imported = await p.waitFor((o) => o.imported === 'later');
    assert.equal(imported.result, 'later-v2');
    assert.match((await p.cli('status')).stdout, /^ {2}test\/runtime\/fixtures\/app\/later\.mjs: patched — value$/m);
  } finally {
    await p.stop();
  }
});
