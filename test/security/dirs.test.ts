/**
 * Issue 17, "Trust": nothing another user can write is trusted
 * (docs/security.md, "Directories"). Real processes under the loader, with
 * directories another user (65534, nobody) owns or can write: the transform
 * cache, Node's compile cache and the control socket's directory are used
 * only when they are the user's own; otherwise the process warns and runs
 * without them, and the CLI refuses to connect. Runs as root, as CI does
 * (chown needs it); skipped elsewhere.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliPath } from '../support/lp-process.ts';
import { runInstrumented, runNode } from '../support/node.ts';

const OTHER = 65534;
const skip = process.geteuid?.() !== 0 ? 'needs root (to chown to another user)' : false;
const MARKER = 'PLANTED-CODE-RAN';

/** A fresh directory for one test, and an environment with no cache or socket settings from outside. */
function scratch(): { t: string; env: Record<string, string | undefined> } {
  const t = mkdtempSync(join(tmpdir(), 'lp-sec-'));
  mkdirSync(join(t, 'tmp'));
  const env: Record<string, string | undefined> = {
    TMPDIR: join(t, 'tmp'),
    XDG_CACHE_HOME: join(t, 'xdg'),
    HOME: join(t, 'home'),
    LIVEPATCH_SOCKET_DIR: join(t, 'sockets'),
    LIVEPATCH_CACHE_DIR: undefined,
    LIVEPATCH_CACHE: undefined,
    LIVEPATCH_ROOT: undefined,
    NODE_COMPILE_CACHE: undefined,
    NODE_DISABLE_COMPILE_CACHE: '1',
  };
  return { t, env };
}

/** A small app (package.json, an entry and a module with functions to instrument) in `<t>/app`. */
function makeApp(t: string, nodeModules: boolean): string {
  const app = join(t, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), '{"type":"module"}\n');
  writeFileSync(join(app, 'lib.mjs'), 'export function greet(name) {\n  return `Hello, ${name}`;\n}\n');
  writeFileSync(join(app, 'main.mjs'), "import { greet } from './lib.mjs';\nconsole.log(greet('Ada'));\n");
  if (nodeModules) mkdirSync(join(app, 'node_modules'));
  return join(app, 'main.mjs');
}

/**
 * Fill `dir` with real entries (a run that writes them), then plant: every
 * entry's code first prints MARKER. The entries stay valid, so a loader that
 * reads them runs the planted code.
 */
async function plantEntries(dir: string, entry: string, env: Record<string, string | undefined>): Promise<void> {
  const r = await runInstrumented([entry], { env: { ...env, LIVEPATCH_CACHE_DIR: dir } });
  assert.equal(r.code, 0, r.stderr);
  const files = readdirSync(dir).filter((f) => f.endsWith('.lpc'));
  assert.ok(files.length >= 2, `entries written in ${dir}: ${files.join(', ')}`);
  for (const f of files) {
    const data = readFileSync(join(dir, f));
    const nl = data.indexOf(10);
    const header = JSON.parse(data.toString('utf8', 0, nl)) as { b: number; c: number };
    const at = nl + 1 + header.b;
    const planted = Buffer.from(`console.log(${JSON.stringify(MARKER)});`);
    const out = Buffer.concat([
      Buffer.from(JSON.stringify({ ...header, c: header.c + planted.length }) + '\n'),
      data.subarray(nl + 1, at),
      planted,
      data.subarray(at),
    ]);
    writeFileSync(join(dir, f), out);
  }
  // the planted entries are what a loader that trusts the directory runs
  const trusting = await runInstrumented([entry], { env: { ...env, LIVEPATCH_CACHE_DIR: dir } });
  assert.match(trusting.stdout, new RegExp(MARKER), 'the planted entries are valid');
}

function chownTree(dir: string, uid: number): void {
  chownSync(dir, uid, uid);
  for (const f of readdirSync(dir)) chownSync(join(dir, f), uid, uid);
}

/** The `[code] Warning:` lines of a process's stderr that mention `text`. */
/** A test body run in a fresh scratch directory, removed afterwards whatever happens. */
function inScratch(
  fn: (s: { t: string; env: Record<string, string | undefined> }) => Promise<void>,
): () => Promise<void> {
  return async () => {
    const s = scratch();
    try {
      await fn(s);
    } finally {
      rmSync(s.t, { recursive: true, force: true });
    }
  };
}

function warnings(stderr: string, code: string, text: string): string[] {
  return stderr.split('\n').filter((l) => l.includes(`[${code}]`) && l.includes(text));
}

test(
  'a transform cache directory of another user (node_modules/.cache/livepatch): not read, one warning',
  { skip },
  inScratch(async ({ t, env }) => {
    const entry = makeApp(t, true);
    const dir = join(t, 'app', 'node_modules', '.cache', 'livepatch');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    await plantEntries(dir, entry, env);
    chownTree(dir, OTHER);
    const r = await runInstrumented([entry], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'Hello, Ada\n', 'the program runs, and not the planted code');
    const w = warnings(r.stderr, 'LIVEPATCH_UNSAFE_DIR', dir);
    assert.equal(w.length, 1, r.stderr);
    assert.match(w[0]!, /belongs to uid 65534/);
    assert.match(w[0]!, /mode 0700/);
  }),
);

test(
  'LIVEPATCH_CACHE_DIR of another user: not read, one warning; the program is still instrumented',
  { skip },
  inScratch(async ({ t, env }) => {
    const entry = makeApp(t, false);
    const dir = join(t, 'shared-cache');
    mkdirSync(dir, { mode: 0o700 });
    await plantEntries(dir, entry, env);
    chownTree(dir, OTHER);
    const probe = join(t, 'app', 'probe.mjs');
    // instrumented without the cache: greet has a slot (its toString is the original's, served by the runtime)
    writeFileSync(
      probe,
      "import { greet } from './lib.mjs';\nconsole.log(greet('Ada'), typeof globalThis[Symbol.for('livepatch.runtime')]);\n",
    );
    const r = await runInstrumented([entry], { env: { ...env, LIVEPATCH_CACHE_DIR: dir } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'Hello, Ada\n');
    assert.equal(warnings(r.stderr, 'LIVEPATCH_UNSAFE_DIR', dir).length, 1, r.stderr);
    const p = await runInstrumented([probe], { env: { ...env, LIVEPATCH_CACHE_DIR: dir } });
    assert.equal(p.stdout, 'Hello, Ada object\n', p.stderr);
  }),
);

test(
  'a group-writable cache directory, even the user own, is refused',
  { skip },
  inScratch(async ({ t, env }) => {
    const entry = makeApp(t, false);
    const dir = join(t, 'cache');
    mkdirSync(dir, { mode: 0o700 });
    await plantEntries(dir, entry, env);
    chmodSync(dir, 0o770);
    const r = await runInstrumented([entry], { env: { ...env, LIVEPATCH_CACHE_DIR: dir } });
    assert.equal(r.stdout, 'Hello, Ada\n', r.stderr);
    const w = warnings(r.stderr, 'LIVEPATCH_UNSAFE_DIR', dir);
    assert.equal(w.length, 1, r.stderr);
    assert.match(w[0]!, /writable to other users \(owner uid 0, mode 0770\)/);
    assert.equal(statSync(dir).mode & 0o777, 0o770, 'the mode is left as it was');
  }),
);

test(
  'a symbolic link as the cache directory is refused (lstat), even to the user own directory',
  { skip },
  inScratch(async ({ t, env }) => {
    const entry = makeApp(t, false);
    const real = join(t, 'real-cache');
    mkdirSync(real, { mode: 0o700 });
    await plantEntries(real, entry, env);
    const link = join(t, 'cache-link');
    symlinkSync(real, link);
    const r = await runInstrumented([entry], { env: { ...env, LIVEPATCH_CACHE_DIR: link } });
    assert.equal(r.stdout, 'Hello, Ada\n', r.stderr);
    assert.equal(warnings(r.stderr, 'LIVEPATCH_UNSAFE_DIR', link).length, 1, r.stderr);
  }),
);

test(
  'an entry file of another user in the user own cache directory is not read',
  { skip },
  inScratch(async ({ t, env }) => {
    const entry = makeApp(t, false);
    const dir = join(t, 'cache');
    mkdirSync(dir, { mode: 0o700 });
    await plantEntries(dir, entry, env);
    for (const f of readdirSync(dir)) chownSync(join(dir, f), OTHER, OTHER);
    const r = await runInstrumented([entry], { env: { ...env, LIVEPATCH_CACHE_DIR: dir } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'Hello, Ada\n');
  }),
);

test(
  'the fallback transform cache is not a shared name in the temp dir, and is created 0700',
  { skip },
  inScratch(async ({ t, env }) => {
    const entry = makeApp(t, false);
    // what an attacker plants where the cache used to fall back to: <tmpdir>/livepatch-cache-<uid>
    const shared = join(t, 'tmp', `livepatch-cache-${process.geteuid!()}`);
    mkdirSync(shared, { mode: 0o700 });
    await plantEntries(shared, entry, env);
    chownTree(shared, OTHER);
    const r = await runInstrumented([entry], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'Hello, Ada\n');
    const own = join(t, 'xdg', 'livepatch', 'transform');
    assert.ok(
      readdirSync(own).some((f) => f.endsWith('.lpc')),
      'the cache is under $XDG_CACHE_HOME',
    );
    assert.equal(statSync(own).mode & 0o777, 0o700);
    // and that one is checked too
    chownTree(own, OTHER);
    const again = await runInstrumented([entry], { env });
    assert.equal(again.stdout, 'Hello, Ada\n');
    assert.equal(warnings(again.stderr, 'LIVEPATCH_UNSAFE_DIR', own).length, 1, again.stderr);
  }),
);

test(
  'the compile cache: never Node default in the temp dir, never a directory of another user',
  { skip },
  inScratch(async ({ t, env }) => {
    const app = join(t, 'app');
    mkdirSync(app);
    const probe = join(app, 'probe.cjs');
    writeFileSync(probe, "console.log(JSON.stringify(require('node:module').getCompileCacheDir() ?? null));\n");
    const cc = { ...env, NODE_DISABLE_COMPILE_CACHE: undefined };
    // Node's default, <tmpdir>/node-compile-cache, created first by another user
    const shared = join(t, 'tmp', 'node-compile-cache');
    mkdirSync(shared, { mode: 0o755 });
    chownSync(shared, OTHER, OTHER);
    const r = await runInstrumented([probe], { env: cc });
    assert.equal(r.code, 0, r.stderr);
    const used = JSON.parse(r.stdout) as string | null;
    assert.ok(used !== null && used.startsWith(join(t, 'xdg', 'livepatch', 'node-compile-cache')), String(used));
    assert.deepEqual(readdirSync(shared), [], 'nothing written in the shared directory');
    // the user's cache directory, when another user has made it first
    const own = join(t, 'xdg', 'livepatch', 'node-compile-cache');
    rmSync(own, { recursive: true });
    mkdirSync(own, { mode: 0o755 });
    chownSync(own, OTHER, OTHER);
    const refused = await runInstrumented([probe], { env: cc });
    assert.equal(refused.code, 0, refused.stderr);
    assert.equal(refused.stdout, 'null\n', 'the compile cache is off');
    const w = warnings(refused.stderr, 'LIVEPATCH_UNSAFE_DIR', own);
    assert.equal(w.length, 1, refused.stderr);
    assert.match(w[0]!, /belongs to uid 65534.*mode 0755/);
    assert.deepEqual(readdirSync(own), []);
  }),
);

test(
  'a socket directory of another user: `load --pid` refuses (69) and never connects to its socket',
  { skip },
  async () => {
    const { t, env } = scratch();
    const dir = join(t, 'sockets');
    mkdirSync(dir, { mode: 0o700 });
    // the other user's fake control socket, named after a live process (this one), that says yes to everything
    let connections = 0;
    const server = createServer((s: Socket) => {
      connections++;
      let buf = '';
      s.setEncoding('utf8').on('data', (d: string) => {
        buf += d;
        for (let nl = buf.indexOf('\n'); nl !== -1; nl = buf.indexOf('\n')) {
          const req = JSON.parse(buf.slice(0, nl)) as { id: number; op: string };
          buf = buf.slice(nl + 1);
          const result =
            req.op === 'hello'
              ? {
                  protocol: 'livepatch-control/1',
                  pid: process.pid,
                  node: process.version,
                  argv: [],
                  root: t,
                  startedAt: 0,
                }
              : { name: 'fix_greet', patch: { enabled: true, transition: false }, workers: [] };
          s.write(JSON.stringify({ id: req.id, ok: true, result }) + '\n');
        }
      });
    });
    await new Promise<void>((r) => server.listen(join(dir, `${process.pid}.sock`), r));
    try {
      chownTree(dir, OTHER);
      const r = await runNode(
        [cliPath, 'load', 'test/runtime/fixtures/patches/fix_greet.mjs', '--pid', String(process.pid)],
        {
          env,
        },
      );
      assert.equal(r.code, 69, r.stdout + r.stderr);
      assert.ok(r.stderr.includes(dir), r.stderr);
      assert.match(r.stderr, /belongs to uid 65534/);
      assert.doesNotMatch(r.stdout, /enabled/);
      // without --pid: the directory is refused too, not taken for an empty one
      const status = await runNode([cliPath, 'status'], { env });
      assert.equal(status.code, 69, status.stdout + status.stderr);
      assert.ok(status.stderr.includes(dir), status.stderr);
      assert.equal(connections, 0, 'the fake socket was never connected to');
    } finally {
      server.close();
      rmSync(t, { recursive: true, force: true });
    }
  },
);

test(
  'LIVEPATCH_SOCKET_DIR at a shared 0777 directory: its mode is kept, the process runs without a socket and warns',
  { skip },
  inScratch(async ({ t, env }) => {
    const shared = join(t, 'shared');
    mkdirSync(shared);
    chmodSync(shared, 0o777);
    const app = join(t, 'app');
    mkdirSync(app);
    const prog = join(app, 'main.mjs');
    // runs past the control socket's delay (100 ms)
    writeFileSync(prog, "setTimeout(() => console.log('done'), 600);\n");
    const r = await runInstrumented([prog], { env: { ...env, LIVEPATCH_SOCKET_DIR: shared } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'done\n');
    assert.equal(
      statSync(shared).mode & 0o7777,
      0o777,
      'the mode of a directory livepatch did not create is unchanged',
    );
    assert.deepEqual(readdirSync(shared), [], 'no socket');
    const w = warnings(r.stderr, 'LIVEPATCH_NO_CONTROL', shared);
    assert.equal(w.length, 1, r.stderr);
    assert.match(w[0]!, /open to other users \(owner uid 0, mode 0777\)/);
  }),
);

test(
  'a socket directory livepatch creates is 0700, and the CLI finds the process there',
  { skip },
  inScratch(async ({ t, env }) => {
    const dir = join(t, 'xdg', 'livepatch', 'run');
    const e = { ...env, LIVEPATCH_SOCKET_DIR: undefined, XDG_RUNTIME_DIR: undefined };
    const app = join(t, 'app');
    mkdirSync(app);
    const prog = join(app, 'main.mjs');
    writeFileSync(prog, 'console.log(process.pid);\nsetTimeout(() => {}, 5000);\n');
    const { spawn } = await import('node:child_process');
    const { registerPath } = await import('../support/node.ts');
    const child = spawn(process.execPath, ['--import', registerPath, prog], {
      env: { ...process.env, NODE_OPTIONS: '', ...e } as NodeJS.ProcessEnv,
    });
    try {
      const pid = await new Promise<number>((r) => child.stdout.once('data', (d: Buffer) => r(Number(String(d)))));
      const ps = await runNode([cliPath, 'status', '--pid', String(pid)], { env: e });
      assert.equal(ps.code, 0, ps.stderr);
      assert.ok(existsSync(join(dir, `${pid}.sock`)));
      assert.equal(statSync(dir).mode & 0o777, 0o700);
    } finally {
      child.kill();
    }
  }),
);
