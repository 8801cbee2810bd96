/**
 * Every bad input gets a clear message and a meaningful exit code, and leaves
 * the running process exactly as it was (issue 4, "Bad input").
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LpProcess, cliPath } from '../support/lp-process.ts';
import { runNode } from '../support/node.ts';

const app = 'test/runtime/fixtures/app/main.mjs';
const P = 'test/runtime/fixtures/patches/';

/** What a bad input must not change. */
async function snapshot(p: LpProcess): Promise<unknown> {
  return {
    list: await p.json('list'),
    tree: (await p.cli('sysfs', 'ls')).stdout,
    greet: await p.call('greet', 'x'),
    dupA: await p.call('dupA'),
  };
}

test('bad patch modules are refused with the reason, and change nothing', async () => {
  const p = await LpProcess.start(app);
  try {
    assert.equal((await p.cli('load', P + 'v2.mjs')).code, 0); // something loaded already
    const before = await snapshot(p);
    const cases: [string, number, RegExp][] = [
      [P + 'does-not-exist.mjs', 2, /patch file .*does-not-exist\.mjs does not exist \(ENOENT\)/],
      [P + 'bad_syntax.mjs', 22, /cannot be loaded: SyntaxError/],
      [P + 'bad_noexport.mjs', 22, /exports no patch: its default export must be definePatch/],
      [P + 'bad_unknown_func.mjs', 22, /symbol 'nosuchfunction' not found in symbol table/],
      [
        P + 'bad_ambiguous.mjs',
        22,
        /unresolvable ambiguity for symbol '<anonymous>' in object 'test\/runtime\/fixtures\/app\/lib\.mjs'/,
      ],
      [
        P + 'bad_prepatch.mjs',
        22,
        /pre-patch callback failed for object 'test\/runtime\/fixtures\/app\/lib\.mjs'.*pre-patch says no/,
      ],
      [P + 'bad_name.mjs', 22, /has\/slash/],
    ];
    for (const [file, code, message] of cases) {
      const r = await p.cli('load', file);
      assert.equal(r.code, code, `${file}: ${r.stderr}`);
      assert.match(r.stderr, message, file);
      assert.deepEqual(await snapshot(p), before, `${file} changed the process`);
    }
    // the kernel's own lines for the symbol errors are in the log
    const dmesg = (await p.cli('dmesg')).stdout;
    assert.match(dmesg, /livepatch: symbol 'nosuchfunction' not found in symbol table/);
    assert.match(dmesg, /livepatch: pre-patch callback failed for object 'test\/runtime\/fixtures\/app\/lib\.mjs'/);
    assert.match(dmesg, /livepatch: failed to enable patch 'bad_prepatch'/);
    // with the right sympos the duplicate resolves
    assert.equal((await p.cli('load', P + 'dup_pos2.mjs')).code, 0);
    assert.equal(await p.call('dupB'), 'dup-2 patched');
    assert.equal(await p.call('dupA'), 'dup-1');
  } finally {
    await p.stop();
  }
});

test('wrong writes and commands: EINVAL, EBUSY, ENOENT, EACCES — and nothing changes', async () => {
  const p = await LpProcess.start(app);
  try {
    assert.equal((await p.cli('load', P + 'fix_greet.mjs')).code, 0);
    const before = await snapshot(p);
    const cases: [string[], number, RegExp][] = [
      [['enable', 'fix_greet'], 22, /already enabled/],
      [['force', 'fix_greet'], 22, /not in transition/],
      [['unload', 'fix_greet'], 16, /enabled; disable it before unloading/],
      [['enable', 'nosuch'], 2, /no patch 'nosuch'|nosuch/],
      [['sysfs', 'write', 'fix_greet/enabled', 'maybe'], 22, /EINVAL/],
      [['sysfs', 'write', 'fix_greet/transition', '1'], 13, /EACCES/],
      [['sysfs', 'read', 'fix_greet/force'], 13, /EACCES/],
      [['sysfs', 'read', 'fix_greet/../x'], 2, /ENOENT/],
      [['unload', 'nosuch'], 2, /no patch module 'nosuch'/],
      [['symbols', 'no/such.mjs'], 2, /no module 'no\/such\.mjs' is loaded/],
    ];
    for (const [args, code, message] of cases) {
      const r = await p.cli(...args);
      assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message, args.join(' '));
      assert.deepEqual(await snapshot(p), before, `${args.join(' ')} changed the process`);
    }
  } finally {
    await p.stop();
  }
});

test('a process that has exited, and a socket that is not ours', async () => {
  const p = await LpProcess.start(app);
  const pid = p.pid;
  const env = p.env;
  p.send('exit');
  await new Promise((r) => p.child.once('exit', r));
  const gone = await runNode([cliPath, 'status', '--pid', String(pid)], { env });
  assert.equal(gone.code, 69);
  assert.match(gone.stderr, /no livepatch process/);
  await p.stop();

  const dir = mkdtempSync(join(tmpdir(), 'lp-sock-'));
  const fake = createServer((s) => s.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
  await new Promise<void>((r) => fake.listen(join(dir, '4242.sock'), r));
  try {
    const r = await runNode([cliPath, 'status', '--pid', '4242'], { env: { LIVEPATCH_SOCKET_DIR: dir } });
    assert.equal(r.code, 69);
    assert.match(r.stderr, /is not a livepatch control socket|does not answer as a livepatch process/);
    const usage = await runNode([cliPath, 'load'], { env: { LIVEPATCH_SOCKET_DIR: dir } });
    assert.equal(usage.code, 64);
    assert.match(usage.stderr, /missing argument/);
  } finally {
    fake.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a module whose cache entry was replaced after it loaded cannot be patched: the reason, and nothing changes', async () => {
  const cache = mkdtempSync(join(tmpdir(), 'lp-cache-'));
  try {
    const env = { LIVEPATCH_CACHE_DIR: cache };
    await (await LpProcess.start(app, { env })).stop(); // the first run fills the cache
    const p = await LpProcess.start(app, { env });
    try {
      // another process writes lib.mjs's entry again (same source, a write of its own)
      const lib = readFileSync('test/runtime/fixtures/app/lib.mjs');
      const entry = readdirSync(cache).find((f) => {
        if (!f.endsWith('.lpc')) return false;
        const text = readFileSync(join(cache, f));
        const nl = text.indexOf(10);
        return text.subarray(nl + 1, nl + 1 + lib.length).equals(lib);
      });
      assert.ok(entry, "lib.mjs's entry");
      const path = join(cache, entry);
      const text = readFileSync(path);
      const nl = text.indexOf(10);
      const header = JSON.parse(text.toString('utf8', 0, nl)) as Record<string, unknown>;
      writeFileSync(
        path + '.tmp',
        Buffer.concat([Buffer.from(JSON.stringify({ ...header, w: 'another-process' }) + '\n'), text.subarray(nl + 1)]),
      );
      renameSync(path + '.tmp', path);

      const before = await snapshot(p);
      const r = await p.cli('load', P + 'fix_greet.mjs');
      assert.notEqual(r.code, 0);
      assert.match(
        r.stderr,
        /test\/runtime\/fixtures\/app\/lib\.mjs: its symbol table is no longer in the transform cache .*restart the process to patch this module/,
      );
      assert.deepEqual(await snapshot(p), before);
    } finally {
      await p.stop();
    }
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
});
