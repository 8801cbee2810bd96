// Build benchmark: `livepatch build` for a one-function fix in a large
// project — an application of 300 modules whose node_modules holds
// TypeScript 5.9 (the devDependency `typescript5`: 9 MB typescript.js,
// 6 MB _tsc.js), acorn and marked. Timed through the real CLI (a fresh
// process per run, what a user waits for), median of RUNS runs:
//   1. --old dir --new dir: the fix in an application module; every file of
//      both trees is compared (node_modules included);
//   2. --diff: the same fix as a unified diff over the running tree;
//   3. --old dir --new dir: the fix in typescript.js itself, so the 9 MB
//      module is parsed and analysed in both versions.
//
//   node_modules/.bin/node bench/generator/run.ts [RUNS]
//
// See docs/benchmarks.md ("Build") for recorded figures.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const RUNS = Number(process.argv[2] ?? 5);
const repo = fileURLToPath(new URL('../../', import.meta.url));
const cli = join(repo, 'dist/cli/main.js');
const work = mkdtempSync(join(os.tmpdir(), 'lp-bench-build-'));

/** One version of the project: 300 modules in 30 directories, and the dependencies. */
function project(dir: string): void {
  for (let d = 0; d < 30; d++) {
    for (let m = 0; m < 10; m++) {
      const lines = [
        `import { helper${(m + 1) % 10} } from './m${(m + 1) % 10}.mjs';`,
        `const TABLE_${m} = new Map();`,
      ];
      for (let f = 0; f < 20; f++) {
        lines.push(
          `export function f${f}(x, y) {`,
          `  const k = \`\${x}:\${y}:${d}:${m}:${f}\`;`,
          `  if (TABLE_${m}.has(k)) return TABLE_${m}.get(k);`,
          `  const v = helper${(m + 1) % 10}(x) + y * ${f};`,
          `  TABLE_${m}.set(k, v);`,
          '  return v;',
          '}',
        );
      }
      lines.push(`export function helper${m}(x) { return x + ${m}; }`);
      mkdirSync(join(dir, `src/d${d}`), { recursive: true });
      writeFileSync(join(dir, `src/d${d}/m${m}.mjs`), lines.join('\n') + '\n');
    }
  }
  writeFileSync(join(dir, 'package.json'), '{ "name": "big", "type": "module" }\n');
  for (const [from, to] of [
    ['typescript5', 'typescript'],
    ['acorn', 'acorn'],
    ['marked', 'marked'],
  ]) {
    cpSync(join(repo, 'node_modules', from!), join(dir, 'node_modules', to!), { recursive: true });
  }
}

function time(args: string[]): { ms: number; out: string } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [cli, 'build', ...args], { encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`livepatch build ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return { ms, out: r.stdout };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

try {
  const old = join(work, 'old');
  const next = join(work, 'new');
  project(old);
  cpSync(old, next, { recursive: true });
  // the fix: one function of one application module
  const mod = 'src/d17/m3.mjs';
  const text = readFileSync(join(old, mod), 'utf8');
  writeFileSync(
    join(next, mod),
    text.replace('const v = helper4(x) + y * 7;', 'const v = helper4(Number(x)) + y * 7;'),
  );
  const diff = spawnSync('git', ['diff', '--no-index', join(old, mod), join(next, mod)], { encoding: 'utf8' })
    .stdout.replaceAll(`a${old}/`, 'a/')
    .replaceAll(`b${next}/`, 'b/');
  writeFileSync(join(work, 'fix.diff'), diff);
  const files = spawnSync(
    'find',
    [
      old,
      '-type',
      'f',
      '(',
      '-name',
      '*.js',
      '-o',
      '-name',
      '*.mjs',
      '-o',
      '-name',
      '*.cjs',
      '-o',
      '-name',
      '*.ts',
      ')',
      '-not',
      '-name',
      '*.d.ts',
    ],
    { encoding: 'utf8' },
  )
    .stdout.trim()
    .split('\n');
  const bytes = files.reduce((n, f) => n + readFileSync(f).length, 0);

  const rows: [string, number[]][] = [
    ['app fix, --old dir --new dir', []],
    ['app fix, --diff', []],
    ['fix in typescript.js (9 MB), --old dir --new dir', []],
  ];
  for (let i = 0; i < RUNS; i++) {
    const a = time(['--old', old, '--new', next, '-o', join(work, 'a.mjs')]);
    if (!/1 function\(s\) in 1 module/.test(a.out)) throw new Error(a.out);
    rows[0]![1].push(a.ms);
    rows[1]![1].push(time(['--diff', join(work, 'fix.diff'), '--root', old, '-o', join(work, 'b.mjs')]).ms);
  }
  // the same tree with the fix in the dependency instead
  writeFileSync(join(next, mod), text);
  const ts = 'node_modules/typescript/lib/typescript.js';
  const tsText = readFileSync(join(old, ts), 'utf8');
  const fixed = tsText.replace(
    'function isIdentifierText(name, languageVersion, identifierVariant) {',
    'function isIdentifierText(name, languageVersion, identifierVariant) {\n    if (typeof name !== "string") return false;',
  );
  if (fixed === tsText) throw new Error('isIdentifierText not found in typescript.js');
  writeFileSync(join(next, ts), fixed);
  for (let i = 0; i < Math.max(3, RUNS >> 1); i++) {
    const c = time(['--old', old, '--new', next, '-o', join(work, 'c.mjs')]);
    if (!/1 function\(s\) in 1 module/.test(c.out)) throw new Error(c.out);
    rows[2]![1].push(c.ms);
  }

  console.log(
    `project: ${files.length} module files, ${(bytes / 1e6).toFixed(1)} MB of JavaScript (node_modules: typescript 5.9, acorn, marked)`,
  );
  console.log(`${os.cpus().length} cores of ${os.cpus()[0]?.model}, Node ${process.version}\n`);
  console.log('| build | median | runs |');
  console.log('|---|---|---|');
  for (const [name, ms] of rows)
    console.log(`| ${name} | ${median(ms).toFixed(0)} ms | ${ms.map((x) => x.toFixed(0)).join(', ')} |`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
