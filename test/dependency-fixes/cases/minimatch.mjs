// minimatch 3.0.4 -> 3.0.5: CVE-2022-3517 (GHSA-f8q6-p94x-37v3). ReDoS in
// brace expansion; the release also fixed `minimatch.defaults()`, whose
// matcher called a function that does not exist. Refused: the module's
// initialization changed — `path` is now a constant computed by an
// immediately invoked function (it was a `var` reassigned in a try block),
// and a new `minimatch.sep = path.sep` runs at load.
export default {
  package: 'minimatch', old: '3.0.4', new: '3.0.5',
  advisory: 'CVE-2022-3517, GHSA-f8q6-p94x-37v3 (regular expression denial of service)',
  load: 'require',
  expect: {
    refuse: [
      { file: 'node_modules/minimatch/minimatch.js', line: 4, rule: 'module-data' },
      { file: 'node_modules/minimatch/minimatch.js', line: 7, rule: 'module-init' },
    ],
  },
  probe(minimatch) {
    const attempt = (f) => { try { return f(); } catch (e) { return `${e.name}: ${e.message}`; } };
    return { defaults: attempt(() => minimatch.defaults({ dot: true })('.env', '*')), plain: minimatch('src/a.js', 'src/*.js') };
  },
};
