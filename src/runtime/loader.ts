/**
 * The loader: synchronous module hooks (`module.registerHooks`) that arm every
 * function of every module as it loads — ESM and CommonJS, JavaScript and
 * TypeScript (instrumented before Node strips the types; stripping keeps
 * positions), the program's own files and node_modules. livepatch never
 * instruments itself, nor patch modules.
 */

import { basename, dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { moduleKey, transform, type TransformInput } from '../instrument/transform.ts';
import type { Plan, TransformCache } from '../instrument/cache.ts';
import type { Binding } from '../instrument/analysis-types.ts';
import type { Lang, SourceType } from '../instrument/parse.ts';
import type { ModuleRecord, SlotTable } from './slots.ts';
import { moduleId } from './module-id.ts';
import { compileFilter, type Filter } from './filter.ts';
import { RuntimeError } from './errors.ts';

// Builtins through getBuiltinModule, not `import`: an ES import of node:fs or
// node:crypto evaluates every lazy export (fs.promises, webcrypto…), ms of each start.
const { registerHooks } = process.getBuiltinModule('node:module');
const { readFileSync } = process.getBuiltinModule('node:fs');

export interface LoaderOptions {
  readonly root: string;
  readonly slots: SlotTable;
  readonly cache?: TransformCache | undefined;
  readonly include?: Filter;
  readonly exclude?: Filter;
  /** livepatch's own files: those under these directories… */
  readonly selfDirs: readonly string[];
  /** …and the packages it runs on, wherever installed: files whose path contains one of these (`/node_modules/<name>/`) */
  readonly selfPackages?: readonly string[];
  readonly frames?: boolean;
  /** where slots live: script-scope lets (default) or `var`s in each module (for measurements) */
  readonly binding?: 'script' | 'module';
  /** the program imports or requires a builtin (`node:…`) */
  readonly onBuiltin?: (url: string) => void;
  /** a module's slots are declared and its body has not run yet (the kernel's "module coming") */
  readonly onModule?: (record: ModuleRecord) => void;
  readonly warn?: (message: string) => void;
}

/** Query marker on patch modules' URLs: they are never instrumented. */
export const PATCH_QUERY = 'livepatch-patch';

const FORMATS: Record<string, { lang: 'js' | 'ts'; sourceType: SourceType } | undefined> = {
  module: { lang: 'js', sourceType: 'module' },
  commonjs: { lang: 'js', sourceType: 'commonjs' },
  'module-typescript': { lang: 'ts', sourceType: 'module' },
  'commonjs-typescript': { lang: 'ts', sourceType: 'commonjs' },
};

export function installLoader(opts: LoaderOptions): void {
  const include = opts.include ?? compileFilter(undefined, true);
  const exclude = opts.exclude ?? compileFilter(undefined, false);
  const warn = opts.warn ?? ((m: string) => process.emitWarning(m, { code: 'LIVEPATCH_NOT_INSTRUMENTED' }));
  const frames = opts.frames ?? true;
  const binding = opts.binding ?? 'script';
  const cache = opts.cache;
  const selfPackages = opts.selfPackages ?? [];
  // While a module is transformed, modules the parser loads for itself pass through.
  let busy = false;

  /**
   * The instrumented code of one module and the source type it was read as,
   * or undefined (not instrumented: the reason is warned). `sourceTypes`: the
   * declared one, or for an undeclared `.js`/`.ts` CommonJS then ES module
   * (Node's own rule); the cache entry of an undeclared module remembers which.
   */
  const instrument = (
    m: Loading,
    sourceTypes: readonly SourceType[],
  ): { code: string; sourceType: SourceType } | undefined => {
    const { url, file, id, bytes, lang } = m;
    let key = moduleKey(id);
    for (let salt = 1; opts.slots.isKeyTaken(key); salt++) key = moduleKey(`${id}#${salt}`);
    const label = sourceTypes.length === 1 ? sourceTypes[0]! : 'undeclared';
    const name = cache?.entryName(key, bytes.length, [lang, label, frames ? 'frames' : 'noframes', binding]);
    let code: string;
    let count: number;
    let unpatchable: readonly number[];
    let sourceType: SourceType;
    let plan: () => Plan;
    const hit = name !== undefined ? cache!.readCode(name, bytes) : undefined;
    if (hit !== undefined && sourceTypes.includes(hit.header.s ?? sourceTypes[0]!)) {
      ({ code } = hit);
      count = hit.header.n;
      unpatchable = hit.header.u;
      sourceType = hit.header.s ?? sourceTypes[0]!;
      // the plan is read back only if needed (most modules are never patched),
      // from this very entry: a replaced entry may hold another source's plan
      const { stamp } = hit;
      const input = { lang, sourceType, moduleId: id, key, frames, binding };
      plan = () => cache!.readPlan(name!, stamp) ?? replan(file, input, cache!.readSource(name!, stamp));
    } else {
      let t: ReturnType<typeof transform> | undefined;
      let firstError: string | undefined;
      // Node refuses the module whatever we do: it will report the error, and nothing runs unarmed
      let refused = false;
      const source = m.source();
      busy = true;
      try {
        for (const st of sourceTypes) {
          t = transform({ source, moduleId: id, lang, sourceType: st, key, frames, binding });
          // An undeclared module whose top level redeclares a parameter of CommonJS's wrapper
          // (`const require = ...`) parses as CommonJS for oxc, but V8 refuses it there, and Node
          // then runs it as an ES module if it compiles as one (its "throws only in CommonJS"
          // errors): so do we. Told CommonJS, Node would fail, or retry it as an ES module in a
          // require() cycle with itself.
          const clash =
            st === 'commonjs' && sourceTypes.length > 1 && t.ok ? wrapperClash(t.analysis.topLevel) : undefined;
          if (clash !== undefined) {
            firstError ??= `Identifier '${clash}' has already been declared`;
            refused = true;
            continue;
          }
          if (t.ok) break;
          // a module that does not parse either way is reported as the first format Node tries
          if (t.reason === 'parse-error') firstError ??= t.message;
        }
      } finally {
        busy = false;
      }
      if (t === undefined || !t.ok) {
        if (firstError !== undefined && !refused) warn(`livepatch: ${id} is not instrumented: ${firstError}`);
        return undefined;
      }
      code = t.code;
      count = t.symbols.symbols.length;
      unpatchable = t.symbols.symbols.filter((x) => x.unpatchable !== null).map((x) => x.index);
      sourceType = t.plan.options.sourceType;
      const p = t.plan;
      if (name !== undefined) cache!.write(name, { n: count, u: unpatchable, s: sourceType }, bytes, code, p);
      plan = () => p;
    }
    const record = opts.slots.declare({ url, moduleId: id, key, count, unpatchable, plan });
    opts.onModule?.(record);
    // No source map, even with source maps on: stack positions are mapped in the call sites
    // (stack-positions.ts), and the module's own map, if it has one, must stay the one Node reads.
    return { code, sourceType };
  };

  // A load hook only: a resolve hook would take every require() off Node's
  // fast path (patch modules register theirs when the first one loads).
  registerHooks({
    load(url, context, nextLoad) {
      if (url.startsWith('node:')) {
        opts.onBuiltin?.(url);
        return nextLoad(url, context);
      }
      // A module loaded while we transform another (by the parser itself), a
      // patch module, or one of livepatch's own files passes through.
      if (busy || !url.startsWith('file:') || url.includes(PATCH_QUERY)) return nextLoad(url, context);
      const file = fileURLToPath(url);
      if (opts.selfDirs.some((d) => file.startsWith(d)) || selfPackages.some((p) => file.includes(p)))
        return nextLoad(url, context);
      const id = moduleId(file, opts.root);
      if (!include(id) || exclude(id)) return nextLoad(url, context);

      // The format: Node's, else declared (extension, package "type"). An
      // undeclared `.js`/`.ts` is told to Node as CommonJS — Node would
      // otherwise detect its format by compiling the original source, a parse
      // thrown away — and decided here, as Node decides: CommonJS if it
      // parses as such, else an ES module; the cache remembers the decision.
      const declared: string | undefined = context.format ?? declaredFormat(file);
      const guess = declared === undefined && isScript(file) ? guessFormat(file) : undefined;
      const told = declared ?? guess;
      const result = nextLoad(
        url,
        told !== undefined && context.format == null ? { ...context, format: told } : context,
      );
      if (result.source == null) return result;
      const kind = FORMATS[guess ?? result.format ?? declared ?? ''];
      if (kind === undefined) return result;
      // On a cache hit the source is compared as bytes and never decoded.
      const raw = result.source as string | Uint8Array;
      const bytes = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw;
      let text: string | undefined;
      const source = (): string => {
        if (text === undefined) {
          text =
            typeof raw === 'string' ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('utf8');
          if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
        }
        return text;
      };
      const lang: Lang =
        kind.lang === 'ts' ? (file.endsWith('x') ? 'tsx' : 'ts') : file.endsWith('.jsx') ? 'jsx' : 'js';
      const out = instrument(
        { url, file, id, bytes, source, lang },
        guess !== undefined ? ['commonjs', 'module'] : [kind.sourceType],
      );
      if (out !== undefined) {
        // Node's ES module loader (not require()) warns when it detects an undeclared ES module
        if (guess !== undefined && out.sourceType === 'module' && context.conditions?.includes('import'))
          warnTypelessPackageJson(url, file);
        const format =
          out.sourceType === 'module'
            ? kind.lang === 'ts'
              ? 'module-typescript'
              : 'module'
            : kind.lang === 'ts'
              ? 'commonjs-typescript'
              : 'commonjs';
        return { ...result, format, source: out.code };
      }
      // what does not parse either way: Node decides its format, as it would without us
      return guess !== undefined ? nextLoad(url, context) : result;
    },
  });
}

/** What is known of a module while it loads. */
interface Loading {
  readonly url: string;
  readonly file: string;
  readonly id: string;
  /** the source as Node read it */
  readonly bytes: Uint8Array;
  /** the source as text, without a byte order mark (decoded on first use) */
  readonly source: () => string;
  readonly lang: Lang;
}

function isScript(file: string): boolean {
  const ext = extname(file);
  return ext === '.js' || ext === '.ts';
}

/** Per directory: the nearest package.json's "type", and the path of that package.json (undefined: none). */
const packageScopes = new Map<string, { type: 'module' | 'commonjs' | undefined; json: string | undefined }>();

/** The format a file declares: by extension, or by its package's "type"; undefined when neither says. */
export function declaredFormat(file: string): string | undefined {
  const ext = extname(file);
  if (ext === '.mjs') return 'module';
  if (ext === '.cjs') return 'commonjs';
  if (ext === '.mts') return 'module-typescript';
  if (ext === '.cts') return 'commonjs-typescript';
  if (ext !== '.js' && ext !== '.ts') return undefined;
  const type = packageType(dirname(file));
  if (type === undefined) return undefined;
  return ext === '.js' ? type : `${type}-typescript`;
}

/** The first guess for an undeclared `.js`/`.ts`: CommonJS, as Node tries first. */
function guessFormat(file: string): string | undefined {
  const ext = extname(file);
  return ext === '.js' ? 'commonjs' : ext === '.ts' ? 'commonjs-typescript' : undefined;
}

/** The nearest package.json's "type" ('module' or 'commonjs'), or undefined when it has none. */
function packageType(dir: string): 'module' | 'commonjs' | undefined {
  return packageScope(dir).type;
}

function packageScope(dir: string): { type: 'module' | 'commonjs' | undefined; json: string | undefined } {
  let scope = packageScopes.get(dir);
  if (scope !== undefined) return scope;
  scope = { type: undefined, json: undefined };
  const json = join(dir, 'package.json');
  try {
    const pkg = JSON.parse(readFileSync(json, 'utf8')) as { type?: unknown };
    scope = { type: pkg.type === 'module' ? 'module' : pkg.type === 'commonjs' ? 'commonjs' : undefined, json };
  } catch (e) {
    const up = dirname(dir);
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' && up !== dir && basename(dir) !== 'node_modules')
      scope = packageScope(up);
  }
  packageScopes.set(dir, scope);
  return scope;
}

const typelessWarned = new Set<string>();

/**
 * Node's warning for an undeclared `.js`/`.ts` that its ES module loader
 * finds to be an ES module, once per package.json, outside node_modules
 * (lib/internal/modules/esm/get_format.js, warnTypelessPackageJsonFile).
 * Node detects, and warns, only when it is not told the format: the loader
 * tells it, so the loader warns in its place, with Node's text.
 */
function warnTypelessPackageJson(url: string, file: string): void {
  const { json } = packageScope(dirname(file));
  if (json === undefined || typelessWarned.has(json) || new URL(url).pathname.includes('/node_modules/')) return;
  typelessWarned.add(json);
  process.emitWarning(
    `Module type of ${url} is not specified and it doesn't parse as CommonJS.\n` +
      'Reparsing as ES module because module syntax was detected. This incurs a performance overhead.\n' +
      `To eliminate this warning, add "type": "module" to ${json}.`,
    { code: 'MODULE_TYPELESS_PACKAGE_JSON' },
  );
}

/**
 * The plan of a cache hit whose plan is lost from its entry: transformed
 * again from the file, if the file still holds the source the entry was made
 * from (`loaded`, read from the same entry). An entry removed or replaced
 * since the module loaded cannot tell what was loaded.
 */
function replan(file: string, input: Omit<TransformInput, 'source'>, loaded: Buffer | undefined): Plan {
  if (loaded === undefined) {
    throw new RuntimeError(
      'LP_ERR_SYMBOLS_LOST',
      `livepatch: ${input.moduleId}: its symbol table is no longer in the transform cache ` +
        '(the entry was removed or replaced since the module loaded); restart the process to patch this module',
    );
  }
  const now = readFileSync(file);
  if (Buffer.compare(now, loaded) !== 0) {
    throw new RuntimeError(
      'LP_ERR_SYMBOLS_LOST',
      `livepatch: ${input.moduleId} changed on disk since it was loaded; its symbol table is gone from the cache`,
    );
  }
  let source = now.toString('utf8');
  if (source.charCodeAt(0) === 0xfeff) source = source.slice(1);
  const t = transform({ ...input, source });
  if (!t.ok) throw new RuntimeError('LP_ERR_SYMBOLS_LOST', `livepatch: ${input.moduleId}: ${t.message}`);
  return t.plan;
}

/** The parameters of CommonJS's module wrapper. */
const WRAPPER_NAMES = new Set(['exports', 'require', 'module', '__filename', '__dirname']);

/**
 * A wrapper parameter that a module's top level declares with `let`, `const`
 * or `class`: V8 refuses that in CommonJS ("Identifier 'require' has already
 * been declared"), where `var` and `function` may shadow a parameter.
 */
function wrapperClash(topLevel: readonly Binding[]): string | undefined {
  for (const b of topLevel) {
    if ((b.kind === 'let' || b.kind === 'const' || b.kind === 'class') && WRAPPER_NAMES.has(b.name)) return b.name;
  }
  return undefined;
}
