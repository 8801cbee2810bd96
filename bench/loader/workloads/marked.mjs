// marked renders a 1 MB markdown document (READMEs of node_modules, repeated).
import { readFileSync, readdirSync } from 'node:fs';
import { report, iterations } from './common.mjs';
const t0 = performance.now();
const { marked } = await import('marked');
const load = performance.now() - t0;
const nm = new URL('../../../node_modules/', import.meta.url);
let md = '';
for (const d of readdirSync(nm).sort()) {
  try { md += readFileSync(new URL(`${d}/README.md`, nm), 'utf8') + '\n\n'; } catch {}
}
while (md.length < 1e6) md += md;
report('marked', load, () => marked.parse(md).length, iterations);
