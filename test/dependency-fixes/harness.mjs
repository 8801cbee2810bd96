// The process a dependency-fix case runs in: `livepatch run harness.mjs`
// with LIVEPATCH_ROOT=APP_DIR, an application whose node_modules holds the
// old version of the package (a copy, as `npm install` would leave it), and
// NEW_DIR, a second one with the new version (for the answers the new
// version gives, in the same process, with the same Node and loader).
// It reads one JSON command per line and answers with one JSON line:
//   {"id":1,"op":"setup","side":"old"}  -> the case's setup(pkg, state, ctx)
//   {"id":2,"op":"probe","side":"new"}  -> the case's probe(pkg, state, ctx)
// (`"arg"` in a command is passed on as ctx.arg).
// `state` is the side's own object, kept from setup to every probe (what the
// application made at start-up: servers, middleware, compiled templates);
// `calls` counts the probes of a side, so a test sees the process and its
// state are the ones from before the patch.
import { createInterface } from 'node:readline';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { task } from 'livepatch';

const spec = (await import(pathToFileURL(process.env.CASE_FILE).href)).default;
const dirs = { old: process.env.APP_DIR, new: process.env.NEW_DIR };
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const states = { old: { calls: 0 }, new: { calls: 0 } };
const loaders = {};

/** The side's `load.mjs`: require or import a package as that application would (from a subdirectory, for nested copies). */
async function ctxOf(side, arg) {
  loaders[side] ??= (await import(pathToFileURL(join(dirs[side], 'load.mjs')).href)).load;
  return { dir: dirs[side], arg, load: (name, from = '') => loaders[side](spec.load, name, from) };
}

createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() === '') return;
  const cmd = JSON.parse(line);
  // each command is a task, like a request: the unit of per-task consistency
  task(`${cmd.op} ${cmd.side}`, () => {
    (async () => {
      const ctx = await ctxOf(cmd.side, cmd.arg);
      const pkg = await ctx.load(spec.package);
      const state = states[cmd.side];
      if (cmd.op === 'setup') {
        state.dir = join(dirs[cmd.side], 'data');
        mkdirSync(state.dir, { recursive: true });
        return (await spec.setup?.(pkg, state, ctx)) ?? null;
      }
      state.calls++;
      return { answer: await spec.probe(pkg, state, ctx), calls: state.calls };
    })().then(
      (result) => out({ id: cmd.id, result: result ?? null }),
      (e) => out({ id: cmd.id, error: String(e?.stack ?? e) }),
    );
  });
});
out({ ready: process.pid });
