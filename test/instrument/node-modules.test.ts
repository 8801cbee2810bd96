/**
 * Every JavaScript file installed in node_modules, instrumented: the output
 * must parse again (in the same mode) and keep its line count. Real
 * packages write code no hand-made corpus thinks of (a directive with no
 * semicolon before the first statement was found this way).
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { transform } from '../../src/instrument/transform.ts';
import { parse } from '../../src/instrument/parse.ts';
import { repoRoot } from '../support/node.ts';

function* files(dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (!e.name.startsWith('.')) yield* files(p);
    } else if (/\.(c|m)?js$/.test(e.name) && !e.name.endsWith('.min.js')) yield p;
  }
}

test('every .js/.cjs/.mjs file in node_modules instruments to code that parses, with its lines', () => {
  let checked = 0;
  let refused = 0;
  let bytes = 0;
  const failures: string[] = [];
  for (const file of files(join(repoRoot, 'node_modules'))) {
    if (statSync(file).size > 12_000_000) continue;
    const source = readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
    const sourceTypes = file.endsWith('.mjs') ? (['module'] as const) : (['commonjs', 'module'] as const);
    let done = false;
    for (const sourceType of sourceTypes) {
      const r = transform({ source, moduleId: file, lang: 'js', sourceType });
      if (!r.ok) continue;
      done = true;
      const again = parse(r.code, 'js', sourceType);
      if (again.error !== null) failures.push(`${file} (${sourceType}): ${again.error.message}`);
      if (r.code.split('\n').length !== source.split('\n').length) failures.push(`${file}: line count changed`);
      break;
    }
    if (done) {
      checked++;
      bytes += source.length;
    } else refused++;
  }
  assert.deepEqual(failures, []);
  assert.ok(
    checked > 300,
    `checked ${checked} files (${(bytes / 1e6).toFixed(1)} MB), ${refused} do not parse either way`,
  );
});
