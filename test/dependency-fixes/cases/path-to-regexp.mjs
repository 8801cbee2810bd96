// path-to-regexp 0.1.10 -> 0.1.12: CVE-2024-52798 (GHSA-rhx6-c78j-4q9w). The
// regular expression made for two parameters in one segment could still
// backtrack badly (ReDoS in Express 4 routes); the fix changes how the
// lookahead is built, and rejects a path that is not a string.
export default {
  package: 'path-to-regexp', old: '0.1.10', new: '0.1.12',
  advisory: 'CVE-2024-52798, GHSA-rhx6-c78j-4q9w (regular expression denial of service)',
  load: 'require',
  expect: { patched: ['path-to-regexp/index.js pathToRegexp', 'path-to-regexp/index.js pathToRegexp/<anonymous>'] },
  probe(pathToRegexp) {
    const attempt = (f) => { try { return f(); } catch (e) { return `${e.name}: ${e.message}`; } };
    return {
      two: pathToRegexp('/:a-:b-:c').source,
      escaped: pathToRegexp('/\\:x-:y').source,
      notString: attempt(() => pathToRegexp(42).source),
    };
  },
};
