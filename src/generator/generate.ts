/**
 * `livepatch build`: kpatch-build for JavaScript and TypeScript. Compare two
 * versions of a program module by module and function by function (the
 * loader's identities and hashes), plan each changed module (plan.ts: what
 * is replaced, how its code reaches the running state, what is refused),
 * and emit one patch module with a manifest. Nothing is emitted if anything
 * is refused: a patch that leaves part of a fix out would run code nobody
 * wrote.
 */

import { GeneratorError, InputError } from './errors.ts';
import { resolve } from 'node:path';
import { parse } from '../instrument/parse.ts';
import { emitPatch, fileUrl, type EmitModule } from './patch-module.ts';
import { importTarget, requireTarget } from './imports.ts';
import { functionsOf, type LeftOut, type Manifest, type PackageBump } from './manifest.ts';
import { diffModules, isModulePath, moduleFile } from './modules.ts';
import { planModule, type ModulePlan } from './plan.ts';
import { refusal, type Refusal } from './refusals.ts';
import { stripTypes } from './strip.ts';
import type { NewImport, VersionStrings } from './structure.ts';
import type { SourceTree } from './tree.ts';
import { lineAt, readVersion } from './version.ts';
import { eachChild, FUNCTION_TYPES } from '../instrument/syntax.ts';
import type { Node } from './ast.ts';

export interface BuildOptions {
  readonly old: SourceTree;
  readonly new: SourceTree;
  /** the running application's root directory (module ids are relative to it) */
  readonly root: string;
  /** the patch's name (default: the runtime takes the file's name) */
  readonly name?: string | undefined;
  readonly replace?: boolean;
  /** where the patch will be written, for the manifest */
  readonly output?: string | null;
  /** the package version bump a module's file belongs to, if any: its own version string is no change */
  readonly versions?: (path: string) => VersionStrings | null;
  /** files left out of the comparison, with why (a package's tests, bundles, docs) */
  readonly leftOut?: readonly LeftOut[];
  /** what the patch brings, for the manifest and the patch module (a package's version bump) */
  readonly packages?: readonly PackageBump[];
  /** notes from before the comparison */
  readonly notes?: readonly string[];
  /**
   * Unchanged functions to put in the patch anyway (`--hold`): `<module>:<name>`
   * or a qualified name found in one changed module (see planModule).
   */
  readonly hold?: readonly string[];
}

export interface BuildResult {
  /** the patch module's text, or null when something was refused or nothing changed */
  readonly code: string | null;
  readonly manifest: Manifest;
  readonly refusals: readonly Refusal[];
  /** how many functions the patch replaces */
  readonly patched: number;
  /** how many exports it adds to CommonJS modules */
  readonly exported: number;
}

export function build(opts: BuildOptions): BuildResult {
  const root = resolve(opts.root);
  const diff = diffModules(opts.old, opts.new);
  const refusals: Refusal[] = [];
  const notes: string[] = [...(opts.notes ?? [])];
  const plans: ModulePlan[] = [];
  const emitModules: EmitModule[] = [];
  const hold = resolveHolds(opts.hold ?? [], diff.changed, opts.old, opts.new);
  const toPlan = [...new Set([...diff.changed, ...hold.keys()])].sort();
  for (const path of toPlan) {
    const oldText = opts.old.read(path)!;
    const newText = opts.new.read(path)!;
    const oldFile = moduleFile(opts.old, path, oldText);
    const newFile = moduleFile(opts.new, path, newText);
    if (oldFile.sourceType !== newFile.sourceType) {
      refusals.push(
        refusal(
          'module-init',
          path,
          1,
          `changes the module format from ${oldFile.sourceType} to ${newFile.sourceType}`,
        ),
      );
      continue;
    }
    const o = readVersion(oldFile, oldText);
    const n = readVersion(newFile, newText);
    if (!o.ok) {
      refusals.push(
        refusal(
          'unpatchable',
          path,
          o.line,
          `the running version does not parse (${o.message}), so the loader did not instrument it`,
        ),
      );
      continue;
    }
    if (!n.ok) {
      refusals.push(refusal('syntax', path, n.line, `the new version does not parse: ${n.message}`));
      continue;
    }
    const held = hold.get(path) ?? new Set<string>();
    for (const name of held) {
      if (!n.version.symbols.some((s) => s.name === name)) {
        throw new InputError(`--hold: ${path} has no function '${name}' (its names: livepatch symbols ${path})`);
      }
    }
    const plan = planModule(o.version, n.version, opts.versions?.(path) ?? null, held);
    plans.push(plan);
    refusals.push(...plan.refusals);
    notes.push(...plan.notes);
    if (plan.replacements.length === 0 && plan.exports.length === 0) continue;

    let code = newText;
    if (newFile.lang === 'ts') {
      const s = stripTypes(newText, n.version.program);
      if (!s.ok) {
        refusals.push(refusal('syntax', path, s.line, `types cannot be stripped from the new version: ${s.message}`));
        continue;
      }
      code = s.code;
    }
    const importSpecifiers = new Map<NewImport, string>();
    for (const imp of plan.imports) {
      const t =
        imp.kind === 'require'
          ? requireTarget(imp.source, path, root, opts.old)
          : importTarget(imp.source, path, root, opts.old);
      if (t.ok) {
        importSpecifiers.set(imp, t.specifier);
        if (t.note !== null) notes.push(`${path}:${imp.line}: ${t.note}`);
      } else refusals.push(refusal('new-module', path, imp.line, t.reason));
    }
    const dynamicSpecifiers = new Map<string, string>();
    for (const rw of [...plan.replacements, ...plan.helpers, ...plan.exports]) {
      for (const d of rw.uses.dynamicImports) {
        if (d.literal === null || dynamicSpecifiers.has(d.literal)) continue;
        const t = importTarget(d.literal, path, root, opts.old);
        if (t.ok) dynamicSpecifiers.set(d.literal, t.specifier);
        else
          refusals.push(refusal('new-module', path, n.version.lines.findLastIndex((s) => s <= d.start) + 1, t.reason));
      }
    }
    const sourceUrl = opts.new.url?.(path) ?? fileUrl(opts.new.dir ?? root, path);
    emitModules.push({ plan, code, sourceUrl, runningFile: resolve(root, path), importSpecifiers, dynamicSpecifiers });
  }
  notes.push(...suggestHolds(plans, hold));
  for (const path of diff.added)
    notes.push(
      `${path}: new file; the patch loads it only if changed code imports it (and then from the running tree)`,
    );
  for (const path of diff.removed) notes.push(`${path}: removed from the new version; the running module stays`);

  const patched = refusals.length === 0 ? emitModules.reduce((n, m) => n + m.plan.replacements.length, 0) : 0;
  const exported = refusals.length === 0 ? emitModules.reduce((n, m) => n + m.plan.exports.length, 0) : 0;
  let code: string | null = null;
  if (refusals.length === 0 && patched + exported > 0) {
    const header = `// livepatch build: ${opts.old.label} -> ${opts.new.label}\n// Generated; rebuild instead of editing. The manifest says what changed and why each change is safe.\n`;
    // the version the process behaves as once the patch is enabled: `livepatch status` and `livepatch packages` show it,
    // as long as every module of the copy that the release changes and the process has loaded is patched (`changed`:
    // the modules the patch carries and the changed ones it left out, by their path in the package). A copy changed
    // by hand keeps its version: the patch names none for it.
    const bumps = (opts.packages ?? []).filter((p) => p.from !== p.to);
    const trailer =
      bumps.length > 0
        ? `export const livepatchPackages = ${JSON.stringify(bumps.map((p) => ({ name: p.name, from: p.from, to: p.to, path: p.path, changed: changedFiles(p, emitModules, opts.leftOut ?? []) })))};\n`
        : undefined;
    const out = emitPatch(emitModules, { name: opts.name, replace: opts.replace ?? false, header, trailer });
    const map = JSON.parse(out.map) as { sources: string[]; sourcesContent: (string | null)[] };
    // show the source as written (TypeScript), not the stripped copy the output was cut from
    map.sourcesContent = map.sources.map((s) => {
      const m = emitModules.find((x) => x.sourceUrl === s);
      return m === undefined ? null : m.plan.next.source;
    });
    code =
      out.code +
      `//# sourceMappingURL=data:application/json;charset=utf-8;base64,${Buffer.from(JSON.stringify(map)).toString('base64')}\n`;
    const check = parse(code, 'js', 'module');
    if (check.error !== null) {
      const why = `${check.error.message} at offset ${check.error.start}`;
      throw new GeneratorError(
        'LP_ERR_BUILD_INTERNAL',
        `livepatch build: internal error: the patch module does not parse: ${why}`,
      );
    }
  }

  const manifest: Manifest = {
    tool: 'livepatch build',
    format: 1,
    old: opts.old.label,
    new: opts.new.label,
    root,
    output: opts.output ?? null,
    modules: { compared: diff.compared, changed: diff.changed, added: diff.added, removed: diff.removed },
    functions: plans.flatMap(functionsOf),
    helpers: emitModules.flatMap((m) =>
      m.plan.helpers.map((h) => ({
        module: m.plan.next.file.id,
        name: h.decl.name,
        kind: h.decl.kind,
        line: h.decl.line,
      })),
    ),
    imports: emitModules.flatMap((m) =>
      m.plan.imports.map((i) => ({
        module: m.plan.next.file.id,
        local: i.local,
        imported: i.imported,
        from: i.source,
        kind: i.kind,
        resolved: m.importSpecifiers.get(i) ?? null,
      })),
    ),
    constants: plans.flatMap((p) =>
      p.constants.map((c) => ({
        module: p.next.file.id,
        file: p.next.file.path,
        name: c.constant.name,
        line: c.constant.decl.line,
        oldLine: c.constant.oldLine,
        readers: c.readers,
      })),
    ),
    exports: plans.flatMap((p) =>
      p.exports.map((e) => ({
        module: p.next.file.id,
        file: p.next.file.path,
        name: e.export.name,
        target: e.export.target,
        line: e.export.line,
      })),
    ),
    leftOut: [...(opts.leftOut ?? [])],
    packages: (opts.packages ?? []).map((p) => ({
      ...p,
      modules: emitModules.map((m) => m.plan.next.file.id).filter((id) => id.startsWith(p.idPrefix + '/')),
    })),
    refusals,
    notes,
  };
  return { code, manifest, refusals, patched, exported };
}

/**
 * The files of a package copy that the release changes in code the process can run: those the patch
 * carries, and those it left out (not reached from the package's entry points), by their path in the package.
 */
function changedFiles(p: PackageBump, modules: readonly EmitModule[], leftOut: readonly LeftOut[]): string[] {
  const out = new Set<string>();
  for (const m of modules)
    if (m.plan.next.file.id.startsWith(p.idPrefix + '/')) out.add(m.plan.next.file.id.slice(p.idPrefix.length + 1));
  for (const l of leftOut)
    if (l.path.startsWith(p.path + '/') && isModulePath(l.path) && !l.reason.startsWith('new in'))
      out.add(l.path.slice(p.path.length + 1));
  return [...out].sort();
}

const MODULE_EXT = /\.(?:[cm]?[jt]s|[jt]sx)$/;

/**
 * `--hold` specs by module: `src/app.ts:handle` names its module; a bare
 * qualified name must be a function of exactly one changed module (a name
 * elsewhere needs its module: reading every module of a tree to look for it
 * would cost a large build more than the build).
 */
function resolveHolds(
  specs: readonly string[],
  changed: readonly string[],
  old: SourceTree,
  next: SourceTree,
): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  const add = (path: string, name: string): void => {
    let s = out.get(path);
    if (s === undefined) out.set(path, (s = new Set()));
    s.add(name);
  };
  for (const spec of specs) {
    const colon = spec.indexOf(':');
    const path = colon > 0 && MODULE_EXT.test(spec.slice(0, colon)) ? spec.slice(0, colon) : null;
    const name = path === null ? spec : spec.slice(colon + 1);
    if (name === '') throw new InputError(`--hold '${spec}': no function name`);
    if (path !== null) {
      if (next.read(path) === undefined || old.read(path) === undefined) {
        throw new InputError(`--hold '${spec}': no module ${path} in both versions`);
      }
      add(path, name);
      continue;
    }
    const found = changed.filter((p) => {
      const text = next.read(p);
      if (text === undefined) return false;
      const v = readVersion(moduleFile(next, p, text), text);
      return v.ok && v.version.symbols.some((s) => s.name === name);
    });
    if (found.length !== 1) {
      throw new InputError(
        found.length === 0
          ? `--hold '${spec}': no changed module has a function of that name; name its module: <module>:${name}`
          : `--hold '${spec}': ${found.join(' and ')} both have one; name its module: <module>:${name}`,
      );
    }
    add(found[0]!, name);
  }
  return out;
}

/**
 * Seed 001's "extending the patched set", suggested: a function of a changed
 * module that calls two functions the patch replaces with an `await` (or
 * `yield`) between the calls. Under 'task' a request suspended there switches
 * while it holds no frame of a replaced function, and its second call runs
 * the new code after its first ran the old; holding the caller keeps it on
 * the old code until it returns. Callers are matched by the callee's name
 * (an identifier or a member's property), which is what the source says;
 * only the changed modules are read.
 */
function suggestHolds(plans: readonly ModulePlan[], hold: Map<string, Set<string>>): string[] {
  const replaced = new Set<string>();
  for (const p of plans) for (const r of p.replacements) replaced.add(lastSegment(r.new.name));
  if (replaced.size < 2) return [];
  const out: string[] = [];
  for (const p of plans) {
    const path = p.next.file.path;
    for (const fn of p.next.analysis.functions) {
      if (!fn.isAsync && !fn.isGenerator) continue;
      if (p.replacements.some((r) => r.new.start === fn.start) || hold.get(path)?.has(fn.name) === true) continue;
      const site = p.next.sites.get(fn.start);
      if (site === undefined) continue;
      const events = callsAndWaits(site.node, replaced);
      let calledBefore: string | null = null;
      let waited = false;
      let pair: [string, string] | null = null;
      for (const e of events) {
        if (e.kind === 'wait') waited = calledBefore !== null;
        else if (calledBefore !== null && waited) {
          pair = [calledBefore, e.name];
          break;
        } else calledBefore = e.name;
      }
      if (pair === null) continue;
      out.push(
        `${path}:${lineAt(p.next, fn.start)}: '${fn.name}' calls the replaced '${pair[0]}', waits, then calls the replaced '${pair[1]}': ` +
          `under consistency 'task' a task waiting there switches in between and mixes old and new; ` +
          `--hold ${path}:${fn.name} keeps such a task on the old code until it returns (or use consistency 'request')`,
      );
    }
  }
  return out;
}

function lastSegment(name: string): string {
  const i = Math.max(name.lastIndexOf('.'), name.lastIndexOf('/'));
  return i === -1 ? name : name.slice(i + 1);
}

/** The calls of `names` and the awaits/yields in a function's own body, in source order (nested functions left out). */
function callsAndWaits(fn: Node, names: ReadonlySet<string>): ({ kind: 'call'; name: string } | { kind: 'wait' })[] {
  const events: { at: number; e: { kind: 'call'; name: string } | { kind: 'wait' } }[] = [];
  const visit = (n: Node): void => {
    if (n !== fn && FUNCTION_TYPES.has(n.type)) return;
    if (
      n.type === 'AwaitExpression' ||
      n.type === 'YieldExpression' ||
      (n.type === 'ForOfStatement' && n.await === true)
    ) {
      // an await runs after its operand: the call inside it happens before the wait
      eachChild(n, visit);
      events.push({ at: n.end, e: { kind: 'wait' } });
      return;
    }
    if (n.type === 'CallExpression') {
      const callee = n.callee as Node;
      const name =
        callee.type === 'Identifier'
          ? (callee.name as string)
          : callee.type === 'MemberExpression' && !callee.computed
            ? ((callee.property as Node).name as string)
            : null;
      if (name !== null && names.has(name)) events.push({ at: n.start, e: { kind: 'call', name } });
    }
    eachChild(n, visit);
  };
  visit(fn);
  return events.sort((a, b) => a.at - b.at).map((x) => x.e);
}
