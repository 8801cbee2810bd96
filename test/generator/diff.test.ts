/**
 * Applying a unified diff to a tree (the `--diff` input): exact hunks, moved
 * hunks, new and deleted files, missing final newlines, and the errors that
 * keep a diff made against another version from becoming a patch.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyDiff, parseDiff } from '../../src/generator/unified-diff.ts';
import type { SourceTree } from '../../src/generator/tree.ts';

function memTree(files: Record<string, string>): SourceTree {
  return { label: 'mem', dir: null, paths: () => new Set(Object.keys(files)), read: (p) => files[p] };
}

const base = memTree({
  'src/a.mjs': 'one\ntwo\nthree\nfour\nfive\nsix\n',
  'src/b.mjs': 'x\ny',
  'src/gone.mjs': 'bye\n',
});

test('modify, add and delete files; git a/ b/ prefixes are stripped', () => {
  const diff = [
    'diff --git a/src/a.mjs b/src/a.mjs',
    'index 1111111..2222222 100644',
    '--- a/src/a.mjs',
    '+++ b/src/a.mjs',
    '@@ -2,3 +2,3 @@ one',
    ' two',
    '-three',
    '+THREE',
    ' four',
    '@@ -6 +6,2 @@',
    ' six',
    '+seven',
    '--- /dev/null',
    '+++ b/src/new.mjs',
    '@@ -0,0 +1,2 @@',
    '+export const n = 1;',
    '+export const m = 2;',
    '--- a/src/gone.mjs',
    '+++ /dev/null',
    '@@ -1 +0,0 @@',
    '-bye',
    '',
  ].join('\n');
  const t = applyDiff(base, parseDiff(diff, 'fix.diff'), 'fix.diff');
  assert.equal(t.read('src/a.mjs'), 'one\ntwo\nTHREE\nfour\nfive\nsix\nseven\n');
  assert.equal(t.read('src/new.mjs'), 'export const n = 1;\nexport const m = 2;\n');
  assert.equal(t.read('src/gone.mjs'), undefined);
  assert.equal(t.read('src/b.mjs'), 'x\ny', "untouched files are the base's");
  assert.deepEqual([...t.paths()].sort(), ['src/a.mjs', 'src/b.mjs', 'src/new.mjs']);
  assert.equal(t.sameAs?.(base, 'src/b.mjs'), true);
  assert.equal(t.sameAs?.(base, 'src/a.mjs'), undefined);
});

test('a hunk whose lines moved is found at the nearest exact place; "\\ No newline at end of file" is honoured', () => {
  // the header says line 1, the context is at line 4
  const diff =
    '--- src/a.mjs\n+++ src/a.mjs\n@@ -1,2 +1,2 @@\n four\n-five\n+FIVE\n--- src/b.mjs\n+++ src/b.mjs\n@@ -1,2 +1,2 @@\n x\n-y\n\\ No newline at end of file\n+y2\n';
  const t = applyDiff(base, parseDiff(diff, 'm.diff'), 'm.diff');
  assert.equal(t.read('src/a.mjs'), 'one\ntwo\nthree\nfour\nFIVE\nsix\n');
  assert.equal(t.read('src/b.mjs'), 'x\ny2\n');
});

test('a diff that does not apply is an error naming the diff line, the hunk and the file', () => {
  const diff = '--- a/src/a.mjs\n+++ b/src/a.mjs\n@@ -1,2 +1,2 @@\n one\n-TWO\n+2\n';
  assert.throws(() => applyDiff(base, parseDiff(diff, 'bad.diff'), 'bad.diff'), {
    name: 'InputError',
    message:
      "bad.diff:3: hunk #1 does not apply to src/a.mjs (expected at line 1: 'one'); was the diff made against another version?",
  });
  assert.throws(
    () => parseDiff('--- a/x\n+++ b/x\n@@ -1,3 +1,3 @@\n a\n', 'short.diff'),
    /short\.diff:3: the hunk is shorter than its header says/,
  );
  assert.throws(
    () => applyDiff(base, parseDiff('--- /dev/null\n+++ b/src/b.mjs\n@@ -0,0 +1 @@\n+z\n', 'c.diff'), 'c.diff'),
    /creates src\/b\.mjs, which already exists/,
  );
  assert.throws(() => parseDiff('--- a/../x\n+++ b/../x\n@@ -1 +1 @@\n-a\n+b\n', 'up.diff'), /outside the tree/);
});
