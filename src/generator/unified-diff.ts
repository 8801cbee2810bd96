/**
 * `livepatch build --diff fix.diff`: a unified diff (as `git diff` or
 * `diff -u` write it) applied to the running version's tree. The result is
 * an overlay of that tree: the changed files in memory, every other file
 * read from the base, so a large tree is never copied.
 *
 * Hunks must apply exactly (no fuzz); a hunk may have moved by some lines,
 * as `patch` allows, and the nearest exact place is taken. Anything else is
 * an error naming the file and the hunk: a patch built from a diff that did
 * not apply would patch code nobody wrote.
 */

import { overlayTree, type SourceTree } from './tree.ts';
import { InputError } from './errors.ts';

export interface FilePatch {
  /** path in the old tree, or null for a new file */
  readonly oldPath: string | null;
  /** path in the new tree, or null for a deleted file */
  readonly newPath: string | null;
  readonly hunks: Hunk[];
}

interface Hunk {
  readonly oldStart: number;
  /** ' ' context, '-' removed, '+' added; `noEol` marks the line the "\ No newline" marker follows */
  readonly lines: { readonly op: ' ' | '-' | '+'; readonly text: string; noEol: boolean }[];
  /** line of the `@@` header in the diff file, for messages */
  readonly at: number;
}

/** Parse the file patches of a unified diff. `strip`: path components to remove (like `patch -p`); default: 1 for `a/` `b/` paths, else 0. */
export function parseDiff(text: string, name: string, strip?: number): FilePatch[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const patches: FilePatch[] = [];
  let i = 0;
  let renameFrom: string | null = null;
  let renameTo: string | null = null;
  while (i < lines.length) {
    const line = lines[i]!;
    if (line.startsWith('diff --git ')) {
      renameFrom = renameTo = null;
      i++;
      continue;
    }
    if (line.startsWith('rename from ')) {
      renameFrom = line.slice(12);
      i++;
      continue;
    }
    if (line.startsWith('rename to ')) {
      renameTo = line.slice(10);
      i++;
      // a pure rename has no hunks: the content moves as it is
      if (renameFrom !== null && !(lines[i] ?? '').startsWith('--- '))
        patches.push({ oldPath: renameFrom, newPath: renameTo, hunks: [] });
      continue;
    }
    if (!line.startsWith('--- ') || !(lines[i + 1] ?? '').startsWith('+++ ')) {
      i++;
      continue;
    }
    const oldRaw = headerPath(line.slice(4));
    const newRaw = headerPath(lines[i + 1]!.slice(4));
    const p =
      strip ?? ((oldRaw === null || oldRaw.startsWith('a/')) && (newRaw === null || newRaw.startsWith('b/')) ? 1 : 0);
    const oldPath = oldRaw === null ? null : stripPath(oldRaw, p, name, i + 1);
    const newPath = newRaw === null ? null : stripPath(newRaw, p, name, i + 2);
    i += 2;
    const hunks: Hunk[] = [];
    while (i < lines.length && lines[i]!.startsWith('@@')) {
      const m = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/.exec(lines[i]!);
      if (m === null) throw new InputError(`${name}:${i + 1}: malformed hunk header '${lines[i]}'`);
      let oldLeft = m[2] === undefined ? 1 : Number(m[2]);
      let newLeft = m[4] === undefined ? 1 : Number(m[4]);
      const hunk: Hunk = { oldStart: Number(m[1]), lines: [], at: i + 1 };
      i++;
      while (i < lines.length && (oldLeft > 0 || newLeft > 0 || lines[i]!.startsWith('\\'))) {
        const l = lines[i]!;
        if (l.startsWith('\\')) {
          const last = hunk.lines[hunk.lines.length - 1];
          if (last !== undefined) last.noEol = true;
          i++;
          continue;
        }
        // some tools drop the space of an empty context line
        const op = l === '' ? ' ' : l[0];
        if (op !== ' ' && op !== '-' && op !== '+')
          throw new InputError(`${name}:${i + 1}: unexpected line in a hunk: '${l}'`);
        hunk.lines.push({ op, text: l.slice(1), noEol: false });
        if (op !== '+') oldLeft--;
        if (op !== '-') newLeft--;
        i++;
      }
      if (oldLeft !== 0 || newLeft !== 0)
        throw new InputError(`${name}:${hunk.at}: the hunk is shorter than its header says`);
      hunks.push(hunk);
    }
    patches.push({ oldPath: renameFrom ?? oldPath, newPath: renameTo ?? newPath, hunks });
    renameFrom = renameTo = null;
  }
  if (patches.length === 0) throw new InputError(`${name}: no file changes found (is it a unified diff?)`);
  return patches;
}

function headerPath(raw: string): string | null {
  let path = raw.split('\t')[0]!.trim();
  if (path.startsWith('"') && path.endsWith('"')) path = JSON.parse(path) as string;
  return path === '/dev/null' ? null : path;
}

function stripPath(path: string, n: number, name: string, line: number): string {
  const parts = path.split('/');
  if (parts.length <= n) throw new InputError(`${name}:${line}: cannot strip ${n} component(s) from '${path}'`);
  const rest = parts.slice(n).join('/');
  if (rest.startsWith('/') || rest.split('/').includes('..'))
    throw new InputError(`${name}:${line}: '${path}' is outside the tree`);
  return rest;
}

/** Apply the patches to `base`: the new version, as an overlay. */
export function applyDiff(base: SourceTree, patches: readonly FilePatch[], name: string): SourceTree {
  const changes = new Map<string, string | null>();
  for (const fp of patches) {
    const path = fp.oldPath ?? fp.newPath!;
    let text: string;
    if (fp.oldPath === null) {
      if (base.read(fp.newPath!) !== undefined && !changes.has(fp.newPath!)) {
        throw new InputError(`${name}: creates ${fp.newPath}, which already exists in ${base.label}`);
      }
      text = '';
    } else {
      const current = changes.has(fp.oldPath) ? changes.get(fp.oldPath) : base.read(fp.oldPath);
      if (current === undefined || current === null)
        throw new InputError(`${name}: ${fp.oldPath} does not exist in ${base.label}`);
      text = current;
    }
    const result = applyHunks(text, fp.hunks, path, name);
    if (fp.newPath === null) {
      changes.set(fp.oldPath!, null);
    } else {
      if (fp.oldPath !== null && fp.oldPath !== fp.newPath) changes.set(fp.oldPath, null);
      changes.set(fp.newPath, result);
    }
  }
  return overlayTree(base, changes, `${base.label} + ${name}`);
}

function applyHunks(text: string, hunks: readonly Hunk[], path: string, name: string): string {
  const lines = text === '' ? [] : text.split('\n');
  let eol = true;
  if (lines.length > 0) {
    if (lines[lines.length - 1] === '') lines.pop();
    else eol = false;
  }
  const out: string[] = [];
  let pos = 0; // next unconsumed line of `lines`
  let shift = 0; // how far earlier hunks were found from where their header said
  for (let h = 0; h < hunks.length; h++) {
    const hunk = hunks[h]!;
    const old = hunk.lines.filter((l) => l.op !== '+').map((l) => l.text);
    // `-5,0` inserts after line 5; `-0,0` (a new file) at the start
    const expected = old.length === 0 ? hunk.oldStart : hunk.oldStart - 1;
    const at = findNearest(lines, old, Math.max(expected + shift, pos), pos);
    if (at === -1) {
      const first = hunk.lines.find((l) => l.op !== '+');
      throw new InputError(
        `${name}:${hunk.at}: hunk #${h + 1} does not apply to ${path} (expected at line ${hunk.oldStart}${first ? `: '${first.text.trim()}'` : ''}); was the diff made against another version?`,
      );
    }
    shift += at - expected;
    for (; pos < at; pos++) out.push(lines[pos]!);
    for (const l of hunk.lines) {
      if (l.op === '-') pos++;
      else if (l.op === ' ') {
        out.push(lines[pos]!);
        pos++;
      } else out.push(l.text);
      if (l.noEol) eol = l.op === '-' ? true : false;
    }
  }
  for (; pos < lines.length; pos++) out.push(lines[pos]!);
  // every line of a file with a final newline ends with one
  return out.length === 0 ? '' : out.join('\n') + (eol ? '\n' : '');
}

/** The start of `want`'s exact match in `lines` nearest to `at`, not before `from`; -1 if none. */
function findNearest(lines: readonly string[], want: readonly string[], at: number, from: number): number {
  const matches = (i: number): boolean => {
    if (i < from || i + want.length > lines.length) return false;
    for (let k = 0; k < want.length; k++) if (lines[i + k] !== want[k]) return false;
    return true;
  };
  for (let d = 0; d <= lines.length; d++) {
    if (matches(at - d)) return at - d;
    if (d > 0 && matches(at + d)) return at + d;
  }
  return -1;
}
