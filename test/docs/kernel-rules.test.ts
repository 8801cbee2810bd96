/**
 * docs/kernel-rules.md is the reference the code cites: every rule number
 * written in src/, test/, docs/ (and bench/, examples/, tools/, README.md)
 * must be defined there by a heading, every seed cited must be described in
 * its introduction, and nothing may point outside the repository to the
 * documents a fresh clone does not have.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const RULES = 'docs/kernel-rules.md';

/** Directories that are not the repository's own text: dependencies, git, build output, caches. */
const SKIP_DIRS = new Set(['node_modules', '.git', 'dist', '.livepatch-cache', 'scratch', 'tmp']);
const SKIP_PATHS = new Set(['bench/results', 'bench/loader/.plain']);
const TEXT = /\.(?:[cm]?[jt]s|md)$/;

function* walk(dir: string): Generator<string> {
  for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
    const path = dir === '' ? entry.name : `${dir}/${entry.name}`;
    if (entry.isDirectory()) {
      if (!SKIP_DIRS.has(entry.name) && !SKIP_PATHS.has(path)) yield* walk(path);
    } else if (entry.isFile()) {
      yield path;
    }
  }
}

/**
 * A citation: `R` and a topic number, optionally `.` and a rule number
 * (R4, R4.5, R12.10), standing alone as a word: `R4.5:`, `(R5.6/R17.3)` and
 * `R1–R17` count; `HR4`, `R4x` and `R123` do not.
 */
const CITATION = /\bR(\d{1,2})(?:\.(\d{1,2}))?\b/g;

interface Citation {
  readonly rule: string;
  readonly where: string;
}

function citations(): Citation[] {
  const out: Citation[] = [];
  const files = [
    ...['src', 'test', 'docs', 'bench', 'examples', 'tools'].flatMap((d) => [...walk(d)]),
    'README.md',
  ].filter((f) => TEXT.test(f));
  for (const file of files) {
    const lines = readFileSync(join(root, file), 'utf8').split('\n');
    lines.forEach((line, i) => {
      for (const m of line.matchAll(CITATION)) out.push({ rule: m[0], where: `${file}:${i + 1}` });
    });
  }
  return out;
}

/** The rules docs/kernel-rules.md defines: one `## R<n> — …` or `### R<n>.<m> — …` heading each. */
function definitions(): string[] {
  const text = readFileSync(join(root, RULES), 'utf8');
  return [...text.matchAll(/^#{2,3} (R\d{1,2}(?:\.\d{1,2})?) — \S/gm)].map((m) => m[1]!);
}

test('every rule is defined once, and every topic R1–R17 exists with its rules under it', () => {
  const defs = definitions();
  const seen = new Set<string>();
  for (const d of defs) {
    assert.ok(!seen.has(d), `${RULES} defines ${d} twice`);
    seen.add(d);
  }
  for (let n = 1; n <= 17; n++) assert.ok(seen.has(`R${n}`), `${RULES} has no "## R${n} — …" heading`);
  for (const d of defs) {
    const topic = d.split('.')[0]!;
    assert.ok(seen.has(topic), `${d} is defined but its topic ${topic} is not`);
  }
});

test('every R-citation in the repository names a rule defined in docs/kernel-rules.md', () => {
  const defined = new Set(definitions());
  const all = citations();
  assert.ok(all.length > 100, `only ${all.length} citations found: is the scan looking in the right place?`);
  const undefinedOnes = all.filter((c) => !defined.has(c.rule)).map((c) => `${c.where}: ${c.rule}`);
  assert.deepEqual(undefinedOnes, [], `cited but not defined in ${RULES}:\n${undefinedOnes.join('\n')}`);
});

test('every seed cited ("seed 001") is described in the introduction of docs/kernel-rules.md', () => {
  const rules = readFileSync(join(root, RULES), 'utf8');
  const missing = new Set<string>();
  for (const file of [...['src', 'test', 'docs'].flatMap((d) => [...walk(d)])].filter((f) => TEXT.test(f))) {
    for (const m of readFileSync(join(root, file), 'utf8').matchAll(/\bseeds? (\d{3})\b/gi)) {
      if (!rules.includes(`**seed ${m[1]}**`)) missing.add(`${file}: seed ${m[1]}`);
    }
  }
  assert.deepEqual([...missing], []);
});

test('no file points outside the repository to the shared spec, seeds or notes', () => {
  // The parent directory's documents are not in a clone; the regex is written
  // so that this file does not match itself.
  const outside = /(?:\.\.\/)+shared\/|\bshared\/(?:spec|seeds|notes|hooks)\b/;
  const hits: string[] = [];
  for (const file of walk('')) {
    const full = join(root, file);
    if (statSync(full).size > 8_000_000) continue;
    const bytes = readFileSync(full);
    if (bytes.includes(0)) continue; // binary
    const lines = bytes.toString('utf8').split('\n');
    lines.forEach((line, i) => {
      if (outside.test(line)) hits.push(`${relative(root, full)}:${i + 1}: ${line.trim()}`);
    });
  }
  assert.deepEqual(hits, [], `use docs/kernel-rules.md instead:\n${hits.join('\n')}`);
});
