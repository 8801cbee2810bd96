/**
 * The applications a case runs: made at test time from the versions the
 * project installs as aliased devDependencies (`qs-6-10-2@npm:qs@6.10.2`),
 * so the repository holds none of their code.
 *
 *   <tmp>/app/node_modules/<name>   a copy of the old version, where npm
 *                                   would install it (its own nested
 *                                   node_modules too); LIVEPATCH_ROOT
 *   <tmp>/new/node_modules/<name>   the new version (a link)
 *   <tmp>/node_modules              a link to the project's node_modules, so
 *                                   the packages' dependencies resolve
 */

import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { repoRoot } from '../support/node.ts';

export const installed = join(repoRoot, 'node_modules');

/** The corpus: one module per fix release in cases/ (`_http.mjs` is a helper). */
export const casesDir = fileURLToPath(new URL('./cases/', import.meta.url));
export const caseFiles = readdirSync(casesDir)
  .filter((f) => f.endsWith('.mjs') && !f.startsWith('_'))
  .sort();

/** The devDependency alias of a release: `qs-6-10-2`. */
export function alias(name: string, version: string): string {
  return `${name.replace(/^@/, '').replace('/', '-')}-${version.replaceAll('.', '-')}`;
}

/** Where the project installed a release. */
export function releaseDir(name: string, version: string): string {
  return join(installed, alias(name, version));
}

const LOAD = `// require or import a package the way this application would (from a subdirectory: a nested copy)
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
const here = fileURLToPath(new URL('.', import.meta.url));
export async function load(kind, name, from = '') {
  const req = createRequire(join(here, from, 'index.js'));
  if (kind === 'require') return req(name);
  // the import condition, resolved from that directory
  return import(from === '' ? name : pathToFileURL(req.resolve(name)).href);
}
`;

export interface CaseApps {
  readonly tmp: string;
  readonly app: string;
  readonly next: string;
  remove(): void;
}

/**
 * An application with `copies` installed (path under node_modules -> release),
 * and a second one with the new release.
 */
export function makeApps(name: string, copies: Record<string, string>, newVersion: string): CaseApps {
  const tmp = mkdtempSync(join(tmpdir(), 'lp-depfix-'));
  symlinkSync(installed, join(tmp, 'node_modules'), 'dir');
  const app = join(tmp, 'app');
  for (const [where, version] of Object.entries(copies)) {
    const dest = join(app, 'node_modules', where);
    mkdirSync(dirname(dest), { recursive: true });
    cpSync(releaseDir(name, version), dest, { recursive: true, dereference: true });
  }
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({ name: 'depfix-app', version: '1.0.0', private: true }) + '\n',
  );
  writeFileSync(join(app, 'load.mjs'), LOAD);
  const next = join(tmp, 'new');
  mkdirSync(join(next, 'node_modules', dirname(name)), { recursive: true });
  symlinkSync(releaseDir(name, newVersion), join(next, 'node_modules', name), 'dir');
  writeFileSync(
    join(next, 'package.json'),
    JSON.stringify({ name: 'depfix-new', version: '1.0.0', private: true }) + '\n',
  );
  writeFileSync(join(next, 'load.mjs'), LOAD);
  return { tmp, app, next, remove: () => rmSync(tmp, { recursive: true, force: true }) };
}
