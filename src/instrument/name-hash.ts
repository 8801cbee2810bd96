/**
 * A hash for the short strings the loader turns into names at every start:
 * a module id into its key (moduleKey), the loader's options into the tag
 * of cache entries, an entry script into its slot manifest's name.
 * MurmurHash3 x86_128 (seed 0) of the string's UTF-16LE bytes, as 32 hex
 * digits.
 *
 * Why not SHA-256 from node:crypto: loading node:crypto costs ≈ 6 ms, the
 * largest single cost of a warm start (docs/benchmarks.md, "Start-up"), and
 * these names need no resistance to an attacker. (Sources themselves are not
 * hashed at all: a cache entry holds its source and is compared byte for
 * byte, see cache.ts.) Why by hand: the JavaScript ports of MurmurHash3
 * hash byte arrays, and encoding each string first would copy it; this
 * reads the code units in place, two per 32-bit word. The test checks it
 * against such a port on the encoded bytes.
 */

const C1 = 0x239b961b;
const C2 = 0xab0e9789;
const C3 = 0x38b34ae5;
const C4 = 0xa1e38b93;

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

function hex(h: number): string {
  return (h >>> 0).toString(16).padStart(8, '0');
}

export function nameHash(s: string): string {
  const units = s.length;
  const blocks = units >>> 3; // 16 bytes = 8 code units
  let h1 = 0;
  let h2 = 0;
  let h3 = 0;
  let h4 = 0;
  let k1: number;
  let k2: number;
  let k3: number;
  let k4: number;
  let i = 0;
  for (let b = 0; b < blocks; b++, i += 8) {
    k1 = s.charCodeAt(i) | (s.charCodeAt(i + 1) << 16);
    k2 = s.charCodeAt(i + 2) | (s.charCodeAt(i + 3) << 16);
    k3 = s.charCodeAt(i + 4) | (s.charCodeAt(i + 5) << 16);
    k4 = s.charCodeAt(i + 6) | (s.charCodeAt(i + 7) << 16);

    k1 = Math.imul(rotl(Math.imul(k1, C1), 15), C2);
    h1 ^= k1;
    h1 = rotl(h1, 19);
    h1 = (h1 + h2) | 0;
    h1 = (Math.imul(h1, 5) + 0x561ccd1b) | 0;

    k2 = Math.imul(rotl(Math.imul(k2, C2), 16), C3);
    h2 ^= k2;
    h2 = rotl(h2, 17);
    h2 = (h2 + h3) | 0;
    h2 = (Math.imul(h2, 5) + 0x0bcaa747) | 0;

    k3 = Math.imul(rotl(Math.imul(k3, C3), 17), C4);
    h3 ^= k3;
    h3 = rotl(h3, 15);
    h3 = (h3 + h4) | 0;
    h3 = (Math.imul(h3, 5) + 0x96cd1c35) | 0;

    k4 = Math.imul(rotl(Math.imul(k4, C4), 18), C1);
    h4 ^= k4;
    h4 = rotl(h4, 13);
    h4 = (h4 + h1) | 0;
    h4 = (Math.imul(h4, 5) + 0x32ac3b17) | 0;
  }

  // the tail: 0–7 code units, an even number of bytes (the reference's switch on len & 15)
  const rest = units - i;
  if (rest > 6) {
    k4 = s.charCodeAt(i + 6);
    h4 ^= Math.imul(rotl(Math.imul(k4, C4), 18), C1);
  }
  if (rest > 4) {
    k3 = s.charCodeAt(i + 4) | (rest > 5 ? s.charCodeAt(i + 5) << 16 : 0);
    h3 ^= Math.imul(rotl(Math.imul(k3, C3), 17), C4);
  }
  if (rest > 2) {
    k2 = s.charCodeAt(i + 2) | (rest > 3 ? s.charCodeAt(i + 3) << 16 : 0);
    h2 ^= Math.imul(rotl(Math.imul(k2, C2), 16), C3);
  }
  if (rest > 0) {
    k1 = s.charCodeAt(i) | (rest > 1 ? s.charCodeAt(i + 1) << 16 : 0);
    h1 ^= Math.imul(rotl(Math.imul(k1, C1), 15), C2);
  }

  const bytes = units * 2;
  h1 ^= bytes;
  h2 ^= bytes;
  h3 ^= bytes;
  h4 ^= bytes;
  h1 = (h1 + h2 + h3 + h4) | 0;
  h2 = (h2 + h1) | 0;
  h3 = (h3 + h1) | 0;
  h4 = (h4 + h1) | 0;
  h1 = fmix(h1);
  h2 = fmix(h2);
  h3 = fmix(h3);
  h4 = fmix(h4);
  h1 = (h1 + h2 + h3 + h4) | 0;
  h2 = (h2 + h1) | 0;
  h3 = (h3 + h1) | 0;
  h4 = (h4 + h1) | 0;
  return hex(h1) + hex(h2) + hex(h3) + hex(h4);
}
