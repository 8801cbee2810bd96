// path-to-regexp 0.1.7 -> 0.1.10: CVE-2024-45296 (GHSA-9wv6-86v2-598j), the
// ReDoS fix for Express 4's line. Refused: the release renames the exported
// function (`pathtoRegexp` -> `pathToRegexp`) and points `module.exports` at
// the new name — a changed top-level assignment to the module's exports,
// which importers read when they loaded (0.1.10 -> 0.1.12 is patchable).
export default {
  package: 'path-to-regexp', old: '0.1.7', new: '0.1.10',
  advisory: 'CVE-2024-45296, GHSA-9wv6-86v2-598j (regular expression denial of service)',
  load: 'require',
  expect: { refuse: [{ file: 'node_modules/path-to-regexp/index.js', line: 5, rule: 'export' }] },
  probe(pathToRegexp) {
    return { two: pathToRegexp('/:a-:b').source, star: pathToRegexp('/files/*').source };
  },
};
