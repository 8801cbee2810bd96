// The process a corpus case runs in: `livepatch run harness.mjs` with
// LIVEPATCH_ROOT=<case>/old (the running application) and CASE_DIR=<case>.
// (OLD_DIR: run another directory as the old version.)
// It reads one JSON command per line and answers with one JSON line:
//   {"id":1,"op":"setup","tree":"old"}  -> the case's setup(load) on that tree
//   {"id":2,"op":"check","tree":"new"}  -> the case's check(load): its results
// `load(path)` imports a module of the tree (its namespace); `state` is an
// object of the tree's own, kept from setup to check. The new version (and
// an unpatched copy of the old one, `pre`) are loaded in this process too,
// as separate modules, so every version is checked with the same Node and
// loader, in one process per case.
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { task } from 'livepatch';

const caseDir = process.env.CASE_DIR;
const spec = await import(pathToFileURL(join(caseDir, 'check.mjs')).href);
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');
// `pre`: an unpatched copy of the old version, to show the checks see the bug
const dirs = { old: process.env.OLD_DIR ?? join(caseDir, 'old'), new: join(caseDir, 'new'), pre: process.env.PRE_DIR };
const loader = (tree) => (path) => import(pathToFileURL(join(dirs[tree], path)).href);
const states = { old: {}, new: {}, pre: {} };

createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() === '') return;
  const cmd = JSON.parse(line);
  // each command is a task, like a request: the unit of per-task consistency
  task(`${cmd.op} ${cmd.tree}`, () => {
    Promise.resolve()
      .then(() =>
        cmd.op === 'setup'
          ? spec.setup?.(loader(cmd.tree), states[cmd.tree])
          : spec.check(loader(cmd.tree), states[cmd.tree]),
      )
      .then(
        (result) => out({ id: cmd.id, result: result ?? null }),
        (e) => out({ id: cmd.id, error: String(e?.stack ?? e) }),
      );
  });
});
out({ ready: process.pid });
