// acorn parses a 6 MB file (TypeScript's _tsc.js).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { report, iterations } from './common.mjs';
const require = createRequire(import.meta.url);
const t0 = performance.now();
const acorn = await import('acorn');
const load = performance.now() - t0;
const input = readFileSync(require.resolve('typescript5/lib/_tsc.js'), 'utf8');
report('acorn', load, () => acorn.parse(input, { ecmaVersion: 'latest', sourceType: 'script' }).body.length, iterations);
