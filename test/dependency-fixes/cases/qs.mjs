// qs 6.10.2 -> 6.10.3: CVE-2022-24999 (GHSA-hrpp-h998-j3pp). `__proto__` in a
// key set the parsed object's prototype: `categories[__proto__]=...` makes
// `categories` an array-like with an attacker-chosen prototype (the "qs
// prototype poisoning" that crashed Express apps). The fix spans two files
// (lib/parse.js, lib/stringify.js); dist/qs.js (the browser bundle) and the
// tests changed too and are left out.
export default {
  package: 'qs', old: '6.10.2', new: '6.10.3',
  advisory: 'CVE-2022-24999, GHSA-hrpp-h998-j3pp (prototype poisoning through __proto__ keys)',
  load: 'require',
  expect: {
    patched: ['qs/lib/parse.js parseObject', 'qs/lib/stringify.js stringify', 'qs/lib/stringify.js normalizeStringifyOptions'],
    leftOut: ['node_modules/qs/dist/qs.js', 'node_modules/qs/test/parse.js'],
  },
  setup(qs, state) {
    // start-up state: a parser with the options the application configured
    state.options = { allowPrototypes: true, depth: 10 };
  },
  probe(qs, state) {
    const q = qs.parse('categories[__proto__]=cats&categories[__proto__]=dogs&categories[some][json]=toInject', state.options);
    const p = qs.parse('categories[__proto__]=login&categories[__proto__]&categories[length]=42', state.options);
    return {
      isArray: Array.isArray(q.categories),
      json: JSON.stringify(q.categories),
      length: p.categories.length,
      protoIsArray: Array.isArray(Object.getPrototypeOf(p.categories)),
      stringify: qs.stringify({ a: [1, 2], b: { c: 'd' } }),
    };
  },
};
