/**
 * Just enough of semantic versioning to tell which installed copies of a
 * package a fix release applies to: the order of versions, and the release
 * line (the major version) within which a release is a fix and not an
 * upgrade.
 */

export interface Version {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  readonly pre: readonly (string | number)[];
}

export function parseVersion(v: string): Version | null {
  const m = /^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/.exec(v.trim());
  if (m === null) return null;
  const pre = m[4] === undefined ? [] : m[4].split('.').map((p) => (/^\d+$/.test(p) ? Number(p) : p));
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), pre };
}

/** <0, 0, >0 like a comparator; versions that do not parse compare as strings. */
export function compareVersions(a: string, b: string): number {
  const x = parseVersion(a);
  const y = parseVersion(b);
  if (x === null || y === null) return a < b ? -1 : a > b ? 1 : 0;
  for (const k of ['major', 'minor', 'patch'] as const) if (x[k] !== y[k]) return x[k] - y[k];
  // a pre-release comes before its release
  if (x.pre.length === 0 || y.pre.length === 0) return y.pre.length - x.pre.length;
  for (let i = 0; i < Math.max(x.pre.length, y.pre.length); i++) {
    const p = x.pre[i];
    const q = y.pre[i];
    if (p === undefined) return -1;
    if (q === undefined) return 1;
    if (p === q) continue;
    if (typeof p === 'number' && typeof q === 'number') return p - q;
    if (typeof p === 'number') return -1;
    if (typeof q === 'number') return 1;
    return p < q ? -1 : 1;
  }
  return 0;
}

/**
 * The release line a fix is published on: the major version. Within it, a
 * later release is what npm's caret range takes, and security fixes are
 * published there — for 0.x packages often as a minor release (cookie
 * 0.6.0 -> 0.7.0, send 0.18.0 -> 0.19.0), so 0.x is one line too.
 */
export function releaseLine(v: string): string {
  const p = parseVersion(v);
  return p === null ? v : String(p.major);
}
