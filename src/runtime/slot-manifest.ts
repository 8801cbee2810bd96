/**
 * The modules a program loaded last time, by slot key and function count,
 * kept next to the transform cache (one file per entry script), so that the
 * next start can declare all their slots in one script (`SlotTable.predeclare`)
 * instead of one script per module. Only a hint: a wrong or missing manifest
 * costs time, never correctness — a module not declared ahead is declared
 * when it loads, as without a manifest.
 */

import { join } from 'node:path';
import { nameHash } from '../instrument/name-hash.ts';

// Builtins through getBuiltinModule, not `import`: an ES import of node:fs or
// node:crypto evaluates every lazy export (fs.promises, webcrypto…), ms of each start.
const { mkdirSync, readFileSync, renameSync, writeFileSync } = process.getBuiltinModule('node:fs');

export interface ManifestEntry {
  readonly key: string;
  readonly count: number;
}

/** Beyond this many slots, older entries are dropped (each costs compile time at start). */
const MAX_SLOTS = 200_000;

export class SlotManifest {
  private readonly dir: string;
  private readonly file: string;
  private previous: ManifestEntry[] = [];

  constructor(dir: string, entry: string) {
    this.dir = dir;
    this.file = join(dir, `slots-${nameHash(entry).slice(0, 16)}.json`);
  }

  read(): readonly ManifestEntry[] {
    try {
      const data = JSON.parse(readFileSync(this.file, 'utf8')) as unknown;
      if (!Array.isArray(data)) return [];
      this.previous = data
        .filter((e): e is [string, number] => Array.isArray(e) && typeof e[0] === 'string' && typeof e[1] === 'number')
        .map(([key, count]) => ({ key, count }));
    } catch {
      this.previous = [];
    }
    return this.previous;
  }

  /** This run's modules first, then last run's that did not load this time. */
  write(loaded: readonly ManifestEntry[]): void {
    const seen = new Set<string>();
    const out: [string, number][] = [];
    let slots = 0;
    for (const e of [...loaded, ...this.previous]) {
      if (seen.has(e.key) || slots + e.count > MAX_SLOTS) continue;
      seen.add(e.key);
      slots += e.count;
      out.push([e.key, e.count]);
    }
    try {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      const tmp = `${this.file}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify(out), { mode: 0o600 });
      renameSync(tmp, this.file);
    } catch {
      // read-only or full disk: the next start declares module by module
    }
  }
}
