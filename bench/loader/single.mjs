// One copy of one workload, N iterations after one warm-up, for instruction
// counting under callgrind (bench/loader/instructions.ts). WHICH=armed loads
// the library from node_modules (instrumented under the loader); WHICH=plain
// loads the copy in bench/loader/.plain (excluded from instrumentation).
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
const require = createRequire(import.meta.url);
const which = process.env.WHICH ?? 'armed';
const n = Number(process.env.N ?? 3);
const plainDir = new URL('./.plain/', import.meta.url);
const nm = new URL('../../node_modules/', import.meta.url);

async function setup(workload) {
  if (workload === 'acorn') {
    const acorn = which === 'armed' ? await import('acorn') : await import(new URL('acorn/acorn.mjs', plainDir).href);
    const input = readFileSync(new URL('acorn/acorn.mjs', plainDir), 'utf8').repeat(2); // 0.5 MB
    return () =>
      acorn.parse(input.slice(0, input.length / 2), { ecmaVersion: 'latest', sourceType: 'module' }).body.length +
      acorn.parse(input.slice(input.length / 2), { ecmaVersion: 'latest', sourceType: 'module' }).body.length;
  }
  if (workload === 'marked') {
    const { marked } =
      which === 'armed' ? await import('marked') : await import(new URL('marked/marked.esm.js', plainDir).href);
    let md = '';
    for (const d of readdirSync(nm).sort()) {
      try {
        md += readFileSync(new URL(`${d}/README.md`, nm), 'utf8') + '\n\n';
      } catch {}
    }
    while (md.length < 3e5) md += md;
    return () => marked.parse(md).length;
  }
  if (workload === 'typescript') {
    const ts =
      which === 'armed' ? require('typescript5') : require(new URL('typescript/typescript.cjs', plainDir).pathname);
    const root = join(dirname(require.resolve('ajv/package.json')), 'lib');
    const files = [];
    (function walk(d) {
      for (const e of readdirSync(d, { withFileTypes: true }).sort((x, y) => x.name.localeCompare(y.name))) {
        const p = join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (p.endsWith('.ts')) files.push(readFileSync(p, 'utf8'));
      }
    })(root);
    const some = files.slice(0, 15);
    const o = { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } };
    return () => {
      let s = 0;
      for (const f of some) s += ts.transpileModule(f, o).outputText.length;
      return s;
    };
  }
  if (workload === 'async') {
    const lib =
      which === 'armed'
        ? await import('./workloads/async-lib.mjs')
        : await import(new URL('async-lib.mjs', plainDir).href);
    return () => lib.run(5000);
  }
  if (workload === 'http') {
    // the API server and its client in one process: 1,000 requests (a quarter
    // POSTs) over 16 keep-alive connections per iteration; only the server's
    // handlers differ between the variants
    const { handle } =
      which === 'armed'
        ? await import('./workloads/http-app.mjs')
        : await import(new URL('http-app.mjs', plainDir).href);
    const http = await import('node:http');
    const server = http.createServer((req, res) => {
      handle(req, res).catch(() => res.writeHead(500).end());
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    server.unref();
    const { port } = server.address();
    const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    const one = (i) =>
      new Promise((resolve, reject) => {
        const post = i % 4 === 0;
        const body = post ? JSON.stringify({ name: `n${i}` }) : '';
        const req = http.request(
          {
            host: '127.0.0.1',
            port,
            agent,
            method: post ? 'POST' : 'GET',
            path: `/users/${i % 5000}`,
            headers: post ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {},
          },
          (res) => {
            res.resume();
            res.on('end', () => (res.statusCode === 200 ? resolve(1) : reject(new Error(`status ${res.statusCode}`))));
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    return async () => {
      let next = 0;
      let done = 0;
      const worker = async () => {
        while (next < 1000) done += await one(next++);
      };
      await Promise.all(Array.from({ length: 16 }, worker));
      return done;
    };
  }
  throw new Error('unknown workload ' + workload);
}

const work = await setup(process.env.WORKLOAD ?? 'marked');
let sink = 0;
for (let i = 0; i < n; i++) sink += await work();
if (sink === 0) console.log('no work');
process.exit(0); // the http workload's keep-alive sockets
