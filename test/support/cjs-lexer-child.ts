/**
 * Node's own CommonJS export lexer over a corpus, original against
 * instrumented. Run with `--expose-internals`: the lexer Node uses to give an
 * ES module the named exports of a CommonJS module (`internalBinding
 * ('cjs_lexer')`: merve on Node 24, cjs-module-lexer's grammar) is not
 * public, and only the one Node really runs is an oracle worth the name.
 *
 *   node --expose-internals --no-warnings test/support/cjs-lexer-child.ts <file or directory>...
 *
 * Prints one JSON object: how many files were compared, and every file whose
 * instrumented text gives other export names or re-exports than its
 * original.
 */

import { createRequire } from 'node:module';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { transform } from '../../src/instrument/transform.ts';

const require = createRequire(import.meta.url);
const { internalBinding } = require('internal/test/binding') as {
  internalBinding(name: 'cjs_lexer'): { parse(source: string): [Set<string>, string[]] };
};
const lexer = internalBinding('cjs_lexer');

function lex(source: string): { exports: string[]; reexports: string[] } {
  const [exports, reexports] = lexer.parse(source);
  return { exports: [...exports].sort(), reexports: [...new Set(reexports)].sort() };
}

function* files(path: string): Generator<string> {
  if (!statSync(path).isDirectory()) {
    yield path;
    return;
  }
  for (const e of readdirSync(path, { withFileTypes: true })) {
    const p = join(path, e.name);
    if (e.isDirectory()) {
      if (!e.name.startsWith('.')) yield* files(p);
    } else if (/\.c?js$/.test(e.name) && !e.name.endsWith('.min.js')) yield p;
  }
}

let compared = 0;
let withExports = 0;
let notInstrumented = 0;
const differ: { file: string; original: ReturnType<typeof lex>; instrumented: ReturnType<typeof lex> }[] = [];
for (const arg of process.argv.slice(2)) {
  for (const file of files(arg)) {
    if (statSync(file).size > 12_000_000) continue;
    const source = readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
    const r = transform({ source, moduleId: file, lang: 'js', sourceType: 'commonjs' });
    if (!r.ok) {
      notInstrumented++;
      continue;
    }
    compared++;
    const original = lex(source);
    if (original.exports.length + original.reexports.length > 0) withExports++;
    const instrumented = lex(r.code);
    if (JSON.stringify(original) !== JSON.stringify(instrumented)) differ.push({ file, original, instrumented });
  }
}
process.stdout.write(JSON.stringify({ compared, withExports, notInstrumented, differ }) + '\n');
