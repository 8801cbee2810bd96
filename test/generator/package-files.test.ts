/**
 * The pieces of a version-bump build on their own: which files of a
 * package a process can load (reach.ts), reading a package tarball
 * (tar.ts), finding the installed copies (installed.ts), and the order of
 * versions (semver.ts).
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { findCopies } from '../../src/generator/installed.ts';
import type { PackageFiles, PackageJson } from '../../src/generator/package-files.ts';
import { reachedFiles } from '../../src/generator/reach.ts';
import { compareVersions, releaseLine } from '../../src/generator/semver.ts';
import { readTarball } from '../../src/generator/tar.ts';
import { TarError } from '../../src/generator/errors.ts';

function memPackage(json: PackageJson, files: Record<string, string>): PackageFiles {
  const all: Record<string, string> = { 'package.json': JSON.stringify(json), ...files };
  return {
    name: json.name!,
    version: json.version!,
    json,
    label: 'mem',
    dir: null,
    list: () => Object.keys(all),
    read: (p) => all[p],
    url: (p) => `mem:${p}`,
  };
}

test("reach: exports under the conditions Node uses, and what they require or import, relative, by the package's name or #imports", () => {
  const pkg = memPackage(
    {
      name: 'lib',
      version: '1.0.0',
      exports: {
        '.': {
          types: './index.d.ts',
          browser: './dist/browser.js',
          import: './esm/index.mjs',
          require: './cjs/index.js',
        },
        './feature/*': './cjs/features/*.js',
      },
      imports: { '#internal': './cjs/internal.js' },
    },
    {
      'esm/index.mjs':
        'import { x } from "./util.mjs";\nexport * from "lib/feature/a";\nexport const y = () => import("./lazy.mjs");\n',
      'esm/util.mjs': 'export const x = 1;\n',
      'esm/lazy.mjs': 'export default 1;\n',
      'cjs/index.js':
        'const i = require("#internal");\nconst d = require("./dir");\nmodule.exports = { i, d, os: require("os"), other: require("other-package") };\n',
      'cjs/internal.js': 'module.exports = 1;\n',
      'cjs/dir/index.js': 'module.exports = require("../helper");\n',
      'cjs/helper.js': 'module.exports = 2;\n',
      'cjs/features/a.js': 'module.exports = "a";\n',
      'cjs/features/b.js': 'module.exports = "b";\n',
      'dist/browser.js': 'window.lib = 1;\n',
      'test/index.test.js': 'require("../cjs/index.js");\n',
      'scripts/build.js': 'require("fs");\n',
      'index.d.ts': 'export declare const y: number;\n',
    },
  );
  const r = reachedFiles(pkg);
  assert.deepEqual([...r.files].sort(), [
    'cjs/dir/index.js',
    'cjs/features/a.js',
    'cjs/features/b.js',
    'cjs/helper.js',
    'cjs/index.js',
    'cjs/internal.js',
    'esm/index.mjs',
    'esm/lazy.mjs',
    'esm/util.mjs',
  ]);
  // a file the process loaded counts, even if nothing reaches it
  assert.ok(reachedFiles(pkg, ['test/index.test.js']).files.has('test/index.test.js'));
});

test('reach: without exports, main (a directory, or index.js by default)', () => {
  const pkg = memPackage(
    { name: 'old-style', version: '1.0.0', main: './lib/' },
    {
      'lib/index.js': 'module.exports = require("./parse");\n',
      'lib/parse.js': 'module.exports = {};\n',
      'dist/old-style.js': '(function () {})();\n',
    },
  );
  assert.deepEqual([...reachedFiles(pkg).files].sort(), ['lib/index.js', 'lib/parse.js']);
  const plain = memPackage(
    { name: 'plain', version: '1.0.0' },
    { 'index.js': 'require("./a")\n', 'a.js': '', 'b.js': '' },
  );
  assert.deepEqual([...reachedFiles(plain).files].sort(), ['a.js', 'index.js']);
});

test("tar: npm pack's tarball is read in memory; something else is an error, not a partial result", () => {
  const dir = mkdtempSync(join(tmpdir(), 'lp-tar-'));
  try {
    mkdirSync(join(dir, 'pkg', 'lib'), { recursive: true });
    writeFileSync(join(dir, 'pkg', 'package.json'), JSON.stringify({ name: 'tiny', version: '1.2.3', files: ['lib'] }));
    const long = 'lib/' + 'a-rather-long-directory-name/'.repeat(4) + 'file.js';
    mkdirSync(join(dir, 'pkg', long, '..'), { recursive: true });
    writeFileSync(join(dir, 'pkg', long), 'module.exports = "é";\n');
    const r = spawnSync(
      'npm',
      ['pack', join(dir, 'pkg'), '--pack-destination', dir, '--ignore-scripts', '--loglevel=error'],
      { encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
    const files = readTarball(
      readFileSync(
        join(
          dir,
          readdirSync(dir).find((f) => f.endsWith('.tgz'))!,
        ),
      ),
    );
    assert.deepEqual([...files.keys()].sort(), [long, 'package.json']);
    assert.equal(files.get(long)!.toString('utf8'), 'module.exports = "é";\n');
    assert.throws(
      () => readTarball(Buffer.from('not gzip')),
      (e: unknown) => e instanceof TarError && /not a gzip file/.test(e.message),
    );
    assert.throws(
      () => readTarball(gzipSync(Buffer.alloc(1024, 7))),
      (e: unknown) => e instanceof TarError && /^not a tar archive \(bad (number|header checksum)/.test(e.message),
    );
    assert.throws(
      () => readTarball(gzipSync(Buffer.alloc(1024))),
      (e: unknown) => e instanceof TarError && /an empty archive/.test(e.message),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("installed copies: nested, scoped, aliased and linked ones, by the name in their package.json, with the loader's module ids", () => {
  const root = mkdtempSync(join(tmpdir(), 'lp-copies-'));
  try {
    const pkg = (dir: string, name: string, version: string) => {
      mkdirSync(join(root, dir), { recursive: true });
      writeFileSync(join(root, dir, 'package.json'), JSON.stringify({ name, version }));
    };
    pkg('app/node_modules/qs', 'qs', '6.10.2');
    pkg('app/node_modules/express/node_modules/qs', 'qs', '6.10.1');
    pkg('app/node_modules/qs-old', 'qs', '6.9.0'); // an alias: qs-old@npm:qs@6.9.0
    pkg('app/node_modules/@scope/tool/node_modules/qs', 'qs', '6.10.3');
    pkg('app/node_modules/.pnpm/qs@6.5.0/node_modules/qs', 'qs', '6.5.0');
    pkg('elsewhere/qs', 'qs', '6.0.0');
    symlinkSync(join(root, 'elsewhere/qs'), join(root, 'app/node_modules/linked'), 'dir');
    pkg('app/node_modules/not-qs', 'not-qs', '1.0.0');
    const copies = findCopies(join(root, 'app'), 'qs').map((c) => [c.path, c.version, c.idPrefix]);
    assert.deepEqual(copies, [
      ['../elsewhere/qs', '6.0.0', '../elsewhere/qs'],
      ['node_modules/.pnpm/qs@6.5.0/node_modules/qs', '6.5.0', '.pnpm/qs@6.5.0/node_modules/qs'],
      ['node_modules/@scope/tool/node_modules/qs', '6.10.3', '@scope/tool/node_modules/qs'],
      ['node_modules/express/node_modules/qs', '6.10.1', 'express/node_modules/qs'],
      ['node_modules/qs', '6.10.2', 'qs'],
      ['node_modules/qs-old', '6.9.0', 'qs-old'],
    ]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('versions: order (pre-releases first), and the release line a fix is published on', () => {
  const sorted = ['1.0.0', '0.10.0', '1.0.0-rc.1', '0.9.1', '1.0.0-beta', '10.0.0', '2.0.0'].sort(compareVersions);
  assert.deepEqual(sorted, ['0.9.1', '0.10.0', '1.0.0-beta', '1.0.0-rc.1', '1.0.0', '2.0.0', '10.0.0']);
  assert.equal(releaseLine('6.10.3'), '6');
  assert.equal(releaseLine('0.7.0'), '0');
});
