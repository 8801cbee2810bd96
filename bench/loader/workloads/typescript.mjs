// The TypeScript compiler (5.9, JavaScript) transpiles ajv's sources (106 files).
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, dirname } from 'node:path';
import { report, iterations } from './common.mjs';
const require = createRequire(import.meta.url);
const t0 = performance.now();
const ts = require('typescript5');
const load = performance.now() - t0;
const root = join(dirname(require.resolve('ajv/package.json')), 'lib');
const files = [];
(function walk(d) {
  for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = join(d, e.name);
    if (e.isDirectory()) walk(p);
    else if (p.endsWith('.ts')) files.push(readFileSync(p, 'utf8'));
  }
})(root);
const options = { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } };
report('typescript', load, () => { let n = 0; for (const f of files) n += ts.transpileModule(f, options).outputText.length; return n; }, iterations);
