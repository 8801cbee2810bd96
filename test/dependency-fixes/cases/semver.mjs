// semver 7.5.1 -> 7.5.2: CVE-2022-25883 (GHSA-c2qf-rxjj-qqgw). ReDoS in
// `new Range()` on long runs of whitespace. Refused: the fix builds a second
// table of regular expressions (`safeRe`) in internal/re.js when it loads,
// by calling functions — data computed at load that the running process
// never made — and the modules that use it now import `safeRe` under the
// name `re`, a binding the running modules bound to the old table.
export default {
  package: 'semver', old: '7.5.1', new: '7.5.2',
  advisory: 'CVE-2022-25883, GHSA-c2qf-rxjj-qqgw (regular expression denial of service)',
  load: 'require',
  expect: {
    refuse: [
      { file: 'node_modules/semver/internal/re.js', line: 7, rule: 'new-data' },
      { file: 'node_modules/semver/classes/range.js', line: 205, rule: 'import' },
      { file: 'node_modules/semver/classes/comparator.js', line: 137, rule: 'import' },
      { file: 'node_modules/semver/classes/semver.js', line: 3, rule: 'import' },
      { file: 'node_modules/semver/functions/coerce.js', line: 3, rule: 'import' },
    ],
  },
  probe(semver, state) {
    const t = performance.now();
    // a new range each time: semver caches the ranges it parsed
    try { semver.satisfies('1.2.3', '<' + ' '.repeat(12000) + '1.2.4' + ' '.repeat(12000) + 'x' + state.calls); } catch { /* invalid either way */ }
    const ms = performance.now() - t;
    return { fast: ms < 100, raw: new semver.Range('>=1.2.3    <2.0.0').raw, ok: semver.satisfies('1.5.0', '^1.2.3') };
  },
};
