// ejs 3.1.6 -> 3.1.7: CVE-2022-29078 (GHSA-phwq-j96m-2c2q). The
// `outputFunctionName` option (reachable from Express's `settings['view
// options']`) was pasted into the compiled template's source: remote code
// execution. The fix validates it against a new module-level regular
// expression, in `Template.prototype.compile` and friends, which now build
// options with a new export of lib/utils.js,
// `utils.createNullProtoObjWherePossible`: a new export of a CommonJS
// module, added by the patch before its transition (the new code may call
// it) and taken out after it is disabled. The root's ejs.js/ejs.min.js
// (browser bundles) and jakefile.js are left out.
export default {
  package: 'ejs', old: '3.1.6', new: '3.1.7',
  advisory: 'CVE-2022-29078, GHSA-phwq-j96m-2c2q (server-side template injection)',
  load: 'require',
  expect: {
    patched: [
      'ejs/lib/ejs.js Template', 'ejs/lib/ejs.js Template.prototype.compile', 'ejs/lib/ejs.js Template.prototype.compile/anonymous',
      'ejs/lib/ejs.js Template.prototype.compile/anonymous/include', 'ejs/lib/ejs.js exports.render', 'ejs/lib/ejs.js exports.renderFile',
      'ejs/lib/ejs.js includeFile', 'ejs/lib/utils.js exports.shallowCopy', 'ejs/lib/utils.js exports.shallowCopyFromList',
    ],
    exports: ['ejs/lib/utils.js createNullProtoObjWherePossible'],
    leftOut: ['node_modules/ejs/ejs.js', 'node_modules/ejs/ejs.min.js', 'node_modules/ejs/jakefile.js'],
  },
  setup(ejs, state) {
    // a template compiled at start-up
    state.greet = ejs.compile('Hello, <%= name %>!');
  },
  probe(ejs, state) {
    const attempt = (f) => { try { return f(); } catch (e) { return `${e.name}: ${e.message}`; } };
    const out = attempt(() => ejs.render('<%= x %>', { x: 1 }, { outputFunctionName: 'x; globalThis.lpPwned = 1; var y' }));
    const pwned = globalThis.lpPwned ?? null;
    delete globalThis.lpPwned;
    return { out, pwned, greet: state.greet({ name: 'Ada' }), render: ejs.render('<%= a %>-<%= b %>', { a: 1, b: 2 }) };
  },
};
