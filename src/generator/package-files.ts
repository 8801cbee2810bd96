/**
 * A version of one npm package, as files: an installed copy or any package
 * directory, a tarball (`npm pack`'s `.tgz`), or a release fetched from the
 * registry the way `npm pack <name>@<version>` does it. Paths are POSIX,
 * relative to the package's root; a package's own `node_modules` (other
 * packages) is not part of it.
 */

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { InputError, TarError } from './errors.ts';
import { cachedReader, walkFiles } from './text-files.ts';
import { readTarball } from './tar.ts';

export interface PackageJson {
  readonly name?: string;
  readonly version?: string;
  readonly main?: string;
  readonly exports?: unknown;
  readonly imports?: unknown;
  readonly type?: string;
  readonly private?: boolean;
  readonly dependencies?: Record<string, string>;
}

export interface PackageFiles {
  readonly name: string;
  readonly version: string;
  readonly json: PackageJson;
  /** where it comes from: a directory, a tarball, `npm:qs@6.10.3` */
  readonly label: string;
  /** its directory on disk, if it has one */
  readonly dir: string | null;
  /** every file's path */
  list(): readonly string[];
  read(path: string): string | undefined;
  /** a URL for the file, for source maps */
  url(path: string): string;
}

const SKIP_DIRS = new Set(['node_modules', '.git', '.hg', '.svn']);

/** A package directory: it must have a package.json with a name and a version. */
export function packageDir(dir: string, label = dir): PackageFiles {
  const root = resolve(dir);
  let st;
  try {
    st = statSync(root);
  } catch {
    throw new InputError(`no such directory: ${dir}`);
  }
  if (!st.isDirectory()) throw new InputError(`'${dir}' is not a directory`);
  const json = readJson(() => readFileSync(join(root, 'package.json'), 'utf8'), `${dir}/package.json`);
  let files: string[] | undefined;
  return {
    ...identity(json, label),
    json,
    label,
    dir: root,
    list() {
      if (files === undefined) {
        files = [];
        const out = files;
        walkFiles(root, SKIP_DIRS, false, (p) => out.push(p));
      }
      return files;
    },
    read: cachedReader(root),
    url: (path) => pathToFileURL(join(root, path)).href,
  };
}

/** A package tarball, read in memory. */
export function packageTarball(file: string, label = file): PackageFiles {
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch (e) {
    throw new InputError(`cannot read ${file}: ${(e as Error).message}`);
  }
  let entries: Map<string, Buffer>;
  try {
    entries = readTarball(data);
  } catch (e) {
    if (e instanceof TarError) throw new InputError(`${file} is not a package tarball: ${e.message}`);
    throw e;
  }
  const pj = entries.get('package.json');
  const json = readJson(() => {
    if (pj === undefined) throw new InputError('the tarball has no package.json');
    return pj.toString('utf8');
  }, `${file}: package.json`);
  const text = new Map<string, string>();
  const files = [...entries.keys()].filter((p) => !p.split('/').some((s) => SKIP_DIRS.has(s))).sort();
  return {
    ...identity(json, label),
    json,
    label,
    dir: null,
    list: () => files,
    read(path) {
      const t = text.get(path);
      if (t !== undefined) return t;
      const b = entries.get(path);
      if (b === undefined) return undefined;
      let s = b.toString('utf8');
      if (s.charCodeAt(0) === 0xfeff) s = s.slice(1);
      text.set(path, s);
      return s;
    },
    url: (path) => `livepatch-package:${encodeURIComponent(json.name ?? '')}@${json.version ?? ''}/${path}`,
  };
}

/** A directory or a tarball, by what is there. */
export function openPackage(arg: string): PackageFiles {
  let st;
  try {
    st = statSync(arg);
  } catch {
    throw new InputError(`no such file or directory: ${arg}`);
  }
  return st.isDirectory() ? packageDir(arg) : packageTarball(arg);
}

/**
 * `<name>@<version>` from the registry: `npm pack` downloads the tarball
 * (with the user's npm configuration: registry, authentication, proxy),
 * which is then read like any other. No install scripts run.
 */
export function fetchPackage(name: string, version: string): PackageFiles {
  const dest = mkdtempSync(join(tmpdir(), 'livepatch-pack-'));
  try {
    const spec = `${name}@${version}`;
    const r = spawnSync('npm', ['pack', spec, '--pack-destination', dest, '--ignore-scripts', '--loglevel=error'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 120_000,
    });
    if (r.error !== undefined) {
      throw new InputError(
        `cannot run npm to fetch ${spec} (${(r.error as NodeJS.ErrnoException).code ?? r.error.message}); give the new version with --new <dir|tarball>`,
      );
    }
    if (r.status !== 0) {
      // npm's first error line, without its prefix and error code: "No matching version found for qs@6.10.99."
      const why = (r.stderr || r.stdout)
        .split('\n')
        .map((l) => l.replace(/^npm (?:error|ERR!) ?/, '').trim())
        .filter((l) => l !== '' && !/^(?:code |A complete log|errno|npm warn)/i.test(l))
        .map((l) => l.replace(/^[a-z0-9]+ (?=[A-Z0-9])/, ''));
      throw new InputError(`npm cannot fetch ${spec}: ${why[0] ?? `npm pack exited ${r.status}`}`);
    }
    const tgz = readdirSync(dest).find((f) => f.endsWith('.tgz'));
    if (tgz === undefined) throw new InputError(`npm pack ${spec} wrote no tarball`);
    const pkg = packageTarball(join(dest, tgz), `npm:${spec}`);
    // read everything now: the temporary directory goes
    for (const p of pkg.list()) pkg.read(p);
    return pkg;
  } finally {
    rmSync(dest, { recursive: true, force: true });
  }
}

function identity(json: PackageJson, label: string): { name: string; version: string } {
  if (typeof json.name !== 'string' || json.name === '') throw new InputError(`${label}: its package.json has no name`);
  if (typeof json.version !== 'string' || json.version === '')
    throw new InputError(`${label}: its package.json has no version`);
  return { name: json.name, version: json.version };
}

function readJson(read: () => string, what: string): PackageJson {
  let text: string;
  try {
    text = read();
  } catch (e) {
    throw new InputError(`${what}: ${(e as Error).message.replace(/^ENOENT: /, '')}`);
  }
  try {
    const v = JSON.parse(text) as unknown;
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new InputError('not an object');
    return v as PackageJson;
  } catch (e) {
    throw new InputError(`${what} is not valid JSON (${(e as Error).message})`);
  }
}
