/**
 * The manifest written next to a patch: what the build compared, each
 * changed function (patched, refused, or left out because only its
 * formatting changed) with why, the hash of the running code it expects,
 * the new declarations and imports the patch carries, and every refusal.
 */

import type { FunctionInfo } from '../instrument/analysis-types.ts';
import type { ModulePlan } from './plan.ts';
import type { Refusal } from './refusals.ts';

/** A file left out of the comparison, and why (a package's tests, bundles, docs). */
export interface LeftOut {
  readonly path: string;
  readonly reason: string;
}

/** One installed copy of a package the patch brings from one version to another. */
export interface PackageBump {
  readonly name: string;
  readonly from: string;
  readonly to: string;
  /** the copy's directory, relative to the application root */
  readonly path: string;
  /** what the loader's module ids of its files start with */
  readonly idPrefix: string;
  /** the module ids the patch changes (filled in by the build) */
  readonly modules?: readonly string[];
}

export interface ManifestFunction {
  readonly module: string;
  readonly file: string;
  readonly name: string;
  readonly sympos: number;
  readonly status: 'patched' | 'refused' | 'formatting-only' | 'inner-only';
  /** the hash of the running function's source (what the patch's oldHash checks) */
  readonly oldHash: string;
  readonly newHash: string;
  readonly oldLine: number;
  readonly newLine: number;
  readonly why: readonly string[];
}

export interface Manifest {
  readonly tool: 'livepatch build';
  readonly format: 1;
  readonly old: string;
  readonly new: string;
  readonly root: string;
  readonly output: string | null;
  readonly modules: {
    readonly compared: number;
    readonly changed: string[];
    readonly added: string[];
    readonly removed: string[];
  };
  readonly functions: ManifestFunction[];
  readonly helpers: { readonly module: string; readonly name: string; readonly kind: string; readonly line: number }[];
  readonly imports: {
    readonly module: string;
    readonly local: string;
    readonly imported: string;
    readonly from: string;
    readonly kind: 'import' | 'require';
    readonly resolved: string | null;
  }[];
  /** changed constants the patch defines anew, and the functions replaced because they read them */
  readonly constants: {
    readonly module: string;
    readonly file: string;
    readonly name: string;
    readonly line: number;
    readonly oldLine: number;
    readonly readers: string[];
  }[];
  /** exports the patch adds to CommonJS modules while it is enabled */
  readonly exports: {
    readonly module: string;
    readonly file: string;
    readonly name: string;
    readonly target: 'exports' | 'module.exports';
    readonly line: number;
  }[];
  /** files left out of the comparison, and why */
  readonly leftOut: LeftOut[];
  /** the package copies a version bump brings to the new version */
  readonly packages: PackageBump[];
  readonly refusals: Refusal[];
  readonly notes: string[];
}

export function functionsOf(plan: ModulePlan): ManifestFunction[] {
  const base = { module: plan.next.file.id, file: plan.next.file.path };
  const out: ManifestFunction[] = [];
  for (const r of plan.replacements) {
    out.push({
      ...base,
      name: r.oldSymbol.name,
      sympos: r.oldSymbol.sympos,
      status: 'patched',
      oldHash: r.oldSymbol.hash,
      newHash: r.newSymbol.hash,
      oldLine: r.oldSymbol.line,
      newLine: r.newSymbol.line,
      why: r.why,
    });
  }
  for (const r of plan.refused) {
    out.push({
      ...base,
      name: r.oldSymbol.name,
      sympos: r.oldSymbol.sympos,
      status: 'refused',
      oldHash: r.oldSymbol.hash,
      newHash: r.newSymbol.hash,
      oldLine: r.oldSymbol.line,
      newLine: r.newSymbol.line,
      why: r.refusals.map((x) => `${x.reason} [${x.rule}]`),
    });
  }
  const leftOut = (fns: readonly FunctionInfo[], status: 'formatting-only' | 'inner-only', why: string) => {
    for (const f of fns) {
      const n = plan.next.symbols[f.index]!;
      const o = plan.old.symbols.find((s) => s.name === n.name && s.sympos === n.sympos) ?? n;
      out.push({
        ...base,
        name: n.name,
        sympos: n.sympos,
        status,
        oldHash: o.hash,
        newHash: n.hash,
        oldLine: o.line,
        newLine: n.line,
        why: [why],
      });
    }
  };
  leftOut(
    plan.formattingOnly,
    'formatting-only',
    'only comments or formatting changed: the running code does the same',
  );
  leftOut(
    plan.innerOnly,
    'inner-only',
    'only functions inside it changed: they are patched in every instance, including those its unchanged code makes later',
  );
  return out.sort((a, b) => a.newLine - b.newLine);
}
