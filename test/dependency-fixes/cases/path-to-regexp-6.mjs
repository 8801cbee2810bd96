// path-to-regexp 6.2.2 -> 6.3.0: CVE-2024-45296 (GHSA-9wv6-86v2-598j). Two
// parameters in one segment made a regular expression that backtracks
// (ReDoS); 6.3.0 builds a lookahead that stops at the separator. The code
// is TypeScript compiled to CommonJS (dist/index.js); dist.es2015 (the
// `module` field, for bundlers) is left out.
export default {
  package: 'path-to-regexp', old: '6.2.2', new: '6.3.0',
  advisory: 'CVE-2024-45296, GHSA-9wv6-86v2-598j (regular expression denial of service)',
  load: 'require',
  expect: {
    patched: ['path-to-regexp/dist/index.js parse', 'path-to-regexp/dist/index.js tokensToRegexp'],
    leftOut: ['node_modules/path-to-regexp/dist.es2015/index.js'],
  },
  probe(p) {
    const attempt = (f) => { try { return f(); } catch (e) { return `${e.name}: ${e.message}`; } };
    return { two: p.pathToRegexp('/:a-:b').source, dot: p.pathToRegexp('/:a.:b').source, bad: attempt(() => p.pathToRegexp('/:a:b').source) };
  },
};
