// async 2.6.3 -> 2.6.4: CVE-2021-43138 (GHSA-fwr7-v2mv-hh25). `mapValues`
// walked a `__proto__` key and assigned it, replacing the result's
// prototype. The package's main is dist/async.js, a UMD bundle; the
// per-function CommonJS files (internal/iterator.js, which a deep
// `require('async/mapValues')` would load) and the minified bundle are not
// reached from it: left out (with --pid, loaded ones would be compared too).
export default {
  package: 'async', old: '2.6.3', new: '2.6.4',
  advisory: 'CVE-2021-43138, GHSA-fwr7-v2mv-hh25 (prototype pollution in mapValues)',
  load: 'require',
  expect: {
    patched: ['async/dist/async.js <anonymous>/createObjectIterator/next'],
    leftOut: ['node_modules/async/internal/iterator.js', 'node_modules/async/dist/async.min.js'],
  },
  probe(async) {
    return new Promise((resolve) => {
      const input = JSON.parse('{"__proto__": {"isAdmin": true}, "name": "eve"}');
      async.mapValues(input, (v, k, cb) => cb(null, v), (err, out) => {
        resolve({ err: err ? String(err) : null, isAdmin: out.isAdmin ?? null, keys: Object.keys(out) });
      });
    });
  },
};
