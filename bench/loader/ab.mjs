// One process, two copies of a library: the armed one (under the loader) and a
// plain one (excluded from instrumentation by LIVEPATCH_EXCLUDE), iterations
// interleaved A B B A ... so both see the same machine. Prints per-pair ratios.
//   node --import livepatch/register bench/loader/ab.mjs <workload> <pairs>
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
const require = createRequire(import.meta.url);
const [workload, pairsArg] = process.argv.slice(2);
const pairs = Number(pairsArg ?? 10);
const plainDir = new URL('./.plain/', import.meta.url);

const workloads = {
  async acorn() {
    const load = async (url) => await import(url);
    const a = await load(pathToFileURL(require.resolve('acorn')).href.replace(/acorn\.js$/, 'acorn.mjs'));
    const b = await load(new URL('acorn/acorn.mjs', plainDir).href);
    const input = readFileSync(require.resolve('typescript5/lib/_tsc.js'), 'utf8');
    const w = (lib) => () => lib.parse(input, { ecmaVersion: 'latest', sourceType: 'script' }).body.length;
    return [w(a), w(b)];
  },
  async marked() {
    const a = (await import('marked')).marked;
    const b = (await import(new URL('marked/marked.esm.js', plainDir).href)).marked;
    const nm = new URL('../../node_modules/', import.meta.url);
    let md = '';
    for (const d of readdirSync(nm).sort()) {
      try {
        md += readFileSync(new URL(`${d}/README.md`, nm), 'utf8') + '\n\n';
      } catch {}
    }
    while (md.length < 1e6) md += md;
    const w = (lib) => () => lib.parse(md).length;
    return [w(a), w(b)];
  },
  async typescript() {
    const a = require('typescript5');
    const b = require(new URL('typescript/typescript.cjs', plainDir).pathname);
    const root = join(dirname(require.resolve('ajv/package.json')), 'lib');
    const files = [];
    (function walk(d) {
      for (const e of readdirSync(d, { withFileTypes: true }).sort((x, y) => x.name.localeCompare(y.name))) {
        const p = join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (p.endsWith('.ts')) files.push(readFileSync(p, 'utf8'));
      }
    })(root);
    const w = (ts) => {
      const o = { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } };
      return () => {
        let n = 0;
        for (const f of files) n += ts.transpileModule(f, o).outputText.length;
        return n;
      };
    };
    return [w(a), w(b)];
  },
};

workloads.async = async () => {
  const a = await import('./workloads/async-lib.mjs');
  const b = await import(new URL('async-lib.mjs', plainDir).href);
  return [() => a.run(20000), () => b.run(20000)];
};
const [armed, plain] = await workloads[workload]();
const rt = globalThis[Symbol.for('livepatch.runtime')];
const armedIds = rt
  ? rt.slots
      .all()
      .filter((r) => /^(acorn|marked|typescript5)\/|workloads\/async-lib/.test(r.id))
      .map((r) => r.id)
  : [];
const plainIds = rt
  ? rt.slots
      .all()
      .filter((r) => r.id.includes('.plain/'))
      .map((r) => r.id)
  : [];
if (armedIds.length === 0 || plainIds.length !== 0)
  throw new Error(`armed copy not instrumented or plain copy instrumented: ${armedIds} / ${plainIds}`);
// warm both
for (let i = 0; i < 3; i++) {
  await armed();
  await plain();
}
const ratios = [];
let sumA = 0;
let sumP = 0;
for (let i = 0; i < pairs; i++) {
  const order = i % 2 === 0 ? [armed, plain] : [plain, armed];
  const t = [];
  for (const f of order) {
    const s = performance.now();
    await f();
    t.push(performance.now() - s);
  }
  const [ta, tp] = i % 2 === 0 ? t : [t[1], t[0]];
  ratios.push(ta / tp);
  sumA += ta;
  sumP += tp;
}
// GC pauses land on either copy: the ratio of totals is steadier than per-pair ratios
process.stdout.write(
  JSON.stringify({ workload, label: process.env.AB_LABEL ?? '', total: sumA / sumP, ratios }) + '\n',
);
