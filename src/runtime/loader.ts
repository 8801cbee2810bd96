/**
 * The loader: synchronous module hooks (`module.registerHooks`) that arm every
 * function of every module as it loads — ESM and CommonJS, JavaScript and
 * TypeScript (instrumented before Node strips the types; stripping keeps
 * positions), the program's own files and node_modules. livepatch never
 * instruments itself, nor patch modules.
 */

import { registerHooks } from 'node:module';
import { fileURLToPath } from 'node:url';
import { moduleKey, transform } from '../instrument/transform.ts';
import { buildSourceMap, sourceMapComment } from '../instrument/sourcemap.ts';
import type { Lang, SourceType } from '../instrument/parse.ts';
import type { ModuleRecord, SlotTable } from './slots.ts';
import { moduleId } from './module-id.ts';
import { compileFilter, type Filter } from './filter.ts';

export interface LoaderOptions {
  readonly root: string;
  readonly slots: SlotTable;
  readonly include?: Filter;
  readonly exclude?: Filter;
  /** files under these directories are livepatch's own */
  readonly selfDirs: readonly string[];
  readonly frames?: boolean;
  /** a module's slots are declared and its body has not run yet (the kernel's "module coming") */
  readonly onModule?: (record: ModuleRecord) => void;
  readonly warn?: (message: string) => void;
}

/** Query marker on patch modules' URLs: they are never instrumented. */
export const PATCH_QUERY = 'livepatch-patch';

const FORMATS: Record<string, { lang: Lang; sourceType: SourceType } | undefined> = {
  module: { lang: 'js', sourceType: 'module' },
  commonjs: { lang: 'js', sourceType: 'commonjs' },
  'module-typescript': { lang: 'ts', sourceType: 'module' },
  'commonjs-typescript': { lang: 'ts', sourceType: 'commonjs' },
};

export function installLoader(opts: LoaderOptions): void {
  const include = opts.include ?? compileFilter(undefined, true);
  const exclude = opts.exclude ?? compileFilter(undefined);
  const warn = opts.warn ?? ((m: string) => process.emitWarning(m, { code: 'LIVEPATCH_NOT_INSTRUMENTED' }));
  // Load the parser's lazily required parts now, not from inside a hook.
  transform({ source: 'function f(){}', moduleId: '<warm-up>', lang: 'ts', sourceType: 'module' });
  let busy = false;
  registerHooks({
    load(url, context, nextLoad) {
      const result = nextLoad(url, context);
      // A module loaded while we transform another (by the parser itself) passes through.
      if (busy) return result;
      const kind = FORMATS[result.format ?? ''];
      if (kind === undefined || !url.startsWith('file:') || result.source == null) return result;
      if (url.includes(PATCH_QUERY)) return result;
      const file = fileURLToPath(url);
      if (opts.selfDirs.some((d) => file.startsWith(d))) return result;
      const id = moduleId(file, opts.root);
      if (!include(id) || exclude(id)) return result;
      let source = typeof result.source === 'string' ? result.source : Buffer.from(result.source as Uint8Array).toString('utf8');
      if (source.charCodeAt(0) === 0xfeff) source = source.slice(1);
      const lang: Lang = kind.lang === 'ts' ? (file.endsWith('x') ? 'tsx' : 'ts') : file.endsWith('.jsx') ? 'jsx' : 'js';
      let key = moduleKey(id);
      for (let salt = 1; opts.slots.isKeyTaken(key); salt++) key = moduleKey(`${id}#${salt}`);
      busy = true;
      let t;
      try {
        t = transform({ source, moduleId: id, lang, sourceType: kind.sourceType, key, frames: opts.frames ?? true });
      } finally {
        busy = false;
      }
      if (!t.ok) {
        if (t.reason === 'parse-error') warn(`livepatch: ${id} is not instrumented: ${t.message}`);
        return result;
      }
      const record = opts.slots.declare(url, t.symbols, t.analysis, t.options);
      opts.onModule?.(record);
      // Lines never move; with source maps on, columns in stack traces are exact too.
      const code = process.sourceMapsEnabled ? t.code + sourceMapComment(buildSourceMap(source, t.edits, url)) : t.code;
      return { ...result, source: code };
    },
  });
}
