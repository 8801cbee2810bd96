// json5 2.2.1 -> 2.2.2: CVE-2022-46175 (GHSA-9c47-m6qq-7p4h). `parse` set a
// `__proto__` key with an assignment, which set the result's prototype
// instead of an own property. The package ships four rebuilt bundles in
// dist/ that Node never loads (main is lib/index.js): left out.
export default {
  package: 'json5', old: '2.2.1', new: '2.2.2',
  advisory: 'CVE-2022-46175, GHSA-9c47-m6qq-7p4h (prototype pollution in parse)',
  load: 'require',
  expect: {
    patched: ['json5/lib/parse.js internalize', 'json5/lib/parse.js push'],
    leftOut: ['node_modules/json5/dist/index.js', 'node_modules/json5/dist/index.min.js', 'node_modules/json5/dist/index.mjs', 'node_modules/json5/dist/index.min.mjs'],
  },
  probe(JSON5) {
    const o = JSON5.parse('{"__proto__": {"isAdmin": true}, user: "eve"}');
    return { isAdmin: o.isAdmin ?? null, own: Object.keys(o), user: o.user };
  },
};
