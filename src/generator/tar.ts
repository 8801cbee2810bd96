/**
 * Reading a package tarball (`npm pack`'s `.tgz`): gzip, then tar — the
 * ustar headers npm writes, with pax (`x`) and GNU long-name (`L`) records
 * for long paths. Only regular files are kept, by their path inside the
 * package (npm's leading `package/` is taken off). A file that is not a
 * gzipped tar is an error, never a partial result.
 */

import { gunzipSync } from 'node:zlib';
import { TarError } from './errors.ts';

export function readTarball(data: Buffer): Map<string, Buffer> {
  let tar: Buffer;
  try {
    tar = gunzipSync(data);
  } catch (e) {
    throw new TarError(`not a gzip file (${(e as Error).message})`);
  }
  return readTar(tar);
}

export function readTar(tar: Buffer): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  let off = 0;
  let longName: string | null = null;
  let paxPath: string | null = null;
  let blocks = 0;
  while (off + 512 <= tar.length) {
    const h = tar.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break; // end of archive
    checkHeader(h, off);
    blocks++;
    const size = octal(h.subarray(124, 136), off);
    const type = String.fromCharCode(h[156]!);
    const body = tar.subarray(off + 512, off + 512 + size);
    if (body.length < size) throw new TarError(`truncated archive (an entry at offset ${off} runs past the end)`);
    off += 512 + Math.ceil(size / 512) * 512;
    if (type === 'L') {
      longName = cString(body);
      continue;
    }
    if (type === 'x') {
      paxPath = paxRecord(body, 'path') ?? paxPath;
      continue;
    }
    if (type === 'g') continue;
    const prefix = cString(h.subarray(345, 500));
    const name =
      paxPath ?? longName ?? (prefix ? `${prefix}/${cString(h.subarray(0, 100))}` : cString(h.subarray(0, 100)));
    longName = null;
    paxPath = null;
    if (type !== '0' && type !== '\0' && type !== '7') continue; // directories, links, devices
    const path = name
      .replace(/^\.?\//, '')
      .split('/')
      .slice(1)
      .join('/');
    if (path === '' || path.split('/').includes('..')) continue;
    files.set(path, Buffer.from(body));
  }
  if (blocks === 0) throw new TarError('an empty archive');
  return files;
}

function checkHeader(h: Buffer, off: number): void {
  const stored = octal(h.subarray(148, 156), off);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : h[i]!;
  if (sum !== stored) throw new TarError(`not a tar archive (bad header checksum at offset ${off})`);
}

function octal(b: Buffer, off: number): number {
  const s = cString(b).trim();
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) throw new TarError(`not a tar archive (bad number '${s}' at offset ${off})`);
  return parseInt(s, 8);
}

function cString(b: Buffer): string {
  const z = b.indexOf(0);
  return b.subarray(0, z === -1 ? b.length : z).toString('utf8');
}

/** A pax extended header's value for `key` ("<len> key=value\n" records; lengths count bytes). */
function paxRecord(body: Buffer, key: string): string | null {
  let i = 0;
  while (i < body.length) {
    const sp = body.indexOf(0x20, i);
    if (sp === -1) break;
    const len = Number(body.subarray(i, sp).toString('latin1'));
    if (!Number.isInteger(len) || len <= 0) break;
    const rec = body.subarray(sp + 1, i + len - 1).toString('utf8');
    const eq = rec.indexOf('=');
    if (eq !== -1 && rec.slice(0, eq) === key) return rec.slice(eq + 1);
    i += len;
  }
  return null;
}
