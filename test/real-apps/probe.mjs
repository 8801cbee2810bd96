/**
 * What a program sees of one package, as JSON after a marker line on stdout.
 * packages.test.ts runs it plain and under the loader and compares the two.
 *
 *   node probe.mjs <specifier> <named-module-file> write|read
 *
 * 1. `import * as ns from '<specifier>'`: every export name, with its typeof
 *    (and for a function its name, length and a hash of its source text, for
 *    a primitive its value), and the members of the default export.
 * 2. `import { x, y, ... } from '<specifier>'`, one static import of every
 *    name plain Node sees: the plain run (`write`) generates that module from
 *    its own namespace, the run under the loader (`read`) imports the same
 *    file, so a name the loader loses fails at link time, as in issue 15.
 * 3. `require('<specifier>')`: the same description, or the error (on Node 24
 *    `require()` loads an ES module unless it has top-level await).
 */

import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import load from './require.cjs';

const MARK = '@@real-apps-probe@@';
const [specifier, namedFile, mode] = process.argv.slice(2);
const fnText = Function.prototype.toString;
const objTag = Object.prototype.toString;

const hash = (s) => createHash('sha256').update(s).digest('hex').slice(0, 12);

/** An error as the program sees it: its class, code and first line of message (no stack: columns move). */
function failure(e) {
  if (!(e instanceof Error)) return { threw: String(e) };
  const code = 'code' in e ? ` [${String(e.code)}]` : '';
  return { threw: `${e.name}${code}: ${String(e.message).split('\n')[0]}` };
}

/** One value, in a line: what `typeof` says, plus what identifies it without depending on object identity. */
function show(v) {
  const t = typeof v;
  if (t === 'function') {
    let text;
    try {
      text = hash(fnText.call(v));
    } catch (e) {
      text = failure(e).threw;
    }
    return `function ${String(v.name)}/${v.length} ${text}`;
  }
  if (v === null) return 'null';
  if (t === 'object') return `object ${objTag.call(v)}`;
  if (t === 'symbol') return `symbol ${String(v.description)}`;
  if (t === 'string') return `string ${JSON.stringify(v.slice(0, 60))}`;
  return `${t} ${String(v)}`;
}

/** Every own key of an object (a namespace, module.exports, a function), with its value or accessor. */
function members(obj) {
  const keys = Reflect.ownKeys(obj);
  const names = keys.filter((k) => typeof k === 'string').sort();
  const symbols = keys
    .filter((k) => typeof k === 'symbol')
    .map((s) => s.toString())
    .sort();
  const out = {};
  for (const k of names) {
    try {
      const d = Reflect.getOwnPropertyDescriptor(obj, k);
      // An accessor (tsc's and Babel's re-exports are getters) is read through, as a program would.
      out[k] = d && 'get' in d ? `get ${d.get ? show(obj[k]) : 'undefined'}` : show(d?.value);
    } catch (e) {
      out[k] = failure(e).threw;
    }
  }
  for (const s of symbols) out[s] = 'symbol key';
  return out;
}

function describe(v) {
  const d = { value: show(v) };
  if ((typeof v === 'object' && v !== null) || typeof v === 'function') d.members = members(v);
  return d;
}

const result = { specifier };

// 1. The namespace, as `import * as ns` gives it.
let ns;
try {
  ns = await import(specifier);
  result.namespace = members(ns);
  const def = Object.prototype.hasOwnProperty.call(ns, 'default') ? ns.default : undefined;
  if ((typeof def === 'object' && def !== null) || typeof def === 'function') result.defaultExport = describe(def);
} catch (e) {
  result.namespace = failure(e);
}

// 2. Every name, imported by name: a name that is missing is a SyntaxError at link time.
if (mode === 'write') {
  const names = ns ? Object.keys(ns) : [];
  const locals = names.map((_, i) => `$${i}`);
  const list = names.map((n, i) => `${JSON.stringify(n)} as ${locals[i]}`).join(', ');
  writeFileSync(
    namedFile,
    (names.length
      ? `import { ${list} } from ${JSON.stringify(specifier)};\n`
      : `import ${JSON.stringify(specifier)};\n`) + `export default [${locals.join(', ')}].map((v) => typeof v);\n`,
  );
}
try {
  const m = await import(pathToFileURL(namedFile).href);
  result.named = m.default;
} catch (e) {
  result.named = failure(e);
}

// 3. require(), from a CommonJS module.
try {
  result.require = describe(load(specifier));
} catch (e) {
  result.require = failure(e);
}

process.stdout.write(`\n${MARK}${JSON.stringify(result)}\n`);
process.exit(0);
