/**
 * The runtime as one bundle: `dist/register.js` (what `--import
 * livepatch/register` loads), `dist/index.js` (what programs and patch
 * modules import) and `dist/core/index.js` (`livepatch/core`) share their
 * modules through chunks in `dist/chunks/`, so they share one instance of
 * each (one AsyncLocalStorage, one dispatcher, one KlpError class).
 * Loading livepatch's 49 modules one by one was most of its start-up: ES
 * module resolution and linking per file (docs/benchmarks.md, "Start-up").
 * Runs after tsc, which still emits every module (the CLI, `livepatch/core`,
 * type declarations) and whose entry files this replaces.
 *
 *   node tools/bundle.ts
 */

import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TRANSFORM_FILES } from '../src/instrument/cache.ts';

const root = fileURLToPath(new URL('../', import.meta.url));

// The cache's loader version: in the bundle the transform's files are not
// beside the code that hashes them, so hash their sources here.
const h = createHash('sha256');
for (const f of TRANSFORM_FILES) h.update(readFileSync(`${root}src/instrument/${f}.ts`));

/** every package the project depends on */
function external(): string[] {
  const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as Record<
    string,
    Record<string, string> | undefined
  >;
  return [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.devDependencies ?? {})];
}

rmSync(`${root}dist/chunks`, { recursive: true, force: true });
const result = await build({
  absWorkingDir: root,
  entryPoints: ['src/register.ts', 'src/index.ts', 'src/core/index.ts'],
  outdir: 'dist',
  outbase: 'src',
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node24',
  // packages stay outside the bundle (the runtime loads none at start: oxc-parser only on a cache miss)
  external: external(),
  sourcemap: true,
  // ASCII only: one non-ASCII character anywhere makes V8 hold the whole file
  // as a two-byte string, which Node's compile cache then encodes to UTF-8 to
  // check its hash — ≈ 4 M instructions of every start for the runtime chunk
  // (counted with callgrind). esbuild escapes strings, but keeps comments as
  // they are: those are escaped below.
  charset: 'ascii',
  write: false,
  define: { LIVEPATCH_TRANSFORM_HASH: JSON.stringify(h.digest('hex').slice(0, 12)) },
  logLevel: 'warning',
});
for (const file of result.outputFiles) {
  mkdirSync(dirname(file.path), { recursive: true });
  if (!file.path.endsWith('.js')) {
    writeFileSync(file.path, file.contents);
    continue;
  }
  // left only in comments (charset: 'ascii' escapes the code's): same line, same meaning
  writeFileSync(
    file.path,
    file.text.replace(/[^\0-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`),
  );
}
