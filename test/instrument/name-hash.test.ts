/**
 * The loader's name hash (src/instrument/name-hash.ts) is MurmurHash3
 * x86_128 of the string's UTF-16LE bytes: checked against a JavaScript port
 * of the reference on the encoded bytes, for every tail length and for
 * arbitrary strings (lone surrogates included).
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { nameHash } from '../../src/instrument/name-hash.ts';

const murmur = createRequire(import.meta.url)('murmurhash3js-revisited') as {
  x86: { hash128(bytes: Uint8Array, seed: number): string };
};
const reference = (s: string): string => murmur.x86.hash128(new Uint8Array(Buffer.from(s, 'utf16le')), 0);

test('nameHash is MurmurHash3 x86_128 of the UTF-16LE bytes, for every tail length', () => {
  for (let n = 0; n <= 40; n++) {
    const s = 'abcdefghijklmnopqrstuvwxyz\u00e9\u2603\ud83d\ude00ABCDEFGHIJKLMNOP'.slice(0, n);
    assert.equal(nameHash(s), reference(s), `length ${n}`);
  }
  assert.equal(nameHash(''), '00000000000000000000000000000000');
});

test('nameHash agrees with the reference on arbitrary strings', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (s) => nameHash(s) === reference(s)),
    { numRuns: 500 },
  );
});

test('nameHash tells apart strings that differ in one code unit, or only in length', () => {
  const base = 'function f(a) { return a + 1; }\n'.repeat(50);
  const seen = new Set<string>([nameHash(base)]);
  for (let i = 0; i < base.length; i += 7) {
    const changed = base.slice(0, i) + String.fromCharCode(base.charCodeAt(i) ^ 1) + base.slice(i + 1);
    seen.add(nameHash(changed));
  }
  seen.add(nameHash(base + '\0'));
  seen.add(nameHash(base.slice(0, -1)));
  assert.equal(seen.size, 1 + Math.ceil(base.length / 7) + 2);
});
