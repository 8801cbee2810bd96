/**
 * The patch module: an ES module in the runtime's format
 * (`export default definePatch({ objects })`) that runs on Node as it is.
 * Each changed module gets a block of its own (its helpers are block-scoped,
 * so two modules' helpers never collide):
 *
 *   { // src/cart.ts
 *     let $lpm0; const $lpM0 = () => $lpm0 ??= $lpmoduleScope("src/cart.ts");
 *     function newHelper() { ... }                       // new declarations the fix uses
 *     $lpobjects.push({ name: "src/cart.ts", funcs: [
 *       { oldName: "total", oldHash: "…", newFunc: function total(items) { ... ($lpM0().TAX) ... } },
 *     ] });
 *   }
 *
 * Code is copied from the new source with magic-string: free names become
 * accessor reads, and an inline source map points every copied token back
 * to the new source, so stack traces (with source maps on) show its lines.
 * The module scope is looked up lazily, at the first call: a patch may be
 * loaded before its module is.
 *
 * TypeScript sources are stripped of their types first (Node's own
 * stripTypeScriptTypes, which keeps every position), so offsets from the
 * parse still hold and the output is plain JavaScript.
 */

import MagicString, { Bundle } from 'magic-string';
import { pathToFileURL } from 'node:url';
import { resolve, dirname } from 'node:path';
import type { Node } from './ast.ts';
import type { Access, ModulePlan, Replacement, Rewrite } from './plan.ts';
import type { NewImport } from './structure.ts';

export interface EmitModule {
  readonly plan: ModulePlan;
  /** the new source as the output copies it (types stripped) */
  readonly code: string;
  /** where the new source is, for the source map */
  readonly sourceUrl: string;
  /** the running module's file, for `import.meta.url` */
  readonly runningFile: string;
  /** resolved specifiers of the new imports */
  readonly importSpecifiers: ReadonlyMap<NewImport, string>;
  /** resolved specifiers of `import('...')` literals, by the literal */
  readonly dynamicSpecifiers: ReadonlyMap<string, string>;
}

export interface EmitOptions {
  readonly name: string | undefined;
  readonly replace: boolean;
  readonly header: string;
  /** more of the patch module after its default export (the version a package patch brings) */
  readonly trailer?: string;
}

const IDENT = /^[A-Za-z_$][\w$]*$/;
const RESERVED = new Set([
  'default',
  'await',
  'yield',
  'let',
  'static',
  'implements',
  'interface',
  'package',
  'private',
  'protected',
  'public',
  'arguments',
  'eval',
  'constructor',
]);

export function emitPatch(modules: readonly EmitModule[], opts: EmitOptions): { code: string; map: string } {
  const bundle = new Bundle({ separator: '' });
  const text = (s: string) => bundle.append(s);
  text(opts.header);
  text(
    "import { definePatch as $lpdefinePatch, closure as $lpclosure, moduleScope as $lpmoduleScope } from 'livepatch';\n",
  );
  if (modules.some((m) => m.plan.imports.some((i) => i.kind === 'require')))
    text("import { createRequire as $lpcreateRequire } from 'node:module';\n");
  modules.forEach((m, k) => {
    for (const imp of m.plan.imports) {
      if (imp.kind === 'require') continue;
      const local = importLocal(k, imp.local);
      const spec = JSON.stringify(m.importSpecifiers.get(imp)!);
      if (imp.imported === 'default') text(`import ${local} from ${spec};\n`);
      else if (imp.imported === '*') text(`import * as ${local} from ${spec};\n`);
      else
        text(
          `import { ${IDENT.test(imp.imported) ? imp.imported : JSON.stringify(imp.imported)} as ${local} } from ${spec};\n`,
        );
    }
  });
  text('const $lpobjects = [];\n');
  if (modules.some((m) => m.plan.exports.length > 0)) text(EXPORTS_HELPER);
  if (modules.some((m) => m.plan.replacements.some((r) => r.thisGuard))) text(THIS_HELPER);
  let serial = 0;
  modules.forEach((m, k) => {
    const { plan } = m;
    const id = plan.next.file.id;
    const piece = () => new MagicString(m.code, { filename: m.sourceUrl });
    const add = (ms: MagicString, start: number, end: number) =>
      bundle.addSource({ filename: m.sourceUrl, content: ms.snip(start, end) });
    const M = `$lpM${k}`;
    text(`\n// ${id}\n{\nlet $lpm${k}; const ${M} = () => $lpm${k} ??= $lpmoduleScope(${JSON.stringify(id)});\n`);
    for (const imp of plan.imports) {
      if (imp.kind !== 'require') continue;
      // required when first used, from the running module's file: the same instance it would get
      const spec = m.importSpecifiers.get(imp)!;
      const prop =
        imp.imported === '*' ? '' : IDENT.test(imp.imported) ? `.${imp.imported}` : `[${JSON.stringify(imp.imported)}]`;
      const v = requireLocal(k, imp.local);
      text(
        `// ${plan.next.file.path}:${imp.line} (new require)\nlet ${v}v; const ${v} = () => ${v}v ??= $lpcreateRequire(${JSON.stringify(pathToFileURL(m.runningFile).href)})(${JSON.stringify(spec)})${prop};\n`,
      );
    }
    for (const h of plan.helpers) {
      const ms = piece();
      applyRewrite(ms, h, k, m);
      text(
        `// ${plan.next.file.path}:${h.decl.line} (${h.changed ? 'changed constant: the new value' : `new ${h.decl.kind}`})\n`,
      );
      if (h.decl.kind === 'const') text('const ');
      add(ms, h.decl.start, h.decl.end);
      text(h.decl.kind === 'const' ? ';\n' : '\n');
    }
    const funcs: (() => void)[] = [];
    const counts = new Map<string, number>();
    for (const s of plan.old.symbols) counts.set(s.name, (counts.get(s.name) ?? 0) + 1);
    for (const r of plan.replacements) {
      const n = serial++;
      const ms = piece();
      applyRewrite(ms, r, k, m);
      const preludes: string[] = [];
      const wrapGenerator = r.closure && r.new.isGenerator;
      if (r.closure && !wrapGenerator) preludes.push('const $lpC = $lpclosure();');
      if (r.superClass !== null) {
        const cls = `${M}().${r.superClass}`;
        const target = r.shape === 'constructor' ? `$lpk${n}` : `$lph${n}`;
        const protos =
          r.shape === 'constructor'
            ? `Object.setPrototypeOf(${target}, Object.getPrototypeOf(C)); Object.setPrototypeOf(${target}.prototype, Object.getPrototypeOf(C.prototype));`
            : r.new.isStatic
              ? `Object.setPrototypeOf(${target}, Object.getPrototypeOf(C));`
              : `Object.setPrototypeOf(${target}, Object.getPrototypeOf(C.prototype));`;
        // `super` looks up the home object's prototype at each use: set it once the class exists
        text(
          `let $lphs${n} = false; const $lpsuper${n} = () => { if ($lphs${n}) return; const C = ${cls}; ${protos} $lphs${n} = true; };\n`,
        );
        preludes.push(`$lpsuper${n}();`);
      }
      const prelude = preludes.join(' ');
      const body = r.site.node.body as Node;
      const block = body.type === 'BlockStatement';
      if (prelude !== '' && block) ms.appendLeft(r.new.insertAt, prelude);
      const key = methodKey(r);
      const keyRef = `[${JSON.stringify(key)}]`;
      const prefix = (r.new.isAsync ? 'async ' : '') + (r.new.isGenerator ? '*' : '');
      if (r.shape === 'constructor') {
        const derived = r.site.classNode!.superClass != null;
        text(`const $lpk${n} = class${derived ? ' extends (class {})' : ''} {\n`);
        for (const f of r.fields) {
          const fm = piece();
          applyRewrite(fm, f.rewrite, k, m);
          add(fm, f.node.start, f.node.end);
          text(m.code.slice(f.node.end - 1, f.node.end) === ';' ? '\n' : ';\n');
        }
        text('constructor');
        add(ms, r.new.start, r.new.end);
        text('\n};\n');
      } else if (r.shape === 'method' && r.superClass !== null) {
        text(`const $lph${n} = { __proto__: null, ${prefix}${key}`);
        add(ms, r.new.start, r.new.end);
        text(' };\n');
      }
      funcs.push(() => {
        const o = r.oldSymbol;
        const sympos = (counts.get(o.name) ?? 0) > 1 ? `, oldSympos: ${o.sympos}` : '';
        text(`  // ${plan.next.file.path}:${r.newSymbol.line} ${o.name} (running: line ${o.line}, hash ${o.hash})\n`);
        text(`  { oldName: ${JSON.stringify(o.name)}${sympos}, oldHash: ${JSON.stringify(o.hash)}, newFunc: `);
        if (wrapGenerator) text('function (...$lpa) { const $lpC = $lpclosure(); return (');
        switch (r.shape) {
          case 'constructor':
            text(`$lpk${n}`);
            break;
          case 'method':
            if (r.superClass !== null) text(`$lph${n}${keyRef}`);
            else {
              text(`({ ${prefix}${key}`);
              add(ms, r.new.start, r.new.end);
              text(` })${keyRef}`);
            }
            break;
          case 'function':
            add(ms, r.new.start, r.new.end);
            break;
          case 'arrow': {
            // before super(), `this` throws as it does in the constructor (see Replacement.thisGuard)
            if (r.thisGuard) for (const t of r.uses.thisAt) ms.overwrite(t.start, t.end, '$lpthis(this)');
            const params = r.site.node.params as Node[];
            const name = arrowName(r);
            text(`${r.new.isAsync ? 'async ' : ''}function${name === null ? '' : ' ' + name}(`);
            if (params.length > 0) add(ms, params[0]!.start, params[params.length - 1]!.end);
            text(') ');
            if (block) add(ms, body.start, body.end);
            else {
              text(`{ ${prelude === '' ? '' : prelude + ' '}return (`);
              add(ms, body.start, body.end);
              text('); }');
            }
            break;
          }
        }
        if (wrapGenerator) text(').apply(this, $lpa); }');
        text(' },\n');
      });
    }
    text(`$lpobjects.push({ name: ${JSON.stringify(id)}, funcs: [\n`);
    for (const f of funcs) f();
    text(']');
    if (plan.exports.length > 0) {
      // the new exports, added to the running module's exports while the patch is on
      text(`, callbacks: $lpexports(${M}, () => ({\n`);
      for (const e of plan.exports) {
        const ms = piece();
        applyRewrite(ms, e, k, m);
        text(
          `  // ${plan.next.file.path}:${e.export.line} (new export of ${e.export.target})\n  ${JSON.stringify(e.export.name)}: `,
        );
        add(ms, e.export.value.start, e.export.value.end);
        text(',\n');
      }
      text(`}), ${JSON.stringify(plan.exports.map((e) => [e.export.name, e.export.target]))})`);
    }
    text(' });\n}\n');
  });
  const def: string[] = [];
  if (opts.name !== undefined) def.push(`name: ${JSON.stringify(opts.name)}`);
  if (opts.replace) def.push('replace: true');
  def.push('objects: $lpobjects');
  text(`\nexport default $lpdefinePatch({ ${def.join(', ')} });\n`);
  if (opts.trailer !== undefined) text(opts.trailer);
  const code = bundle.toString();
  const map = bundle.generateMap({ hires: 'boundary', includeContent: true });
  return { code, map: map.toString() };
}

function importLocal(k: number, local: string): string {
  return `$lpi${k}_${local}`;
}

function requireLocal(k: number, local: string): string {
  return `$lpr${k}_${local}`;
}

/**
 * The callbacks that add a CommonJS module's new exports: before the
 * patch's transition starts (pre-patch), each name the exports object lacks
 * is added, so that new code, which may use it, never runs without it (the
 * old code does not know the name); after the patch is disabled and every
 * task is back on the old code (post-unpatch), the ones it added that still
 * hold its value are taken out. A module that loads after the patch gets
 * them once its body has run (its callbacks come before the body: it is
 * still "coming").
 */
const EXPORTS_HELPER = `const $lpexports = (M, values, targets) => {
  const added = [];
  const add = () => {
    const scope = M();
    const v = values();
    for (const [name, target] of targets) {
      const ex = target === 'exports' ? scope.exports : scope.module.exports;
      if (ex === null || (typeof ex !== 'object' && typeof ex !== 'function') || Object.prototype.hasOwnProperty.call(ex, name)) continue;
      ex[name] = v[name];
      added.push([ex, name, v[name]]);
    }
  };
  return {
    prePatch(obj) { if (obj.state === 'coming') queueMicrotask(add); else add(); },
    postUnpatch() { for (const [ex, name, value] of added.splice(0)) if (ex[name] === value) delete ex[name]; },
  };
};
`;
/** Replace each free name of the copied code by its access, and what depends on the module it ran in. */
function applyRewrite(ms: MagicString, rw: Rewrite, k: number, m: EmitModule): void {
  for (const [ref, access] of rw.access) {
    const acc = accessText(access, ref.name, k);
    if (acc === null) continue;
    const text = ref.shorthand ? `${ref.name}: ${acc}` : ref.callee ? `(0, ${acc})` : ref.write ? acc : `(${acc})`;
    ms.overwrite(ref.start, ref.end, text);
  }
  const file = m.runningFile;
  for (const meta of rw.uses.importMeta) {
    const value =
      meta.property === 'url'
        ? pathToFileURL(file).href
        : meta.property === 'filename'
          ? file
          : meta.property === 'dirname'
            ? dirname(file)
            : null;
    if (value !== null) ms.overwrite(meta.start, meta.end, JSON.stringify(value));
  }
  for (const d of rw.uses.dynamicImports) {
    const spec = d.literal === null ? undefined : m.dynamicSpecifiers.get(d.literal);
    if (spec !== undefined) ms.overwrite(d.start, d.end, JSON.stringify(spec));
  }
}

function accessText(a: Access, name: string, k: number): string | null {
  switch (a.kind) {
    case 'module':
      return `$lpM${k}().${name}`;
    case 'closure':
      return `$lpC.${name}`;
    case 'import':
      return importLocal(k, name);
    case 'require':
      return `${requireLocal(k, name)}()`;
    default:
      return null;
  }
}

/** The key a method is defined under in the patch: its own when that is a plain name. */
function methodKey(r: Replacement): string {
  const owner = r.site.owner;
  if (owner !== null && !owner.computed) {
    const key = owner.key as Node;
    if (key.type === 'Identifier') return key.name as string;
    if (key.type === 'Literal' && typeof key.value === 'string' && IDENT.test(key.value)) return key.value;
  }
  return '$lpm';
}

/** A name for an arrow's replacement (for stack traces), when it shadows nothing the body reaches. */
function arrowName(r: Replacement): string | null {
  const last = r.new.name.split(/[/.]/).pop() ?? '';
  if (!IDENT.test(last) || RESERVED.has(last) || last.startsWith('$lp')) return null;
  for (const [ref, access] of r.access)
    if (ref.name === last && (access.kind === 'global' || access.kind === 'helper')) return null;
  return last;
}

/** `file:///app/src/cart.ts` for the source map and constants. */
export function fileUrl(root: string, path: string): string {
  return pathToFileURL(resolve(root, path)).href;
}

/**
 * `this` of an arrow replacement that can run before super() in a derived
 * constructor: the entry check forwards this marker when the constructor's
 * `this` does not exist yet (src/instrument/fragments.ts), and reading it throws
 * V8's own error for that.
 */
const THIS_HELPER = `const $lpthis = (t) => {
  if (t === Symbol.for('livepatch.uninitialized')) new (class extends Object { constructor() { this; super(); } })();
  return t;
};
`;
